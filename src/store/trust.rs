//! The roots the user trusts (U-2), by fingerprint.
use super::{db_err, Store, StoreError, TRUST};
use crate::domain::trust::TrustedRoot;
use redb::ReadableTable;

impl Store {
    /// Every trusted root, in subject order.
    pub fn trusted_roots(&self) -> Result<Vec<TrustedRoot>, StoreError> {
        let mut roots: Vec<TrustedRoot> = self
            .read_all(TRUST, "trust_anchors")?
            .into_iter()
            .map(|(_, r)| r)
            .collect();
        roots.sort_by(|a, b| a.subject.cmp(&b.subject));
        Ok(roots)
    }

    /// Adds roots (one already there stays as it was); how many were new.
    pub fn add_trusted_roots(&self, roots: &[TrustedRoot]) -> Result<usize, StoreError> {
        let txn = self.write_txn()?;
        let mut added = 0;
        {
            let mut t = txn.open_table(TRUST).map_err(db_err)?;
            for r in roots {
                let fp = r.fingerprint_sha256.as_str();
                if t.get(fp).map_err(db_err)?.is_none() {
                    t.insert(fp, self.records.encode(r).as_slice())
                        .map_err(db_err)?;
                    added += 1;
                }
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(added)
    }

    /// Removes the root with this fingerprint; whether it was there.
    pub fn remove_trusted_root(&self, fingerprint: &str) -> Result<bool, StoreError> {
        let txn = self.write_txn()?;
        let existed = txn
            .open_table(TRUST)
            .map_err(db_err)?
            .remove(fingerprint)
            .map_err(db_err)?
            .is_some();
        txn.commit().map_err(db_err)?;
        Ok(existed)
    }
}
