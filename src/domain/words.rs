//! Words for people: counts with the right plural ("1 try", "3 tries").

/// `n` and the noun that goes with it: `one` for exactly one, `many` otherwise.
pub fn count(n: impl Into<u64>, one: &str, many: &str) -> String {
    let n = n.into();
    format!("{n} {}", if n == 1 { one } else { many })
}

/// The usual English plural of a regular noun: `count_of(3, "day")` is "3 days".
pub fn count_of(n: impl Into<u64>, noun: &str) -> String {
    let many = if let Some(stem) = noun
        .strip_suffix('y')
        .filter(|s| !s.ends_with(['a', 'e', 'i', 'o', 'u']))
    {
        format!("{stem}ies")
    } else {
        format!("{noun}s")
    };
    count(n, noun, &many)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_take_the_right_plural() {
        assert_eq!(count_of(1u64, "day"), "1 day");
        assert_eq!(count_of(0u64, "day"), "0 days");
        assert_eq!(count_of(2u64, "entry"), "2 entries");
        assert_eq!(count_of(1u64, "try"), "1 try");
        assert_eq!(count_of(3u64, "try"), "3 tries");
        assert_eq!(count(2u64, "person", "people"), "2 people");
    }
}
