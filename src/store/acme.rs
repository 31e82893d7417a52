//! ACME accounts (AC-1): the record by name, its credentials (the account key) sealed like the
//! private keys.
use super::{
    db_err, schedule_key, InsertTables, NewRecord, Store, StoreError, ACME_ACCOUNTS, ACME_CERTS,
    ACME_PENDING, ACME_RENEWALS, RENEWALS, SCHEDULE, SECRETS,
};
use crate::domain::acme::{AcmeAccount, AcmeOrigin};
use crate::domain::acme_renewal::AcmeRenewal;
use crate::domain::model::{Certificate, TimelineEvent};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::schedule::{DueEntry, DueKind};
use redb::{ReadableDatabase, ReadableTable};

fn credentials_key(name: &str) -> String {
    format!("acme:{name}:credentials")
}

impl Store {
    pub fn acme_accounts(&self) -> Result<Vec<AcmeAccount>, StoreError> {
        Ok(self
            .read_all(ACME_ACCOUNTS, "acme_accounts")?
            .into_iter()
            .map(|(_, a)| a)
            .collect())
    }

    /// The certificates an ACME account issued that are still stored.
    pub fn acme_certs_of(&self, account: &str) -> Result<Vec<String>, StoreError> {
        Ok(self
            .read_all::<AcmeOrigin>(ACME_CERTS, "acme_certs")?
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

/// The schedule entry of a renewal plan.
fn renewal_entry(cert_id: &str, plan: &AcmeRenewal) -> DueEntry {
    let due = plan.due();
    DueEntry {
        due: chrono::DateTime::from_timestamp(due.timestamp(), 0).unwrap_or(due),
        kind: DueKind::AcmeRenew,
        cert_id: cert_id.to_string(),
    }
}

/// Writes (or with `None` removes) the renewal plan of `cert_id` and its schedule entry in `txn`.
fn put_renewal(
    records: &super::record::Records,
    txn: &redb::WriteTransaction,
    cert_id: &str,
    plan: Option<&AcmeRenewal>,
) -> Result<(), StoreError> {
    forget_renewal(records, txn, cert_id)?;
    if let Some(plan) = plan {
        txn.open_table(ACME_RENEWALS)
            .map_err(db_err)?
            .insert(cert_id, records.encode(plan).as_slice())
            .map_err(db_err)?;
        txn.open_table(SCHEDULE)
            .map_err(db_err)?
            .insert(schedule_key(&renewal_entry(cert_id, plan)), ())
            .map_err(db_err)?;
    }
    Ok(())
}

/// Removes the renewal plan of `cert_id` and its schedule entry in `txn` (deletion, renewal).
pub(super) fn forget_renewal(
    records: &super::record::Records,
    txn: &redb::WriteTransaction,
    cert_id: &str,
) -> Result<(), StoreError> {
    let old = txn
        .open_table(ACME_RENEWALS)
        .map_err(db_err)?
        .remove(cert_id)
        .map_err(db_err)?
        .map(|v| records.decode::<AcmeRenewal>(v.value()));
    if let Some(Ok(old)) = old {
        txn.open_table(SCHEDULE)
            .map_err(db_err)?
            .remove(schedule_key(&renewal_entry(cert_id, &old)))
            .map_err(db_err)?;
    }
    Ok(())
}

impl Store {
    /// Stores a certificate an ACME CA issued together with where it came from and how it
    /// renews, in one transaction (a duplicate leaf is refused, U-6, and nothing is written).
    /// `renewed`: the certificate it renews and the event said there; that one stops renewing
    /// by itself and its hostings find the new one (AC-7).
    pub fn insert_acme(
        &self,
        rec: &NewRecord,
        origin: &AcmeOrigin,
        plan: Option<&AcmeRenewal>,
        renewed: Option<&(String, TimelineEvent)>,
    ) -> Result<Result<(), Refusal>, StoreError> {
        let txn = self.write_txn()?;
        let refused = InsertTables::open(&txn)?.insert(&self.sealer, &self.records, rec)?;
        if refused.is_err() {
            txn.abort().map_err(db_err)?;
            return Ok(refused);
        }
        let id = rec.cert.id.as_str();
        txn.open_table(ACME_CERTS)
            .map_err(db_err)?
            .insert(id, self.records.encode(origin).as_slice())
            .map_err(db_err)?;
        put_renewal(&self.records, &txn, id, plan)?;
        if let Some((old_id, event)) = renewed {
            txn.open_table(RENEWALS)
                .map_err(db_err)?
                .insert((old_id.as_str(), id), ())
                .map_err(db_err)?;
            forget_renewal(&self.records, &txn, old_id)?;
            if let Some(old) = self.get_in(&txn, old_id)? {
                super::add_event(self, &txn, &old, event)?;
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(Ok(()))
    }

    /// Every ACME renewal plan, by certificate id (metrics).
    pub fn acme_renewals(&self) -> Result<Vec<(String, AcmeRenewal)>, StoreError> {
        self.read_all(ACME_RENEWALS, "acme_renewals")
    }

    /// How an ACME certificate renews by itself, if it does.
    pub fn acme_renewal(&self, cert_id: &str) -> Result<Option<AcmeRenewal>, StoreError> {
        self.read_one(ACME_RENEWALS, "acme_renewals", cert_id)
    }

    /// Keeps the renewal plan of `cert_id` but takes it off the schedule (auto-renewal off, or the
    /// certificate no longer issued); `save_acme_renewal` puts it back.
    pub fn park_acme_renewal(&self, cert_id: &str) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        let plan = match txn
            .open_table(ACME_RENEWALS)
            .map_err(db_err)?
            .get(cert_id)
            .map_err(db_err)?
        {
            Some(v) => Some(self.records.decode::<AcmeRenewal>(v.value())?),
            None => None,
        };
        if let Some(plan) = plan {
            txn.open_table(SCHEDULE)
                .map_err(db_err)?
                .remove(schedule_key(&renewal_entry(cert_id, &plan)))
                .map_err(db_err)?;
        }
        txn.commit().map_err(db_err)
    }

    /// Replaces the renewal plan of `cert` (`None`: it no longer renews by itself) and records
    /// `event` on it, in one transaction.
    pub fn save_acme_renewal(
        &self,
        cert: &Certificate,
        plan: Option<&AcmeRenewal>,
        event: Option<&TimelineEvent>,
    ) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        put_renewal(&self.records, &txn, &cert.id, plan)?;
        if let Some(e) = event {
            super::add_event(self, &txn, cert, e)?;
        }
        txn.commit().map_err(db_err)
    }

    /// The account and order of a certificate an ACME CA issued.
    pub fn acme_origin(&self, cert_id: &str) -> Result<Option<AcmeOrigin>, StoreError> {
        self.read_one(ACME_CERTS, "acme_certs", cert_id)
    }
}

impl Store {
    /// AC-3 by hand: the open order's record (`validating`), its order (the TXT records and
    /// their deadline, shown in the Validation queue), where it was placed and how, in one
    /// transaction.
    pub fn place_acme_manual(
        &self,
        rec: &NewRecord,
        order: &crate::domain::order::OrderInfo,
        origin: &AcmeOrigin,
        ordered: &crate::domain::acme_renewal::OrderedAs,
        renewed: Option<&(String, TimelineEvent)>,
    ) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        self.insert_order(&txn, rec, order)?;
        if let Some((old_id, event)) = renewed {
            txn.open_table(RENEWALS)
                .map_err(db_err)?
                .insert((old_id.as_str(), rec.cert.id.as_str()), ())
                .map_err(db_err)?;
            forget_renewal(&self.records, &txn, old_id)?;
            if let Some(old) = self.get_in(&txn, old_id)? {
                super::add_event(self, &txn, &old, event)?;
            }
        }
        let id = rec.cert.id.as_str();
        txn.open_table(ACME_CERTS)
            .map_err(db_err)?
            .insert(id, self.records.encode(origin).as_slice())
            .map_err(db_err)?;
        txn.open_table(ACME_PENDING)
            .map_err(db_err)?
            .insert(id, self.records.encode(ordered).as_slice())
            .map_err(db_err)?;
        txn.commit().map_err(db_err)
    }

    /// How an open ACME order (records by hand) was placed, if `cert_id` is one.
    pub fn acme_pending(
        &self,
        cert_id: &str,
    ) -> Result<Option<crate::domain::acme_renewal::OrderedAs>, StoreError> {
        self.read_one(ACME_PENDING, "acme_pending", cert_id)
    }

    /// Every open ACME order waiting for records added by hand.
    pub fn acme_pending_ids(&self) -> Result<Vec<String>, StoreError> {
        Ok(self
            .read_all::<crate::domain::acme_renewal::OrderedAs>(ACME_PENDING, "acme_pending")?
            .into_iter()
            .map(|(id, _)| id)
            .collect())
    }

    /// The open order was issued: it is no longer pending and renews by `plan`.
    pub fn close_acme_pending(
        &self,
        cert_id: &str,
        plan: Option<&AcmeRenewal>,
    ) -> Result<(), StoreError> {
        let txn = self.write_txn()?;
        txn.open_table(ACME_PENDING)
            .map_err(db_err)?
            .remove(cert_id)
            .map_err(db_err)?;
        put_renewal(&self.records, &txn, cert_id, plan)?;
        txn.commit().map_err(db_err)
    }
}
