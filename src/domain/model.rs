//! The records certdeck keeps. Serialised with serde; the CLI JSON contract is built in `cli`.
use crate::domain::time::{days_left, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Uploaded,
    Issued,
    /// Found on this machine by a scan and watched without its key (DS-3). Last, so stored
    /// records keep their meaning.
    Discovered,
}

impl Source {
    /// The name the JSON and the metrics use.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Uploaded => "uploaded",
            Source::Issued => "issued",
            Source::Discovered => "discovered",
        }
    }
}

/// Lifecycle status as stored. `Expired` is never stored: it is derived from the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Validating,
    AwaitingLetter,
    Issued,
    Expired,
    Revoking,
    Revoked,
    Reissuing,
    Cancelled,
    Failed,
    ToBeRenewed,
}

impl Status {
    pub const ALL: [Status; 10] = [
        Status::Validating,
        Status::AwaitingLetter,
        Status::Issued,
        Status::Expired,
        Status::Revoking,
        Status::Revoked,
        Status::Reissuing,
        Status::Cancelled,
        Status::Failed,
        Status::ToBeRenewed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Validating => "validating",
            Status::AwaitingLetter => "awaiting_letter",
            Status::Issued => "issued",
            Status::Expired => "expired",
            Status::Revoking => "revoking",
            Status::Revoked => "revoked",
            Status::Reissuing => "reissuing",
            Status::Cancelled => "cancelled",
            Status::Failed => "failed",
            Status::ToBeRenewed => "to_be_renewed",
        }
    }

    /// The state in words, for people (the TUI, text output); `as_str` is the JSON's.
    pub fn label(self) -> &'static str {
        match self {
            Status::AwaitingLetter => "awaiting letter",
            Status::ToBeRenewed => "to be renewed",
            other => other.as_str(),
        }
    }

    pub fn parse(s: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|st| st.as_str() == s)
    }

    /// Statuses in which a certificate exists and can pass its not_after.
    fn can_expire(self) -> bool {
        matches!(
            self,
            Status::Issued | Status::ToBeRenewed | Status::Reissuing | Status::Revoking
        )
    }
}

/// The status a user sees: `expired` once now >= not_after for a certificate that is live.
pub fn effective_status(stored: Status, not_after: Option<Timestamp>, now: Timestamp) -> Status {
    match not_after {
        Some(end) if stored.can_expire() && now >= end => Status::Expired,
        _ => stored,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CertType {
    Dv,
    FreeDv,
    Ov,
    OvPro,
    Ev,
    EvPro,
}

impl CertType {
    pub fn as_str(self) -> &'static str {
        match self {
            CertType::Dv => "dv",
            CertType::FreeDv => "free_dv",
            CertType::Ov => "ov",
            CertType::OvPro => "ov_pro",
            CertType::Ev => "ev",
            CertType::EvPro => "ev_pro",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Standard {
    International,
    Sm2,
}

impl Standard {
    pub fn as_str(self) -> &'static str {
        match self {
            Standard::International => "international",
            Standard::Sm2 => "sm2",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DomainKind {
    Single,
    Wildcard,
    Multi,
}

impl DomainKind {
    pub fn of(domains: &[String]) -> DomainKind {
        match domains {
            [one] if one.starts_with("*.") => DomainKind::Wildcard,
            [_] | [] => DomainKind::Single,
            _ => DomainKind::Multi,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            DomainKind::Single => "single",
            DomainKind::Wildcard => "wildcard",
            DomainKind::Multi => "multi",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    Rsa,
    Ecdsa,
    Ed25519,
    Sm2,
    // U-5: read and watched, never matched to a private key (new variants go last: stored).
    Dsa,
    Ed448,
    /// A public key algorithm certdeck does not know.
    Other,
}

impl KeyAlgorithm {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyAlgorithm::Rsa => "rsa",
            KeyAlgorithm::Ecdsa => "ecdsa",
            KeyAlgorithm::Ed25519 => "ed25519",
            KeyAlgorithm::Sm2 => "sm2",
            KeyAlgorithm::Dsa => "dsa",
            KeyAlgorithm::Ed448 => "ed448",
            KeyAlgorithm::Other => "unknown",
        }
    }
}

/// One certificate of a chain as the detail pane shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainLink {
    pub subject: String,
    pub issuer: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub fingerprint_sha256: String,
    pub is_ca: bool,
}

/// Facts read from the leaf certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct X509Facts {
    pub version: u32,
    pub subject: String,
    pub subject_cn: Option<String>,
    pub subject_org: Option<String>,
    pub sans: Vec<String>,
    pub issuer: String,
    pub issuer_cn: Option<String>,
    pub issuer_org: Option<String>,
    pub serial: String,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
    pub signature_algorithm: String,
    pub key_algorithm: KeyAlgorithm,
    pub key_bits: u32,
    pub fingerprint_sha256: String,
    pub is_ca: bool,
    pub key_usage: Vec<String>,
    pub extended_key_usage: Vec<String>,
    pub policies: Vec<String>,
}

/// DER blocks written as byte strings. Postcard writes a byte string exactly as it writes a
/// sequence of bytes (the length, then the bytes) but in one copy rather than one call per byte
/// (#15: a scan encodes 100,000 of them); JSON writes both as arrays of numbers. Reading is
/// unchanged.
fn der_blocks<S: serde::Serializer>(blocks: &[Vec<u8>], s: S) -> Result<S::Ok, S::Error> {
    struct Bytes<'a>(&'a [u8]);
    impl Serialize for Bytes<'_> {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(self.0)
        }
    }
    s.collect_seq(blocks.iter().map(|b| Bytes(b)))
}

/// A certificate record: an uploaded certificate or an order/issued certificate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Certificate {
    pub id: String,
    pub name: String,
    pub source: Source,
    pub status: Status,
    pub brand: String,
    pub cert_type: Option<CertType>,
    pub standard: Standard,
    pub domain_kind: DomainKind,
    /// SAN order; for an order that has no certificate yet, the domains applied for.
    pub domains: Vec<String>,
    pub x509: Option<X509Facts>,
    /// Leaf first, then intermediates (and root, if given).
    pub chain: Vec<ChainLink>,
    /// DER of each chain certificate, leaf first (PEM is derived on export: a third smaller).
    #[serde(serialize_with = "der_blocks")]
    pub chain_der: Vec<Vec<u8>>,
    pub chain_complete: bool,
    /// SM2: the encryption certificate (PEM). Its key lives with the other secrets.
    pub enc_cert_pem: Option<String>,
    pub has_key: bool,
    pub auto_renew: bool,
    pub ignored: bool,
    pub tags: BTreeMap<String, String>,
    pub project: Option<String>,
    pub renewed_from: Option<String>,
    pub reissued_from: Option<String>,
    pub created_at: Timestamp,
}

impl Certificate {
    pub fn not_after(&self) -> Option<Timestamp> {
        self.x509.as_ref().map(|x| x.not_after)
    }

    pub fn status_at(&self, now: Timestamp) -> Status {
        effective_status(self.status, self.not_after(), now)
    }

    pub fn days_left(&self, now: Timestamp) -> Option<i64> {
        self.not_after().map(|end| days_left(end, now))
    }

    /// The chain as PEM, leaf first.
    pub fn chain_pem(&self) -> String {
        self.chain_der
            .iter()
            .map(|d| crate::domain::pem::encode("CERTIFICATE", d))
            .collect()
    }

    pub fn summary(&self) -> CertSummary {
        let x = self.x509.as_ref();
        CertSummary {
            id: self.id.clone(),
            name: self.name.clone(),
            source: self.source,
            status: self.status,
            brand: self.brand.clone(),
            cert_type: self.cert_type,
            standard: self.standard,
            domains: self.domains.clone(),
            issuer: x
                .map(|x| x.issuer_cn.clone().unwrap_or_else(|| x.issuer.clone()))
                .unwrap_or_default(),
            not_after: x.map(|x| x.not_after),
            auto_renew: self.auto_renew,
            ignored: self.ignored,
            tags: self.tags.clone(),
            project: self.project.clone(),
        }
    }

    /// What the metrics label this certificate with (SV-3).
    pub fn metric_facts(&self) -> MetricFacts {
        self.x509
            .as_ref()
            .map(|x| MetricFacts {
                subject_cn: x.subject_cn.clone(),
                serial_decimal: crate::domain::cert::serial_decimal(&x.serial)
                    .unwrap_or_else(|| x.serial.clone()),
                not_before: Some(x.not_before),
            })
            .unwrap_or_default()
    }
}

/// What the certificate list needs: small, loaded for every record at start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CertSummary {
    pub id: String,
    pub name: String,
    pub source: Source,
    pub status: Status,
    pub brand: String,
    pub cert_type: Option<CertType>,
    pub standard: Standard,
    pub domains: Vec<String>,
    pub issuer: String,
    /// Whole seconds: the list of every record is decoded at start, and numbers decode fast.
    #[serde(with = "unix_seconds")]
    pub not_after: Option<Timestamp>,
    pub auto_renew: bool,
    pub ignored: bool,
    pub tags: BTreeMap<String, String>,
    pub project: Option<String>,
}

/// A certificate's X.509 facts for the metrics (SV-3): x509-certificate-exporter's labels and
/// the start of validity. They never change for a record, so they are written once, beside
/// the summary, and read without the full record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct MetricFacts {
    pub subject_cn: Option<String>,
    /// The serial number in decimal, as the exporter labels it.
    pub serial_decimal: String,
    #[serde(with = "unix_seconds")]
    pub not_before: Option<Timestamp>,
}

impl CertSummary {
    pub fn status_at(&self, now: Timestamp) -> Status {
        effective_status(self.status, self.not_after, now)
    }

    pub fn days_left(&self, now: Timestamp) -> Option<i64> {
        self.not_after.map(|end| days_left(end, now))
    }

    /// Lower-case text the `/` filter matches against: name, domains, issuer, brand, tags, project.
    pub fn search_text(&self) -> String {
        let mut s = String::with_capacity(128);
        let mut push = |part: &str| {
            if !s.is_empty() {
                s.push('\u{1f}');
            }
            for c in part.chars() {
                if c.is_ascii() {
                    s.push(c.to_ascii_lowercase());
                } else {
                    s.extend(c.to_lowercase());
                }
            }
        };
        push(&self.name);
        for d in &self.domains {
            push(d);
        }
        push(&self.issuer);
        push(&self.brand);
        for (k, v) in &self.tags {
            push(&format!("{k}={v}"));
        }
        if let Some(p) = &self.project {
            push(p);
        }
        s
    }
}

mod unix_seconds {
    use super::Timestamp;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_some(&t.timestamp()),
            None => s.serialize_none(),
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Timestamp>, D::Error> {
        Option::<i64>::deserialize(d)?
            .map(|secs| {
                chrono::DateTime::from_timestamp(secs, 0)
                    .ok_or_else(|| serde::de::Error::custom("timestamp out of range"))
            })
            .transpose()
    }
}

/// One line of a certificate's history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct TimelineEvent {
    pub at: Timestamp,
    pub kind: String,
    pub message: String,
}

/// A timeline event as shown: dated when its work was due, with when that work ran if a late
/// tick ran it later (T-1: due at / ran at).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    pub event: TimelineEvent,
    pub ran_at: Option<Timestamp>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn der_blocks_are_stored_and_shown_exactly_as_plain_byte_lists() {
        #[derive(Serialize)]
        struct Fast(#[serde(serialize_with = "der_blocks")] Vec<Vec<u8>>);
        #[derive(Serialize, Deserialize, PartialEq, Debug)]
        struct Plain(Vec<Vec<u8>>);
        let blocks = vec![vec![], vec![0x30, 0x82, 0xff, 0], (0..=255).collect()];
        let fast = postcard::to_stdvec(&Fast(blocks.clone())).unwrap();
        assert_eq!(fast, postcard::to_stdvec(&Plain(blocks.clone())).unwrap());
        assert_eq!(
            postcard::from_bytes::<Plain>(&fast).unwrap(),
            Plain(blocks.clone())
        );
        assert_eq!(
            serde_json::to_string(&Fast(blocks.clone())).unwrap(),
            serde_json::to_string(&Plain(blocks)).unwrap()
        );
    }

    #[test]
    fn expired_is_derived_at_not_after_exactly() {
        let end = Utc.with_ymd_and_hms(2026, 5, 1, 0, 0, 0).unwrap();
        let before = end - Duration::seconds(1);
        assert_eq!(
            effective_status(Status::Issued, Some(end), before),
            Status::Issued
        );
        assert_eq!(
            effective_status(Status::Issued, Some(end), end),
            Status::Expired
        );
        assert_eq!(
            effective_status(Status::Revoked, Some(end), end),
            Status::Revoked
        );
        assert_eq!(
            effective_status(Status::Validating, None, end),
            Status::Validating
        );
    }

    #[test]
    fn domain_kind_from_domains() {
        let d = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(DomainKind::of(&d(&["a.com"])), DomainKind::Single);
        assert_eq!(DomainKind::of(&d(&["*.a.com"])), DomainKind::Wildcard);
        assert_eq!(DomainKind::of(&d(&["a.com", "b.com"])), DomainKind::Multi);
    }

    #[test]
    fn status_names_round_trip() {
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
    }
}
