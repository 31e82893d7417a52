//! SPEC §5, reviewer reminders (RM-1..RM-3): which brand × type accepts them, and from when.
use crate::domain::model::{CertType, Certificate, Standard, Status, TimelineEvent};
use crate::domain::order::OrderInfo;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::schedule::Fired;
use crate::domain::time::Timestamp;
use chrono::Duration;

/// One reminder a day at most: a nudge, not a flood.
pub const REMINDER_INTERVAL_HOURS: i64 = 24;

/// RM-1: the brand × type pairs whose reviewers take reminders.
pub fn supported(brand: &str, cert_type: CertType, standard: Standard) -> bool {
    use CertType::*;
    if standard == Standard::Sm2 {
        return false; // DNSPod SM2: none (just wait).
    }
    matches!(
        (brand, cert_type),
        ("SecureSite", Ov | OvPro | FreeDv | Ev | EvPro)
            | ("GeoTrust", Ov | Ev)
            | ("TrustAsia", Ov | Dv | Ev)
            | ("GlobalSign", Ov | Ev)
    )
}

/// RM-2: 24 h after a DV order's submission, 72 h after an OV order's letter, 96 h after an
/// EV order's letter. `None` while an OV/EV letter is missing.
pub fn available_from(cert_type: CertType, order: &OrderInfo) -> Option<Timestamp> {
    use CertType::*;
    match cert_type {
        Dv | FreeDv => Some(order.submitted_at + Duration::hours(24)),
        Ov | OvPro => order.letter_uploaded_at.map(|t| t + Duration::hours(72)),
        Ev | EvPro => order.letter_uploaded_at.map(|t| t + Duration::hours(96)),
    }
}

/// Sends a reminder if RM-1 and RM-2 allow it; otherwise says exactly why, and when it will be possible.
pub fn remind(cert: &Certificate, order: &OrderInfo, now: Timestamp) -> Result<Fired, Refusal> {
    let refuse = |rule: &str, m: String| Err(Refusal::new(rule, Field::Id, m));
    let ty = cert.cert_type.unwrap_or(CertType::Dv);
    if !supported(&cert.brand, ty, cert.standard) {
        let what = if cert.standard == Standard::Sm2 {
            "SM2".to_string()
        } else {
            ty.as_str().to_uppercase()
        };
        return refuse(
            "RM-1",
            format!(
                "{} {what} reviewers take no reminders; the review takes its time (RM-3)",
                cert.brand
            ),
        );
    }
    if !matches!(cert.status, Status::Validating | Status::AwaitingLetter) {
        return refuse(
            "RM-2",
            format!(
                "{} is {}: there is no review to hurry",
                cert.id,
                cert.status.as_str()
            ),
        );
    }
    let fmt = |t: Timestamp| t.format("%Y-%m-%d %H:%M UTC").to_string();
    let Some(from) = available_from(ty, order) else {
        return refuse("RM-2", "a reminder becomes possible 72 h (OV) or 96 h (EV) after the confirmation letter is uploaded; upload it first".into());
    };
    if now < from {
        let after = match ty {
            CertType::Dv | CertType::FreeDv => "24 h after submission",
            CertType::Ov | CertType::OvPro => "72 h after the letter",
            CertType::Ev | CertType::EvPro => "96 h after the letter",
        };
        return refuse(
            "RM-2",
            format!("a reminder is possible from {} ({after})", fmt(from)),
        );
    }
    if let Some(last) = order.last_reminder_at {
        let next = last + Duration::hours(REMINDER_INTERVAL_HOURS);
        if now < next {
            return refuse(
                "RM-2",
                format!(
                    "a reminder was sent at {}; the next is possible from {}",
                    fmt(last),
                    fmt(next)
                ),
            );
        }
    }
    let mut o = order.clone();
    o.last_reminder_at = Some(now);
    Ok(Fired {
        event: TimelineEvent {
            at: now,
            kind: "reminder".into(),
            message: format!("reminder sent to the {} reviewer", cert.brand),
        },
        updated_order: Some(o),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Money;
    use crate::domain::order::ValidationMethod;
    use chrono::{TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    fn order(submitted_hours_ago: i64, letter_hours_ago: Option<i64>) -> OrderInfo {
        OrderInfo {
            product: "x".into(),
            years: 1,
            validation: ValidationMethod::Dns,
            challenges: vec![],
            price: Money(1),
            submitted_at: now() - Duration::hours(submitted_hours_ago),
            validated_at: None,
            review_due: None,
            deadline: None,
            valid_until: None,
            letter_uploaded_at: letter_hours_ago.map(|h| now() - Duration::hours(h)),
            last_reminder_at: None,
        }
    }

    fn cert(brand: &str, ty: CertType, standard: Standard) -> Certificate {
        let mut c = crate::domain::rules::apply::tests_support::blank_order_cert();
        c.brand = brand.into();
        c.cert_type = Some(ty);
        c.standard = standard;
        c
    }

    #[test]
    fn rule_rm1_the_brand_by_type_table() {
        use CertType::*;
        for (b, t) in [
            ("SecureSite", FreeDv),
            ("SecureSite", EvPro),
            ("GeoTrust", Ov),
            ("TrustAsia", Dv),
            ("GlobalSign", Ev),
        ] {
            assert!(supported(b, t, Standard::International), "{b} {t:?}");
        }
        for (b, t) in [
            ("WoTrus", Dv),
            ("WoTrus", Ov),
            ("GeoTrust", OvPro),
            ("GlobalSign", Dv),
            ("DNSPod", Dv),
        ] {
            assert!(!supported(b, t, Standard::International), "{b} {t:?}");
        }
        assert!(
            !supported("TrustAsia", Dv, Standard::Sm2),
            "DNSPod/SM2: none"
        );
        let e = remind(
            &cert("WoTrus", Dv, Standard::International),
            &order(48, None),
            now(),
        )
        .unwrap_err();
        assert_eq!(e.rule, "RM-1");
    }

    #[test]
    fn rule_rm2_dv_after_24_hours_exactly() {
        let c = cert("TrustAsia", CertType::Dv, Standard::International);
        let e = remind(&c, &order(23, None), now()).unwrap_err();
        assert_eq!(e.rule, "RM-2");
        assert!(e.message.contains("2026-11-27 13:00 UTC"), "{}", e.message);
        assert!(remind(&c, &order(24, None), now()).is_ok(), "24 h exactly");
    }

    #[test]
    fn rule_rm2_ov_72_and_ev_96_hours_after_the_letter() {
        let ov = cert("GeoTrust", CertType::Ov, Standard::International);
        assert!(remind(&ov, &order(200, None), now())
            .unwrap_err()
            .message
            .contains("upload it first"));
        assert!(remind(&ov, &order(200, Some(71)), now()).is_err());
        assert!(remind(&ov, &order(200, Some(72)), now()).is_ok());
        let ev = cert("GlobalSign", CertType::Ev, Standard::International);
        assert!(remind(&ev, &order(200, Some(95)), now()).is_err());
        assert!(remind(&ev, &order(200, Some(96)), now()).is_ok());
    }

    #[test]
    fn one_reminder_a_day() {
        let c = cert("TrustAsia", CertType::Dv, Standard::International);
        let fired = remind(&c, &order(30, None), now()).unwrap();
        let sent = fired.updated_order.unwrap();
        let e = remind(&c, &sent, now() + Duration::hours(23)).unwrap_err();
        assert!(e.message.contains("the next is possible from"));
        assert!(remind(&c, &sent, now() + Duration::hours(24)).is_ok());
    }
}
