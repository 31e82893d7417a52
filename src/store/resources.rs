//! Resources and deployments (issue #5): the resources, which certificate each holds, and
//! every deployment with its steps. A deployment's record, the holder change and the
//! certificate's timeline event are written in one transaction.
use super::{
    db_err, next_event_index, Store, StoreError, CERT_RESOURCES, DEPLOYED, DEPLOY_LOG, RESOURCES,
    TIMELINE,
};
use crate::domain::model::TimelineEvent;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::resource::{DeployRecord, Resource};
use redb::{ReadableDatabase, ReadableTable};

impl Store {
    /// Adds (or, with the same id, replaces) a resource; another one with the same name is
    /// refused.
    pub fn insert_resource(&self, r: &Resource) -> Result<Result<(), Refusal>, StoreError> {
        let txn = self.write_txn()?;
        {
            let mut t = txn.open_table(RESOURCES).map_err(db_err)?;
            for row in t.iter().map_err(db_err)? {
                let other: Resource = self.records.decode(row.map_err(db_err)?.1.value())?;
                if other.name == r.name && other.id != r.id {
                    return Ok(Err(Refusal::new(
                        "RESOURCE",
                        Field::Name,
                        format!("a resource called {} exists already ({})", r.name, other.id),
                    )));
                }
            }
            t.insert(r.id.as_str(), self.records.encode(r).as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        Ok(Ok(()))
    }

    pub fn resources(&self) -> Result<Vec<Resource>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(RESOURCES).map_err(db_err)?;
        let mut out: Vec<Resource> = Vec::new();
        for row in t.iter().map_err(db_err)? {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    /// A resource by id or by name.
    pub fn resource(&self, id_or_name: &str) -> Result<Option<Resource>, StoreError> {
        Ok(self
            .resources()?
            .into_iter()
            .find(|r| r.id == id_or_name || r.name == id_or_name))
    }

    /// Removes a resource and what certdeck knew of it; the files on it are left alone.
    pub fn remove_resource(&self, id: &str) -> Result<bool, StoreError> {
        let txn = self.write_txn()?;
        let existed = {
            let existed = txn
                .open_table(RESOURCES)
                .map_err(db_err)?
                .remove(id)
                .map_err(db_err)?
                .is_some();
            let holder = txn
                .open_table(DEPLOYED)
                .map_err(db_err)?
                .remove(id)
                .map_err(db_err)?
                .map(|v| v.value().to_string());
            if let Some(cert) = holder {
                txn.open_table(CERT_RESOURCES)
                    .map_err(db_err)?
                    .remove((cert.as_str(), id))
                    .map_err(db_err)?;
            }
            txn.open_table(DEPLOY_LOG)
                .map_err(db_err)?
                .retain_in((id, 0)..=(id, u64::MAX), |_, _| false)
                .map_err(db_err)?;
            existed
        };
        txn.commit().map_err(db_err)?;
        Ok(existed)
    }

    /// The certificate a resource holds now.
    pub fn deployed_cert(&self, resource_id: &str) -> Result<Option<String>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(DEPLOYED).map_err(db_err)?;
        let v = t
            .get(resource_id)
            .map_err(db_err)?
            .map(|v| v.value().to_string());
        Ok(v)
    }

    /// The resources a certificate is deployed to (D-3, the detail pane).
    pub fn resources_of(&self, cert_id: &str) -> Result<Vec<Resource>, StoreError> {
        let ids: Vec<String> = {
            let r = self.db.begin_read().map_err(db_err)?;
            let t = r.open_table(CERT_RESOURCES).map_err(db_err)?;
            let rows = t
                .range((cert_id, "")..=(cert_id, "\u{10ffff}"))
                .map_err(db_err)?;
            rows.map(|row| row.map(|(k, _)| k.value().1.to_string()))
                .collect::<Result<_, _>>()
                .map_err(db_err)?
        };
        Ok(self
            .resources()?
            .into_iter()
            .filter(|r| ids.contains(&r.id))
            .collect())
    }

    /// A resource's deployments, newest first, at most `limit`.
    pub fn deploy_log(
        &self,
        resource_id: &str,
        limit: usize,
    ) -> Result<Vec<DeployRecord>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(DEPLOY_LOG).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t
            .range((resource_id, 0)..=(resource_id, u64::MAX))
            .map_err(db_err)?
            .rev()
            .take(limit)
        {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        Ok(out)
    }

    /// DS-2, H-2: a resource taken over from a site holds the certificate the site loads now
    /// (found in place, not deployed by certdeck), so a hosting can replace it.
    pub fn hold_found(
        &self,
        resource_id: &str,
        cert_id: &str,
        event: &TimelineEvent,
    ) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        {
            let old = txn
                .open_table(DEPLOYED)
                .map_err(db_err)?
                .insert(resource_id, cert_id)
                .map_err(db_err)?
                .map(|v| v.value().to_string());
            let mut by_cert = txn.open_table(CERT_RESOURCES).map_err(db_err)?;
            if let Some(old) = old {
                by_cert
                    .remove((old.as_str(), resource_id))
                    .map_err(db_err)?;
            }
            by_cert.insert((cert_id, resource_id), ()).map_err(db_err)?;
        }
        if let Some(cert) = self.get_in(&txn, cert_id)? {
            super::add_event(self, &txn, &cert, event)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Records a deployment: its log entry, the certificate's timeline event and, when it
    /// succeeded, the resource's new holder.
    /// Records a deployment; `raise` is false for one a quiet hosting made (H-6).
    pub fn record_deploy(
        &self,
        rec: &DeployRecord,
        event: &TimelineEvent,
        raise: bool,
    ) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        {
            let rid = rec.resource_id.as_str();
            let mut log = txn.open_table(DEPLOY_LOG).map_err(db_err)?;
            let next = match log
                .range((rid, 0)..=(rid, u64::MAX))
                .map_err(db_err)?
                .next_back()
            {
                Some(row) => row.map_err(db_err)?.0.value().1 + 1,
                None => 0,
            };
            log.insert((rid, next), self.records.encode(rec).as_slice())
                .map_err(db_err)?;
            txn.open_table(super::DEPLOY_JOURNAL)
                .map_err(db_err)?
                .remove(rid)
                .map_err(db_err)?;
            if rec.succeeded() {
                let mut deployed = txn.open_table(DEPLOYED).map_err(db_err)?;
                let old = deployed
                    .insert(rid, rec.cert_id.as_str())
                    .map_err(db_err)?
                    .map(|v| v.value().to_string());
                let mut by_cert = txn.open_table(CERT_RESOURCES).map_err(db_err)?;
                if let Some(old) = old {
                    by_cert.remove((old.as_str(), rid)).map_err(db_err)?;
                }
                by_cert
                    .insert((rec.cert_id.as_str(), rid), ())
                    .map_err(db_err)?;
            }
            let mut timeline = txn.open_table(TIMELINE).map_err(db_err)?;
            let id = rec.cert_id.as_str();
            let n = next_event_index(&timeline, id)?;
            timeline
                .insert((id, n), self.records.encode(event).as_slice())
                .map_err(db_err)?;
            if raise {
                super::messages::raise(&self.records, &txn, id, false, event)?;
            }
        }
        txn.commit().map_err(db_err)
    }
}

impl Store {
    /// Writes a hosting as it is now: its schedule entry follows its state, and `fired` (the
    /// entry that made it run) is removed in the same transaction. H-6: a hosting that speaks
    /// raises the event's message and queues `deliveries` (its group's channels) with it.
    pub fn save_hosting(
        &self,
        h: &crate::domain::rules::hosting::Hosting,
        fired: Option<&crate::domain::schedule::DueEntry>,
        event: &TimelineEvent,
        deliveries: &[crate::domain::delivery::Delivery],
    ) -> Result<(), StoreError> {
        use super::{schedule_key, HOSTINGS, SCHEDULE};
        let txn = self.write_txn()?;
        {
            let mut hostings = txn.open_table(HOSTINGS).map_err(db_err)?;
            let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
            let old: Option<crate::domain::rules::hosting::Hosting> =
                match hostings.get(h.id.as_str()).map_err(db_err)? {
                    Some(v) => Some(self.records.decode(v.value())?),
                    None => None,
                };
            if let Some(e) = old.as_ref().and_then(|o| o.entry()) {
                schedule.remove(schedule_key(&e)).map_err(db_err)?;
            }
            if let Some(e) = fired {
                schedule.remove(schedule_key(e)).map_err(db_err)?;
            }
            if let Some(e) = h.entry() {
                schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
            }
            hostings
                .insert(h.id.as_str(), self.records.encode(h).as_slice())
                .map_err(db_err)?;
            let mut timeline = txn.open_table(TIMELINE).map_err(db_err)?;
            let id = h.old_cert.as_str();
            let n = next_event_index(&timeline, id)?;
            timeline
                .insert((id, n), self.records.encode(event).as_slice())
                .map_err(db_err)?;
            // H-6: hosting messages can be switched off per hosting.
            if crate::domain::rules::hosting::speaks(h) {
                super::messages::raise(&self.records, &txn, id, false, event)?;
                super::alarms::enqueue(&self.records, &txn, deliveries)?;
            }
        }
        txn.commit().map_err(db_err)
    }

    pub fn hostings(&self) -> Result<Vec<crate::domain::rules::hosting::Hosting>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(super::HOSTINGS).map_err(db_err)?;
        let mut out: Vec<crate::domain::rules::hosting::Hosting> = Vec::new();
        for row in t.iter().map_err(db_err)? {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        out.sort_by_key(|h| h.replace_at);
        Ok(out)
    }

    pub fn hosting(
        &self,
        id: &str,
    ) -> Result<Option<crate::domain::rules::hosting::Hosting>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(super::HOSTINGS).map_err(db_err)?;
        let v = match t.get(id).map_err(db_err)? {
            Some(v) => Some(self.records.decode(v.value())?),
            None => None,
        };
        Ok(v)
    }

    /// The newest certificate that renews `old` (H-2), if any.
    pub fn renewal_of(
        &self,
        old: &str,
    ) -> Result<Option<crate::domain::model::Certificate>, StoreError> {
        let ids: Vec<String> = {
            let r = self.db.begin_read().map_err(db_err)?;
            let t = r.open_table(super::RENEWALS).map_err(db_err)?;
            let rows = t.range((old, "")..=(old, "\u{10ffff}")).map_err(db_err)?;
            rows.map(|row| row.map(|(k, _)| k.value().1.to_string()))
                .collect::<Result<_, _>>()
                .map_err(db_err)?
        };
        let mut certs: Vec<_> = self
            .get_many(ids.iter().map(String::as_str))?
            .into_iter()
            .flatten()
            .collect();
        certs.sort_by_key(|c| c.created_at);
        Ok(certs.pop())
    }
}

impl Store {
    /// Notes a deployment under way on `resource_id` (its previous files are backed up).
    pub fn begin_deploy(
        &self,
        resource_id: &str,
        journal: &crate::domain::resource::DeployJournal,
    ) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        txn.open_table(super::DEPLOY_JOURNAL)
            .map_err(db_err)?
            .insert(resource_id, self.records.encode(journal).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// Deployments that never finished: certdeck stopped while they ran.
    pub fn unfinished_deploys(
        &self,
    ) -> Result<Vec<(String, crate::domain::resource::DeployJournal)>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(super::DEPLOY_JOURNAL).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            out.push((k.value().to_string(), self.records.decode(v.value())?));
        }
        Ok(out)
    }
}
