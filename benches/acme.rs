//! ACME order throughput against a local pebble (printed, never asserted): account, then per
//! certificate new order + http-01 (built-in listener, certdeck's own check, pebble's VA for
//! real) + finalize + download + store. Target: <= 1.5 s per certificate.
//!
//! Run: `cargo bench --bench acme` (needs /usr/bin/pebble; `-- --orders N`, default 10). Requests
//! to one CA are paced at CERTDECK_ACME_RPS (default 10 per second): an order takes about a dozen.
#[allow(dead_code)]
#[path = "../tests/common/pebble.rs"]
mod pebble;

use certdeck::ca::acme::order::Solver;
use certdeck::engine::acme::{AccountSpec, OrderRequest};
use certdeck::engine::clock::SystemClock;
use certdeck::engine::Engine;
use certdeck::store::Store;
use std::sync::Arc;
use std::time::Instant;

fn main() {
    if !pebble::installed() {
        println!("skipped: /usr/bin/pebble is not installed");
        return;
    }
    let args: Vec<String> = std::env::args().collect();
    let orders: usize = args
        .iter()
        .position(|a| a == "--orders")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(10);
    let p = pebble::Pebble::start(pebble::Options {
        validate: true,
        ..Default::default()
    });
    std::env::set_var(
        "CERTDECK_VALIDATION_HTTP",
        format!("127.0.0.1:{}", p.http_port),
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(
        &dir.path().join("acme.redb"),
        &dir.path().join("store.key"),
        "bench",
    )
    .unwrap();
    let engine = Engine::new(store, Arc::new(SystemClock));
    let t = Instant::now();
    engine
        .add_acme_account(&AccountSpec {
            name: "bench".into(),
            directory: p.directory.clone(),
            contacts: vec![],
            root_pem: Some(std::fs::read_to_string(&p.root_pem).unwrap()),
            eab_kid: None,
            eab_key: None,
            agree_tos: true,
        })
        .unwrap_or_else(|e| panic!("{e:?}"));
    println!(
        "account created in {:.0} ms",
        t.elapsed().as_secs_f64() * 1e3
    );
    let mut times = Vec::new();
    for i in 0..orders {
        let t = Instant::now();
        engine
            .acme_order(&OrderRequest {
                account: "bench".into(),
                domain: format!("host{i}.bench.test"),
                sans: vec![],
                key: certdeck::domain::reissue::KeyChoice::P256,
                solver: Solver::Listen(format!("127.0.0.1:{}", p.http_port).parse().unwrap()),
                profile: None,
                name: None,
                tags: vec![],
                project: None,
                dry_run: false,
                dns_wait: std::time::Duration::from_secs(120),
            })
            .unwrap_or_else(|e| panic!("{e:?}"));
        times.push(t.elapsed().as_secs_f64());
    }
    times.sort_by(f64::total_cmp);
    let mean = times.iter().sum::<f64>() / times.len() as f64;
    println!(
        "order + http-01 + finalize + download + store, {orders} certificates at {} requests/s: mean {:.0} ms, median {:.0} ms, worst {:.0} ms (target <= 1500 ms)",
        certdeck::ca::acme::http::requests_per_second(),
        mean * 1e3,
        times[times.len() / 2] * 1e3,
        times[times.len() - 1] * 1e3
    );
}
