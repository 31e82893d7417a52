//! The default command: the TUI, on the user's database or (with --demo) a seeded temporary one.
use super::{clock_from, fail, Cli, Exit, EXIT_UNAVAILABLE, EXIT_USAGE};
use crate::engine::Engine;
use crate::store::{paths, Store};

pub fn run(cli: &Cli) -> Exit {
    // Without a terminal (a script, a pipe, cron) say what to use instead of failing on the tty.
    let terminal = std::fs::File::open("/dev/tty").is_ok()
        && std::io::IsTerminal::is_terminal(&std::io::stdout());
    if !terminal {
        crate::errln!(
            "certdeck: the TUI needs a terminal (this is not one); from scripts use the CLI: certdeck list, certdeck --help"
        );
        return EXIT_USAGE;
    }
    if let Err(e) = color_eyre::install() {
        return fail(false, EXIT_UNAVAILABLE, &e.to_string());
    }
    let clock = match clock_from(cli.now.as_deref()) {
        Ok(c) => c,
        Err(e) => return fail(false, EXIT_USAGE, &e),
    };
    // SV-1: when a service (or another TUI) holds the database, this TUI runs through it.
    if !cli.demo {
        if let Some(code) = attach_to_holder(cli, &clock) {
            return code;
        }
    }
    let (store, label, _tempdir) = if cli.demo {
        match crate::demo::seed::open_demo(clock.now()) {
            Ok((store, dir)) => {
                // File validation in the demo goes to the demo's own loopback server.
                let challenges = store
                    .open_orders()
                    .unwrap_or_default()
                    .into_iter()
                    .flat_map(|(_, o)| o.challenges)
                    .collect();
                if let Ok(addr) = crate::demo::http::serve_challenges(challenges) {
                    std::env::set_var("CERTDECK_VALIDATION_HTTP", addr.to_string());
                }
                (store, "demo database".to_string(), Some(dir))
            }
            Err(e) => return fail(false, EXIT_UNAVAILABLE, &e),
        }
    } else {
        let path = paths::resolve_db_path(cli.db.clone());
        match Store::open(&path, &paths::key_file_path(), "tui") {
            Ok(s) => (s, path.display().to_string(), None),
            Err(e) => return fail(false, EXIT_UNAVAILABLE, &e.to_string()),
        }
    };
    // The demo runs on real time plus an offset the user moves (`+`, `:advance 1d`).
    let clock: std::sync::Arc<dyn crate::engine::clock::Clock> = if cli.demo && cli.now.is_none() {
        std::sync::Arc::new(crate::engine::clock::DemoClock::default())
    } else {
        clock
    };
    let engine = Engine::new(store, clock);
    if let Some(dir) = &_tempdir {
        if let Err(e) = crate::demo::hosting::seed(&engine, dir.path()) {
            return fail(
                false,
                EXIT_UNAVAILABLE,
                &format!("seeding the demo hosting: {e}"),
            );
        }
        if let Err(e) = crate::demo::alarms::seed(&engine) {
            return fail(
                false,
                EXIT_UNAVAILABLE,
                &format!("seeding the demo alarm: {e}"),
            );
        }
    }
    let mut state = super::new_state(&engine, &label);
    let engine = std::sync::Arc::new(engine);
    // SV-2: CLI commands run here while this TUI holds the database (not for the demo's
    // throw-away one).
    let _socket = if cli.demo {
        None
    } else {
        let path = super::socket_path(cli);
        match crate::service::socket::serve(
            &path,
            std::sync::Arc::clone(&engine),
            super::identity(cli),
        ) {
            Ok(s) => Some(s),
            Err(e) => {
                state.say(
                    crate::app::state::Level::Warn,
                    format!("CLI commands cannot reach this TUI: {e}"),
                );
                None
            }
        }
    };
    finish(crate::ui::run(crate::ui::Session::Local(engine), state))
}

/// Runs the TUI through the process that holds the database, if one answers on the socket;
/// `None` when none does (this TUI then opens the database itself).
fn attach_to_holder(
    cli: &Cli,
    clock: &std::sync::Arc<dyn crate::engine::clock::Clock>,
) -> Option<Exit> {
    let sockets = match super::chosen_socket(cli) {
        Some(p) => vec![p],
        None => paths::socket_candidates(),
    };
    for socket in sockets {
        match crate::service::remote::attach(
            &socket,
            super::identity(cli),
            std::sync::Arc::clone(clock),
        ) {
            Ok(Some(remote)) => {
                let mut state = crate::app::State {
                    now: clock.now(),
                    db_label: remote.label(),
                    ..crate::app::State::default()
                };
                state.say(
                    crate::app::state::Level::Info,
                    format!(
                        "working through {}: another certdeck holds the database",
                        socket.display()
                    ),
                );
                let host: std::sync::Arc<dyn crate::engine::host::Host> =
                    std::sync::Arc::new(remote);
                return Some(finish(crate::ui::run(
                    crate::ui::Session::Remote(host),
                    state,
                )));
            }
            Ok(None) => continue,
            Err(why) => return Some(fail(false, EXIT_UNAVAILABLE, &why)),
        }
    }
    None
}

fn finish(ended: color_eyre::Result<()>) -> Exit {
    match ended {
        Ok(()) => 0,
        Err(e) => {
            crate::errln!("certdeck: {e}");
            EXIT_UNAVAILABLE
        }
    }
}
