//! Bringing older database files forward, schema version by version.
use super::*;

/// Records as versions up to 7 stored them (no tag): read and written by migrations only.
pub(super) fn encode_v7<T: Serialize>(v: &T) -> Vec<u8> {
    postcard::to_stdvec(v).expect("records serialise")
}

pub(super) fn decode_v7<T: DeserializeOwned>(b: &[u8]) -> Result<T, StoreError> {
    postcard::from_bytes(b).map_err(|e| StoreError::Db(format!("corrupt record: {e}")))
}

/// Every certificate's metric facts, written from its record (its row in the v12 shape).
pub(super) fn build_metric_facts(
    records: &record::Records,
    txn: &redb::WriteTransaction,
) -> Result<(), StoreError> {
    let certs = txn.open_table(CERTS).map_err(db_err)?;
    let mut facts = txn.open_table(CERT_FACTS).map_err(db_err)?;
    for row in certs.iter().map_err(db_err)? {
        let (k, v) = row.map_err(db_err)?;
        let cert = cert_row::decode(records, k.value(), v.value())?;
        facts
            .insert(k.value(), records.encode(&cert.metric_facts()).as_slice())
            .map_err(db_err)?;
    }
    Ok(())
}

/// Brings a database from schema `from` to `SCHEMA_VERSION`. Version 0 is a new file.
pub(super) fn migrate(txn: &redb::WriteTransaction, from: u32) -> Result<(), StoreError> {
    if from < 11 {
        // v11: the roots the user trusts (U-2), when late work ran (T-1).
        txn.open_table(TRUST).map_err(db_err)?;
        txn.open_table(TIMELINE_RAN).map_err(db_err)?;
    }
    if from < 1 {
        // Create every table so readers never meet a missing one.
        txn.open_table(CERTS).map_err(db_err)?;
        txn.open_table(SUMMARIES).map_err(db_err)?;
        txn.open_table(FINGERPRINTS).map_err(db_err)?;
        txn.open_table(SECRETS).map_err(db_err)?;
        txn.open_table(TIMELINE).map_err(db_err)?;
        txn.open_table(JOURNAL).map_err(db_err)?;
    }
    if from < 7 {
        // v7: recipient groups (policies name them), the unread-messages and open-revocations
        // indexes.
        txn.open_table(RECIPIENT_GROUPS).map_err(db_err)?;
        {
            let revocations = txn.open_table(REVOCATIONS).map_err(db_err)?;
            let mut open = txn.open_table(REVOCATIONS_OPEN).map_err(db_err)?;
            for row in revocations.iter().map_err(db_err)? {
                let (k, v) = row.map_err(db_err)?;
                if decode_v7::<Revocation>(v.value())?.is_open() {
                    open.insert(k.value(), ()).map_err(db_err)?;
                }
            }
        }
        let messages = txn.open_table(MESSAGES).map_err(db_err)?;
        let mut unread = txn.open_table(MESSAGES_UNREAD).map_err(db_err)?;
        for row in messages.iter().map_err(db_err)? {
            let m: crate::domain::message::Message = decode_v7(row.map_err(db_err)?.1.value())?;
            if !m.read {
                unread.insert(m.id, ()).map_err(db_err)?;
            }
        }
        if from == 6 {
            v6::migrate(txn)?;
        }
    }
    if from < 6 {
        // v6: resources, deployments and hostings, and the renewals index filled from the
        // records that exist.
        txn.open_table(HOSTINGS).map_err(db_err)?;
        txn.open_table(DEPLOY_JOURNAL).map_err(db_err)?;
        txn.open_table(MESSAGES).map_err(db_err)?;
        txn.open_table(ALARMS).map_err(db_err)?;
        txn.open_table(ALARM_FIRINGS).map_err(db_err)?;
        txn.open_table(OUTBOX).map_err(db_err)?;
        txn.open_table(OUTBOX_DUE).map_err(db_err)?;
        {
            let certs = txn.open_table(CERTS).map_err(db_err)?;
            let mut renewals = txn.open_table(RENEWALS).map_err(db_err)?;
            for row in certs.iter().map_err(db_err)? {
                let cert: Certificate = decode_v7(row.map_err(db_err)?.1.value())?;
                if let Some(old) = &cert.renewed_from {
                    renewals
                        .insert((old.as_str(), cert.id.as_str()), ())
                        .map_err(db_err)?;
                }
            }
        }
        txn.open_table(RESOURCES).map_err(db_err)?;
        txn.open_table(DEPLOYED).map_err(db_err)?;
        txn.open_table(CERT_RESOURCES).map_err(db_err)?;
        txn.open_table(DEPLOY_LOG).map_err(db_err)?;
    }
    if from < 5 {
        // v5: revocations, the CA's revocation list, reissues.
        txn.open_table(REVOCATIONS).map_err(db_err)?;
        txn.open_table(CRL).map_err(db_err)?;
        txn.open_table(REISSUES).map_err(db_err)?;
        txn.open_table(REISSUE_REQUESTS).map_err(db_err)?;
    }
    if from < 4 {
        // v4: orders placed with a CA backend.
        txn.open_table(ORDERS).map_err(db_err)?;
        txn.open_table(LETTERS).map_err(db_err)?;
        txn.open_table(PRICES).map_err(db_err)?;
    }
    if from < 3 {
        // v3: the account ledger (balance 0 until the first top-up).
        txn.open_table(LEDGER).map_err(db_err)?;
    }
    if from < 2 {
        // v2: the schedule, filled from every stored certificate.
        let certs = txn.open_table(CERTS).map_err(db_err)?;
        let mut schedule = txn.open_table(SCHEDULE).map_err(db_err)?;
        for row in certs.iter().map_err(db_err)? {
            let cert: Certificate = decode_v7(row.map_err(db_err)?.1.value())?;
            for e in entries_for(&cert) {
                schedule.insert(schedule_key(&e), ()).map_err(db_err)?;
            }
        }
    }
    Ok(())
}
