//! Property tests against hostile input (issue #13 item 13): the PEM scanner, private key
//! decoding (with generated PBES2 parameters), certificate facts and the whole upload rule. Each
//! property: no panic, and no message that quotes key material.
//!
//! `cargo test` runs a few hundred cases of each. The deep run (documented in the README):
//! `cargo test --release --test fuzz_properties -- --ignored` runs 100,000 cases of each
//! (`CERTDECK_FUZZ_CASES` changes the count) and prints the cases and time.
use certdeck::ca::pki::{Authority, Issued, KeyKind};
use certdeck::domain::cert::parse_certificate;
use certdeck::domain::key::{check_kdf, parse_private_key, KeyError};
use certdeck::domain::pem;
use certdeck::domain::rules::upload::{validate_upload, UploadInput};
use chrono::{Duration, TimeZone, Utc};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use std::sync::OnceLock;

struct Material {
    chain_pem: String,
    leaf: Issued,
    rsa: Issued,
    /// Every 16-character run of the keys' base64 bodies.
    fragments: Vec<String>,
}

fn material() -> &'static Material {
    static M: OnceLock<Material> = OnceLock::new();
    M.get_or_init(|| {
        let now = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
        let root = Authority::root(
            "Fuzz Root",
            "certdeck",
            KeyKind::P256,
            now - Duration::days(10),
            now + Duration::days(3000),
        );
        let inter = root.intermediate(
            "Fuzz Intermediate",
            "certdeck",
            now - Duration::days(10),
            now + Duration::days(2000),
        );
        let leaf = inter.issue(
            &["fuzz.example", "www.fuzz.example"],
            KeyKind::P256,
            now - Duration::days(1),
            now + Duration::days(90),
        );
        let rsa = inter.issue(
            &["rsa.fuzz.example"],
            KeyKind::Rsa2048,
            now - Duration::days(1),
            now + Duration::days(90),
        );
        let mut fragments = Vec::new();
        for key in [&leaf.key_pem, &rsa.key_pem] {
            let body: String = key.lines().filter(|l| !l.starts_with("-----")).collect();
            fragments.extend(
                body.as_bytes()
                    .chunks(16)
                    .filter(|c| c.len() == 16)
                    .map(|c| String::from_utf8_lossy(c).into_owned()),
            );
        }
        Material {
            chain_pem: format!("{}{}{}", leaf.cert_pem, inter.pem(), root.pem()),
            leaf,
            rsa,
            fragments,
        }
    })
}

fn no_key_in(message: &str) -> Result<(), TestCaseError> {
    for f in &material().fragments {
        prop_assert!(
            !message.contains(f.as_str()),
            "key material in: {}",
            message
        );
    }
    Ok(())
}

/// No unbroken 24-character base64-like run of the input is echoed (whatever the input held:
/// a mangled key body must not come back through a label or a header either).
fn no_input_run_in(message: &str, input: &[u8]) -> Result<(), TestCaseError> {
    let text = String::from_utf8_lossy(input);
    for run in text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '+' || c == '/')) {
        if run.len() >= 24 {
            prop_assert!(
                !message.contains(&run[..24]),
                "input echoed in: {}",
                message
            );
        }
    }
    Ok(())
}

/// How a text may have been mangled on its way to certdeck.
#[derive(Debug, Clone)]
struct Mangling {
    line_ending: usize,
    flips: Vec<(usize, u8)>,
    cut: Option<usize>,
    noise: Vec<u8>,
    noise_at: usize,
    /// One byte repeated in place (how AFL first found a quoted 24-letter label).
    stutter: Option<(usize, u8)>,
    bom: bool,
}

fn mangling() -> impl Strategy<Value = Mangling> {
    (
        0..8usize,
        prop::collection::vec(any::<(usize, u8)>(), 0..6),
        prop::option::of(any::<usize>()),
        prop::collection::vec(any::<u8>(), 0..24),
        any::<usize>(),
        prop::option::of((any::<usize>(), 1u8..48)),
        any::<bool>(),
    )
        .prop_map(
            |(line_ending, flips, cut, noise, noise_at, stutter, bom)| Mangling {
                line_ending,
                flips,
                cut,
                noise,
                noise_at,
                stutter,
                bom,
            },
        )
}

fn mangle(text: &str, m: &Mangling) -> Vec<u8> {
    let eol = ["\n", "\r\n", "\r", "\\n", "\t", " ", "", "\x0b"][m.line_ending];
    let mut b = text.replace('\n', eol).into_bytes();
    for (at, with) in &m.flips {
        if !b.is_empty() {
            let i = at % b.len();
            b[i] = *with;
        }
    }
    if let Some(cut) = m.cut {
        if !b.is_empty() && cut % 3 == 0 {
            b.truncate(cut % b.len());
        }
    }
    if let Some((at, times)) = m.stutter {
        if !b.is_empty() {
            let i = at % b.len();
            let byte = b[i];
            b.splice(i..i, std::iter::repeat_n(byte, times as usize));
        }
    }
    let at = if b.is_empty() {
        0
    } else {
        m.noise_at % b.len()
    };
    b.splice(at..at, m.noise.iter().copied());
    if m.bom {
        b.splice(0..0, [0xEF, 0xBB, 0xBF]);
    }
    b
}

fn cases(default: u32) -> u32 {
    std::env::var("CERTDECK_FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn run<S: Strategy>(
    name: &str,
    cases: u32,
    strategy: S,
    test: impl Fn(S::Value) -> Result<(), TestCaseError>,
) {
    let started = std::time::Instant::now();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    // Counted, so the printed figure is what ran, not what was asked for.
    let ran = std::sync::atomic::AtomicU64::new(0);
    let counted = |v| {
        ran.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        test(v)
    };
    if let Err(e) = runner.run(&strategy, counted) {
        panic!("{name}: {e}");
    }
    let ran = ran.into_inner();
    assert!(
        ran >= cases as u64,
        "{name}: only {ran} of {cases} cases ran"
    );
    println!(
        "{name}: {ran} cases in {:.2} s",
        started.elapsed().as_secs_f64()
    );
}

fn scanner(cases: u32) {
    let m = material();
    let inputs = [
        m.leaf.key_pem.clone(),
        m.rsa.key_pem.clone(),
        format!("{}{}", m.leaf.cert_pem, m.leaf.key_pem),
        format!("Bag Attributes\n    localKeyID: 01\n{}", m.rsa.key_pem),
    ];
    run(
        "pem scanner",
        cases,
        (0..inputs.len(), mangling()),
        |(which, how)| {
            let bytes = mangle(&inputs[which], &how);
            for expected in ["CERTIFICATE", "PRIVATE KEY"] {
                if let Err(e) = pem::read_input(&bytes, expected) {
                    no_key_in(&e.message)?;
                    no_input_run_in(&e.message, &bytes)?;
                }
            }
            Ok(())
        },
    );
}

fn upload(cases: u32) {
    let m = material();
    let now = Utc.with_ymd_and_hms(2026, 11, 30, 0, 0, 0).unwrap();
    run(
        "upload rule",
        cases,
        (any::<bool>(), mangling(), any::<u8>()),
        |(in_cert_field, how, which_key)| {
            let key = if which_key % 2 == 0 {
                &m.leaf.key_pem
            } else {
                &m.rsa.key_pem
            };
            let mangled = mangle(key, &how);
            let input = if in_cert_field {
                // A combined file given as the certificate alone.
                let mut cert = m.chain_pem.clone().into_bytes();
                cert.extend_from_slice(&mangled);
                UploadInput {
                    cert,
                    ..Default::default()
                }
            } else {
                UploadInput {
                    cert: m.chain_pem.clone().into_bytes(),
                    key: Some(mangled.clone()),
                    key_password: Some(b"pw".to_vec()),
                    ..Default::default()
                }
            };
            if let Err(r) = validate_upload(&input, now, &[]) {
                no_key_in(&r.to_string())?;
                no_input_run_in(&r.to_string(), &mangled)?;
            }
            Ok(())
        },
    );
}

fn certificate_facts(cases: u32) {
    let der = material().leaf.der.clone();
    run(
        "certificate facts",
        cases,
        (
            prop::collection::vec(any::<(usize, u8)>(), 1..8),
            prop::option::of(any::<usize>()),
        ),
        |(flips, cut)| {
            let mut d = der.clone();
            for (at, with) in flips {
                let i = at % d.len();
                d[i] = with;
            }
            if let Some(c) = cut {
                d.truncate(c % d.len());
            }
            let _ = parse_certificate(&d);
            Ok(())
        },
    );
}

/// PBES2 with generated KDF parameters: refused by name before deriving when hostile, decrypted
/// (to a wrong-password refusal) when sane; never a panic, never minutes of work.
fn encrypted_keys(cases: u32) {
    use pkcs8::der::asn1::OctetStringRef;
    use pkcs8::der::Encode;
    use pkcs8::pkcs5::pbes2::{self, Kdf, Pbkdf2Params, Pbkdf2Prf, Salt, ScryptParams};
    use pkcs8::pkcs5::EncryptionScheme;
    let kdf = prop_oneof![
        (
            prop_oneof![0u32..=2048, 2_000_001u32..=u32::MAX],
            any::<bool>()
        )
            .prop_map(|(iterations, sha1)| Kdf::Pbkdf2(Pbkdf2Params {
                salt: Salt::new([3u8; 16]).unwrap(),
                iteration_count: iterations,
                key_length: None,
                prf: if sha1 {
                    Pbkdf2Prf::HmacWithSha1
                } else {
                    Pbkdf2Prf::HmacWithSha256
                },
            })),
        (0u32..64, any::<u16>(), any::<u16>(), any::<u64>()).prop_map(|(log_n, r, p, raw)| {
            // Powers of two, zero, and arbitrary values alike.
            let n = if raw % 3 == 0 { raw } else { 1u64 << log_n };
            Kdf::Scrypt(ScryptParams {
                salt: Salt::new([5u8; 16]).unwrap(),
                cost_parameter: n,
                block_size: r,
                parallelization: p,
                key_length: Some(32),
            })
        }),
    ];
    run(
        "encrypted keys",
        cases,
        (kdf, prop::collection::vec(any::<u8>(), 16..80)),
        |(kdf, ciphertext)| {
            let der = pkcs8::EncryptedPrivateKeyInfoRef {
                encryption_algorithm: EncryptionScheme::Pbes2(pbes2::Parameters {
                    kdf,
                    encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: [9; 16] },
                }),
                encrypted_data: OctetStringRef::new(&ciphertext).unwrap(),
            }
            .to_der()
            .unwrap();
            let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).unwrap();
            if check_kdf(&info.encryption_algorithm).is_ok() {
                // Sane parameters: derive only where it is cheap enough for many cases.
                let cheap = match &info.encryption_algorithm {
                    EncryptionScheme::Pbes2(p) => match &p.kdf {
                        Kdf::Scrypt(s) => {
                            s.cost_parameter * s.block_size as u64 * s.parallelization as u64
                                <= 1 << 12
                        }
                        _ => true,
                    },
                    _ => true,
                };
                if !cheap {
                    return Ok(());
                }
            }
            match parse_private_key("ENCRYPTED PRIVATE KEY", &der, &[], Some(b"pw")) {
                Ok(_) | Err(KeyError::WrongPassword) | Err(KeyError::Invalid(_)) => Ok(()),
                Err(other) => Err(TestCaseError::fail(format!("unexpected: {other}"))),
            }
        },
    );
}

#[test]
fn hostile_input_never_panics_or_leaks_a_key() {
    scanner(cases(300));
    upload(cases(150));
    certificate_facts(cases(300));
    encrypted_keys(cases(200));
}

/// The deep run: `cargo test --release --test fuzz_properties -- --ignored --nocapture`.
#[test]
#[ignore]
fn deep_hostile_input_never_panics_or_leaks_a_key() {
    let n = cases(100_000);
    scanner(n);
    upload(n);
    certificate_facts(n);
    encrypted_keys(n);
}
