//! The message center (issue #6): what the rules tell the user, stored with the certificate,
//! time and severity. Each message comes from a timeline event of the kinds below, written in the
//! same transaction, so none is lost and none is sent twice.
use crate::domain::model::TimelineEvent;
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    Info,
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Message {
    pub id: u64,
    pub at: Timestamp,
    pub cert_id: Option<String>,
    /// The event kind it came from (`renewal`, `hosting_failed`, `expired`, …).
    pub kind: String,
    pub severity: Severity,
    pub text: String,
    pub read: bool,
}

/// The severity of a timeline event that is worth a message, or `None` for one that is not
/// (an upload, a reminder sent, a switch flipped). IG-2: an ignored certificate's expiry
/// raises no message.
pub fn severity_of(event: &TimelineEvent, ignored: bool) -> Option<Severity> {
    Some(match event.kind.as_str() {
        "renewal" | "issued" | "hosting" | "hosting_succeeded" | "revoked" | "validated" => {
            Severity::Info
        }
        "revocation"
        | "deploy_failed"
        | "alarm"
        | "validation_due"
        | "renewal_failed"
        | "drift"
        | "gone"
        | "intermediate_expiring" => Severity::Warning,
        "auto_renew_terminated" | "failed" | "hosting_failed" | "revocation_failed" => {
            Severity::Critical
        }
        "expired" if !ignored => Severity::Critical,
        _ => return None,
    })
}

/// The message an event raises (its id is given by the store).
pub fn message_for(cert_id: &str, ignored: bool, event: &TimelineEvent) -> Option<Message> {
    severity_of(event, ignored).map(|severity| Message {
        id: 0,
        at: event.at,
        cert_id: Some(cert_id.to_string()),
        kind: event.kind.clone(),
        severity,
        text: event.message.clone(),
        read: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(kind: &str) -> TimelineEvent {
        TimelineEvent {
            at: chrono::Utc::now(),
            kind: kind.into(),
            message: "m".into(),
        }
    }

    #[test]
    fn rule_ig2_an_ignored_certificate_raises_no_expiry_message() {
        assert_eq!(
            severity_of(&event("expired"), false),
            Some(Severity::Critical)
        );
        assert_eq!(severity_of(&event("expired"), true), None);
        // Other messages still come: ignoring is about expiry.
        assert_eq!(
            severity_of(&event("hosting_failed"), true),
            Some(Severity::Critical)
        );
    }

    #[test]
    fn rule_events_map_to_messages() {
        assert_eq!(severity_of(&event("renewal"), false), Some(Severity::Info));
        assert_eq!(
            severity_of(&event("auto_renew_terminated"), false),
            Some(Severity::Critical)
        );
        assert_eq!(severity_of(&event("uploaded"), false), None);
        assert_eq!(
            message_for("c", false, &event("issued"))
                .unwrap()
                .cert_id
                .as_deref(),
            Some("c")
        );
    }
}
