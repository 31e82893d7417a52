//! New private keys for reissues (RI-6) and their password protection. Randomness comes from
//! the operating system through ring; RustCrypto's RSA and PKCS#8 encryption take it through a
//! small adapter.
use crate::domain::pem::encode;
use crate::domain::reissue::KeyChoice;
use ring::rand::{SecureRandom, SystemRandom};

/// ring's system randomness as a rand_core 0.10 RNG.
struct OsRng(SystemRandom);

impl rand_core::TryRng for OsRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.fill(&mut b);
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.fill(&mut b);
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        self.fill(dst);
        Ok(())
    }
}

impl rand_core::TryCryptoRng for OsRng {}

impl OsRng {
    fn new() -> OsRng {
        OsRng(SystemRandom::new())
    }

    fn fill(&self, dst: &mut [u8]) {
        // The kernel's generator does not fail once the system is up; a failure here means
        // there is no safe way to make a key at all.
        self.0
            .fill(dst)
            .expect("the operating system's random number generator failed");
    }
}

/// A generated key: PKCS#8 PEM and its SubjectPublicKeyInfo DER.
pub struct NewKey {
    pub pkcs8_pem: String,
    pub spki_der: Vec<u8>,
}

pub fn generate(kind: KeyChoice) -> Result<NewKey, String> {
    use pkcs8::{EncodePrivateKey, EncodePublicKey};
    match kind {
        KeyChoice::P256 | KeyChoice::P384 => {
            use rcgen::PublicKeyData;
            let alg = if kind == KeyChoice::P256 {
                &rcgen::PKCS_ECDSA_P256_SHA256
            } else {
                &rcgen::PKCS_ECDSA_P384_SHA384
            };
            let kp = rcgen::KeyPair::generate_for(alg).map_err(|e| e.to_string())?;
            Ok(NewKey {
                pkcs8_pem: kp.serialize_pem(),
                spki_der: kp.subject_public_key_info(),
            })
        }
        KeyChoice::Rsa2048 | KeyChoice::Rsa3072 | KeyChoice::Rsa4096 => {
            let bits = match kind {
                KeyChoice::Rsa2048 => 2048,
                KeyChoice::Rsa3072 => 3072,
                _ => 4096,
            };
            let key = rsa::PrivateKey::new(&mut OsRng::new(), bits)
                .map_err(|e| format!("RSA key generation: {e}"))?;
            let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
            let spki = key
                .to_public_key()
                .to_public_key_der()
                .map_err(|e| e.to_string())?;
            Ok(NewKey {
                pkcs8_pem: encode("PRIVATE KEY", der.as_bytes()),
                spki_der: spki.as_bytes().to_vec(),
            })
        }
        KeyChoice::Sm2 => {
            let key = match crate::ca::pki::GenKey::generate(crate::ca::pki::KeyKind::Sm2) {
                crate::ca::pki::GenKey::Sm2(k) => k,
                _ => unreachable!("asked for SM2"),
            };
            let der = key.to_pkcs8_der().map_err(|e| e.to_string())?;
            let spki = key
                .public_key()
                .to_public_key_der()
                .map_err(|e| e.to_string())?;
            Ok(NewKey {
                pkcs8_pem: encode("PRIVATE KEY", der.as_bytes()),
                spki_der: spki.as_bytes().to_vec(),
            })
        }
    }
}

/// PBKDF2-HMAC-SHA256 rounds for a password-protected key (OWASP's figure for SHA-256).
const PBKDF2_ROUNDS: u32 = 600_000;

/// Encrypts a PKCS#8 key (PEM) with `password`: PBES2, PBKDF2-HMAC-SHA256 and AES-256-CBC,
/// which OpenSSL and every TLS server read.
pub fn encrypt_pkcs8(pkcs8_pem: &str, password: &[u8]) -> Result<String, String> {
    let blocks = crate::domain::pem::scan(pkcs8_pem).map_err(|e| e.message)?;
    let der = blocks
        .iter()
        .find(|b| b.label == "PRIVATE KEY")
        .map(|b| zeroize::Zeroizing::new(b.der.clone()))
        .ok_or("not a PKCS#8 key")?;
    let rng = OsRng::new();
    let (mut salt, mut iv) = ([0u8; 16], [0u8; 16]);
    rng.fill(&mut salt);
    rng.fill(&mut iv);
    let params =
        pkcs8::pkcs5::pbes2::Parameters::generate_pbkdf2_sha256_aes256cbc(PBKDF2_ROUNDS, &salt, iv)
            .map_err(|e| e.to_string())?;
    let info = pkcs8::PrivateKeyInfoRef::try_from(der.as_slice()).map_err(|e| e.to_string())?;
    let doc = info
        .encrypt_with_params(params, password)
        .map_err(|e| e.to_string())?;
    Ok(encode("ENCRYPTED PRIVATE KEY", doc.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_decrypt_with_their_password_and_not_without() {
        let k = generate(KeyChoice::P256).unwrap();
        let enc = encrypt_pkcs8(&k.pkcs8_pem, b"s3cret").unwrap();
        assert!(enc.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
        let block = &crate::domain::pem::scan(&enc).unwrap()[0];
        let open = |pw: &[u8]| {
            crate::domain::key::parse_private_key(&block.label, &block.der, &[], Some(pw)).is_ok()
        };
        assert!(open(b"s3cret"));
        assert!(!open(b"wrong"));
    }

    #[test]
    fn sm2_and_rsa_keys_have_public_keys() {
        let sm2 = generate(KeyChoice::Sm2).unwrap();
        assert!(!sm2.spki_der.is_empty());
        let rsa = generate(KeyChoice::Rsa2048).unwrap();
        assert!(rsa.pkcs8_pem.starts_with("-----BEGIN PRIVATE KEY-----"));
        assert!(rsa.spki_der.len() > 256);
    }
}
