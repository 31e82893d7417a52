//! The account ledger and balance (AR-4: a deduction the balance does not cover writes nothing).
use super::*;

impl Store {
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
}

pub(super) fn read_balance(
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
pub(super) fn post_in(
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
