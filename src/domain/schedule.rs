//! Timed work (SPEC §11): which entries a certificate puts in the schedule, and what firing one
//! does. Pure: the store keeps the entries ordered by due time, the engine reads the due ones.
use crate::domain::model::{Certificate, Status, TimelineEvent};
use crate::domain::order::{order_entries, OrderInfo};
use crate::domain::revocation::Revocation;
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Kinds of timed work. New rules (AR-3 fee deduction, AR-6 deadlines, H-5, RM-2, RV-6, AL-2)
/// add kinds here.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum DueKind {
    /// The certificate reaches its not_after.
    Expiry,
    /// The CA's review of a validated order ends: the certificate is issued (RM-3).
    ReviewDone,
    /// An order whose domains were not validated in time fails (AR-6).
    ValidationDeadline,
    /// The renewal fee of an auto-renewing certificate is taken (AR-3).
    RenewalFee,
    /// The CA's review of a revocation ends: the certificate is revoked (RV-6).
    RevocationReview,
    /// A revocation whose domains were not validated within 3 days fails (RV-6 (c)).
    RevocationDeadline,
    /// A hosting's replacement time (H-5); the entry carries the hosting's id.
    HostingReplace,
    /// An alarm policy's evaluation (AL-2); the entry carries the policy's id.
    AlarmEvaluate,
    /// A day before an order's validation deadline: the "deadline near" message (AR-6).
    ValidationDue,
    /// An ACME certificate's renewal attempt or renewal-information fetch (AC-4); written with
    /// its renewal plan, not derived from the record.
    AcmeRenew,
}

impl DueKind {
    pub const ALL: [DueKind; 10] = [
        DueKind::Expiry,
        DueKind::ReviewDone,
        DueKind::ValidationDeadline,
        DueKind::RenewalFee,
        DueKind::RevocationReview,
        DueKind::RevocationDeadline,
        DueKind::HostingReplace,
        DueKind::AlarmEvaluate,
        DueKind::ValidationDue,
        DueKind::AcmeRenew,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            DueKind::Expiry => "expiry",
            DueKind::ReviewDone => "review_done",
            DueKind::ValidationDeadline => "validation_deadline",
            DueKind::RenewalFee => "renewal_fee",
            DueKind::RevocationReview => "revocation_review",
            DueKind::RevocationDeadline => "revocation_deadline",
            DueKind::HostingReplace => "hosting_replace",
            DueKind::AlarmEvaluate => "alarm_evaluate",
            DueKind::ValidationDue => "validation_due",
            DueKind::AcmeRenew => "acme_renew",
        }
    }

    pub fn parse(s: &str) -> Option<DueKind> {
        DueKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    pub fn describe(self) -> &'static str {
        match self {
            DueKind::Expiry => "certificate expires",
            DueKind::ReviewDone => "CA review ends: certificate issued",
            DueKind::ValidationDeadline => "validation deadline: order fails if not validated",
            DueKind::RenewalFee => "renewal fee deducted, renewal order placed",
            DueKind::RevocationReview => "CA review of the revocation ends: certificate revoked",
            DueKind::RevocationDeadline => {
                "revocation deadline: revocation fails if the domains are not validated"
            }
            DueKind::HostingReplace => {
                "hosting: the new certificate replaces the old on its resources"
            }
            DueKind::AlarmEvaluate => "alarm policy evaluated (AL-2)",
            DueKind::ValidationDue => "validation deadline in 24 hours: reminder",
            DueKind::AcmeRenew => "ACME renewal (or its renewal information) due (AC-4)",
        }
    }
}

/// One schedule entry: `kind` is due for `cert_id` at `due` (whole seconds).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct DueEntry {
    pub due: Timestamp,
    pub kind: DueKind,
    pub cert_id: String,
}

/// The entries a certificate needs, given its current state. Written with the record, removed
/// with it, and recomputed when it changes.
pub fn entries_for(cert: &Certificate) -> Vec<DueEntry> {
    let mut out = Vec::new();
    if let Some(end) = cert.not_after() {
        if matches!(
            cert.status,
            Status::Issued | Status::ToBeRenewed | Status::Reissuing | Status::Revoking
        ) {
            out.push(DueEntry {
                // The schedule keeps whole seconds (as X.509 does).
                due: chrono::DateTime::from_timestamp(end.timestamp(), 0).unwrap_or(end),
                kind: DueKind::Expiry,
                cert_id: cert.id.clone(),
            });
        }
        // AR-3's fee is the sandbox brands'; an ACME certificate renews by its own plan (AC-4).
        let sandbox_product = cert.cert_type.is_some_and(|t| {
            crate::domain::catalogue::find(&cert.brand, t, cert.domain_kind).is_some()
        });
        if cert.auto_renew && cert.status == Status::Issued && sandbox_product {
            let fee =
                end - chrono::Duration::days(crate::domain::rules::renewal::FEE_DAYS_BEFORE_EXPIRY);
            out.push(DueEntry {
                due: chrono::DateTime::from_timestamp(fee.timestamp(), 0).unwrap_or(fee),
                kind: DueKind::RenewalFee,
                cert_id: cert.id.clone(),
            });
        }
    }
    out
}

/// What firing an entry does: the event for the timeline, the record (and order) as they are
/// afterwards when they change, a new private key to seal, and the entries that follow.
#[derive(Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct Fired {
    pub event: TimelineEvent,
    pub updated: Option<Certificate>,
    pub updated_order: Option<OrderInfo>,
    pub new_key_pem: Option<String>,
    pub follow_up: Vec<DueEntry>,
    /// A new order record placed with this effect (AR-5's renewal order), with its payment.
    pub new_order: Option<Box<NewOrder>>,
    /// A document kept with the record (an OV/EV confirmation letter).
    pub letter: Option<Vec<u8>>,
    /// Other records changed with this one (RV-4: the reissues revoked with their original).
    pub others: Vec<Certificate>,
    /// The record's revocation as it is afterwards.
    pub revocation: Option<crate::domain::revocation::Revocation>,
    /// The application file or letter given with a revocation (RV-6 (b), (d)).
    pub revocation_document: Option<Vec<u8>>,
    /// Serials the CA now lists as revoked.
    pub crl: Vec<crate::domain::revocation::CrlEntry>,
    /// Money given back with this effect (D-1: a cancelled review's fee).
    pub refund: Option<crate::domain::account::LedgerEntry>,
    /// T-1: when a late tick did this work, dated at its due time (`None`: on time).
    pub ran_at: Option<Timestamp>,
}

/// T-1: a piece of work due at `due` that runs at `now` is late when it runs a minute or more
/// after its time (a tick runs every minute at most); then the timeline says when it ran.
pub fn ran_late(due: Timestamp, now: Timestamp) -> Option<Timestamp> {
    (now - due >= chrono::Duration::minutes(1)).then_some(now)
}

/// A new order record and everything written with it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct NewOrder {
    pub cert: Certificate,
    pub order: OrderInfo,
    pub event: TimelineEvent,
    /// `None`: free (a reissue).
    pub payment: Option<crate::domain::account::LedgerEntry>,
    /// A private key certdeck generated for the order (a reissue's new key), sealed with it.
    pub key_pem: Option<String>,
    /// What the CA is to certify (a reissue's public key).
    pub reissue: Option<crate::domain::reissue::ReissueRequest>,
}

/// Debug never shows the new private key (or the letter's bytes).
impl std::fmt::Debug for Fired {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Fired")
            .field("event", &self.event)
            .field("updated", &self.updated.as_ref().map(|c| &c.id))
            .field("updated_order", &self.updated_order.is_some())
            .field(
                "new_key_pem",
                &self.new_key_pem.as_ref().map(|_| "<redacted>"),
            )
            .field("follow_up", &self.follow_up)
            .field("new_order", &self.new_order.as_ref().map(|n| &n.cert.id))
            .field("letter_bytes", &self.letter.as_ref().map(Vec::len))
            .field(
                "others",
                &self.others.iter().map(|c| &c.id).collect::<Vec<_>>(),
            )
            .field("revocation", &self.revocation)
            .field(
                "revocation_document_bytes",
                &self.revocation_document.as_ref().map(Vec::len),
            )
            .field("crl", &self.crl)
            .finish()
    }
}

/// What the engine must do with a due entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Firing {
    /// Record this effect.
    Done(Box<Fired>),
    /// The CA backend must issue the certificate; `issued` then builds the effect.
    Issue,
    /// The renewal fee is due: the engine checks the balance, then `renew` or `fee_not_covered`.
    Renew,
    /// A revocation's review or deadline: the engine loads the records it covers, then
    /// `rules::revoke::concluded` decides.
    Revocation,
}

/// One line of what a tick did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FiredNote {
    pub cert_id: String,
    pub kind: DueKind,
    pub due: Timestamp,
    pub message: String,
}

impl FiredNote {
    /// What `entry` did, said by `message`.
    pub fn of(entry: &DueEntry, message: String) -> FiredNote {
        FiredNote {
            cert_id: entry.cert_id.clone(),
            kind: entry.kind,
            due: entry.due,
            message,
        }
    }
}

/// What one tick did: the entries that fired, and the stale ones dropped without effect.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickReport {
    pub fired: Vec<FiredNote>,
    pub dropped: usize,
    /// Entries whose work failed (e.g. the CA refused); they stay scheduled and are retried.
    pub failed: Vec<FiredNote>,
    /// Outbox deliveries tried (issue #6).
    pub deliveries_tried: usize,
    /// DS-4: what the hourly rescan found, when it changed something.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rescan: Option<String>,
}

/// Every entry a certificate, its order and its revocation need now.
pub fn all_entries(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    revocation: Option<&Revocation>,
) -> Vec<DueEntry> {
    let mut v = entries_for(cert);
    if let Some(o) = order {
        if matches!(cert.status, Status::Validating | Status::AwaitingLetter) {
            v.extend(order_entries(&cert.id, o));
        }
    }
    if let Some(r) = revocation {
        if cert.status == Status::Revoking {
            v.extend(r.entries(&cert.id));
        }
    }
    v
}

/// Fires `entry` at `now`. `None`: the entry is stale (the certificate or order changed since it
/// was written) and is dropped without effect. The store removes an entry in the transaction
/// that records its effect, so no entry fires twice.
pub fn fire(
    entry: &DueEntry,
    cert: &Certificate,
    order: Option<&OrderInfo>,
    revocation: Option<&Revocation>,
    now: Timestamp,
) -> Option<Firing> {
    if now < entry.due || !all_entries(cert, order, revocation).contains(entry) {
        return None;
    }
    let at = entry.due.format("%Y-%m-%d %H:%M:%S UTC");
    let event = |kind: &str, message: String| TimelineEvent {
        at: now,
        kind: kind.into(),
        message,
    };
    Some(match entry.kind {
        DueKind::Expiry => Firing::Done(Box::new(Fired {
            event: event(
                "expired",
                format!("expired at {at} (not_after); it can no longer be served"),
            ),
            ..Default::default()
        })),
        DueKind::ValidationDeadline => {
            let mut updated = cert.clone();
            updated.status = Status::Failed;
            let mut order = order.cloned()?;
            order.deadline = None;
            Firing::Done(Box::new(Fired {
                event: event(
                    "failed",
                    format!(
                        "the domains were not validated by {at}: the order failed and the certificate cannot be issued ({})",
                        order.deadline_rule()
                    ),
                ),
                updated: Some(updated),
                updated_order: Some(order),
                ..Default::default()
            }))
        }
        DueKind::ValidationDue => Firing::Done(Box::new(Fired {
            event: event(
                "validation_due",
                format!(
                    "the domains are not validated yet: validate them by {} or the order fails (AR-6)",
                    order.and_then(|o| o.deadline).map(|d| d.format("%Y-%m-%d %H:%M UTC").to_string()).unwrap_or_default()
                ),
            ),
            ..Default::default()
        })),
        DueKind::ReviewDone => Firing::Issue,
        DueKind::RenewalFee => Firing::Renew,
        DueKind::RevocationReview | DueKind::RevocationDeadline => Firing::Revocation,
        // Hosting entries are keyed by hosting, not certificate: the engine fires them itself.
        DueKind::HostingReplace | DueKind::AlarmEvaluate | DueKind::AcmeRenew => return None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::model::{DomainKind, KeyAlgorithm, Source, Standard, X509Facts};
    use chrono::{Duration, TimeZone, Utc};

    pub fn cert(status: Status, not_after: Option<Timestamp>) -> Certificate {
        let x509 = not_after.map(|na| X509Facts {
            version: 3,
            subject: "CN=a".into(),
            subject_cn: Some("a".into()),
            subject_org: None,
            sans: vec!["a".into()],
            issuer: "CN=ca".into(),
            issuer_cn: Some("ca".into()),
            issuer_org: None,
            serial: "01".into(),
            not_before: na - Duration::days(365),
            not_after: na,
            signature_algorithm: "ecdsa-with-SHA256".into(),
            key_algorithm: KeyAlgorithm::Ecdsa,
            key_bits: 256,
            fingerprint_sha256: "00".repeat(32),
            is_ca: false,
            key_usage: vec![],
            extended_key_usage: vec![],
            policies: vec![],
        });
        Certificate {
            id: "abcdEFGH".into(),
            name: "a".into(),
            source: Source::Uploaded,
            status,
            brand: "CA".into(),
            cert_type: None,
            standard: Standard::International,
            domain_kind: DomainKind::Single,
            domains: vec!["a".into()],
            x509,
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
            created_at: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        }
    }

    #[test]
    fn debug_output_never_shows_a_new_private_key() {
        let fired = Fired {
            new_key_pem: Some("-----BEGIN PRIVATE KEY-----\nSECRET".into()),
            ..Default::default()
        };
        let shown = format!("{fired:?}");
        assert!(
            !shown.contains("SECRET") && shown.contains("redacted"),
            "{shown}"
        );
    }

    #[test]
    fn every_kind_round_trips_through_its_stored_name() {
        for k in DueKind::ALL {
            assert_eq!(DueKind::parse(k.as_str()), Some(k));
        }
        // A new kind must be listed in ALL, or stored entries of it could not be read back.
        let listed = |k: DueKind| match k {
            DueKind::Expiry
            | DueKind::ReviewDone
            | DueKind::ValidationDeadline
            | DueKind::RenewalFee
            | DueKind::RevocationReview
            | DueKind::RevocationDeadline
            | DueKind::HostingReplace
            | DueKind::AlarmEvaluate
            | DueKind::ValidationDue
            | DueKind::AcmeRenew => DueKind::ALL.contains(&k),
        };
        assert!(DueKind::ALL.iter().all(|k| listed(*k)));
    }

    #[test]
    fn live_certificates_schedule_their_expiry_and_others_do_not() {
        let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(entries_for(&cert(Status::Issued, Some(end)))[0].due, end);
        assert!(entries_for(&cert(Status::Revoked, Some(end))).is_empty());
        assert!(entries_for(&cert(Status::Validating, None)).is_empty());
    }

    #[test]
    fn expiry_fires_at_not_after_exactly_and_not_a_second_before() {
        let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        let c = cert(Status::Issued, Some(end));
        let entry = entries_for(&c).remove(0);
        assert!(fire(&entry, &c, None, None, end - Duration::seconds(1)).is_none());
        let Some(Firing::Done(fired)) = fire(&entry, &c, None, None, end) else {
            panic!("expiry is recorded")
        };
        assert_eq!(fired.event.kind, "expired");
        assert!(fired.follow_up.is_empty() && fired.updated.is_none());
    }

    #[test]
    fn entries_keep_whole_seconds_so_a_fractional_expiry_still_fires() {
        let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap() + Duration::milliseconds(750);
        let c = cert(Status::Issued, Some(end));
        let entry = entries_for(&c).remove(0);
        assert_eq!(entry.due.timestamp_subsec_nanos(), 0);
        assert!(fire(&entry, &c, None, None, end).is_some());
    }

    #[test]
    fn stale_entries_are_dropped_without_effect() {
        let end = Utc.with_ymd_and_hms(2027, 1, 1, 0, 0, 0).unwrap();
        let entry = entries_for(&cert(Status::Issued, Some(end))).remove(0);
        assert!(fire(&entry, &cert(Status::Revoked, Some(end)), None, None, end).is_none());
        let moved = cert(Status::Issued, Some(end + Duration::days(1)));
        assert!(fire(&entry, &moved, None, None, end + Duration::days(2)).is_none());
    }
}
