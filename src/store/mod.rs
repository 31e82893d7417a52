//! The redb store: typed tables behind a small API. Every state change is one write
//! transaction holding the record, its timeline event and the journal entry together.
mod acme;
pub mod alarms;
pub mod discovery;
mod lifecycle;
mod maintenance;
mod messages;
mod owner;
mod record;
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

/// Bumped whenever a table's layout changes; `migrate` brings older files forward.
pub const SCHEMA_VERSION: u32 = 11;

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

/// Records as versions up to 7 stored them (no tag): read and written by migrations only.
fn encode_v7<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_stdvec(v).expect("records serialise")
}

fn decode_v7<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(b).map_err(|e| StoreError::Db(format!("corrupt record: {e}")))
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
        let db = match Database::create(path) {
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
            match r.open_table(META) {
                Ok(t) => (
                    t.get("schema_version")
                        .map_err(db_err)?
                        .map(|v| u32::from_le_bytes(v.value().try_into().unwrap_or([0; 4]))),
                    t.get("key_check")
                        .map_err(db_err)?
                        .map(|v| v.value().to_vec()),
                ),
                Err(redb::TableError::TableDoesNotExist(_)) => (None, None),
                Err(e) => return Err(db_err(e)),
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
            if (1..10).contains(&from) {
                // v10: each certificate's metric facts (SV-3), derived from the records.
                drop(meta);
                build_metric_facts(&self.records, &txn)?;
                meta = txn.open_table(META).map_err(db_err)?;
            }
            if (6..11).contains(&from) {
                // v11: a hosting names the recipient group its messages go to (H-6).
                drop(meta);
                v10::migrate(&self.records, &txn)?;
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

    /// A fresh id that no record has.
    pub fn new_id(&self) -> Result<String, StoreError> {
        Ok(self.new_ids(1)?.remove(0))
    }

    /// Every certificate record, in id order (metrics).
    pub fn certificates(&self) -> Result<Vec<Certificate>, StoreError> {
        Ok(self
            .read_all::<Certificate>(CERTS, "certs")?
            .into_iter()
            .map(|(_, c)| c)
            .collect())
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

    /// `n` fresh ids, distinct from each other and from every stored record.
    pub fn new_ids(&self, n: usize) -> Result<Vec<String>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let certs = r.open_table(CERTS).map_err(db_err)?;
        self.fresh_ids(n, |id| Ok(certs.get(id).map_err(db_err)?.is_some()))
    }

    /// `n` random ids that `taken` does not know, distinct from each other.
    fn fresh_ids(
        &self,
        n: usize,
        taken: impl Fn(&str) -> Result<bool, StoreError>,
    ) -> Result<Vec<String>, StoreError> {
        let mut seen = std::collections::HashSet::with_capacity(n);
        let mut out = Vec::with_capacity(n);
        while out.len() < n {
            let id = crate::domain::id::short_id(self.sealer.random_bytes());
            if !seen.contains(&id) && !taken(&id)? {
                seen.insert(id.clone());
                out.push(id);
            }
        }
        Ok(out)
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

    /// Zones whose DNS certdeck manages (AR-6), sorted.
    pub fn managed_zones(&self) -> Result<Vec<String>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let meta = r.open_table(META).map_err(db_err)?;
        let v = meta.get("managed_zones").map_err(db_err)?;
        match v {
            Some(v) => self.records.decode(v.value()),
            None => Ok(Vec::new()),
        }
    }

    pub fn set_managed_zones(&self, zones: &[String]) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        txn.open_table(META)
            .map_err(db_err)?
            .insert("managed_zones", self.records.encode(&zones).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// The price table: prices set for catalogue products, in cents.
    pub fn prices(&self) -> Result<crate::domain::catalogue::PriceTable, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(PRICES).map_err(db_err)?;
        let mut out = crate::domain::catalogue::PriceTable::new();
        for row in t.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            out.insert(k.value().to_string(), Money(v.value()));
        }
        Ok(out)
    }

    pub fn set_price(&self, code: &str, price: Money) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        txn.open_table(PRICES)
            .map_err(db_err)?
            .insert(code, price.0)
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// The root certificate (DER) of CA hierarchy `name`, without unsealing any key.
    pub fn ca_root_der(&self, name: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let meta = r.open_table(META).map_err(db_err)?;
        let k = format!("ca:{name}:root");
        let v = match meta.get(k.as_str()).map_err(db_err)? {
            Some(v) => Some(
                self.records
                    .verified(v.value())
                    .ok_or(StoreError::Damaged {
                        table: Some("meta"),
                        id: Some(k.clone()),
                    })?
                    .to_vec(),
            ),
            None => None,
        };
        Ok(v)
    }

    pub fn ca_material(&self, name: &str) -> Result<Option<CaMaterial>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let meta = r.open_table(META).map_err(db_err)?;
        let secrets = r.open_table(SECRETS).map_err(db_err)?;
        let get = |k: String| -> Result<Option<Vec<u8>>, StoreError> {
            match meta.get(k.as_str()).map_err(db_err)? {
                Some(v) => match self.records.verified(v.value()) {
                    Some(der) => Ok(Some(der.to_vec())),
                    None => Err(StoreError::Damaged {
                        table: Some("meta"),
                        id: Some(k),
                    }),
                },
                None => Ok(None),
            }
        };
        let key = |k: String| -> Result<Option<String>, StoreError> {
            match secrets.get(k.as_str()).map_err(db_err)? {
                Some(v) => {
                    let plain = self.sealer.open(&k, v.value()).map_err(StoreError::Seal)?;
                    Ok(Some(String::from_utf8_lossy(&plain).into_owned()))
                }
                None => Ok(None),
            }
        };
        match (
            get(format!("ca:{name}:root"))?,
            get(format!("ca:{name}:issuing"))?,
            key(format!("ca:{name}:root:key"))?,
            key(format!("ca:{name}:issuing:key"))?,
        ) {
            (Some(root_der), Some(issuing_der), Some(root_key_pem), Some(issuing_key_pem)) => {
                Ok(Some(CaMaterial {
                    root_der,
                    root_key_pem,
                    issuing_der,
                    issuing_key_pem,
                }))
            }
            _ => Ok(None),
        }
    }

    pub fn save_ca_material(&self, name: &str, m: &CaMaterial) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        {
            let mut meta = txn.open_table(META).map_err(db_err)?;
            meta.insert(
                format!("ca:{name}:root").as_str(),
                self.records.tagged(&m.root_der).as_slice(),
            )
            .map_err(db_err)?;
            meta.insert(
                format!("ca:{name}:issuing").as_str(),
                self.records.tagged(&m.issuing_der).as_slice(),
            )
            .map_err(db_err)?;
            let mut secrets = txn.open_table(SECRETS).map_err(db_err)?;
            for (k, pem) in [
                (format!("ca:{name}:root:key"), &m.root_key_pem),
                (format!("ca:{name}:issuing:key"), &m.issuing_key_pem),
            ] {
                secrets
                    .insert(k.as_str(), self.sealer.seal(&k, pem.as_bytes()).as_slice())
                    .map_err(db_err)?;
            }
        }
        txn.commit().map_err(db_err)
    }

    /// Orders whose certificate is still `validating` or `awaiting_letter`, with their records.
    pub fn open_orders(&self) -> Result<Vec<(Certificate, OrderInfo)>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let orders = r.open_table(ORDERS).map_err(db_err)?;
        let certs = r.open_table(CERTS).map_err(db_err)?;
        let mut out = Vec::new();
        for row in orders.iter().map_err(db_err)? {
            let (k, v) = row.map_err(db_err)?;
            let Some(c) = certs.get(k.value()).map_err(db_err)? else {
                continue;
            };
            let cert: Certificate = self.records.decode(c.value())?;
            if matches!(
                cert.status,
                crate::domain::model::Status::Validating
                    | crate::domain::model::Status::AwaitingLetter
            ) {
                out.push((cert, self.records.decode(v.value())?));
            }
        }
        Ok(out)
    }

    /// The confirmation letter stored for a record, if any.
    pub fn letter(&self, id: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(LETTERS).map_err(db_err)?;
        let v = t.get(id).map_err(db_err)?.map(|v| v.value().to_vec());
        Ok(v)
    }

    pub fn order(&self, id: &str) -> Result<Option<OrderInfo>, StoreError> {
        Ok(self.orders_many(std::iter::once(id))?.remove(0))
    }

    pub fn orders_many<'a>(
        &self,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<Option<OrderInfo>>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(ORDERS).map_err(db_err)?;
        ids.map(|id| match t.get(id).map_err(db_err)? {
            Some(v) => self
                .records
                .decode(v.value())
                .map(Some)
                .map_err(|e| e.of("orders", id)),
            None => Ok(None),
        })
        .collect()
    }

    /// Places an order: its record, the order, the payment and its schedule in one transaction.
    /// `Ok(false)`: the balance does not cover the price; nothing is written.
    pub fn place_order(
        &self,
        rec: &NewRecord,
        order: &OrderInfo,
        payment: &LedgerEntry,
    ) -> Result<bool, StoreError> {
        let txn = self.write_txn()?;
        {
            if post_in(&self.records, &txn, payment)?.is_none() {
                txn.abort().map_err(db_err)?;
                return Ok(false);
            }
            self.insert_order(&txn, rec, order)?;
        }
        txn.commit().map_err(db_err)?;
        Ok(true)
    }

    /// An order's record, its order and its schedule entries, in `txn`.
    fn insert_order(
        &self,
        txn: &redb::WriteTransaction,
        rec: &NewRecord,
        order: &OrderInfo,
    ) -> Result<(), StoreError> {
        let id = rec.cert.id.as_str();
        txn.open_table(ORDERS)
            .map_err(db_err)?
            .insert(id, self.records.encode(order).as_slice())
            .map_err(db_err)?;
        let mut tables = InsertTables::open(txn)?;
        if let Err(r) = tables.insert(&self.sealer, &self.records, rec)? {
            return Err(StoreError::Db(format!("order record refused: {r}")));
        }
        for e in all_entries(&rec.cert, Some(order), None) {
            tables
                .schedule
                .insert(schedule_key(&e), ())
                .map_err(db_err)?;
        }
        Ok(())
    }

    pub fn balance(&self) -> Result<Money, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let meta = r.open_table(META).map_err(db_err)?;
        read_balance(&self.records, &meta)
    }

    /// The latest `limit` ledger entries, newest first.
    pub fn ledger(&self, limit: usize) -> Result<Vec<LedgerEntry>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(LEDGER).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)?.rev().take(limit) {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        Ok(out)
    }

    /// Posts a ledger entry and moves the balance in one transaction. `Ok(None)`: a deduction
    /// the balance does not cover (AR-4); nothing is written.
    pub fn post(&self, entry: &LedgerEntry) -> Result<Option<Money>, StoreError> {
        let txn = self.write_txn()?;
        let Some(next) = post_in(&self.records, &txn, entry)? else {
            txn.abort().map_err(db_err)?;
            return Ok(None);
        };
        txn.commit().map_err(db_err)?;
        Ok(Some(next))
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

    fn schedule_range(
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

    fn apply_items(
        &self,
        items: &[(Option<&DueEntry>, &str, Option<&Fired>)],
    ) -> Result<usize, StoreError> {
        let txn = self.write_txn()?;
        let mut applied = 0;
        {
            let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
            let mut certs = txn.open_table(CERTS).map_err(db_err)?;
            let mut summaries = txn.open_table(SUMMARIES).map_err(db_err)?;
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
                        Some(v) => Some(self.records.decode(v.value())?),
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
                            .insert(id, self.records.encode(updated).as_slice())
                            .map_err(db_err)?;
                        summaries
                            .insert(id, self.records.encode(&updated.summary()).as_slice())
                            .map_err(db_err)?;
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
                        Some(v) => Some(self.records.decode(v.value())?),
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
                        .insert(oid, self.records.encode(other).as_slice())
                        .map_err(db_err)?;
                    summaries
                        .insert(oid, self.records.encode(&other.summary()).as_slice())
                        .map_err(db_err)?;
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
                        .insert(nid, self.records.encode(&new.cert).as_slice())
                        .map_err(db_err)?;
                    summaries
                        .insert(nid, self.records.encode(&new.cert.summary()).as_slice())
                        .map_err(db_err)?;
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
                            Some(v) => self.records.decode::<Certificate>(v.value())?.ignored,
                            None => false,
                        });
                messages::raise(&self.records, &txn, id, ignored, &effect.event)?;
                applied += 1;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(applied)
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
        v.map(|v| self.records.decode(v.value()))
            .transpose()
            .map_err(|e| e.of("certs", id))
    }

    /// A record as a write transaction sees it.
    fn get_in(
        &self,
        txn: &redb::WriteTransaction,
        id: &str,
    ) -> Result<Option<Certificate>, StoreError> {
        let t = txn.open_table(CERTS).map_err(db_err)?;
        let v = t.get(id).map_err(db_err)?;
        v.map(|v| self.records.decode(v.value()))
            .transpose()
            .map_err(|e| e.of("certs", id))
    }

    /// Several records in one read transaction, in the order asked (`None` where missing).
    pub fn get_many<'a>(
        &self,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<Option<Certificate>>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(CERTS).map_err(db_err)?;
        ids.map(|id| match t.get(id).map_err(db_err)? {
            Some(v) => self
                .records
                .decode(v.value())
                .map(Some)
                .map_err(|e| e.of("certs", id)),
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

    /// Removes a record with everything that belongs to it; the journal keeps `event`.
    pub fn delete(&self, id: &str, event: &TimelineEvent) -> Result<bool, StoreError> {
        let txn = self.write_txn()?;
        let existed = {
            let mut certs = txn.open_table(CERTS).map_err(db_err)?;
            let old: Option<Certificate> = match certs.remove(id).map_err(db_err)? {
                Some(v) => Some(self.records.decode(v.value())?),
                None => None,
            };
            if let Some(old) = &old {
                txn.open_table(SUMMARIES)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?;
                txn.open_table(CERT_FACTS)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?;
                if let Some(fp) = old.x509.as_ref().map(|x| x.fingerprint_sha256.as_str()) {
                    txn.open_table(FINGERPRINTS)
                        .map_err(db_err)?
                        .remove(fp)
                        .map_err(db_err)?;
                }
                let mut secrets = txn.open_table(SECRETS).map_err(db_err)?;
                for which in ["key", "enc_key"] {
                    secrets
                        .remove(format!("{id}:{which}").as_str())
                        .map_err(db_err)?;
                }
                let mut tl = txn.open_table(TIMELINE).map_err(db_err)?;
                tl.retain_in((id, 0)..=(id, u64::MAX), |_, _| false)
                    .map_err(db_err)?;
                txn.open_table(TIMELINE_RAN)
                    .map_err(db_err)?
                    .retain_in((id, 0)..=(id, u64::MAX), |_, _| false)
                    .map_err(db_err)?;
                txn.open_table(ACME_CERTS)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?;
                acme::forget_renewal(&self.records, &txn, id)?;
                txn.open_table(ACME_PENDING)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?;
                txn.open_table(DISCOVERED)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?;
                let mut letters = txn.open_table(LETTERS).map_err(db_err)?;
                letters.remove(id).map_err(db_err)?;
                letters
                    .remove(format!("{id}:revocation").as_str())
                    .map_err(db_err)?;
                let revocation: Option<Revocation> = match txn
                    .open_table(REVOCATIONS)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?
                {
                    Some(v) => Some(self.records.decode(v.value())?),
                    None => None,
                };
                txn.open_table(REVOCATIONS_OPEN)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?;
                txn.open_table(REISSUE_REQUESTS)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?;
                // D-3: the certificate stops being tracked on its resources.
                let mut by_cert = txn.open_table(CERT_RESOURCES).map_err(db_err)?;
                let held: Vec<String> = by_cert
                    .range((id, "")..=(id, "\u{10ffff}"))
                    .map_err(db_err)?
                    .map(|r| r.map(|(k, _)| k.value().1.to_string()))
                    .collect::<Result<_, _>>()
                    .map_err(db_err)?;
                let mut deployed = txn.open_table(DEPLOYED).map_err(db_err)?;
                for r in &held {
                    by_cert.remove((id, r.as_str())).map_err(db_err)?;
                    deployed.remove(r.as_str()).map_err(db_err)?;
                }
                let mut reissues = txn.open_table(REISSUES).map_err(db_err)?;
                if let Some(original) = &old.reissued_from {
                    reissues.remove((original.as_str(), id)).map_err(db_err)?;
                }
                let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
                let order: Option<OrderInfo> = match txn
                    .open_table(ORDERS)
                    .map_err(db_err)?
                    .remove(id)
                    .map_err(db_err)?
                {
                    Some(v) => Some(self.records.decode(v.value())?),
                    None => None,
                };
                for e in all_entries(old, order.as_ref(), revocation.as_ref()) {
                    schedule.remove(schedule_key(&e)).map_err(db_err)?;
                }
                append_journal(&self.records, &txn, id, event)?;
            }
            old.is_some()
        };
        txn.commit().map_err(db_err)?;
        Ok(existed)
    }
}

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
fn add_event(
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
struct InsertTables<'txn> {
    certs: redb::Table<'txn, &'static str, &'static [u8]>,
    summaries: redb::Table<'txn, &'static str, &'static [u8]>,
    facts: redb::Table<'txn, &'static str, &'static [u8]>,
    fingerprints: redb::Table<'txn, &'static str, &'static str>,
    secrets: redb::Table<'txn, &'static str, &'static [u8]>,
    timeline: redb::Table<'txn, (&'static str, u64), &'static [u8]>,
    schedule: redb::Table<'txn, (i64, &'static str, &'static str), ()>,
}

impl<'txn> InsertTables<'txn> {
    fn open(txn: &'txn redb::WriteTransaction) -> Result<Self, StoreError> {
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
    fn insert(
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
fn next_event_index(
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

fn append_journal(
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

/// Every certificate's metric facts, written from its (tagged) record.
fn build_metric_facts(
    records: &record::Records,
    txn: &redb::WriteTransaction,
) -> Result<(), StoreError> {
    let certs = txn.open_table(CERTS).map_err(db_err)?;
    let mut facts = txn.open_table(CERT_FACTS).map_err(db_err)?;
    for row in certs.iter().map_err(db_err)? {
        let (k, v) = row.map_err(db_err)?;
        let cert: Certificate = records
            .decode(v.value())
            .map_err(|e| e.of("certs", k.value()))?;
        facts
            .insert(k.value(), records.encode(&cert.metric_facts()).as_slice())
            .map_err(db_err)?;
    }
    Ok(())
}

/// Brings a database from schema `from` to `SCHEMA_VERSION`. Version 0 is a new file.
fn migrate(txn: &redb::WriteTransaction, from: u32) -> Result<(), StoreError> {
    if from < 11 {
        // v11: the roots the user trusts (U-2), when late work ran (T-1).
        txn.open_table(TRUST).map_err(db_err)?;
        txn.open_table(TIMELINE_RAN).map_err(db_err)?;
    }
    if from < 1 {
        // Create every table so readers never meet a missing one.
        txn.open_table(CERTS).map_err(db_err)?;
        txn.open_table(SUMMARIES).map_err(db_err)?;
        txn.open_table(FINGERPRINTS).map_err(db_err)?;
        txn.open_table(SECRETS).map_err(db_err)?;
        txn.open_table(TIMELINE).map_err(db_err)?;
        txn.open_table(JOURNAL).map_err(db_err)?;
    }
    if from < 7 {
        // v7: recipient groups (policies name them), the unread-messages and open-revocations
        // indexes.
        txn.open_table(RECIPIENT_GROUPS).map_err(db_err)?;
        {
            let revocations = txn.open_table(REVOCATIONS).map_err(db_err)?;
            let mut open = txn.open_table(REVOCATIONS_OPEN).map_err(db_err)?;
            for row in revocations.iter().map_err(db_err)? {
                let (k, v) = row.map_err(db_err)?;
                if decode_v7::<Revocation>(v.value())?.is_open() {
                    open.insert(k.value(), ()).map_err(db_err)?;
                }
            }
        }
        let messages = txn.open_table(MESSAGES).map_err(db_err)?;
        let mut unread = txn.open_table(MESSAGES_UNREAD).map_err(db_err)?;
        for row in messages.iter().map_err(db_err)? {
            let m: crate::domain::message::Message = decode_v7(row.map_err(db_err)?.1.value())?;
            if !m.read {
                unread.insert(m.id, ()).map_err(db_err)?;
            }
        }
        if from == 6 {
            v6::migrate(txn)?;
        }
    }
    if from < 6 {
        // v6: resources, deployments and hostings, and the renewals index filled from the
        // records that exist.
        txn.open_table(HOSTINGS).map_err(db_err)?;
        txn.open_table(DEPLOY_JOURNAL).map_err(db_err)?;
        txn.open_table(MESSAGES).map_err(db_err)?;
        txn.open_table(ALARMS).map_err(db_err)?;
        txn.open_table(ALARM_FIRINGS).map_err(db_err)?;
        txn.open_table(OUTBOX).map_err(db_err)?;
        txn.open_table(OUTBOX_DUE).map_err(db_err)?;
        {
            let certs = txn.open_table(CERTS).map_err(db_err)?;
            let mut renewals = txn.open_table(RENEWALS).map_err(db_err)?;
            for row in certs.iter().map_err(db_err)? {
                let cert: Certificate = decode_v7(row.map_err(db_err)?.1.value())?;
                if let Some(old) = &cert.renewed_from {
                    renewals
                        .insert((old.as_str(), cert.id.as_str()), ())
                        .map_err(db_err)?;
                }
            }
        }
        txn.open_table(RESOURCES).map_err(db_err)?;
        txn.open_table(DEPLOYED).map_err(db_err)?;
        txn.open_table(CERT_RESOURCES).map_err(db_err)?;
        txn.open_table(DEPLOY_LOG).map_err(db_err)?;
    }
    if from < 5 {
        // v5: revocations, the CA's revocation list, reissues.
        txn.open_table(REVOCATIONS).map_err(db_err)?;
        txn.open_table(CRL).map_err(db_err)?;
        txn.open_table(REISSUES).map_err(db_err)?;
        txn.open_table(REISSUE_REQUESTS).map_err(db_err)?;
    }
    if from < 4 {
        // v4: orders placed with a CA backend.
        txn.open_table(ORDERS).map_err(db_err)?;
        txn.open_table(LETTERS).map_err(db_err)?;
        txn.open_table(PRICES).map_err(db_err)?;
    }
    if from < 3 {
        // v3: the account ledger (balance 0 until the first top-up).
        txn.open_table(LEDGER).map_err(db_err)?;
    }
    if from < 2 {
        // v2: the schedule, filled from every stored certificate.
        let certs = txn.open_table(CERTS).map_err(db_err)?;
        let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
        for row in certs.iter().map_err(db_err)? {
            let cert: Certificate = decode_v7(row.map_err(db_err)?.1.value())?;
            for e in entries_for(&cert) {
                schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
            }
        }
    }
    Ok(())
}

fn read_balance(
    records: &record::Records,
    meta: &impl ReadableTable<&'static str, &'static [u8]>,
) -> Result<Money, StoreError> {
    let damaged = || StoreError::Damaged {
        table: Some("meta"),
        id: Some("balance_cents".into()),
    };
    Ok(Money(match meta.get("balance_cents").map_err(db_err)? {
        Some(v) => i64::from_le_bytes(
            records
                .verified(v.value())
                .ok_or_else(damaged)?
                .try_into()
                .map_err(|_| damaged())?,
        ),
        None => 0,
    }))
}

/// Posts a ledger entry and moves the balance inside `txn`. `None`: a deduction the balance does
/// not cover (AR-4); nothing was written and the caller aborts.
fn post_in(
    records: &record::Records,
    txn: &redb::WriteTransaction,
    entry: &LedgerEntry,
) -> Result<Option<Money>, StoreError> {
    let mut meta = txn.open_table(META).map_err(db_err)?;
    let Some(next) = account::apply(read_balance(records, &meta)?, entry) else {
        return Ok(None);
    };
    meta.insert(
        "balance_cents",
        records.tagged(&next.0.to_le_bytes()).as_slice(),
    )
    .map_err(db_err)?;
    let mut ledger = txn.open_table(LEDGER).map_err(db_err)?;
    let seq = match ledger.last().map_err(db_err)? {
        Some((k, _)) => k.value() + 1,
        None => 0,
    };
    ledger
        .insert(seq, records.encode(entry).as_slice())
        .map_err(db_err)?;
    Ok(Some(next))
}

fn sealer_seal(sealer: &Sealer, aad: &str, pem: &str) -> Vec<u8> {
    sealer.seal(aad, pem.as_bytes())
}

fn schedule_key(e: &DueEntry) -> (i64, &str, &str) {
    (e.due.timestamp(), e.kind.as_str(), e.cert_id.as_str())
}

fn entry_from_key(due: i64, kind: &str, cert_id: &str) -> Result<DueEntry, StoreError> {
    Ok(DueEntry {
        due: chrono::DateTime::from_timestamp(due, 0)
            .ok_or_else(|| StoreError::Db(format!("schedule time {due} out of range")))?,
        kind: DueKind::parse(kind)
            .ok_or_else(|| StoreError::Db(format!("unknown schedule kind {kind}")))?,
        cert_id: cert_id.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::pki::{Authority, KeyKind};
    use crate::domain::rules::upload::{new_uploaded_certificate, validate_upload, UploadInput};
    use chrono::{Duration, Utc};

    fn record(domain: &str) -> NewRecord {
        let now = Utc::now();
        let ca = Authority::root(
            "Store Test CA",
            "tests",
            KeyKind::P256,
            now - Duration::days(9),
            now + Duration::days(900),
        );
        let leaf = ca.issue(
            &[domain],
            KeyKind::P256,
            now - Duration::days(1),
            now + Duration::days(90),
        );
        let input = UploadInput {
            cert: leaf.cert_pem.into_bytes(),
            key: Some(leaf.key_pem.into_bytes()),
            ..Default::default()
        };
        let v = validate_upload(&input, now, &[]).unwrap();
        let (cert, secrets, event) =
            new_uploaded_certificate(&v, crate::domain::id::short_id(rand8()), now);
        NewRecord {
            cert,
            secrets,
            event,
        }
    }

    fn rand8() -> [u8; 8] {
        use ring::rand::SecureRandom;
        let mut b = [0u8; 8];
        ring::rand::SystemRandom::new().fill(&mut b).unwrap();
        b
    }

    #[test]
    fn nothing_is_changed_in_a_file_before_it_is_known_to_be_certdecks() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let key = dir.path().join("k/store.key");
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        // A mistyped --db: refused, its mode and bytes untouched.
        let passwd = dir.path().join("passwd");
        std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
        std::fs::set_permissions(&passwd, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = Store::open(&passwd, &key, "test").err().expect("refused");
        assert!(matches!(e, StoreError::NotADatabase { .. }), "{e}");
        assert_eq!(mode(&passwd), 0o644);
        assert!(std::fs::read_to_string(&passwd)
            .unwrap()
            .starts_with("root:x"));
        // An empty file that exists is not a new database.
        let empty = dir.path().join("empty.redb");
        std::fs::write(&empty, "").unwrap();
        let e = Store::open(&empty, &key, "test").err().expect("refused");
        assert!(e.to_string().contains("empty (0 bytes)"), "{e}");
        assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
        // New files: directories 0700, files 0600.
        let db = dir.path().join("d/c.redb");
        drop(Store::open(&db, &key, "test").unwrap());
        assert_eq!(mode(&dir.path().join("d")), 0o700);
        assert_eq!(mode(&dir.path().join("k")), 0o700);
        // A key file readable by others is said, not silently changed.
        std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
        std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
        let store = Store::open(&db, &key, "test").unwrap();
        assert_eq!((mode(&key), mode(&db)), (0o644, 0o640));
        let w = store.warnings().join("\n");
        assert!(w.contains("key file") && w.contains("chmod 600"), "{w}");
        assert!(w.contains("database") && w.contains("0640"), "{w}");
        drop(store);
        // The owner file is never written through a symlink planted beside the database.
        let target = dir.path().join("victim");
        std::fs::write(&target, "precious").unwrap();
        let owner = owner::owner_path(&db);
        let _ = std::fs::remove_file(&owner);
        std::os::unix::fs::symlink(&target, &owner).unwrap();
        let store = Store::open(&db, &key, "test").unwrap();
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
        assert!(!std::fs::symlink_metadata(&owner)
            .unwrap()
            .file_type()
            .is_symlink());
        drop(store);
    }

    #[test]
    fn files_are_private_and_a_record_round_trips_with_its_sealed_key() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("d/c.redb"), dir.path().join("k/store.key"));
        let store = Store::open(&db, &key, "test").unwrap();
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let rec = record("a.example");
        store.insert(&rec).unwrap().unwrap();
        assert_eq!(store.get(&rec.cert.id).unwrap().unwrap(), rec.cert);
        assert_eq!(
            store.private_key_pem(&rec.cert.id).unwrap(),
            rec.secrets.key_pem
        );
        assert_eq!(
            store.timeline(&rec.cert.id).unwrap(),
            vec![rec.event.clone()]
        );
        drop(store);
        let again = Store::open(&db, &key, "test").unwrap();
        assert_eq!(again.summaries().unwrap(), vec![rec.cert.summary()]);
    }

    #[test]
    fn rule_u6_duplicate_insert_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
        let rec = record("a.example");
        store.insert(&rec).unwrap().unwrap();
        let mut twin = record("unused.example");
        twin.cert.x509 = rec.cert.x509.clone();
        let refusal = store.insert(&twin).unwrap().unwrap_err();
        assert_eq!(refusal.rule, "U-6");
        assert!(refusal.message.contains(&rec.cert.id));
        assert!(store.get(&twin.cert.id).unwrap().is_none());
        assert!(store.private_key_pem(&twin.cert.id).unwrap().is_none());
        assert_eq!(store.count().unwrap(), 1);
    }

    #[test]
    fn delete_removes_everything_and_the_certificate_can_come_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
        let rec = record("a.example");
        store.insert(&rec).unwrap().unwrap();
        assert!(store.delete(&rec.cert.id, &rec.event).unwrap());
        assert!(store.get(&rec.cert.id).unwrap().is_none());
        assert!(store.private_key_pem(&rec.cert.id).unwrap().is_none());
        assert!(store.timeline(&rec.cert.id).unwrap().is_empty());
        assert!(store.summaries().unwrap().is_empty());
        assert!(!store.delete(&rec.cert.id, &rec.event).unwrap());
        store
            .insert(&rec)
            .unwrap()
            .expect("fingerprint index was cleared");
    }

    #[test]
    fn rule_sv3_metric_facts_are_built_for_the_records_of_schema_9() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
        let rec = record("a.example");
        {
            let store = Store::open(&db, &key, "test").unwrap();
            store.insert(&rec).unwrap().unwrap();
            // v9 had no metric facts.
            let txn = store.db.begin_write().unwrap();
            txn.delete_table(CERT_FACTS).unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 9u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&db, &key, "test").unwrap();
        let facts = store.metric_facts().unwrap();
        assert_eq!(facts.len(), 1);
        assert_eq!(facts[&rec.cert.id], rec.cert.metric_facts());
        assert!(facts[&rec.cert.id].not_before.is_some());
    }

    #[test]
    fn a_newer_schema_is_refused_with_an_actionable_message() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
        drop(Store::open(&db, &key, "test").unwrap());
        {
            let raw = Database::create(&db).unwrap();
            let txn = raw.begin_write().unwrap();
            txn.open_table(META)
                .unwrap()
                .insert(
                    "schema_version",
                    (SCHEMA_VERSION + 1).to_le_bytes().as_slice(),
                )
                .unwrap();
            txn.commit().unwrap();
        }
        let err = Store::open(&db, &key, "test")
            .err()
            .expect("refused")
            .to_string();
        assert!(
            err.contains(&format!("schema version {}", SCHEMA_VERSION + 1))
                && err.contains("upgrade certdeck"),
            "{err}"
        );
    }

    #[test]
    fn an_old_schema_is_migrated_forward() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
        {
            // A file from before the first release: no tables, no version.
            let raw = Database::create(&db).unwrap();
            raw.begin_write().unwrap().commit().unwrap();
        }
        let store = Store::open(&db, &key, "test").unwrap();
        assert!(store.summaries().unwrap().is_empty());
        let r = store.db.begin_read().unwrap();
        let v = r
            .open_table(META)
            .unwrap()
            .get("schema_version")
            .unwrap()
            .unwrap()
            .value()
            .to_vec();
        assert_eq!(v, SCHEMA_VERSION.to_le_bytes());
    }

    #[test]
    fn migration_to_v2_schedules_existing_certificates() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
        let rec = record("old.example");
        {
            let store = Store::open(&db, &key, "test").unwrap();
            store.insert(&rec).unwrap().unwrap();
        }
        {
            // Make it a v1 file: no schedule table.
            let raw = Database::create(&db).unwrap();
            let txn = raw.begin_write().unwrap();
            txn.delete_table(SCHEDULE).unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 1u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&db, &key, "test").unwrap();
        let end = rec.cert.not_after().unwrap();
        let due = store.due(end, 10).unwrap();
        assert_eq!(due.len(), 1);
        assert_eq!(due[0].cert_id, rec.cert.id);
    }

    #[test]
    fn rule_ar4_ledger_posts_move_the_balance_and_refuse_an_overdraft() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
        let now = Utc::now();
        assert_eq!(store.balance().unwrap(), Money(0));
        store
            .post(&account::topup(Money(10_000), now).unwrap())
            .unwrap()
            .unwrap();
        let fee = LedgerEntry {
            at: now,
            kind: account::LedgerKind::Deduction,
            amount: Money(10_001),
            cert_id: None,
            note: "fee".into(),
        };
        assert_eq!(store.post(&fee).unwrap(), None);
        assert_eq!(
            store.ledger(10).unwrap().len(),
            1,
            "a refused deduction writes nothing"
        );
        let fee = LedgerEntry {
            amount: Money(10_000),
            ..fee
        };
        assert_eq!(store.post(&fee).unwrap(), Some(Money(0)));
        assert_eq!(
            store.ledger(10).unwrap()[0].kind,
            account::LedgerKind::Deduction,
            "newest first"
        );
    }

    #[test]
    fn a_wrong_or_missing_key_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
        drop(Store::open(&db, &key, "test").unwrap());
        std::fs::remove_file(&key).unwrap();
        let err = Store::open(&db, &key, "test").err().unwrap().to_string();
        assert!(
            err.contains("is missing") && err.contains("CERTDECK_KEY_FILE"),
            "{err}"
        );
        std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
        let err = Store::open(&db, &key, "test").err().unwrap().to_string();
        assert!(err.contains("does not belong to database"), "{err}");
    }
}
