//! A revocation in progress (SPEC §6): why, by which RV-6 flow, what the CA still needs, and the
//! records it takes with it (RV-4). Kept beside the certificate it revokes; the rules that start
//! and end one are in `rules::revoke`.
use crate::domain::letter::FileKind;
use crate::domain::model::Status;
use crate::domain::order::{Challenge, OrderInfo, ValidationMethod};
use crate::domain::schedule::{DueEntry, DueKind};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The RFC 5280 §5.3.1 reason codes a subscriber may give. The others (cACompromise,
/// certificateHold, removeFromCRL, aACompromise) are the CA's own and are refused by `parse`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Unspecified,
    KeyCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
    PrivilegeWithdrawn,
}

impl Reason {
    pub const ALL: [Reason; 6] = [
        Reason::Unspecified,
        Reason::KeyCompromise,
        Reason::AffiliationChanged,
        Reason::Superseded,
        Reason::CessationOfOperation,
        Reason::PrivilegeWithdrawn,
    ];

    /// The CRLReason code.
    pub fn code(self) -> u8 {
        match self {
            Reason::Unspecified => 0,
            Reason::KeyCompromise => 1,
            Reason::AffiliationChanged => 3,
            Reason::Superseded => 4,
            Reason::CessationOfOperation => 5,
            Reason::PrivilegeWithdrawn => 9,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "key_compromise",
            Reason::AffiliationChanged => "affiliation_changed",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessation_of_operation",
            Reason::PrivilegeWithdrawn => "privilege_withdrawn",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Reason::Unspecified => "no reason given",
            Reason::KeyCompromise => "the private key was or may have been disclosed",
            Reason::AffiliationChanged => "the subject's name or organisation changed",
            Reason::Superseded => "replaced by another certificate",
            Reason::CessationOfOperation => "the domain or service is no longer operated",
            Reason::PrivilegeWithdrawn => "the right to use the names was withdrawn",
        }
    }

    /// A name (`key_compromise`, `keyCompromise`, `key-compromise`) or the numeric code.
    pub fn parse(s: &str) -> Result<Reason, String> {
        let norm: String = s
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .map(|c| c.to_ascii_lowercase())
            .collect();
        if let Some(r) = Reason::ALL
            .into_iter()
            .find(|r| r.as_str().replace('_', "") == norm || r.code().to_string() == norm)
        {
            return Ok(r);
        }
        let names: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        let ca_only = matches!(
            norm.as_str(),
            "cacompromise"
                | "2"
                | "certificatehold"
                | "6"
                | "removefromcrl"
                | "8"
                | "aacompromise"
                | "10"
        );
        Err(if ca_only {
            format!(
                "\"{s}\" is a reason only the CA itself uses; a subscriber gives one of {}",
                names.join(", ")
            )
        } else {
            format!(
                "\"{s}\": the reason is one of {} (RFC 5280 codes 0, 1, 3, 4, 5, 9)",
                names.join(", ")
            )
        })
    }
}

/// The RV-6 flows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Flow {
    /// (a) DNSPod SM2 DV and WoTrus: reason, review.
    ReviewOnly,
    /// (b) DNSPod SM2 OV/EV: reason and a signed application file, review.
    ApplicationFile,
    /// (c) other DV: domain validation within 3 days, review.
    DomainValidation,
    /// (d) other OV/EV: reason and a confirmation letter (unless automatic validation), review.
    Letter,
    /// AC-6: an ACME CA revokes at once, asked with the reason and the account's signature.
    /// (Last, so stored revocations keep their meaning.)
    AcmeCa,
}

impl Flow {
    pub fn label(self) -> &'static str {
        match self {
            Flow::ReviewOnly => "RV-6 (a): reason, then CA review",
            Flow::ApplicationFile => "RV-6 (b): reason and signed application file, then CA review",
            Flow::DomainValidation => "RV-6 (c): domain validation within 3 days, then CA review",
            Flow::Letter => "RV-6 (d): reason and confirmation letter, then CA review",
            Flow::AcmeCa => "AC-6: the ACME CA revokes it at once, asked with the account's key",
        }
    }
}

/// A revocation, from submission to its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revocation {
    pub reason: Reason,
    pub flow: Flow,
    pub submitted_at: Timestamp,
    /// Every record revoked together, this one first, with its status before: what a failed
    /// revocation restores (RV-4: an original takes its reissues with it).
    pub prior: Vec<(String, Status)>,
    /// The application file (b) or confirmation letter (d) given with the submission.
    pub document: Option<FileKind>,
    /// How the domains are validated (flow (c)), when they must be.
    pub validation: Option<ValidationMethod>,
    pub challenges: Vec<Challenge>,
    pub validated_at: Option<Timestamp>,
    /// When unvalidated domains make the revocation fail (3 days after submission).
    pub deadline: Option<Timestamp>,
    /// When the CA's review ends and the certificate is revoked.
    pub review_due: Option<Timestamp>,
    pub revoked_at: Option<Timestamp>,
    pub failed_at: Option<Timestamp>,
}

impl Revocation {
    pub fn is_open(&self) -> bool {
        self.revoked_at.is_none() && self.failed_at.is_none()
    }

    /// The entries an open revocation needs: its review end, or its validation deadline.
    pub fn entries(&self, cert_id: &str) -> Vec<DueEntry> {
        if !self.is_open() {
            return Vec::new();
        }
        let whole = |t: Timestamp| chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t);
        match (self.review_due, self.deadline, self.validated_at) {
            (Some(due), _, _) => vec![DueEntry {
                due: whole(due),
                kind: DueKind::RevocationReview,
                cert_id: cert_id.to_string(),
            }],
            (None, Some(deadline), None) => vec![DueEntry {
                due: whole(deadline),
                kind: DueKind::RevocationDeadline,
                cert_id: cert_id.to_string(),
            }],
            _ => Vec::new(),
        }
    }

    /// The revocation as the Validation queue shows an order: the same steps and times.
    pub fn as_order_view(&self) -> OrderInfo {
        OrderInfo {
            product: format!("revocation ({})", self.reason.as_str()),
            years: 0,
            validation: self.validation.unwrap_or(ValidationMethod::DnsAuto),
            challenges: self.challenges.clone(),
            price: crate::domain::account::Money(0),
            submitted_at: self.submitted_at,
            validated_at: self.validated_at,
            review_due: self.review_due,
            deadline: self.deadline,
            valid_until: None,
            letter_uploaded_at: self.document.map(|_| self.submitted_at),
            last_reminder_at: None,
        }
    }
}

/// One line of the CA's revocation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CrlEntry {
    /// The issuer's distinguished name as `X509Facts::issuer` writes it.
    pub issuer: String,
    /// Lower-case hex, as `X509Facts::serial`.
    pub serial: String,
    pub revoked_at: Timestamp,
    pub reason: Reason,
    pub cert_id: String,
}
