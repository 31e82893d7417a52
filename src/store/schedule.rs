//! The schedule of timed rules and what firing them writes, in one transaction (T-1), and when a
//! tick last ran (SV-3).
use super::*;

impl Store {
    /// SV-3: when a tick last ran (any process), as `record_tick` keeps it.
    pub fn last_tick_at(&self) -> Result<Option<crate::domain::time::Timestamp>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let meta = r.open_table(META).map_err(db_err)?;
        Ok(meta
            .get("last_tick_at")
            .map_err(db_err)?
            .and_then(|v| self.records.verified(v.value()).map(|b| b.to_vec()))
            .and_then(|b| b.try_into().ok())
            .and_then(|b: [u8; 8]| chrono::DateTime::from_timestamp(i64::from_le_bytes(b), 0)))
    }

    /// SV-3: notes a tick at `now`; written at most once a minute (a service ticks every second).
    pub fn record_tick(&self, now: crate::domain::time::Timestamp) -> Result<(), StoreError> {
        if self.last_tick_at()?.is_some_and(|t| {
            now.signed_duration_since(t) < chrono::Duration::seconds(60) && t <= now
        }) {
            return Ok(());
        }
        let txn = self.write_txn()?;
        txn.open_table(META)
            .map_err(db_err)?
            .insert(
                "last_tick_at",
                self.records
                    .tagged(&now.timestamp().to_le_bytes())
                    .as_slice(),
            )
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// Schedule entries due at or before `now`, earliest first, at most `limit`.
    pub fn due(
        &self,
        now: crate::domain::time::Timestamp,
        limit: usize,
    ) -> Result<Vec<DueEntry>, StoreError> {
        self.schedule_range(i64::MIN, now.timestamp(), limit)
    }

    /// Schedule entries due in `from..=to`, earliest first, at most `limit` (the forecast).
    pub fn upcoming(
        &self,
        from: crate::domain::time::Timestamp,
        to: crate::domain::time::Timestamp,
        limit: usize,
    ) -> Result<Vec<DueEntry>, StoreError> {
        self.schedule_range(from.timestamp(), to.timestamp(), limit)
    }

    pub(super) fn schedule_range(
        &self,
        from: i64,
        to: i64,
        limit: usize,
    ) -> Result<Vec<DueEntry>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(SCHEDULE).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t
            .range((from, "", "")..(to.saturating_add(1), "", ""))
            .map_err(db_err)?
            .take(limit)
        {
            let (k, _) = row.map_err(db_err)?;
            let (due, kind, id) = k.value();
            out.push(entry_from_key(due, kind, id)?);
        }
        Ok(out)
    }

    /// Records what firing `entries` did, in one transaction: each entry is removed with its
    /// effect, so a second tick cannot fire it again and a crash loses nothing (all or none).
    /// Entries no longer in the schedule are skipped; a `None` effect just drops the entry.
    pub fn apply_fired(&self, fired: &[(DueEntry, Option<Fired>)]) -> Result<usize, StoreError> {
        let items: Vec<_> = fired
            .iter()
            .map(|(e, f)| (Some(e), e.cert_id.as_str(), f.as_ref()))
            .collect();
        self.apply_items(&items)
    }

    /// Records an effect that no schedule entry caused (a manual renewal, a switch flipped),
    /// with the same bookkeeping: record, order, schedule, payment and timeline in one transaction.
    pub fn apply_effect(&self, cert_id: &str, effect: &Fired) -> Result<(), StoreError> {
        self.apply_items(&[(None, cert_id, Some(effect))])
            .map(|_| ())
    }

    pub(super) fn apply_items(
        &self,
        items: &[(Option<&DueEntry>, &str, Option<&Fired>)],
    ) -> Result<usize, StoreError> {
        let txn = self.write_txn()?;
        let mut applied = 0;
        {
            let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
            let mut certs = txn.open_table(CERTS).map_err(db_err)?;
            let mut summaries = txn.open_table(SUMMARIES).map_err(db_err)?;
            let mut facts = txn.open_table(CERT_FACTS).map_err(db_err)?;
            let mut timeline = txn.open_table(TIMELINE).map_err(db_err)?;
            let mut ran = txn.open_table(TIMELINE_RAN).map_err(db_err)?;
            let mut orders = txn.open_table(ORDERS).map_err(db_err)?;
            let mut fingerprints = txn.open_table(FINGERPRINTS).map_err(db_err)?;
            let mut secrets = txn.open_table(SECRETS).map_err(db_err)?;
            let mut revocations = txn.open_table(REVOCATIONS).map_err(db_err)?;
            for &(entry, id, effect) in items {
                if let Some(entry) = entry {
                    if schedule
                        .remove(schedule_key(entry))
                        .map_err(db_err)?
                        .is_none()
                    {
                        continue;
                    }
                }
                let Some(effect) = effect else { continue };
                if effect.updated.is_some()
                    || effect.updated_order.is_some()
                    || effect.revocation.is_some()
                {
                    let old: Option<Certificate> = match certs.get(id).map_err(db_err)? {
                        Some(v) => Some(cert_row::decode(&self.records, id, v.value())?),
                        None => None,
                    };
                    let old_order: Option<OrderInfo> = match orders.get(id).map_err(db_err)? {
                        Some(v) => Some(self.records.decode(v.value())?),
                        None => None,
                    };
                    let old_revocation: Option<Revocation> =
                        match revocations.get(id).map_err(db_err)? {
                            Some(v) => Some(self.records.decode(v.value())?),
                            None => None,
                        };
                    if let Some(old) = &old {
                        for e in all_entries(old, old_order.as_ref(), old_revocation.as_ref()) {
                            schedule.remove(schedule_key(&e)).map_err(db_err)?;
                        }
                    }
                    let cert = effect.updated.as_ref().or(old.as_ref());
                    if let Some(updated) = &effect.updated {
                        certs
                            .insert(id, cert_row::whole(&self.records, updated).as_slice())
                            .map_err(db_err)?;
                        put_summary(&self.records, &mut summaries, &mut facts, updated)?;
                        if let Some(x) = &updated.x509 {
                            fingerprints
                                .insert(x.fingerprint_sha256.as_str(), id)
                                .map_err(db_err)?;
                        }
                    }
                    let order = effect.updated_order.as_ref().or(old_order.as_ref());
                    if let Some(o) = &effect.updated_order {
                        orders
                            .insert(id, self.records.encode(o).as_slice())
                            .map_err(db_err)?;
                    }
                    let revocation = effect.revocation.as_ref().or(old_revocation.as_ref());
                    if let Some(r) = &effect.revocation {
                        revocations
                            .insert(id, self.records.encode(r).as_slice())
                            .map_err(db_err)?;
                        let mut open = txn.open_table(REVOCATIONS_OPEN).map_err(db_err)?;
                        if r.is_open() {
                            open.insert(id, ()).map_err(db_err)?;
                        } else {
                            open.remove(id).map_err(db_err)?;
                        }
                    }
                    if let Some(cert) = cert {
                        for e in all_entries(cert, order, revocation) {
                            schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
                        }
                    }
                }
                for other in &effect.others {
                    let oid = other.id.as_str();
                    let old: Option<Certificate> = match certs.get(oid).map_err(db_err)? {
                        Some(v) => Some(cert_row::decode(&self.records, oid, v.value())?),
                        None => None,
                    };
                    let order: Option<OrderInfo> = match orders.get(oid).map_err(db_err)? {
                        Some(v) => Some(self.records.decode(v.value())?),
                        None => None,
                    };
                    let revocation: Option<Revocation> =
                        match revocations.get(oid).map_err(db_err)? {
                            Some(v) => Some(self.records.decode(v.value())?),
                            None => None,
                        };
                    if let Some(old) = &old {
                        for e in all_entries(old, order.as_ref(), revocation.as_ref()) {
                            schedule.remove(schedule_key(&e)).map_err(db_err)?;
                        }
                    }
                    certs
                        .insert(oid, cert_row::whole(&self.records, other).as_slice())
                        .map_err(db_err)?;
                    put_summary(&self.records, &mut summaries, &mut facts, other)?;
                    for e in all_entries(other, order.as_ref(), revocation.as_ref()) {
                        schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
                    }
                    let next = next_event_index(&timeline, oid)?;
                    timeline
                        .insert((oid, next), self.records.encode(&effect.event).as_slice())
                        .map_err(db_err)?;
                    if let Some(t) = effect.ran_at {
                        ran.insert((oid, next), t.timestamp()).map_err(db_err)?;
                    }
                    messages::raise(&self.records, &txn, oid, other.ignored, &effect.event)?;
                }
                if !effect.crl.is_empty() {
                    let mut crl = txn.open_table(CRL).map_err(db_err)?;
                    for e in &effect.crl {
                        crl.insert(
                            (e.issuer.as_str(), e.serial.as_str()),
                            self.records.encode(e).as_slice(),
                        )
                        .map_err(db_err)?;
                    }
                }
                if let Some(doc) = &effect.revocation_document {
                    txn.open_table(LETTERS)
                        .map_err(db_err)?
                        .insert(format!("{id}:revocation").as_str(), doc.as_slice())
                        .map_err(db_err)?;
                }
                if let Some(refund) = &effect.refund {
                    post_in(&self.records, &txn, refund)?;
                }
                if let Some(new) = &effect.new_order {
                    if let Some(payment) = &new.payment {
                        if post_in(&self.records, &txn, payment)?.is_none() {
                            return Err(StoreError::Db(
                                "the balance changed under a renewal; retried at the next tick"
                                    .into(),
                            ));
                        }
                    }
                    let nid = new.cert.id.as_str();
                    certs
                        .insert(nid, cert_row::whole(&self.records, &new.cert).as_slice())
                        .map_err(db_err)?;
                    put_summary(&self.records, &mut summaries, &mut facts, &new.cert)?;
                    orders
                        .insert(nid, self.records.encode(&new.order).as_slice())
                        .map_err(db_err)?;
                    timeline
                        .insert((nid, 0), self.records.encode(&new.event).as_slice())
                        .map_err(db_err)?;
                    if let Some(t) = effect.ran_at {
                        ran.insert((nid, 0), t.timestamp()).map_err(db_err)?;
                    }
                    for e in all_entries(&new.cert, Some(&new.order), None) {
                        schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
                    }
                    if let Some(pem) = &new.key_pem {
                        let aad = format!("{nid}:key");
                        secrets
                            .insert(
                                aad.as_str(),
                                sealer_seal(&self.sealer, &aad, pem).as_slice(),
                            )
                            .map_err(db_err)?;
                    }
                    if let Some(req) = &new.reissue {
                        txn.open_table(REISSUE_REQUESTS)
                            .map_err(db_err)?
                            .insert(nid, self.records.encode(req).as_slice())
                            .map_err(db_err)?;
                    }
                    if let Some(old) = &new.cert.renewed_from {
                        txn.open_table(RENEWALS)
                            .map_err(db_err)?
                            .insert((old.as_str(), nid), ())
                            .map_err(db_err)?;
                    }
                    if let Some(original) = &new.cert.reissued_from {
                        txn.open_table(REISSUES)
                            .map_err(db_err)?
                            .insert((original.as_str(), nid), ())
                            .map_err(db_err)?;
                    }
                }
                if let Some(letter) = &effect.letter {
                    txn.open_table(LETTERS)
                        .map_err(db_err)?
                        .insert(id, letter.as_slice())
                        .map_err(db_err)?;
                }
                if let Some(pem) = &effect.new_key_pem {
                    let aad = format!("{id}:key");
                    secrets
                        .insert(
                            aad.as_str(),
                            sealer_seal(&self.sealer, &aad, pem).as_slice(),
                        )
                        .map_err(db_err)?;
                }
                for e in &effect.follow_up {
                    schedule.insert(schedule_key(e), ()).map_err(db_err)?;
                }
                let next = next_event_index(&timeline, id)?;
                timeline
                    .insert((id, next), self.records.encode(&effect.event).as_slice())
                    .map_err(db_err)?;
                if let Some(t) = effect.ran_at {
                    ran.insert((id, next), t.timestamp()).map_err(db_err)?;
                }
                let ignored = effect.updated.as_ref().is_some_and(|c| c.ignored)
                    || (effect.updated.is_none()
                        && match certs.get(id).map_err(db_err)? {
                            Some(v) => cert_row::decode(&self.records, id, v.value())?.ignored,
                            None => false,
                        });
                messages::raise(&self.records, &txn, id, ignored, &effect.event)?;
                applied += 1;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(applied)
    }
}

pub(super) fn schedule_key(e: &DueEntry) -> (i64, &str, &str) {
    (e.due.timestamp(), e.kind.as_str(), e.cert_id.as_str())
}

pub(super) fn entry_from_key(due: i64, kind: &str, cert_id: &str) -> Result<DueEntry, StoreError> {
    Ok(DueEntry {
        due: chrono::DateTime::from_timestamp(due, 0)
            .ok_or_else(|| StoreError::Db(format!("schedule time {due} out of range")))?,
        kind: DueKind::parse(kind)
            .ok_or_else(|| StoreError::Db(format!("unknown schedule kind {kind}")))?,
        cert_id: cert_id.to_string(),
    })
}
