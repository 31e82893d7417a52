//! Private keys: PKCS#1, SEC1, PKCS#8 and encrypted PKCS#8, and whether a key belongs to a
//! certificate's public key. The public key is derived from the private scalar, never taken on
//! trust from the optional copy inside the key file.
/// GM/T 0009's default signer id for SM2 signatures ("1234567812345678").
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

use crate::domain::model::KeyAlgorithm;
use pkcs8::der::Decode;
use zeroize::Zeroizing;

pub const OID_RSA: &str = "1.2.840.113549.1.1.1";
/// RSASSA-PSS (RFC 4055): an RSA key restricted to PSS signatures; same modulus and exponent.
pub const OID_RSA_PSS: &str = "1.2.840.113549.1.1.10";
pub const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
pub const OID_ED25519: &str = "1.3.101.112";
pub const OID_P256: &str = "1.2.840.10045.3.1.7";
pub const OID_P384: &str = "1.3.132.0.34";
/// SM2 curve (GM/T 0006); x509-parser has no name for it.
pub const OID_SM2: &str = "1.2.156.10197.1.301";

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Curve {
    P256,
    P384,
    Sm2,
}

impl Curve {
    pub fn from_oid(oid: &str) -> Option<Curve> {
        match oid {
            OID_P256 => Some(Curve::P256),
            OID_P384 => Some(Curve::P384),
            OID_SM2 => Some(Curve::Sm2),
            _ => None,
        }
    }

    pub fn bits(self) -> u32 {
        match self {
            Curve::P256 | Curve::Sm2 => 256,
            Curve::P384 => 384,
        }
    }
}

/// The public half of a key, in a form that compares across encodings.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PublicKey {
    /// Modulus and exponent, big-endian without leading zeros.
    Rsa {
        n: Vec<u8>,
        e: Vec<u8>,
    },
    /// Uncompressed SEC1 point.
    Ec {
        curve: Curve,
        point: Vec<u8>,
    },
    Ed25519([u8; 32]),
}

impl PublicKey {
    pub fn algorithm(&self) -> KeyAlgorithm {
        match self {
            PublicKey::Rsa { .. } => KeyAlgorithm::Rsa,
            PublicKey::Ec {
                curve: Curve::Sm2, ..
            } => KeyAlgorithm::Sm2,
            PublicKey::Ec { .. } => KeyAlgorithm::Ecdsa,
            PublicKey::Ed25519(_) => KeyAlgorithm::Ed25519,
        }
    }

    pub fn bits(&self) -> u32 {
        match self {
            PublicKey::Rsa { n, .. } => bit_length(n),
            PublicKey::Ec { curve, .. } => curve.bits(),
            PublicKey::Ed25519(_) => 256,
        }
    }

    /// Reads a certificate's SubjectPublicKeyInfo parts.
    pub fn from_spki(
        alg_oid: &str,
        curve_oid: Option<&str>,
        key_bits: &[u8],
    ) -> Result<PublicKey, String> {
        match alg_oid {
            OID_RSA | OID_RSA_PSS => {
                let k = pkcs1::RsaPublicKeyRef::from_der(key_bits)
                    .map_err(|e| format!("RSA public key: {e}"))?;
                Ok(PublicKey::Rsa {
                    n: strip_zeros(k.modulus.as_bytes()),
                    e: strip_zeros(k.public_exponent.as_bytes()),
                })
            }
            OID_EC_PUBLIC_KEY | OID_SM2 => {
                let curve_oid = if alg_oid == OID_SM2 {
                    Some(OID_SM2)
                } else {
                    curve_oid
                };
                let curve = curve_oid.and_then(Curve::from_oid).ok_or_else(|| {
                    format!(
                        "unsupported elliptic curve {}",
                        curve_oid.unwrap_or("(none)")
                    )
                })?;
                Ok(PublicKey::Ec {
                    curve,
                    point: uncompressed_point(curve, key_bits)?,
                })
            }
            OID_ED25519 => {
                Ok(PublicKey::Ed25519(key_bits.try_into().map_err(|_| {
                    "Ed25519 public key is not 32 bytes".to_string()
                })?))
            }
            other => Err(format!("unsupported public key algorithm {other}")),
        }
    }
}

/// What a private key holds that decides which certificate it belongs to.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub enum KeyMaterial {
    /// Modulus and exponent, as in the public key.
    Rsa { n: Vec<u8>, e: Vec<u8> },
    /// The private scalar, big-endian, padded to the curve size.
    Ec {
        curve: Curve,
        scalar: Zeroizing<Vec<u8>>,
    },
    /// Public key derived from the seed.
    Ed25519([u8; 32]),
}

/// A private key read from a field. Never printed: Debug shows only its algorithm.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct PrivateKey {
    pub material: KeyMaterial,
    /// PKCS#8 or the original traditional encoding, as given (decrypted if it was encrypted).
    pub der: Zeroizing<Vec<u8>>,
    #[serde(with = "crate::domain::wire::static_str")]
    pub pem_label: crate::domain::wire::FixedText,
    /// Why the file it came from was weakly protected (a legacy encryption, U-5), for a warning.
    pub weak: Option<String>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PrivateKey")
            .field("algorithm", &self.algorithm())
            .finish_non_exhaustive()
    }
}

impl PrivateKey {
    pub fn to_pem(&self) -> String {
        crate::domain::pem::encode(self.pem_label, &self.der)
    }

    pub fn algorithm(&self) -> KeyAlgorithm {
        match &self.material {
            KeyMaterial::Rsa { .. } => KeyAlgorithm::Rsa,
            KeyMaterial::Ec {
                curve: Curve::Sm2, ..
            } => KeyAlgorithm::Sm2,
            KeyMaterial::Ec { .. } => KeyAlgorithm::Ecdsa,
            KeyMaterial::Ed25519(_) => KeyAlgorithm::Ed25519,
        }
    }

    pub fn bits(&self) -> u32 {
        match &self.material {
            KeyMaterial::Rsa { n, .. } => bit_length(n),
            KeyMaterial::Ec { curve, .. } => curve.bits(),
            KeyMaterial::Ed25519(_) => 256,
        }
    }

    /// Whether this key is the private half of `public` (U-2). For P-256/P-384 ring derives the
    /// point from the scalar and compares (its nistz256 code is ~10x faster than a generic one).
    pub fn belongs_to(&self, public: &PublicKey) -> bool {
        match (&self.material, public) {
            (KeyMaterial::Rsa { n, e }, PublicKey::Rsa { n: pn, e: pe }) => n == pn && e == pe,
            (KeyMaterial::Ed25519(k), PublicKey::Ed25519(p)) => k == p,
            (KeyMaterial::Ec { curve, scalar }, PublicKey::Ec { curve: pc, point })
                if curve == pc =>
            {
                match curve {
                    Curve::P256 | Curve::P384 => {
                        let alg = if *curve == Curve::P256 {
                            &ring::signature::ECDSA_P256_SHA256_ASN1_SIGNING
                        } else {
                            &ring::signature::ECDSA_P384_SHA384_ASN1_SIGNING
                        };
                        let rng = ring::rand::SystemRandom::new();
                        ring::signature::EcdsaKeyPair::from_private_key_and_public_key(
                            alg, scalar, point, &rng,
                        )
                        .is_ok()
                    }
                    Curve::Sm2 => derive_point(Curve::Sm2, scalar).is_ok_and(|p| &p == point),
                }
            }
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyError {
    /// Encrypted PKCS#8 given without a password.
    NeedsPassword,
    WrongPassword,
    Invalid(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::NeedsPassword => write!(f, "the private key is encrypted; give its password"),
            KeyError::WrongPassword => write!(f, "the password does not decrypt the private key"),
            KeyError::Invalid(m) => write!(f, "{m}"),
        }
    }
}

pub fn is_private_key_label(label: &str) -> bool {
    matches!(
        label,
        "PRIVATE KEY"
            | "RSA PRIVATE KEY"
            | "EC PRIVATE KEY"
            | "ENCRYPTED PRIVATE KEY"
            | "SM2 PRIVATE KEY"
    )
}

/// Reads one PEM private key block. `password` decrypts an encrypted one: PKCS#8 (PBES2, PBES1,
/// PKCS#12 PBE) or OpenSSL's traditional `Proc-Type: 4,ENCRYPTED` (U-5).
pub fn parse_private_key(
    label: &str,
    der: &[u8],
    headers: &[(String, String)],
    password: Option<&[u8]>,
) -> Result<PrivateKey, KeyError> {
    let given = || {
        password
            .filter(|p| !p.is_empty())
            .ok_or(KeyError::NeedsPassword)
    };
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("Proc-Type") && v.contains("ENCRYPTED"))
    {
        let d = crate::domain::legacy_key::decrypt_traditional(headers, der, given()?)?;
        // A wrong password that happens to unpad leaves bytes that are no key.
        let mut k =
            parse_private_key(label, &d.der, &[], None).map_err(|_| KeyError::WrongPassword)?;
        k.weak = d.weak;
        return Ok(k);
    }
    let key = |material, der: Zeroizing<Vec<u8>>, pem_label, weak| PrivateKey {
        material,
        der,
        pem_label,
        weak,
    };
    match label {
        "RSA PRIVATE KEY" => Ok(key(
            rsa_material(der)?,
            Zeroizing::new(der.to_vec()),
            "RSA PRIVATE KEY",
            None,
        )),
        "EC PRIVATE KEY" | "SM2 PRIVATE KEY" => Ok(key(
            ec_material(der, None)?,
            Zeroizing::new(der.to_vec()),
            "EC PRIVATE KEY",
            None,
        )),
        "PRIVATE KEY" => Ok(key(
            pkcs8_material(der)?,
            Zeroizing::new(der.to_vec()),
            "PRIVATE KEY",
            None,
        )),
        "ENCRYPTED PRIVATE KEY" => {
            let password = given()?;
            let (oid, params, data) = crate::domain::legacy_key::encrypted_info(der)?;
            if let Some(legacy) =
                crate::domain::legacy_key::decrypt_pkcs8_legacy(&oid, params, data, password)
            {
                let d = legacy?;
                let material = pkcs8_material(&d.der).map_err(|_| KeyError::WrongPassword)?;
                return Ok(key(material, d.der, "PRIVATE KEY", d.weak));
            }
            let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
                .map_err(|e| KeyError::Invalid(format!("encrypted PKCS#8 structure: {e}")))?;
            check_kdf(&info.encryption_algorithm)?;
            // A dependency's panic on hostile parameters must not end the process.
            let plain = crate::domain::guard::contained(|| info.decrypt(password))
                .map_err(|_| {
                    KeyError::Invalid(
                        "the encrypted key's parameters could not be used (the decryption library gave up on them)".into(),
                    )
                })?
                .map_err(|_| KeyError::WrongPassword)?;
            let der = Zeroizing::new(plain.as_bytes().to_vec());
            let material = pkcs8_material(&der).map_err(|_| KeyError::WrongPassword)?;
            Ok(key(
                material,
                der,
                "PRIVATE KEY",
                pbes2_weakness(&info.encryption_algorithm),
            ))
        }
        other => Err(KeyError::Invalid(format!(
            "BEGIN {other} is not a private key"
        ))),
    }
}

/// PBES2 with single DES is weak (56-bit keys), whatever its key derivation.
fn pbes2_weakness(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Option<String> {
    match scheme {
        pkcs8::pkcs5::EncryptionScheme::Pbes2(p)
            if matches!(p.encryption, pkcs8::pkcs5::pbes2::EncryptionScheme::DesCbc { .. }) =>
        {
            Some("the key file is encrypted with single DES (56-bit keys), which is weak; keep it as certdeck stores it, or re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`".into())
        }
        _ => None,
    }
}

/// PBKDF2 iterations accepted: above what tools write (OpenSSL 2,048; OWASP's 600,000 for
/// SHA-256 and 1,300,000 for SHA-1), below what keeps a paste waiting for more than about half a
/// second (2^32 - 1 kept the process busy for minutes).
pub const MAX_PBKDF2_ITERATIONS: u32 = 2_000_000;
/// scrypt: N at most 2^20, memory (128 · N · r) at most 256 MiB, work (N · r · p) at most 2^20,
/// eight times OpenSSL's default (N = 2^14, r = 8, p = 1) and about 0.3 s. AFL found p = 65
/// with N = 2^14, r = 8 taking 2 s under the first limit of 2^24.
pub const MAX_SCRYPT_LOG_N: u32 = 20;
const MAX_SCRYPT_MEMORY: u64 = 256 * 1024 * 1024;
const MAX_SCRYPT_WORK: u64 = 1 << 20;

/// Refuses key-derivation parameters that would panic, exhaust memory or run for minutes,
/// before anything is derived. The message names the parameter.
pub fn check_kdf(scheme: &pkcs8::pkcs5::EncryptionScheme) -> Result<(), KeyError> {
    use pkcs8::pkcs5::{pbes2::Kdf, EncryptionScheme};
    let refuse = |m: String| Err(KeyError::Invalid(format!("encrypted key: {m}")));
    let EncryptionScheme::Pbes2(params) = scheme else {
        // PBES1's iteration count is 16 bits: bounded by its type.
        return Ok(());
    };
    match &params.kdf {
        Kdf::Pbkdf2(p) if p.iteration_count == 0 => refuse("PBKDF2 iteration count is 0".into()),
        Kdf::Pbkdf2(p) if p.iteration_count > MAX_PBKDF2_ITERATIONS => refuse(format!(
            "PBKDF2 iteration count {} is over the limit of {MAX_PBKDF2_ITERATIONS}",
            p.iteration_count
        )),
        Kdf::Scrypt(p) => {
            let n = p.cost_parameter;
            let (r, par) = (p.block_size as u64, p.parallelization as u64);
            if n < 2 || !n.is_power_of_two() {
                return refuse(format!(
                    "scrypt N = {n} is not a power of two of at least 2"
                ));
            }
            if n.trailing_zeros() > MAX_SCRYPT_LOG_N {
                return refuse(format!(
                    "scrypt N = 2^{} is over the limit of 2^{MAX_SCRYPT_LOG_N}",
                    n.trailing_zeros()
                ));
            }
            if r == 0 || par == 0 {
                return refuse(format!(
                    "scrypt r = {r}, p = {par}: both must be at least 1"
                ));
            }
            if 128 * n * r > MAX_SCRYPT_MEMORY {
                return refuse(format!(
                    "scrypt r = {r} with N = {n} needs {} MiB, over the limit of {} MiB",
                    128 * n * r / (1024 * 1024),
                    MAX_SCRYPT_MEMORY / (1024 * 1024)
                ));
            }
            if n * r * par > MAX_SCRYPT_WORK {
                return refuse(format!(
                    "scrypt p = {par} with N = {n}, r = {r} is over the work limit (N·r·p at most 2^20)"
                ));
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Reads a DER private key whose encoding is unknown (PKCS#8, then PKCS#1, then SEC1).
pub fn parse_private_key_der(der: &[u8]) -> Result<PrivateKey, KeyError> {
    for label in ["PRIVATE KEY", "RSA PRIVATE KEY", "EC PRIVATE KEY"] {
        if let Ok(k) = parse_private_key(label, der, &[], None) {
            return Ok(k);
        }
    }
    Err(KeyError::Invalid("not a DER private key".into()))
}

fn pkcs8_material(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    let info = pkcs8::PrivateKeyInfoRef::from_der(der)
        .map_err(|e| KeyError::Invalid(format!("PKCS#8 structure: {e}")))?;
    let alg = info.algorithm.oid.to_string();
    let inner = info.private_key.as_bytes();
    match alg.as_str() {
        OID_RSA | OID_RSA_PSS => rsa_material(inner),
        OID_EC_PUBLIC_KEY | OID_SM2 => {
            let curve_oid = if alg == OID_SM2 {
                Some(OID_SM2.to_string())
            } else {
                info.algorithm
                    .parameters
                    .and_then(|p| p.decode_as::<pkcs8::ObjectIdentifier>().ok())
                    .map(|o| o.to_string())
            };
            ec_material(inner, curve_oid.as_deref())
        }
        OID_ED25519 => {
            // CurvePrivateKey ::= OCTET STRING (the 32-byte seed), wrapped in the outer OCTET STRING.
            let seed = match inner {
                [0x04, 0x20, seed @ ..] if seed.len() == 32 => seed,
                _ => {
                    return Err(KeyError::Invalid(
                        "Ed25519 key: expected a 32-byte seed".into(),
                    ))
                }
            };
            let pair = ring::signature::Ed25519KeyPair::from_seed_unchecked(seed)
                .map_err(|_| KeyError::Invalid("Ed25519 seed is not 32 bytes".into()))?;
            use ring::signature::KeyPair;
            let mut pk = [0u8; 32];
            pk.copy_from_slice(pair.public_key().as_ref());
            Ok(KeyMaterial::Ed25519(pk))
        }
        other => Err(KeyError::Invalid(format!(
            "unsupported private key algorithm {}",
            match other {
                "1.2.840.10040.4.1" => "DSA",
                "1.3.101.113" => "Ed448",
                "1.3.101.110" => "X25519",
                "1.3.101.111" => "X448",
                o => o,
            }
        ))),
    }
}

fn rsa_material(der: &[u8]) -> Result<KeyMaterial, KeyError> {
    let k = pkcs1::RsaPrivateKeyRef::try_from(der)
        .map_err(|e| KeyError::Invalid(format!("RSA private key: {e}")))?;
    Ok(KeyMaterial::Rsa {
        n: strip_zeros(k.modulus.as_bytes()),
        e: strip_zeros(k.public_exponent.as_bytes()),
    })
}

fn ec_material(der: &[u8], outer_curve: Option<&str>) -> Result<KeyMaterial, KeyError> {
    let k = sec1::EcPrivateKey::try_from(der)
        .map_err(|e| KeyError::Invalid(format!("EC private key: {e}")))?;
    let inner_curve = k
        .parameters
        .and_then(|p| p.named_curve())
        .map(|o| o.to_string());
    let curve_oid = inner_curve
        .as_deref()
        .or(outer_curve)
        .ok_or_else(|| KeyError::Invalid("EC private key names no curve".into()))?;
    let curve = Curve::from_oid(curve_oid)
        .ok_or_else(|| KeyError::Invalid(format!("unsupported elliptic curve {curve_oid}")))?;
    let size = (curve.bits() / 8) as usize;
    let raw = strip_zeros(k.private_key);
    if raw.is_empty() || raw.len() > size {
        return Err(KeyError::Invalid(
            "EC private scalar is out of range".into(),
        ));
    }
    let mut scalar = Zeroizing::new(vec![0u8; size]);
    scalar[size - raw.len()..].copy_from_slice(&raw);
    Ok(KeyMaterial::Ec { curve, scalar })
}

fn derive_point(curve: Curve, scalar: &[u8]) -> Result<Vec<u8>, String> {
    let bad = |_| "EC private scalar is out of range".to_string();
    Ok(match curve {
        Curve::P256 => {
            use p256::elliptic_curve::sec1::ToSec1Point;
            p256::SecretKey::from_slice(scalar)
                .map_err(bad)?
                .public_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        }
        Curve::P384 => {
            use p384::elliptic_curve::sec1::ToSec1Point;
            p384::SecretKey::from_slice(scalar)
                .map_err(bad)?
                .public_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        }
        Curve::Sm2 => {
            use sm2::elliptic_curve::sec1::ToSec1Point;
            sm2::SecretKey::from_slice(scalar)
                .map_err(bad)?
                .public_key()
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        }
    })
}

fn uncompressed_point(curve: Curve, bytes: &[u8]) -> Result<Vec<u8>, String> {
    // Already uncompressed: kept as is (the match check validates it against the key).
    if bytes.first() == Some(&0x04) && bytes.len() == 1 + 2 * (curve.bits() / 8) as usize {
        return Ok(bytes.to_vec());
    }
    let bad = |_| "EC public point is not on the curve".to_string();
    Ok(match curve {
        Curve::P256 => {
            use p256::elliptic_curve::sec1::ToSec1Point;
            p256::PublicKey::from_sec1_bytes(bytes)
                .map_err(bad)?
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        }
        Curve::P384 => {
            use p384::elliptic_curve::sec1::ToSec1Point;
            p384::PublicKey::from_sec1_bytes(bytes)
                .map_err(bad)?
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        }
        Curve::Sm2 => {
            use sm2::elliptic_curve::sec1::ToSec1Point;
            sm2::PublicKey::from_sec1_bytes(bytes)
                .map_err(bad)?
                .to_sec1_point(false)
                .as_bytes()
                .to_vec()
        }
    })
}

fn strip_zeros(b: &[u8]) -> Vec<u8> {
    let start = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b[start..].to_vec()
}

fn bit_length(be: &[u8]) -> u32 {
    match be.iter().position(|&x| x != 0) {
        Some(i) => (be.len() - i) as u32 * 8 - be[i].leading_zeros(),
        None => 0,
    }
}

/// The DER of a dotted OID (arcs after the first two in base 128).
fn oid_der(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').filter_map(|a| a.parse().ok()).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut rest = arc >> 7;
        while rest > 0 {
            chunk.push(0x80 | (rest & 0x7f) as u8);
            rest >>= 7;
        }
        body.extend(chunk.iter().rev());
    }
    der_tlv(0x06, &body)
}

fn der_tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let len: Vec<u8> = n
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | len.len() as u8);
        out.extend(len);
    }
    out.extend_from_slice(content);
    out
}

/// A stored private key (PEM) as unencrypted PKCS#8 DER, what PKCS#12 bags hold. PKCS#1 and
/// SEC1 keys are wrapped; an encrypted key is refused (its password is not ours).
pub fn to_pkcs8_der(pem: &str) -> Result<Zeroizing<Vec<u8>>, String> {
    let blocks = crate::domain::pem::scan(pem).map_err(|e| e.message)?;
    let block = blocks
        .iter()
        .find(|b| is_private_key_label(&b.label))
        .ok_or("no private key")?;
    if block.label == "ENCRYPTED PRIVATE KEY" {
        return Err("the key is password-protected; export it as PEM instead".into());
    }
    let key = parse_private_key(&block.label, &block.der, &block.headers, None)
        .map_err(|e| e.to_string())?;
    if key.pem_label == "PRIVATE KEY" {
        return Ok(key.der.clone());
    }
    let alg = match &key.material {
        KeyMaterial::Rsa { .. } => [oid_der(OID_RSA), vec![0x05, 0x00]].concat(),
        KeyMaterial::Ec { curve, .. } => {
            let curve_oid = match curve {
                Curve::P256 => OID_P256,
                Curve::P384 => OID_P384,
                Curve::Sm2 => OID_SM2,
            };
            [oid_der(OID_EC_PUBLIC_KEY), oid_der(curve_oid)].concat()
        }
        KeyMaterial::Ed25519(_) => return Ok(key.der.clone()),
    };
    let body = [
        der_tlv(0x02, &[0]),
        der_tlv(0x30, &alg),
        der_tlv(0x04, &key.der),
    ]
    .concat();
    Ok(Zeroizing::new(der_tlv(0x30, &body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bit_length_counts_significant_bits() {
        assert_eq!(bit_length(&[0, 0x80, 0]), 16);
        assert_eq!(bit_length(&[0x01, 0]), 9);
        assert_eq!(bit_length(&[]), 0);
    }

    #[test]
    fn encrypted_pkcs8_needs_a_password() {
        assert_eq!(
            parse_private_key("ENCRYPTED PRIVATE KEY", &[0x30, 0], &[], None).unwrap_err(),
            KeyError::NeedsPassword
        );
        let legacy = vec![("Proc-Type".to_string(), "4,ENCRYPTED".to_string())];
        assert_eq!(
            parse_private_key("RSA PRIVATE KEY", &[0x30, 0], &legacy, None).unwrap_err(),
            KeyError::NeedsPassword
        );
    }
}

#[cfg(test)]
mod hostile_kdf_tests {
    use super::*;
    use pkcs8::der::asn1::OctetStringRef;
    use pkcs8::der::Encode;
    use pkcs8::pkcs5::pbes2::{self, Kdf, Pbkdf2Params, Pbkdf2Prf, Salt, ScryptParams};
    use pkcs8::pkcs5::EncryptionScheme;

    fn encrypted_with(kdf: Kdf) -> Vec<u8> {
        let params = pbes2::Parameters {
            kdf,
            encryption: pbes2::EncryptionScheme::Aes256Cbc { iv: [7; 16] },
        };
        pkcs8::EncryptedPrivateKeyInfoRef {
            encryption_algorithm: EncryptionScheme::Pbes2(params),
            encrypted_data: OctetStringRef::new(&[0u8; 48]).unwrap(),
        }
        .to_der()
        .unwrap()
    }

    fn scrypt(n: u64, r: u16, p: u16) -> Vec<u8> {
        encrypted_with(Kdf::Scrypt(ScryptParams {
            salt: Salt::new([1u8; 16]).unwrap(),
            cost_parameter: n,
            block_size: r,
            parallelization: p,
            key_length: Some(32),
        }))
    }

    fn pbkdf2(iterations: u32) -> Vec<u8> {
        encrypted_with(Kdf::Pbkdf2(Pbkdf2Params {
            salt: Salt::new([1u8; 16]).unwrap(),
            iteration_count: iterations,
            key_length: None,
            prf: Pbkdf2Prf::HmacWithSha256,
        }))
    }

    fn refusal(der: &[u8]) -> String {
        match parse_private_key("ENCRYPTED PRIVATE KEY", der, &[], Some(b"pw")) {
            Err(KeyError::Invalid(m)) => m,
            Err(other) => panic!("not refused by its parameters: {other}"),
            Ok(_) => panic!("accepted"),
        }
    }

    #[test]
    fn rule_u7_scrypt_parameters_that_panic_or_exhaust_memory_are_refused_by_name() {
        for (n, named) in [
            (0, "scrypt N = 0"),
            (1, "scrypt N = 1"),
            (3, "scrypt N = 3"),
        ] {
            assert!(refusal(&scrypt(n, 8, 1)).contains(named), "{n}");
        }
        assert!(refusal(&scrypt(1 << 40, 8, 1)).contains("2^40"));
        assert!(refusal(&scrypt(1 << 21, 1, 1)).contains("2^21"));
        assert!(refusal(&scrypt(1 << 20, 32, 1)).contains("MiB"));
        assert!(
            refusal(&scrypt(1 << 14, 8, 65)).contains("p = 65"),
            "found by AFL"
        );
        let at_limit = scrypt(1 << 14, 8, 8);
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(at_limit.as_slice()).unwrap();
        assert!(
            check_kdf(&info.encryption_algorithm).is_ok(),
            "N·r·p = 2^20 exactly"
        );
        assert!(refusal(&scrypt(1 << 14, 8, 1000)).contains("p = 1000"));
        assert!(refusal(&scrypt(1 << 14, 0, 1)).contains("r = 0"));
    }

    #[test]
    fn rule_u7_pbkdf2_iterations_are_capped_at_two_million_exactly() {
        assert!(refusal(&pbkdf2(u32::MAX)).contains("4294967295"));
        assert!(refusal(&pbkdf2(MAX_PBKDF2_ITERATIONS + 1)).contains("limit of 2000000"));
        assert!(refusal(&pbkdf2(0)).contains("iteration count is 0"));
        // At the limit the parameters are accepted (and this wrong ciphertext is then refused
        // as a wrong password, without deriving for minutes).
        let at_limit = pbkdf2(MAX_PBKDF2_ITERATIONS);
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(at_limit.as_slice()).unwrap();
        assert!(check_kdf(&info.encryption_algorithm).is_ok());
    }

    #[test]
    fn rule_u7_usual_scrypt_parameters_pass_the_check() {
        let der = scrypt(1 << 14, 8, 1);
        let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der.as_slice()).unwrap();
        assert!(check_kdf(&info.encryption_algorithm).is_ok());
        assert!(matches!(
            parse_private_key("ENCRYPTED PRIVATE KEY", &der, &[], Some(b"pw")),
            Err(KeyError::WrongPassword)
        ));
    }
}
