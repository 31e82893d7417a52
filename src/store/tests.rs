//! The store's own tests: files, migrations, the ledger.
use super::*;
use crate::ca::pki::{Authority, KeyKind};
use crate::domain::rules::upload::{new_uploaded_certificate, validate_upload, UploadInput};
use chrono::{Duration, Utc};

fn record(domain: &str) -> NewRecord {
    let now = Utc::now();
    let ca = Authority::root(
        "Store Test CA",
        "tests",
        KeyKind::P256,
        now - Duration::days(9),
        now + Duration::days(900),
    );
    let leaf = ca.issue(
        &[domain],
        KeyKind::P256,
        now - Duration::days(1),
        now + Duration::days(90),
    );
    let input = UploadInput {
        cert: leaf.cert_pem.into_bytes(),
        key: Some(leaf.key_pem.into_bytes()),
        ..Default::default()
    };
    let v = validate_upload(&input, now, &[]).unwrap();
    let (cert, secrets, event) =
        new_uploaded_certificate(&v, crate::domain::id::short_id(rand8()), now);
    NewRecord {
        cert,
        secrets,
        event,
    }
}

fn rand8() -> [u8; 8] {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 8];
    ring::rand::SystemRandom::new().fill(&mut b).unwrap();
    b
}

#[test]
fn nothing_is_changed_in_a_file_before_it_is_known_to_be_certdecks() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("k/store.key");
    let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    // A mistyped --db: refused, its mode and bytes untouched.
    let passwd = dir.path().join("passwd");
    std::fs::write(&passwd, "root:x:0:0:root:/root:/bin/bash\n").unwrap();
    std::fs::set_permissions(&passwd, std::fs::Permissions::from_mode(0o644)).unwrap();
    let e = Store::open(&passwd, &key, "test").err().expect("refused");
    assert!(matches!(e, StoreError::NotADatabase { .. }), "{e}");
    assert_eq!(mode(&passwd), 0o644);
    assert!(std::fs::read_to_string(&passwd)
        .unwrap()
        .starts_with("root:x"));
    // An empty file that exists is not a new database.
    let empty = dir.path().join("empty.redb");
    std::fs::write(&empty, "").unwrap();
    let e = Store::open(&empty, &key, "test").err().expect("refused");
    assert!(e.to_string().contains("empty (0 bytes)"), "{e}");
    assert_eq!(std::fs::metadata(&empty).unwrap().len(), 0);
    // New files: directories 0700, files 0600.
    let db = dir.path().join("d/c.redb");
    drop(Store::open(&db, &key, "test").unwrap());
    assert_eq!(mode(&dir.path().join("d")), 0o700);
    assert_eq!(mode(&dir.path().join("k")), 0o700);
    // A key file readable by others is said, not silently changed.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o644)).unwrap();
    std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o640)).unwrap();
    let store = Store::open(&db, &key, "test").unwrap();
    assert_eq!((mode(&key), mode(&db)), (0o644, 0o640));
    let w = store.warnings().join("\n");
    assert!(w.contains("key file") && w.contains("chmod 600"), "{w}");
    assert!(w.contains("database") && w.contains("0640"), "{w}");
    drop(store);
    // The owner file is never written through a symlink planted beside the database.
    let target = dir.path().join("victim");
    std::fs::write(&target, "precious").unwrap();
    let owner = owner::owner_path(&db);
    let _ = std::fs::remove_file(&owner);
    std::os::unix::fs::symlink(&target, &owner).unwrap();
    let store = Store::open(&db, &key, "test").unwrap();
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "precious");
    assert!(!std::fs::symlink_metadata(&owner)
        .unwrap()
        .file_type()
        .is_symlink());
    drop(store);
}

#[test]
fn files_are_private_and_a_record_round_trips_with_its_sealed_key() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("d/c.redb"), dir.path().join("k/store.key"));
    let store = Store::open(&db, &key, "test").unwrap();
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&db).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let rec = record("a.example");
    store.insert(&rec).unwrap().unwrap();
    assert_eq!(store.get(&rec.cert.id).unwrap().unwrap(), rec.cert);
    assert_eq!(
        store.private_key_pem(&rec.cert.id).unwrap(),
        rec.secrets.key_pem
    );
    assert_eq!(
        store.timeline(&rec.cert.id).unwrap(),
        vec![rec.event.clone()]
    );
    drop(store);
    let again = Store::open(&db, &key, "test").unwrap();
    assert_eq!(again.summaries().unwrap(), vec![rec.cert.summary()]);
}

#[test]
fn rule_u6_duplicate_insert_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
    let rec = record("a.example");
    store.insert(&rec).unwrap().unwrap();
    let mut twin = record("unused.example");
    twin.cert.x509 = rec.cert.x509.clone();
    let refusal = store.insert(&twin).unwrap().unwrap_err();
    assert_eq!(refusal.rule, "U-6");
    assert!(refusal.message.contains(&rec.cert.id));
    assert!(store.get(&twin.cert.id).unwrap().is_none());
    assert!(store.private_key_pem(&twin.cert.id).unwrap().is_none());
    assert_eq!(store.count().unwrap(), 1);
}

#[test]
fn delete_removes_everything_and_the_certificate_can_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
    let rec = record("a.example");
    store.insert(&rec).unwrap().unwrap();
    assert!(store.delete(&rec.cert.id, &rec.event).unwrap());
    assert!(store.get(&rec.cert.id).unwrap().is_none());
    assert!(store.private_key_pem(&rec.cert.id).unwrap().is_none());
    assert!(store.timeline(&rec.cert.id).unwrap().is_empty());
    assert!(store.summaries().unwrap().is_empty());
    assert!(!store.delete(&rec.cert.id, &rec.event).unwrap());
    store
        .insert(&rec)
        .unwrap()
        .expect("fingerprint index was cleared");
}

#[test]
fn rule_sv3_metric_facts_are_built_for_the_records_of_schema_9() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
    let rec = record("a.example");
    {
        let store = Store::open(&db, &key, "test").unwrap();
        store.insert(&rec).unwrap().unwrap();
        certs_as_of(&store, 9);
        // v9 had no metric facts.
        let txn = store.db.begin_write().unwrap();
        txn.delete_table(CERT_FACTS).unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 9u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let store = Store::open(&db, &key, "test").unwrap();
    let facts = store.metric_facts().unwrap();
    assert_eq!(facts.len(), 1);
    assert_eq!(facts[&rec.cert.id], rec.cert.metric_facts());
    assert!(facts[&rec.cert.id].not_before.is_some());
}

#[test]
fn a_newer_schema_is_refused_with_an_actionable_message() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
    drop(Store::open(&db, &key, "test").unwrap());
    {
        let raw = Database::create(&db).unwrap();
        let txn = raw.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert(
                "schema_version",
                (SCHEMA_VERSION + 1).to_le_bytes().as_slice(),
            )
            .unwrap();
        txn.commit().unwrap();
    }
    let err = Store::open(&db, &key, "test")
        .err()
        .expect("refused")
        .to_string();
    assert!(
        err.contains(&format!("schema version {}", SCHEMA_VERSION + 1))
            && err.contains("upgrade certdeck"),
        "{err}"
    );
}

#[test]
fn an_old_schema_is_migrated_forward() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
    {
        // A file from before the first release: no tables, no version.
        let raw = Database::create(&db).unwrap();
        raw.begin_write().unwrap().commit().unwrap();
    }
    let store = Store::open(&db, &key, "test").unwrap();
    assert!(store.summaries().unwrap().is_empty());
    let r = store.db.begin_read().unwrap();
    let v = r
        .open_table(META)
        .unwrap()
        .get("schema_version")
        .unwrap()
        .unwrap()
        .value()
        .to_vec();
    assert_eq!(v, SCHEMA_VERSION.to_le_bytes());
}

/// Rewrites every `certs` row as schema `version` kept it: whole with no variant (up to 11),
/// untagged (up to 7).
fn certs_as_of(store: &Store, version: u32) {
    let txn = store.db.begin_write().unwrap();
    {
        let mut t = txn.open_table(CERTS).unwrap();
        let rows: Vec<(String, Vec<u8>)> = t
            .iter()
            .unwrap()
            .map(|r| {
                let (k, v) = r.unwrap();
                (k.value().to_string(), v.value().to_vec())
            })
            .collect();
        for (k, v) in rows {
            let plain = store.records.verified(&v).unwrap();
            assert_eq!(plain[0], 0, "kept whole");
            let old = &plain[1..];
            let row = match version {
                ..8 => old.to_vec(),
                _ => store.records.tagged(old),
            };
            t.insert(k.as_str(), row.as_slice()).unwrap();
        }
    }
    txn.commit().unwrap();
}

#[test]
fn migration_to_v12_keeps_every_record_whole_and_readable() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
    // More than one batch of the migration.
    let recs: Vec<NewRecord> = (0..1_003)
        .map(|i| {
            let mut r = record("v11.example");
            r.cert.id = format!("v11-{i:05}");
            r
        })
        .collect();
    {
        let store = Store::open(&db, &key, "test").unwrap();
        let txn = store.write_txn().unwrap();
        {
            let mut tables = InsertTables::open(&txn).unwrap();
            for (i, r) in recs.iter().enumerate() {
                // One fingerprint each is U-6's; the rows are what is migrated here.
                let mut r = NewRecord {
                    cert: r.cert.clone(),
                    secrets: Default::default(),
                    event: r.event.clone(),
                };
                if let Some(x) = r.cert.x509.as_mut() {
                    x.fingerprint_sha256 = format!("{i:064}");
                }
                tables
                    .insert(&store.sealer, &store.records, &r)
                    .unwrap()
                    .unwrap();
            }
        }
        txn.commit().unwrap();
        certs_as_of(&store, 11);
        let txn = store.db.begin_write().unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 11u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let mut store = Store::open(&db, &key, "test").unwrap();
    let all = store.certificates().unwrap();
    assert_eq!(all.len(), recs.len());
    assert_eq!(
        store.get("v11-01002").unwrap().unwrap().name,
        recs[1002].cert.name
    );
    assert_eq!(store.check().unwrap().damaged, Vec::<String>::new());
}

#[test]
fn migration_to_v2_schedules_existing_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
    let rec = record("old.example");
    {
        let store = Store::open(&db, &key, "test").unwrap();
        store.insert(&rec).unwrap().unwrap();
        certs_as_of(&store, 1);
    }
    {
        // Make it a v1 file: no schedule table.
        let raw = Database::create(&db).unwrap();
        let txn = raw.begin_write().unwrap();
        txn.delete_table(SCHEDULE).unwrap();
        txn.open_table(META)
            .unwrap()
            .insert("schema_version", 1u32.to_le_bytes().as_slice())
            .unwrap();
        txn.commit().unwrap();
    }
    let store = Store::open(&db, &key, "test").unwrap();
    let end = rec.cert.not_after().unwrap();
    let due = store.due(end, 10).unwrap();
    assert_eq!(due.len(), 1);
    assert_eq!(due[0].cert_id, rec.cert.id);
}

#[test]
fn rule_ar4_ledger_posts_move_the_balance_and_refuse_an_overdraft() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
    let now = Utc::now();
    assert_eq!(store.balance().unwrap(), Money(0));
    store
        .post(&account::topup(Money(10_000), now).unwrap())
        .unwrap()
        .unwrap();
    let fee = LedgerEntry {
        at: now,
        kind: account::LedgerKind::Deduction,
        amount: Money(10_001),
        cert_id: None,
        note: "fee".into(),
    };
    assert_eq!(store.post(&fee).unwrap(), None);
    assert_eq!(
        store.ledger(10).unwrap().len(),
        1,
        "a refused deduction writes nothing"
    );
    let fee = LedgerEntry {
        amount: Money(10_000),
        ..fee
    };
    assert_eq!(store.post(&fee).unwrap(), Some(Money(0)));
    assert_eq!(
        store.ledger(10).unwrap()[0].kind,
        account::LedgerKind::Deduction,
        "newest first"
    );
}

#[test]
fn a_wrong_or_missing_key_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
    drop(Store::open(&db, &key, "test").unwrap());
    std::fs::remove_file(&key).unwrap();
    let err = Store::open(&db, &key, "test").err().unwrap().to_string();
    assert!(
        err.contains("is missing") && err.contains("CERTDECK_KEY_FILE"),
        "{err}"
    );
    std::fs::write(&key, format!("{}\n", "ab".repeat(32))).unwrap();
    let err = Store::open(&db, &key, "test").err().unwrap().to_string();
    assert!(err.contains("does not belong to database"), "{err}");
}

#[test]
fn a_batch_of_new_ids_is_a_consecutive_run_that_passes_over_taken_ids() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
    use crate::domain::id::{id_numbered, ID_SPACE};
    // Ids 5 and 6 of a run are taken: the run goes on after them.
    let taken = [id_numbered(ID_SPACE - 2), id_numbered(ID_SPACE - 1)];
    let (ids, next) = store
        .fresh_ids_from(Some(ID_SPACE - 5), 5, |_, id| {
            Ok(taken.iter().any(|t| t == id))
        })
        .unwrap();
    assert_eq!(
        ids,
        [
            id_numbered(ID_SPACE - 5),
            id_numbered(ID_SPACE - 4),
            id_numbered(ID_SPACE - 3),
            id_numbered(0),
            id_numbered(1),
        ],
        "consecutive, taken ones passed over, wrapping at the end of the space"
    );
    assert_eq!(next, 2);
    // Many taken in a row: it starts again elsewhere rather than walking them all.
    let (ids, _) = store
        .fresh_ids_from(Some(0), 3, |_, id| Ok(id < id_numbered(1_000).as_str()))
        .unwrap();
    assert_eq!(ids.len(), 3);
    assert!(ids
        .iter()
        .all(|id| id.as_str() >= id_numbered(1_000).as_str()));
    // Records stored by a batch sort together.
    let mut batch = store.new_ids(100).unwrap();
    let sorted = {
        let mut s = batch.clone();
        s.sort();
        s
    };
    if batch.first() < batch.last() {
        assert_eq!(batch, sorted);
    } else {
        // The run wrapped at the end of the space: two sorted halves.
        let smallest = batch.iter().position(|id| id == &sorted[0]).unwrap();
        batch.rotate_left(smallest);
        assert_eq!(batch, sorted);
    }
}

/// A scan's find: a certificate's DER encoded under a free `id`, found now.
fn found(store: &Store, der: &[u8], id: &str) -> Prepared {
    let free = discovery::FreeId {
        id: id.into(),
        event_index: 0,
    };
    store
        .prepare_found(der, free, "/etc/ssl/a.pem", Utc::now(), &Default::default())
        .unwrap()
}

/// A new store holding one uploaded certificate (kept in the temporary directory returned).
fn store_holding_one() -> (tempfile::TempDir, Store, NewRecord) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
    let kept = record("kept.example");
    assert!(store.insert(&kept).unwrap().is_ok());
    (dir, store, kept)
}

#[test]
fn rule_ds4_a_scan_snapshot_is_the_store_as_the_scan_began() {
    let (_dir, store, kept) = store_holding_one();
    let fp = kept.cert.x509.as_ref().unwrap().fingerprint_sha256.clone();
    let txn = store.scan_txn().unwrap();
    let snapshot = store.scan_snapshot().unwrap();
    assert!(snapshot.holds(&fp).unwrap());
    assert!(!snapshot.holds(&"0".repeat(64)).unwrap());
    assert!(snapshot.free(&kept.cert.id).unwrap().is_none(), "held");
    // A free id's timeline starts after what is there (here: nothing).
    let free = snapshot.free("zzzzzzzz").unwrap().expect("free");
    assert_eq!(free.event_index, 0);
    // What the scan writes is not in the snapshot.
    let der = record("found.example").cert.chain_der[0].clone();
    txn.insert_prepared(
        &[store
            .prepare_found(
                &der,
                free,
                "/etc/ssl/a.pem",
                Utc::now(),
                &Default::default(),
            )
            .unwrap()],
        &[],
    )
    .unwrap();
    let found_fp = crate::domain::cert::sha256_hex(&der);
    assert!(!snapshot.holds(&found_fp).unwrap());
    txn.commit().unwrap();
    assert_eq!(
        store.get("zzzzzzzz").unwrap().unwrap().name,
        "found.example"
    );
    assert!(store.watched("zzzzzzzz").unwrap().is_some());
}

#[test]
fn rule_ds4_a_scan_never_overwrites_a_record_and_keeps_nothing_when_it_would() {
    let (_dir, store, kept) = store_holding_one();
    // Writes `finds` in one scan transaction: the error the last one gives (nothing commits).
    let refused = |finds: Vec<Prepared>| {
        let txn = store.scan_txn().unwrap();
        let (last, before) = finds.split_last().unwrap();
        for p in before {
            txn.insert_prepared(std::slice::from_ref(p), &[]).unwrap();
        }
        txn.insert_prepared(std::slice::from_ref(last), &[])
            .unwrap_err()
            .to_string()
    };
    let der = |name: &str| record(name).cert.chain_der[0].clone();
    // Under a held id, after a record the same scan wrote.
    let e = refused(vec![
        found(&store, &der("a.example"), "aaaaaaaa"),
        found(&store, &der("b.example"), &kept.cert.id),
    ]);
    assert!(e.contains("refusing to overwrite"), "{e}");
    assert_eq!(store.get(&kept.cert.id).unwrap().unwrap(), kept.cert);
    assert!(
        store.get("aaaaaaaa").unwrap().is_none(),
        "nothing of the scan kept"
    );
    // Under a held fingerprint.
    let e = refused(vec![found(&store, &kept.cert.chain_der[0], "cccccccc")]);
    assert!(e.contains("fingerprint"), "{e}");
    assert!(store.get("cccccccc").unwrap().is_none());
}

#[test]
fn a_scans_own_ids_pass_over_the_run_its_reading_threads_number_from() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("c.redb"), &dir.path().join("k"), "test").unwrap();
    let txn = store.scan_txn().unwrap();
    let len = 1_000;
    let first = txn.id_run(len);
    // The writer's run would go on inside the reading threads' one: it passes over it.
    txn.next_id.set(Some(first + len - 5));
    let ids = txn.new_ids(3).unwrap();
    use crate::domain::id::id_numbered;
    assert_eq!(
        ids,
        [0, 1, 2].map(|i| id_numbered(first + len + i)),
        "none of the kept numbers, the next ones after them"
    );
}

#[test]
fn db_check_names_a_discovered_row_whose_der_no_longer_reads_as_a_certificate() {
    let (_dir, mut store, _kept) = store_holding_one();
    let txn = store.write_txn().unwrap();
    txn.open_table(CERTS)
        .unwrap()
        .insert(
            "broken01",
            cert_row::found(&store.records, b"not a certificate", Utc::now()).as_slice(),
        )
        .unwrap();
    txn.commit().unwrap();
    assert_eq!(store.check().unwrap().damaged, ["certs/broken01"]);
    let e = store.get("broken01").unwrap_err().to_string();
    assert!(e.contains("the certs record broken01"), "{e}");
}

#[test]
fn rule_sv3_a_record_the_schedule_rewrites_has_its_own_metric_facts() {
    let (_dir, store, kept) = store_holding_one();
    // The schedule rewrites the record (a renewal issued into it): a new serial, new dates.
    let mut updated = record("renewed.example").cert;
    updated.id = kept.cert.id.clone();
    assert_ne!(updated.metric_facts(), kept.cert.metric_facts());
    let fired = Fired {
        event: kept.event.clone(),
        updated: Some(updated.clone()),
        ..Default::default()
    };
    store
        .apply_items(&[(None, kept.cert.id.as_str(), Some(&fired))])
        .unwrap();
    assert_eq!(
        store.metric_facts().unwrap()[&kept.cert.id],
        updated.metric_facts()
    );
}
