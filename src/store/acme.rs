//! ACME accounts (AC-1): the record by name, its credentials (the account key) sealed like the
//! private keys.
use super::{
    db_err, InsertTables, NewRecord, Store, StoreError, ACME_ACCOUNTS, ACME_CERTS, SECRETS,
};
use crate::domain::acme::{AcmeAccount, AcmeOrigin};
use crate::domain::refusal::{Field, Refusal};
use redb::{ReadableDatabase, ReadableTable};

fn credentials_key(name: &str) -> String {
    format!("acme:{name}:credentials")
}

/// Every record of a table keyed by name, decoded (a table not created yet holds none).
fn all<T: serde::de::DeserializeOwned>(
    store: &Store,
    table: redb::TableDefinition<&str, &[u8]>,
    shown: &'static str,
) -> Result<Vec<(String, T)>, StoreError> {
    let r = store.db.begin_read().map_err(db_err)?;
    let t = match r.open_table(table) {
        Ok(t) => t,
        Err(redb::TableError::TableDoesNotExist(_)) => return Ok(Vec::new()),
        Err(e) => return Err(db_err(e)),
    };
    let mut out = Vec::new();
    for row in t.iter().map_err(db_err)? {
        let (k, v) = row.map_err(db_err)?;
        let record = store
            .records
            .decode(v.value())
            .map_err(|e| e.of(shown, k.value()))?;
        out.push((k.value().to_string(), record));
    }
    Ok(out)
}

impl Store {
    pub fn acme_accounts(&self) -> Result<Vec<AcmeAccount>, StoreError> {
        Ok(all(self, ACME_ACCOUNTS, "acme_accounts")?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// The certificates an ACME account issued that are still stored.
    pub fn acme_certs_of(&self, account: &str) -> Result<Vec<String>, StoreError> {
        Ok(all::<AcmeOrigin>(self, ACME_CERTS, "acme_certs")?
            .into_iter()
            .filter(|(_, o)| o.account == account)
            .map(|(id, _)| id)
            .collect())
    }

    pub fn acme_account(&self, name: &str) -> Result<Option<AcmeAccount>, StoreError> {
        Ok(self.acme_accounts()?.into_iter().find(|a| a.name == name))
    }

    /// Stores a new account with its sealed credentials in one transaction; a name in use is
    /// refused (AC-1) and nothing is written.
    pub fn add_acme_account(
        &self,
        account: &AcmeAccount,
        credentials: &[u8],
    ) -> Result<Result<(), Refusal>, StoreError> {
        let txn = self.write_txn()?;
        {
            let mut t = txn.open_table(ACME_ACCOUNTS).map_err(db_err)?;
            if t.get(account.name.as_str()).map_err(db_err)?.is_some() {
                return Ok(Err(Refusal::new(
                    "AC-1",
                    Field::Name,
                    format!("an ACME account named {} exists", account.name),
                )));
            }
            t.insert(
                account.name.as_str(),
                self.records.encode(account).as_slice(),
            )
            .map_err(db_err)?;
            let key = credentials_key(&account.name);
            txn.open_table(SECRETS)
                .map_err(db_err)?
                .insert(key.as_str(), self.sealer.seal(&key, credentials).as_slice())
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)?;
        Ok(Ok(()))
    }

    /// The account's credentials (its key), opened. Never to be printed.
    pub fn acme_credentials(
        &self,
        name: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, StoreError> {
        let key = credentials_key(name);
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(SECRETS).map_err(db_err)?;
        let v = t.get(key.as_str()).map_err(db_err)?;
        match v {
            Some(v) => Ok(Some(zeroize::Zeroizing::new(
                self.sealer
                    .open(&key, v.value())
                    .map_err(StoreError::Seal)?,
            ))),
            None => Ok(None),
        }
    }

    /// Removes an account and its key; `false` when there was none.
    pub fn remove_acme_account(&self, name: &str) -> Result<bool, StoreError> {
        let txn = self.write_txn()?;
        let existed = {
            let existed = txn
                .open_table(ACME_ACCOUNTS)
                .map_err(db_err)?
                .remove(name)
                .map_err(db_err)?
                .is_some();
            txn.open_table(SECRETS)
                .map_err(db_err)?
                .remove(credentials_key(name).as_str())
                .map_err(db_err)?;
            existed
        };
        txn.commit().map_err(db_err)?;
        Ok(existed)
    }
}

impl Store {
    /// Stores a certificate an ACME CA issued together with where it came from, in one
    /// transaction (a duplicate leaf is refused, U-6, and nothing is written).
    pub fn insert_acme(
        &self,
        rec: &NewRecord,
        origin: &AcmeOrigin,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let txn = self.write_txn()?;
        let refused = InsertTables::open(&txn)?.insert(&self.sealer, &self.records, rec)?;
        if refused.is_err() {
            txn.abort().map_err(db_err)?;
            return Ok(refused);
        }
        txn.open_table(ACME_CERTS)
            .map_err(db_err)?
            .insert(rec.cert.id.as_str(), self.records.encode(origin).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)?;
        Ok(Ok(()))
    }

    /// The account and order of a certificate an ACME CA issued.
    pub fn acme_origin(&self, cert_id: &str) -> Result<Option<AcmeOrigin>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = match r.open_table(ACME_CERTS) {
            Ok(t) => t,
            Err(redb::TableError::TableDoesNotExist(_)) => return Ok(None),
            Err(e) => return Err(db_err(e)),
        };
        let v = t.get(cert_id).map_err(db_err)?;
        v.map(|v| self.records.decode(v.value()))
            .transpose()
            .map_err(|e| e.of("acme_certs", cert_id))
    }
}
