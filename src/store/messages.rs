//! The message center's table: messages raised in the transaction of the event they come from,
//! read and marked read by the user.
use super::{db_err, Store, StoreError, MESSAGES, MESSAGES_UNREAD};
use crate::domain::message::{message_for, Message};
use crate::domain::model::TimelineEvent;
use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

/// Raises the message `event` of `cert_id` is worth, if any, in `txn`.
pub(super) fn raise(
    records: &super::record::Records,
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
    t.insert(m.id, records.encode(&m).as_slice())
        .map_err(db_err)?;
    txn.open_table(MESSAGES_UNREAD)
        .map_err(db_err)?
        .insert(m.id, ())
        .map_err(db_err)?;
    Ok(())
}

impl Store {
    /// The newest messages first, at most `limit`; only unread ones with `unread_only` (read
    /// through the unread index, so the cost follows what is shown). `matching` keeps those
    /// whose text, kind, severity or certificate contains it (case-insensitive); the scan stops
    /// after `limit` matches or `SCAN_LIMIT` messages.
    pub fn messages(
        &self,
        limit: usize,
        unread_only: bool,
        matching: &str,
    ) -> Result<Vec<Message>, StoreError> {
        /// Messages looked at for one filtered list: a needle that matches nothing must not
        /// walk years of history on every keystroke.
        const SCAN_LIMIT: usize = 20_000;
        let needle = matching.trim().to_lowercase();
        let keep = |m: &Message| {
            needle.is_empty()
                || m.text.to_lowercase().contains(&needle)
                || m.kind.contains(&needle)
                || m.severity.as_str().contains(&needle)
                || m.cert_id.as_deref().is_some_and(|c| c.contains(&needle))
        };
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(MESSAGES).map_err(db_err)?;
        let mut out = Vec::new();
        let mut take = |m: Message| {
            if keep(&m) {
                out.push(m);
            }
            out.len() < limit
        };
        if unread_only {
            let unread = r.open_table(MESSAGES_UNREAD).map_err(db_err)?;
            for row in unread.iter().map_err(db_err)?.rev().take(SCAN_LIMIT) {
                let id = row.map_err(db_err)?.0.value();
                if let Some(v) = t.get(id).map_err(db_err)? {
                    if !take(self.records.decode(v.value())?) {
                        break;
                    }
                }
            }
        } else {
            for row in t.iter().map_err(db_err)?.rev().take(SCAN_LIMIT) {
                if !take(self.records.decode(row.map_err(db_err)?.1.value())?) {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// How many messages are unread: the unread index's length, without reading it.
    pub fn unread_messages(&self) -> Result<usize, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(MESSAGES_UNREAD).map_err(db_err)?;
        Ok(t.len().map_err(db_err)? as usize)
    }

    /// Marks messages read (`None`: all of them); returns how many changed. Reads only unread
    /// messages.
    pub fn mark_read(&self, ids: Option<&[u64]>) -> Result<usize, StoreError> {
        let txn = self.write_txn()?;
        let mut changed = 0;
        {
            let mut t = txn.open_table(MESSAGES).map_err(db_err)?;
            let mut unread = txn.open_table(MESSAGES_UNREAD).map_err(db_err)?;
            let keys: Vec<u64> = match ids {
                Some(ids) => ids.to_vec(),
                None => unread
                    .iter()
                    .map_err(db_err)?
                    .map(|r| r.map(|(k, _)| k.value()))
                    .collect::<Result<_, _>>()
                    .map_err(db_err)?,
            };
            for k in keys {
                if unread.remove(k).map_err(db_err)?.is_none() {
                    continue;
                }
                let m: Option<Message> = match t.get(k).map_err(db_err)? {
                    Some(v) => Some(self.records.decode(v.value())?),
                    None => None,
                };
                if let Some(mut m) = m {
                    m.read = true;
                    t.insert(k, self.records.encode(&m).as_slice())
                        .map_err(db_err)?;
                    changed += 1;
                }
            }
        }
        txn.commit().map_err(db_err)?;
        Ok(changed)
    }
}
