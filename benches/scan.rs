//! Discovery figures (printed, never asserted): `scan` of N PEM files (one certificate each)
//! into an empty store against a bare loop that reads and parses the same files with
//! x509-parser (target: within 1.5x), a rescan with nothing changed (target < 50 ms), and the
//! peak resident memory (target < 100 MB at 100,000 files).
//!
//! Run: `cargo bench --bench scan` (10,000 files, 5 rounds; `-- --files 100000` for the memory
//! figure, `--rounds N` to change the rounds).
use certdeck::ca::pki::{Authority, KeyKind};
use certdeck::engine::clock::SystemClock;
use certdeck::engine::Engine;
use certdeck::store::Store;
use std::sync::Arc;
use std::time::Instant;

// The same allocator as the binary (src/main.rs), so the memory figure is certdeck's own.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map(|kb| kb / 1024.0)
        .unwrap_or(0.0)
}

/// CPU time this process has used (user + system), in ms (10 ms ticks).
fn cpu_ms() -> f64 {
    std::fs::read_to_string("/proc/self/stat")
        .ok()
        .and_then(|s| {
            let after = s.rsplit_once(')')?.1;
            let f: Vec<&str> = after.split_whitespace().collect();
            let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
            Some(ticks * 10.0)
        })
        .unwrap_or(0.0)
}

/// Reads and parses every file under `tree` as simply as it can be done; returns how many
/// certificates parsed.
fn bare_loop(tree: &std::path::Path) -> usize {
    let mut parsed = 0;
    let mut stack = vec![tree.to_path_buf()];
    while let Some(p) = stack.pop() {
        for e in std::fs::read_dir(&p).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let text = std::fs::read(&path).unwrap();
            let (_, pem) = x509_parser::pem::parse_x509_pem(&text).unwrap();
            if x509_parser::parse_x509_certificate(&pem.contents).is_ok() {
                parsed += 1;
            }
        }
    }
    parsed
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let n: usize = args
        .iter()
        .position(|a| a == "--files")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().unwrap();
    // `--tree DIR` keeps the generated files between runs (generating 100,000 takes a while).
    let kept = args
        .iter()
        .position(|a| a == "--tree")
        .and_then(|i| args.get(i + 1))
        .map(|d| std::path::PathBuf::from(d).join(format!("etc{n}")));
    let tree = kept.clone().unwrap_or_else(|| dir.path().join("etc"));
    let marker = tree.with_extension("done");
    let reuse = kept.is_some() && marker.exists();
    let now = chrono::Utc::now();
    let d = chrono::Duration::days;
    let ca = Authority::root("bench", "bench", KeyKind::P256, now - d(1), now + d(900));
    let t = Instant::now();
    let mut bytes = 0usize;
    for i in (0..n).filter(|_| !reuse) {
        let sub = tree.join(format!("d{:03}", i % 100));
        if i < 100 {
            std::fs::create_dir_all(&sub).unwrap();
        }
        let leaf = ca.issue(
            &[&format!("h{i}.bench.test")],
            KeyKind::P256,
            now - d(1),
            now + d(90),
        );
        bytes += leaf.cert_pem.len();
        std::fs::write(sub.join(format!("h{i}.pem")), leaf.cert_pem).unwrap();
    }
    if reuse {
        println!("{n} PEM files, reused from {}", tree.display());
    } else {
        println!(
            "{n} PEM files, {:.1} MB, generated in {:.1} s",
            bytes as f64 / 1e6,
            t.elapsed().as_secs_f64()
        );
    }
    if kept.is_some() {
        std::fs::write(&marker, b"").unwrap();
    }
    let baseline_rss = peak_rss_mb();

    // The bare loop and the scan into an empty store, in turns, `--rounds` times: this machine's
    // load moves either by half from one run to the next, so each figure is the median of its
    // rounds, and the ratio the median of the rounds' ratios.
    let rounds_of_both: usize = args
        .iter()
        .position(|a| a == "--rounds")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(if n > 20_000 { 1 } else { 5 });
    let mut bare_runs = Vec::new();
    let mut scan_runs = Vec::new();
    let mut ratios = Vec::new();
    let mut kept_engine = None;
    let mut scan_rss = 0.0;
    for round in 0..rounds_of_both {
        // The bare loop: read every file, parse its certificate (warm cache after the writes).
        let t = Instant::now();
        let cpu = cpu_ms();
        assert_eq!(bare_loop(&tree), n);
        let bare = (t.elapsed().as_secs_f64(), cpu_ms() - cpu);
        // The round before's store goes first: two stores' caches at once would count in the
        // memory figure.
        if let Some((old_engine, old_db)) = kept_engine.take() {
            drop(old_engine);
            let _ = std::fs::remove_file(old_db);
        }
        let db = dir.path().join(format!("scan{round}.redb"));
        let key = dir.path().join(format!("store{round}.key"));
        let store = Store::open(&db, &key, "bench").unwrap();
        let engine = Engine::new(store, Arc::new(SystemClock));
        let t = Instant::now();
        let cpu = cpu_ms();
        let r = engine.scan(std::slice::from_ref(&tree), None).unwrap();
        let scan = (t.elapsed().as_secs_f64(), cpu_ms() - cpu);
        assert_eq!(r.new, n);
        if round == 0 {
            scan_rss = peak_rss_mb();
        }
        ratios.push(scan.0 / bare.0);
        bare_runs.push(bare);
        scan_runs.push(scan);
        // The last round's store is rescanned below.
        kept_engine = Some((engine, db));
    }
    let (engine, _) = kept_engine.expect("one round at least");
    let median = |v: &mut Vec<(f64, f64)>| {
        v.sort_by(|a, b| a.0.total_cmp(&b.0));
        v[v.len() / 2]
    };
    let (bare, bare_cpu) = median(&mut bare_runs);
    let (scan, scan_cpu) = median(&mut scan_runs);
    ratios.sort_by(f64::total_cmp);
    let ratio = ratios[ratios.len() / 2];
    let (best, worst) = (ratios[0], ratios[ratios.len() - 1]);
    let mut rescans = Vec::new();
    // `--scan-only`: no rescans (for a profiler, with `--rounds 1`).
    let rounds = if args.iter().any(|a| a == "--scan-only") {
        0
    } else {
        5
    };
    for _ in 0..rounds {
        let t = Instant::now();
        let r = engine.scan(std::slice::from_ref(&tree), None).unwrap();
        rescans.push(t.elapsed().as_secs_f64() * 1e3);
        assert_eq!((r.new, r.changed), (0, 0));
    }
    rescans.sort_by(f64::total_cmp);
    if rescans.is_empty() {
        rescans.push(f64::NAN);
    }
    println!(
        "bare read + x509-parser loop   {:8.0} ms   (CPU {bare_cpu:.0} ms; median of {rounds_of_both})",
        bare * 1e3
    );
    println!(
        "scan into an empty store       {:8.0} ms   ({ratio:.2}x the bare loop, rounds {best:.2}x to {worst:.2}x; target <= 1.5x; CPU {scan_cpu:.0} ms on both cores)",
        scan * 1e3,
    );
    println!(
        "rescan, nothing changed        {:8.1} ms median, {:.1} ms worst   (target < 50 ms)",
        rescans[rescans.len() / 2],
        rescans[rescans.len() - 1]
    );
    println!(
        "peak resident memory           {:8.0} MB after the scan, {:.0} MB after the rescans (before scanning: {baseline_rss:.0} MB; target < 100 MB at 100,000 files)",
        scan_rss,
        peak_rss_mb()
    );
}
