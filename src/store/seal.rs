//! Private keys at rest: ChaCha20-Poly1305 under a 256-bit key kept in a 0600 key file.
//! The key is read once per process; each secret is bound to its record by the AAD.
use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, CHACHA20_POLY1305, NONCE_LEN};
use ring::rand::{SecureRandom, SystemRandom};
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const FORMAT_V1: u8 = 1;

pub struct Sealer {
    key: LessSafeKey,
    rng: SystemRandom,
    pub key_path: PathBuf,
    /// Said once when the key file is readable by others (it is not changed behind the user).
    pub warning: Option<String>,
    /// The key that authenticates every stored record (derived, never the sealing key itself).
    pub record_key: ring::hmac::Key,
}

/// A key file is 64 hex characters and a newline; anything much larger is not one.
const MAX_KEY_FILE: u64 = 4096;

#[derive(Debug)]
pub enum SealError {
    Io(PathBuf, std::io::Error),
    BadKeyFile(PathBuf),
    /// Decryption failed: wrong key file or tampered data.
    Open,
}

impl std::fmt::Display for SealError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SealError::Io(p, e) => write!(f, "key file {}: {e}", p.display()),
            SealError::BadKeyFile(p) => {
                write!(f, "key file {} is not 64 hex characters", p.display())
            }
            SealError::Open => write!(f, "a secret could not be decrypted with this key file"),
        }
    }
}

impl Sealer {
    /// Loads the key file, creating it (0600, in a 0700 directory) when `create` is true and it is
    /// missing. An existing key file is only read: never chmodded, never followed into a directory.
    pub fn load(key_path: &Path, create: bool) -> Result<Option<Sealer>, SealError> {
        let io = |e| SealError::Io(key_path.to_path_buf(), e);
        let text = match crate::sidefile::read_capped(key_path, MAX_KEY_FILE) {
            Ok(t) => {
                String::from_utf8(t).map_err(|_| SealError::BadKeyFile(key_path.to_path_buf()))?
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound && create => {
                let rng = SystemRandom::new();
                let mut raw = [0u8; 32];
                rng.fill(&mut raw)
                    .map_err(|_| SealError::BadKeyFile(key_path.to_path_buf()))?;
                if let Some(dir) = key_path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(dir)
                        .map_err(io)?;
                }
                let hex: String = raw.iter().map(|b| format!("{b:02x}")).collect();
                let mut f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(key_path)
                    .map_err(io)?;
                f.write_all(format!("{hex}\n").as_bytes()).map_err(io)?;
                f.sync_all().map_err(io)?;
                hex
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(io(e)),
        };
        let mode = fs::metadata(key_path).map_err(io)?.permissions().mode();
        let warning = (mode & 0o077 != 0).then(|| {
            format!(
                "key file {} is readable by others (mode {:04o}): anyone who can read it and the database can read every stored private key; run chmod 600 {}",
                key_path.display(),
                mode & 0o7777,
                key_path.display()
            )
        });
        let hex = text.trim();
        if hex.len() != 64 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SealError::BadKeyFile(key_path.to_path_buf()));
        }
        let raw: Vec<u8> = (0..32)
            .map(|i| u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).expect("checked hex"))
            .collect();
        let unbound = UnboundKey::new(&CHACHA20_POLY1305, &raw).expect("32-byte key");
        let derive = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &raw);
        let record_key = ring::hmac::Key::new(
            ring::hmac::HMAC_SHA256,
            ring::hmac::sign(&derive, b"certdeck record authentication v1").as_ref(),
        );
        Ok(Some(Sealer {
            key: LessSafeKey::new(unbound),
            rng: SystemRandom::new(),
            key_path: key_path.to_path_buf(),
            warning,
            record_key,
        }))
    }

    pub fn seal(&self, aad: &str, plaintext: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        self.rng.fill(&mut nonce).expect("system randomness");
        let mut buf = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(aad.as_bytes()),
                &mut buf,
            )
            .expect("sealing cannot fail for in-memory buffers");
        let mut out = Vec::with_capacity(1 + NONCE_LEN + buf.len());
        out.push(FORMAT_V1);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&buf);
        out
    }

    pub fn open(&self, aad: &str, sealed: &[u8]) -> Result<Vec<u8>, SealError> {
        if sealed.len() < 1 + NONCE_LEN || sealed[0] != FORMAT_V1 {
            return Err(SealError::Open);
        }
        let nonce = Nonce::try_assume_unique_for_key(&sealed[1..1 + NONCE_LEN])
            .map_err(|_| SealError::Open)?;
        let mut buf = sealed[1 + NONCE_LEN..].to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(aad.as_bytes()), &mut buf)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }

    pub fn random_bytes<const N: usize>(&self) -> [u8; N] {
        let mut b = [0u8; N];
        self.rng.fill(&mut b).expect("system randomness");
        b
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_is_created_0600_and_seals_round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("conf/store.key");
        assert!(Sealer::load(&path, false).unwrap().is_none());
        let s = Sealer::load(&path, true).unwrap().unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let sealed = s.seal("id:key", b"secret");
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
        assert_eq!(s.open("id:key", &sealed).unwrap(), b"secret");
        assert!(s.open("other:key", &sealed).is_err(), "bound to its record");
        let again = Sealer::load(&path, true).unwrap().unwrap();
        assert_eq!(again.open("id:key", &sealed).unwrap(), b"secret");
    }
}
