//! Discovery's tables (SPEC §13): the files a scan read (path → stamp and fingerprints) and
//! where each discovered certificate is (id → paths, key path, gone since). Discovered
//! certificates themselves are ordinary records (source `discovered`, no key).
use super::{
    db_err, InsertTables, NewRecord, Store, StoreError, DISCOVERED, DISCOVERED_FILES, FINGERPRINTS,
};
use crate::domain::discovery::{FileRecord, Watched};
use crate::domain::model::TimelineEvent;
use redb::ReadableDatabase;
use std::collections::BTreeMap;

/// What one scan changes, written in one transaction.
#[derive(Default)]
pub struct ScanChange {
    pub files_put: Vec<(String, FileRecord)>,
    pub files_removed: Vec<String>,
    pub new: Vec<(NewRecord, Watched)>,
    /// Known discovered certificates whose whereabouts changed, with what their timeline says.
    pub watched: Vec<(String, Watched, Option<TimelineEvent>)>,
}

impl ScanChange {
    pub fn is_empty(&self) -> bool {
        self.files_put.is_empty()
            && self.files_removed.is_empty()
            && self.new.is_empty()
            && self.watched.is_empty()
    }
}

impl Store {
    /// Every file a scan has read, by path.
    pub fn discovered_files(&self) -> Result<BTreeMap<String, FileRecord>, StoreError> {
        Ok(self
            .read_all(DISCOVERED_FILES, "discovered_files")?
            .into_iter()
            .collect())
    }

    /// Where every discovered certificate is, by id.
    pub fn watched_all(&self) -> Result<BTreeMap<String, Watched>, StoreError> {
        Ok(self
            .read_all(DISCOVERED, "discovered")?
            .into_iter()
            .collect())
    }

    /// The record holding each fingerprint, if any.
    pub fn ids_of_fingerprints<'a>(
        &self,
        fingerprints: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<Option<String>>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(FINGERPRINTS).map_err(db_err)?;
        fingerprints
            .map(|fp| Ok(t.get(fp).map_err(db_err)?.map(|v| v.value().to_string())))
            .collect()
    }

    /// Writes what a scan found, all or nothing.
    pub fn apply_scan(&self, change: &ScanChange) -> Result<(), StoreError> {
        if change.is_empty() {
            return Ok(());
        }
        let txn = self.write_txn()?;
        {
            let mut files = txn.open_table(DISCOVERED_FILES).map_err(db_err)?;
            for (path, rec) in &change.files_put {
                files
                    .insert(path.as_str(), self.records.encode(rec).as_slice())
                    .map_err(db_err)?;
            }
            for path in &change.files_removed {
                files.remove(path.as_str()).map_err(db_err)?;
            }
        }
        {
            let mut tables = InsertTables::open(&txn)?;
            for (rec, _) in &change.new {
                // A fingerprint already held (U-6) is not added twice.
                let _ = tables.insert(&self.sealer, &self.records, rec)?;
            }
        }
        {
            let mut watched = txn.open_table(DISCOVERED).map_err(db_err)?;
            for (rec, w) in &change.new {
                watched
                    .insert(rec.cert.id.as_str(), self.records.encode(w).as_slice())
                    .map_err(db_err)?;
            }
            for (id, w, _) in &change.watched {
                watched
                    .insert(id.as_str(), self.records.encode(w).as_slice())
                    .map_err(db_err)?;
            }
        }
        for (id, _, event) in &change.watched {
            let Some(event) = event else { continue };
            if let Some(cert) = self.get_in(&txn, id)? {
                super::add_event(self, &txn, &cert, event)?;
            }
        }
        txn.commit().map_err(db_err)
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
