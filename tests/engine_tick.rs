//! The tick engine against a real store and a clock the test moves: rules fire at their edge,
//! once; what is due survives restarts; `certdeck tick` and `forecast` read the schedule.
mod common;
use certdeck::app::state::Outcome;
use certdeck::app::{Action, State};
use certdeck::ca::pki::KeyKind;
use certdeck::domain::rules::upload::UploadInput;
use certdeck::engine::clock::{Clock, ManualClock};
use certdeck::engine::Engine;

use chrono::{DateTime, Duration, Utc};
use common::{Env, Pki};
use std::sync::Arc;

fn engine(env: &Env, clock: Arc<ManualClock>) -> Engine {
    Engine::new(env.open_store("test"), clock)
}

/// Imports a leaf that expires `days` from now; returns its id and not_after.
fn import(engine: &Engine, pki: &Pki, domain: &str, days: i64) -> (String, DateTime<Utc>) {
    let leaf = pki.leaf(&[domain], days);
    let mut state = State::default();
    let input = UploadInput {
        cert: leaf.cert_pem.into_bytes(),
        key: Some(leaf.key_pem.into_bytes()),
        ..Default::default()
    };
    engine.dispatch(&mut state, Action::SubmitUpload(Box::new(input)));
    match state.outcome {
        Some(Outcome::Imported { summary, .. }) => (summary.id, summary.not_after.unwrap()),
        other => panic!("import failed: {other:?}"),
    }
}

#[test]
fn expiry_fires_once_at_not_after_exactly() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let engine = engine(&env, clock.clone());
    let (id, end) = import(&engine, &pki, "edge.example", 10);
    let (_, later) = import(&engine, &pki, "later.example", 40);

    clock.set(end - Duration::seconds(1));
    assert!(
        engine.tick().unwrap().fired.is_empty(),
        "one second early: nothing"
    );
    clock.set(end);
    let report = engine.tick().unwrap();
    assert_eq!(report.fired.len(), 1);
    assert_eq!(report.fired[0].cert_id, id);
    assert!(
        engine.tick().unwrap().fired.is_empty(),
        "the same tick twice changes nothing more"
    );
    let expired_events = engine
        .store()
        .timeline(&id)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == "expired")
        .count();
    assert_eq!(expired_events, 1);
    // The other certificate is still scheduled, and fires when its time comes.
    let upcoming = engine.store().upcoming(end, later, 10).unwrap();
    assert_eq!(upcoming.len(), 1);
    clock.set(later + Duration::days(1));
    assert_eq!(engine.tick().unwrap().fired.len(), 1);
}

#[test]
fn due_work_survives_a_restart_and_deletion_unschedules() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let (kept, gone, end) = {
        let engine = engine(&env, clock.clone());
        let (kept, end) = import(&engine, &pki, "kept.example", 5);
        let (gone, _) = import(&engine, &pki, "gone.example", 5);
        let mut state = State::default();
        engine.dispatch(&mut state, Action::Refresh(None));
        engine.dispatch(
            &mut state,
            Action::Delete {
                id: Some(gone.clone()),
                confirmed: true,
            },
        );
        assert!(matches!(state.outcome, Some(Outcome::Deleted { .. })));
        (kept, gone, end)
        // The process "stops" here without ever ticking.
    };
    clock.set(end + Duration::days(3));
    let engine = engine(&env, clock.clone());
    let report = engine.tick().unwrap();
    let ids: Vec<&str> = report.fired.iter().map(|f| f.cert_id.as_str()).collect();
    assert_eq!(
        ids,
        [kept.as_str()],
        "a deleted certificate left nothing behind: {gone}"
    );
    assert_eq!(report.dropped, 0);
}

#[test]
fn the_tui_tick_action_runs_due_work_and_reports_it() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let engine = engine(&env, clock.clone());
    let (id, end) = import(&engine, &pki, "tui.example", 2);
    let mut state = State::default();
    engine.dispatch(&mut state, Action::Refresh(None));
    clock.set(end + Duration::hours(1));
    engine.dispatch(&mut state, Action::Tick);
    let text = state
        .status
        .as_ref()
        .map(|s| s.text.clone())
        .unwrap_or_default();
    assert!(
        text.contains("1 timed rule fired") && text.contains(&id),
        "{text}"
    );
    assert_eq!(state.counts.1, 1, "the expired count moved with time");
    // The demo's advance moves a clock that allows it, then ticks.
    engine.dispatch(&mut state, Action::Advance(Duration::days(1)));
    assert_eq!(clock.now(), end + Duration::hours(25));
}

#[test]
fn cli_tick_and_forecast() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["cron.example"], 20);
    let (code, v) = env.import(
        &env.write("c.pem", &leaf.cert_pem),
        Some(&env.write("k.pem", &leaf.key_pem)),
        &[],
    );
    assert_eq!(code, 0);
    let id = v["id"].as_str().unwrap().to_string();
    let (_, forecast) = env.json(&["forecast", "--days", "30"]);
    assert_eq!(forecast[0]["cert_id"], id.as_str());
    assert_eq!(forecast[0]["kind"], "expiry");
    let (_, none) = env.json(&["forecast", "--days", "10"]);
    assert_eq!(none, serde_json::json!([]));

    let later = (chrono::Utc::now() + Duration::days(25)).to_rfc3339();
    // Before any tick ran, the expiry of day 20 is overdue at day 25: the forecast shows it.
    let (_, overdue) = env.json(&["forecast", "--days", "1", "--now", &later]);
    assert_eq!(
        (overdue[0]["kind"].as_str(), overdue[0]["overdue"].as_bool()),
        (Some("expiry"), Some(true)),
        "{overdue}"
    );
    let (code, first) = env.json(&["tick", "--now", &later]);
    assert_eq!(code, 0);
    assert_eq!(first["fired"].as_array().unwrap().len(), 1, "{first}");
    let (_, second) = env.json(&["tick", "--now", &later]);
    assert_eq!(second["fired"], serde_json::json!([]), "idempotent");
    let (_, after) = env.json(&["forecast", "--days", "1", "--now", &later]);
    assert_eq!(
        after,
        serde_json::json!([]),
        "nothing overdue once it ran: {after}"
    );
    let out = env.run(&["tick", "--now", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn rule_t1_the_timeline_says_when_late_work_was_due_and_when_it_ran() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let expiring = |name: &str, days: i64| {
        let leaf = pki.leaf(&[name], days);
        let (code, v) = env.import(
            &env.write(&format!("{name}.pem"), &leaf.cert_pem),
            Some(&env.write(&format!("{name}.key"), &leaf.key_pem)),
            &[],
        );
        assert_eq!(code, 0, "{v}");
        (
            v["id"].as_str().unwrap().to_string(),
            v["not_after"].as_str().unwrap().to_string(),
        )
    };
    let expired_event = |id: &str, now: &str| {
        let (_, shown) = env.json(&["show", id, "--now", now]);
        shown["timeline"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["kind"] == "expired")
            .cloned()
            .unwrap_or_else(|| panic!("expired in {shown}"))
    };
    // A tick twenty days after the expiry: dated at the expiry, ran at the tick.
    let (late, not_after) = expiring("late.example", 5);
    let tick = (chrono::Utc::now() + Duration::days(25))
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    env.json(&["tick", "--now", &tick]);
    let e = expired_event(&late, &tick);
    assert_eq!(
        (e["at"].as_str(), e["ran_at"].as_str()),
        (Some(not_after.as_str()), Some(tick.as_str())),
        "{e}"
    );
    // On time (within the minute): no "ran at".
    let (on_time, not_after) = expiring("ontime.example", 30);
    env.json(&["tick", "--now", &not_after]);
    let e = expired_event(&on_time, &not_after);
    assert!(e["ran_at"].is_null(), "{e}");
}

#[test]
fn cli_tick_defers_to_an_interactive_session() {
    let env = Env::new();
    let holder = env.open_store("tui");
    let (code, v) = env.json(&["tick"]);
    assert_eq!(code, 0, "{v}");
    assert!(v["held_by"]
        .as_str()
        .unwrap()
        .contains(&format!("pid {}", std::process::id())));
    assert!(v["message"]
        .as_str()
        .unwrap()
        .contains("advancing the timed rules"));
    drop(holder);
}

#[test]
fn cli_tick_reports_a_holder_that_stopped_ticking_with_exit_3() {
    let env = Env::new();
    let holder = env.open_store("tui");
    // The holder's last tick was two minutes ago: it is stuck (or a long command holds it).
    let owner = std::fs::File::options()
        .write(true)
        .open(format!("{}.owner", env.db().display()))
        .unwrap();
    owner
        .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(120))
        .unwrap();
    let started = std::time::Instant::now();
    let out = env.run(&["tick", "--period", "1"]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no rule ran") && err.contains("has not ticked for"),
        "{err}"
    );
    assert!(
        started.elapsed() >= std::time::Duration::from_secs(1),
        "it waited one period"
    );
    // A tick of the holder makes the next run defer to it again.
    holder.heartbeat();
    let (code, v) = env.json(&["tick", "--period", "1"]);
    assert_eq!(code, 0, "{v}");
    drop(holder);
}

#[test]
fn the_forecast_view_lists_what_the_schedule_holds() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let clock = Arc::new(ManualClock::new(Utc::now()));
    let engine = engine(&env, clock.clone());
    let (id, end) = import(&engine, &pki, "soon.example", 20);
    import(&engine, &pki, "far.example", 200);
    let mut state = State::default();
    engine.dispatch(&mut state, Action::RunCommand("forecast 30".into()));
    match &state.overlay {
        certdeck::app::state::Overlay::Forecast { days, entries } => {
            assert_eq!(*days, 30);
            assert_eq!(entries.len(), 1, "only what falls in the window");
            assert_eq!(entries[0].entry.cert_id, id);
            assert_eq!(entries[0].entry.due.timestamp(), end.timestamp());
            assert_eq!(entries[0].name, "soon.example");
        }
        other => panic!("no forecast: {other:?}"),
    }
    engine.dispatch(&mut state, Action::Back);
    assert!(matches!(state.overlay, certdeck::app::state::Overlay::None));
}

/// T-1 property: what a tick does depends on when things were due, not on when ticks ran.
/// One world is ticked once at the end; its twin at random times in between (a minute apart
/// at the finest): they end in the same state — the same statuses, timeline events dated the
/// same, messages and ledger entries the same.
mod t1 {
    use super::*;
    use certdeck::domain::account::Money;
    use certdeck::domain::order::ValidationMethod;
    use certdeck::domain::rules::apply::ApplyRequest;
    use proptest::prelude::*;
    use proptest::test_runner::{Config, TestCaseError, TestRunner};

    #[derive(Debug, Clone)]
    struct World {
        /// Orders in a managed zone: validated at once, issued when the review ends.
        managed: usize,
        /// Orders validated by hand that nobody validates: a reminder, then failure (AR-6).
        by_hand: usize,
        /// Uploaded certificates ending this many minutes after the start.
        uploads: Vec<i64>,
        /// Minutes from the start to the single tick.
        horizon: i64,
        /// The twin's tick times, in minutes (sorted, below the horizon).
        ticks: Vec<i64>,
    }

    fn worlds() -> impl Strategy<Value = World> {
        (
            0usize..3,
            0usize..3,
            prop::collection::vec(1i64..12 * 24 * 60, 0..4),
            (3 * 24 * 60i64)..(12 * 24 * 60),
            prop::collection::vec(1i64..12 * 24 * 60, 1..40),
        )
            .prop_map(|(managed, by_hand, uploads, horizon, mut ticks)| {
                ticks.retain(|t| *t < horizon);
                ticks.sort_unstable();
                World {
                    managed,
                    by_hand,
                    uploads,
                    horizon,
                    ticks,
                }
            })
    }

    /// Builds `w` at `t0` on a fresh database, every upload from `pems`.
    fn build(
        w: &World,
        t0: DateTime<Utc>,
        pems: &[(String, String)],
    ) -> (Env, Arc<ManualClock>, Engine) {
        let env = Env::new();
        let clock = Arc::new(ManualClock::new(t0));
        let engine = engine(&env, clock.clone());
        engine
            .store()
            .set_managed_zones(&["example.com".to_string()])
            .unwrap();
        let mut state = State::default();
        engine.dispatch(&mut state, Action::TopUp(Money(1_000_000)));
        state.managed_zones = engine.store().managed_zones().unwrap();
        state.prices = engine.store().prices().unwrap();
        let orders = (0..w.managed)
            .map(|i| (format!("m{i}.example.com"), None))
            .chain(
                (0..w.by_hand).map(|i| (format!("h{i}.example.net"), Some(ValidationMethod::Dns))),
            );
        for (domain, validation) in orders {
            let req = ApplyRequest {
                domain,
                sans: vec![],
                product: "dnspod-dv".into(),
                validation,
                years: 1,
                name: None,
                tags: vec![],
                project: None,
            };
            engine.dispatch(&mut state, Action::Apply(Box::new(req)));
            assert!(
                matches!(state.outcome, Some(Outcome::Ordered { .. })),
                "{:?}",
                state.outcome
            );
        }
        for (cert, key) in pems {
            let input = UploadInput {
                cert: cert.clone().into_bytes(),
                key: Some(key.clone().into_bytes()),
                ..Default::default()
            };
            engine.dispatch(&mut state, Action::SubmitUpload(Box::new(input)));
        }
        (env, clock, engine)
    }

    /// What the two worlds are compared on: everything but random ids, serials and keys.
    fn state_of(engine: &Engine) -> Vec<String> {
        let store = engine.store();
        let mut out = Vec::new();
        let mut summaries = store.summaries().unwrap();
        summaries.sort_by(|a, b| a.name.cmp(&b.name));
        let name_of: std::collections::HashMap<String, String> = summaries
            .iter()
            .map(|s| (s.id.clone(), s.name.clone()))
            .collect();
        for s in &summaries {
            out.push(format!("{} {:?} {:?}", s.name, s.status, s.not_after));
            for e in store.timeline(&s.id).unwrap() {
                out.push(format!("  {} {} {}", s.name, e.at.to_rfc3339(), e.kind));
            }
        }
        let mut messages: Vec<String> = store
            .messages(10_000, false, "")
            .unwrap()
            .into_iter()
            .map(|m| {
                let cert = m.cert_id.and_then(|id| name_of.get(&id).cloned());
                format!("message {} {} {:?}", m.at.to_rfc3339(), m.kind, cert)
            })
            .collect();
        messages.sort();
        out.extend(messages);
        let mut ledger: Vec<String> = store
            .ledger(10_000)
            .unwrap()
            .into_iter()
            .map(|l| format!("ledger {} {:?} {}", l.at.to_rfc3339(), l.kind, l.amount.0))
            .collect();
        ledger.sort();
        out.extend(ledger);
        out
    }

    #[test]
    fn rule_t1_one_late_tick_leaves_the_state_that_ticking_all_along_would() {
        let pki = Pki::new(KeyKind::P256);
        // Whole seconds, as the schedule keeps them.
        let t0 = DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap();
        let cases = std::env::var("CERTDECK_T1_CASES")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(12);
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        runner
            .run(&worlds(), |w| {
                let pems: Vec<(String, String)> = w
                    .uploads
                    .iter()
                    .enumerate()
                    .map(|(i, minutes)| {
                        let leaf = pki.inter.issue(
                            &[&format!("u{i}.example.org")],
                            KeyKind::P256,
                            t0 - Duration::days(30),
                            t0 + Duration::minutes(*minutes),
                        );
                        (pki.full_chain(&leaf), leaf.key_pem)
                    })
                    .collect();
                let end = t0 + Duration::minutes(w.horizon);
                let (_once_env, once_clock, once) = build(&w, t0, &pems);
                once_clock.set(end);
                once.tick().unwrap();
                let (_along_env, along_clock, along) = build(&w, t0, &pems);
                for m in &w.ticks {
                    along_clock.set(t0 + Duration::minutes(*m));
                    along.tick().unwrap();
                }
                along_clock.set(end);
                along.tick().unwrap();
                let (a, b) = (state_of(&once), state_of(&along));
                if a != b {
                    let diff: Vec<String> = a
                        .iter()
                        .zip(&b)
                        .filter(|(x, y)| x != y)
                        .map(|(x, y)| format!("once:  {x}\nalong: {y}"))
                        .take(5)
                        .collect();
                    return Err(TestCaseError::fail(format!(
                        "{w:?}\n{} vs {} lines\n{}",
                        a.len(),
                        b.len(),
                        diff.join("\n")
                    )));
                }
                Ok(())
            })
            .unwrap();
    }
}
