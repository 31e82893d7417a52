//! The message center's table: messages raised in the transaction of the event they come from,
//! read and marked read by the user.
use super::{db_err, decode, encode, Store, StoreError, MESSAGES};
use crate::domain::message::{message_for, Message};
use crate::domain::model::TimelineEvent;
use redb::{ReadableDatabase, ReadableTable};

/// Raises the message `event` of `cert_id` is worth, if any, in `txn`.
pub(super) fn raise(
    txn: &redb::WriteTransaction,
    cert_id: &str,
    ignored: bool,
    event: &TimelineEvent,
) -> Result<(), StoreError> {
    let Some(mut m) = message_for(cert_id, ignored, event) else {
        return Ok(());
    };
    let mut t = txn.open_table(MESSAGES).map_err(db_err)?;
    m.id = match t.last().map_err(db_err)? {
        Some((k, _)) => k.value() + 1,
        None => 1,
    };
    t.insert(m.id, encode(&m).as_slice()).map_err(db_err)?;
    Ok(())
}

impl Store {
    /// The newest messages first, at most `limit`; only unread ones with `unread_only`.
    pub fn messages(&self, limit: usize, unread_only: bool) -> Result<Vec<Message>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(MESSAGES).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t.iter().map_err(db_err)?.rev() {
            let m: Message = decode(row.map_err(db_err)?.1.value())?;
            if unread_only && m.read {
                continue;
            }
            out.push(m);
            if out.len() >= limit {
                break;
            }
        }
        Ok(out)
    }

    pub fn unread_messages(&self) -> Result<usize, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(MESSAGES).map_err(db_err)?;
        let mut n = 0;
        for row in t.iter().map_err(db_err)? {
            if !decode::<Message>(row.map_err(db_err)?.1.value())?.read {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Marks messages read (`None`: all of them); returns how many changed.
    pub fn mark_read(&self, ids: Option<&[u64]>) -> Result<usize, StoreError> {
        let txn = self.write_txn()?;
        let mut changed = 0;
        {
            let mut t = txn.open_table(MESSAGES).map_err(db_err)?;
            let keys: Vec<u64> = match ids {
                Some(ids) => ids.to_vec(),
                None => t
                    .iter()
                    .map_err(db_err)?
                    .map(|r| r.map(|(k, _)| k.value()))
                    .collect::<Result<_, _>>()
                    .map_err(db_err)?,
            };
            for k in keys {
                let m: Option<Message> = match t.get(k).map_err(db_err)? {
                    Some(v) => Some(decode(v.value())?),
                    None => None,
                };
                if let Some(mut m) = m.filter(|m| !m.read) {
                    m.read = true;
                    t.insert(k, encode(&m).as_slice()).map_err(db_err)?;
                    changed += 1;
                }
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(changed)
    }
}
