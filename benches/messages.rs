//! Message center figures for issue #6 (printed, never asserted), with 100,000 messages stored:
//! the unread count the status bar shows after every tick, the newest page, the unread-only page
//! when a few are unread, a filter that matches rarely, and marking everything read.
//!
//! Run: `cargo bench --bench messages` (`-- --count 20000` for a smaller store). The messages are
//! alarm firings written through `Store::record_evaluation`, the path a real firing takes.
use certdeck::domain::model::TimelineEvent;
use certdeck::domain::rules::alarm::{validate_policy, AlarmInput, Frequency, Objects};
use certdeck::store::alarms::Firing;
use certdeck::store::Store;
use chrono::{Duration, Utc};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Mean and worst of `runs` calls, in milliseconds.
fn time<T>(runs: usize, mut f: impl FnMut() -> T) -> (f64, f64) {
    let (mut total, mut worst) = (0.0f64, 0.0f64);
    for _ in 0..runs {
        let t = Instant::now();
        std::hint::black_box(f());
        let ms = t.elapsed().as_secs_f64() * 1000.0;
        total += ms;
        worst = worst.max(ms);
    }
    (total / runs as f64, worst)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let count: usize = args
        .iter()
        .position(|a| a == "--count")
        .and_then(|i| args.get(i + 1)?.parse().ok())
        .unwrap_or(100_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let store =
        Store::open(&dir.path().join("m.redb"), &dir.path().join("k"), "bench").expect("store");
    let now = Utc::now();
    let policy = validate_policy(
        &AlarmInput {
            name: "bench".into(),
            remarks: String::new(),
            project: None,
            objects: Objects::All,
            threshold_days: None,
            period_secs: None,
            frequency: Frequency::Once,
            recipients: vec![],
            groups: vec![],
        },
        "pbench".into(),
        now,
    )
    .expect("policy");
    store.save_alarm(&policy).expect("save policy");
    let t = Instant::now();
    let mut written = 0;
    while written < count {
        let batch: Vec<Firing> = (written..(written + 1000).min(count))
            .map(|i| Firing {
                cert_id: format!("c{i:07}"),
                event: TimelineEvent {
                    at: now,
                    kind: "alarm".into(),
                    message: if i % 1000 == 7 {
                        format!("alarm \"bench\": rare-{i} expires in 3 day(s)")
                    } else {
                        format!("alarm \"bench\": cert {i} expires in 9 day(s)")
                    },
                },
                deliveries: vec![],
            })
            .collect();
        let entry = policy.entry().expect("enabled");
        store
            .record_evaluation(&policy, &entry, &batch, now)
            .expect("record");
        written += batch.len();
    }
    let write_s = t.elapsed().as_secs_f64();
    println!(
        "{:<40}{count} (written at {:.0}/s)",
        "messages stored",
        count as f64 / write_s
    );
    let (mean, worst) = time(200, || store.unread_messages().unwrap());
    row(&format!("unread count, {count} unread"), mean, worst);
    let (mean, worst) = time(20, || store.messages(500, false, "").unwrap());
    row("newest 500", mean, worst);
    let (mean, worst) = time(20, || store.messages(500, false, "rare-").unwrap());
    row("filter matching 1 in 1000 (scan cap)", mean, worst);
    let t = Instant::now();
    let changed = store.mark_read(None).unwrap();
    println!(
        "{:<40}{:8.1} ms",
        format!("mark all read ({changed})"),
        t.elapsed().as_secs_f64() * 1000.0
    );
    // A few new ones on top of a read history: "unread only" reads just those.
    let entry = policy.entry().expect("enabled");
    let fresh: Vec<Firing> = (0..20)
        .map(|i| Firing {
            cert_id: format!("n{i}"),
            event: TimelineEvent {
                at: now + Duration::minutes(1),
                kind: "alarm".into(),
                message: format!("alarm \"bench\": new {i}"),
            },
            deliveries: vec![],
        })
        .collect();
    store
        .record_evaluation(&policy, &entry, &fresh, now)
        .expect("record");
    let (mean, worst) = time(200, || store.unread_messages().unwrap());
    row(
        &format!("unread count, 20 of {} unread", count + 20),
        mean,
        worst,
    );
    let (mean, worst) = time(50, || store.messages(500, true, "").unwrap());
    row("unread only, 20 unread", mean, worst);
}

fn row(label: &str, mean: f64, worst: f64) {
    println!("{label:<40}{mean:8.3} ms mean {worst:8.3} ms worst");
}
