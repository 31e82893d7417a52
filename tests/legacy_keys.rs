//! Keys and certificates from the wild (U-5, issue #18): every file here is written by openssl
//! the way old servers have them, then imported (or scanned) through the CLI.
mod common;
use common::Env;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs openssl in `dir`; panics with its error output when it fails.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("openssl is installed by scripts/test");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `openssl` with the legacy provider (single DES, RC2 and PBKDF1 live there in OpenSSL 3).
fn openssl_legacy(dir: &Path, args: &[&str]) {
    let mut all = args.to_vec();
    all.extend(["-provider", "legacy", "-provider", "default"]);
    openssl(dir, &all);
}

struct Pair {
    cert: PathBuf,
    key: PathBuf,
}

/// A key of `genpkey` arguments `alg` and a self-signed certificate for it.
fn pair(env: &Env, name: &str, alg: &[&str]) -> Pair {
    let dir = env.path("keys");
    std::fs::create_dir_all(&dir).unwrap();
    let key = format!("{name}.key");
    let cert = format!("{name}.pem");
    let mut gen = vec!["genpkey"];
    gen.extend_from_slice(alg);
    gen.extend(["-out", &key]);
    openssl(&dir, &gen);
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            &key,
            "-subj",
            &format!("/CN={name}.example"),
            "-addext",
            &format!("subjectAltName=DNS:{name}.example"),
            "-days",
            "30",
            "-out",
            &cert,
        ],
    );
    Pair {
        cert: dir.join(cert),
        key: dir.join(key),
    }
}

const RSA: &[&str] = &["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"];
const EC: &[&str] = &["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"];

/// Imports `cert` with `key` and `password`; deletes it again so the next variant can come.
fn import(env: &Env, p: &Pair, key: &Path, password: Option<&str>) -> (i32, serde_json::Value) {
    let pw = password.map(|pw| env.write("pw", format!("{pw}\n")));
    let mut args = vec![
        "import",
        "--cert",
        p.cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
    ];
    if let Some(pw) = &pw {
        args.extend(["--key-password-file", pw.to_str().unwrap()]);
    }
    let out = env.json(&args);
    if out.0 == 0 {
        env.json(&["delete", out.1["id"].as_str().unwrap(), "--yes"]);
    }
    out
}

fn codes(v: &serde_json::Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|w| w["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Each variant: written by openssl from the pair's key, read back with the password.
fn check_variants(env: &Env, p: &Pair, variants: &[(&str, Vec<&str>, bool, bool)]) {
    let dir = p.key.parent().unwrap();
    let plain = p.key.file_name().unwrap().to_str().unwrap();
    for (i, (tool, args, legacy, weak)) in variants.iter().enumerate() {
        let out = format!("{plain}.{i}.enc");
        let mut all = vec![*tool, "-in", plain];
        all.extend(args.iter().copied());
        all.extend(["-passout", "pass:s3cret pw", "-out", &out]);
        if *legacy {
            openssl_legacy(dir, &all);
        } else {
            openssl(dir, &all);
        }
        let enc = dir.join(&out);
        let text = std::fs::read_to_string(&enc).unwrap();
        assert!(
            text.contains("ENCRYPTED"),
            "{tool} {args:?} wrote no encrypted key:\n{text}"
        );
        let (code, v) = import(env, p, &enc, Some("s3cret pw"));
        assert_eq!(code, 0, "{tool} {args:?}: {v}");
        assert_eq!(
            codes(&v).contains(&"weak_key_protection".to_string()),
            *weak,
            "{tool} {args:?}: {v}"
        );
        // The wrong password and none: refused, saying which; the key never shows.
        let (code, e) = import(env, p, &enc, Some("wrong"));
        assert_eq!(
            (code, e["error"]["field"].as_str()),
            (1, Some("key")),
            "{tool} {args:?}: {e}"
        );
        assert!(
            e["error"]["message"].as_str().unwrap().contains("password"),
            "{e}"
        );
        let (code, e) = import(env, p, &enc, None);
        assert_eq!(code, 1, "{e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("give its password"),
            "{e}"
        );
        assert!(!e.to_string().contains("PRIVATE KEY-----"), "{e}");
    }
}

#[test]
fn rule_u5_traditional_openssl_encryption_is_decrypted_and_called_weak() {
    let env = Env::new();
    let rsa = pair(&env, "rsa", RSA);
    check_variants(
        &env,
        &rsa,
        &[
            ("rsa", vec!["-traditional", "-des3"], false, true),
            ("rsa", vec!["-traditional", "-aes128"], false, true),
            ("rsa", vec!["-traditional", "-aes256"], false, true),
            ("rsa", vec!["-traditional", "-des"], true, true),
        ],
    );
    let ec = pair(&env, "ec", EC);
    check_variants(
        &env,
        &ec,
        &[
            ("ec", vec!["-aes256"], false, true),
            ("ec", vec!["-aes192"], false, true),
            ("ec", vec!["-des3"], false, true),
        ],
    );
}

#[test]
fn rule_u5_pkcs8_with_older_ciphers_prfs_pbes1_and_pkcs12_pbe_is_read() {
    let env = Env::new();
    let ec = pair(&env, "pk8", EC);
    let topk8 = |args: &[&'static str]| {
        let mut v = vec!["-topk8"];
        v.extend_from_slice(args);
        v
    };
    check_variants(
        &env,
        &ec,
        &[
            ("pkcs8", topk8(&["-v2", "des3"]), false, false),
            (
                "pkcs8",
                topk8(&["-v2", "aes256", "-v2prf", "hmacWithSHA512"]),
                false,
                false,
            ),
            (
                "pkcs8",
                topk8(&["-v2", "aes128", "-v2prf", "hmacWithSHA1"]),
                false,
                false,
            ),
            (
                "pkcs8",
                topk8(&["-v2", "aes192", "-v2prf", "hmacWithSHA224"]),
                false,
                false,
            ),
            (
                "pkcs8",
                topk8(&["-v2", "aes256", "-v2prf", "hmacWithSHA384"]),
                false,
                false,
            ),
            ("pkcs8", topk8(&["-scrypt"]), false, false),
            ("pkcs8", topk8(&["-v2", "des"]), true, true),
            ("pkcs8", topk8(&["-v1", "PBE-SHA1-3DES"]), false, true),
            ("pkcs8", topk8(&["-v1", "PBE-SHA1-2DES"]), false, true),
            ("pkcs8", topk8(&["-v1", "PBE-SHA1-RC2-40"]), true, true),
            ("pkcs8", topk8(&["-v1", "PBE-SHA1-RC2-128"]), true, true),
            ("pkcs8", topk8(&["-v1", "PBE-MD5-DES"]), true, true),
            ("pkcs8", topk8(&["-v1", "PBE-SHA1-DES"]), true, true),
        ],
    );
}

#[test]
fn rule_u5_rsa_pss_keys_match_rsa_pss_certificates_and_are_kept_as_rsa() {
    let env = Env::new();
    for (name, alg) in [
        (
            "pss",
            vec!["-algorithm", "RSA-PSS", "-pkeyopt", "rsa_keygen_bits:2048"],
        ),
        (
            "psswithparams",
            vec![
                "-algorithm",
                "RSA-PSS",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-pkeyopt",
                "rsa_pss_keygen_md:sha256",
                "-pkeyopt",
                "rsa_pss_keygen_saltlen:32",
            ],
        ),
    ] {
        let p = pair(&env, name, &alg);
        let (code, v) = env.json(&[
            "import",
            "--cert",
            p.cert.to_str().unwrap(),
            "--key",
            p.key.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{name}: {v}");
        assert_eq!(
            (v["key_algorithm"].as_str(), v["key_bits"].as_u64()),
            (Some("rsa"), Some(2048)),
            "{v}"
        );
        // Exported like any RSA certificate, its key with it.
        let out = env.path(&format!("{name}-out"));
        let (code, x) = env.json(&[
            "export",
            v["id"].as_str().unwrap(),
            "--format",
            "nginx",
            "--out",
            out.to_str().unwrap(),
        ]);
        assert_eq!(code, 0, "{x}");
        assert!(
            std::fs::read_to_string(out.join(format!("{name}.example.key")))
                .unwrap()
                .contains("PRIVATE KEY")
        );
    }
}

#[test]
fn rule_u5_certificates_with_keys_certdeck_cannot_check_are_read_watched_and_refused_only_for_their_key(
) {
    let env = Env::new();
    let dir = env.path("keys");
    let dsa = {
        std::fs::create_dir_all(&dir).unwrap();
        openssl(
            &dir,
            &[
                "genpkey",
                "-genparam",
                "-algorithm",
                "DSA",
                "-pkeyopt",
                "dsa_paramgen_bits:2048",
                "-out",
                "dsaparam.pem",
            ],
        );
        pair(&env, "dsa", &["-paramfile", "dsaparam.pem"])
    };
    let ed448 = pair(&env, "ed448", &["-algorithm", "ED448"]);
    let ecx = {
        openssl(
            &dir,
            &[
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-param_enc",
                "explicit",
                "-out",
                "ecx.key",
            ],
        );
        openssl(
            &dir,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ecx.key",
                "-subj",
                "/CN=ecx.example",
                "-days",
                "30",
                "-out",
                "ecx.pem",
            ],
        );
        Pair {
            cert: dir.join("ecx.pem"),
            key: dir.join("ecx.key"),
        }
    };
    for (p, alg, shown) in [
        (&dsa, "dsa", "dsa"),
        (&ed448, "ed448", "ed448"),
        (&ecx, "ecdsa", "explicit curve"),
    ] {
        // An upload names the algorithm and refuses only because no key can be matched.
        let (code, e) = env.json(&[
            "import",
            "--cert",
            p.cert.to_str().unwrap(),
            "--key",
            p.key.to_str().unwrap(),
        ]);
        assert_eq!(
            (code, e["error"]["rule"].as_str()),
            (1, Some("U-2")),
            "{alg}: {e}"
        );
        let m = e["error"]["message"].as_str().unwrap();
        assert!(
            m.contains(shown) && !m.contains("neither PEM nor"),
            "{alg}: {m}"
        );
        // A DER copy is a certificate, not "binary data".
        let der = dir.join(format!("{alg}.der"));
        openssl(
            &dir,
            &[
                "x509",
                "-in",
                p.cert.to_str().unwrap(),
                "-outform",
                "DER",
                "-out",
                der.to_str().unwrap(),
            ],
        );
        let (_, e) = env.json(&[
            "import",
            "--cert",
            der.to_str().unwrap(),
            "--key",
            p.key.to_str().unwrap(),
        ]);
        assert!(
            !e.to_string().contains("neither PEM nor a DER certificate"),
            "{alg}: {e}"
        );
        let _ = alg;
    }
    // Watched: a scan reads all three, and the list shows them with their facts.
    let (code, s) = env.json(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 0, "{s}");
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let rows = list.as_array().unwrap();
    for (cn, alg) in [
        ("dsa.example", "dsa"),
        ("ed448.example", "ed448"),
        ("ecx.example", "ecdsa"),
    ] {
        let row = rows
            .iter()
            .find(|r| r["subject_cn"] == cn)
            .unwrap_or_else(|| panic!("{cn} in {list}"));
        assert_eq!(row["key_algorithm"], alg, "{row}");
        assert!(
            row["not_after"].is_string() && row["fingerprint_sha256"].is_string(),
            "{row}"
        );
    }
}

#[test]
fn rule_u5_unusual_subject_alternative_names_are_read_and_kept_out_of_the_domains() {
    let env = Env::new();
    let dir = env.path("keys");
    std::fs::create_dir_all(&dir).unwrap();
    // A directory name needs its section in a configuration file.
    std::fs::write(
        dir.join("names.cnf"),
        "[req]\ndistinguished_name = dn\n[dn]\n[dir_sect]\nCN = Someone\nO = Example\n",
    )
    .unwrap();
    openssl(
        &dir,
        &[
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-out",
            "o.key",
        ],
    );
    openssl(
        &dir,
        &[
            "req", "-x509", "-new", "-key", "o.key", "-subj", "/CN=names.example", "-days", "30",
            "-addext",
            "subjectAltName=otherName:1.3.6.1.4.1.311.20.2.3;UTF8:ann@example.com,DNS:names.example,dirName:dir_sect,URI:https://names.example/",
            "-config", "names.cnf", "-outform", "DER", "-out", "o.der",
        ],
    );
    let (code, v) = env.json(&[
        "import",
        "--cert",
        dir.join("o.der").to_str().unwrap(),
        "--key",
        dir.join("o.key").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["domains"], serde_json::json!(["names.example"]), "{v}");
}

#[test]
fn rule_u5_a_key_from_genrsa_des3_is_read_with_its_password() {
    let env = Env::new();
    let dir = env.path("keys");
    std::fs::create_dir_all(&dir).unwrap();
    openssl(
        &dir,
        &[
            "genrsa", "-des3", "-passout", "pass:pw", "-out", "g.key", "2048",
        ],
    );
    openssl(
        &dir,
        &[
            "req",
            "-x509",
            "-new",
            "-key",
            "g.key",
            "-passin",
            "pass:pw",
            "-subj",
            "/CN=g.example",
            "-addext",
            "subjectAltName=DNS:g.example",
            "-days",
            "30",
            "-out",
            "g.pem",
        ],
    );
    let p = Pair {
        cert: dir.join("g.pem"),
        key: dir.join("g.key"),
    };
    let (code, v) = import(&env, &p, &p.key, Some("pw"));
    assert_eq!(code, 0, "{v}");
    let (code, e) = import(&env, &p, &p.key, None);
    assert_eq!(
        (code, e["error"]["field"].as_str()),
        (1, Some("key")),
        "{e}"
    );
}
