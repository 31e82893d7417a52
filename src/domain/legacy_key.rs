//! Private keys encrypted the old ways that operators still meet on old servers (U-5): OpenSSL's
//! traditional `Proc-Type: 4,ENCRYPTED` PEM, PKCS#5 PBES1 and the PKCS#12 PBE schemes inside an
//! `ENCRYPTED PRIVATE KEY`. Each is decrypted with the password and reported as weak protection;
//! certdeck never writes them. Key-derivation work is capped like PBES2's (#9).
use super::key::{KeyError, MAX_PBKDF2_ITERATIONS};
use crate::domain::der::tlv;
use cbc::cipher::{block_padding::Pkcs7, BlockCipherDecrypt, BlockModeDecrypt, KeyInit, KeyIvInit};
use md5::Digest;
use zeroize::Zeroizing;

/// A decrypted key (its inner DER) and why its file's protection is weak, if it is.
pub struct Decrypted {
    pub der: Zeroizing<Vec<u8>>,
    pub weak: Option<String>,
}

const PBES2: &str = "1.2.840.113549.1.5.13";

fn invalid(m: impl Into<String>) -> KeyError {
    KeyError::Invalid(m.into())
}

fn cbc_decrypt<C>(key: &[u8], iv: &[u8], data: &[u8]) -> Result<Zeroizing<Vec<u8>>, KeyError>
where
    C: KeyInit + BlockCipherDecrypt,
{
    let d = cbc::Decryptor::<C>::new_from_slices(key, iv)
        .map_err(|_| invalid("the encrypted key's cipher parameters have the wrong length"))?;
    // A wrong password shows as bad padding (or, rarely, as a structure that does not parse).
    d.decrypt_padded_vec::<Pkcs7>(data)
        .map(Zeroizing::new)
        .map_err(|_| KeyError::WrongPassword)
}

/// OpenSSL's EVP_BytesToKey with MD5 and one round: the traditional PEM key derivation.
fn bytes_to_key_md5(password: &[u8], salt: &[u8], len: usize) -> Zeroizing<Vec<u8>> {
    let mut out = Zeroizing::new(Vec::with_capacity(len + 16));
    let mut last: Vec<u8> = Vec::new();
    while out.len() < len {
        let mut h = md5::Md5::new();
        h.update(&last);
        h.update(password);
        h.update(salt);
        last = h.finalize().to_vec();
        out.extend_from_slice(&last);
    }
    out.truncate(len);
    out
}

fn hex(s: &str) -> Option<Vec<u8>> {
    let s = s.trim();
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

/// A `Proc-Type: 4,ENCRYPTED` block (`openssl genrsa -des3`, `openssl ec -aes256`): its
/// `DEK-Info: CIPHER,IV` names the cipher; the key comes from MD5(password, IV[..8]).
pub fn decrypt_traditional(
    headers: &[(String, String)],
    data: &[u8],
    password: &[u8],
) -> Result<Decrypted, KeyError> {
    let dek = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("DEK-Info"))
        .map(|(_, v)| v.as_str())
        .ok_or_else(|| invalid("Proc-Type: 4,ENCRYPTED without a DEK-Info header"))?;
    let (cipher, iv_hex) = dek
        .split_once(',')
        .ok_or_else(|| invalid(format!("DEK-Info \"{dek}\" is not CIPHER,IV")))?;
    let cipher = cipher.trim().to_ascii_uppercase();
    let iv = hex(iv_hex).ok_or_else(|| invalid("DEK-Info's IV is not hexadecimal"))?;
    let (key_len, iv_len) = match cipher.as_str() {
        "DES-EDE3-CBC" => (24, 8),
        "DES-CBC" => (8, 8),
        "AES-128-CBC" => (16, 16),
        "AES-192-CBC" => (24, 16),
        "AES-256-CBC" => (32, 16),
        other => {
            return Err(invalid(format!(
                "DEK-Info cipher {other} is not supported (DES-EDE3-CBC, DES-CBC and AES-128/192/256-CBC are)"
            )))
        }
    };
    if iv.len() != iv_len {
        return Err(invalid(format!(
            "DEK-Info's IV has {} bytes; {cipher} needs {iv_len}",
            iv.len()
        )));
    }
    let key = bytes_to_key_md5(password, &iv[..8], key_len);
    let der = match cipher.as_str() {
        "DES-EDE3-CBC" => cbc_decrypt::<des::TdesEde3>(&key, &iv, data)?,
        "DES-CBC" => cbc_decrypt::<des::Des>(&key, &iv, data)?,
        "AES-128-CBC" => cbc_decrypt::<aes::Aes128>(&key, &iv, data)?,
        "AES-192-CBC" => cbc_decrypt::<aes::Aes192>(&key, &iv, data)?,
        _ => cbc_decrypt::<aes::Aes256>(&key, &iv, data)?,
    };
    Ok(Decrypted {
        der,
        weak: Some(format!(
            "the key file uses OpenSSL's traditional encryption ({cipher}, its key made by a single MD5 round): weak against password guessing; keep it as certdeck stores it, or re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
        )),
    })
}

/// An `EncryptedPrivateKeyInfo`: the scheme's OID, its parameters (DER) and the ciphertext.
pub fn encrypted_info(der: &[u8]) -> Result<(String, &[u8], &[u8]), KeyError> {
    let bad = || invalid("encrypted PKCS#8 structure: not an EncryptedPrivateKeyInfo");
    let (0x30, body, _) = tlv(der).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x30, alg, rest) = tlv(body).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x04, data, _) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x06, oid, params) = tlv(alg).ok_or_else(bad)? else {
        return Err(bad());
    };
    let oid = pkcs8::ObjectIdentifier::from_bytes(oid).map_err(|_| bad())?;
    Ok((oid.to_string(), params, data))
}

/// PBES1 and PKCS#12 PBE parameters: `SEQUENCE { salt OCTET STRING, iterations INTEGER }`.
fn salt_and_iterations(params: &[u8]) -> Result<(&[u8], u32), KeyError> {
    let bad = || invalid("encrypted key: its PBE parameters are not a salt and an iteration count");
    let (0x30, body, _) = tlv(params).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x04, salt, rest) = tlv(body).ok_or_else(bad)? else {
        return Err(bad());
    };
    let (0x02, count, _) = tlv(rest).ok_or_else(bad)? else {
        return Err(bad());
    };
    let count = count.strip_prefix(&[0]).unwrap_or(count);
    if count.len() > 4 || count.first().is_some_and(|b| b & 0x80 != 0) {
        return Err(invalid(format!(
            "encrypted key: its iteration count is over the limit of {MAX_PBKDF2_ITERATIONS}"
        )));
    }
    let n = count.iter().fold(0u32, |a, &b| a << 8 | b as u32);
    if n == 0 || n > MAX_PBKDF2_ITERATIONS {
        return Err(invalid(format!(
            "encrypted key: iteration count {n} is outside 1..={MAX_PBKDF2_ITERATIONS}"
        )));
    }
    Ok((salt, n))
}

/// PBKDF1 (RFC 8018 §5.1): the first 16 bytes of H^c(P || S).
fn pbkdf1<D: Digest>(password: &[u8], salt: &[u8], rounds: u32) -> Zeroizing<Vec<u8>> {
    let mut t = Zeroizing::new({
        let mut h = D::new();
        h.update(password);
        h.update(salt);
        h.finalize().to_vec()
    });
    for _ in 1..rounds {
        *t = D::digest(&*t).to_vec();
    }
    t.truncate(16);
    t
}

fn weak(scheme: &str) -> Option<String> {
    Some(format!(
        "the key file is protected with {scheme}, an old scheme that is weak against password guessing; keep it as certdeck stores it, or re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`"
    ))
}

/// An `ENCRYPTED PRIVATE KEY` whose scheme is PBES1 or a PKCS#12 PBE (PBES2 is pkcs8's).
/// `None`: the scheme is PBES2 (or unknown to this module).
pub fn decrypt_pkcs8_legacy(
    oid: &str,
    params: &[u8],
    data: &[u8],
    password: &[u8],
) -> Option<Result<Decrypted, KeyError>> {
    if oid == PBES2 {
        return None;
    }
    let run = || -> Result<Decrypted, KeyError> {
        let (salt, rounds) = salt_and_iterations(params)?;
        let pkcs5 = |d: Zeroizing<Vec<u8>>| (d[..8].to_vec(), d[8..16].to_vec());
        let p12 = |len: usize| -> Result<(Zeroizing<Vec<u8>>, Vec<u8>), KeyError> {
            let text = std::str::from_utf8(password)
                .map_err(|_| invalid("the password is not UTF-8, which PKCS#12 needs"))?;
            let derive = |kind, n| {
                pkcs12::kdf::derive_key_utf8::<sha1::Sha1>(text, salt, kind, rounds as i32, n)
                    .map_err(|_| invalid("the password cannot be used for PKCS#12"))
            };
            Ok((
                Zeroizing::new(derive(pkcs12::kdf::Pkcs12KeyType::EncryptionKey, len)?),
                derive(pkcs12::kdf::Pkcs12KeyType::Iv, 8)?,
            ))
        };
        let (der, name) = match oid {
            "1.2.840.113549.1.5.3" => {
                let (k, iv) = pkcs5(pbkdf1::<md5::Md5>(password, salt, rounds));
                (cbc_decrypt::<des::Des>(&k, &iv, data)?, "pbeWithMD5AndDES-CBC")
            }
            "1.2.840.113549.1.5.6" => {
                let (k, iv) = pkcs5(pbkdf1::<md5::Md5>(password, salt, rounds));
                (cbc_decrypt::<rc2::Rc2>(&k, &iv, data)?, "pbeWithMD5AndRC2-CBC")
            }
            "1.2.840.113549.1.5.10" => {
                let (k, iv) = pkcs5(pbkdf1::<sha1::Sha1>(password, salt, rounds));
                (cbc_decrypt::<des::Des>(&k, &iv, data)?, "pbeWithSHA1AndDES-CBC")
            }
            "1.2.840.113549.1.5.11" => {
                let (k, iv) = pkcs5(pbkdf1::<sha1::Sha1>(password, salt, rounds));
                (cbc_decrypt::<rc2::Rc2>(&k, &iv, data)?, "pbeWithSHA1AndRC2-CBC")
            }
            "1.2.840.113549.1.12.1.3" => {
                let (k, iv) = p12(24)?;
                (cbc_decrypt::<des::TdesEde3>(&k, &iv, data)?, "pbeWithSHAAnd3-KeyTripleDES-CBC")
            }
            "1.2.840.113549.1.12.1.4" => {
                let (k, iv) = p12(16)?;
                (cbc_decrypt::<des::TdesEde2>(&k, &iv, data)?, "pbeWithSHAAnd2-KeyTripleDES-CBC")
            }
            "1.2.840.113549.1.12.1.5" => {
                let (k, iv) = p12(16)?;
                (cbc_decrypt::<rc2::Rc2>(&k, &iv, data)?, "pbeWithSHAAnd128BitRC2-CBC")
            }
            "1.2.840.113549.1.12.1.6" => {
                let (k, iv) = p12(5)?;
                (cbc_decrypt::<rc2::Rc2>(&k, &iv, data)?, "pbeWithSHAAnd40BitRC2-CBC")
            }
            "1.2.840.113549.1.5.1" | "1.2.840.113549.1.5.4" => {
                return Err(invalid(
                    "the key is encrypted with a PBES1 scheme based on MD2, which certdeck does not read; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
                ))
            }
            "1.2.840.113549.1.12.1.1" | "1.2.840.113549.1.12.1.2" => {
                return Err(invalid(
                    "the key is encrypted with RC4 (PKCS#12 PBE), which certdeck does not read; re-encrypt it with `openssl pkcs8 -topk8 -v2 aes-256-cbc`",
                ))
            }
            other => {
                return Err(invalid(format!(
                    "the key's encryption scheme {other} is not supported (PBES2, PBES1 and the PKCS#12 PBE schemes are)"
                )))
            }
        };
        Ok(Decrypted {
            der,
            weak: weak(name),
        })
    };
    Some(run())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evp_bytes_to_key_matches_openssl() {
        // `openssl enc -aes-128-cbc -k secret -S 0102030405060708 -P -md md5 -nosalt`-style vector:
        // key = MD5(pass || salt).
        let key = bytes_to_key_md5(b"secret", &[1, 2, 3, 4, 5, 6, 7, 8], 16);
        let mut h = md5::Md5::new();
        h.update(b"secret");
        h.update([1, 2, 3, 4, 5, 6, 7, 8]);
        assert_eq!(&key[..], &h.finalize()[..]);
        // Longer keys chain the rounds.
        assert_eq!(bytes_to_key_md5(b"p", b"saltsalt", 32).len(), 32);
    }

    #[test]
    fn rule_u5_hostile_pbe_parameters_are_refused_before_any_work() {
        // SEQUENCE { OCTET STRING(8), INTEGER 0x7fffffff }
        let mut p = vec![0x30, 0x10, 0x04, 0x08];
        p.extend([0u8; 8]);
        p.extend([0x02, 0x04, 0x7f, 0xff, 0xff, 0xff]);
        let e = decrypt_pkcs8_legacy("1.2.840.113549.1.12.1.3", &p, &[0; 16], b"pw")
            .unwrap()
            .err()
            .unwrap();
        assert!(e.to_string().contains("iteration count"), "{e}");
        assert!(decrypt_pkcs8_legacy(PBES2, &p, &[], b"pw").is_none());
        assert!(encrypted_info(&[0x30, 0x02, 0x05, 0x00]).is_err());
    }
}
