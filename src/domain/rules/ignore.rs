//! SPEC §9, ignoring notifications (IG-1, IG-2).
use crate::domain::model::{Certificate, Status, TimelineEvent};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::Timestamp;

/// IG-1: only certificates that expire soon (30 days or less) can be ignored.
pub const IGNORE_WITHIN_DAYS: i64 = 30;

/// Ignores (IG-1) or un-ignores a certificate; un-ignoring is always allowed.
pub fn set_ignored(
    cert: &Certificate,
    on: bool,
    now: Timestamp,
) -> Result<(Certificate, TimelineEvent), Refusal> {
    if on {
        let days = cert.days_left(now);
        // T-3: "30 days or less" is the exact time left against 30 × 24 h.
        let soon = cert
            .not_after()
            .is_some_and(|t| crate::domain::time::within_days(t, now, IGNORE_WITHIN_DAYS))
            || cert.status_at(now) == Status::Expired;
        if !soon {
            return Err(Refusal::new(
                "IG-1",
                Field::Id,
                format!(
                    "cannot ignore {}: only certificates that expire within {IGNORE_WITHIN_DAYS} days can be ignored ({})",
                    cert.id,
                    days.map(|d| format!("{d} days left")).unwrap_or_else(|| "no expiry yet".into())
                ),
            ));
        }
    }
    let mut updated = cert.clone();
    updated.ignored = on;
    let message = if on {
        "ignored: no expiry messages until un-ignored (IG-2)".to_string()
    } else {
        "no longer ignored: expiry messages resume".to_string()
    };
    Ok((
        updated,
        TimelineEvent {
            at: now,
            kind: "ignore".into(),
            message,
        },
    ))
}

/// IG-2: whether a certificate's timeline already holds its expiry (raised once, whatever is
/// switched afterwards).
pub fn expiry_raised(timeline: &[crate::domain::model::TimelineEvent]) -> bool {
    timeline.iter().any(|e| e.kind == "expired")
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    fn cert(days: i64) -> Certificate {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap();
        let mut c = crate::domain::rules::apply::tests_support::blank_order_cert();
        c.status = Status::Issued;
        c.x509 = Some(crate::domain::model::X509Facts {
            version: 3,
            subject: "CN=a".into(),
            subject_cn: None,
            subject_org: None,
            sans: vec![],
            issuer: "CN=ca".into(),
            issuer_cn: None,
            issuer_org: None,
            serial: "01".into(),
            not_before: now - Duration::days(300),
            not_after: now + Duration::days(days),
            signature_algorithm: "x".into(),
            key_algorithm: crate::domain::model::KeyAlgorithm::Ecdsa,
            key_bits: 256,
            fingerprint_sha256: "00".into(),
            is_ca: false,
            key_usage: vec![],
            extended_key_usage: vec![],
            policies: vec![],
        });
        c
    }

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap()
    }

    #[test]
    fn rule_ig1_thirty_days_exactly_can_be_ignored_thirty_one_cannot() {
        let (ignored, event) = set_ignored(&cert(30), true, now()).unwrap();
        assert!(ignored.ignored);
        assert!(event.message.contains("IG-2"));
        let e = set_ignored(&cert(31), true, now()).unwrap_err();
        assert_eq!(e.rule, "IG-1");
        assert!(e.message.contains("31 days left"));
        assert!(
            set_ignored(&cert(-3), true, now()).is_ok(),
            "expired certificates can be ignored"
        );
    }

    #[test]
    fn rule_ig1_un_ignoring_is_always_allowed() {
        let mut c = cert(200);
        c.ignored = true;
        assert!(!set_ignored(&c, false, now()).unwrap().0.ignored);
    }
}
