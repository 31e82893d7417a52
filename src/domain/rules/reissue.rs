//! SPEC §8, reissue (RI-1..RI-7): which certificates may be reissued, whether the domains are
//! validated again, and the reissue order. Pure: the engine generates keys and reads CSRs.
use crate::domain::catalogue::{add_business_days, product};
use crate::domain::model::{CertSummary, CertType, Certificate, Source, Status, TimelineEvent};
use crate::domain::order::{
    dns_challenge, Challenge, OrderInfo, ValidationMethod, MANUAL_VALIDATION_DAYS,
};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::reissue::{CsrChoice, ReissueRequest};
use crate::domain::rules::apply::in_managed_zone;
use crate::domain::schedule::{Fired, NewOrder};
use crate::domain::time::{days_left, Timestamp};
use chrono::Duration;

/// RI-1: more than this many days must be left.
pub const MIN_DAYS_LEFT: i64 = 30;
/// RI-7: a reissue this soon after the original's issue is not validated again.
pub const FRESH_DAYS: i64 = 3;
/// RI-7: paid DV is not validated again within this many months of the last validation.
pub const PAID_DV_REVALIDATION_MONTHS: u32 = 13;

fn refuse(rule: &str, message: String) -> Refusal {
    Refusal::new(rule, Field::Id, message)
}

/// The registrable domain (eTLD+1, by the Public Suffix List) a certificate name falls under.
pub fn registrable_domain(name: &str) -> String {
    let host = name
        .trim_start_matches("*.")
        .trim_end_matches('.')
        .to_ascii_lowercase();
    psl2::lookup(&host)
        .and_then(|d| d.registrable_domain().map(str::to_string))
        .unwrap_or(host)
}

/// RI-1..RI-4: whether `cert` may be reissued now. `reissues` are its earlier reissues, and
/// `reissuing` every record with a reissue open now.
pub fn check_reissuable(
    cert: &Certificate,
    reissues: &[Certificate],
    reissuing: &[CertSummary],
    now: Timestamp,
) -> Result<(), Refusal> {
    let id = &cert.id;
    if cert.source != Source::Issued {
        return Err(refuse(
            "RI-1",
            format!(
                "cannot reissue {id}: only certificates issued through certdeck can be reissued"
            ),
        ));
    }
    if let Some(original) = &cert.reissued_from {
        return Err(refuse(
            "RI-4",
            format!("{id} is itself a reissue of {original}: reissue {original} instead"),
        ));
    }
    let status = cert.status_at(now);
    if status == Status::Reissuing {
        return Err(refuse(
            "RI-4",
            format!("cannot reissue {id}: its reissue is still open"),
        ));
    }
    let left = cert.not_after().map(|t| days_left(t, now));
    // T-3: "more than 30 days left" is the exact time left against 30 × 24 h.
    let enough = cert
        .not_after()
        .is_some_and(|t| crate::domain::time::more_than_days_left(t, now, MIN_DAYS_LEFT));
    if status != Status::Issued || !enough {
        let why = match left {
            Some(d) if status == Status::Issued => format!("{d} days left"),
            _ => status.as_str().to_string(),
        };
        return Err(refuse(
            "RI-1",
            format!("cannot reissue {id}: only an issued certificate with more than {MIN_DAYS_LEFT} days left can be reissued ({why})"),
        ));
    }
    let used = reissues
        .iter()
        .filter(|r| !matches!(r.status, Status::Failed | Status::Cancelled))
        .count();
    if cert.cert_type == Some(CertType::FreeDv) && used >= 1 {
        return Err(refuse(
            "RI-2",
            format!("cannot reissue {id}: a free DV certificate can be reissued once, and it was"),
        ));
    }
    let mine: Vec<String> = cert.domains.iter().map(|d| registrable_domain(d)).collect();
    if let Some(other) = reissuing.iter().find(|o| {
        o.id != cert.id
            && o.domains
                .iter()
                .any(|d| mine.contains(&registrable_domain(d)))
    }) {
        let shared = other
            .domains
            .iter()
            .map(|d| registrable_domain(d))
            .find(|d| mine.contains(d))
            .unwrap_or_default();
        return Err(refuse(
            "RI-3",
            format!("cannot reissue {id}: {} ({}) under {shared} is being reissued; one reissue per registrable domain at a time", other.id, other.name),
        ));
    }
    Ok(())
}

/// RI-7: whether the reissue's domains must be validated again, and why.
pub fn needs_validation(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    csr_unchanged: bool,
    now: Timestamp,
) -> (bool, String) {
    if cert.cert_type == Some(CertType::FreeDv) {
        return (
            true,
            "required: a free DV certificate is validated again the same way as the first time (RI-7)"
                .into(),
        );
    }
    let issued = cert.x509.as_ref().map(|x| x.not_before);
    if issued.is_some_and(|t| now - t <= Duration::days(FRESH_DAYS)) {
        return (
            false,
            format!("skipped: submitted within {FRESH_DAYS} days of the original issue (RI-7)"),
        );
    }
    if csr_unchanged {
        return (false, "skipped: the CSR is unchanged (RI-7)".into());
    }
    if cert.cert_type == Some(CertType::Dv) {
        let last = order.and_then(|o| o.validated_at);
        if let Some(t) = last {
            let until = t
                .checked_add_months(chrono::Months::new(PAID_DV_REVALIDATION_MONTHS))
                .unwrap_or(t);
            if now <= until {
                return (false, format!("skipped: paid DV validated on {} (within {PAID_DV_REVALIDATION_MONTHS} months, RI-7)", t.format("%Y-%m-%d")));
            }
        }
    }
    (
        true,
        "required: the CSR differs from the original's (RI-7)".into(),
    )
}

/// RI-7: a paid DV reissue completes once its domains are validated, with no review day of its
/// own; other reissues (and every first order) take the product's review time (RM-3).
pub fn review_days_of(p: &crate::domain::catalogue::Product, reissue: bool) -> u32 {
    if reissue && p.cert_type == CertType::Dv {
        0
    } else {
        p.review_days
    }
}

/// When a review of `days` business days that starts `now` ends (no review: now).
pub fn review_ends(now: Timestamp, days: u32) -> Timestamp {
    if days == 0 {
        now
    } else {
        add_business_days(now, days)
    }
}

/// What the user chose, and what certdeck made of it (the engine generates keys, reads CSRs).
#[derive(Clone, PartialEq, Eq)]
pub struct ReissueInput {
    pub csr: CsrChoice,
    pub spki_der: Vec<u8>,
    /// The key certdeck keeps for the reissue (PEM; encrypted PKCS#8 when a password was given).
    pub key_pem: Option<String>,
    pub key_encrypted: bool,
    /// A pasted CSR's names: they must be the original's.
    pub csr_domains: Vec<String>,
    pub reason: String,
}

impl std::fmt::Debug for ReissueInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReissueInput")
            .field("csr", &self.csr)
            .field("key_pem", &self.key_pem.as_ref().map(|_| "<redacted>"))
            .field("key_encrypted", &self.key_encrypted)
            .field("reason", &self.reason)
            .finish()
    }
}

/// RI-1..RI-7: the reissue order `new_id` of `cert`, and `cert` marked `reissuing`.
#[allow(clippy::too_many_arguments)]
pub fn reissue(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    reissues: &[Certificate],
    reissuing: &[CertSummary],
    input: &ReissueInput,
    new_id: String,
    tokens: &[String],
    zones: &[String],
    now: Timestamp,
) -> Result<Fired, Refusal> {
    check_reissuable(cert, reissues, reissuing, now)?;
    if input.csr == CsrChoice::Pasted {
        let wanted: Vec<String> = cert
            .domains
            .iter()
            .map(|d| d.to_ascii_lowercase())
            .collect();
        if let Some(d) = input
            .csr_domains
            .iter()
            .find(|d| !wanted.contains(&d.to_ascii_lowercase()))
        {
            return Err(Refusal::new(
                "RI-6",
                Field::Domain,
                format!("the CSR names {d}, which {} does not cover ({}); a reissue keeps the original's domains", cert.id, cert.domains.join(", ")),
            ));
        }
    }
    let (validate, why) = needs_validation(cert, order, input.csr == CsrChoice::Original, now);
    let auto = cert.domains.iter().all(|d| in_managed_zone(d, zones));
    let first_method = order.map_or(ValidationMethod::Dns, |o| o.validation);
    let method = match (validate, auto) {
        (false, _) => first_method,
        (true, true) => ValidationMethod::DnsAuto,
        // Free DV is validated again "the same way as first time"; paid ones too.
        (true, false) if first_method == ValidationMethod::DnsAuto => ValidationMethod::Dns,
        (true, false) => first_method,
    };
    let manual = validate && method != ValidationMethod::DnsAuto;
    let challenges: Vec<Challenge> = if validate {
        cert.domains
            .iter()
            .zip(tokens)
            .map(|(d, t)| match method {
                ValidationMethod::File => Challenge::File {
                    domain: d.clone(),
                    url: format!("http://{d}/.well-known/pki-validation/fileauth.txt"),
                    content: t.clone(),
                },
                _ => dns_challenge(&cert.brand, d, t),
            })
            .collect()
    } else {
        Vec::new()
    };
    let review_days = order
        .and_then(|o| product(&o.product))
        .map_or(1, |p| review_days_of(p, true));
    let new_order = OrderInfo {
        product: order.map_or_else(|| "reissue".to_string(), |o| o.product.clone()),
        years: order.map_or(1, |o| o.years),
        validation: method,
        challenges,
        price: crate::domain::account::Money(0),
        submitted_at: now,
        validated_at: (!manual).then_some(now),
        review_due: (!manual).then(|| review_ends(now, review_days)),
        deadline: manual.then(|| now + Duration::days(MANUAL_VALIDATION_DAYS)),
        // RI-5: the reissue keeps the original's validity.
        valid_until: cert.not_after(),
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
    new_cert.auto_renew = false;
    new_cert.ignored = false;
    new_cert.renewed_from = None;
    new_cert.reissued_from = Some(cert.id.clone());
    new_cert.created_at = now;
    let mut original = cert.clone();
    original.status = Status::Reissuing;
    let mut warning = String::new();
    if input.key_encrypted {
        warning = "; the new key is password-protected: it cannot be deployed automatically (RI-6)"
            .into();
    }
    let next = match (new_order.review_due, new_order.deadline) {
        (Some(t), _) => format!("review ends {}", t.format("%Y-%m-%d %H:%M UTC")),
        (None, Some(d)) => format!("validate the domains by {}", d.format("%Y-%m-%d %H:%M UTC")),
        _ => String::new(),
    };
    let event = |msg: String| TimelineEvent {
        at: now,
        kind: "reissue".into(),
        message: msg,
    };
    Ok(Fired {
        event: event(format!(
            "reissue ordered as {new_id} with {} (reason: {}); validation {why}; {next}; valid until {} as the original (RI-5){warning}",
            input.csr.describe(),
            if input.reason.is_empty() { "none given" } else { &input.reason },
            cert.not_after().map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default(),
        )),
        updated: Some(original),
        new_order: Some(Box::new(NewOrder {
            event: event(format!("reissue of {} ordered; validation {why}; {next}", cert.id)),
            cert: new_cert,
            order: new_order,
            payment: None,
            key_pem: input.key_pem.clone(),
            reissue: Some(ReissueRequest {
                original: cert.id.clone(),
                csr: input.csr,
                spki_der: input.spki_der.clone(),
                key_encrypted: input.key_encrypted,
                reason: input.reason.clone(),
            }),
        })),
        ..Default::default()
    })
}

/// The original of a reissue that was issued or failed: back from `reissuing` to `issued`.
pub fn release_original(original: &Certificate) -> Option<Certificate> {
    (original.status == Status::Reissuing).then(|| {
        let mut o = original.clone();
        o.status = Status::Issued;
        o
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Standard;
    use chrono::{TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    fn cert(t: CertType, issued_days_ago: i64, days_left: i64) -> Certificate {
        let mut c = crate::domain::rules::revoke::tests::issued(
            "DNSPod",
            Standard::International,
            t,
            now() - Duration::days(issued_days_ago),
            now() + Duration::days(days_left),
        );
        c.domains = vec!["www.shop.example.co.uk".into()];
        c
    }

    fn input(csr: CsrChoice) -> ReissueInput {
        ReissueInput {
            csr,
            spki_der: vec![0x30],
            key_pem: None,
            key_encrypted: false,
            csr_domains: vec![],
            reason: "key rotation".into(),
        }
    }

    fn order(validated_days_ago: i64) -> OrderInfo {
        OrderInfo {
            product: "dnspod-dv".into(),
            years: 1,
            validation: ValidationMethod::Dns,
            challenges: vec![],
            price: crate::domain::account::Money(0),
            submitted_at: now() - Duration::days(validated_days_ago),
            validated_at: Some(now() - Duration::days(validated_days_ago)),
            review_due: None,
            deadline: None,
            valid_until: None,
            letter_uploaded_at: None,
            last_reminder_at: None,
        }
    }

    #[test]
    fn rule_ri1_more_than_30_days_left_30_exactly_refused() {
        let r = check_reissuable(&cert(CertType::Dv, 100, 30), &[], &[], now()).unwrap_err();
        assert_eq!(r.rule, "RI-1");
        assert!(r.message.contains("(30 days left)"), "{}", r.message);
        assert!(check_reissuable(&cert(CertType::Dv, 100, 31), &[], &[], now()).is_ok());
        let mut up = cert(CertType::Dv, 100, 200);
        up.source = Source::Uploaded;
        assert_eq!(
            check_reissuable(&up, &[], &[], now()).unwrap_err().rule,
            "RI-1"
        );
    }

    #[test]
    fn rule_ri2_second_free_dv_reissue_refused() {
        let c = cert(CertType::FreeDv, 100, 200);
        let mut first = c.clone();
        first.id = "reis0001".into();
        first.status = Status::Issued;
        assert_eq!(
            check_reissuable(&c, &[first.clone()], &[], now())
                .unwrap_err()
                .rule,
            "RI-2"
        );
        first.status = Status::Failed;
        assert!(
            check_reissuable(&c, &[first], &[], now()).is_ok(),
            "a failed reissue does not count"
        );
        let paid = cert(CertType::Dv, 100, 200);
        let mut r = paid.clone();
        r.id = "x".into();
        assert!(check_reissuable(&paid, &[r], &[], now()).is_ok());
    }

    #[test]
    fn rule_ri3_registrable_domain_by_the_public_suffix_list() {
        assert_eq!(
            registrable_domain("www.shop.example.co.uk"),
            "example.co.uk"
        );
        assert_eq!(registrable_domain("*.api.example.com.cn"), "example.com.cn");
        assert_eq!(registrable_domain("a.b.example.com"), "example.com");
        let c = cert(CertType::Dv, 100, 200);
        let mut other = c.summary();
        other.id = "other001".into();
        other.domains = vec!["mail.example.co.uk".into()];
        other.status = Status::Reissuing;
        let r = check_reissuable(&c, &[], &[other.clone()], now()).unwrap_err();
        assert_eq!(r.rule, "RI-3");
        assert!(r.message.contains("under example.co.uk"), "{}", r.message);
        // "co.uk" alone is a public suffix: another registrant's domain does not lock this one.
        other.domains = vec!["mail.other.co.uk".into()];
        assert!(check_reissuable(&c, &[], &[other], now()).is_ok());
    }

    #[test]
    fn rule_ri4_open_reissue_blocks_another_and_reissues_are_not_reissued() {
        let mut c = cert(CertType::Dv, 100, 200);
        c.status = Status::Reissuing;
        assert_eq!(
            check_reissuable(&c, &[], &[], now()).unwrap_err().rule,
            "RI-4"
        );
        let mut r = cert(CertType::Dv, 100, 200);
        r.reissued_from = Some("orig".into());
        assert_eq!(
            check_reissuable(&r, &[], &[], now()).unwrap_err().rule,
            "RI-4"
        );
    }

    #[test]
    fn rule_ri5_reissue_keeps_the_original_validity() {
        let c = cert(CertType::Dv, 100, 200);
        let f = reissue(
            &c,
            Some(&order(100)),
            &[],
            &[],
            &input(CsrChoice::Original),
            "new00001".into(),
            &["t".into()],
            &[],
            now(),
        )
        .unwrap();
        let n = f.new_order.unwrap();
        assert_eq!(n.order.valid_until, c.not_after());
        assert_eq!(n.cert.reissued_from.as_deref(), Some("orig0001"));
        assert!(n.payment.is_none());
        assert_eq!(f.updated.unwrap().status, Status::Reissuing);
    }

    #[test]
    fn rule_ri6_pasted_csr_must_name_the_original_domains_and_passwords_warn() {
        let c = cert(CertType::Dv, 100, 200);
        let mut i = input(CsrChoice::Pasted);
        i.csr_domains = vec!["evil.example.org".into()];
        let r = reissue(
            &c,
            Some(&order(500)),
            &[],
            &[],
            &i,
            "n".into(),
            &["t".into()],
            &[],
            now(),
        )
        .unwrap_err();
        assert_eq!((r.rule.as_str(), r.field), ("RI-6", Field::Domain));
        let mut g = input(CsrChoice::Generate(crate::domain::reissue::KeyChoice::P256));
        g.key_encrypted = true;
        let f = reissue(
            &c,
            Some(&order(500)),
            &[],
            &[],
            &g,
            "n".into(),
            &["t".into()],
            &[],
            now(),
        )
        .unwrap();
        assert!(f
            .event
            .message
            .contains("cannot be deployed automatically (RI-6)"));
    }

    #[test]
    fn rule_ri7_validation_skipped_or_required() {
        let gen = CsrChoice::Generate(crate::domain::reissue::KeyChoice::P256);
        // Within 3 days of issue: skipped even with a new CSR (3 days exactly included).
        let fresh = cert(CertType::Ov, 3, 300);
        assert!(!needs_validation(&fresh, None, false, now()).0);
        let older = cert(CertType::Ov, 4, 300);
        assert!(needs_validation(&older, None, false, now()).0);
        // Unchanged CSR: skipped.
        assert!(!needs_validation(&older, None, true, now()).0);
        // Paid DV validated within 13 months: skipped; free DV: validated again.
        let dv = cert(CertType::Dv, 100, 200);
        assert!(!needs_validation(&dv, Some(&order(100)), false, now()).0);
        assert!(needs_validation(&dv, Some(&order(400)), false, now()).0);
        let free = cert(CertType::FreeDv, 100, 200);
        assert!(needs_validation(&free, Some(&order(100)), false, now()).0);
        // Free DV: always validated again, even with the original CSR or 3 days after issue.
        assert!(needs_validation(&free, Some(&order(100)), true, now()).0);
        let fresh_free = cert(CertType::FreeDv, 1, 200);
        assert!(needs_validation(&fresh_free, None, true, now()).0);
        let f = reissue(
            &free,
            Some(&order(100)),
            &[],
            &[],
            &input(gen),
            "n".into(),
            &["tok".into()],
            &[],
            now(),
        )
        .unwrap();
        let o = f.new_order.unwrap().order;
        assert_eq!(
            o.validation,
            ValidationMethod::Dns,
            "the same way as first time"
        );
        assert_eq!(o.challenges.len(), 1);
        assert!(o.deadline.is_some() && o.review_due.is_none());
    }

    #[test]
    fn rule_ri7_a_paid_dv_reissue_has_no_review_day_of_its_own() {
        let dv = crate::domain::catalogue::product("dnspod-dv").unwrap();
        let ov = crate::domain::catalogue::product("geotrust-ov").unwrap();
        assert_eq!(review_days_of(dv, true), 0);
        assert_eq!(
            review_days_of(dv, false),
            dv.review_days,
            "a first order is reviewed"
        );
        assert_eq!(review_days_of(ov, true), ov.review_days);
        assert_eq!(
            review_ends(now(), 0),
            now(),
            "not even moved past a weekend"
        );
        // Skipped validation (the CSR is unchanged): the reissue completes at the next tick.
        let paid = cert(CertType::Dv, 100, 200);
        let mut o = order(100);
        o.product = "dnspod-dv".into();
        let f = reissue(
            &paid,
            Some(&o),
            &[],
            &[],
            &input(CsrChoice::Original),
            "n".into(),
            &["tok".into()],
            &[],
            now(),
        )
        .unwrap();
        assert_eq!(f.new_order.unwrap().order.review_due, Some(now()));
        // Validated later: its review ends when it is validated; a first order's a day later.
        let waiting = OrderInfo {
            validated_at: None,
            review_due: None,
            challenges: vec![dns_challenge("DNSPod", "a.example", "tok")],
            ..o.clone()
        };
        let ok = [crate::domain::validation::CheckResult {
            domain: "a.example".into(),
            code: crate::domain::validation::CheckCode::Ok,
            detail: String::new(),
        }];
        let v = crate::domain::validation::validated(&waiting, &ok, now(), true).unwrap();
        assert_eq!(v.review_due, Some(now()));
        let v = crate::domain::validation::validated(&waiting, &ok, now(), false).unwrap();
        assert!(v.review_due.unwrap() > now());
    }
}
