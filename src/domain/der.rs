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

/// An object identifier's dotted form from its encoded contents ("1.2.840.10045.2.1"); `None`
/// when they are empty, cut short, or hold an arc past 64 bits (the caller falls back to the
/// parser's own, slower, formatting).
pub fn oid_dotted(content: &[u8]) -> Option<String> {
    use std::fmt::Write;
    if content.last()? & 0x80 != 0 {
        return None;
    }
    let mut out = String::with_capacity(content.len() * 3);
    let mut arc: u64 = 0;
    let mut first = true;
    for &b in content {
        if arc > u64::MAX >> 7 {
            return None;
        }
        arc = (arc << 7) | u64::from(b & 0x7f);
        if b & 0x80 != 0 {
            continue;
        }
        if first {
            // The first subidentifier holds two arcs: 40 × X + Y, X at most 2.
            let x = (arc / 40).min(2);
            let _ = write!(out, "{x}.{}", arc - 40 * x);
            first = false;
        } else {
            let _ = write!(out, ".{arc}");
        }
        arc = 0;
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oids_read_as_x690_says_at_every_arc_boundary() {
        let encoded: [(&[u8], &str); 7] = [
            (
                &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01],
                "1.2.840.10045.2.1",
            ),
            (&[0x55, 0x1d, 0x11], "2.5.29.17"),
            (&[0x09, 0x92, 0x26], "0.9.2342"),
            (&[0x4f, 0x7f, 0x81, 0x00], "1.39.127.128"),
            (&[0x88, 0x37, 0x03], "2.999.3"),
            (
                &[
                    0x81, 0x34, 0x81, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f,
                ],
                "2.100.18446744073709551615",
            ),
            (
                &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, 0x02],
                "1.3.6.1.5.5.7.48.2",
            ),
        ];
        for (bytes, dotted) in encoded {
            let oid = x509_parser::der_parser::oid::Oid::new(std::borrow::Cow::Borrowed(bytes));
            assert_eq!(oid_dotted(bytes).as_deref(), Some(dotted));
            // The parser reads a first subidentifier of more than one byte as if it were one
            // ("2.999" as "3.16.55"); X.690 8.19.4 reads it as above.
            if bytes[0] & 0x80 == 0 {
                assert_eq!(oid.to_id_string(), dotted);
            }
        }
        assert_eq!(oid_dotted(&[]), None);
        assert_eq!(oid_dotted(&[0x2a, 0x86]), None, "cut short");
        assert_eq!(oid_dotted(&[0xff; 11]), None, "past 64 bits");
    }

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
