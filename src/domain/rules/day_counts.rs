//! T-3 at every rule that counts days: the exact time left against N × 24 h, at N days exactly
//! and one second either side.
use crate::domain::model::{CertType, Certificate, Standard, Status};
use crate::domain::time::Timestamp;
use chrono::{Duration, TimeZone, Utc};

fn now() -> Timestamp {
    Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
}

/// An issued DV certificate with exactly `left` to go.
fn cert(left: Duration) -> Certificate {
    crate::domain::rules::revoke::tests::issued(
        "DNSPod",
        Standard::International,
        CertType::Dv,
        now() - Duration::days(100),
        now() + left,
    )
}

fn around(days: i64) -> [(Duration, &'static str); 3] {
    [
        (
            Duration::days(days) - Duration::seconds(1),
            "N days less a second",
        ),
        (Duration::days(days), "N days exactly"),
        (
            Duration::days(days) + Duration::seconds(1),
            "N days and a second",
        ),
    ]
}

#[test]
fn rule_t3_more_than_and_or_less_compare_the_exact_time_left() {
    use crate::domain::time::{more_than_days_left, within_days};
    for (left, what) in around(30) {
        let more = left > Duration::days(30);
        assert_eq!(more_than_days_left(now() + left, now(), 30), more, "{what}");
        assert_eq!(within_days(now() + left, now(), 30), !more, "{what}");
    }
    // 30 days and 23 hours shows as "30d" (rounded down) but is more than 30 days.
    let shown = crate::domain::time::days_left(now() + Duration::hours(30 * 24 + 23), now());
    assert_eq!(shown, 30);
    assert!(more_than_days_left(
        now() + Duration::hours(30 * 24 + 23),
        now(),
        30
    ));
}

#[test]
fn rule_t3_ig1_ignoring_needs_30_days_or_less_exactly() {
    for (left, what) in around(30) {
        let ok = crate::domain::rules::ignore::set_ignored(&cert(left), true, now()).is_ok();
        assert_eq!(ok, left <= Duration::days(30), "IG-1 at {what}");
    }
}

#[test]
fn rule_t3_ri1_reissuing_needs_more_than_30_days_exactly() {
    for (left, what) in around(30) {
        let r = crate::domain::rules::reissue::check_reissuable(&cert(left), &[], &[], now());
        assert_eq!(
            r.is_ok(),
            left > Duration::days(30),
            "RI-1 at {what}: {r:?}"
        );
    }
}

#[test]
fn rule_t3_rv3_a_certificate_awaiting_renewal_is_not_revoked_within_30_days_exactly() {
    for (left, what) in around(30) {
        let mut c = cert(left);
        c.status = Status::ToBeRenewed;
        let r = crate::domain::rules::revoke::check_revocable(&c, now());
        let refused = r.as_ref().err().is_some_and(|e| e.rule == "RV-3");
        assert_eq!(refused, left <= Duration::days(30), "RV-3 at {what}: {r:?}");
    }
}

#[test]
fn rule_t3_h4_the_replacement_days_must_be_fewer_than_the_exact_time_left() {
    use crate::domain::rules::hosting::{plan, Association, HostingRequest};
    for (left, what) in around(10) {
        let req = HostingRequest {
            old_cert: "orig0001".into(),
            association: Association::Renewal,
            resources: vec![],
            days_before: 10,
            confirm_partial: false,
            notify: true,
            group: None,
        };
        let r = plan(&req, &cert(left), None, &["r".into()], "h".into(), now());
        assert_eq!(
            r.is_ok(),
            left > Duration::days(10),
            "H-4 at {what}: {:?}",
            r.err()
        );
    }
}
