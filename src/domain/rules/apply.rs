//! Ordering a certificate (issue #3, `certdeck apply` and the `a` form): which requests are
//! well-formed, and the record, order and payment they become. Refusals name the field; input
//! rules that SPEC.md does not number carry the tag `APPLY`.
use crate::domain::account::{LedgerEntry, LedgerKind, Money};
use crate::domain::catalogue::{add_business_days, product, Product};
use crate::domain::model::{Certificate, DomainKind, Source, Status, TimelineEvent};
use crate::domain::order::{Challenge, OrderInfo, ValidationMethod, MANUAL_VALIDATION_DAYS};
use crate::domain::refusal::{Field, Refusal, Warning};
use crate::domain::rules::upload::parse_tags;
use crate::domain::time::Timestamp;
use std::collections::BTreeMap;

pub const MAX_YEARS: u32 = 3;

#[derive(Debug, Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct ApplyRequest {
    pub domain: String,
    pub sans: Vec<String>,
    pub product: String,
    pub validation: Option<ValidationMethod>,
    pub years: u32,
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub project: Option<String>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ValidatedApply {
    #[serde(with = "crate::domain::wire::product")]
    pub product: &'static Product,
    pub domains: Vec<String>,
    pub validation: ValidationMethod,
    pub years: u32,
    pub name: String,
    pub tags: BTreeMap<String, String>,
    pub project: Option<String>,
    pub price: Money,
    pub warnings: Vec<Warning>,
}

fn refuse(field: Field, msg: impl Into<String>) -> Refusal {
    Refusal::new("APPLY", field, msg)
}

/// A DNS name as a CA accepts it: LDH labels, at least two, 253 characters at most, an optional
/// leading `*.` only where the product is a wildcard one.
pub fn normalise_domain(raw: &str, wildcard_allowed: bool) -> Result<String, String> {
    let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let (wild, base) = match d.strip_prefix("*.") {
        Some(b) => (true, b),
        None => (false, d.as_str()),
    };
    if wild && !wildcard_allowed {
        return Err(format!("\"{raw}\": a wildcard needs a wildcard product"));
    }
    let labels: Vec<&str> = base.split('.').collect();
    let label_ok = |l: &&str| {
        !l.is_empty()
            && l.len() <= 63
            && !l.starts_with('-')
            && !l.ends_with('-')
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    if d.len() > 253
        || labels.len() < 2
        || !labels.iter().all(label_ok)
        || labels
            .last()
            .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!("\"{raw}\" is not a valid domain name"));
    }
    Ok(d)
}

/// Whether `domain` lies in one of the managed zones (AR-6).
pub fn in_managed_zone(domain: &str, zones: &[String]) -> bool {
    let base = domain.trim_start_matches("*.");
    zones
        .iter()
        .any(|z| base == z || base.ends_with(&format!(".{z}")))
}

/// `validate_apply_priced` with catalogue prices.
pub fn validate_apply(
    req: &ApplyRequest,
    managed_zones: &[String],
) -> Result<ValidatedApply, Refusal> {
    validate_apply_priced(req, managed_zones, &Default::default())
}

pub fn validate_apply_priced(
    req: &ApplyRequest,
    managed_zones: &[String],
    prices: &crate::domain::catalogue::PriceTable,
) -> Result<ValidatedApply, Refusal> {
    let product = product(&req.product).ok_or_else(|| {
        refuse(
            Field::Product,
            format!(
                "unknown product \"{}\" (see `certdeck products`)",
                req.product
            ),
        )
    })?;
    if req.years == 0 || req.years > MAX_YEARS {
        return Err(refuse(
            Field::Years,
            format!("{} years: choose 1 to {MAX_YEARS}", req.years),
        ));
    }
    let wildcard = product.domain_kind == DomainKind::Wildcard;
    let mut domains =
        vec![normalise_domain(&req.domain, wildcard).map_err(|m| refuse(Field::Domain, m))?];
    for san in &req.sans {
        domains.push(normalise_domain(san, wildcard).map_err(|m| refuse(Field::Domain, m))?);
    }
    domains.dedup();
    match product.domain_kind {
        DomainKind::Single | DomainKind::Wildcard if domains.len() > 1 => {
            return Err(refuse(
                Field::Domain,
                format!(
                    "{} covers one domain; {} were given",
                    product.code,
                    domains.len()
                ),
            ))
        }
        DomainKind::Wildcard if !domains[0].starts_with("*.") => {
            return Err(refuse(
                Field::Domain,
                format!(
                    "{} is a wildcard product: give *.{}",
                    product.code, domains[0]
                ),
            ))
        }
        _ => {}
    }
    let mut warnings = Vec::new();
    let mut validation = req.validation.unwrap_or(
        if domains.iter().all(|d| in_managed_zone(d, managed_zones)) {
            ValidationMethod::DnsAuto
        } else {
            ValidationMethod::Dns
        },
    );
    if validation == ValidationMethod::File && wildcard {
        return Err(refuse(
            Field::Validation,
            "a wildcard certificate cannot be validated by file; use dns or dns_auto",
        ));
    }
    if validation == ValidationMethod::DnsAuto
        && !domains.iter().all(|d| in_managed_zone(d, managed_zones))
    {
        validation = ValidationMethod::Dns;
        warnings.push(Warning::new(
            "dns_auto_unavailable",
            "the domain is not in a managed zone: add the DNS record by hand (AR-6)",
        ));
    }
    let tags = parse_tags(&req.tags)?;
    let name = req
        .name
        .clone()
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| domains[0].trim_start_matches("*.").to_string());
    Ok(ValidatedApply {
        product,
        domains,
        validation,
        years: req.years,
        name,
        tags,
        project: req.project.clone().filter(|p| !p.trim().is_empty()),
        price: Money(crate::domain::catalogue::price_of(product, prices).0 * req.years as i64),
        warnings,
    })
}

/// The record, order, opening event and payment of a validated request. `tokens` are random
/// values for the challenges, one per domain (the engine supplies them).
pub fn new_order(
    v: &ValidatedApply,
    id: String,
    tokens: &[String],
    now: Timestamp,
) -> (Certificate, OrderInfo, TimelineEvent, LedgerEntry) {
    let challenges: Vec<Challenge> = v
        .domains
        .iter()
        .zip(tokens)
        .map(|(d, token)| {
            let base = d.trim_start_matches("*.");
            match v.validation {
                ValidationMethod::Dns | ValidationMethod::DnsAuto => {
                    crate::domain::order::dns_challenge(v.product.brand, d, token)
                }
                ValidationMethod::File => Challenge::File {
                    domain: d.clone(),
                    url: format!("http://{base}/.well-known/pki-validation/fileauth.txt"),
                    content: token.clone(),
                },
            }
        })
        .collect();
    let p = v.product;
    let auto = v.validation == ValidationMethod::DnsAuto;
    let status = if p.needs_letter() {
        Status::AwaitingLetter
    } else {
        Status::Validating
    };
    let review_due = (auto && !p.needs_letter()).then(|| add_business_days(now, p.review_days));
    let order = OrderInfo {
        product: p.code.to_string(),
        years: v.years,
        validation: v.validation,
        challenges,
        price: v.price,
        submitted_at: now,
        validated_at: auto.then_some(now),
        review_due,
        deadline: (!auto).then(|| now + chrono::Duration::days(MANUAL_VALIDATION_DAYS)),
        valid_until: None,
        letter_uploaded_at: None,
        last_reminder_at: None,
    };
    let cert = Certificate {
        id: id.clone(),
        name: v.name.clone(),
        source: Source::Issued,
        status,
        brand: p.brand.to_string(),
        cert_type: Some(p.cert_type),
        standard: p.standard,
        domain_kind: DomainKind::of(&v.domains),
        domains: v.domains.clone(),
        x509: None,
        chain: Vec::new(),
        chain_der: Vec::new(),
        chain_complete: false,
        enc_cert_pem: None,
        has_key: false,
        auto_renew: false,
        ignored: false,
        tags: v.tags.clone(),
        project: v.project.clone(),
        renewed_from: None,
        reissued_from: None,
        created_at: now,
    };
    let mut message = format!(
        "ordered {} for {} year(s), paid {} {}",
        p.code,
        v.years,
        v.price,
        crate::domain::account::CURRENCY
    );
    message.push_str(match (auto, p.needs_letter()) {
        (_, true) => "; waiting for the confirmation letter",
        (true, false) => "; DNS record added in the managed zone, review under way",
        (false, false) => "; waiting for domain validation",
    });
    let event = TimelineEvent {
        at: now,
        kind: "ordered".into(),
        message,
    };
    let payment = LedgerEntry {
        at: now,
        kind: LedgerKind::Deduction,
        amount: v.price,
        cert_id: Some(id),
        note: format!("order {}", p.code),
    };
    (cert, order, event, payment)
}

#[cfg(test)]
pub mod tests_support {
    /// A bare order record for rule tests.
    pub fn blank_order_cert() -> crate::domain::model::Certificate {
        use chrono::TimeZone;
        let v = super::validate_apply(
            &super::ApplyRequest {
                domain: "a.example.com".into(),
                product: "dnspod-dv".into(),
                years: 1,
                ..Default::default()
            },
            &[],
        )
        .unwrap();
        super::new_order(
            &v,
            "abcdEFGH".into(),
            &["tok".into()],
            chrono::Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        )
        .0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Utc};

    fn req(domain: &str, product: &str) -> ApplyRequest {
        ApplyRequest {
            domain: domain.into(),
            product: product.into(),
            years: 1,
            ..Default::default()
        }
    }

    #[test]
    fn domains_are_checked_and_normalised() {
        assert_eq!(
            normalise_domain("Shop.Example.COM.", false).unwrap(),
            "shop.example.com"
        );
        assert_eq!(
            normalise_domain("*.example.com", true).unwrap(),
            "*.example.com"
        );
        for bad in [
            "example",
            "-a.example.com",
            "a..b.com",
            "a_b.example.com",
            "1.2.3.4",
            "*.example.com",
        ] {
            assert!(normalise_domain(bad, false).is_err(), "{bad}");
        }
        assert!(normalise_domain(&format!("{}.com", "a".repeat(64)), false).is_err());
    }

    #[test]
    fn products_bind_domain_kinds_and_validation() {
        let e = validate_apply(&req("example.com", "dnspod-dv-wildcard"), &[]).unwrap_err();
        assert_eq!(e.field, Field::Domain);
        let mut two = req("a.example.com", "dnspod-dv");
        two.sans = vec!["b.example.com".into()];
        assert_eq!(validate_apply(&two, &[]).unwrap_err().field, Field::Domain);
        let mut file_wild = req("*.example.com", "wotrus-dv-wildcard");
        file_wild.validation = Some(ValidationMethod::File);
        assert_eq!(
            validate_apply(&file_wild, &[]).unwrap_err().field,
            Field::Validation
        );
        assert_eq!(
            validate_apply(&req("a.example.com", "nope"), &[])
                .unwrap_err()
                .field,
            Field::Product
        );
        let mut years = req("a.example.com", "dnspod-dv");
        years.years = 4;
        assert_eq!(validate_apply(&years, &[]).unwrap_err().field, Field::Years);
    }

    #[test]
    fn rule_ar6_managed_zones_validate_automatically_else_by_hand() {
        let zones = vec!["example.com".to_string()];
        let v = validate_apply(&req("shop.example.com", "dnspod-dv"), &zones).unwrap();
        assert_eq!(v.validation, ValidationMethod::DnsAuto);
        let mut elsewhere = req("shop.other.org", "dnspod-dv");
        elsewhere.validation = Some(ValidationMethod::DnsAuto);
        let v = validate_apply(&elsewhere, &zones).unwrap();
        assert_eq!(v.validation, ValidationMethod::Dns, "falls back to manual");
        assert_eq!(v.warnings[0].code, "dns_auto_unavailable");
        assert!(!in_managed_zone("notexample.com", &zones));
        assert!(in_managed_zone("*.a.example.com", &zones));
    }

    #[test]
    fn rule_rm3_auto_validated_dv_is_reviewed_in_one_business_day() {
        let friday = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
        let v = validate_apply(
            &req("shop.example.com", "dnspod-dv"),
            &["example.com".into()],
        )
        .unwrap();
        let (cert, order, _, pay) = new_order(&v, "abcdEFGH".into(), &["tok".into()], friday);
        assert_eq!(cert.status, Status::Validating);
        assert_eq!(
            order.review_due,
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 10, 0, 0).unwrap())
        );
        assert_eq!(order.deadline, None);
        assert_eq!(pay.amount, Money(19_900));
        assert!(
            matches!(&order.challenges[0], Challenge::DnsTxt { name, .. } if name == "_dnsauth.shop.example.com")
        );
    }

    #[test]
    fn manual_validation_has_a_seven_day_deadline_and_ov_waits_for_its_letter() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 10, 0, 0).unwrap();
        let v = validate_apply(&req("shop.example.com", "dnspod-dv"), &[]).unwrap();
        let (_, order, _, _) = new_order(&v, "abcdEFGH".into(), &["tok".into()], now);
        assert_eq!(order.deadline, Some(now + chrono::Duration::days(7)));
        assert_eq!(order.review_due, None);
        let v = validate_apply(
            &req("corp.example.com", "geotrust-ov"),
            &["example.com".into()],
        )
        .unwrap();
        let (cert, order, _, _) = new_order(&v, "abcdEFGH".into(), &["tok".into()], now);
        assert_eq!(cert.status, Status::AwaitingLetter);
        assert_eq!(
            order.review_due, None,
            "review starts when the letter arrives"
        );
    }
}
