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

/// How many ids there are: 62⁸.
pub const ID_SPACE: u64 = 62u64.pow(8);

/// The id numbered `n` (below `ID_SPACE`), most significant digit first: ids of consecutive
/// numbers sort one after the other, so a batch given a run of them (a scan's new records)
/// lands in one place of every table keyed by id instead of all over it.
pub fn id_numbered(n: u64) -> String {
    let mut n = n % ID_SPACE;
    let mut out = [0u8; 8];
    for slot in out.iter_mut().rev() {
        *slot = ALPHABET[(n % 62) as usize];
        n /= 62;
    }
    out.iter().map(|&b| b as char).collect()
}

/// The number of an id (`id_numbered`'s inverse); `None` for what is not an id.
pub fn id_number(id: &str) -> Option<u64> {
    if !is_short_id(id) {
        return None;
    }
    id.bytes().try_fold(0u64, |n, b| {
        let digit = ALPHABET.iter().position(|&a| a == b)? as u64;
        Some(n * 62 + digit)
    })
}

/// Whether number `n` is one of the `len` numbers from `first` on (wrapping at the end of the
/// id space).
pub fn in_run(first: u64, len: u64, n: u64) -> bool {
    (n % ID_SPACE + ID_SPACE - first % ID_SPACE) % ID_SPACE < len
}

pub fn is_short_id(s: &str) -> bool {
    s.len() == 8 && s.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_of_numbers_wraps_at_the_end_of_the_id_space() {
        assert!(in_run(10, 5, 10) && in_run(10, 5, 14));
        assert!(!in_run(10, 5, 9) && !in_run(10, 5, 15));
        let first = ID_SPACE - 2;
        for inside in [ID_SPACE - 2, ID_SPACE - 1, 0, 2] {
            assert!(in_run(first, 5, inside), "{inside}");
        }
        for outside in [ID_SPACE - 3, 3, ID_SPACE / 2] {
            assert!(!in_run(first, 5, outside), "{outside}");
        }
        assert!(!in_run(7, 0, 7), "an empty run holds nothing");
    }

    #[test]
    fn an_id_s_number_is_the_one_it_was_made_from() {
        for n in [0, 1, 61, 62, 3843, 3844, ID_SPACE / 2, ID_SPACE - 1] {
            assert_eq!(id_number(&id_numbered(n)), Some(n), "{n}");
        }
        for not_an_id in ["", "abc", "abcd-fgh", "abcdefghi", "abcdéfg"] {
            assert_eq!(id_number(not_an_id), None, "{not_an_id}");
        }
    }

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

    #[test]
    fn numbered_ids_sort_as_their_numbers_do_at_every_carry() {
        let edges = [
            0,
            1,
            61,
            62,
            63,
            3843,
            3844,
            ID_SPACE / 2,
            ID_SPACE - 2,
            ID_SPACE - 1,
        ];
        for pair in edges.windows(2) {
            let (a, b) = (id_numbered(pair[0]), id_numbered(pair[1]));
            assert!(is_short_id(&a) && is_short_id(&b));
            assert!(a < b, "{a} < {b}");
        }
        assert_eq!(id_numbered(0), "00000000");
        assert_eq!(id_numbered(ID_SPACE - 1), "zzzzzzzz");
        assert_eq!(id_numbered(ID_SPACE), "00000000", "wraps within the space");
    }
}
