//! Orders placed with a CA backend and their confirmation letters.
use super::*;

impl Store {
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
            let cert = cert_row::decode(&self.records, k.value(), c.value())?;
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
    pub(super) fn insert_order(
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
                .by_key
                .schedule
                .insert(schedule_key(&e), ())
                .map_err(db_err)?;
        }
        Ok(())
    }
}
