//! Every stored record carries a tag (HMAC-SHA256 under a key derived from the store's key file,
//! cut to 16 bytes) so that a changed byte — a damaged sector, a bad copy, a hand edit — is
//! refused as damage instead of being served as the truth (a wrong expiry date is worse than
//! none). Private keys are sealed on top of this (seal.rs).
use super::StoreError;
use serde::de::DeserializeOwned;
use serde::Serialize;

pub(super) const TAG_LEN: usize = 16;

pub struct Records {
    key: ring::hmac::Key,
}

impl Records {
    pub(super) fn new(key: ring::hmac::Key) -> Records {
        Records { key }
    }

    fn tag(&self, plain: &[u8]) -> ring::hmac::Tag {
        ring::hmac::sign(&self.key, plain)
    }

    /// `plain` with its tag appended.
    pub(super) fn tagged(&self, plain: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(plain.len() + TAG_LEN);
        out.extend_from_slice(plain);
        out.extend_from_slice(&self.tag(plain).as_ref()[..TAG_LEN]);
        out
    }

    /// The record without its tag, or `None` when the tag does not verify.
    pub(super) fn verified<'a>(&self, stored: &'a [u8]) -> Option<&'a [u8]> {
        let split = stored.len().checked_sub(TAG_LEN)?;
        let (plain, tag) = stored.split_at(split);
        (self.tag(plain).as_ref()[..TAG_LEN] == *tag).then_some(plain)
    }

    pub(super) fn encode<T: Serialize>(&self, v: &T) -> Vec<u8> {
        // A `certs` row is not a record of its own shape (cert_row.rs).
        debug_assert_ne!(
            std::any::type_name::<T>(),
            std::any::type_name::<crate::domain::model::Certificate>(),
            "certificate rows are written through cert_row"
        );
        // Serialised into this thread's scratch buffer, then copied once into a record of its
        // exact size (#15: a scan encodes 50,000 records per 10,000 files; growing each one, or
        // giving each a large buffer, costs more than the copy).
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with(|scratch| {
            let mut scratch = scratch.borrow_mut();
            scratch.clear();
            let plain =
                postcard::to_extend(v, std::mem::take(&mut *scratch)).expect("records serialise");
            let out = self.tagged(&plain);
            *scratch = plain;
            out
        })
    }

    /// Decodes a verified record; a record that does not verify or decode is damage.
    pub(super) fn decode<T: DeserializeOwned>(&self, stored: &[u8]) -> Result<T, StoreError> {
        // A `certs` row is not a record of its own shape (cert_row.rs).
        debug_assert_ne!(
            std::any::type_name::<T>(),
            std::any::type_name::<crate::domain::model::Certificate>(),
            "certificate rows are read through cert_row::decode"
        );
        let plain = self.verified(stored).ok_or(StoreError::Damaged {
            table: None,
            id: None,
        })?;
        postcard::from_bytes(plain).map_err(|_| StoreError::Damaged {
            table: None,
            id: None,
        })
    }
}

/// The tables whose values are records (every value tagged), by name for `db check`.
pub(super) fn record_tables() -> Vec<(&'static str, AnyTable)> {
    use super::*;
    vec![
        ("certs", AnyTable::Str(CERTS)),
        ("cert_summaries", AnyTable::Str(SUMMARIES)),
        ("cert_facts", AnyTable::Str(CERT_FACTS)),
        ("timeline", AnyTable::StrU64(TIMELINE)),
        ("orders", AnyTable::Str(ORDERS)),
        ("letters", AnyTable::Str(LETTERS)),
        ("ledger", AnyTable::U64(LEDGER)),
        ("revocations", AnyTable::Str(REVOCATIONS)),
        ("crl", AnyTable::StrStr(CRL)),
        ("reissue_requests", AnyTable::Str(REISSUE_REQUESTS)),
        ("resources", AnyTable::Str(RESOURCES)),
        ("deploy_log", AnyTable::StrU64(DEPLOY_LOG)),
        ("deploy_journal", AnyTable::Str(DEPLOY_JOURNAL)),
        ("messages", AnyTable::U64(MESSAGES)),
        ("recipient_groups", AnyTable::Str(RECIPIENT_GROUPS)),
        ("alarms", AnyTable::Str(ALARMS)),
        ("outbox", AnyTable::U64(OUTBOX)),
        ("hostings", AnyTable::Str(HOSTINGS)),
        ("trust_anchors", AnyTable::Str(TRUST)),
        ("journal", AnyTable::U64(JOURNAL)),
        ("acme_accounts", AnyTable::Str(ACME_ACCOUNTS)),
        ("acme_certs", AnyTable::Str(ACME_CERTS)),
        ("acme_renewals", AnyTable::Str(ACME_RENEWALS)),
        ("acme_pending", AnyTable::Str(ACME_PENDING)),
        ("discovered_files", AnyTable::Str(DISCOVERED_FILES)),
        ("discovered", AnyTable::Str(DISCOVERED)),
        ("discovery_plan", AnyTable::Str(SCAN_PLAN)),
        (
            "discovered_intermediates",
            AnyTable::Str(DISCOVERED_INTERMEDIATES),
        ),
        ("meta", AnyTable::Str(META)),
    ]
}

/// META keys that are not records: the schema version is read before the key file, and the key
/// check is sealed.
pub(super) fn is_untagged_meta(key: &str) -> bool {
    matches!(key, "schema_version" | "key_check")
}

type Def<K> = redb::TableDefinition<'static, K, &'static [u8]>;

/// A record table whatever its key type.
#[derive(Clone, Copy)]
pub(super) enum AnyTable {
    Str(Def<&'static str>),
    U64(Def<u64>),
    StrU64(Def<(&'static str, u64)>),
    StrStr(Def<(&'static str, &'static str)>),
}

/// Every value of a record table as (shown key, stored bytes).
pub(super) fn rows(
    txn: &redb::ReadTransaction,
    table: AnyTable,
) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
    use redb::ReadableTable;
    fn all<K: redb::Key + 'static>(
        txn: &redb::ReadTransaction,
        def: Def<K>,
        show: impl Fn(K::SelfType<'_>) -> String,
    ) -> Result<Vec<(String, Vec<u8>)>, StoreError> {
        let Some(t) = super::open_existing(txn, def)? else {
            return Ok(Vec::new());
        };
        let mut out = Vec::new();
        for row in t.iter().map_err(super::db_err)? {
            let (k, v) = row.map_err(super::db_err)?;
            out.push((show(k.value()), v.value().to_vec()));
        }
        Ok(out)
    }
    match table {
        AnyTable::Str(d) => all(txn, d, |k| k.to_string()),
        AnyTable::U64(d) => all(txn, d, |k| k.to_string()),
        AnyTable::StrU64(d) => all(txn, d, |(a, b)| format!("{a}/{b}")),
        AnyTable::StrStr(d) => all(txn, d, |(a, b)| format!("{a}/{b}")),
    }
}

/// v8: appends a tag to every value of every record table (written untagged before).
pub(super) fn tag_every_record(
    records: &Records,
    txn: &redb::WriteTransaction,
) -> Result<(), StoreError> {
    use redb::ReadableTable;
    fn tag_all<K: redb::Key + 'static>(
        records: &Records,
        txn: &redb::WriteTransaction,
        def: Def<K>,
        skip: impl Fn(&[u8]) -> bool,
    ) -> Result<(), StoreError> {
        let mut t = txn.open_table(def).map_err(super::db_err)?;
        // Keys as bytes, values tagged, collected first: a table cannot be written while read.
        let mut rewritten: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
        for row in t.iter().map_err(super::db_err)? {
            let (k, v) = row.map_err(super::db_err)?;
            let key = K::as_bytes(&k.value()).as_ref().to_vec();
            if !skip(&key) {
                rewritten.push((key, records.tagged(v.value())));
            }
        }
        for (key, value) in rewritten {
            t.insert(K::from_bytes(&key), value.as_slice())
                .map_err(super::db_err)?;
        }
        Ok(())
    }
    for (_, table) in record_tables() {
        match table {
            AnyTable::Str(d) => tag_all(records, txn, d, |k| {
                redb::TableHandle::name(&d) == "meta"
                    && is_untagged_meta(&String::from_utf8_lossy(k))
            })?,
            AnyTable::U64(d) => tag_all(records, txn, d, |_| false)?,
            AnyTable::StrU64(d) => tag_all(records, txn, d, |_| false)?,
            AnyTable::StrStr(d) => tag_all(records, txn, d, |_| false)?,
        }
    }
    Ok(())
}
