//! Short record ids: 8 characters of base62, e.g. `e79vbLDZ`.

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// Builds an id from 8 random bytes supplied by the caller (the domain does no I/O).
pub fn short_id(random: [u8; 8]) -> String {
    let mut n = u64::from_le_bytes(random);
    let mut out = String::with_capacity(8);
    for _ in 0..8 {
        out.push(ALPHABET[(n % 62) as usize] as char);
        n /= 62;
    }
    out
}

pub fn is_short_id(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_eight_base62_chars() {
        for seed in [[0u8; 8], [255u8; 8], [1, 2, 3, 4, 5, 6, 7, 8]] {
            let id = short_id(seed);
            assert!(is_short_id(&id), "{id}");
        }
        assert_ne!(short_id([1; 8]), short_id([2; 8]));
        assert!(!is_short_id("abc"));
        assert!(!is_short_id("abcd-fgh"));
    }
}
