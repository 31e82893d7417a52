//! `certdeck serve [--socket PATH] [--metrics ADDR]` (SV-1, SV-3, SV-4): owns the database,
//! runs the timed rules every second (the tick timer is not needed while it runs), runs the
//! commands clients send on its socket and, with `--metrics`, serves `/metrics` and
//! `/healthz`. Logs go to stderr, journald-friendly. Ends cleanly on SIGTERM, SIGINT or SIGHUP
//! after the tick in hand, removing its socket.
use super::{fail, open_engine, Cli, Exit, EXIT_USAGE};
use crate::service::{log, Level};
use clap::Args;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Args, Debug)]
pub struct ServeArgs {
    #[command(flatten)]
    pub dns: crate::cli::ResolverArg,
    /// Serve /metrics (SV-3) and /healthz (SV-4) on this address, e.g. 127.0.0.1:9793
    /// (default: the configuration file's [serve] metrics, else none)
    #[arg(long, value_name = "ADDR")]
    pub metrics: Option<std::net::SocketAddr>,
    /// Seconds between ticks (default: the configuration file's [serve] period, else 1)
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub period: Option<u64>,
    /// Do not run the timed rules: a timer's `certdeck tick` runs them, through the socket
    /// (`--period` is then the timer's, for /healthz)
    #[arg(long)]
    pub no_tick: bool,
}

pub fn run(cli: &Cli, a: &ServeArgs) -> Exit {
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGHUP,
    ] {
        if let Err(e) = signal_hook::flag::register(sig, Arc::clone(&stop)) {
            return fail(false, EXIT_USAGE, &format!("signals: {e}"));
        }
    }
    let engine = match open_engine(cli, "serve", false) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let (period_secs, _) = period_of(a);
    let period = Duration::from_secs(period_secs);
    let socket_path = super::socket_path(cli);
    let _socket = match crate::service::socket::serve(
        &socket_path,
        Arc::clone(&engine),
        super::identity(cli),
    ) {
        Ok(s) => s,
        Err(e) => return fail(false, super::EXIT_UNAVAILABLE, &e.to_string()),
    };
    log(
        Level::Info,
        &format!("commands on {} (0600)", socket_path.display()),
    );
    if let Some(addr) = metrics_of(a).0 {
        let listener = match std::net::TcpListener::bind(addr) {
            Ok(l) => l,
            Err(e) => return fail(false, EXIT_USAGE, &format!("--metrics {addr}: {e}")),
        };
        if let Err(e) = crate::service::http::spawn(listener, Arc::clone(&engine), period) {
            return fail(false, EXIT_USAGE, &format!("--metrics {addr}: {e}"));
        }
        log(
            Level::Info,
            &format!("metrics on http://{addr}/metrics, health on http://{addr}/healthz"),
        );
    }
    if a.no_tick {
        log(
            Level::Info,
            &format!(
                "not ticking: `certdeck tick` runs the timed rules (pid {})",
                std::process::id()
            ),
        );
    } else {
        log(
            Level::Info,
            &format!("ticking every {period_secs} s (pid {})", std::process::id()),
        );
    }
    while !stop.load(Ordering::SeqCst) {
        let started = Instant::now();
        if a.no_tick {
            std::thread::sleep(Duration::from_millis(50));
            continue;
        }
        match engine.tick_exclusive(None) {
            Ok(r) => {
                for f in &r.fired {
                    log(
                        Level::Info,
                        &format!("{} {}: {}", f.kind.as_str(), f.cert_id, f.message),
                    );
                }
                for f in &r.failed {
                    log(
                        Level::Warning,
                        &format!(
                            "not done, tried again: {} {}: {}",
                            f.kind.as_str(),
                            f.cert_id,
                            f.message
                        ),
                    );
                }
                if let Some(rescan) = &r.rescan {
                    log(Level::Info, rescan);
                }
            }
            Err(e) => log(Level::Error, &format!("tick: {e}")),
        }
        // The rest of the period, in small steps so a signal ends the wait at once.
        while !stop.load(Ordering::SeqCst) && started.elapsed() < period {
            std::thread::sleep(Duration::from_millis(50).min(period));
        }
    }
    log(Level::Info, "stopped");
    0
}

/// Seconds between the service's ticks: `--period`, else `[serve] period`, else 1.
pub fn period_of(a: &ServeArgs) -> (u64, crate::domain::config::Source) {
    crate::domain::config::pick(
        (a.period, "--period"),
        (None, ""),
        crate::config::file().serve.period,
        1,
    )
}

/// Where /metrics is served: `--metrics`, else `[serve] metrics` (checked when the file was
/// read), else nowhere.
pub fn metrics_of(a: &ServeArgs) -> (Option<std::net::SocketAddr>, crate::domain::config::Source) {
    let file = crate::config::file()
        .serve
        .metrics
        .as_deref()
        .and_then(|m| m.parse().ok());
    crate::domain::config::pick(
        (a.metrics.map(Some), "--metrics"),
        (None, ""),
        file.map(Some),
        None,
    )
}
