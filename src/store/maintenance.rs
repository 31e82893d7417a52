//! `db check` and `db backup`: verifying every record of a database, and a consistent copy of
//! one that is in use.
use super::record::{self, AnyTable, Records};
use super::{db_err, Store, StoreError, SECRETS};
use redb::{ReadableDatabase, ReadableTable};
use serde::Serialize;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

/// What `db check` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CheckReport {
    /// redb's own check of its pages and allocator ("ok", or what it said).
    pub structure: String,
    pub tables: usize,
    pub records: usize,
    /// `table/key` of every record whose tag does not verify, or secret that does not open.
    pub damaged: Vec<String>,
}

impl CheckReport {
    pub fn is_clean(&self) -> bool {
        self.structure == "ok" && self.damaged.is_empty()
    }
}

/// Verifies the tag of every record (and that every sealed secret opens) in one snapshot. A
/// certificate's row must also read as a record: a discovered one kept as its DER is derived
/// from it (cert_row.rs), so a DER that no longer derives is damage too.
fn check_records(
    db: &redb::Database,
    records: &Records,
    sealer: &super::Sealer,
    report: &mut CheckReport,
) -> Result<(), StoreError> {
    let txn = db.begin_read().map_err(db_err)?;
    for (name, table) in record::record_tables() {
        report.tables += 1;
        for (key, value) in record::rows(&txn, table)? {
            if matches!(table, AnyTable::Str(_)) && name == "meta" && record::is_untagged_meta(&key)
            {
                continue;
            }
            report.records += 1;
            let whole = match name {
                "certs" => super::cert_row::decode(records, &key, &value).is_ok(),
                _ => records.verified(&value).is_some(),
            };
            if !whole {
                report.damaged.push(format!("{name}/{key}"));
            }
        }
    }
    report.tables += 1;
    let secrets = txn.open_table(SECRETS).map_err(db_err)?;
    for row in secrets.iter().map_err(db_err)? {
        let (k, v) = row.map_err(db_err)?;
        report.records += 1;
        // Opened to prove it is whole, then dropped (zeroed by the sealer's caller contract).
        match sealer.open(k.value(), v.value()) {
            Ok(mut plain) => zeroize::Zeroize::zeroize(&mut plain),
            Err(_) => report.damaged.push(format!("secrets/{}", k.value())),
        }
    }
    Ok(())
}

impl Store {
    /// Checks the whole database: redb's structure, then every record's tag. A panic of the
    /// storage library on a damaged page is reported as damage, not a crash.
    pub fn check(&mut self) -> Result<CheckReport, StoreError> {
        let mut report = CheckReport::default();
        let db = &mut self.db;
        report.structure = match crate::domain::guard::contained(|| db.check_integrity()) {
            Ok(Ok(true)) => "ok".into(),
            Ok(Ok(false)) => "repaired: the allocator state was rebuilt".into(),
            Ok(Err(e)) => format!("damaged: {e}"),
            Err(p) => format!("damaged: the storage library failed on it ({p})"),
        };
        let (db, records, sealer) = (&self.db, &self.records, &self.sealer);
        match crate::domain::guard::contained(|| check_records(db, records, sealer, &mut report)) {
            Ok(r) => r?,
            Err(p) => report.damaged.push(format!(
                "(unreadable: the storage library failed on a page: {p})"
            )),
        }
        Ok(report)
    }

    /// Writes a consistent copy of the database to `dest` (created 0600, never over an existing
    /// file) and verifies it. The copy is taken while this process holds redb's write lock, so no
    /// commit can land half-way through it. Returns the bytes copied.
    pub fn backup(&self, dest: &Path) -> Result<u64, StoreError> {
        let io = |e| StoreError::Io(dest.to_path_buf(), e);
        if dest.exists() {
            return Err(io(std::io::Error::new(
                std::io::ErrorKind::AlreadyExists,
                "exists; a backup never replaces a file (choose a new name)",
            )));
        }
        let dir = dest
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let tmp = tempfile::Builder::new()
            .prefix(".certdeck-backup")
            .tempfile_in(dir)
            .map_err(io)?;
        let bytes = {
            // The write lock, held (and never committed) while the file is copied.
            let lock = self.db.begin_write().map_err(db_err)?;
            let mut from = std::fs::File::open(&self.path).map_err(io)?;
            let mut to = std::fs::OpenOptions::new()
                .write(true)
                .mode(0o600)
                .open(tmp.path())
                .map_err(io)?;
            let n = std::io::copy(&mut from, &mut to).map_err(io)?;
            to.flush().map_err(io)?;
            to.sync_all().map_err(io)?;
            lock.abort().map_err(db_err)?;
            n
        };
        // The copy must open and verify before it is given its name.
        {
            let copy = redb::Database::open(tmp.path()).map_err(db_err)?;
            let mut report = CheckReport::default();
            check_records(&copy, &self.records, &self.sealer, &mut report)?;
            if !report.damaged.is_empty() {
                return Err(StoreError::Db(format!(
                    "the copy did not verify ({} damaged record(s)); nothing was written",
                    report.damaged.len()
                )));
            }
        }
        // A hard link never replaces an existing file, unlike rename.
        std::fs::hard_link(tmp.path(), dest).map_err(io)?;
        drop(tmp);
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(bytes)
    }
}
