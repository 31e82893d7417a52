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
        let mut out = Vec::new();
        self.each_row(table, shown, |k, record| out.push((k.to_string(), record)))?;
        Ok(out)
    }

    /// Shows `each` every record of such a table, decoded, in key order, one at a time.
    pub(super) fn each_row<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        shown: &'static str,
        mut each: impl FnMut(&str, T),
    ) -> Result<(), StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let Some(t) = open_existing(&r, table)? else {
            return Ok(());
        };
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let record = self
                .records
                .decode(v.value())
                .map_err(|e| e.of(shown, k.value()))?;
            each(k.value(), record);
        }
        Ok(())
    }

    /// One record of such a table (`None`: no such row, or the table not created yet).
    pub(super) fn read_one<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<&str, &[u8]>,
        shown: &'static str,
        key: &str,
    ) -> Result<Option<T>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let Some(t) = open_existing(&r, table)? else {
            return Ok(None);
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

/// The tables one insertion writes, opened once per transaction: those keyed by the record's
/// id, those keyed otherwise, and the secrets.
pub(super) struct InsertTables<'txn> {
    pub(super) by_id: ById<'txn>,
    pub(super) by_key: ByKey<'txn>,
    pub(super) secrets: redb::Table<'txn, &'static str, &'static [u8]>,
}

/// The tables a record's id keys: a scan's new records go to one place of each (consecutive
/// ids).
pub(super) struct ById<'txn> {
    certs: redb::Table<'txn, &'static str, &'static [u8]>,
    summaries: redb::Table<'txn, &'static str, &'static [u8]>,
    facts: redb::Table<'txn, &'static str, &'static [u8]>,
    timeline: redb::Table<'txn, (&'static str, u64), &'static [u8]>,
}

/// The indexes keyed by something else (a fingerprint, a due time): inserted all over them.
pub(super) struct ByKey<'txn> {
    fingerprints: redb::Table<'txn, &'static str, &'static str>,
    pub(super) schedule: redb::Table<'txn, (i64, &'static str, &'static str), ()>,
}

/// The error of a write that would overwrite the record holding `what`.
fn taken(what: &str, id: &str) -> StoreError {
    StoreError::Db(format!(
        "refusing to overwrite the record holding {what} (id {id}); nothing was written"
    ))
}

impl<'txn> ById<'txn> {
    pub(super) fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(ById {
            certs: txn.open_table(CERTS).map_err(db_err)?,
            summaries: txn.open_table(SUMMARIES).map_err(db_err)?,
            facts: txn.open_table(CERT_FACTS).map_err(db_err)?,
            timeline: txn.open_table(TIMELINE).map_err(db_err)?,
        })
    }

    /// Writes a record's rows keyed by its id, its first timeline event at `event_index`. A
    /// record already under the id is never overwritten: the write fails, and with it the
    /// transaction (nothing of it is kept).
    pub(super) fn write(&mut self, p: &Prepared, event_index: u64) -> Result<(), StoreError> {
        let id = p.id.as_str();
        if self
            .certs
            .insert(id, p.cert.as_slice())
            .map_err(db_err)?
            .is_some()
        {
            return Err(taken("this id", id));
        }
        self.summaries
            .insert(id, p.summary.as_slice())
            .map_err(db_err)?;
        self.facts.insert(id, p.facts.as_slice()).map_err(db_err)?;
        self.timeline
            .insert((id, event_index), p.event.as_slice())
            .map_err(db_err)?;
        Ok(())
    }
}

/// One of a record's encoded rows, for every record of `prepared`, keyed by id.
fn column<'p>(
    prepared: &'p [Prepared],
    row: impl Fn(&'p Prepared) -> &'p [u8],
) -> Vec<(&'p str, &'p [u8])> {
    prepared.iter().map(|p| (p.id.as_str(), row(p))).collect()
}

impl ById<'_> {
    /// Writes a scan's new records' rows keyed by id, ids ascending (packed: `ascending`), each
    /// first timeline event at its `event_index`. A record already under an id is never
    /// overwritten: the write fails, and with it the transaction.
    pub(super) fn write_all(&mut self, prepared: &[Prepared]) -> Result<(), StoreError> {
        ascending::insert_new(&mut self.certs, &column(prepared, |p| &p.cert), |i| {
            taken("this id", &prepared[i].id)
        })?;
        ascending::put_ascending(&mut self.summaries, &column(prepared, |p| &p.summary))?;
        ascending::put_ascending(&mut self.facts, &column(prepared, |p| &p.facts))?;
        let events: Vec<((&str, u64), &[u8])> = prepared
            .iter()
            .map(|p| ((p.id.as_str(), p.event_index), p.event.as_slice()))
            .collect();
        ascending::put_ascending(&mut self.timeline, &events)
    }
}

impl ByKey<'_> {
    /// `write` for each of a scan's new records, each index in its key order (the pages a
    /// B-tree insert walks are then the ones the insert before it walked).
    pub(super) fn write_all(&mut self, prepared: &[Prepared]) -> Result<(), StoreError> {
        let mut fingerprints: Vec<(&str, &str)> = prepared
            .iter()
            .filter_map(|p| Some((p.fingerprint.as_deref()?, p.id.as_str())))
            .collect();
        fingerprints.sort_unstable();
        for (fp, id) in fingerprints {
            if self.fingerprints.insert(fp, id).map_err(db_err)?.is_some() {
                return Err(taken(&format!("fingerprint {fp}"), id));
            }
        }
        let mut due: Vec<(i64, &str, &str)> = prepared
            .iter()
            .flat_map(|p| p.schedule.iter().map(schedule_key))
            .collect();
        due.sort_unstable();
        for key in due {
            self.schedule.insert(key, ()).map_err(db_err)?;
        }
        Ok(())
    }
}

impl<'txn> ByKey<'txn> {
    pub(super) fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(ByKey {
            fingerprints: txn.open_table(FINGERPRINTS).map_err(db_err)?,
            schedule: txn.open_table(SCHEDULE).map_err(db_err)?,
        })
    }

    /// Writes a record's fingerprint and schedule entries. A fingerprint another record holds
    /// is never taken over: the write fails, and with it the transaction.
    pub(super) fn write(&mut self, p: &Prepared) -> Result<(), StoreError> {
        if let Some(fp) = &p.fingerprint {
            if self
                .fingerprints
                .insert(fp.as_str(), p.id.as_str())
                .map_err(db_err)?
                .is_some()
            {
                return Err(taken(&format!("fingerprint {fp}"), &p.id));
            }
        }
        for e in &p.schedule {
            self.schedule.insert(schedule_key(e), ()).map_err(db_err)?;
        }
        Ok(())
    }
}

impl<'txn> InsertTables<'txn> {
    pub(super) fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
        Ok(InsertTables {
            by_id: ById::open(txn)?,
            by_key: ByKey::open(txn)?,
            secrets: txn.open_table(SECRETS).map_err(db_err)?,
        })
    }

    /// Inserts one record, refusing a duplicate leaf (U-6) before anything is written.
    pub(super) fn insert(
        &mut self,
        sealer: &Sealer,
        records: &record::Records,
        rec: &NewRecord,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let p = prepared(records, rec, cert_row::whole(records, &rec.cert), None, 0);
        if let Some(fp) = &p.fingerprint {
            let existing = self
                .by_key
                .fingerprints
                .get(fp.as_str())
                .map_err(db_err)?
                .map(|v| v.value().to_string());
            if let Err(r) = check_not_duplicate(existing.as_deref()) {
                return Ok(Err(r));
            }
        }
        let event_index = next_event_index(&self.by_id.timeline, &p.id)?;
        self.by_key.write(&p)?;
        self.by_id.write(&p, event_index)?;
        let id = p.id.as_str();
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
        Ok(Ok(()))
    }
}

/// A new record encoded for its tables, without its secrets (sealed at insertion). A scan
/// encodes its finds ahead, on the reading threads (#15: the encoding runs beside the reading
/// instead of holding up the writer).
pub struct Prepared {
    pub id: String,
    fingerprint: Option<String>,
    cert: Vec<u8>,
    summary: Vec<u8>,
    facts: Vec<u8>,
    event: Vec<u8>,
    schedule: Vec<DueEntry>,
    /// Where a discovered record is (the `discovered` table), when it is one.
    pub(super) watched: Option<Vec<u8>>,
    /// Where its first timeline event goes (the id's timeline as the scan found it).
    pub(super) event_index: u64,
}

/// Writes a record's list summary and its metric facts (SV-3): both go wherever the record
/// goes (before, records the schedule wrote had no facts).
pub(super) fn put_summary(
    records: &record::Records,
    summaries: &mut redb::Table<'_, &'static str, &'static [u8]>,
    facts: &mut redb::Table<'_, &'static str, &'static [u8]>,
    cert: &Certificate,
) -> Result<(), StoreError> {
    let id = cert.id.as_str();
    summaries
        .insert(id, records.encode(&cert.summary()).as_slice())
        .map_err(db_err)?;
    facts
        .insert(id, records.encode(&cert.metric_facts()).as_slice())
        .map_err(db_err)?;
    Ok(())
}

/// `rec` encoded for its tables, its `certs` row given (`cert_row`).
fn prepared(
    records: &record::Records,
    rec: &NewRecord,
    cert: Vec<u8>,
    watched: Option<&crate::domain::discovery::Watched>,
    event_index: u64,
) -> Prepared {
    Prepared {
        event_index,
        id: rec.cert.id.clone(),
        fingerprint: rec.cert.x509.as_ref().map(|x| x.fingerprint_sha256.clone()),
        cert,
        summary: records.encode(&rec.cert.summary()),
        facts: records.encode(&rec.cert.metric_facts()),
        event: records.encode(&rec.event),
        schedule: entries_for(&rec.cert),
        watched: watched.map(|w| records.encode(w)),
    }
}

impl Store {
    /// DS-3: the record of a certificate a scan found in `path` (`discovered_certificate`)
    /// under the id `free` gave, encoded with where it is, its first timeline event to go to
    /// the index `free` gave. Its `certs` row is the compact one (`cert_row::found`): made here,
    /// from the same DER, id and time, so it reads back as this very record. Pure computation;
    /// any thread. `Err`: the DER is not a certificate this can read.
    pub fn prepare_found(
        &self,
        der: &[u8],
        free: super::discovery::FreeId,
        path: &str,
        now: crate::domain::time::Timestamp,
        watched: &crate::domain::discovery::Watched,
    ) -> Result<Prepared, String> {
        let (cert, event) =
            crate::domain::discovery::discovered_certificate(der, free.id.clone(), path, now)?;
        let row = cert_row::found(&self.records, der, now);
        let rec = NewRecord {
            cert,
            secrets: Default::default(),
            event,
        };
        Ok(prepared(
            &self.records,
            &rec,
            row,
            Some(watched),
            free.event_index,
        ))
    }
}

/// The index the next timeline event of `id` takes.
pub(super) fn next_event_index(
    timeline: &impl ReadableTable<(&'static str, u64), &'static [u8]>,
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
