//! SPEC §3, auto-renewal (AR-1..AR-8): who may switch it on, when the fee is taken, what a
//! successful or failed deduction does, and the validity of the renewed certificate.
use crate::domain::account::{LedgerEntry, LedgerKind, Money, CURRENCY};
use crate::domain::catalogue::{add_business_days, product};
use crate::domain::model::{Certificate, Source, Status, TimelineEvent};
use crate::domain::order::{OrderInfo, ValidationMethod, MANUAL_VALIDATION_DAYS};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::apply::in_managed_zone;
use crate::domain::schedule::Fired;
use crate::domain::time::Timestamp;
use chrono::Duration;

/// AR-2: auto-renewal can be switched on only while at least this much remains.
pub const SWITCH_ON_MIN_DAYS: i64 = 14;
/// AR-3: the fee is taken this long before expiry.
pub const FEE_DAYS_BEFORE_EXPIRY: i64 = 30;

/// AR-1: an issued, paid, 1-year certificate of an eligible product.
pub fn check_eligible(cert: &Certificate, order: Option<&OrderInfo>) -> Result<(), Refusal> {
    let refuse = |m: String| Err(Refusal::new("AR-1", Field::Id, m));
    if cert.source != Source::Issued {
        return refuse(format!(
            "{} was {}; only certificates ordered through certdeck renew automatically",
            cert.id,
            cert.source.as_str()
        ));
    }
    let Some(order) = order else {
        return refuse(format!(
            "{} has no order on record with a renewable product",
            cert.id
        ));
    };
    let eligible = product(&order.product).is_some_and(|p| p.auto_renewable());
    if !eligible {
        return refuse(format!(
            "{} is {}: only DNSPod DV (single or wildcard), TrustAsia DV wildcard and WoTrus DV wildcard renew automatically",
            cert.id, order.product
        ));
    }
    if order.years != 1 || order.price.0 <= 0 {
        return refuse(format!("{} is not a paid 1-year certificate", cert.id));
    }
    Ok(())
}

/// Switching auto-renewal on (AR-1, AR-2) or off. Returns the updated record and its event.
pub fn set_auto_renew(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    on: bool,
    now: Timestamp,
) -> Result<(Certificate, TimelineEvent), Refusal> {
    let mut updated = cert.clone();
    if on {
        check_eligible(cert, order)?;
        if cert.status_at(now) != Status::Issued {
            return Err(Refusal::new(
                "AR-1",
                Field::Id,
                format!(
                    "{} is {}, not issued",
                    cert.id,
                    cert.status_at(now).as_str()
                ),
            ));
        }
        let not_after = cert
            .not_after()
            .expect("issued certificates have a validity");
        if not_after - now < Duration::days(SWITCH_ON_MIN_DAYS) {
            return Err(Refusal::new(
                "AR-2",
                Field::Id,
                format!("cannot switch auto-renewal on: {} expires in less than {SWITCH_ON_MIN_DAYS} days", cert.id),
            ));
        }
    }
    updated.auto_renew = on;
    let message = if on {
        let fee_at = fee_due(cert).expect("issued");
        format!(
            "auto-renewal on; nothing is charged now, the fee is taken {} (AR-3)",
            if fee_at <= now {
                "at the next tick".to_string()
            } else {
                format!("on {}", fee_at.format("%Y-%m-%d"))
            }
        )
    } else {
        "auto-renewal off".to_string()
    };
    Ok((
        updated,
        TimelineEvent {
            at: now,
            kind: "auto_renew".into(),
            message,
        },
    ))
}

/// Renewing by hand: an issued certificate ordered through certdeck whose renewal is not under way.
pub fn check_manual_renewal(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    now: Timestamp,
) -> Result<(), Refusal> {
    let refuse = |m: String| Err(Refusal::new("RENEW", Field::Id, m));
    if cert.source != Source::Issued || order.and_then(|o| product(&o.product)).is_none() {
        return refuse(format!(
            "{} was not ordered through certdeck; order a new certificate instead",
            cert.id
        ));
    }
    match cert.status_at(now) {
        Status::Issued => Ok(()),
        Status::ToBeRenewed => refuse(format!("{} is already being renewed", cert.id)),
        other => refuse(format!(
            "{} is {}; only issued certificates can be renewed",
            cert.id,
            other.as_str()
        )),
    }
}

/// AR-4: the balance must cover the renewal fee (a manual renewal is refused otherwise).
pub fn check_fee_covered(fee: Money, balance: Money) -> Result<(), Refusal> {
    if balance < fee {
        return Err(Refusal::new(
            "AR-4",
            Field::Amount,
            format!("the balance {balance} does not cover the renewal fee {fee} {CURRENCY}; top up first"),
        ));
    }
    Ok(())
}

/// AR-3: when the renewal fee is due (30 days before expiry).
pub fn fee_due(cert: &Certificate) -> Option<Timestamp> {
    cert.not_after()
        .map(|t| t - Duration::days(FEE_DAYS_BEFORE_EXPIRY))
}

/// AR-5: a renewal runs from its issue time to the old not_after plus one year.
pub fn renewed_validity_end(old_not_after: Timestamp) -> Timestamp {
    crate::domain::order::plus_years(old_not_after, 1)
}

/// AR-4: the fee is not covered: auto-renewal is switched off and the user told to renew by hand.
pub fn fee_not_covered(cert: &Certificate, fee: Money, balance: Money, now: Timestamp) -> Fired {
    let mut updated = cert.clone();
    updated.auto_renew = false;
    Fired {
        event: TimelineEvent {
            at: now,
            kind: "auto_renew_terminated".into(),
            message: format!(
                "auto-renewal terminated: the balance {balance} {CURRENCY} does not cover the renewal fee {fee} {CURRENCY}; renew by hand (AR-4)"
            ),
        },
        updated: Some(updated),
        ..Default::default()
    }
}

/// A renewal order placed with the old certificate's fee (AR-3, AR-5, AR-6).
pub struct Renewal {
    pub fired: Fired,
    pub new_cert: Certificate,
    pub new_order: OrderInfo,
    pub new_event: TimelineEvent,
    pub payment: LedgerEntry,
}

impl Renewal {
    /// The whole renewal as one effect: the old record's change and the new order with it.
    pub fn into_fired(self) -> Fired {
        let mut fired = self.fired;
        fired.new_order = Some(Box::new(crate::domain::schedule::NewOrder {
            cert: self.new_cert,
            order: self.new_order,
            event: self.new_event,
            payment: Some(self.payment),
            key_pem: None,
            reissue: None,
        }));
        fired
    }
}

/// AR-3..AR-6: the fee is taken and a renewal order created in `validating`; the old certificate
/// becomes `to_be_renewed`. Managed zones validate at once (AR-6), others within 7 days.
pub fn renew(
    cert: &Certificate,
    order: &OrderInfo,
    fee: Money,
    new_id: String,
    tokens: &[String],
    zones: &[String],
    now: Timestamp,
) -> Renewal {
    let product = product(&order.product).expect("renewed certificates have a catalogue product");
    let auto = cert.domains.iter().all(|d| in_managed_zone(d, zones));
    let validation = if auto {
        ValidationMethod::DnsAuto
    } else {
        ValidationMethod::Dns
    };
    let challenges = cert
        .domains
        .iter()
        .zip(tokens)
        .map(|(d, t)| crate::domain::order::dns_challenge(&cert.brand, d, t))
        .collect();
    let new_order = OrderInfo {
        product: order.product.clone(),
        years: 1,
        validation,
        challenges,
        price: fee,
        submitted_at: now,
        validated_at: auto.then_some(now),
        review_due: auto.then(|| add_business_days(now, product.review_days)),
        deadline: (!auto).then(|| now + Duration::days(MANUAL_VALIDATION_DAYS)),
        valid_until: cert.not_after().map(renewed_validity_end),
        letter_uploaded_at: None,
        last_reminder_at: None,
    };
    let mut new_cert = cert.clone();
    new_cert.id = new_id.clone();
    new_cert.status = Status::Validating;
    new_cert.x509 = None;
    new_cert.chain = Vec::new();
    new_cert.chain_der = Vec::new();
    new_cert.chain_complete = false;
    new_cert.has_key = false;
    new_cert.enc_cert_pem = None;
    new_cert.ignored = false;
    new_cert.renewed_from = Some(cert.id.clone());
    new_cert.created_at = now;
    let mut old = cert.clone();
    // `to_be_renewed` is the last 30 days' status (AR-6): a renewal by hand earlier leaves
    // the certificate `issued` while its renewal is under way.
    if cert
        .not_after()
        .is_some_and(|end| crate::domain::time::within_days(end, now, 30))
    {
        old.status = Status::ToBeRenewed;
    }
    let how = if auto {
        "the DNS record was added in the managed zone (AR-6)".to_string()
    } else {
        format!(
            "add the DNS TXT record by {} or the renewal fails (AR-6)",
            (now + Duration::days(MANUAL_VALIDATION_DAYS)).format("%Y-%m-%d %H:%M UTC")
        )
    };
    Renewal {
        fired: Fired {
            event: TimelineEvent {
                at: now,
                kind: "renewal".into(),
                message: format!("renewal fee {fee} {CURRENCY} deducted; renewal order {new_id} placed; {how} (AR-3, AR-5)"),
            },
            updated: Some(old),
            ..Default::default()
        },
        new_event: TimelineEvent { at: now, kind: "ordered".into(), message: format!("renewal of {} ({}); {how}", cert.id, order.product) },
        payment: LedgerEntry { at: now, kind: LedgerKind::Deduction, amount: fee, cert_id: Some(new_id), note: format!("renewal of {}", cert.id) },
        new_cert,
        new_order,
    }
}

/// AR-6: a renewal order that failed (its domains not validated in time) gives its original
/// back: `issued` again (renewable by hand, revocable), the renewal fee `paid` refunded, and
/// the failure's event says so on both timelines. `fired` is the failure of `renewal`.
pub fn renewal_failed(
    fired: &mut Fired,
    renewal: &Certificate,
    original: Option<&Certificate>,
    paid: Money,
    now: Timestamp,
) {
    // The original is written with the event (its timeline says why), `issued` again, with
    // auto-renewal off: its fee is not taken again behind the user's back.
    if let Some(o) = original.filter(|o| matches!(o.status, Status::ToBeRenewed | Status::Issued)) {
        let mut back = o.clone();
        back.status = Status::Issued;
        back.auto_renew = false;
        fired.others.push(back);
    }
    if paid.0 > 0 {
        fired.refund = Some(LedgerEntry {
            at: now,
            kind: LedgerKind::Refund,
            amount: paid,
            cert_id: Some(renewal.id.clone()),
            note: format!("renewal {} failed (AR-6)", renewal.id),
        });
    }
    if let Some(o) = original {
        let refund = if paid.0 > 0 {
            format!("; the renewal fee {paid} {CURRENCY} is refunded")
        } else {
            String::new()
        };
        let auto = if o.auto_renew {
            "; auto-renewal is switched off"
        } else {
            ""
        };
        fired.event.message.push_str(&format!(
            "; the renewal of {} failed: it stays issued and can be renewed by hand{auto}{refund} (AR-6)",
            o.id
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{DomainKind, KeyAlgorithm, Standard, X509Facts};
    use chrono::{TimeZone, Utc};

    fn t(y: i32, m: u32, d: u32) -> Timestamp {
        Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
    }

    fn issued(not_after: Timestamp) -> (Certificate, OrderInfo) {
        let x509 = X509Facts {
            version: 3,
            subject: "CN=shop.example.com".into(),
            subject_cn: Some("shop.example.com".into()),
            subject_org: None,
            sans: vec!["shop.example.com".into()],
            issuer: "CN=sandbox".into(),
            issuer_cn: None,
            issuer_org: None,
            serial: "01".into(),
            not_before: not_after - Duration::days(365),
            not_after,
            signature_algorithm: "ecdsa-with-SHA256".into(),
            key_algorithm: KeyAlgorithm::Ecdsa,
            key_bits: 256,
            fingerprint_sha256: "00".repeat(32),
            is_ca: false,
            key_usage: vec![],
            extended_key_usage: vec![],
            policies: vec![],
        };
        let cert = Certificate {
            id: "oldOLD01".into(),
            name: "shop".into(),
            source: Source::Issued,
            status: Status::Issued,
            brand: "DNSPod".into(),
            cert_type: Some(crate::domain::model::CertType::Dv),
            standard: Standard::International,
            domain_kind: DomainKind::Single,
            domains: vec!["shop.example.com".into()],
            x509: Some(x509),
            chain: vec![],
            chain_der: vec![],
            chain_complete: true,
            enc_cert_pem: None,
            has_key: true,
            auto_renew: false,
            ignored: false,
            tags: Default::default(),
            project: None,
            renewed_from: None,
            reissued_from: None,
            created_at: not_after - Duration::days(365),
        };
        let order = OrderInfo {
            product: "dnspod-dv".into(),
            years: 1,
            validation: ValidationMethod::Dns,
            challenges: vec![],
            price: Money(19_900),
            submitted_at: not_after - Duration::days(366),
            validated_at: None,
            review_due: None,
            deadline: None,
            valid_until: None,
            letter_uploaded_at: None,
            last_reminder_at: None,
        };
        (cert, order)
    }

    #[test]
    fn rule_ar1_only_eligible_paid_one_year_products() {
        let (cert, order) = issued(t(2027, 6, 1));
        assert!(check_eligible(&cert, Some(&order)).is_ok());
        for product in ["trustasia-dv", "geotrust-ov", "securesite-free-dv"] {
            let o = OrderInfo {
                product: product.into(),
                ..order.clone()
            };
            assert_eq!(
                check_eligible(&cert, Some(&o)).unwrap_err().rule,
                "AR-1",
                "{product}"
            );
        }
        assert!(check_eligible(
            &cert,
            Some(&OrderInfo {
                years: 2,
                ..order.clone()
            })
        )
        .is_err());
        assert!(check_eligible(&cert, None).is_err());
        let uploaded = Certificate {
            source: Source::Uploaded,
            ..cert.clone()
        };
        assert!(check_eligible(&uploaded, Some(&order)).is_err());
    }

    #[test]
    fn rule_ar2_switch_on_needs_fourteen_days_and_fourteen_exactly_is_enough() {
        let now = t(2027, 1, 1);
        let (cert, order) = issued(now + Duration::days(14));
        let (on, _) = set_auto_renew(&cert, Some(&order), true, now).unwrap();
        assert!(on.auto_renew);
        let (short, _) = issued(now + Duration::days(14) - Duration::seconds(1));
        assert_eq!(
            set_auto_renew(&short, Some(&order), true, now)
                .unwrap_err()
                .rule,
            "AR-2"
        );
        let (off, _) = set_auto_renew(&short, Some(&order), false, now).unwrap();
        assert!(!off.auto_renew, "switching off is always allowed");
    }

    #[test]
    fn rule_ar3_switching_on_charges_nothing_and_names_when_the_fee_comes() {
        let now = t(2027, 1, 1);
        let (cert, order) = issued(now + Duration::days(60));
        let (_, event) = set_auto_renew(&cert, Some(&order), true, now).unwrap();
        assert!(
            event.message.contains("nothing is charged now")
                && event.message.contains("2027-01-31"),
            "{}",
            event.message
        );
        assert_eq!(fee_due(&cert), Some(now + Duration::days(30)));
        let (late, _) = issued(now + Duration::days(20));
        let (_, event) = set_auto_renew(&late, Some(&order), true, now).unwrap();
        assert!(
            event.message.contains("at the next tick"),
            "switched on at 20 days: charged on the next tick"
        );
    }

    #[test]
    fn rule_ar4_uncovered_fee_switches_off_with_a_message() {
        let (cert, _) = issued(t(2027, 6, 1));
        let on = Certificate {
            auto_renew: true,
            ..cert
        };
        let fired = fee_not_covered(&on, Money(19_900), Money(100), t(2027, 5, 2));
        assert!(!fired.updated.unwrap().auto_renew);
        assert!(fired.event.message.contains("renew by hand (AR-4)"));
    }

    /// `cert` renewed at `now` for the usual fee, as `newNEW01`.
    fn renewed(cert: &Certificate, order: &OrderInfo, now: Timestamp) -> Renewal {
        renew(
            cert,
            order,
            Money(19_900),
            "newNEW01".into(),
            &["tok".into()],
            &[],
            now,
        )
    }

    #[test]
    fn rule_ar5_validity_example_from_the_spec() {
        // Old expires 2021-11-01, renewed and issued 2021-10-01: 2021-10-01 .. 2022-11-01.
        let (cert, order) = issued(t(2021, 11, 1));
        let r = renewed(&cert, &order, t(2021, 10, 1));
        assert_eq!(r.new_order.not_after(t(2021, 10, 1)), t(2022, 11, 1));
        assert_eq!(r.new_cert.status, Status::Validating);
        assert_eq!(r.new_cert.renewed_from.as_deref(), Some("oldOLD01"));
        // 31 days left: not yet the last 30 days, so the original stays issued (AR-6).
        assert_eq!(r.fired.updated.unwrap().status, Status::Issued);
        assert_eq!(r.payment.amount, Money(19_900));
    }

    #[test]
    fn rule_ar6_to_be_renewed_only_within_the_last_30_days() {
        let end = t(2027, 6, 1);
        let (cert, order) = issued(end);
        let status_when = |now: Timestamp| {
            renew(
                &cert,
                &order,
                Money(19_900),
                "n".into(),
                &["tok".into()],
                &[],
                now,
            )
            .fired
            .updated
            .unwrap()
            .status
        };
        assert_eq!(status_when(end - Duration::days(30)), Status::ToBeRenewed);
        assert_eq!(
            status_when(end - Duration::days(30) - Duration::seconds(1)),
            Status::Issued
        );
        assert_eq!(status_when(end - Duration::days(40)), Status::Issued);
    }

    #[test]
    fn rule_ar6_a_failed_renewal_gives_the_original_back_with_its_fee() {
        let (mut original, order) = issued(t(2027, 6, 1));
        original.status = Status::ToBeRenewed;
        original.auto_renew = true;
        let r = renewed(&original, &order, t(2027, 5, 2));
        let mut failed = Fired {
            event: TimelineEvent {
                at: t(2027, 5, 9),
                kind: "failed".into(),
                message: "the domains were not validated".into(),
            },
            ..Default::default()
        };
        renewal_failed(
            &mut failed,
            &r.new_cert,
            Some(&original),
            Money(19_900),
            t(2027, 5, 9),
        );
        let back = &failed.others[0];
        assert_eq!((back.status, back.auto_renew), (Status::Issued, false));
        let refund = failed.refund.unwrap();
        assert_eq!(
            (refund.kind, refund.amount),
            (LedgerKind::Refund, Money(19_900))
        );
        assert!(
            failed.event.message.contains("refunded"),
            "{}",
            failed.event.message
        );
        // A free one (nothing paid) refunds nothing.
        let mut free = Fired::default();
        renewal_failed(
            &mut free,
            &r.new_cert,
            Some(&original),
            Money(0),
            t(2027, 5, 9),
        );
        assert!(free.refund.is_none());
    }

    #[test]
    fn rule_ar6_managed_zone_validates_at_once_else_seven_days() {
        let now = t(2027, 5, 3);
        let (cert, order) = issued(t(2027, 6, 1));
        let r = renew(
            &cert,
            &order,
            Money(19_900),
            "n".into(),
            &["tok".into()],
            &["example.com".into()],
            now,
        );
        assert_eq!(r.new_order.validation, ValidationMethod::DnsAuto);
        assert!(r.new_order.review_due.is_some() && r.new_order.deadline.is_none());
        let r = renew(
            &cert,
            &order,
            Money(19_900),
            "n".into(),
            &["tok".into()],
            &[],
            now,
        );
        assert_eq!(r.new_order.deadline, Some(now + Duration::days(7)));
        assert!(r.fired.event.message.contains("(AR-6)"));
    }
}
