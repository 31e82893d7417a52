//! Certificate records: ids, insertion (U-6 checked in the same transaction), the list
//! summaries, reads, timelines and sealed keys.
use super::*;

impl Store {
    /// A fresh id that no record has.
    pub fn new_id(&self) -> Result<String, StoreError> {
        Ok(self.new_ids(1)?.remove(0))
    }

    /// Every certificate record, in id order (metrics).
    pub fn certificates(&self) -> Result<Vec<Certificate>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let Some(t) = open_existing(&r, CERTS)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            out.push(cert_row::decode(&self.records, k.value(), v.value())?);
        }
        Ok(out)
    }

    /// SV-3: every certificate's metric facts, by id.
    pub fn metric_facts(
        &self,
    ) -> Result<std::collections::HashMap<String, crate::domain::model::MetricFacts>, StoreError>
    {
        Ok(self
            .read_all(CERT_FACTS, "cert_facts")?
            .into_iter()
            .collect())
    }

    /// `n` fresh ids, distinct from each other and from every stored record.
    pub fn new_ids(&self, n: usize) -> Result<Vec<String>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let certs = r.open_table(CERTS).map_err(db_err)?;
        self.fresh_ids(n, |id| Ok(certs.get(id).map_err(db_err)?.is_some()))
    }

    /// `n` ids that `taken` does not know, distinct from each other: consecutive ones from a
    /// random start, so a batch's records are written at one place of every table keyed by id
    /// (#15) rather than all over it. A taken id is passed over; a run that meets many starts
    /// again elsewhere.
    pub(super) fn fresh_ids(
        &self,
        n: usize,
        taken: impl Fn(&str) -> Result<bool, StoreError>,
    ) -> Result<Vec<String>, StoreError> {
        self.fresh_ids_from(None, n, |_, id| taken(id))
            .map(|(ids, _)| ids)
    }

    /// A random number of the id space (`crate::domain::id::id_numbered`): where a run of ids
    /// starts.
    pub(super) fn random_id_number(&self) -> u64 {
        u64::from_le_bytes(self.sealer.random_bytes()) % crate::domain::id::ID_SPACE
    }

    /// `fresh_ids` going on from `next` (the number after a previous run's last id) when given;
    /// `taken` sees each id's number too. Also returns the number after the last id given.
    pub(super) fn fresh_ids_from(
        &self,
        next: Option<u64>,
        n: usize,
        taken: impl Fn(u64, &str) -> Result<bool, StoreError>,
    ) -> Result<(Vec<String>, u64), StoreError> {
        use crate::domain::id::{id_numbered, ID_SPACE};
        let random_start = || self.random_id_number();
        let mut next = next.unwrap_or_else(random_start);
        let mut out = Vec::with_capacity(n);
        let mut taken_in_a_row = 0;
        while out.len() < n {
            let number = next;
            let id = id_numbered(number);
            next = (next + 1) % ID_SPACE;
            if taken(number, &id)? {
                taken_in_a_row += 1;
                if taken_in_a_row > 16 {
                    next = random_start();
                    taken_in_a_row = 0;
                }
                continue;
            }
            taken_in_a_row = 0;
            out.push(id);
        }
        Ok((out, next))
    }

    /// Inserts an uploaded certificate, refusing a duplicate (U-6) inside the same transaction.
    pub fn insert(&self, rec: &NewRecord) -> Result<Result<(), Refusal>, StoreError> {
        let txn = self.write_txn()?;
        let refused = InsertTables::open(&txn)?.insert(&self.sealer, &self.records, rec)?;
        if refused.is_err() {
            txn.abort().map_err(db_err)?;
        } else {
            txn.commit().map_err(db_err)?;
        }
        Ok(refused)
    }

    /// Inserts many records in one transaction (demo seeding, bulk import, benchmarks).
    /// Duplicates are skipped and returned with their refusal.
    pub fn insert_many(&self, recs: &[NewRecord]) -> Result<Vec<(usize, Refusal)>, StoreError> {
        let txn = self.write_txn()?;
        let mut refused = Vec::new();
        {
            let mut tables = InsertTables::open(&txn)?;
            // In id order: most tables are keyed by id, and B-tree inserts in key order stay in cache.
            let mut order: Vec<usize> = (0..recs.len()).collect();
            order.sort_unstable_by(|&a, &b| recs[a].cert.id.cmp(&recs[b].cert.id));
            for i in order {
                if let Err(r) = tables.insert(&self.sealer, &self.records, &recs[i])? {
                    refused.push((i, r));
                }
            }
            refused.sort_unstable_by_key(|(i, _)| *i);
        }
        txn.commit().map_err(db_err)?;
        Ok(refused)
    }

    /// Inserts chunks of `(position, record)` as they arrive, in one transaction, so a producer
    /// can still be building the next chunk. Returns the refused positions (U-6).
    pub fn insert_chunks(
        &self,
        chunks: impl Iterator<Item = Vec<(usize, NewRecord)>>,
    ) -> Result<Vec<(usize, Refusal)>, StoreError> {
        let txn = self.write_txn()?;
        let mut refused = Vec::new();
        {
            let mut tables = InsertTables::open(&txn)?;
            for mut chunk in chunks {
                chunk.sort_unstable_by(|a, b| a.1.cert.id.cmp(&b.1.cert.id));
                for (pos, rec) in &chunk {
                    if let Err(r) = tables.insert(&self.sealer, &self.records, rec)? {
                        refused.push((*pos, r));
                    }
                }
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(refused)
    }

    /// Every list summary. Read as raw bytes first (fast), then decoded on every core: decoding
    /// is most of the cost of opening a store of 100,000 certificates.
    pub fn summaries(&self) -> Result<Vec<CertSummary>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(SUMMARIES).map_err(db_err)?;
        let n = t.len().map_err(db_err)? as usize;
        let mut bytes = Vec::with_capacity(n * 160);
        let mut ends = Vec::with_capacity(n);
        // Ids packed the same way, read only to name a damaged record.
        let mut ids = String::with_capacity(n * 8);
        let mut id_ends = Vec::with_capacity(n);
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            bytes.extend_from_slice(v.value());
            ends.push(bytes.len());
            ids.push_str(k.value());
            id_ends.push(ids.len());
        }
        let decode_range = |range: std::ops::Range<usize>| -> Result<Vec<CertSummary>, StoreError> {
            range
                .map(|i| {
                    let start = if i == 0 { 0 } else { ends[i - 1] };
                    self.records.decode(&bytes[start..ends[i]]).map_err(|e| {
                        let from = if i == 0 { 0 } else { id_ends[i - 1] };
                        e.of("cert_summaries", &ids[from..id_ends[i]])
                    })
                })
                .collect()
        };
        let workers = std::thread::available_parallelism()
            .map_or(1, |w| w.get())
            .min(n / 5_000 + 1);
        if workers <= 1 {
            return decode_range(0..n);
        }
        let per = n.div_ceil(workers);
        let parts: Vec<Result<Vec<CertSummary>, StoreError>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|w| {
                    let decode_range = &decode_range;
                    scope.spawn(move || decode_range(w * per..((w + 1) * per).min(n)))
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().expect("decoding does not panic"))
                .collect()
        });
        let mut out = Vec::with_capacity(n);
        for part in parts {
            out.extend(part?);
        }
        Ok(out)
    }

    /// Bytes of all list summaries, read without decoding (benchmarks: I/O versus decode).
    pub fn count_summary_bytes(&self) -> Result<usize, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(SUMMARIES).map_err(db_err)?;
        let mut n = 0;
        for row in t.iter().map_err(db_err)? {
            n += row.map_err(db_err)?.1.value().len();
        }
        Ok(n)
    }

    pub fn count(&self) -> Result<u64, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let n = r.open_table(CERTS).map_err(db_err)?.len().map_err(db_err)?;
        Ok(n)
    }

    pub fn get(&self, id: &str) -> Result<Option<Certificate>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(CERTS).map_err(db_err)?;
        let v = t.get(id).map_err(db_err)?;
        v.map(|v| cert_row::decode(&self.records, id, v.value()))
            .transpose()
    }

    /// A record as a write transaction sees it.
    pub(super) fn get_in(
        &self,
        txn: &redb::WriteTransaction,
        id: &str,
    ) -> Result<Option<Certificate>, StoreError> {
        let t = txn.open_table(CERTS).map_err(db_err)?;
        let v = t.get(id).map_err(db_err)?;
        v.map(|v| cert_row::decode(&self.records, id, v.value()))
            .transpose()
    }

    /// Several records in one read transaction, in the order asked (`None` where missing).
    pub fn get_many<'a>(
        &self,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<Option<Certificate>>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(CERTS).map_err(db_err)?;
        ids.map(|id| match t.get(id).map_err(db_err)? {
            Some(v) => cert_row::decode(&self.records, id, v.value()).map(Some),
            None => Ok(None),
        })
        .collect()
    }

    pub fn find_by_fingerprint(&self, fp: &str) -> Result<Option<String>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(FINGERPRINTS).map_err(db_err)?;
        let v = t.get(fp).map_err(db_err)?.map(|v| v.value().to_string());
        Ok(v)
    }

    pub fn timeline(&self, id: &str) -> Result<Vec<TimelineEvent>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(TIMELINE).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.range((id, 0)..=(id, u64::MAX)).map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            out.push(
                self.records
                    .decode(v.value())
                    .map_err(|e| e.of("timeline", format!("{id}/{}", k.value().1)))?,
            );
        }
        Ok(out)
    }

    /// The timeline with, for each event a late tick dated earlier, when its work ran (T-1).
    pub fn timeline_entries(
        &self,
        id: &str,
    ) -> Result<Vec<crate::domain::model::TimelineEntry>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(TIMELINE).map_err(db_err)?;
        let ran = r.open_table(TIMELINE_RAN).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.range((id, 0)..=(id, u64::MAX)).map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let n = k.value().1;
            let event = self
                .records
                .decode(v.value())
                .map_err(|e| e.of("timeline", format!("{id}/{n}")))?;
            let ran_at = ran
                .get((id, n))
                .map_err(db_err)?
                .and_then(|v| chrono::DateTime::from_timestamp(v.value(), 0));
            out.push(crate::domain::model::TimelineEntry { event, ran_at });
        }
        Ok(out)
    }

    /// The private key of a record, decrypted. Callers must never print or log it.
    pub fn private_key_pem(&self, id: &str) -> Result<Option<String>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(SECRETS).map_err(db_err)?;
        let v = t.get(format!("{id}:key").as_str()).map_err(db_err)?;
        match v {
            None => Ok(None),
            Some(v) => {
                let plain = self
                    .sealer
                    .open(&format!("{id}:key"), v.value())
                    .map_err(StoreError::Seal)?;
                Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
            }
        }
    }
}
