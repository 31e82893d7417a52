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

/// DS-5: an intermediate served within this many days of its end is warned about (the window
/// of the triage's "within 30 days").
pub const INTERMEDIATE_WARN_DAYS: i64 = 30;

/// DS-5: the first certificate after the leaf in a served chain that ends before the leaf and
/// within `INTERMEDIATE_WARN_DAYS` of `now` (or has ended): it breaks clients while the leaf
/// still looks fine.
pub fn expiring_intermediate(chain: &[Served], now: Timestamp) -> Option<&Served> {
    let leaf = chain.first()?;
    chain[1..].iter().find(|c| {
        c.not_after < leaf.not_after
            && c.not_after <= now + chrono::Duration::days(INTERMEDIATE_WARN_DAYS)
    })
}

/// DS-5: drift is a served leaf that differs from the certificate the site's file holds; with
/// either unknown there is none to say.
pub fn is_drift(configured_fingerprint: Option<&str>, served_fingerprint: Option<&str>) -> bool {
    matches!((configured_fingerprint, served_fingerprint), (Some(c), Some(s)) if c != s)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::pki::{Authority, KeyKind};

    #[test]
    fn rule_ds5_an_intermediate_ending_within_30_days_before_the_leaf_is_warned_about() {
        let now = chrono::Utc::now();
        let d = chrono::Duration::days;
        let served = |leaf_days: i64, inter_days: i64| {
            vec![
                Served {
                    subject: "CN=leaf".into(),
                    issuer: "CN=inter".into(),
                    not_after: now + d(leaf_days),
                    fingerprint_sha256: "aa".into(),
                },
                Served {
                    subject: "CN=inter".into(),
                    issuer: "CN=root".into(),
                    not_after: now + d(inter_days),
                    fingerprint_sha256: "bb".into(),
                },
            ]
        };
        // 30 days exactly: warned; 31: not yet.
        assert_eq!(
            expiring_intermediate(&served(60, 30), now).map(|c| c.subject.as_str()),
            Some("CN=inter")
        );
        assert!(expiring_intermediate(&served(60, 31), now).is_none());
        // Ending after the leaf: the leaf's own expiry is what matters.
        assert!(expiring_intermediate(&served(10, 20), now).is_none());
        // Already ended.
        assert!(expiring_intermediate(&served(60, -1), now).is_some());
        assert!(expiring_intermediate(&served(60, 5)[..1], now).is_none());
        assert!(expiring_intermediate(&[], now).is_none());
    }

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
