//! Writing records: the tables one insertion touches, timeline events and the journal, and
//! reading whole tables.
use super::*;

impl Store {
    /// Every record of a table keyed by name, decoded (a table not created yet holds none).
    pub(super) fn read_all<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        shown: &'static str,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = match r.open_table(table) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
            Err(e) => return Err(db_err(e)),
        };
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let record = self
                .records
                .decode(v.value())
                .map_err(|e| e.of(shown, k.value()))?;
            out.push((k.value().to_string(), record));
        }
        Ok(out)
    }

    /// One record of such a table (`None`: no such row, or the table not created yet).
    pub(super) fn read_one<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        shown: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = match r.open_table(table) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(db_err(e)),
        };
        let v = t.get(key).map_err(db_err)?;
        v.map(|v| self.records.decode(v.value()))
            .transpose()
            .map_err(|e| e.of(shown, key))
    }
}

/// Adds `event` to the timeline of `cert` (and the message center) in `txn`.
pub(super) fn add_event(
    store: &Store,
    txn: &redb::WriteTransaction,
    cert: &Certificate,
    event: &TimelineEvent,
) -> Result<(), StoreError> {
    let mut timeline = txn.open_table(TIMELINE).map_err(db_err)?;
    let next = next_event_index(&timeline, &cert.id)?;
    timeline
        .insert(
            (cert.id.as_str(), next),
            store.records.encode(event).as_slice(),
        )
        .map_err(db_err)?;
    drop(timeline);
    messages::raise(&store.records, txn, &cert.id, cert.ignored, event)
}

/// The tables one insertion writes, opened once per transaction.
pub(super) struct InsertTables<'txn> {
    pub(super) certs: redb::Table<'txn, &'static str, &'static [u8]>,
    pub(super) summaries: redb::Table<'txn, &'static str, &'static [u8]>,
    pub(super) facts: redb::Table<'txn, &'static str, &'static [u8]>,
    pub(super) fingerprints: redb::Table<'txn, &'static str, &'static str>,
    pub(super) secrets: redb::Table<'txn, &'static str, &'static [u8]>,
    pub(super) timeline: redb::Table<'txn, (&'static str, u64), &'static [u8]>,
    pub(super) schedule: redb::Table<'txn, (i64, &'static str, &'static str), ()>,
}

impl<'txn> InsertTables<'txn> {
    pub(super) fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(InsertTables {
            certs: txn.open_table(CERTS).map_err(db_err)?,
            summaries: txn.open_table(SUMMARIES).map_err(db_err)?,
            facts: txn.open_table(CERT_FACTS).map_err(db_err)?,
            fingerprints: txn.open_table(FINGERPRINTS).map_err(db_err)?,
            secrets: txn.open_table(SECRETS).map_err(db_err)?,
            timeline: txn.open_table(TIMELINE).map_err(db_err)?,
            schedule: txn.open_table(SCHEDULE).map_err(db_err)?,
        })
    }

    /// Inserts one record, refusing a duplicate leaf (U-6) before anything is written.
    pub(super) fn insert(
        &mut self,
        sealer: &Sealer,
        records: &record::Records,
        rec: &NewRecord,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let id = rec.cert.id.as_str();
        if let Some(fp) = rec
            .cert
            .x509
            .as_ref()
            .map(|x| x.fingerprint_sha256.as_str())
        {
            let existing = self
                .fingerprints
                .get(fp)
                .map_err(db_err)?
                .map(|v| v.value().to_string());
            if let Err(r) = check_not_duplicate(existing.as_deref()) {
                return Ok(Err(r));
            }
            self.fingerprints.insert(fp, id).map_err(db_err)?;
        }
        self.certs
            .insert(id, records.encode(&rec.cert).as_slice())
            .map_err(db_err)?;
        self.summaries
            .insert(id, records.encode(&rec.cert.summary()).as_slice())
            .map_err(db_err)?;
        self.facts
            .insert(id, records.encode(&rec.cert.metric_facts()).as_slice())
            .map_err(db_err)?;
        for (which, pem) in [
            ("key", &rec.secrets.key_pem),
            ("enc_key", &rec.secrets.enc_key_pem),
        ] {
            if let Some(pem) = pem {
                let aad = format!("{id}:{which}");
                self.secrets
                    .insert(aad.as_str(), sealer.seal(&aad, pem.as_bytes()).as_slice())
                    .map_err(db_err)?;
            }
        }
        let next = match self
            .timeline
            .range((id, 0)..=(id, u64::MAX))
            .map_err(db_err)?
            .next_back()
        {
            Some(row) => row.map_err(db_err)?.0.value().1 + 1,
            None => 0,
        };
        self.timeline
            .insert((id, next), records.encode(&rec.event).as_slice())
            .map_err(db_err)?;
        for e in entries_for(&rec.cert) {
            self.schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
        }
        Ok(Ok(()))
    }
}

/// The index the next timeline event of `id` takes.
pub(super) fn next_event_index(
    timeline: &redb::Table<(&'static str, u64), &'static [u8]>,
    id: &str,
) -> Result<u64, StoreError> {
    Ok(
        match timeline
            .range((id, 0)..=(id, u64::MAX))
            .map_err(db_err)?
            .next_back()
        {
            Some(row) => row.map_err(db_err)?.0.value().1 + 1,
            None => 0,
        },
    )
}

pub(super) fn append_journal(
    records: &record::Records,
    txn: &redb::WriteTransaction,
    id: &str,
    event: &TimelineEvent,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(JOURNAL).map_err(db_err)?;
    let next = match t.last().map_err(db_err)? {
        Some((k, _)) => k.value() + 1,
        None => 0,
    };
    t.insert(next, records.encode(&(id, event)).as_slice())
        .map_err(db_err)?;
    Ok(())
}
