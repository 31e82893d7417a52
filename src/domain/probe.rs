//! What a probe's served chain says (DS-5): each certificate's facts, and the earliest expiry in
//! the chain (the one that breaks clients first, an intermediate as much as the leaf). Pure.
use crate::domain::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    pub subject: String,
    pub issuer: String,
    pub not_after: Timestamp,
    pub fingerprint_sha256: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ChainSummary {
    pub chain: Vec<Served>,
    pub earliest_expiry: Option<Timestamp>,
}

/// The served chain (DER, leaf first) read; a certificate that does not parse is skipped (the
/// handshake already proved the leaf).
pub fn summarize(chain: &[Vec<u8>]) -> ChainSummary {
    let chain: Vec<Served> = chain
        .iter()
        .filter_map(|d| crate::domain::cert::parse_certificate(d).ok())
        .map(|c| Served {
            subject: c.facts.subject,
            issuer: c.facts.issuer,
            not_after: c.facts.not_after,
            fingerprint_sha256: c.facts.fingerprint_sha256,
        })
        .collect();
    let earliest_expiry = chain.iter().map(|c| c.not_after).min();
    ChainSummary {
        chain,
        earliest_expiry,
    }
}

/// DS-5: drift is a served leaf that differs from the certificate the site's file holds; with
/// either unknown there is none to say.
pub fn is_drift(configured_fingerprint: Option<&str>, served_fingerprint: Option<&str>) -> bool {
    matches!((configured_fingerprint, served_fingerprint), (Some(c), Some(s)) if c != s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::pki::{Authority, KeyKind};

    #[test]
    fn rule_ds5_the_earliest_expiry_is_the_intermediates_when_it_ends_first() {
        let now = chrono::Utc::now();
        let d = chrono::Duration::days;
        let root = Authority::root("r", "o", KeyKind::P256, now - d(10), now + d(900));
        let inter = root.intermediate("i", "o", now - d(10), now + d(20));
        let leaf = inter.issue(&["a.test"], KeyKind::P256, now - d(1), now + d(60));
        let s = summarize(&[leaf.der.clone(), inter.der.clone()]);
        assert_eq!(s.chain.len(), 2);
        assert_eq!(s.earliest_expiry, Some(s.chain[1].not_after));
        assert!(s.chain[1].not_after < s.chain[0].not_after);
        assert_eq!(summarize(&[b"junk".to_vec()]), ChainSummary::default());
    }

    #[test]
    fn rule_ds5_drift_needs_both_fingerprints_and_a_difference() {
        assert!(is_drift(Some("aa"), Some("bb")));
        assert!(!is_drift(Some("aa"), Some("aa")));
        assert!(!is_drift(None, Some("bb")));
        assert!(!is_drift(Some("aa"), None));
    }
}
