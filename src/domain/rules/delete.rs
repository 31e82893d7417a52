//! SPEC §7, deletion (D-1..D-3).
use crate::domain::model::{CertSummary, Source, Status};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::Timestamp;

/// What deleting will do, for the confirmation to say before it happens.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeletePlan {
    pub id: String,
    pub name: String,
    /// D-3: the resources the certificate is deployed to, named in the confirmation.
    pub resources: Vec<String>,
    /// D-3: its hostings in progress (by id), cancelled with it.
    pub hostings: Vec<String>,
}

impl DeletePlan {
    pub fn confirmation_text(&self) -> String {
        let mut s = format!(
            "Delete \"{}\" ({})? Its record, chain, private key and timeline are removed from the store. This cannot be undone.",
            self.name, self.id
        );
        if !self.resources.is_empty() {
            s.push_str(&format!(
                " It is deployed to {} resource(s): {}. The files on them are left as they are, and certdeck stops tracking them (D-3).",
                self.resources.len(),
                self.resources.join(", ")
            ));
        }
        if !self.hostings.is_empty() {
            s.push_str(&format!(
                " Its hosting(s) in progress ({}) are cancelled (D-3).",
                self.hostings.join(", ")
            ));
        }
        s
    }
}

/// D-1 and D-2: whether `cert` may be deleted now. `resources` are those it is deployed to (D-3).
pub fn check_delete(
    cert: &CertSummary,
    resources: Vec<String>,
    now: Timestamp,
) -> Result<DeletePlan, Refusal> {
    let status = cert.status_at(now);
    let deletable = matches!(cert.source, Source::Uploaded | Source::Discovered)
        || matches!(
            status,
            Status::Expired | Status::Revoked | Status::Cancelled | Status::Failed
        );
    if !deletable {
        let refusal = if matches!(
            status,
            Status::Issued | Status::ToBeRenewed | Status::Reissuing
        ) {
            Refusal::new(
                "D-2",
                Field::Id,
                format!("cannot delete: {} is an issued certificate that has not expired; revoke it first", cert.id),
            )
        } else {
            Refusal::new(
                "D-1",
                Field::Id,
                format!(
                    "cannot delete: {} is {}; only expired, revoked, review-cancelled, failed, uploaded and discovered certificates can be deleted (an order still in review: `certdeck cancel {}` first)",
                    cert.id,
                    status.as_str(),
                    cert.id
                ),
            )
        };
        return Err(refusal);
    }
    Ok(DeletePlan {
        id: cert.id.clone(),
        name: cert.name.clone(),
        resources,
        hostings: Vec::new(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Standard;
    use chrono::{Duration, TimeZone, Utc};

    fn summary(source: Source, status: Status, not_after: Timestamp) -> CertSummary {
        CertSummary {
            id: "e79vbLDZ".into(),
            name: "shop".into(),
            source,
            status,
            brand: "DNSPod".into(),
            cert_type: None,
            standard: Standard::International,
            domains: vec!["shop.example".into()],
            issuer: "CA".into(),
            not_after: Some(not_after),
            auto_renew: false,
            ignored: false,
            tags: Default::default(),
            project: None,
        }
    }

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap()
    }

    #[test]
    fn rule_d1_uploaded_can_be_deleted_any_time() {
        let c = summary(
            Source::Uploaded,
            Status::Issued,
            now() + Duration::days(300),
        );
        assert!(check_delete(&c, vec![], now()).is_ok());
    }

    #[test]
    fn rule_d1_expired_revoked_cancelled_issued_can_be_deleted() {
        let expired = summary(Source::Issued, Status::Issued, now());
        assert!(
            check_delete(&expired, vec![], now()).is_ok(),
            "not_after == now is expired"
        );
        for st in [Status::Revoked, Status::Cancelled, Status::Failed] {
            assert!(check_delete(
                &summary(Source::Issued, st, now() + Duration::days(9)),
                vec![],
                now()
            )
            .is_ok());
        }
    }

    #[test]
    fn rule_d1_orders_in_progress_cannot_be_deleted() {
        for st in [Status::Validating, Status::AwaitingLetter, Status::Revoking] {
            let e = check_delete(
                &summary(Source::Issued, st, now() + Duration::days(9)),
                vec![],
                now(),
            )
            .unwrap_err();
            assert_eq!(e.rule, "D-1", "{st:?}");
        }
    }

    #[test]
    fn rule_d1_a_discovered_certificate_can_be_deleted_like_an_uploaded_one() {
        let watched = summary(
            Source::Discovered,
            Status::Issued,
            now() + Duration::days(300),
        );
        assert!(check_delete(&watched, vec![], now()).is_ok());
    }

    #[test]
    fn rule_d2_issued_unexpired_must_be_revoked_first() {
        let one_second_left = summary(Source::Issued, Status::Issued, now() + Duration::seconds(1));
        let e = check_delete(&one_second_left, vec![], now()).unwrap_err();
        assert_eq!(e.rule, "D-2");
        assert!(e.message.contains("revoke it first"));
    }

    #[test]
    fn rule_d3_confirmation_names_every_resource() {
        let c = summary(Source::Uploaded, Status::Issued, now() + Duration::days(3));
        let plan =
            check_delete(&c, vec!["web-1 nginx".into(), "lb haproxy".into()], now()).unwrap();
        let text = plan.confirmation_text();
        assert!(
            text.contains("web-1 nginx") && text.contains("lb haproxy") && text.contains("D-3")
        );
        let plain = check_delete(&c, vec![], now()).unwrap().confirmation_text();
        assert!(!plain.contains("D-3"));
    }
}
