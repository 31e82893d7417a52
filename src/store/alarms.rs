//! Alarm policies, their firings and the delivery outbox (issue #6). A policy's evaluation —
//! its firings, their messages and deliveries, and its next schedule entry — is one transaction.
use super::{
    db_err, schedule_key, Store, StoreError, ALARMS, ALARM_FIRINGS, OUTBOX, OUTBOX_DUE,
    RECIPIENT_GROUPS, SCHEDULE,
};
use crate::domain::delivery::{Delivery, DeliveryState};
use crate::domain::model::TimelineEvent;
use crate::domain::rules::alarm::{AlarmPolicy, RecipientGroup};
use crate::domain::schedule::DueEntry;
use crate::domain::time::Timestamp;
use redb::{ReadableDatabase, ReadableTable};

/// One firing of a policy for a certificate, with what it sends.
pub struct Firing {
    pub cert_id: String,
    pub event: TimelineEvent,
    pub deliveries: Vec<Delivery>,
}

impl Store {
    /// Adds or replaces a policy with its schedule entry.
    pub fn save_alarm(&self, p: &AlarmPolicy) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        {
            let mut alarms = txn.open_table(ALARMS).map_err(db_err)?;
            let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
            let old: Option<AlarmPolicy> = match alarms.get(p.id.as_str()).map_err(db_err)? {
                Some(v) => Some(self.records.decode(v.value())?),
                None => None,
            };
            if let Some(e) = old.and_then(|o| o.entry()) {
                schedule.remove(schedule_key(&e)).map_err(db_err)?;
            }
            if let Some(e) = p.entry() {
                schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
            }
            alarms
                .insert(p.id.as_str(), self.records.encode(p).as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    pub fn remove_alarm(&self, id: &str) -> Result<bool, StoreError> {
        let txn = self.write_txn()?;
        let existed = {
            let mut alarms = txn.open_table(ALARMS).map_err(db_err)?;
            let old: Option<AlarmPolicy> = match alarms.remove(id).map_err(db_err)? {
                Some(v) => Some(self.records.decode(v.value())?),
                None => None,
            };
            if let Some(e) = old.as_ref().and_then(|o| o.entry()) {
                txn.open_table(SCHEDULE)
                    .map_err(db_err)?
                    .remove(schedule_key(&e))
                    .map_err(db_err)?;
            }
            txn.open_table(ALARM_FIRINGS)
                .map_err(db_err)?
                .retain_in((id, "")..=(id, "\u{10ffff}"), |_, _| false)
                .map_err(db_err)?;
            old.is_some()
        };
        txn.commit().map_err(db_err)?;
        Ok(existed)
    }

    pub fn alarms(&self) -> Result<Vec<AlarmPolicy>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(ALARMS).map_err(db_err)?;
        let mut out: Vec<AlarmPolicy> = Vec::new();
        for row in t.iter().map_err(db_err)? {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    pub fn alarm(&self, id_or_name: &str) -> Result<Option<AlarmPolicy>, StoreError> {
        Ok(self
            .alarms()?
            .into_iter()
            .find(|p| p.id == id_or_name || p.name == id_or_name))
    }

    pub fn recipient_groups(&self) -> Result<Vec<RecipientGroup>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(RECIPIENT_GROUPS).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)? {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        Ok(out)
    }

    pub fn recipient_group(&self, name: &str) -> Result<Option<RecipientGroup>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(RECIPIENT_GROUPS).map_err(db_err)?;
        let v = match t.get(name).map_err(db_err)? {
            Some(v) => Some(self.records.decode(v.value())?),
            None => None,
        };
        Ok(v)
    }

    pub fn save_recipient_group(&self, g: &RecipientGroup) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        txn.open_table(RECIPIENT_GROUPS)
            .map_err(db_err)?
            .insert(g.name.as_str(), self.records.encode(g).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// Removes a group no policy names; otherwise `Err` with the names of those that do. The
    /// check and the removal are one transaction.
    pub fn remove_recipient_group(
        &self,
        name: &str,
    ) -> Result<Result<bool, Vec<String>>, StoreError> {
        let txn = self.write_txn()?;
        let users: Vec<String> = {
            let alarms = txn.open_table(ALARMS).map_err(db_err)?;
            let mut users = Vec::new();
            for row in alarms.iter().map_err(db_err)? {
                let p: AlarmPolicy = self.records.decode(row.map_err(db_err)?.1.value())?;
                if p.groups.iter().any(|g| g == name) {
                    users.push(format!("alarm policy {}", p.name));
                }
            }
            // H-6: an in-progress hosting still sends to its group.
            let hostings = txn.open_table(super::HOSTINGS).map_err(db_err)?;
            for row in hostings.iter().map_err(db_err)? {
                let h: crate::domain::rules::hosting::Hosting =
                    self.records.decode(row.map_err(db_err)?.1.value())?;
                if h.status == crate::domain::rules::hosting::HostingStatus::InProgress
                    && h.group.as_deref() == Some(name)
                {
                    users.push(format!("hosting {}", h.id));
                }
            }
            users
        };
        if !users.is_empty() {
            return Ok(Err(users));
        }
        let existed = txn
            .open_table(RECIPIENT_GROUPS)
            .map_err(db_err)?
            .remove(name)
            .map_err(db_err)?
            .is_some();
        txn.commit().map_err(db_err)?;
        Ok(Ok(existed))
    }

    /// When `policy` last fired for `cert`.
    pub fn last_firing(&self, policy: &str, cert: &str) -> Result<Option<Timestamp>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(ALARM_FIRINGS).map_err(db_err)?;
        let v = t
            .get((policy, cert))
            .map_err(db_err)?
            .and_then(|v| chrono::DateTime::from_timestamp(v.value(), 0));
        Ok(v)
    }

    /// Records an evaluation: the entry that fired it goes, the next one comes, and each firing
    /// is written with its message and deliveries — all or nothing.
    pub fn record_evaluation(
        &self,
        policy: &AlarmPolicy,
        fired: &DueEntry,
        firings: &[Firing],
        now: Timestamp,
    ) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        {
            let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
            schedule.remove(schedule_key(fired)).map_err(db_err)?;
            if let Some(e) = policy.entry() {
                schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
            }
            txn.open_table(ALARMS)
                .map_err(db_err)?
                .insert(policy.id.as_str(), self.records.encode(policy).as_slice())
                .map_err(db_err)?;
            let mut last = txn.open_table(ALARM_FIRINGS).map_err(db_err)?;
            for f in firings {
                last.insert((policy.id.as_str(), f.cert_id.as_str()), now.timestamp())
                    .map_err(db_err)?;
                super::messages::raise(&self.records, &txn, &f.cert_id, false, &f.event)?;
                enqueue(&self.records, &txn, &f.deliveries)?;
            }
        }
        txn.commit().map_err(db_err)
    }

    /// Pending deliveries whose time has come, soonest first, at most `limit`: a range of the
    /// due index, so the tick's cost follows what is due.
    pub fn due_deliveries(
        &self,
        now: Timestamp,
        limit: usize,
    ) -> Result<Vec<Delivery>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let due = r.open_table(OUTBOX_DUE).map_err(db_err)?;
        let t = r.open_table(OUTBOX).map_err(db_err)?;
        let mut out = Vec::new();
        for row in due
            .range((i64::MIN, 0)..=(now.timestamp(), u64::MAX))
            .map_err(db_err)?
            .take(limit)
        {
            let id = row.map_err(db_err)?.0.value().1;
            if let Some(v) = t.get(id).map_err(db_err)? {
                let d: Delivery = self.records.decode(v.value())?;
                if d.state == DeliveryState::Pending {
                    out.push(d);
                }
            }
        }
        Ok(out)
    }

    pub fn deliveries(&self, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(OUTBOX).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)?.rev().take(limit) {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        Ok(out)
    }

    pub fn delivery(&self, id: u64) -> Result<Option<Delivery>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(OUTBOX).map_err(db_err)?;
        let v = match t.get(id).map_err(db_err)? {
            Some(v) => Some(self.records.decode(v.value())?),
            None => None,
        };
        Ok(v)
    }

    /// Writes a delivery as it is after a try, keeping the due index in step.
    pub fn save_delivery(&self, d: &Delivery) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        {
            let mut outbox = txn.open_table(OUTBOX).map_err(db_err)?;
            let mut due = txn.open_table(OUTBOX_DUE).map_err(db_err)?;
            let old: Option<Delivery> = match outbox.get(d.id).map_err(db_err)? {
                Some(v) => Some(self.records.decode(v.value())?),
                None => None,
            };
            if let Some(old) = old.filter(|o| o.state == DeliveryState::Pending) {
                due.remove((old.next_attempt_at.timestamp(), old.id))
                    .map_err(db_err)?;
            }
            if d.state == DeliveryState::Pending {
                due.insert((d.next_attempt_at.timestamp(), d.id), ())
                    .map_err(db_err)?;
            }
            outbox
                .insert(d.id, self.records.encode(d).as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }
}

/// Queues deliveries in the outbox (each gets the next id) inside `txn`: written with the event
/// that sends them, so none is lost and none is sent twice.
pub(super) fn enqueue(
    records: &super::record::Records,
    txn: &redb::WriteTransaction,
    deliveries: &[Delivery],
) -> Result<(), StoreError> {
    if deliveries.is_empty() {
        return Ok(());
    }
    let mut outbox = txn.open_table(OUTBOX).map_err(db_err)?;
    let mut due = txn.open_table(OUTBOX_DUE).map_err(db_err)?;
    let first = match outbox.last().map_err(db_err)? {
        Some((k, _)) => k.value() + 1,
        None => 1,
    };
    for (id, d) in (first..).zip(deliveries) {
        let mut d = d.clone();
        d.id = id;
        outbox
            .insert(d.id, records.encode(&d).as_slice())
            .map_err(db_err)?;
        due.insert((d.next_attempt_at.timestamp(), d.id), ())
            .map_err(db_err)?;
    }
    Ok(())
}
