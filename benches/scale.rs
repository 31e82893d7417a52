//! Throughput and scale figures for issue #2 (printed, never asserted):
//!  - parse + store throughput over 10,000 generated certificates with keys (target >= 20,000/s)
//!  - with 100,000 certificates stored: open to first frame (< 300 ms), one filter keystroke
//!    (< 16 ms), one frame render (< 5 ms), resident memory (< 300 MB)
//!
//!  - SV-1 with 100,000 stored: `list --json` through the service's socket against the same
//!    command opening the database itself (within 1.2×), the round trip of one small action
//!    through the socket (< 1 ms median), `/metrics` (< 300 ms) and the memory it takes (< 300 MB)
//!
//! Run: `cargo bench --bench scale` (add `-- --quick` for 20,000 stored instead of 100,000).
use certdeck::app::{Action, State};
use certdeck::ca::pki::{Authority, Issued, KeyKind};
use certdeck::domain::cert::mozilla_anchor_subjects;
use certdeck::domain::rules::upload::{new_uploaded_certificate, validate_upload, UploadInput};
use certdeck::engine::clock::SystemClock;
use certdeck::engine::Engine;
use certdeck::store::{NewRecord, Store};
use certdeck::ui::theme::Theme;
use certdeck::ui::Ui;
use chrono::{Duration, Utc};
use ratatui::backend::TestBackend;
use ratatui::Terminal;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

// The same allocator as the binary (src/main.rs).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn generate(ca: &Authority, n: usize, distinct_keys: bool) -> Vec<Issued> {
    let now = Utc::now();
    let shared: Vec<Issued> = if distinct_keys {
        Vec::new()
    } else {
        (0..64)
            .map(|i| ca.issue(&[&format!("seed{i}.example")], KeyKind::P256, now, now))
            .collect()
    };
    (0..n)
        .map(|i| {
            let days = (i % 800) as i64 - 30;
            let domains = [
                format!("host{i}.shop{}.example.com", i % 97),
                format!("www.host{i}.example.com"),
            ];
            let refs: Vec<&str> = domains.iter().map(String::as_str).collect();
            if distinct_keys {
                ca.issue(
                    &refs,
                    KeyKind::P256,
                    now - Duration::days(300),
                    now + Duration::days(days),
                )
            } else {
                // Key generation is not what is measured; reuse keys to fill big stores quickly.
                let key = &shared[i % shared.len()];
                ca.issue_with_key_pem(
                    &refs,
                    &key.key_pem,
                    now - Duration::days(300),
                    now + Duration::days(days),
                )
            }
        })
        .collect()
}

fn upload_inputs(ca: &Authority, issued: &[Issued]) -> Vec<UploadInput> {
    let chain_tail = ca.pem();
    issued
        .iter()
        .enumerate()
        .map(|(i, leaf)| UploadInput {
            cert: format!("{}{}", leaf.cert_pem, chain_tail).into_bytes(),
            key: Some(leaf.key_pem.clone().into_bytes()),
            tags: vec![format!("env={}", ["prod", "staging", "dev"][i % 3])],
            project: Some(format!("project{}", i % 20)),
            ..Default::default()
        })
        .collect()
}

fn records(ca: &Authority, issued: &[Issued], start: usize) -> Vec<NewRecord> {
    let anchors = mozilla_anchor_subjects();
    let now = Utc::now();
    upload_inputs(ca, issued)
        .iter()
        .enumerate()
        .map(|(i, input)| {
            let v =
                validate_upload(input, now, &anchors).expect("generated certificates are valid");
            let (cert, secrets, event) =
                new_uploaded_certificate(&v, format!("b{:07}", start + i), now);
            NewRecord {
                cert,
                secrets,
                event,
            }
        })
        .collect()
}

/// The issuing CA of every benchmark certificate (an intermediate under a root).
fn bench_ca(now: chrono::DateTime<Utc>) -> Authority {
    let (from, until) = (now - Duration::days(900), now + Duration::days(4000));
    Authority::root("Bench Root", "bench", KeyKind::P256, from, until)
        .intermediate("Bench CA", "bench", from, until)
}

/// The highest resident memory this process had (VmHWM).
fn hwm_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

fn rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// Child mode: a fresh process opens the store and draws the first frame, as `certdeck` does.
fn open_to_first_frame(db: &Path, key: &Path) {
    let t0 = Instant::now();
    let store = Store::open(db, key, "bench").unwrap();
    let opened_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let raw = store.count_summary_bytes().unwrap();
    let raw_ms = t.elapsed().as_secs_f64() * 1000.0;
    let t = Instant::now();
    let n = store.summaries().unwrap().len();
    let read_ms = t.elapsed().as_secs_f64() * 1000.0;
    println!("  (store open {opened_ms:.1} ms; reading {n} summaries alone {read_ms:.1} ms; iterating {raw} raw bytes {raw_ms:.1} ms)");
    let t0 = Instant::now();
    let store = {
        drop(store);
        Store::open(db, key, "bench").unwrap()
    };
    let engine = Engine::new(store, Arc::new(SystemClock));
    let mut state = State::default();
    engine.dispatch(&mut state, Action::Refresh(None));
    let mut ui = Ui::new(state, Theme::plain());
    let mut terminal = Terminal::new(TestBackend::new(160, 50)).unwrap();
    terminal.draw(|f| ui.draw(f)).unwrap();
    let open_ms = t0.elapsed().as_secs_f64() * 1000.0;
    let rows = ui.state.rows.len();

    let t = Instant::now();
    let frames = 200;
    for _ in 0..frames {
        terminal.draw(|f| ui.draw(f)).unwrap();
    }
    let frame_ms = t.elapsed().as_secs_f64() * 1000.0 / frames as f64;

    // A user typing "shop4" then deleting back to "shop": narrowing and widening keystrokes.
    let mut worst: f64 = 0.0;
    let mut total = 0.0;
    let keys = [
        "s", "sh", "sho", "shop", "shop4", "shop", "sho", "", "host99", "",
    ];
    for k in keys {
        let t = Instant::now();
        engine.dispatch(&mut ui.state, Action::SetFilter(k.to_string()));
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        worst = worst.max(ms);
        total += ms;
    }
    println!("stored certificates           {rows}");
    println!("open to first frame           {open_ms:8.1} ms   (target < 300 ms)");
    println!("one frame render (160x50)     {frame_ms:8.2} ms   (target < 5 ms)");
    println!(
        "filter keystroke, mean / worst {:7.2} / {worst:.2} ms (target < 16 ms)",
        total / keys.len() as f64
    );
    println!(
        "resident memory               {:8.1} MB   (target < 300 MB)",
        rss_mb()
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--child-open") {
        open_to_first_frame(Path::new(&args[pos + 1]), Path::new(&args[pos + 2]));
        return;
    }
    if let Some(pos) = args.iter().position(|a| a == "--child-metrics") {
        metrics_of(Path::new(&args[pos + 1]), Path::new(&args[pos + 2]));
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    if args.iter().any(|a| a == "--stages") {
        stages();
        return;
    }
    let big = if quick { 20_000 } else { 100_000 };
    let dir = tempfile::tempdir().unwrap();
    // BENCH_DIR keeps the big store between runs (for profiling the open path).
    let keep = std::env::var_os("BENCH_DIR").map(std::path::PathBuf::from);
    let now = Utc::now();
    let ca = bench_ca(now);

    // 1. Parse + store throughput.
    let t = Instant::now();
    let issued = generate(&ca, 10_000, true);
    println!(
        "generated 10,000 certificates with keys in {:.1} s (not measured)",
        t.elapsed().as_secs_f64()
    );
    let inputs = upload_inputs(&ca, &issued);
    {
        let store = Store::open(
            &dir.path().join("sequential.redb"),
            &dir.path().join("k"),
            "bench",
        )
        .unwrap();
        let t = Instant::now();
        let recs = records(&ca, &issued, 0);
        let parse_s = t.elapsed().as_secs_f64();
        let t = Instant::now();
        assert!(store.insert_many(&recs).unwrap().is_empty());
        let store_s = t.elapsed().as_secs_f64();
        println!(
            "parse + store, one core       {:8.0} /s    (parse {:.0} ms, store {:.0} ms)",
            10_000.0 / (parse_s + store_s),
            parse_s * 1000.0,
            store_s * 1000.0
        );
    }
    let store = Store::open(
        &dir.path().join("throughput.redb"),
        &dir.path().join("k"),
        "bench",
    )
    .unwrap();
    let engine = Engine::new(store, Arc::new(SystemClock));
    let t = Instant::now();
    let results = engine.import_batch(&inputs, &[]).unwrap();
    let s = t.elapsed().as_secs_f64();
    assert!(results.iter().all(Result::is_ok));
    println!(
        "parse + store (import_batch)  {:8.0} /s    ({:.0} ms for 10,000; target >= 20,000/s)",
        10_000.0 / s,
        s * 1000.0
    );
    drop(engine);

    // 2. A big store, then a fresh process opens it.
    let big_dir = keep.clone().unwrap_or_else(|| dir.path().to_path_buf());
    let db = big_dir.join(format!("big-{big}.redb"));
    let key = big_dir.join(format!("big-{big}.key"));
    let reuse = keep.is_some() && db.exists();
    if !reuse {
        let store = Store::open(&db, &key, "bench").unwrap();
        let t = Instant::now();
        let batch = 10_000;
        for start in (0..big).step_by(batch) {
            let issued = generate(&ca, batch, false);
            store.insert_many(&records(&ca, &issued, start)).unwrap();
        }
        println!(
            "filled a store with {big} certificates in {:.1} s (not measured); file {:.0} MB",
            t.elapsed().as_secs_f64(),
            std::fs::metadata(&db).unwrap().len() as f64 / 1e6
        );
    }
    for child in ["--child-open", "--child-metrics"] {
        let out = std::process::Command::new(&args[0])
            .arg(child)
            .arg(&db)
            .arg(&key)
            .output()
            .unwrap();
        print!("{}", String::from_utf8_lossy(&out.stdout));
        eprint!("{}", String::from_utf8_lossy(&out.stderr));
    }
    through_the_socket(&db, &key, dir.path());
}

/// Median of `f` over `n` runs, in ms.
fn median_ms(n: usize, mut f: impl FnMut()) -> f64 {
    let mut runs: Vec<f64> = (0..n)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[n / 2]
}

/// SV-1 figures: the real binary, directly and through a running `certdeck serve`.
fn through_the_socket(db: &Path, key: &Path, scratch: &Path) {
    use certdeck::service::protocol::{self, FromService, Hello, ToService};
    use std::process::{Command, Stdio};
    let bin = env!("CARGO_BIN_EXE_certdeck");
    let socket = scratch.join("bench.sock");
    let run = |args: &[&str]| {
        let status = Command::new(bin)
            .env("CERTDECK_KEY_FILE", key)
            .arg("--db")
            .arg(db)
            .arg("--socket")
            .arg(&socket)
            .args(args)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
    };
    let direct = median_ms(5, || run(&["list", "--json"]));
    let mut serve = Command::new(bin)
        .env("CERTDECK_KEY_FILE", key)
        .arg("--db")
        .arg(db)
        .arg("--socket")
        .arg(&socket)
        .args(["serve", "--period", "3600"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    while std::os::unix::net::UnixStream::connect(&socket).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let through = median_ms(5, || run(&["list", "--json"]));
    println!(
        "list --json, 100,000 stored: direct {direct:.0} ms, through the socket {through:.0} ms ({:.2}×; target within 1.2×)",
        through / direct
    );
    let identity = certdeck::domain::service::Identity {
        db: certdeck::store::paths::canonical(db),
        now: None,
        resolver: None,
    };
    // A small command from a client already started: connect, hello, run, exit code.
    let command = median_ms(200, || {
        let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
        protocol::write_frame(&mut s, &Hello::ours()).unwrap();
        protocol::write_frame(
            &mut s,
            &ToService::Run(protocol::RunRequest {
                identity: identity.clone(),
                argv: ["certdeck", "account", "--json"].map(String::from).to_vec(),
                cwd: scratch.to_path_buf(),
                stdin_is_terminal: false,
                stderr_is_terminal: false,
            }),
        )
        .unwrap();
        while let Some(m) =
            protocol::read_frame::<FromService>(&mut s, protocol::MAX_REPLY).unwrap()
        {
            if let FromService::Exit(code) = m {
                assert_eq!(code, 0);
                break;
            }
        }
    });
    // An attached TUI's action: one effect out, its outcome back.
    let mut s = std::os::unix::net::UnixStream::connect(&socket).unwrap();
    protocol::write_frame(&mut s, &Hello::ours()).unwrap();
    protocol::write_frame(
        &mut s,
        &ToService::Attach(protocol::AttachRequest {
            identity,
            cwd: scratch.to_path_buf(),
        }),
    )
    .unwrap();
    let attached = protocol::read_frame::<FromService>(&mut s, protocol::MAX_REPLY).unwrap();
    assert!(matches!(attached, Some(FromService::Attached { .. })));
    let effect = median_ms(1000, || {
        protocol::write_frame(
            &mut s,
            &ToService::Effect(Box::new(certdeck::app::Effect::LoadAccount)),
        )
        .unwrap();
        loop {
            match protocol::read_frame::<FromService>(&mut s, protocol::MAX_REPLY).unwrap() {
                Some(FromService::Action(_)) => break,
                Some(_) => continue,
                None => panic!("the service closed the connection"),
            }
        }
    });
    println!(
        "one small action through the socket, median: a command (account --json) {command:.3} ms, a TUI's effect (load the account) {effect:.3} ms (target < 1 ms)"
    );
    let _ = serve.kill();
    let _ = serve.wait();
}

/// Child mode: a fresh process (as `certdeck serve` is) answers `/metrics` for the whole store
/// (SV-3): the first answer, the median of five more, and the resident memory after.
fn metrics_of(db: &Path, key: &Path) {
    let engine = Engine::new(
        Store::open(db, key, "bench").unwrap(),
        Arc::new(SystemClock),
    );
    // As `serve` answers a scrape: build the text, then give its memory back.
    let scrape = || {
        let parts = engine.metrics_parts().unwrap();
        let lines: usize = parts.iter().map(|p| p.lines().count()).sum();
        drop(parts);
        certdeck::memory::give_back();
        lines
    };
    let t = Instant::now();
    let lines = scrape();
    let first_ms = t.elapsed().as_secs_f64() * 1000.0;
    let mut peak: f64 = 0.0;
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            let t = Instant::now();
            scrape();
            peak = peak.max(rss_mb());
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    println!(
        "/metrics, {lines} lines: first {first_ms:.0} ms, median {:.0} ms (target < 300 ms)",
        runs[2]
    );
    println!(
        "resident memory after /metrics {:8.1} MB, highest between scrapes {peak:.1} MB, peak {:.1} MB (target < 300 MB)",
        rss_mb(),
        hwm_mb()
    );
}

/// Where the parse time goes, stage by stage, over 10,000 certificates (`-- --stages`).
fn stages() {
    use certdeck::domain::cert::{order_chain, parse_certificate};
    use certdeck::domain::key::parse_private_key;
    use certdeck::domain::pem::scan;
    let now = Utc::now();
    let ca = bench_ca(now);
    let issued = generate(&ca, 10_000, true);
    let chains: Vec<String> = issued
        .iter()
        .map(|l| format!("{}{}", l.cert_pem, ca.pem()))
        .collect();
    let time = |name: &str, f: &mut dyn FnMut(usize)| {
        let t = Instant::now();
        for i in 0..issued.len() {
            f(i);
        }
        println!(
            "{name:<28} {:6.1} us/cert",
            t.elapsed().as_secs_f64() * 1e6 / issued.len() as f64
        );
    };
    time("pem scan (chain + key)", &mut |i| {
        scan(&chains[i]).unwrap();
        scan(&issued[i].key_pem).unwrap();
    });
    let blocks: Vec<_> = chains.iter().map(|c| scan(c).unwrap()).collect();
    time("parse 2 certificates", &mut |i| {
        for b in &blocks[i] {
            parse_certificate(&b.der).unwrap();
        }
    });
    let parsed: Vec<Vec<_>> = blocks
        .iter()
        .map(|bs| {
            bs.iter()
                .map(|b| parse_certificate(&b.der).unwrap())
                .collect()
        })
        .collect();
    let anchors = mozilla_anchor_subjects();
    time("order chain", &mut |i| {
        order_chain(parsed[i].clone(), &anchors).unwrap();
    });
    let keys: Vec<_> = issued
        .iter()
        .map(|l| scan(&l.key_pem).unwrap().remove(0))
        .collect();
    time("parse key", &mut |i| {
        parse_private_key(&keys[i].label, &keys[i].der, &[], None).unwrap();
    });
    let pk: Vec<_> = keys
        .iter()
        .map(|k| parse_private_key(&k.label, &k.der, &[], None).unwrap())
        .collect();
    time("key belongs to leaf", &mut |i| {
        assert!(pk[i].belongs_to(parsed[i][0].public_key.as_ref().unwrap()));
    });
    let recs = records(&ca, &issued, 0);
    time("postcard encode record", &mut |i| {
        std::hint::black_box(postcard::to_stdvec(&recs[i].cert).unwrap());
        std::hint::black_box(postcard::to_stdvec(&recs[i].cert.summary()).unwrap());
    });
    println!(
        "record size {} B, summary {} B",
        postcard::to_stdvec(&recs[0].cert).unwrap().len(),
        postcard::to_stdvec(&recs[0].cert.summary()).unwrap().len()
    );
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(&dir.path().join("s.redb"), &dir.path().join("k"), "bench").unwrap();
    let t = Instant::now();
    store.insert_many(&recs).unwrap();
    println!(
        "{:<28} {:6.1} us/cert",
        "store insert_many",
        t.elapsed().as_secs_f64() * 1e6 / recs.len() as f64
    );
    if std::env::var_os("BENCH_STORE_LOOP").is_some() {
        for round in 0..8 {
            let store = Store::open(
                &dir.path().join(format!("r{round}.redb")),
                &dir.path().join("k"),
                "bench",
            )
            .unwrap();
            store.insert_many(&recs).unwrap();
        }
    }
    let t = Instant::now();
    records(&ca, &issued, 10_000);
    println!(
        "{:<28} {:6.1} us/cert",
        "validate + build record",
        t.elapsed().as_secs_f64() * 1e6 / recs.len() as f64
    );
}
