//! Discovery's tables (SPEC §13): the files a scan read (path → stamp and fingerprints) and
//! where each discovered certificate is (id → paths, key path, gone since). Discovered
//! certificates themselves are ordinary records (source `discovered`, no key).
use super::{
    db_err, next_event_index, open_existing, ById, ByKey, InsertTables, NewRecord, Store,
    StoreError, CERTS, DISCOVERED, DISCOVERED_FILES, DISCOVERED_INTERMEDIATES, FINGERPRINTS,
    SCAN_PLAN, TIMELINE,
};
use crate::domain::discovery::{ExpiringIntermediate, FileRecord, ScanPlan, Watched};
use crate::domain::model::TimelineEvent;
use redb::{ReadableDatabase, ReadableTable};
use std::collections::BTreeMap;

/// What one scan changes, written in one transaction.
#[derive(Default)]
pub struct ScanChange {
    pub files_put: Vec<(String, FileRecord)>,
    pub files_removed: Vec<String>,
    pub new: Vec<(NewRecord, Watched)>,
    /// Known discovered certificates whose whereabouts changed, with what their timeline says.
    pub watched: Vec<(String, Watched, Option<TimelineEvent>)>,
    /// DS-5: a served intermediate ending soon, set (`Some`) or over (`None`), by certificate id,
    /// with what the timeline says.
    pub intermediates: Vec<(String, Option<ExpiringIntermediate>, Option<TimelineEvent>)>,
}

impl ScanChange {
    pub fn is_empty(&self) -> bool {
        self.files_put.is_empty()
            && self.files_removed.is_empty()
            && self.new.is_empty()
            && self.watched.is_empty()
            && self.intermediates.is_empty()
    }
}

impl Store {
    /// Shows `each` the path of every file a scan has read, in path order (nothing decoded).
    pub fn each_discovered_path(&self, mut each: impl FnMut(&str)) -> Result<(), StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let Some(t) = open_existing(&r, DISCOVERED_FILES)? else {
            return Ok(());
        };
        for row in t.iter().map_err(db_err)? {
            each(row.map_err(db_err)?.0.value());
        }
        Ok(())
    }

    /// Shows `each` every file a scan has read, in path order, one at a time (a rescan of
    /// 100,000 files holds no map of them).
    pub fn each_discovered_file(
        &self,
        each: impl FnMut(&str, FileRecord),
    ) -> Result<(), StoreError> {
        self.each_row(DISCOVERED_FILES, "discovered_files", each)
    }

    /// What the last scan read in one file.
    pub fn discovered_file(&self, path: &str) -> Result<Option<FileRecord>, StoreError> {
        self.read_one(DISCOVERED_FILES, "discovered_files", path)
    }

    /// The fingerprint of the first certificate (the leaf) a scanned file holds.
    pub fn leaf_in_file(&self, path: &str) -> Result<Option<String>, StoreError> {
        Ok(self
            .discovered_file(path)?
            .and_then(|f| f.fingerprints.into_iter().next()))
    }

    /// Where every discovered certificate is, by id.
    pub fn watched_all(&self) -> Result<BTreeMap<String, Watched>, StoreError> {
        Ok(self
            .read_all(DISCOVERED, "discovered")?
            .into_iter()
            .collect())
    }

    /// Starts a scan's write: every chunk of it lands in this one transaction, so a scan is
    /// stored whole or not at all, and its data reaches the disk with one commit.
    pub fn scan_txn(&self) -> Result<ScanTxn<'_>, StoreError> {
        Ok(ScanTxn {
            store: self,
            txn: self.write_txn()?,
            next_id: std::cell::Cell::new(None),
            run: std::cell::Cell::new(None),
        })
    }

    /// What was stored when the scan under way began, for the threads reading files beside
    /// its writer (#15: they look up what they find, so the writer only writes). The scan holds
    /// the store's one write transaction, so nothing commits meanwhile: this is exactly what
    /// its transaction started from. Open one only while a `ScanTxn` is.
    pub fn scan_snapshot(&self) -> Result<ScanSnapshot, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        Ok(ScanSnapshot {
            fingerprints: open_existing(&r, FINGERPRINTS)?,
            certs: open_existing(&r, CERTS)?,
            timeline: open_existing(&r, TIMELINE)?,
        })
    }

    /// Writes what a scan found, all or nothing.
    pub fn apply_scan(&self, change: &ScanChange) -> Result<(), StoreError> {
        if change.is_empty() {
            return Ok(());
        }
        let txn = self.scan_txn()?;
        txn.apply(change)?;
        txn.commit()
    }

    /// DS-5: the intermediate ending soon that a discovered certificate's site serves.
    pub fn expiring_intermediate(
        &self,
        id: &str,
    ) -> Result<Option<ExpiringIntermediate>, StoreError> {
        self.read_one(DISCOVERED_INTERMEDIATES, "discovered_intermediates", id)
    }

    /// Every one of them, by certificate id.
    pub fn expiring_intermediates(
        &self,
    ) -> Result<BTreeMap<String, ExpiringIntermediate>, StoreError> {
        Ok(self
            .read_all(DISCOVERED_INTERMEDIATES, "discovered_intermediates")?
            .into_iter()
            .collect())
    }

    /// DS-4: the roots scanned and when the tick rescans them (`None`: never scanned).
    pub fn scan_plan(&self) -> Result<Option<ScanPlan>, StoreError> {
        self.read_one(SCAN_PLAN, "discovery_plan", "plan")
    }

    pub fn set_scan_plan(&self, plan: &ScanPlan) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        txn.open_table(SCAN_PLAN)
            .map_err(db_err)?
            .insert("plan", self.records.encode(plan).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// DS-4, DS-5: the discovered certificates the list marks, by id (most have no mark and are
    /// left out).
    pub fn watch_marks(
        &self,
    ) -> Result<std::collections::HashMap<String, crate::domain::discovery::WatchMark>, StoreError>
    {
        let chain_ends = self.expiring_intermediates()?;
        let mut out = std::collections::HashMap::new();
        self.each_row(DISCOVERED, "discovered", |id, w: Watched| {
            if let Some(m) =
                crate::domain::discovery::WatchMark::of(&w, chain_ends.contains_key(id))
            {
                out.insert(id.to_string(), m);
            }
        })?;
        Ok(out)
    }

    /// Where a discovered certificate is (`None`: not a discovered one).
    pub fn watched(&self, id: &str) -> Result<Option<Watched>, StoreError> {
        self.read_one(DISCOVERED, "discovered", id)
    }

    /// A discovered certificate adopted (DS-3) is watched no more.
    pub fn forget_watched(&self, id: &str) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        txn.open_table(DISCOVERED)
            .map_err(db_err)?
            .remove(id)
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }
}

/// Stores what a scan read of each file (DS-4: a rescan reads it again only when it changed).
fn put_files(
    records: &super::record::Records,
    table: &mut redb::Table<'_, &'static str, &'static [u8]>,
    files: &[(String, FileRecord)],
) -> Result<(), StoreError> {
    // A chunk's files come in path order: packed into the table (`ascending`).
    let encoded: Vec<Vec<u8>> = files.iter().map(|(_, rec)| records.encode(rec)).collect();
    let rows: Vec<(&str, &[u8])> = files
        .iter()
        .zip(&encoded)
        .map(|((path, _), rec)| (path.as_str(), rec.as_slice()))
        .collect();
    super::ascending::put_ascending(table, &rows)
}

/// See `Store::scan_snapshot`.
pub struct ScanSnapshot {
    fingerprints: Option<redb::ReadOnlyTable<&'static str, &'static str>>,
    certs: Option<redb::ReadOnlyTable<&'static str, &'static [u8]>>,
    timeline: Option<redb::ReadOnlyTable<(&'static str, u64), &'static [u8]>>,
}

/// An id no record held when the scan began, and where its timeline goes on.
#[derive(Clone)]
pub struct FreeId {
    pub(super) id: String,
    pub(super) event_index: u64,
}

impl ScanSnapshot {
    /// Whether a record held this fingerprint.
    pub fn holds(&self, fingerprint: &str) -> Result<bool, StoreError> {
        match &self.fingerprints {
            Some(t) => Ok(t.get(fingerprint).map_err(db_err)?.is_some()),
            None => Ok(false),
        }
    }

    /// `id`, when no record held it.
    pub fn free(&self, id: &str) -> Result<Option<FreeId>, StoreError> {
        if let Some(t) = &self.certs {
            if t.get(id).map_err(db_err)?.is_some() {
                return Ok(None);
            }
        }
        let event_index = match &self.timeline {
            Some(t) => next_event_index(t, id)?,
            None => 0,
        };
        Ok(Some(FreeId {
            id: id.to_string(),
            event_index,
        }))
    }
}

/// One scan's write transaction: lookups see what earlier chunks of the same scan wrote.
pub struct ScanTxn<'s> {
    store: &'s Store,
    txn: redb::WriteTransaction,
    /// The number of the next id of this scan's run (`new_ids`), once one was started.
    pub(super) next_id: std::cell::Cell<Option<u64>>,
    /// The numbers the reading threads give ids from (`id_run`): first, how many.
    run: std::cell::Cell<Option<(u64, u64)>>,
}

impl ScanTxn<'_> {
    /// Looks up, one at a time, the record holding a fingerprint.
    pub fn fingerprint_lookup(
        &self,
    ) -> Result<impl Fn(&str) -> Result<Option<String>, StoreError> + '_, StoreError> {
        let t = self.txn.open_table(FINGERPRINTS).map_err(db_err)?;
        Ok(move |fp: &str| Ok(t.get(fp).map_err(db_err)?.map(|v| v.value().to_string())))
    }

    /// `n` fresh ids, distinct from each other and from every record, this scan's included,
    /// going on from the run this scan's earlier chunks took (`Store::fresh_ids`), and outside
    /// the numbers `id_run` keeps for the reading threads.
    pub fn new_ids(&self, n: usize) -> Result<Vec<String>, StoreError> {
        let certs = self.txn.open_table(CERTS).map_err(db_err)?;
        let run = self.run.get();
        let (ids, next) =
            self.store
                .fresh_ids_from(self.next_id.get(), n, |number, id| {
                    Ok(run
                        .is_some_and(|(first, len)| crate::domain::id::in_run(first, len, number))
                        || certs.get(id).map_err(db_err)?.is_some())
                })?;
        self.next_id.set(Some(next));
        Ok(ids)
    }

    /// Shows `look` every discovered certificate's whereabouts, one at a time, and keeps the
    /// ones it returns `true` for, by id (a large store is never held in memory whole).
    ///
    /// Records numbered from this scan's id run (`id_run`) are not shown: every one of them is
    /// new, and what it holds is what this scan just wrote (the caller's to know).
    pub fn watched_where(
        &self,
        mut look: impl FnMut(&str, &Watched) -> bool,
    ) -> Result<BTreeMap<String, Watched>, StoreError> {
        let t = self.txn.open_table(DISCOVERED).map_err(db_err)?;
        let mut out = BTreeMap::new();
        let in_run = |id: &str| {
            self.run.get().is_some_and(|(first, len)| {
                crate::domain::id::id_number(id)
                    .is_some_and(|n| crate::domain::id::in_run(first, len, n))
            })
        };
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            if in_run(k.value()) {
                continue;
            }
            let w: Watched = self
                .store
                .records
                .decode(v.value())
                .map_err(|e| e.of("discovered", k.value()))?;
            if look(k.value(), &w) {
                out.insert(k.value().to_string(), w);
            }
        }
        Ok(out)
    }

    /// Inserts records encoded ahead (`Store::prepare_found`), ids ascending. Each was checked
    /// against a `ScanSnapshot` and must be new to this scan too (the caller's to see): a
    /// record whose id or fingerprint is held after all fails the scan, nothing of it kept.
    ///
    /// The indexes keyed otherwise than by id are written on a thread of their own meanwhile
    /// (#15: the writer is the scan's slowest thread; redb lets one transaction write disjoint
    /// tables from several threads).
    ///
    /// `files` are the records of the files read, encoded and written on that other thread too.
    pub fn insert_prepared(
        &self,
        prepared: &[super::Prepared],
        files: &[(String, FileRecord)],
    ) -> Result<(), StoreError> {
        let (txn, records) = (&self.txn, &self.store.records);
        std::thread::scope(|s| {
            let by_key = s.spawn(|| -> Result<(), StoreError> {
                let mut by_key = ByKey::open(txn)?;
                by_key.write_all(prepared)?;
                let mut t = txn.open_table(DISCOVERED_FILES).map_err(db_err)?;
                put_files(records, &mut t, files)
            });
            let by_id = (|| -> Result<(), StoreError> {
                ById::open(txn)?.write_all(prepared)?;
                let watched: Vec<(&str, &[u8])> = prepared
                    .iter()
                    .filter_map(|p| Some((p.id.as_str(), p.watched.as_deref()?)))
                    .collect();
                let mut discovered = txn.open_table(DISCOVERED).map_err(db_err)?;
                super::ascending::put_ascending(&mut discovered, &watched)
            })();
            let by_key = by_key.join().unwrap_or_else(|_| {
                Err(StoreError::Db("a thread writing the scan stopped".into()))
            });
            by_id.and(by_key)
        })
    }

    /// Keeps `len` consecutive numbers of the id space (`crate::domain::id::id_numbered`) for
    /// the reading threads to give ids from, starting at a random one it returns; `new_ids`
    /// gives none of them.
    pub fn id_run(&self, len: u64) -> u64 {
        let first = self.store.random_id_number();
        self.run.set(Some((first, len)));
        first
    }

    /// Adds one part of what the scan found.
    pub fn apply(&self, change: &ScanChange) -> Result<(), StoreError> {
        let (store, txn) = (self.store, &self.txn);
        {
            let mut files = txn.open_table(DISCOVERED_FILES).map_err(db_err)?;
            put_files(&store.records, &mut files, &change.files_put)?;
            for path in &change.files_removed {
                files.remove(path.as_str()).map_err(db_err)?;
            }
        }
        {
            let mut tables = InsertTables::open(txn)?;
            for (rec, _) in &change.new {
                // A fingerprint already held (U-6) is not added twice.
                let _ = tables.insert(&store.sealer, &store.records, rec)?;
            }
        }
        {
            let mut watched = txn.open_table(DISCOVERED).map_err(db_err)?;
            for (rec, w) in &change.new {
                watched
                    .insert(rec.cert.id.as_str(), store.records.encode(w).as_slice())
                    .map_err(db_err)?;
            }
            for (id, w, _) in &change.watched {
                watched
                    .insert(id.as_str(), store.records.encode(w).as_slice())
                    .map_err(db_err)?;
            }
        }
        {
            let mut t = txn.open_table(DISCOVERED_INTERMEDIATES).map_err(db_err)?;
            for (id, i, _) in &change.intermediates {
                match i {
                    Some(i) => t
                        .insert(id.as_str(), store.records.encode(i).as_slice())
                        .map(|_| ()),
                    None => t.remove(id.as_str()).map(|_| ()),
                }
                .map_err(db_err)?;
            }
        }
        let events = change
            .watched
            .iter()
            .map(|(id, _, e)| (id, e))
            .chain(change.intermediates.iter().map(|(id, _, e)| (id, e)));
        for (id, event) in events {
            let Some(event) = event else { continue };
            if let Some(cert) = store.get_in(txn, id)? {
                super::add_event(store, txn, &cert, event)?;
            }
        }
        Ok(())
    }

    pub fn commit(self) -> Result<(), StoreError> {
        self.txn.commit().map_err(db_err)
    }
}

/// Discovered certificates' whereabouts as schema v8 stored them, frozen: read only by the v8 →
/// v9 migration (postcard is not self-describing: a changed shape is decoded with its old one
/// and rewritten). v9 added the main configuration file to each site.
mod v8 {
    use crate::domain::discovery::Drift;
    use crate::domain::webconf::Server;
    use serde::Deserialize;

    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct SiteV8 {
        pub server: Server,
        pub names: Vec<String>,
        pub listen: Vec<String>,
        pub cert_path: String,
        pub key_path: Option<String>,
        pub config: String,
        pub line: usize,
    }

    #[derive(Deserialize)]
    #[cfg_attr(test, derive(serde::Serialize))]
    pub struct WatchedV8 {
        pub paths: Vec<String>,
        pub key_path: Option<String>,
        pub gone_at: Option<crate::domain::time::Timestamp>,
        pub sites: Vec<SiteV8>,
        pub drift: Option<Drift>,
    }
}

/// v8 → v9: every stored site gains an (unknown, empty) main configuration file; the next scan
/// fills it in.
pub(super) fn migrate_v8(
    records: &super::record::Records,
    txn: &redb::WriteTransaction,
) -> Result<(), StoreError> {
    let mut t = txn.open_table(DISCOVERED).map_err(db_err)?;
    let rows: Vec<(String, Vec<u8>)> = t
        .iter()
        .map_err(db_err)?
        .map(|row| {
            let (k, v) = row.map_err(db_err)?;
            Ok((k.value().to_string(), v.value().to_vec()))
        })
        .collect::<Result<_, StoreError>>()?;
    for (id, bytes) in rows {
        let old: v8::WatchedV8 = records
            .decode(&bytes)
            .map_err(|e| e.of("discovered", &id))?;
        let new = Watched {
            paths: old.paths,
            key_path: old.key_path,
            gone_at: old.gone_at,
            sites: old
                .sites
                .into_iter()
                .map(|s| crate::domain::webconf::Site {
                    server: s.server,
                    names: s.names,
                    listen: s.listen,
                    cert_path: s.cert_path,
                    key_path: s.key_path,
                    config: s.config,
                    line: s.line,
                    main: String::new(),
                })
                .collect(),
            drift: old.drift,
        };
        t.insert(id.as_str(), records.encode(&new).as_slice())
            .map_err(db_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ds3_sites_stored_by_schema_v8_are_read_after_the_upgrade() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
        {
            let store = Store::open(&db, &key, "test").unwrap();
            let old = v8::WatchedV8 {
                paths: vec!["/etc/ssl/a.pem".into()],
                key_path: Some("/etc/ssl/a.key".into()),
                gone_at: None,
                sites: vec![v8::SiteV8 {
                    server: crate::domain::webconf::Server::Nginx,
                    names: vec!["a.test".into()],
                    listen: vec!["443".into()],
                    cert_path: "/etc/ssl/a.pem".into(),
                    key_path: Some("/etc/ssl/a.key".into()),
                    config: "/etc/nginx/sites-enabled/a".into(),
                    line: 3,
                }],
                drift: None,
            };
            let txn = store.db.begin_write().unwrap();
            txn.open_table(DISCOVERED)
                .unwrap()
                .insert("abc", store.records.encode(&old).as_slice())
                .unwrap();
            txn.open_table(super::super::META)
                .unwrap()
                .insert("schema_version", 8u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&db, &key, "test").unwrap();
        let w = store.watched("abc").unwrap().unwrap();
        assert_eq!(w.paths, ["/etc/ssl/a.pem"]);
        assert_eq!(w.sites[0].names, ["a.test"]);
        assert_eq!(w.sites[0].line, 3);
        assert_eq!(w.sites[0].main, "");
    }
}
