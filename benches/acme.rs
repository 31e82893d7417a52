//! ACME order throughput against a local pebble (printed, never asserted): account, then per
//! certificate new order + http-01 (built-in listener, certdeck's own check, pebble's VA for
//! real) + finalize + download + store. Target: <= 1.5 s per certificate.
//!
//! Run: `cargo bench --bench acme` (needs /usr/bin/pebble; `-- --orders N`, default 10). Requests
//! to one CA are paced at CERTDECK_ACME_RPS (default 10 per second): an order takes about a dozen.
//!
//! `-- --in-flight N` (e.g. 100): N ACME certificates fall due for renewal together (one ARI
//! window); one tick renews them all at once through pebble while another thread keeps drawing
//! the TUI's frame. Prints the wall time, the request rate seen and the worst frame (target
//! < 16 ms).
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
    let in_flight: Option<usize> = args
        .iter()
        .position(|a| a == "--in-flight")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok());
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
    if let Some(n) = in_flight {
        return renewals_in_flight(&engine, &p, n);
    }
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

/// N certificates due for renewal at once, renewed by one tick; the TUI draws meanwhile.
fn renewals_in_flight(engine: &Engine, p: &pebble::Pebble, n: usize) {
    use certdeck::ca::pki::{Authority, KeyKind};
    use certdeck::domain::acme_renewal::{first_plan, OrderedAs};
    use certdeck::domain::rules::upload::{new_uploaded_certificate, validate_upload, UploadInput};
    let now = chrono::Utc::now();
    let days = chrono::Duration::days;
    let ca = Authority::root(
        "bench",
        "bench",
        KeyKind::P256,
        now - days(60),
        now + days(365),
    );
    let listen: std::net::SocketAddr = format!("127.0.0.1:{}", p.http_port).parse().unwrap();
    for i in 0..n {
        let domain = format!("fleet{i}.bench.test");
        let leaf = ca.issue(&[&domain], KeyKind::P256, now - days(60), now + days(30));
        let upload = UploadInput {
            cert: leaf.cert_pem.into_bytes(),
            key: Some(leaf.key_pem.into_bytes()),
            ..Default::default()
        };
        let v = validate_upload(&upload, now, &[]).unwrap();
        let id = engine.store().new_id().unwrap();
        let (mut cert, secrets, event) = new_uploaded_certificate(&v, id, now);
        cert.auto_renew = true;
        let mut plan = first_plan(
            &cert,
            OrderedAs {
                domains: vec![domain],
                solver: Solver::Listen(listen),
                key: certdeck::domain::reissue::KeyChoice::P256,
                profile: None,
            },
            None,
            0.5,
            now,
        )
        .unwrap();
        plan.at = now - chrono::Duration::seconds(1);
        let origin = certdeck::domain::acme::AcmeOrigin {
            account: "bench".into(),
            order_url: "(bench)".into(),
        };
        let rec = certdeck::store::NewRecord {
            cert,
            secrets,
            event,
        };
        engine
            .store()
            .insert_acme(&rec, &origin, Some(&plan), None)
            .unwrap()
            .unwrap();
    }
    // The TUI's frame, drawn over and over while the tick runs.
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let mut state = certdeck::app::State::default();
    engine.dispatch(&mut state, certdeck::app::Action::Refresh(None));
    let drawer = {
        let done = done.clone();
        std::thread::spawn(move || {
            let mut ui = certdeck::ui::Ui::new(state, certdeck::ui::theme::Theme::plain());
            let mut terminal =
                ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24)).unwrap();
            let mut frames = Vec::new();
            while !done.load(std::sync::atomic::Ordering::SeqCst) {
                let t = Instant::now();
                terminal.draw(|f| ui.draw(f)).unwrap();
                frames.push(t.elapsed().as_secs_f64() * 1e3);
                std::thread::sleep(std::time::Duration::from_millis(16));
            }
            frames
        })
    };
    let t = Instant::now();
    let report = engine.tick().unwrap();
    let wall = t.elapsed().as_secs_f64();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    let mut frames = drawer.join().unwrap();
    frames.sort_by(f64::total_cmp);
    let renewed = report
        .fired
        .iter()
        .filter(|f| f.message.contains("renewed by"))
        .count();
    println!(
        "{n} renewals in flight at {} requests/s: {renewed} renewed, {} failed, in {wall:.1} s ({:.2} s per certificate)",
        certdeck::ca::acme::http::requests_per_second(),
        report.failed.len(),
        wall / n as f64
    );
    if let Some(f) = report.failed.first() {
        println!("  first failure: {}", f.message);
    }
    println!(
        "TUI frame (80x24) meanwhile: {} frames, median {:.2} ms, worst {:.2} ms (target < 16 ms)",
        frames.len(),
        frames[frames.len() / 2],
        frames[frames.len() - 1]
    );
}
