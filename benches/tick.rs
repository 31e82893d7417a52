//! Tick figures for issue #3 (printed, never asserted): with 1,000,000 certificates stored, a
//! tick with nothing due (target < 1 ms) and a tick with 10,000 due (target < 1 s).
//!
//! Run: `cargo bench --bench tick` (`-- --count 100000` for a smaller store). The records are
//! copies of one real parsed certificate with distinct ids, fingerprints and expiry dates:
//! generating a million distinct X.509 certificates would measure rcgen, not the tick.
use certdeck::ca::pki::{Authority, KeyKind};
use certdeck::domain::rules::upload::{
    new_uploaded_certificate, validate_upload, NewSecrets, UploadInput,
};
use certdeck::engine::clock::{Clock, ManualClock};
use certdeck::engine::Engine;
use certdeck::store::{NewRecord, Store};
use chrono::{Duration, Utc};
use std::sync::Arc;
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args
        .iter()
        .position(|a| a == "--count")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(1_000_000);
    let now = Utc::now();
    let ca = Authority::root(
        "Tick Bench CA",
        "bench",
        KeyKind::P256,
        now - Duration::days(9),
        now + Duration::days(4000),
    );
    let leaf = ca.issue(
        &["tick.example"],
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
    let (template, _, event) = new_uploaded_certificate(&v, "template".into(), now);

    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("tick.redb"),
        &dir.path().join("k"),
        "bench",
    )
    .unwrap();
    let t = Instant::now();
    let batch = 50_000;
    for start in (0..count).step_by(batch) {
        let records: Vec<NewRecord> = (start..(start + batch).min(count))
            .map(|i| {
                let mut cert = template.clone();
                cert.id = format!("t{i:07}");
                let x = cert.x509.as_mut().unwrap();
                x.fingerprint_sha256 = format!("{i:064x}");
                // Spread over the next 700 days, none due now: about count/700 fall due each day.
                x.not_after =
                    now + Duration::seconds(86_400 + (i as i64 * 700 * 86_400 / count as i64));
                NewRecord {
                    cert,
                    secrets: NewSecrets {
                        key_pem: None,
                        enc_key_pem: None,
                    },
                    event: event.clone(),
                }
            })
            .collect();
        store.insert_many(&records).unwrap();
    }
    println!(
        "stored {count} certificates in {:.1} s (not measured); file {:.0} MB",
        t.elapsed().as_secs_f64(),
        std::fs::metadata(dir.path().join("tick.redb"))
            .unwrap()
            .len() as f64
            / 1e6
    );

    let clock = Arc::new(ManualClock::new(now));
    let engine = Engine::new(store, clock.clone());
    let rounds = 1_000;
    let mut worst: f64 = 0.0;
    let t = Instant::now();
    for _ in 0..rounds {
        let one = Instant::now();
        assert!(engine.tick().unwrap().fired.is_empty());
        worst = worst.max(one.elapsed().as_secs_f64() * 1e3);
    }
    let mean = t.elapsed().as_secs_f64() * 1e3 / rounds as f64;
    println!(
        "tick, nothing due             {mean:8.3} ms mean, {worst:.3} ms worst   (target < 1 ms)"
    );

    // Move the clock so that about 10,000 entries are due.
    let per_day = count as f64 / 700.0;
    let days = 10_000.0 / per_day;
    clock.set(now + Duration::seconds(86_400 + (days * 86_400.0) as i64));
    let due = engine.store().due(clock.now(), usize::MAX).unwrap().len();
    let t = Instant::now();
    let report = engine.tick().unwrap();
    let ms = t.elapsed().as_secs_f64() * 1e3;
    assert_eq!(report.fired.len(), due);
    println!("tick, {due} due              {ms:8.1} ms                      (target < 1 s)");
    let t = Instant::now();
    assert!(engine.tick().unwrap().fired.is_empty());
    println!(
        "the same tick again           {:8.3} ms (nothing left to do)",
        t.elapsed().as_secs_f64() * 1e3
    );
}
