//! The TUI keeps taking keys while the ticker thread does slow timed work: a hosting replacement
//! whose reload command takes seconds holds the engine, the user's keys are applied at once, and
//! their effects wait at the effect runner and come back when the tick lets go.
mod common;
use certdeck::app::state::{Outcome, Tab};
use certdeck::app::{Action, State};
use certdeck::ca::pki::KeyKind;
use certdeck::domain::resource::{Part, ResourceInput};
use certdeck::domain::rules::hosting::{Association, HostingRequest};
use certdeck::domain::rules::upload::UploadInput;
use certdeck::domain::schedule::TickReport;
use certdeck::engine::clock::ManualClock;
use certdeck::engine::worker::EffectRunner;
use certdeck::engine::Engine;
use certdeck::ui::theme::Theme;
use certdeck::ui::Ui;
use common::{Env, Pki};
use std::sync::Arc;

fn import(engine: &Engine, state: &mut State, pki: &Pki, days: i64) -> String {
    let leaf = pki.leaf(&["busy.example.com"], days);
    engine.dispatch(
        state,
        Action::SubmitUpload(Box::new(UploadInput {
            cert: leaf.cert_pem.into_bytes(),
            key: Some(leaf.key_pem.into_bytes()),
            ..Default::default()
        })),
    );
    match &state.outcome {
        Some(Outcome::Imported { summary, .. }) => summary.id.clone(),
        other => panic!("import: {other:?}"),
    }
}

/// A store with a hosting due now whose replacement's reload takes 3 s; a tick started on
/// another thread holds the engine through it. Returns once the reload has begun.
fn slow_tick_under_way(env: &Env, pki: &Pki) -> (Arc<Engine>, std::thread::JoinHandle<TickReport>) {
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let engine = Arc::new(Engine::new(env.open_store("test"), clock.clone()));
    let mut state = State::default();
    let old = import(&engine, &mut state, pki, 10);
    let new = import(&engine, &mut state, pki, 90);
    let web = env.path("web");
    std::fs::create_dir_all(&web).unwrap();
    let reloading = env.path("reloading");
    engine.dispatch(
        &mut state,
        Action::AddResource(Box::new(ResourceInput {
            name: "web".into(),
            targets: vec![
                (Part::Fullchain, web.join("site.crt")),
                (Part::Key, web.join("site.key")),
            ],
            check_command: Some("none".into()),
            // Slow on purpose once the mark exists: the replacement's reload, not the first deploy.
            reload_command: Some(format!(
                "if [ -e {m}.armed ]; then touch {m}; sleep 3; fi",
                m = reloading.display()
            )),
            ..Default::default()
        })),
    );
    engine.dispatch(
        &mut state,
        Action::Deploy {
            cert: old.clone(),
            resource: "web".into(),
            allow_expired: false,
        },
    );
    assert!(
        matches!(&state.outcome, Some(Outcome::Deployed(r)) if r.succeeded()),
        "{:?}",
        state.outcome
    );
    engine.dispatch(
        &mut state,
        Action::AddHosting(Box::new(HostingRequest {
            old_cert: old,
            association: Association::Specified(new),
            resources: Vec::new(),
            days_before: 5,
            confirm_partial: false,
            notify: true,
            group: None,
        })),
    );
    let hosting = engine.store().hostings().unwrap().remove(0);
    std::fs::write(format!("{}.armed", reloading.display()), "").unwrap();
    clock.set(hosting.replace_at);

    let ticking = {
        let engine = Arc::clone(&engine);
        std::thread::spawn(move || engine.tick_exclusive(None).unwrap())
    };
    let mut waited = 0;
    while !reloading.exists() {
        assert!(waited < 400, "the replacement's reload started");
        std::thread::sleep(std::time::Duration::from_millis(50));
        waited += 1;
    }
    (engine, ticking)
}

#[test]
fn keys_are_applied_while_a_slow_hosting_tick_holds_the_engine_and_their_effects_run_after() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (engine, ticking) = slow_tick_under_way(&env, &pki);
    // The tick is inside the reload, holding the engine. Keys are applied now; their effects go
    // to the effect runner, which waits for the tick.
    let mut ui = Ui::new(State::default(), Theme::plain());
    ui.attach_runner(EffectRunner::spawn(Arc::clone(&engine)).unwrap());
    ui.dispatch(&*engine, Action::SelectTab(Tab::Hosting));
    ui.dispatch(&*engine, Action::Refresh(None));
    assert_eq!(ui.state.tab, Tab::Hosting, "the key took effect at once");
    assert!(ui.outstanding() > 0, "its loads wait for the tick");
    assert!(ui.state.rows.is_empty(), "nothing loaded yet");

    let report = ticking.join().unwrap();
    assert!(
        report.fired.iter().any(|f| f.message.contains("succeeded")),
        "{report:?}"
    );
    let mut waited = 0;
    while ui.outstanding() > 0 {
        assert!(waited < 400, "the waiting loads finish");
        std::thread::sleep(std::time::Duration::from_millis(25));
        ui.run_pending(&*engine);
        waited += 1;
    }
    assert_eq!(
        ui.state.rows.len(),
        2,
        "the waiting loads ran and came back"
    );
}

#[test]
fn an_upload_submitted_just_before_quitting_is_stored_not_dropped() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    // The tick holds the engine, so every upload below is still queued at the runner.
    let (engine, ticking) = slow_tick_under_way(&env, &pki);
    let mut ui = Ui::new(State::default(), Theme::plain());
    ui.attach_runner(EffectRunner::spawn(Arc::clone(&engine)).unwrap());
    for i in 0..5 {
        let leaf = pki.leaf(&[&format!("quit{i}.example.com")], 60);
        ui.dispatch(
            &*engine,
            Action::SubmitUpload(Box::new(UploadInput {
                cert: leaf.cert_pem.into_bytes(),
                key: Some(leaf.key_pem.into_bytes()),
                ..Default::default()
            })),
        );
    }
    assert_eq!(ui.outstanding(), 5, "queued behind the tick");
    // Quit at once: the runner is stopped with its effects still queued.
    ui.dispatch(&*engine, Action::Quit);
    assert!(ui.state.quit);
    let runner = ui.detach_runner().expect("attached");
    assert!(
        runner.stop(std::time::Duration::from_secs(20)),
        "it drains and ends"
    );
    ticking.join().unwrap();
    assert_eq!(
        engine.store().summaries().unwrap().len(),
        2 + 5,
        "the hosting's two certificates and every upload stored"
    );
}
