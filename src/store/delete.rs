//! Deleting a record with everything that belongs to it (D-1..D-3), the journal keeping why.
use super::*;

impl Store {
    /// Removes a record with everything that belongs to it; the journal keeps `event`.
    pub fn delete(&self, id: &str, event: &TimelineEvent) -> Result<bool, StoreError> {
        let txn = self.write_txn()?;
        let existed = {
            let mut certs = txn.open_table(CERTS).map_err(db_err)?;
            let old: Option<Certificate> = match certs.remove(id).map_err(db_err)? {
                Some(v) => Some(cert_row::decode(&self.records, id, v.value())?),
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
