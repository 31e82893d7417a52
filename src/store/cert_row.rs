//! How a certificate record is kept in the `certs` table. Most records are kept whole. A
//! discovered certificate as a scan found it is kept as its DER and the time it was found: the
//! rest of its record is a function of those (`domain::discovery::discovered_record`), and a scan
//! writes 10,000 of them at a time (#15: the whole record is twice the size and takes a
//! quarter of the scan's time to encode and store). Once anything of it changes, it is kept
//! whole like any other.
use super::record::Records;
use super::StoreError;
use crate::domain::model::Certificate;
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// A row as read. The variants' order is the stored format: never reorder them.
#[derive(Deserialize)]
enum Row<'a> {
    Whole(Box<Certificate>),
    #[serde(borrow)]
    Found(Found<'a>),
}

/// A row as written: the same shape, borrowing what it writes.
#[derive(Serialize)]
enum RowOut<'a> {
    Whole(&'a Certificate),
    Found(Found<'a>),
}

/// A discovered certificate as a scan found it. The time is kept to the nanosecond, so the
/// record derived from it is exactly the one the scan made.
#[derive(Serialize, Deserialize)]
struct Found<'a> {
    seconds: i64,
    nanos: u32,
    #[serde(borrow, with = "bytes")]
    der: &'a [u8],
}

/// The DER as one byte string (postcard: its length, then the bytes in one copy).
mod bytes {
    pub fn serialize<S: serde::Serializer>(b: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(b)
    }

    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<&'de [u8], D::Error> {
        <&[u8] as serde::Deserialize>::deserialize(d)
    }
}

/// A record's row, kept whole.
pub(super) fn whole(records: &Records, cert: &Certificate) -> Vec<u8> {
    records.encode(&RowOut::Whole(cert))
}

/// The row of a discovered certificate as a scan found it: `der` found at `created_at`. Only
/// for a record `discovered_record(der, id, created_at)` made, which is what it reads back as.
pub(super) fn found(records: &Records, der: &[u8], created_at: Timestamp) -> Vec<u8> {
    records.encode(&RowOut::Found(Found {
        seconds: created_at.timestamp(),
        nanos: created_at.timestamp_subsec_nanos(),
        der,
    }))
}

/// A row as schema versions up to 11 kept it (the whole record, no variant): read by
/// migrations only.
pub(super) fn decode_v11(
    records: &Records,
    id: &str,
    stored: &[u8],
) -> Result<Certificate, StoreError> {
    let plain = records.verified(stored);
    plain
        .and_then(|p| postcard::from_bytes(p).ok())
        .ok_or(StoreError::Damaged {
            table: Some("certs"),
            id: Some(id.to_string()),
        })
}

/// v12: every row of `certs` kept whole in the new shape, a thousand at a time (a large store
/// is never held in memory whole).
pub(super) fn migrate_v11(
    records: &Records,
    txn: &redb::WriteTransaction,
) -> Result<(), StoreError> {
    use redb::ReadableTable;
    let mut t = txn.open_table(super::CERTS).map_err(super::db_err)?;
    let mut after: Option<String> = None;
    loop {
        let mut batch = Vec::with_capacity(1_000);
        {
            let rows = match &after {
                Some(k) => t.range::<&str>((
                    std::ops::Bound::Excluded(k.as_str()),
                    std::ops::Bound::Unbounded,
                )),
                None => t.range::<&str>(..),
            }
            .map_err(super::db_err)?;
            for row in rows.take(1_000) {
                let (k, v) = row.map_err(super::db_err)?;
                let cert = decode_v11(records, k.value(), v.value())?;
                batch.push((k.value().to_string(), whole(records, &cert)));
            }
        }
        let Some((last, _)) = batch.last() else {
            return Ok(());
        };
        after = Some(last.clone());
        for (k, v) in &batch {
            t.insert(k.as_str(), v.as_slice()).map_err(super::db_err)?;
        }
    }
}

/// The record a row of `certs` holds under `id`; a row that does not verify, decode or derive
/// is damage.
pub(super) fn decode(
    records: &Records,
    id: &str,
    stored: &[u8],
) -> Result<Certificate, StoreError> {
    let damaged = || StoreError::Damaged {
        table: Some("certs"),
        id: Some(id.to_string()),
    };
    let plain = records.verified(stored).ok_or_else(damaged)?;
    match postcard::from_bytes::<Row>(plain).map_err(|_| damaged())? {
        Row::Whole(cert) => Ok(*cert),
        Row::Found(f) => {
            let created_at =
                chrono::DateTime::from_timestamp(f.seconds, f.nanos).ok_or_else(damaged)?;
            crate::domain::discovery::discovered_record(f.der, id.to_string(), created_at)
                .map_err(|_| damaged())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn records() -> Records {
        Records::new(ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"cert rows"))
    }

    fn leaf_der() -> Vec<u8> {
        let now = chrono::Utc::now();
        let ca = crate::ca::pki::Authority::root(
            "row",
            "row",
            crate::ca::pki::KeyKind::P256,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(90),
        );
        let leaf = ca.issue(
            &["row.example.test"],
            crate::ca::pki::KeyKind::P256,
            now - chrono::Duration::days(1),
            now + chrono::Duration::days(30),
        );
        crate::domain::pem::scan(&leaf.cert_pem)
            .unwrap()
            .remove(0)
            .der
    }

    #[test]
    fn rule_ds3_a_found_row_reads_back_as_the_record_the_scan_made() {
        let r = records();
        let der = leaf_der();
        // Nanoseconds included: the record read back is the one made, to the last field.
        let at = chrono::DateTime::from_timestamp(1_790_000_000, 123_456_789).unwrap();
        let made = crate::domain::discovery::discovered_record(&der, "c-row".into(), at).unwrap();
        let row = found(&r, &der, at);
        assert_eq!(decode(&r, "c-row", &row).unwrap(), made);
        // Half the size of the whole record, or less.
        assert!(
            row.len() * 2 <= whole(&r, &made).len() + 64,
            "{} bytes",
            row.len()
        );
    }

    #[test]
    fn a_whole_row_reads_back_as_written() {
        let r = records();
        let at = chrono::Utc::now();
        let mut cert =
            crate::domain::discovery::discovered_record(&leaf_der(), "c-whole".into(), at).unwrap();
        cert.ignored = true;
        cert.tags.insert("team".into(), "web".into());
        assert_eq!(decode(&r, "c-whole", &whole(&r, &cert)).unwrap(), cert);
    }

    #[test]
    fn a_changed_byte_or_a_der_that_does_not_parse_is_damage_named_by_table_and_id() {
        let r = records();
        let der = leaf_der();
        let mut row = found(&r, &der, chrono::Utc::now());
        let middle = row.len() / 2;
        row[middle] ^= 1;
        let named = |e: StoreError| matches!(e, StoreError::Damaged { table: Some("certs"), id: Some(ref id) } if id == "c-bad");
        assert!(named(decode(&r, "c-bad", &row).unwrap_err()));
        // Tagged correctly, but not a certificate: still damage, never a panic.
        let row = found(&r, b"not a certificate", chrono::Utc::now());
        assert!(named(decode(&r, "c-bad", &row).unwrap_err()));
        assert!(named(decode(&r, "c-bad", &[]).unwrap_err()));
    }
}
