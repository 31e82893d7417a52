//! Reading DER one element at a time, for the few structures certdeck walks by hand (a PKCS#7
//! bundle's certificates, an encrypted key's scheme): bounded, never panicking.

/// One DER element: its tag, its contents and what follows it; `None` when `b` does not start
/// with a whole element (lengths up to 4 bytes).
pub fn tlv(b: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = b.split_first()?;
    let (&first, rest) = rest.split_first()?;
    let (len, rest) = if first < 0x80 {
        (first as usize, rest)
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n].iter().fold(0usize, |a, b| (a << 8) | *b as usize);
        (len, &rest[n..])
    };
    if rest.len() < len {
        return None;
    }
    Some((tag, &rest[..len], &rest[len..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_read_whole_or_not_at_all() {
        assert_eq!(
            tlv(&[0x04, 0x02, 1, 2, 9]),
            Some((0x04, &[1u8, 2][..], &[9u8][..]))
        );
        assert_eq!(
            tlv(&[0x30, 0x81, 0x01, 7]),
            Some((0x30, &[7u8][..], &[][..]))
        );
        assert_eq!(tlv(&[0x30, 0x03, 1]), None, "short");
        assert_eq!(tlv(&[0x30, 0x85, 0, 0, 0, 0, 1]), None, "5-byte length");
        assert_eq!(tlv(&[0x30]), None);
    }
}
