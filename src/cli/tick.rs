use super::{clock_from, fail, Cli, Exit, EXIT_UNAVAILABLE, EXIT_USAGE};
use crate::engine::Engine;
use crate::store::{paths, Store, StoreError};
use clap::Args;

#[derive(Args, Debug)]
pub struct TickArgs {
    /// Run the rules as if it were this RFC 3339 time
    #[arg(long, value_name = "RFC3339")]
    pub now: Option<String>,
    #[arg(long)]
    pub json: bool,
}

/// Runs everything due once and exits (cron, systemd timer). When an interactive session holds
/// the database, that session's tick loop is advancing the rules: exit 0 and say so.
pub fn run(cli: &Cli, a: &TickArgs) -> Exit {
    let clock = match clock_from(a.now.as_deref().or(cli.now.as_deref())) {
        Ok(c) => c,
        Err(e) => return fail(a.json, EXIT_USAGE, &e),
    };
    let path = paths::resolve_db_path(cli.db.clone());
    let store = match Store::open(&path, &paths::key_file_path(), "cli tick") {
        Ok(s) => s,
        Err(StoreError::AlreadyOpen { holder, .. }) => {
            let who = holder.unwrap_or_else(|| "another certdeck process".into());
            let msg = format!("nothing to do: the database is open in {who}, and that session is advancing the timed rules");
            if a.json {
                println!(
                    "{}",
                    serde_json::json!({"held_by": who, "fired": [], "message": msg})
                );
            } else {
                println!("{msg}");
            }
            return 0;
        }
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    let engine = Engine::new(store, clock);
    let report = match engine.tick() {
        Ok(r) => r,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    if a.json {
        println!(
            "{}",
            serde_json::json!({"now": engine.clock().now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true), "fired": report.fired, "dropped": report.dropped})
        );
    } else {
        println!(
            "{} rule(s) fired, {} stale entr(ies) dropped",
            report.fired.len(),
            report.dropped
        );
        for f in &report.fired {
            println!(
                "{}  {:<8}  {:<8}  {}",
                f.due.format("%Y-%m-%d %H:%M"),
                f.kind.as_str(),
                f.cert_id,
                f.message
            );
        }
    }
    0
}
