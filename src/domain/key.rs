//! Private keys: PKCS#1, SEC1, PKCS#8 and encrypted PKCS#8, and whether a key belongs to a
//! certificate's public key. The public key is derived from the private scalar, never taken on
//! trust from the optional copy inside the key file.
/// GM/T 0009's default signer id for SM2 signatures ("1234567812345678").
pub const SM2_DEFAULT_ID: &str = "1234567812345678";

use crate::domain::model::KeyAlgorithm;
use pkcs8::der::Decode;
use zeroize::Zeroizing;

pub const OID_RSA: &str = "1.2.840.113549.1.1.1";
pub const OID_EC_PUBLIC_KEY: &str = "1.2.840.10045.2.1";
pub const OID_ED25519: &str = "1.3.101.112";
pub const OID_P256: &str = "1.2.840.10045.3.1.7";
pub const OID_P384: &str = "1.3.132.0.34";
/// SM2 curve (GM/T 0006); x509-parser has no name for it.
pub const OID_SM2: &str = "1.2.156.10197.1.301";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
#[derive(Debug, Clone, PartialEq, Eq)]
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
            OID_RSA => {
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
#[derive(Clone)]
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
#[derive(Clone)]
pub struct PrivateKey {
    pub material: KeyMaterial,
    /// PKCS#8 or the original traditional encoding, as given (decrypted if it was encrypted).
    pub der: Zeroizing<Vec<u8>>,
    pub pem_label: &'static str,
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
    /// OpenSSL's legacy `Proc-Type: 4,ENCRYPTED` keys.
    LegacyEncrypted,
    Invalid(String),
}

impl std::fmt::Display for KeyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            KeyError::NeedsPassword => write!(f, "the private key is encrypted (BEGIN ENCRYPTED PRIVATE KEY); give its password"),
            KeyError::WrongPassword => write!(f, "the password does not decrypt the private key"),
            KeyError::LegacyEncrypted => write!(f, "legacy OpenSSL-encrypted key (Proc-Type: 4,ENCRYPTED) is not supported; convert it with `openssl pkcs8 -topk8` and give the password"),
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

/// Reads one PEM private key block. `password` is used for encrypted PKCS#8 only.
pub fn parse_private_key(
    label: &str,
    der: &[u8],
    headers: &[(String, String)],
    password: Option<&[u8]>,
) -> Result<PrivateKey, KeyError> {
    if headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("Proc-Type") && v.contains("ENCRYPTED"))
    {
        return Err(KeyError::LegacyEncrypted);
    }
    match label {
        "RSA PRIVATE KEY" => Ok(PrivateKey {
            material: rsa_material(der)?,
            der: Zeroizing::new(der.to_vec()),
            pem_label: "RSA PRIVATE KEY",
        }),
        "EC PRIVATE KEY" | "SM2 PRIVATE KEY" => Ok(PrivateKey {
            material: ec_material(der, None)?,
            der: Zeroizing::new(der.to_vec()),
            pem_label: "EC PRIVATE KEY",
        }),
        "PRIVATE KEY" => Ok(PrivateKey {
            material: pkcs8_material(der)?,
            der: Zeroizing::new(der.to_vec()),
            pem_label: "PRIVATE KEY",
        }),
        "ENCRYPTED PRIVATE KEY" => {
            let password = password
                .filter(|p| !p.is_empty())
                .ok_or(KeyError::NeedsPassword)?;
            let info = pkcs8::EncryptedPrivateKeyInfoRef::try_from(der)
                .map_err(|e| KeyError::Invalid(format!("encrypted PKCS#8 structure: {e}")))?;
            let plain = info
                .decrypt(password)
                .map_err(|_| KeyError::WrongPassword)?;
            let der = Zeroizing::new(plain.as_bytes().to_vec());
            Ok(PrivateKey {
                material: pkcs8_material(&der)?,
                der,
                pem_label: "PRIVATE KEY",
            })
        }
        other => Err(KeyError::Invalid(format!(
            "BEGIN {other} is not a private key"
        ))),
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
        OID_RSA => rsa_material(inner),
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
            "unsupported private key algorithm {other}"
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
            KeyError::LegacyEncrypted
        );
    }
}
