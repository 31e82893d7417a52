//! Hostings as schema v10 stored them, frozen: read only by the v10 → v11 migration, which gives
//! each one a recipient group (H-6, none for the hostings that exist). postcard is not
//! self-describing, so a record whose shape changed is decoded with its old shape and rewritten.
use super::{db_err, record::Records, StoreError, HOSTINGS};
use crate::domain::rules::hosting::{Association, Hosting, HostingStatus};
use crate::domain::time::Timestamp;
use redb::ReadableTable;
use serde::Deserialize;

#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct HostingV10 {
    id: String,
    old_cert: String,
    association: Association,
    resources: Vec<String>,
    days_before: u32,
    replace_at: Timestamp,
    status: HostingStatus,
    new_cert: Option<String>,
    last_result: Option<String>,
    notify: bool,
    created_at: Timestamp,
}

impl From<HostingV10> for Hosting {
    fn from(h: HostingV10) -> Hosting {
        Hosting {
            id: h.id,
            old_cert: h.old_cert,
            association: h.association,
            resources: h.resources,
            days_before: h.days_before,
            replace_at: h.replace_at,
            status: h.status,
            new_cert: h.new_cert,
            last_result: h.last_result,
            notify: h.notify,
            group: None,
            created_at: h.created_at,
        }
    }
}

/// Rewrites every hosting in the v11 shape (records are tagged by then).
pub(super) fn migrate(records: &Records, txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    let mut t = txn.open_table(HOSTINGS).map_err(db_err)?;
    let mut rewritten = Vec::new();
    for row in t.iter().map_err(db_err)? {
        let (k, v) = row.map_err(db_err)?;
        let old: HostingV10 = records.decode(v.value()).map_err(|_| StoreError::Damaged {
            table: Some("hostings"),
            id: Some(k.value().to_string()),
        })?;
        rewritten.push((k.value().to_string(), Hosting::from(old)));
    }
    for (id, h) in rewritten {
        t.insert(id.as_str(), records.encode(&h).as_slice())
            .map_err(db_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v10_hosting_reads_back_with_no_group() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.redb");
        let store = super::super::Store::open(&path, &dir.path().join("k"), "test").unwrap();
        let at = chrono::DateTime::from_timestamp(1_800_000_000, 0).unwrap();
        let old = HostingV10 {
            id: "h1".into(),
            old_cert: "c1".into(),
            association: Association::Renewal,
            resources: vec!["r1".into()],
            days_before: 7,
            replace_at: at,
            status: HostingStatus::InProgress,
            new_cert: None,
            last_result: None,
            notify: false,
            created_at: at,
        };
        let txn = store.write_txn().unwrap();
        txn.open_table(HOSTINGS)
            .unwrap()
            .insert("h1", store.records.encode(&old).as_slice())
            .unwrap();
        migrate(&store.records, &txn).unwrap();
        txn.commit().unwrap();
        let h = store.hosting("h1").unwrap().unwrap();
        assert_eq!((h.group, h.notify, h.days_before), (None, false, 7));
    }
}
