//! A tick killed with SIGKILL part-way loses nothing and does nothing twice: each batch of due
//! work commits with its effects or not at all, and the next tick finishes the rest.
mod common;
use certdeck::ca::pki::KeyKind;
use certdeck::domain::rules::upload::{
    new_uploaded_certificate, validate_upload, NewSecrets, UploadInput,
};
use certdeck::store::NewRecord;
use chrono::{Duration, Utc};
use common::{Env, Pki};
use std::time::Instant;

const COUNT: usize = 4_000;

fn fill(env: &Env) -> Vec<String> {
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["crash.example"], 30);
    let now = Utc::now();
    let input = UploadInput {
        cert: leaf.cert_pem.into_bytes(),
        key: Some(leaf.key_pem.into_bytes()),
        ..Default::default()
    };
    let v = validate_upload(&input, now, &[]).unwrap();
    let (template, _, event) = new_uploaded_certificate(&v, "template".into(), now);
    let store = env.open_store("test");
    let records: Vec<NewRecord> = (0..COUNT)
        .map(|i| {
            let mut cert = template.clone();
            cert.id = format!("c{i:07}");
            let x = cert.x509.as_mut().unwrap();
            x.fingerprint_sha256 = format!("{i:064x}");
            // All expired within the last hour: every one is due.
            x.not_after = now - Duration::seconds(1 + (i as i64 % 3_600));
            NewRecord {
                cert,
                secrets: NewSecrets::default(),
                event: event.clone(),
            }
        })
        .collect();
    assert!(store.insert_many(&records).unwrap().is_empty());
    records.into_iter().map(|r| r.cert.id).collect()
}

fn expired_events(env: &Env, ids: &[String]) -> Vec<usize> {
    let store = env.open_store("test");
    ids.iter()
        .map(|id| {
            store
                .timeline(id)
                .unwrap()
                .iter()
                .filter(|e| e.kind == "expired")
                .count()
        })
        .collect()
}

#[test]
fn sigkill_during_a_tick_loses_nothing_and_repeats_nothing() {
    for delay_ms in [5u64, 40, 120, 200] {
        let env = Env::new();
        let ids = fill(&env);
        let mut child = env.command().args(["tick"]).spawn().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill(); // SIGKILL
        let _ = child.wait();
        let after_kill = expired_events(&env, &ids);
        assert!(
            after_kill.iter().all(|&n| n <= 1),
            "killed at {delay_ms} ms: something fired twice"
        );
        let done_before = after_kill.iter().filter(|&&n| n == 1).count();
        eprintln!("killed at {delay_ms} ms: {done_before} of {COUNT} had fired");
        // The next tick finishes exactly what is left.
        let started = Instant::now();
        let (code, report) = env.json(&["tick"]);
        assert_eq!(code, 0, "{report}");
        assert_eq!(
            report["fired"].as_array().unwrap().len(),
            COUNT - done_before,
            "killed at {delay_ms} ms"
        );
        assert!(started.elapsed().as_secs() < 60);
        let after = expired_events(&env, &ids);
        assert!(
            after.iter().all(|&n| n == 1),
            "killed at {delay_ms} ms: each certificate expired exactly once"
        );
    }
}
