//! Orders placed with a CA backend (issue #3): what was bought, how the domains are validated,
//! and where the order stands. Kept beside the certificate record it belongs to.
use crate::domain::account::Money;
use crate::domain::schedule::{DueEntry, DueKind};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Days a manual validation may take before the order fails (AR-6's 7 days).
pub const MANUAL_VALIDATION_DAYS: i64 = 7;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ValidationMethod {
    /// The user adds a TXT record by hand.
    Dns,
    /// certdeck adds it: the domain is in a managed zone (AR-6).
    DnsAuto,
    /// The user serves a file under /.well-known/pki-validation/.
    File,
}

impl ValidationMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            ValidationMethod::Dns => "dns",
            ValidationMethod::DnsAuto => "dns_auto",
            ValidationMethod::File => "file",
        }
    }

    /// How a person reads it (the TUI's words; `as_str` is the CLI's and JSON's).
    pub fn label(self) -> &'static str {
        match self {
            ValidationMethod::Dns => "DNS",
            ValidationMethod::DnsAuto => "DNS (automatic)",
            ValidationMethod::File => "file",
        }
    }

    pub fn parse(s: &str) -> Result<ValidationMethod, String> {
        match s {
            "dns" => Ok(ValidationMethod::Dns),
            "dns_auto" => Ok(ValidationMethod::DnsAuto),
            "file" => Ok(ValidationMethod::File),
            other => Err(format!("\"{other}\": validation is dns, dns_auto or file")),
        }
    }
}

/// What proves control of one domain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Challenge {
    DnsTxt {
        domain: String,
        name: String,
        value: String,
    },
    /// Some CAs (TrustAsia, WoTrus here) validate with a CNAME to a name of theirs.
    DnsCname {
        domain: String,
        name: String,
        target: String,
    },
    File {
        domain: String,
        url: String,
        content: String,
    },
}

impl Challenge {
    pub fn domain(&self) -> &str {
        match self {
            Challenge::DnsTxt { domain, .. }
            | Challenge::DnsCname { domain, .. }
            | Challenge::File { domain, .. } => domain,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderInfo {
    pub product: String,
    pub years: u32,
    pub validation: ValidationMethod,
    pub challenges: Vec<Challenge>,
    pub price: Money,
    pub submitted_at: Timestamp,
    /// When the domains were validated (at once for managed zones).
    pub validated_at: Option<Timestamp>,
    /// When the CA's review ends and the certificate is issued (RM-3, business days).
    pub review_due: Option<Timestamp>,
    /// When an unvalidated order fails.
    pub deadline: Option<Timestamp>,
    /// A renewal's fixed end: the old certificate's not_after plus one year (AR-5).
    pub valid_until: Option<Timestamp>,
    /// OV/EV: when the confirmation letter arrived (review and RM-2 count from it).
    pub letter_uploaded_at: Option<Timestamp>,
    /// The last reviewer reminder (RM-2).
    pub last_reminder_at: Option<Timestamp>,
}

impl OrderInfo {
    /// The rule its validation deadline comes from: an ACME CA's authorizations expire (AC-2),
    /// a sandbox order allows 7 days (AR-6).
    pub fn deadline_rule(&self) -> &'static str {
        if self.product.starts_with("acme:") {
            "AC-2"
        } else {
            "AR-6"
        }
    }

    /// When a certificate issued for this order at `issued_at` expires.
    pub fn not_after(&self, issued_at: Timestamp) -> Timestamp {
        self.valid_until
            .unwrap_or_else(|| plus_years(issued_at, self.years.max(1)))
    }
}

/// The same instant `years` calendar years later (29 February becomes 28 February).
pub fn plus_years(t: Timestamp, years: u32) -> Timestamp {
    t.checked_add_months(chrono::Months::new(12 * years))
        .unwrap_or(t + chrono::Duration::days(365 * years as i64))
}

/// The DNS challenge a brand uses for `domain`: a CNAME for TrustAsia and WoTrus, else a TXT.
pub fn dns_challenge(brand: &str, domain: &str, token: &str) -> Challenge {
    let base = domain.trim_start_matches("*.");
    if matches!(brand, "TrustAsia" | "WoTrus") {
        // DNS names are case-insensitive: the token goes in lower case.
        let t = token.to_ascii_lowercase();
        Challenge::DnsCname {
            domain: domain.to_string(),
            name: format!("_{}.{base}", &t[..t.len().min(12)]),
            target: format!("{t}.dcv.sandbox-ca.certdeck.test"),
        }
    } else {
        Challenge::DnsTxt {
            domain: domain.to_string(),
            name: format!("_dnsauth.{base}"),
            value: token.to_string(),
        }
    }
}

/// The schedule entries an order needs: its review end, or its validation deadline.
pub fn order_entries(cert_id: &str, order: &OrderInfo) -> Vec<DueEntry> {
    let mut out = Vec::new();
    if let Some(due) = order.review_due {
        out.push(DueEntry {
            due: whole_seconds(due),
            kind: DueKind::ReviewDone,
            cert_id: cert_id.to_string(),
        });
    } else if let (Some(deadline), None) = (order.deadline, order.validated_at) {
        out.push(DueEntry {
            due: whole_seconds(deadline),
            kind: DueKind::ValidationDeadline,
            cert_id: cert_id.to_string(),
        });
        // The "deadline near" reminder, when there is a day to give.
        let near = deadline - chrono::Duration::hours(24);
        if near > order.submitted_at {
            out.push(DueEntry {
                due: whole_seconds(near),
                kind: DueKind::ValidationDue,
                cert_id: cert_id.to_string(),
            });
        }
    }
    out
}

fn whole_seconds(t: Timestamp) -> Timestamp {
    chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
}

/// The effect of a certificate the CA issued for an order: the record becomes `issued` with the
/// certificate's facts and chain, the order closes, the new key is sealed.
pub fn issued(
    cert: &crate::domain::model::Certificate,
    order: &OrderInfo,
    chain_der: &[Vec<u8>],
    key_pem: Option<String>,
    ca_name: &str,
    now: Timestamp,
) -> Result<crate::domain::schedule::Fired, String> {
    use crate::domain::cert::parse_certificate;
    use crate::domain::model::{DomainKind, Status, TimelineEvent};
    let parsed: Vec<_> = chain_der
        .iter()
        .map(|d| parse_certificate(d))
        .collect::<Result<_, _>>()?;
    let leaf = parsed.first().ok_or("the CA returned no certificate")?;
    let mut updated = cert.clone();
    updated.status = Status::Issued;
    updated.domains = if leaf.facts.sans.is_empty() {
        cert.domains.clone()
    } else {
        leaf.facts.sans.clone()
    };
    updated.domain_kind = DomainKind::of(&updated.domains);
    updated.x509 = Some(leaf.facts.clone());
    updated.chain = parsed.iter().map(|c| c.link()).collect();
    updated.chain_der = chain_der.to_vec();
    updated.chain_complete = parsed.last().is_some_and(|c| c.is_self_signed());
    // A reissue's key was sealed with its order, or stays with the user (a pasted CSR).
    updated.has_key = key_pem.is_some() || cert.has_key;
    let mut closed = order.clone();
    closed.review_due = None;
    closed.deadline = None;
    Ok(crate::domain::schedule::Fired {
        event: TimelineEvent {
            at: now,
            kind: "issued".into(),
            message: format!(
                "review done: issued by the {ca_name} CA, serial {}, valid until {}",
                leaf.facts.serial,
                leaf.facts.not_after.format("%Y-%m-%d")
            ),
        },
        updated: Some(updated),
        updated_order: Some(closed),
        new_key_pem: key_pem,
        ..Default::default()
    })
}

/// AR-7: a confirmation letter arrived for an OV/EV order. The order moves on to validation, and
/// to review at once when its domains are already validated.
pub fn letter_received(
    cert: &crate::domain::model::Certificate,
    order: &OrderInfo,
    letter: &[u8],
    now: Timestamp,
) -> Result<crate::domain::schedule::Fired, crate::domain::refusal::Refusal> {
    let kind = crate::domain::letter::check_confirmation_letter(letter)?;
    use crate::domain::model::{Status, TimelineEvent};
    if cert.status != Status::AwaitingLetter {
        return Err(crate::domain::refusal::Refusal::new(
            "AR-7",
            crate::domain::refusal::Field::Id,
            format!(
                "{} is {}: it is not waiting for a confirmation letter",
                cert.id,
                cert.status.as_str()
            ),
        ));
    }
    let mut updated = cert.clone();
    updated.status = Status::Validating;
    let mut o = order.clone();
    o.letter_uploaded_at = Some(now);
    if o.validated_at.is_some() {
        let days = crate::domain::catalogue::product(&o.product).map_or(5, |p| p.review_days);
        o.review_due = Some(crate::domain::catalogue::add_business_days(now, days));
    }
    let next = match o.review_due {
        Some(t) => format!("review ends {}", t.format("%Y-%m-%d %H:%M UTC")),
        None => "waiting for domain validation".into(),
    };
    Ok(crate::domain::schedule::Fired {
        event: TimelineEvent {
            at: now,
            kind: "letter".into(),
            message: format!("confirmation letter received ({kind:?}); {next}"),
        },
        updated: Some(updated),
        updated_order: Some(o),
        letter: Some(letter.to_vec()),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn rule_ar6_a_manual_order_gets_a_reminder_a_day_before_its_deadline() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let order = OrderInfo {
            product: "dnspod-dv".into(),
            years: 1,
            validation: ValidationMethod::Dns,
            challenges: vec![],
            price: Money(0),
            submitted_at: now,
            validated_at: None,
            review_due: None,
            deadline: Some(now + Duration::days(MANUAL_VALIDATION_DAYS)),
            valid_until: None,
            letter_uploaded_at: None,
            last_reminder_at: None,
        };
        let entries = order_entries("c", &order);
        let due = |k: DueKind| entries.iter().find(|e| e.kind == k).map(|e| e.due);
        assert_eq!(
            due(DueKind::ValidationDeadline),
            Some(now + Duration::days(7))
        );
        assert_eq!(due(DueKind::ValidationDue), Some(now + Duration::days(6)));
        // Validated: neither.
        let mut done = order.clone();
        done.validated_at = Some(now);
        assert!(order_entries("c", &done).is_empty());
    }
}
