//! Inserting a batch of new rows whose keys ascend, packed.
//!
//! `Table::insert` finds its leaf from the root and rebuilds it, one row at a time. redb's
//! mutable cursor buffers a run of ordered inserts into one gap and builds their leaves once
//! (#15: a scan's new records go to one place of every table keyed by id, and its files come in
//! path order; the writer is the scan's slowest thread).
use super::{db_err, StoreError};
use redb::{CursorError, Key, ReadableTable, Value};
use std::ops::Bound;

/// Inserts `rows`, keys ascending, none of them in `table` already: a key already there fails
/// the insert with `taken(index of its row)` (the transaction is then dropped, nothing of it
/// kept). Rows out of order are inserted too, only more slowly.
pub(super) fn insert_new<'r, K: Key + 'static, V: Value + 'static>(
    table: &mut redb::Table<'_, K, V>,
    rows: &[(K::SelfType<'r>, V::SelfType<'r>)],
    taken: impl Fn(usize) -> StoreError,
) -> Result<(), StoreError> {
    put(table, rows, &|i| Err(taken(i)))
}

/// Inserts `rows`, keys ascending; a key already in `table` gets its row's value.
pub(super) fn put_ascending<'r, K: Key + 'static, V: Value + 'static>(
    table: &mut redb::Table<'_, K, V>,
    rows: &[(K::SelfType<'r>, V::SelfType<'r>)],
) -> Result<(), StoreError> {
    put(table, rows, &|_| Ok(()))
}

/// `rows` into `table`; `held(index)` says whether a row whose key is held replaces it
/// (`Ok`) or fails the insert.
fn put<'r, K: Key + 'static, V: Value + 'static>(
    table: &mut redb::Table<'_, K, V>,
    rows: &[(K::SelfType<'r>, V::SelfType<'r>)],
    held: &dyn Fn(usize) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut next = 0;
    while next < rows.len() {
        let start = next;
        // The gap before the first key not below this row's.
        let mut cursor = table
            .lower_bound_mut(Bound::Included(&rows[next].0))
            .map_err(db_err)?;
        while let Some((key, value)) = rows.get(next) {
            match cursor.insert_before(key, value) {
                Ok(()) => next += 1,
                // Not between the gap's neighbours: held already, or past the next key.
                Err(CursorError::UnorderedKey) => break,
                Err(e) => return Err(db_err(e)),
            }
        }
        cursor.close().map_err(db_err)?;
        let Some((key, value)) = rows.get(next) else {
            break;
        };
        if table.get(key).map_err(db_err)?.is_some() {
            held(next)?;
            table.insert(key, value).map_err(db_err)?;
            next += 1;
        } else if next == start {
            // A fresh gap always takes a key not held; one that did not is not the cursor
            // this was written for (never loop).
            return Err(StoreError::Db(
                "a row could not be inserted in key order; nothing was written".into(),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use redb::{ReadableDatabase, ReadableTableMetadata, TableDefinition};

    const T: TableDefinition<&str, u64> = TableDefinition::new("t");

    fn fresh() -> (tempfile::TempDir, redb::Database) {
        let dir = tempfile::tempdir().unwrap();
        let db = redb::Database::create(dir.path().join("t.redb")).unwrap();
        (dir, db)
    }

    fn taken(i: usize) -> StoreError {
        StoreError::Db(format!("taken {i}"))
    }

    #[test]
    fn a_run_of_new_keys_lands_between_the_keys_around_it() {
        let (_dir, db) = fresh();
        let keys: Vec<String> = (0..3000).map(|i| format!("k{i:05}")).collect();
        let txn = db.begin_write().unwrap();
        {
            let mut t = txn.open_table(T).unwrap();
            t.insert("a", 1).unwrap();
            t.insert("z", 2).unwrap();
            let rows: Vec<(&str, u64)> = keys.iter().map(|k| (k.as_str(), 7)).collect();
            insert_new(&mut t, &rows, taken).unwrap();
            assert_eq!(t.len().unwrap(), 3002);
            assert_eq!(t.get("k02999").unwrap().unwrap().value(), 7);
            assert_eq!(t.first().unwrap().unwrap().0.value(), "a");
            assert_eq!(t.last().unwrap().unwrap().0.value(), "z");
        }
        txn.commit().unwrap();
        let txn = db.begin_read().unwrap();
        assert_eq!(txn.open_table(T).unwrap().len().unwrap(), 3002);
    }

    #[test]
    fn a_key_held_already_fails_the_insert_and_names_its_row() {
        let (_dir, db) = fresh();
        let txn = db.begin_write().unwrap();
        let mut t = txn.open_table(T).unwrap();
        t.insert("b", 1).unwrap();
        let err = insert_new(&mut t, &[("a", 2), ("b", 3), ("c", 4)], taken).unwrap_err();
        assert_eq!(err.to_string(), taken(1).to_string());
        assert_eq!(t.get("b").unwrap().unwrap().value(), 1, "never overwritten");
        // Within the batch itself too.
        let err = insert_new(&mut t, &[("x", 1), ("x", 2)], taken).unwrap_err();
        assert_eq!(err.to_string(), taken(1).to_string());
    }

    #[test]
    fn put_replaces_the_value_of_a_key_held_already() {
        let (_dir, db) = fresh();
        let txn = db.begin_write().unwrap();
        let mut t = txn.open_table(T).unwrap();
        t.insert("b", 1).unwrap();
        put_ascending(&mut t, &[("a", 2), ("b", 3), ("c", 4)]).unwrap();
        let all: Vec<u64> = t.iter().unwrap().map(|r| r.unwrap().1.value()).collect();
        assert_eq!(all, vec![2, 3, 4]);
    }

    #[test]
    fn rows_out_of_order_or_across_held_keys_are_all_inserted() {
        let (_dir, db) = fresh();
        let txn = db.begin_write().unwrap();
        let mut t = txn.open_table(T).unwrap();
        for k in ["c", "f", "i"] {
            t.insert(k, 0).unwrap();
        }
        // Ascending across held keys (a new gap each time), then descending.
        insert_new(&mut t, &[("a", 1), ("d", 2), ("g", 3), ("j", 4)], taken).unwrap();
        insert_new(&mut t, &[("h", 5), ("e", 6), ("b", 7)], taken).unwrap();
        let all: Vec<(String, u64)> = t
            .iter()
            .unwrap()
            .map(|r| {
                let (k, v) = r.unwrap();
                (k.value().to_string(), v.value())
            })
            .collect();
        let want: Vec<(String, u64)> = [
            ("a", 1),
            ("b", 7),
            ("c", 0),
            ("d", 2),
            ("e", 6),
            ("f", 0),
            ("g", 3),
            ("h", 5),
            ("i", 0),
            ("j", 4),
        ]
        .iter()
        .map(|(k, v)| (k.to_string(), *v))
        .collect();
        assert_eq!(all, want);
    }
}
