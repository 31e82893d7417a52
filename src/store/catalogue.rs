//! Settings kept in the meta table: managed zones (AR-6), prices, the sandbox CA's material.
use super::*;

impl Store {
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
}
