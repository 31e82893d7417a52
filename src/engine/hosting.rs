//! Effects of resources and deployment (issue #5): the rules decide, `deploy` does the I/O,
//! the store records the result with the certificate's timeline.
use super::Engine;
use crate::app::Action;
use crate::domain::model::TimelineEvent;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::resource::{check_deploy, target_files, ResourceInput, StoredKey};
use crate::store::StoreError;

impl Engine {
    pub(super) fn load_resources(&self) -> Result<Action, StoreError> {
        let resources = self.store.resources()?;
        let holders = resources
            .iter()
            .map(|r| self.store.deployed_cert(&r.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Action::ResourcesLoaded(crate::app::hosting::rows(
            resources, holders,
        )))
    }

    /// The fingerprint of the certificate a resource holds now (what a rollback must serve).
    fn held_fingerprint(&self, resource_id: &str) -> Result<Option<String>, StoreError> {
        Ok(match self.store.deployed_cert(resource_id)? {
            Some(id) => self
                .store
                .get(&id)?
                .and_then(|c| c.x509.map(|x| x.fingerprint_sha256)),
            None => None,
        })
    }

    pub(super) fn add_resource(&self, input: &ResourceInput) -> Result<Action, StoreError> {
        let id = self.store.new_id()?;
        let r = match crate::domain::resource::validate_resource(input, id, self.clock.now()) {
            Ok(r) => r,
            Err(refusal) => return Ok(Action::Refused(refusal)),
        };
        Ok(match self.store.insert_resource(&r)? {
            Ok(()) => Action::ResourceAdded(Box::new(r)),
            Err(refusal) => Action::Refused(refusal),
        })
    }

    pub(super) fn remove_resource(&self, id_or_name: &str) -> Result<Action, StoreError> {
        Ok(match self.store.resource(id_or_name)? {
            Some(r) if self.store.remove_resource(&r.id)? => Action::ResourceRemoved(r.id),
            _ => Action::Refused(Refusal::new(
                "RESOURCE",
                Field::Id,
                format!("no resource called {id_or_name}"),
            )),
        })
    }

    /// Deploys `cert_id` to a resource (id or name): checked, carried out, recorded.
    pub(super) fn deploy(
        &self,
        cert_id: &str,
        resource: &str,
        allow_expired: bool,
    ) -> Result<Action, StoreError> {
        self.deploy_raising(cert_id, resource, allow_expired, true)
    }

    /// A deployment whose failure raises a message only when `raise` (a quiet hosting's own
    /// deployments raise none, H-6).
    fn deploy_raising(
        &self,
        cert_id: &str,
        resource: &str,
        allow_expired: bool,
        raise: bool,
    ) -> Result<Action, StoreError> {
        self.recover_deployments()?;
        let refuse = |m: String| Ok(Action::Refused(Refusal::new("DEPLOY", Field::Id, m)));
        let Some(cert) = self.store.get(cert_id)? else {
            return refuse(format!("no certificate with id {cert_id}"));
        };
        let Some(resource) = self.store.resource(resource)? else {
            return refuse(format!("no resource called {resource}"));
        };
        let now = self.clock.now();
        let key = self.store.private_key_pem(&cert.id)?;
        if let Err(r) = check_deploy(&cert, StoredKey::of(key.as_deref()), allow_expired, now) {
            return Ok(Action::Refused(r));
        }
        let key = key.expect("checked");
        let files = target_files(&cert, &key, &resource);
        let expected = cert
            .x509
            .as_ref()
            .map(|x| x.fingerprint_sha256.clone())
            .unwrap_or_default();
        let previous = self.held_fingerprint(&resource.id)?;
        let journal = |before: &[crate::deploy::files::Before]| {
            let j = crate::domain::resource::DeployJournal {
                cert_id: cert.id.clone(),
                started_at: now,
                targets: before.iter().map(|b| (b.path.clone(), b.existed)).collect(),
            };
            self.store
                .begin_deploy(&resource.id, &j)
                .map_err(|e| e.to_string())
        };
        let record = crate::deploy::deploy(
            &resource,
            &cert.id,
            &files,
            &expected,
            previous.as_deref(),
            now,
            &journal,
        );
        let event = TimelineEvent {
            at: now,
            kind: if record.succeeded() {
                "deploy"
            } else {
                "deploy_failed"
            }
            .into(),
            message: record.timeline_text(&resource.name),
        };
        self.store.record_deploy(&record, &event, raise)?;
        if record.succeeded() {
            // The deployment is recorded whatever a rescan meets; its own failure shows on the
            // next scan.
            let _ = self.rescan_after_deploy(&resource);
        }
        Ok(Action::Deployed(Box::new((record, resource.name))))
    }
}

use crate::domain::rules::hosting::{
    self as rules, Association, Hosting, HostingEdit, HostingRequest, HostingStatus,
};
use crate::domain::schedule::DueEntry;

impl Engine {
    pub(super) fn add_hosting(&self, req: &HostingRequest) -> Result<Action, StoreError> {
        let Some(old) = self.store.get(&req.old_cert)? else {
            return Ok(Action::Refused(Refusal::new(
                "H-1",
                Field::Id,
                format!("no certificate with id {}", req.old_cert),
            )));
        };
        let specified = match &req.association {
            Association::Specified(id) => self.store.get(id)?,
            Association::Renewal => None,
        };
        let deployed: Vec<String> = self
            .store
            .resources_of(&old.id)?
            .into_iter()
            .map(|r| r.id)
            .collect();
        // Names are accepted where ids are expected.
        let mut req = req.clone();
        let all = self.store.resources()?;
        for r in req.resources.iter_mut() {
            if let Some(found) = all.iter().find(|x| x.name == *r) {
                *r = found.id.clone();
            }
        }
        let groups = self.store.recipient_groups()?;
        if let Err(r) = rules::check_group(req.group.as_deref(), &groups) {
            return Ok(Action::Refused(r));
        }
        let now = self.clock.now();
        let id = self.store.new_id()?;
        let (hosting, warnings) =
            match rules::plan(&req, &old, specified.as_ref(), &deployed, id, now) {
                Ok(p) => p,
                Err(r) => return Ok(Action::Refused(r)),
            };
        if let Err(r) = rules::check_not_hosted_twice(&hosting, &self.store.hostings()?) {
            return Ok(Action::Refused(r));
        }
        let with = match &hosting.association {
            Association::Renewal => "its renewal".to_string(),
            Association::Specified(id) => id.clone(),
        };
        let names = self.resource_names(&hosting.resources)?;
        let event = TimelineEvent {
            at: now,
            kind: "hosting".into(),
            message: format!(
                "hosting {} scheduled: {with} replaces it on {} at {} ({} days before expiry)",
                hosting.id,
                names.join(", "),
                hosting.replace_at.format("%Y-%m-%d %H:%M UTC"),
                hosting.days_before
            ),
        };
        self.save_hosting(&hosting, None, &event)?;
        Ok(Action::HostingSaved {
            hosting: Box::new(hosting),
            warnings,
        })
    }

    fn resource_names(&self, ids: &[String]) -> Result<Vec<String>, StoreError> {
        let all = self.store.resources()?;
        Ok(ids
            .iter()
            .map(|id| {
                all.iter()
                    .find(|r| r.id == *id)
                    .map_or_else(|| id.clone(), |r| r.name.clone())
            })
            .collect())
    }

    /// H-5: deploys the replacement to every resource of the hosting, or fails it with why.
    pub(super) fn run_hosting(
        &self,
        mut h: Hosting,
        fired: Option<&DueEntry>,
    ) -> Result<Hosting, StoreError> {
        let now = self.clock.now();
        let candidate = match &h.association {
            Association::Renewal => self.store.renewal_of(&h.old_cert)?,
            Association::Specified(id) => self.store.get(id)?,
        };
        let result = match rules::replacement(&h, candidate.as_ref(), now) {
            Err(reason) => Err(reason),
            Ok(new) => {
                h.new_cert = Some(new.id.clone());
                let mut failures = Vec::new();
                let mut done = Vec::new();
                for rid in h.resources.clone() {
                    match self.deploy_raising(&new.id, &rid, false, rules::speaks(&h))? {
                        Action::Deployed(d) if d.0.succeeded() => done.push(d.1),
                        Action::Deployed(d) => {
                            failures.push(format!("{}: {}", d.1, d.0.summary(&d.1)))
                        }
                        Action::Refused(r) => failures.push(format!("{rid}: {r}")),
                        other => failures.push(format!("{rid}: {other:?}")),
                    }
                }
                if failures.is_empty() {
                    Ok(format!("{} deployed to {}", new.id, done.join(", ")))
                } else {
                    Err(failures.join("; "))
                }
            }
        };
        let (status, kind, text) = match result {
            Ok(text) => (HostingStatus::Succeeded, "hosting_succeeded", text),
            Err(reason) => (HostingStatus::Failed, "hosting_failed", reason),
        };
        h.status = status;
        h.last_result = Some(text.clone());
        let event = TimelineEvent {
            at: now,
            kind: kind.into(),
            message: format!("hosting {} {}: {text}", h.id, status.as_str()),
        };
        self.save_hosting(&h, fired, &event)?;
        Ok(h)
    }

    pub(super) fn hosting_action(&self, id: &str, what: &str) -> Result<Action, StoreError> {
        let Some(mut h) = self.store.hosting(id)? else {
            return Ok(Action::Refused(Refusal::new(
                "H-7",
                Field::Id,
                format!("no hosting with id {id}"),
            )));
        };
        let refuse = |m: String| Ok(Action::Refused(Refusal::new("H-7", Field::Id, m)));
        let now = self.clock.now();
        let h = match what {
            "cancel" if h.status == HostingStatus::InProgress => {
                h.status = HostingStatus::Cancelled;
                h.last_result = Some("cancelled: nothing was deployed".into());
                let event = TimelineEvent {
                    at: now,
                    kind: "hosting".into(),
                    message: format!("hosting {} cancelled", h.id),
                };
                self.save_hosting(&h, None, &event)?;
                h
            }
            "retry" if h.status == HostingStatus::Failed => self.run_hosting(h, None)?,
            "rollback"
                if !matches!(
                    h.status,
                    HostingStatus::InProgress | HostingStatus::RolledBack
                ) =>
            {
                let mut back = Vec::new();
                for rid in h.resources.clone() {
                    match self.deploy_raising(&h.old_cert, &rid, true, rules::speaks(&h))? {
                        Action::Deployed(d) => back.push(d.0.summary(&d.1)),
                        Action::Refused(r) => back.push(format!("{rid}: {r}")),
                        _ => {}
                    }
                }
                h.status = HostingStatus::RolledBack;
                h.last_result = Some(format!(
                    "rolled back to {}: {}",
                    h.old_cert,
                    back.join("; ")
                ));
                let event = TimelineEvent {
                    at: now,
                    kind: "hosting".into(),
                    message: format!(
                        "hosting {} {}",
                        h.id,
                        h.last_result.clone().unwrap_or_default()
                    ),
                };
                self.save_hosting(&h, None, &event)?;
                h
            }
            _ => {
                return refuse(format!(
                    "hosting {} is {}: it cannot be {what}{}",
                    h.id,
                    h.status.as_str(),
                    if what == "retry" {
                        "ed (only failed ones)"
                    } else if what == "cancel" {
                        "led (only in-progress ones)"
                    } else if h.status == HostingStatus::RolledBack {
                        "ed back again (it already was)"
                    } else {
                        "ed back (still in progress)"
                    }
                ))
            }
        };
        Ok(Action::HostingSaved {
            hosting: Box::new(h),
            warnings: Vec::new(),
        })
    }

    /// A hosting entry fell due: run the hosting (or drop a stale entry).
    pub(super) fn fire_hosting(&self, entry: &DueEntry) -> Result<Option<Hosting>, StoreError> {
        match self.store.hosting(&entry.cert_id)? {
            Some(h) if h.entry().as_ref() == Some(entry) => {
                self.run_hosting(h, Some(entry)).map(Some)
            }
            _ => {
                self.store.apply_fired(&[(entry.clone(), None)])?;
                Ok(None)
            }
        }
    }
}

impl Engine {
    /// Deployments a killed certdeck left half-done get their previous files back (and a reload),
    /// recorded like any failed deployment. Run before every deployment and every tick.
    pub fn recover_deployments(&self) -> Result<usize, StoreError> {
        let unfinished = self.store.unfinished_deploys()?;
        for (rid, journal) in &unfinished {
            let resource = self.store.resource(rid)?;
            let previous = self.held_fingerprint(rid)?;
            let record = crate::deploy::recover(
                resource.as_ref(),
                journal,
                rid,
                previous.as_deref(),
                self.clock.now(),
            );
            let name = resource.as_ref().map_or(rid.as_str(), |r| r.name.as_str());
            let event = TimelineEvent {
                at: self.clock.now(),
                kind: "deploy_failed".into(),
                message: record.timeline_text(name),
            };
            self.store.record_deploy(&record, &event, true)?;
        }
        Ok(unfinished.len())
    }
}

impl Engine {
    /// Every deployment made for a hosting's resources since it was added, newest first.
    pub(super) fn hosting_history(&self, id: &str) -> Result<Action, StoreError> {
        let Some(hosting) = self.store.hosting(id)? else {
            return Ok(Action::Failed(format!(
                "hosting {id} is no longer in the store"
            )));
        };
        let names = self.resource_names(&hosting.resources)?;
        let mut records = Vec::new();
        for (rid, name) in hosting.resources.iter().zip(names) {
            for r in self.store.deploy_log(rid, 50)? {
                if r.at >= hosting.created_at {
                    records.push((name.clone(), r));
                }
            }
        }
        records.sort_by_key(|r| std::cmp::Reverse(r.1.at));
        Ok(Action::HostingHistoryLoaded(Box::new(
            crate::app::state::HostingHistory {
                heading: format!(
                    "hosting {} of {} · {} · replaces at {}",
                    hosting.id,
                    hosting.old_cert,
                    hosting.status.as_str(),
                    hosting.replace_at.format("%Y-%m-%d %H:%M UTC")
                ),
                summary: hosting.last_result.clone().unwrap_or_default(),
                records,
                scroll: 0,
            },
        )))
    }

    /// Every deployment to one resource, newest first (at most 100).
    pub(super) fn resource_history(&self, id_or_name: &str) -> Result<Action, StoreError> {
        let Some(r) = self.store.resource(id_or_name)? else {
            return Ok(Action::Refused(Refusal::new(
                "RESOURCE",
                Field::Id,
                format!("no resource called {id_or_name}"),
            )));
        };
        let holder = self.store.deployed_cert(&r.id)?;
        let records = self
            .store
            .deploy_log(&r.id, 100)?
            .into_iter()
            .map(|rec| (r.name.clone(), rec))
            .collect();
        let files: Vec<String> = r
            .targets
            .iter()
            .map(|(p, path)| format!("{}={}", p.as_str(), path.display()))
            .collect();
        Ok(Action::HostingHistoryLoaded(Box::new(
            crate::app::state::HostingHistory {
                heading: format!(
                    "resource {} ({}) · holds {}",
                    r.name,
                    r.id,
                    holder.as_deref().unwrap_or("no certificate yet")
                ),
                summary: files.join("  "),
                records,
                scroll: 0,
            },
        )))
    }
}

impl Engine {
    pub(super) fn update_resource(
        &self,
        id_or_name: &str,
        input: &ResourceInput,
    ) -> Result<Action, StoreError> {
        let Some(old) = self.store.resource(id_or_name)? else {
            return Ok(Action::Refused(Refusal::new(
                "RESOURCE",
                Field::Id,
                format!("no resource called {id_or_name}"),
            )));
        };
        let r =
            match crate::domain::resource::validate_resource(input, old.id.clone(), old.created_at)
            {
                Ok(r) => r,
                Err(refusal) => return Ok(Action::Refused(refusal)),
            };
        Ok(match self.store.insert_resource(&r)? {
            Ok(()) => Action::ResourceAdded(Box::new(r)),
            Err(refusal) => Action::Refused(refusal),
        })
    }

    pub(super) fn edit_hosting(&self, change: &HostingEdit) -> Result<Action, StoreError> {
        let refuse = |m: String| Ok(Action::Refused(Refusal::new("H-7", Field::Id, m)));
        let Some(h) = self.store.hosting(&change.id)? else {
            return refuse(format!("no hosting with id {}", change.id));
        };
        let Some(old) = self.store.get(&h.old_cert)? else {
            return refuse(format!("{} is no longer in the store", h.old_cert));
        };
        let specified = match change.association.as_ref().unwrap_or(&h.association) {
            Association::Specified(sid) => self.store.get(sid)?,
            Association::Renewal => None,
        };
        let now = self.clock.now();
        let groups = self.store.recipient_groups()?;
        let (edited, warnings) =
            match rules::edit(&h, &old, change, specified.as_ref(), &groups, now) {
                Ok(e) => e,
                Err(r) => return Ok(Action::Refused(r)),
            };
        let event = TimelineEvent {
            at: now,
            kind: "hosting".into(),
            message: format!(
                "hosting {} changed: replaces at {} ({} days before expiry)",
                edited.id,
                edited.replace_at.format("%Y-%m-%d %H:%M UTC"),
                edited.days_before
            ),
        };
        self.save_hosting(&edited, None, &event)?;
        Ok(Action::HostingSaved {
            hosting: Box::new(edited),
            warnings,
        })
    }

    /// Saves a hosting with its event, and the event's deliveries to the hosting's group (H-6).
    fn save_hosting(
        &self,
        h: &Hosting,
        fired: Option<&DueEntry>,
        event: &TimelineEvent,
    ) -> Result<(), StoreError> {
        let deliveries = match h.group {
            Some(_) if rules::speaks(h) => {
                rules::deliveries(h, event, &self.store.recipient_groups()?, self.clock.now())
            }
            _ => Vec::new(),
        };
        self.store.save_hosting(h, fired, event, &deliveries)
    }
}
