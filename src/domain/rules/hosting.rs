//! SPEC §4, hosting (H-1..H-7): automatic replacement of an old certificate on its resources
//! by its renewal (or a chosen certificate) N days before the old one expires.
use crate::domain::delivery::Delivery;
use crate::domain::model::{Certificate, Status, TimelineEvent};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::alarm::{Channel, RecipientGroup};
use crate::domain::schedule::{DueEntry, DueKind};
use crate::domain::time::{days_left, Timestamp};
use serde::{Deserialize, Serialize};

/// H-7.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HostingStatus {
    InProgress,
    Succeeded,
    Failed,
    Cancelled,
    /// H-7: the old certificate was put back by hand after the hosting ran (its own state, so
    /// a rollback never reads as `succeeded`).
    RolledBack,
}

impl HostingStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            HostingStatus::InProgress => "in_progress",
            HostingStatus::Succeeded => "succeeded",
            HostingStatus::Failed => "failed",
            HostingStatus::Cancelled => "cancelled",
            HostingStatus::RolledBack => "rolled_back",
        }
    }

    /// The state in words, for people; `as_str` is the JSON's.
    pub fn label(self) -> &'static str {
        match self {
            HostingStatus::InProgress => "in progress",
            HostingStatus::RolledBack => "rolled back",
            other => other.as_str(),
        }
    }
}

/// H-2: which certificate replaces the old one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Association {
    /// The certificate that renews the old one, whenever it is issued.
    Renewal,
    /// A certificate the user chose.
    Specified(String),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hosting {
    pub id: String,
    pub old_cert: String,
    pub association: Association,
    /// The resources (ids) the replacement goes to.
    pub resources: Vec<String>,
    pub days_before: u32,
    pub replace_at: Timestamp,
    pub status: HostingStatus,
    /// The certificate that was deployed, once known.
    pub new_cert: Option<String>,
    /// What the last run did, in one line.
    pub last_result: Option<String>,
    /// H-6: send hosting messages (scheduled, succeeded, failed).
    pub notify: bool,
    /// H-6: the recipient group whose channels get those messages too.
    pub group: Option<String>,
    pub created_at: Timestamp,
}

impl Hosting {
    /// H-5: the schedule entry of an in-progress hosting (keyed by the hosting's id).
    pub fn entry(&self) -> Option<DueEntry> {
        (self.status == HostingStatus::InProgress).then(|| DueEntry {
            due: chrono::DateTime::from_timestamp(self.replace_at.timestamp(), 0)
                .unwrap_or(self.replace_at),
            kind: DueKind::HostingReplace,
            cert_id: self.id.clone(),
        })
    }
}

/// What the user asks for.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostingRequest {
    pub old_cert: String,
    pub association: Association,
    /// Empty: every resource the old certificate is deployed to.
    pub resources: Vec<String>,
    pub days_before: u32,
    /// H-3: the user confirmed a specified certificate that does not cover every domain.
    pub confirm_partial: bool,
    pub notify: bool,
    /// H-6: a recipient group (its name) whose channels get the hosting's messages.
    pub group: Option<String>,
}

/// A change to an in-progress hosting; `None` keeps what the hosting has.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HostingEdit {
    pub id: String,
    pub days_before: u32,
    pub association: Option<Association>,
    pub confirm_partial: bool,
    pub group: Option<Option<String>>,
    pub notify: Option<bool>,
}

fn refuse(rule: &str, field: Field, m: String) -> Refusal {
    Refusal::new(rule, field, m)
}

/// H-3: the old certificate's domains the new one does not cover (wildcards cover one label).
pub fn uncovered(old: &Certificate, new: &Certificate) -> Vec<String> {
    let covers = |pattern: &str, name: &str| {
        let (p, n) = (pattern.to_ascii_lowercase(), name.to_ascii_lowercase());
        if p == n {
            return true;
        }
        match p.strip_prefix("*.") {
            Some(base) => n.split_once('.').is_some_and(|(label, rest)| {
                !label.is_empty() && rest == base && !n.starts_with("*.")
            }),
            None => false,
        }
    };
    old.domains
        .iter()
        .filter(|d| !new.domains.iter().any(|p| covers(p, d)))
        .cloned()
        .collect()
}

/// H-1..H-4: a new hosting of `old`, deployed to `deployed_to` (resource ids) now.
pub fn plan(
    req: &HostingRequest,
    old: &Certificate,
    specified: Option<&Certificate>,
    deployed_to: &[String],
    id: String,
    now: Timestamp,
) -> Result<(Hosting, Vec<String>), Refusal> {
    if deployed_to.is_empty() {
        return Err(refuse(
            "H-1",
            Field::Id,
            format!(
                "{} is not deployed to any resource: a hosting would have nothing to replace",
                old.id
            ),
        ));
    }
    let resources = if req.resources.is_empty() {
        deployed_to.to_vec()
    } else {
        if let Some(r) = req.resources.iter().find(|r| !deployed_to.contains(r)) {
            return Err(refuse(
                "H-1",
                Field::Id,
                format!(
                    "{} is not deployed to resource {r}; choose among {}",
                    old.id,
                    deployed_to.join(", ")
                ),
            ));
        }
        req.resources.clone()
    };
    check_association(old, &req.association)?;
    if matches!(
        old.status_at(now),
        Status::Revoking | Status::Revoked | Status::Expired
    ) {
        return Err(refuse(
            "H-1",
            Field::Id,
            format!(
                "{} is {}: there is nothing left to host",
                old.id,
                old.status_at(now).as_str()
            ),
        ));
    }
    let not_after = old.not_after().ok_or_else(|| {
        refuse(
            "H-4",
            Field::Id,
            format!("{} has no certificate yet", old.id),
        )
    })?;
    let left = days_left(not_after, now);
    // T-3: the exact time left must exceed N × 24 h.
    if req.days_before == 0
        || !crate::domain::time::more_than_days_left(not_after, now, req.days_before as i64)
    {
        return Err(refuse(
            "H-4",
            Field::Years,
            format!(
                "{} days before expiry cannot be chosen: {} has {left} days left, and the replacement time must be from 1 to {} days before expiry",
                req.days_before,
                old.id,
                (left - 1).max(0)
            ),
        ));
    }
    let mut warnings = Vec::new();
    if let Association::Specified(sid) = &req.association {
        let new = specified
            .ok_or_else(|| refuse("H-2", Field::Id, format!("no certificate with id {sid}")))?;
        if new.id == old.id {
            return Err(refuse(
                "H-2",
                Field::Id,
                "a certificate cannot replace itself".into(),
            ));
        }
        let missing = uncovered(old, new);
        if !missing.is_empty() {
            let warning = format!(
                "{} does not cover every domain of {}: {} would no longer be served with a valid certificate (H-3)",
                new.id,
                old.id,
                missing.join(", ")
            );
            if !req.confirm_partial {
                return Err(refuse(
                    "H-3",
                    Field::Domain,
                    format!("{warning}; confirm to go on (--confirm-partial)"),
                ));
            }
            warnings.push(warning);
        }
    }
    let replace_at = not_after - chrono::Duration::days(req.days_before as i64);
    Ok((
        Hosting {
            id,
            old_cert: old.id.clone(),
            association: req.association.clone(),
            resources,
            days_before: req.days_before,
            replace_at,
            status: HostingStatus::InProgress,
            new_cert: None,
            last_result: None,
            notify: req.notify,
            group: req.group.clone(),
            created_at: now,
        },
        warnings,
    ))
}

/// H-1: one certificate is replaced on one resource by one hosting at a time: a new hosting
/// whose resources overlap an in-progress one of the same certificate is refused.
pub fn check_not_hosted_twice(new: &Hosting, existing: &[Hosting]) -> Result<(), Refusal> {
    for h in existing.iter().filter(|h| {
        h.id != new.id && h.old_cert == new.old_cert && h.status == HostingStatus::InProgress
    }) {
        if let Some(r) = new.resources.iter().find(|r| h.resources.contains(r)) {
            return Err(refuse(
                "H-1",
                Field::Id,
                format!(
                    "hosting {} already replaces {} on resource {r} (in progress); edit or cancel it first",
                    h.id, new.old_cert
                ),
            ));
        }
    }
    Ok(())
}

/// H-5: the certificate to deploy at the replacement time, or why the hosting fails.
pub fn replacement<'a>(
    hosting: &Hosting,
    candidate: Option<&'a Certificate>,
    now: Timestamp,
) -> Result<&'a Certificate, String> {
    let what = match &hosting.association {
        Association::Renewal => "the renewal",
        Association::Specified(_) => "the specified certificate",
    };
    match candidate {
        None => Err(format!(
            "{what} of {} does not exist: nothing to deploy",
            hosting.old_cert
        )),
        Some(c)
            if c.status_at(now) == Status::Issued || c.status_at(now) == Status::ToBeRenewed =>
        {
            Ok(c)
        }
        Some(c) => Err(format!(
            "{what} {} is not issued yet ({}): the hosting fails (H-5)",
            c.id,
            c.status_at(now).as_str()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::Standard;
    use chrono::{Duration, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    fn cert(id: &str, domains: &[&str], days_left: i64) -> Certificate {
        let mut c = crate::domain::rules::revoke::tests::issued(
            "DNSPod",
            Standard::International,
            crate::domain::model::CertType::Dv,
            now() - Duration::days(100),
            now() + Duration::days(days_left),
        );
        c.id = id.into();
        c.domains = domains.iter().map(|d| d.to_string()).collect();
        c
    }

    fn req(days: u32) -> HostingRequest {
        HostingRequest {
            old_cert: "old".into(),
            association: Association::Renewal,
            resources: vec![],
            days_before: days,
            confirm_partial: false,
            notify: true,
            group: None,
        }
    }

    #[test]
    fn rule_h1_a_hosting_needs_a_resource() {
        let r = plan(
            &req(5),
            &cert("old", &["a.com"], 40),
            None,
            &[],
            "h".into(),
            now(),
        )
        .unwrap_err();
        assert_eq!(r.rule, "H-1");
        let r = plan(
            &HostingRequest {
                resources: vec!["other".into()],
                ..req(5)
            },
            &cert("old", &["a.com"], 40),
            None,
            &["res1".into()],
            "h".into(),
            now(),
        )
        .unwrap_err();
        assert_eq!(r.rule, "H-1");
    }

    #[test]
    fn rule_h1_one_certificate_is_hosted_once_per_resource() {
        let old = cert("old", &["a.com"], 40);
        let deployed: Vec<String> = vec!["r1".into(), "r2".into(), "r3".into()];
        let on = |resources: &[&str], id: &str| {
            let req = HostingRequest {
                resources: resources.iter().map(|r| r.to_string()).collect(),
                ..req(5)
            };
            plan(&req, &old, None, &deployed, id.into(), now())
                .unwrap()
                .0
        };
        let first = on(&["r1", "r2"], "h1");
        let r =
            check_not_hosted_twice(&on(&["r2"], "h2"), std::slice::from_ref(&first)).unwrap_err();
        assert_eq!(r.rule, "H-1");
        assert!(r.message.contains("h1") && r.message.contains("r2"), "{r}");
        // Another resource, or once the first is over: allowed.
        assert!(check_not_hosted_twice(&on(&["r3"], "h2"), std::slice::from_ref(&first)).is_ok());
        let cancelled = Hosting {
            status: HostingStatus::Cancelled,
            ..first
        };
        assert!(check_not_hosted_twice(&on(&["r2"], "h2"), &[cancelled]).is_ok());
    }

    #[test]
    fn rule_h3_a_specified_certificate_missing_domains_needs_confirmation() {
        let old = cert("old", &["a.com", "b.com"], 40);
        let new = cert("new", &["a.com"], 400);
        let mut rq = req(5);
        rq.association = Association::Specified("new".into());
        let r = plan(&rq, &old, Some(&new), &["r".into()], "h".into(), now()).unwrap_err();
        assert_eq!(r.rule, "H-3");
        assert!(r.message.contains("b.com"));
        rq.confirm_partial = true;
        let (_, warnings) = plan(&rq, &old, Some(&new), &["r".into()], "h".into(), now()).unwrap();
        assert_eq!(warnings.len(), 1);
        let wild = cert("w", &["*.a.com"], 400);
        assert!(uncovered(&cert("o", &["www.a.com"], 40), &wild).is_empty());
        assert_eq!(
            uncovered(&cert("o", &["a.com", "x.y.a.com"], 40), &wild).len(),
            2
        );
    }

    #[test]
    fn rule_h4_replacement_days_must_be_fewer_than_the_days_left() {
        let old = cert("old", &["a.com"], 7);
        let r = plan(&req(25), &old, None, &["r".into()], "h".into(), now()).unwrap_err();
        assert_eq!(r.rule, "H-4");
        assert!(r.message.contains("7 days left"), "{}", r.message);
        assert!(
            plan(&req(7), &old, None, &["r".into()], "h".into(), now()).is_err(),
            "7 of 7: not more than N"
        );
        let (h, _) = plan(&req(6), &old, None, &["r".into()], "h".into(), now()).unwrap();
        assert_eq!(h.replace_at, old.not_after().unwrap() - Duration::days(6));
        assert_eq!(h.entry().unwrap().kind, DueKind::HostingReplace);
        assert!(plan(&req(0), &old, None, &["r".into()], "h".into(), now()).is_err());
    }

    #[test]
    fn rule_h5_an_unissued_replacement_fails_the_hosting() {
        let (h, _) = plan(
            &req(5),
            &cert("old", &["a.com"], 40),
            None,
            &["r".into()],
            "h".into(),
            now(),
        )
        .unwrap();
        assert!(replacement(&h, None, now())
            .unwrap_err()
            .contains("does not exist"));
        let mut pending = cert("new", &["a.com"], 400);
        pending.status = Status::Validating;
        assert!(replacement(&h, Some(&pending), now())
            .unwrap_err()
            .contains("not issued yet"));
        let ok = cert("new", &["a.com"], 400);
        assert_eq!(replacement(&h, Some(&ok), now()).unwrap().id, "new");
    }
}

/// H-7: only an in-progress hosting can be changed.
pub fn check_editable(h: &Hosting) -> Result<(), Refusal> {
    if h.status == HostingStatus::InProgress {
        return Ok(());
    }
    Err(refuse(
        "H-7",
        Field::Id,
        format!(
            "hosting {} is {}: only an in-progress hosting can be changed",
            h.id,
            h.status.as_str()
        ),
    ))
}

/// H-1, H-2: the renewal can replace only a certificate certdeck renews (one it issued); an
/// uploaded or discovered one never gets a renewal, so only a specified certificate can.
pub fn check_association(old: &Certificate, association: &Association) -> Result<(), Refusal> {
    if *association == Association::Renewal && old.source != crate::domain::model::Source::Issued {
        return Err(refuse(
            "H-1",
            Field::Id,
            format!(
                "{} is {}: certdeck never renews it, so its renewal cannot replace it; name the certificate that does (--new ID) (H-1, H-2)",
                old.id,
                old.source.as_str()
            ),
        ));
    }
    Ok(())
}

/// Changes an in-progress hosting: its replacement days, what replaces the old certificate
/// (kept when the edit names none), its group and messages, checked again by H-2..H-4 and H-6.
/// The resources and the id stay.
pub fn edit(
    h: &Hosting,
    old: &Certificate,
    change: &HostingEdit,
    specified: Option<&Certificate>,
    groups: &[RecipientGroup],
    now: Timestamp,
) -> Result<(Hosting, Vec<String>), Refusal> {
    check_editable(h)?;
    let req = HostingRequest {
        old_cert: h.old_cert.clone(),
        association: change
            .association
            .clone()
            .unwrap_or_else(|| h.association.clone()),
        resources: h.resources.clone(),
        days_before: change.days_before,
        confirm_partial: change.confirm_partial,
        notify: change.notify.unwrap_or(h.notify),
        group: change.group.clone().unwrap_or_else(|| h.group.clone()),
    };
    check_group(req.group.as_deref(), groups)?;
    let (mut new, warnings) = plan(&req, old, specified, &h.resources, h.id.clone(), now)?;
    new.created_at = h.created_at;
    Ok((new, warnings))
}

/// H-6: a hosting's group must exist when it is chosen.
pub fn check_group(group: Option<&str>, groups: &[RecipientGroup]) -> Result<(), Refusal> {
    match group {
        Some(name) if !groups.iter().any(|g| g.name == name) => Err(refuse(
            "H-6",
            Field::Group,
            if groups.is_empty() {
                format!("no recipient group called {name}: there are none yet (certdeck alarm group add NAME …)")
            } else {
                format!(
                    "no recipient group called {name}; choose among {}",
                    groups
                        .iter()
                        .map(|g| g.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        )),
        _ => Ok(()),
    }
}

/// H-6: whether an event of this hosting is raised at all (message center and channels).
pub fn speaks(h: &Hosting) -> bool {
    h.notify
}

/// H-6: the deliveries of one hosting event to its group's channels (none when the hosting is
/// quiet or has no group). Their idempotency keys name the hosting, the event and its time.
pub fn deliveries(
    h: &Hosting,
    event: &TimelineEvent,
    groups: &[RecipientGroup],
    now: Timestamp,
) -> Vec<Delivery> {
    let Some(group) = h.group.as_deref().filter(|_| speaks(h)) else {
        return Vec::new();
    };
    let body = serde_json::json!({
        "event": event.kind,
        "hosting": {"id": h.id, "status": h.status.as_str(), "group": group},
        "cert_id": h.old_cert,
        "new_cert_id": h.new_cert,
        "replace_at": h.replace_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "fired_at": event.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "text": event.message,
    })
    .to_string();
    let mut seen: Vec<&Channel> = Vec::new();
    groups
        .iter()
        .filter(|g| g.name == group)
        .flat_map(|g| g.members.iter())
        .filter(|m| {
            let fresh = !seen.contains(&&m.channel);
            seen.push(&m.channel);
            fresh
        })
        .enumerate()
        .map(|(i, m)| {
            Delivery::pending(
                &h.id,
                format!("{} ({group})", m.name),
                m.channel.clone(),
                body.clone(),
                format!("{}-{}-{}-{i}", h.id, event.kind, event.at.timestamp()),
                now,
            )
        })
        .collect()
}

#[cfg(test)]
mod association_tests {
    use super::*;
    use crate::domain::model::{Source, Standard};
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn rule_h2_the_renewal_replaces_only_what_certdeck_renews_a_specified_one_anything() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap();
        let mut old = crate::domain::rules::revoke::tests::issued(
            "DNSPod",
            Standard::International,
            crate::domain::model::CertType::Dv,
            now - Duration::days(100),
            now + Duration::days(100),
        );
        let mut new = old.clone();
        new.id = "new00001".into();
        let req = |association| HostingRequest {
            old_cert: old.id.clone(),
            association,
            resources: vec![],
            days_before: 10,
            confirm_partial: false,
            notify: true,
            group: None,
        };
        let deployed = ["r".to_string()];
        for source in [Source::Uploaded, Source::Discovered] {
            old.source = source;
            let e = plan(
                &req(Association::Renewal),
                &old,
                None,
                &deployed,
                "h".into(),
                now,
            )
            .unwrap_err();
            assert_eq!(e.rule, "H-1", "{e:?}");
            assert!(e.message.contains(source.as_str()), "{}", e.message);
            assert!(plan(
                &req(Association::Specified(new.id.clone())),
                &old,
                Some(&new),
                &deployed,
                "h".into(),
                now
            )
            .is_ok());
        }
        old.source = Source::Issued;
        assert!(plan(
            &req(Association::Renewal),
            &old,
            None,
            &deployed,
            "h".into(),
            now
        )
        .is_ok());
    }
}

#[cfg(test)]
mod edit_tests {
    use super::*;

    #[test]
    fn rule_h4_an_edit_is_checked_again_and_only_while_in_progress() {
        let now = chrono::Utc::now();
        let old = old(now, 20);
        let req = request(Association::Renewal, None);
        let (h, _) = plan(&req, &old, None, &["r".into()], "h".into(), now).unwrap();
        let (e, _) = edit(&h, &old, &days(10), None, &[], now).unwrap();
        assert_eq!(
            e.replace_at,
            old.not_after().unwrap() - chrono::Duration::days(10)
        );
        assert_eq!((e.id.as_str(), e.created_at), ("h", h.created_at));
        assert_eq!(
            edit(&h, &old, &days(30), None, &[], now).unwrap_err().rule,
            "H-4"
        );
        let mut done = h.clone();
        done.status = HostingStatus::Succeeded;
        assert_eq!(
            edit(&done, &old, &days(5), None, &[], now)
                .unwrap_err()
                .rule,
            "H-7"
        );
    }

    /// An issued certificate "old" with `days_left` days left at `now`.
    fn old(now: Timestamp, days_left: i64) -> Certificate {
        let mut old = crate::domain::rules::revoke::tests::issued(
            "DNSPod",
            crate::domain::model::Standard::International,
            crate::domain::model::CertType::Dv,
            now - chrono::Duration::days(100),
            now + chrono::Duration::days(days_left),
        );
        old.id = "old".into();
        old
    }

    /// A hosting of "old", 5 days before expiry.
    fn request(association: Association, group: Option<&str>) -> HostingRequest {
        HostingRequest {
            old_cert: "old".into(),
            association,
            resources: vec![],
            days_before: 5,
            confirm_partial: false,
            notify: true,
            group: group.map(str::to_string),
        }
    }

    fn days(n: u32) -> HostingEdit {
        HostingEdit {
            id: "h".into(),
            days_before: n,
            association: None,
            confirm_partial: false,
            group: None,
            notify: None,
        }
    }

    fn group(name: &str, channels: &[&str]) -> RecipientGroup {
        RecipientGroup {
            name: name.into(),
            members: channels
                .iter()
                .map(|c| crate::domain::rules::alarm::Recipient {
                    name: c.to_string(),
                    group: None,
                    channel: Channel::Command {
                        program: format!("/usr/local/bin/{c}"),
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn rule_h2_an_edit_without_a_certificate_keeps_the_one_chosen() {
        let now = chrono::Utc::now();
        let old = old(now, 40);
        let mut new = old.clone();
        new.id = "new".into();
        let req = request(Association::Specified("new".into()), None);
        let (h, _) = plan(&req, &old, Some(&new), &["r".into()], "h".into(), now).unwrap();
        let (e, _) = edit(&h, &old, &days(9), Some(&new), &[], now).unwrap();
        assert_eq!(e.association, Association::Specified("new".into()));
        let back = HostingEdit {
            association: Some(Association::Renewal),
            ..days(9)
        };
        assert_eq!(
            edit(&h, &old, &back, None, &[], now).unwrap().0.association,
            Association::Renewal
        );
    }

    #[test]
    fn rule_h6_a_hosting_speaks_to_its_group_once_per_channel_or_not_at_all() {
        let now = chrono::Utc::now();
        let old = old(now, 40);
        let groups = [
            group("oncall", &["ann", "bob", "ann"]),
            group("other", &["eve"]),
        ];
        let req = request(Association::Renewal, Some("oncall"));
        let (h, _) = plan(&req, &old, None, &["r".into()], "h".into(), now).unwrap();
        let event = TimelineEvent {
            at: now,
            kind: "hosting_failed".into(),
            message: "hosting h failed: nothing to deploy".into(),
        };
        let sent = deliveries(&h, &event, &groups, now);
        assert_eq!(sent.len(), 2, "ann's channel once, bob's once: {sent:?}");
        assert!(sent
            .iter()
            .all(|d| d.policy_id == "h" && d.recipient.ends_with("(oncall)")));
        assert_ne!(sent[0].idempotency_key, sent[1].idempotency_key);
        let body: serde_json::Value = serde_json::from_str(&sent[0].event).unwrap();
        assert_eq!(body["event"], "hosting_failed");
        assert_eq!(body["hosting"]["id"], "h");
        // Quiet: nothing is sent, whatever the group; no group: nothing either.
        let quiet = Hosting {
            notify: false,
            ..h.clone()
        };
        assert!(!speaks(&quiet) && deliveries(&quiet, &event, &groups, now).is_empty());
        let alone = Hosting {
            group: None,
            ..h.clone()
        };
        assert!(speaks(&alone) && deliveries(&alone, &event, &groups, now).is_empty());
        // A group must exist, when chosen and when changed.
        assert!(check_group(Some("oncall"), &groups).is_ok() && check_group(None, &[]).is_ok());
        let e = check_group(Some("nobody"), &groups).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("H-6", Field::Group));
        assert!(e.message.contains("oncall, other"), "{e}");
        let change = HostingEdit {
            group: Some(Some("nobody".into())),
            ..days(5)
        };
        assert_eq!(
            edit(&h, &old, &change, None, &groups, now)
                .unwrap_err()
                .rule,
            "H-6"
        );
        let change = HostingEdit {
            group: Some(None),
            notify: Some(false),
            ..days(5)
        };
        let (e, _) = edit(&h, &old, &change, None, &groups, now).unwrap();
        assert_eq!((e.group, e.notify), (None, false));
    }
}
