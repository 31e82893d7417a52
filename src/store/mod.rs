//! The redb store: typed tables behind a small API. Every state change is one write
//! transaction holding the record, its timeline event and the journal entry together.
mod accounts;
mod acme;
pub mod alarms;
mod ascending;
mod catalogue;
mod cert_row;
mod certificates;
mod delete;
pub mod discovery;
mod lifecycle;
mod maintenance;
mod messages;
mod migrations;
mod orders;
mod owner;
mod record;
mod records;
mod schedule;
pub use maintenance::CheckReport;
pub mod paths;
mod resources;
pub mod seal;
mod trust;
mod v10;
mod v6;

use crate::domain::account::{self, LedgerEntry, Money};
use crate::domain::model::{CertSummary, Certificate, TimelineEvent};
use crate::domain::order::OrderInfo;
use crate::domain::refusal::Refusal;
use crate::domain::revocation::Revocation;
use crate::domain::rules::upload::{check_not_duplicate, NewSecrets};
use crate::domain::schedule::{all_entries, entries_for, DueEntry, DueKind, Fired};
use redb::{
    Database, DatabaseError, ReadableDatabase, ReadableTable, ReadableTableMetadata,
    TableDefinition,
};
use seal::{SealError, Sealer};
use serde::{de::DeserializeOwned, Serialize};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

pub use owner::{describe_holder, holder_idle};

use accounts::post_in;
use migrations::{decode_v7, encode_v7, migrate};
pub use records::Prepared;
use records::{
    add_event, append_journal, next_event_index, put_summary, ById, ByKey, InsertTables,
};
use schedule::schedule_key;

/// A table as a read transaction sees it; `None` when it was not created yet (it holds
/// nothing).
pub(super) fn open_existing<K: redb::Key + 'static, V: redb::Value + 'static>(
    r: &redb::ReadTransaction,
    def: TableDefinition<K, V>,
) -> Result<Option<redb::ReadOnlyTable<K, V>>, StoreError> {
    match r.open_table(def) {
        Ok(t) => Ok(Some(t)),
        Err(redb::TableError::TableDoesNotExist(_)) => Ok(None),
        Err(e) => Err(db_err(e)),
    }
}

/// Bumped whenever a table's layout changes; `migrate` brings older files forward.
pub const SCHEMA_VERSION: u32 = 12;

/// redb's page cache (reads, and a transaction's pages before its commit; redb's default is
/// 1 GiB). A scan of 100,000 files writes some 300 MB in one transaction: with this cap its
/// pages go to the file as they fill, and the process stays small (#15). What the TUI reads
/// at start-up (every summary: ~30 MB at 100,000 certificates) still fits.
const CACHE_BYTES: usize = 24 << 20;

const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");
const CERTS: TableDefinition<&str, &[u8]> = TableDefinition::new("certs");
const SUMMARIES: TableDefinition<&str, &[u8]> = TableDefinition::new("cert_summaries");
/// SV-3: each certificate's metric labels (id → `MetricFacts`), written with the record.
const CERT_FACTS: TableDefinition<&str, &[u8]> = TableDefinition::new("cert_facts");
const FINGERPRINTS: TableDefinition<&str, &str> = TableDefinition::new("fingerprints");
const SECRETS: TableDefinition<&str, &[u8]> = TableDefinition::new("secrets");
const TIMELINE: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("timeline");
/// T-1: when the work of a timeline event ran (Unix seconds), for events a late tick dated
/// earlier; keyed as the timeline.
const TIMELINE_RAN: TableDefinition<(&str, u64), i64> = TableDefinition::new("timeline_ran");
/// Timed work ordered by due time (SPEC §11): `(due unix seconds, kind, cert id)`. A tick reads
/// the range up to now, so its cost follows what is due, not how many certificates exist.
const SCHEDULE: TableDefinition<(i64, &str, &str), ()> = TableDefinition::new("schedule");
/// Orders (issue #3), keyed by the id of the certificate record they belong to.
const ORDERS: TableDefinition<&str, &[u8]> = TableDefinition::new("orders");
/// OV/EV confirmation letters, keyed by record id.
const LETTERS: TableDefinition<&str, &[u8]> = TableDefinition::new("letters");
/// Prices set for catalogue products (cents), overriding the built-in ones.
const PRICES: TableDefinition<&str, i64> = TableDefinition::new("prices");
/// The account's ledger, in posting order; the balance is kept in META beside it.
const LEDGER: TableDefinition<u64, &[u8]> = TableDefinition::new("ledger");
/// Revocations (SPEC §6), keyed by the id of the certificate they revoke.
const REVOCATIONS: TableDefinition<&str, &[u8]> = TableDefinition::new("revocations");
/// The ids of revocations still open (under review or validation), so the Validation queue
/// reads those and not every revocation ever made.
const REVOCATIONS_OPEN: TableDefinition<&str, ()> = TableDefinition::new("revocations_open");
/// The CA's revocation list: `(issuer DN, serial hex)` → `CrlEntry`.
const CRL: TableDefinition<(&str, &str), &[u8]> = TableDefinition::new("crl");
/// Reissues by original: `(original id, reissue id)`, so RV-4 and RI-2 need no scan.
const REISSUES: TableDefinition<(&str, &str), ()> = TableDefinition::new("reissues");
/// What the CA is to certify for an open reissue (SPEC §8), keyed by the reissue's id.
const REISSUE_REQUESTS: TableDefinition<&str, &[u8]> = TableDefinition::new("reissue_requests");
/// Resources (issue #5): where certificates are deployed, by id.
const RESOURCES: TableDefinition<&str, &[u8]> = TableDefinition::new("resources");
/// The certificate each resource holds now: resource id → cert id.
const DEPLOYED: TableDefinition<&str, &str> = TableDefinition::new("deployed");
/// The same, by certificate: `(cert id, resource id)`, for D-3 and the detail pane.
const CERT_RESOURCES: TableDefinition<(&str, &str), ()> = TableDefinition::new("cert_resources");
/// Every deployment with its steps: `(resource id, sequence)` → `DeployRecord`.
const DEPLOY_LOG: TableDefinition<(&str, u64), &[u8]> = TableDefinition::new("deploy_log");
/// Deployments under way, by resource id (see `DeployJournal`).
const DEPLOY_JOURNAL: TableDefinition<&str, &[u8]> = TableDefinition::new("deploy_journal");
/// The message center (issue #6), in the order messages were raised.
const MESSAGES: TableDefinition<u64, &[u8]> = TableDefinition::new("messages");
/// The ids of unread messages: the unread count is this table's length (kept in the btree
/// header), and "unread only" reads only these.
const MESSAGES_UNREAD: TableDefinition<u64, ()> = TableDefinition::new("messages_unread");
/// Recipient groups (AL-1), by name.
const RECIPIENT_GROUPS: TableDefinition<&str, &[u8]> = TableDefinition::new("recipient_groups");
/// Alarm policies (SPEC §10), by id.
const ALARMS: TableDefinition<&str, &[u8]> = TableDefinition::new("alarms");
/// When a policy last fired for a certificate: `(policy id, cert id)` → unix seconds.
const ALARM_FIRINGS: TableDefinition<(&str, &str), i64> = TableDefinition::new("alarm_firings");
/// The delivery outbox, in the order deliveries were made.
const OUTBOX: TableDefinition<u64, &[u8]> = TableDefinition::new("outbox");
/// Pending deliveries by their next try: `(unix seconds, delivery id)`, so the sender reads only
/// what is due, not the whole outbox.
const OUTBOX_DUE: TableDefinition<(i64, u64), ()> = TableDefinition::new("outbox_due");
/// Hostings (SPEC §4), by id.
const HOSTINGS: TableDefinition<&str, &[u8]> = TableDefinition::new("hostings");
/// U-2: roots the user trusts, by SHA-256 fingerprint.
const TRUST: TableDefinition<&str, &[u8]> = TableDefinition::new("trust_anchors");
/// Renewals by old certificate: `(old id, renewal id)` (H-2's automatic association).
const RENEWALS: TableDefinition<(&str, &str), ()> = TableDefinition::new("renewals");
/// ACME accounts (AC-1) by name; their keys are in SECRETS.
const ACME_ACCOUNTS: TableDefinition<&str, &[u8]> = TableDefinition::new("acme_accounts");
/// Where each ACME certificate came from (account, order), by certificate id.
const ACME_CERTS: TableDefinition<&str, &[u8]> = TableDefinition::new("acme_certs");
/// DS-4: the files a scan read (path → stamp, fingerprints); created on first use.
const DISCOVERED_FILES: TableDefinition<&str, &[u8]> = TableDefinition::new("discovered_files");
/// DS-3: where each discovered certificate is (id → paths, key path, gone since).
const DISCOVERED: TableDefinition<&str, &[u8]> = TableDefinition::new("discovered");
/// DS-5: an intermediate a watched certificate's site serves that ends soon (id → it).
const DISCOVERED_INTERMEDIATES: TableDefinition<&str, &[u8]> =
    TableDefinition::new("discovered_intermediates");
/// DS-4: the roots scanned and when the tick rescans them (one row, "plan").
const SCAN_PLAN: TableDefinition<&str, &[u8]> = TableDefinition::new("discovery_plan");
/// AC-3: ACME orders left open for dns-01 records added by hand (cert id → how it was ordered).
const ACME_PENDING: TableDefinition<&str, &[u8]> = TableDefinition::new("acme_pending");
/// AC-4: how each ACME certificate renews by itself (cert id → plan); created on first use.
const ACME_RENEWALS: TableDefinition<&str, &[u8]> = TableDefinition::new("acme_renewals");
/// What happened to records that no longer exist (their timelines go with them).
const JOURNAL: TableDefinition<u64, &[u8]> = TableDefinition::new("journal");

const KEY_CHECK_AAD: &str = "certdeck:key-check";
const KEY_CHECK_PLAIN: &[u8] = b"certdeck key check v1";

#[derive(Debug)]
pub enum StoreError {
    AlreadyOpen {
        path: PathBuf,
        holder: Option<String>,
    },
    SchemaTooNew {
        path: PathBuf,
        found: u32,
    },
    KeyMissing {
        path: PathBuf,
        key_path: PathBuf,
    },
    KeyMismatch {
        path: PathBuf,
        key_path: PathBuf,
    },
    NotADatabase {
        path: PathBuf,
        why: String,
    },
    /// A record whose tag does not verify or that does not decode: changed on disk.
    Damaged {
        table: Option<&'static str>,
        id: Option<String>,
    },
    Seal(SealError),
    Io(PathBuf, std::io::Error),
    Db(String),
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreError::AlreadyOpen { path, holder } => write!(
                f,
                "database {} is open in another certdeck process{}; close that one first, or use --db for another file",
                path.display(),
                holder.as_ref().map(|h| format!(": {h}")).unwrap_or_default()
            ),
            StoreError::SchemaTooNew { path, found } => write!(
                f,
                "database {} has schema version {found}, newer than this certdeck understands (up to {SCHEMA_VERSION}); upgrade certdeck",
                path.display()
            ),
            StoreError::KeyMissing { path, key_path } => write!(
                f,
                "database {} holds encrypted private keys but the key file {} is missing; restore it or set CERTDECK_KEY_FILE",
                path.display(),
                key_path.display()
            ),
            StoreError::KeyMismatch { path, key_path } => write!(
                f,
                "key file {} does not belong to database {} (the keys were sealed with another key file); set CERTDECK_KEY_FILE to the right one",
                key_path.display(),
                path.display()
            ),
            StoreError::NotADatabase { path, why } => write!(
                f,
                "{} is not a certdeck database: {why}; nothing in it was changed",
                path.display()
            ),
            StoreError::Damaged { table, id } => write!(
                f,
                "database damaged: {}{} does not verify (it was changed on disk); restore from backup (certdeck db check lists every damaged record)",
                table.map(|t| format!("the {t} record")).unwrap_or_else(|| "a record".into()),
                id.as_ref().map(|i| format!(" {i}")).unwrap_or_default()
            ),
            StoreError::Seal(e) => write!(f, "{e}"),
            StoreError::Io(p, e) => write!(f, "{}: {e}", p.display()),
            StoreError::Db(m) => write!(f, "database error: {m}"),
        }
    }
}

impl std::error::Error for StoreError {}

impl StoreError {
    /// Names the record a damage error is about; other errors pass unchanged.
    pub(crate) fn of(self, table: &'static str, id: impl std::fmt::Display) -> StoreError {
        match self {
            StoreError::Damaged { .. } => StoreError::Damaged {
                table: Some(table),
                id: Some(id.to_string()),
            },
            other => other,
        }
    }
}

fn db_err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Db(e.to_string())
}

/// A CA backend's own certificates and keys (the keys sealed like every other private key).
pub struct CaMaterial {
    pub root_der: Vec<u8>,
    pub root_key_pem: String,
    pub issuing_der: Vec<u8>,
    pub issuing_key_pem: String,
}

/// A new certificate with everything that is written with it.
pub struct NewRecord {
    pub cert: Certificate,
    pub secrets: NewSecrets,
    pub event: TimelineEvent,
}

pub struct Store {
    db: Database,
    sealer: Sealer,
    path: PathBuf,
    owner: owner::OwnerFile,
    /// What the user should know about the files (modes); said once by whoever opened the store.
    warnings: Vec<String>,
    records: record::Records,
}

impl Store {
    /// Opens (or creates, 0600) the database at `path`, with the key file at `key_path`.
    /// `role` names this process in the message another process gets (e.g. "tui", "cli import").
    pub fn open(path: &Path, key_path: &Path, role: &str) -> Result<Store, StoreError> {
        let io = |e| StoreError::Io(path.to_path_buf(), e);
        let mut warnings = Vec::new();
        // Nothing about an existing file is changed before it is known to be certdeck's: a
        // mistyped `--db /etc/passwd` is refused, its mode untouched.
        match std::fs::symlink_metadata(path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(dir)
                        .map_err(io)?;
                }
                std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(io)?;
            }
            Err(e) => return Err(io(e)),
            Ok(_) => {
                let meta = std::fs::metadata(path).map_err(io)?;
                if !meta.is_file() {
                    return Err(StoreError::NotADatabase {
                        path: path.to_path_buf(),
                        why: "it is not a regular file".into(),
                    });
                }
                if meta.len() == 0 {
                    return Err(StoreError::NotADatabase {
                        path: path.to_path_buf(),
                        why: "it is empty (0 bytes): a truncated database, or not one; restore it from a backup (certdeck db backup), or remove it to start afresh".into(),
                    });
                }
                let mode = meta.permissions().mode();
                if mode & 0o077 != 0 {
                    warnings.push(format!(
                        "database {} is readable by others (mode {:04o}); run chmod 600 {}",
                        path.display(),
                        mode & 0o7777,
                        path.display()
                    ));
                }
            }
        }
        let db = match Database::builder().set_cache_size(CACHE_BYTES).create(path) {
            Ok(db) => db,
            Err(DatabaseError::DatabaseAlreadyOpen) => {
                return Err(StoreError::AlreadyOpen {
                    path: path.to_path_buf(),
                    holder: describe_holder(path),
                })
            }
            Err(DatabaseError::Storage(redb::StorageError::Corrupted(why))) => {
                return Err(StoreError::NotADatabase {
                    path: path.to_path_buf(),
                    why: format!("it is damaged ({why}); restore it from a backup"),
                })
            }
            Err(DatabaseError::Storage(redb::StorageError::Io(e)))
                if e.kind() == std::io::ErrorKind::InvalidData =>
            {
                return Err(StoreError::NotADatabase {
                    path: path.to_path_buf(),
                    why: e.to_string(),
                })
            }
            Err(e) => return Err(db_err(e)),
        };
        let owner = owner::OwnerFile::claim(path, role);

        let (version, key_check) = {
            let r = db.begin_read().map_err(db_err)?;
            match open_existing(&r, META)? {
                Some(t) => (
                    t.get("schema_version")
                        .map_err(db_err)?
                        .map(|v| u32::from_le_bytes(v.value().try_into().unwrap_or([0; 4]))),
                    t.get("key_check")
                        .map_err(db_err)?
                        .map(|v| v.value().to_vec()),
                ),
                None => (None, None),
            }
        };
        if let Some(v) = version {
            if v > SCHEMA_VERSION {
                return Err(StoreError::SchemaTooNew {
                    path: path.to_path_buf(),
                    found: v,
                });
            }
        }
        let sealer = match Sealer::load(key_path, key_check.is_none()).map_err(StoreError::Seal)? {
            Some(s) => s,
            None => {
                return Err(StoreError::KeyMissing {
                    path: path.to_path_buf(),
                    key_path: key_path.to_path_buf(),
                })
            }
        };
        if let Some(check) = &key_check {
            if sealer.open(KEY_CHECK_AAD, check).ok().as_deref() != Some(KEY_CHECK_PLAIN) {
                return Err(StoreError::KeyMismatch {
                    path: path.to_path_buf(),
                    key_path: key_path.to_path_buf(),
                });
            }
        }
        warnings.extend(sealer.warning.clone());
        let records = record::Records::new(sealer.record_key.clone());
        let store = Store {
            records,
            db,
            sealer,
            path: path.to_path_buf(),
            owner,
            warnings,
        };
        store.initialise(version, key_check.is_none())?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// What the user should be told about the database and key files (e.g. readable by others).
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Marks a completed tick for other processes (see `owner::holder_idle`).
    pub fn heartbeat(&self) {
        self.owner.heartbeat();
    }

    pub fn key_path(&self) -> &Path {
        &self.sealer.key_path
    }

    fn write_txn(&self) -> Result<redb::WriteTransaction, StoreError> {
        let mut txn = self.db.begin_write().map_err(db_err)?;
        // The data came from users: never let a torn commit look valid.
        txn.set_two_phase_commit(true);
        // After a crash (SIGKILL, an SSH drop mid-write) the next open repairs in milliseconds
        // instead of walking the whole file.
        txn.set_quick_repair(true);
        Ok(txn)
    }

    fn initialise(&self, version: Option<u32>, write_key_check: bool) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            let from = version.unwrap_or(0);
            migrate(&txn, from)?;
            if from < 8 {
                txn.open_table(ACME_ACCOUNTS).map_err(db_err)?;
                txn.open_table(ACME_CERTS).map_err(db_err)?;
            }
            if from == 8 {
                // v9: a discovered certificate's sites name their server's main configuration.
                drop(meta);
                discovery::migrate_v8(&self.records, &txn)?;
                meta = txn.open_table(META).map_err(db_err)?;
            }
            if (1..8).contains(&from) {
                // v8: every record carries its tag (record.rs); older ones gain it here.
                drop(meta);
                record::tag_every_record(&self.records, &txn)?;
                meta = txn.open_table(META).map_err(db_err)?;
            }
            if (6..11).contains(&from) {
                // v11: a hosting names the recipient group its messages go to (H-6).
                drop(meta);
                v10::migrate(&self.records, &txn)?;
                meta = txn.open_table(META).map_err(db_err)?;
            }
            if (1..12).contains(&from) {
                // v12: a discovered certificate may be kept as its DER (cert_row.rs); every
                // other row says it is kept whole. Every record's metric facts (SV-3), written
                // again from it: v10 began them, but records the schedule wrote (renewals,
                // reissues) were left without.
                drop(meta);
                cert_row::migrate_v11(&self.records, &txn)?;
                migrations::build_metric_facts(&self.records, &txn)?;
                meta = txn.open_table(META).map_err(db_err)?;
            }
            if version != Some(SCHEMA_VERSION) {
                meta.insert("schema_version", SCHEMA_VERSION.to_le_bytes().as_slice())
                    .map_err(db_err)?;
            }
            if write_key_check {
                let check = self.sealer.seal(KEY_CHECK_AAD, KEY_CHECK_PLAIN);
                meta.insert("key_check", check.as_slice()).map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)
    }
}

fn sealer_seal(sealer: &Sealer, aad: &str, pem: &str) -> Vec<u8> {
    sealer.seal(aad, pem.as_bytes())
}

#[cfg(test)]
mod tests;
