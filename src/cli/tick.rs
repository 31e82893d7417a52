use super::{clock_from, fail, Cli, Exit, EXIT_UNAVAILABLE, EXIT_USAGE};
use crate::engine::Engine;
use crate::store::{holder_idle, paths, Store, StoreError};
use clap::Args;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct TickArgs {
    #[command(flatten)]
    pub dns: crate::cli::ResolverArg,
    /// Run the rules as if it were this RFC 3339 time
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
    /// The timer's period in seconds: how long a held database may go without a tick before
    /// this run reports it (exit 3)
    /// (default: the configuration file's [tick] period, else 60)
    #[arg(long, value_name = "SECONDS")]
    pub period: Option<u64>,
}

/// Runs everything due once and exits (cron, systemd timer). When another process holds the
/// database and ticks (a TUI, `serve`), that process is advancing the rules: exit 0 and say so.
/// When the holder has not ticked for a whole period (stuck, or a long command that holds it),
/// wait up to one period for it, then say so on stderr and exit 3, so the timer's journal shows
/// that no rule ran.
pub fn run(cli: &Cli, a: &TickArgs) -> Exit {
    if let Some(engine) = super::io::shared_engine() {
        return tick_and_report(&engine, a);
    }
    let clock = match clock_from(a.now.as_deref().or(cli.now.as_deref())) {
        Ok(c) => c,
        Err(e) => return fail(a.json, EXIT_USAGE, &e),
    };
    let path = paths::resolve_db_path(cli.db.clone());
    let period = Duration::from_secs(period_of(a).0.max(1));
    let waited_since = Instant::now();
    let store = loop {
        match Store::open(&path, &paths::key_file_path(), "cli tick") {
            Ok(s) => {
                super::warn_about_files(&s);
                break s;
            }
            Err(StoreError::AlreadyOpen { holder, .. }) => {
                let who = holder.unwrap_or_else(|| "another certdeck process".into());
                let idle = holder_idle(&path);
                if let Some(idle) = idle.filter(|i| *i < period) {
                    let msg = format!("nothing to do: the database is open in {who}, which is advancing the timed rules (last tick {} s ago)", idle.as_secs());
                    if a.json {
                        crate::outln!(
                            "{}",
                            serde_json::json!({"held_by": who, "fired": [], "message": msg})
                        );
                    } else {
                        crate::outln!("{msg}");
                    }
                    return 0;
                }
                if waited_since.elapsed() >= period {
                    let msg = format!(
                        "no rule ran: the database is held by {who}, which has not ticked for {} (more than one period of {} s); if it is stuck, stop it",
                        idle.map(|i| format!("{} s", i.as_secs()))
                            .unwrap_or_else(|| "an unknown time".into()),
                        period.as_secs()
                    );
                    if a.json {
                        // The journal of a timer shows stderr; JSON goes to stdout as always.
                        crate::errln!("certdeck: {msg}");
                    }
                    return fail(a.json, EXIT_UNAVAILABLE, &msg);
                }
                std::thread::sleep(Duration::from_millis(250));
            }
            Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
        }
    };
    tick_and_report(&Engine::new(store, clock), a)
}

/// Runs everything due on `engine` once and says what fired.
fn tick_and_report(engine: &Engine, a: &TickArgs) -> Exit {
    let report = match engine.tick().and_then(|r| engine.note_tick().map(|_| r)) {
        Ok(r) => r,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    if a.json {
        crate::outln!(
            "{}",
            serde_json::json!({"now": engine.clock().now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "fired": report.fired, "failed": report.failed, "dropped": report.dropped, "rescan": report.rescan})
        );
    } else {
        crate::outln!(
            "{} rule(s) fired, {} stale entr(ies) dropped",
            report.fired.len(),
            report.dropped
        );
        for f in &report.fired {
            crate::outln!("{}", note_line(f));
        }
        if let Some(r) = &report.rescan {
            crate::outln!("{r}");
        }
        // Work that could not run stays scheduled and is tried again; the timer's journal
        // shows why.
        for f in &report.failed {
            crate::errln!(
                "certdeck: not done, tried again next tick: {}",
                note_line(f)
            );
        }
    }
    0
}

fn note_line(f: &crate::domain::schedule::FiredNote) -> String {
    format!(
        "{}  {:<8}  {:<8}  {}",
        f.due.format("%Y-%m-%d %H:%M"),
        f.kind.as_str(),
        f.cert_id,
        f.message
    )
}

/// The timer's period: `--period`, else the configuration file's `[tick] period`, else 60 s.
pub fn period_of(a: &TickArgs) -> (u64, crate::domain::config::Source) {
    crate::domain::config::pick(
        (a.period, "--period"),
        (None, ""),
        crate::config::file().tick.period,
        60,
    )
}
