//! Subcommands for scripts and cron. Exit codes: 0 done, 1 refused (the rule is named),
//! 2 usage error, 3 could not run (database busy, I/O).
pub mod account;
pub mod acme;
pub mod adopt;
pub mod alarm;
pub mod apply;
pub mod ca;
pub mod cancel;
pub mod catalogue;
pub mod config;
pub mod crash;
pub mod db;
pub mod delete;
pub mod deploy;
pub mod export;
pub mod forecast;
pub mod hosting;
pub mod ignore;
pub mod import;
pub mod io;
pub mod json;
pub mod letter;
pub mod list;
pub mod messages;
pub mod metrics;
pub mod outbox;
pub mod probe;
pub mod reissue;
pub mod remind;
pub mod renew;
pub mod resource;
pub mod revoke;
pub mod scan;
pub mod serve;
pub mod shell;
pub mod show;
pub mod tick;
pub mod trust;
pub mod tui;
pub mod validate;

use crate::app::State;
use crate::engine::clock::{Clock, ManualClock, SystemClock};
use crate::engine::Engine;
use crate::store::{paths, Store};
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

pub const EXIT_REFUSED: i32 = 1;
pub const EXIT_USAGE: i32 = 2;
pub const EXIT_UNAVAILABLE: i32 = 3;

#[derive(Parser, Debug)]
#[command(
    name = "certdeck",
    version,
    about = "The whole life of TLS certificates, from a terminal"
)]
pub struct Cli {
    /// Database file (else $CERTDECK_DB, else the XDG data dir)
    #[arg(long, global = true, value_name = "PATH")]
    pub db: Option<PathBuf>,
    /// Open the TUI on a fresh temporary database seeded with demo certificates
    #[arg(long)]
    pub demo: bool,
    /// DNS resolver for the TUI's validation checks, HOST:PORT (else $CERTDECK_RESOLVER, else
    /// /etc/resolv.conf)
    #[arg(long, value_name = "HOST:PORT")]
    pub resolver: Option<std::net::SocketAddr>,
    /// The socket `serve` (or a TUI) listens on and commands go through (else $CERTDECK_SOCKET,
    /// else $XDG_RUNTIME_DIR/certdeck.sock)
    #[arg(
        long,
        global = true,
        value_name = "PATH",
        env = "CERTDECK_SOCKET",
        hide_env = true
    )]
    pub socket: Option<PathBuf>,
    /// Pretend the time is this RFC 3339 instant (tests, what-if checks)
    #[arg(long, global = true, hide = true, value_name = "RFC3339")]
    pub now: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Upload (host) a certificate you already have
    Import(import::ImportArgs),
    /// List certificates, soonest expiry first
    List(list::ListArgs),
    /// Find the certificates on this machine and watch them (DS-1..DS-4)
    Scan(scan::ScanArgs),
    /// What an endpoint really serves: chain, expiry, TLS version, trust (DS-5)
    Probe(probe::ProbeArgs),
    /// Take a discovered certificate, with the key found for it, under certdeck's care (DS-3)
    Adopt(adopt::AdoptArgs),
    /// Show everything about one certificate
    Show(show::ShowArgs),
    /// Delete a certificate (D-1..D-3)
    Delete(delete::DeleteArgs),
    /// Cancel the review of an order not yet issued; its fee is refunded (D-1)
    Cancel(cancel::CancelArgs),
    /// Private roots you trust, so chains ending at them are complete (U-2)
    Trust(trust::TrustArgs),
    /// Run every timed rule that is due, once (for cron or a systemd timer)
    Tick(tick::TickArgs),
    /// List the timed rules that will fire in the coming days
    Forecast(forecast::ForecastArgs),
    /// Prometheus metrics: every certificate's expiry and certdeck's state (SV-3)
    Metrics(metrics::MetricsArgs),
    /// Run as a service: tick every second, serve /metrics and /healthz (SV-1, SV-3, SV-4)
    Serve(serve::ServeArgs),
    /// Show the balance and ledger, or top up
    Account(account::AccountArgs),
    /// Order a certificate from the CA backend (the sandbox CA by default)
    Apply(apply::ApplyArgs),
    /// The products that can be ordered, with prices and review times
    Products(catalogue::ProductsArgs),
    /// DNS zones certdeck manages (validation records are added automatically, AR-6)
    Zones(catalogue::ZonesArgs),
    /// Renew by hand now, or switch auto-renewal on/off (AR-1..AR-8)
    Renew(renew::RenewArgs),
    /// Check an order's domain validation now
    Validate(validate::ValidateArgs),
    /// Attach the signed confirmation letter of an OV/EV order (AR-7)
    Letter(letter::LetterArgs),
    /// Remind the CA reviewer of an order (RM-1, RM-2)
    Remind(remind::RemindArgs),
    /// Stop expiry messages for a certificate that expires within 30 days (IG-1, IG-2)
    Ignore(ignore::IgnoreArgs),
    /// Resume expiry messages for a certificate
    Unignore(ignore::IgnoreArgs),
    /// Write a certificate, its chain and key as a server wants them (keys 0600; refused under RV-2)
    Export(export::ExportArgs),
    /// Revoke an issued certificate and its reissues (RV-1..RV-7); cannot be cancelled
    Revoke(revoke::RevokeArgs),
    /// Reissue an issued certificate with the same validity (RI-1..RI-7)
    Reissue(reissue::ReissueArgs),
    /// Places certificates are deployed to: add, edit, list, history, rm
    Resource(resource::ResourceArgs),
    /// Automatic replacement of a certificate on its resources (H-1..H-7): add, edit, list, cancel, retry, rollback
    Hosting(hosting::HostingArgs),
    /// Deploy a certificate to a resource: backup, write, check, reload, probe, roll back on failure
    Deploy(deploy::DeployArgs),
    /// The message center: what the rules told you (renewals, validations, hostings, revocations, expiries)
    Messages(messages::MessagesArgs),
    /// Expiry alarm policies (AL-1, AL-2): add, edit, list, rm, enable, disable, test, group add|list|rm
    Alarm(alarm::AlarmArgs),
    /// Notification deliveries with their state; retry a failed one: outbox, outbox retry ID
    Outbox(outbox::OutboxArgs),
    /// The sandbox CA (simulated, trusted by nothing but certdeck): crl, certs
    Ca(ca::CaArgs),
    /// The database file: check (every record), backup (a consistent copy)
    Db(db::DbArgs),
    /// ACME certificate authorities (Let's Encrypt, ZeroSSL, Google, step-ca): account add|list|rm
    Acme(acme::AcmeArgs),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions(shell::CompletionsArgs),
    /// Print the manual page (roff): certdeck man | man -l -
    Man,
    /// The configuration file ($XDG_CONFIG_HOME/certdeck/config.toml): the effective settings
    Config(config::ConfigArgs),
}

/// `--resolver`, only on the commands that look names up in DNS: validation checks and ACME
/// dns-01 propagation (#12).
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ResolverArg {
    /// DNS resolver for validation checks, HOST:PORT (else $CERTDECK_RESOLVER, else
    /// /etc/resolv.conf)
    #[arg(long, value_name = "HOST:PORT")]
    pub resolver: Option<std::net::SocketAddr>,
}

impl Command {
    /// The `--resolver` given to this command, if it takes one.
    pub fn resolver(&self) -> Option<std::net::SocketAddr> {
        match self {
            Command::Validate(a) => a.dns.resolver,
            Command::Apply(a) => a.dns.resolver,
            Command::Renew(a) => a.dns.resolver,
            Command::Tick(a) => a.dns.resolver,
            Command::Serve(a) => a.dns.resolver,
            _ => None,
        }
    }
}

/// What a subcommand ended with: an exit code; it has printed everything it had to.
pub type Exit = i32;

pub fn clock_from(now: Option<&str>) -> Result<Arc<dyn Clock>, String> {
    match now {
        None => Ok(Arc::new(SystemClock)),
        Some(s) => chrono::DateTime::parse_from_rfc3339(s)
            .map(|t| Arc::new(ManualClock::new(t.with_timezone(&chrono::Utc))) as Arc<dyn Clock>)
            .map_err(|e| format!("--now {s}: not an RFC 3339 time ({e})")),
    }
}

/// Opens the engine for a subcommand, or prints why it cannot and returns the exit code. A
/// command sent through the socket (SV-1, SV-2) gets the engine of the process that owns the
/// database instead.
pub fn open_engine(cli: &Cli, role: &str, json: bool) -> Result<Arc<Engine>, Exit> {
    if let Some(shared) = io::shared_engine() {
        return Ok(shared);
    }
    let clock = clock_from(cli.now.as_deref()).map_err(|e| fail(json, EXIT_USAGE, &e))?;
    let path = paths::resolve_db_path(cli.db.clone());
    let store = Store::open(&path, &paths::key_file_path(), role)
        .map_err(|e| fail(json, EXIT_UNAVAILABLE, &e.to_string()))?;
    warn_about_files(&store);
    Ok(Arc::new(Engine::new(store, clock)))
}

/// Says on stderr what the user should know about the database and key files.
pub fn warn_about_files(store: &Store) {
    for w in store.warnings() {
        crate::errln!("certdeck: warning: {w}");
    }
}

/// Prints a failure that is not a rule refusal and returns its exit code.
pub fn fail(json: bool, code: Exit, message: &str) -> Exit {
    if json {
        crate::outln!(
            "{}",
            serde_json::json!({"error": {"rule": null, "field": null, "line": null, "message": message}})
        );
    } else {
        crate::errln!("certdeck: {message}");
    }
    code
}

/// An irreversible step asks first: on a terminal the user answers `question` after `text`;
/// otherwise (a script, `--json`) it is refused under `rule`, saying what would happen and to
/// pass --yes. `None`: confirmed, go on; `Some(exit)`: stop with that code.
pub fn confirm(json: bool, rule: &str, text: &str, question: &str, declined: &str) -> Option<Exit> {
    let interactive = io::console().stdin_is_terminal() && !json;
    if !interactive {
        let r = crate::domain::refusal::Refusal::new(
            rule,
            crate::domain::refusal::Field::Id,
            format!("{text} Pass --yes to confirm."),
        );
        return Some(refused(json, &r));
    }
    crate::err!("{text}\n{question} [y/N] ");
    let answer = io::console().read_line().unwrap_or_default();
    if matches!(answer.trim(), "y" | "Y" | "yes") {
        None
    } else {
        crate::errln!("{declined}");
        Some(EXIT_REFUSED)
    }
}

/// Prints a refusal (`{"error": {rule, field, line, message}}` with --json) and returns 1.
pub fn refused(json: bool, r: &crate::domain::refusal::Refusal) -> Exit {
    if json {
        // `rule` is a SPEC rule or null (#12: no internal tags).
        crate::outln!(
            "{}",
            serde_json::json!({"error": {
                "rule": r.spec_rule(),
                "field": r.field,
                "line": r.line,
                "message": r.message,
            }})
        );
    } else {
        crate::errln!("certdeck: refused: {r}");
    }
    EXIT_REFUSED
}

/// A file an option names must be readable (and not over `cap`): otherwise the same usage error,
/// exit 2, from every command (#12), naming the option and the file.
pub fn side_file_ok(json: bool, flag: &str, path: &std::path::Path, cap: u64) -> Result<(), Exit> {
    crate::sidefile::check(path, cap)
        .map_err(|e| fail(json, EXIT_USAGE, &format!("{flag} {}: {e}", path.display())))
}

/// The socket given by `--socket` or `$CERTDECK_SOCKET`, else the configuration file's.
pub fn chosen_socket(cli: &Cli) -> Option<PathBuf> {
    cli.socket
        .clone()
        .or_else(|| crate::config::file().socket.clone())
}

/// The socket this invocation serves or looks for.
pub fn socket_path(cli: &Cli) -> PathBuf {
    chosen_socket(cli).unwrap_or_else(paths::default_socket_path)
}

/// Which database, clock and resolver this invocation means (a service runs a client's command
/// only when they are its own).
pub fn identity(cli: &Cli) -> crate::domain::service::Identity {
    crate::domain::service::Identity {
        db: paths::canonical(&paths::resolve_db_path(cli.db.clone())),
        now: cli.now.clone(),
        resolver: std::env::var("CERTDECK_RESOLVER")
            .ok()
            .filter(|r| !r.is_empty())
            .or_else(|| crate::config::file().resolver.clone()),
    }
}

/// Commands that can run in the process that owns the database: all but the service itself
/// and `db`, which works on the file.
fn forwardable(command: &Command) -> bool {
    match command {
        Command::Serve(_)
        | Command::Db(_)
        | Command::Completions(_)
        | Command::Man
        | Command::Config(_) => false,
        // A tick at a time of its own is a what-if on this process's own engine.
        Command::Tick(t) => t.now.is_none(),
        _ => true,
    }
}

/// Commands that only read: they run beside others instead of waiting for the engine.
fn read_only(command: &Command) -> bool {
    matches!(
        command,
        Command::List(_)
            | Command::Show(_)
            | Command::Forecast(_)
            | Command::Metrics(_)
            | Command::Probe(_)
            | Command::Products(_)
            | Command::Zones(_)
    )
}

/// SV-1, SV-2: the command runs where the database is open (a service or a TUI answering on the
/// socket), with the same output and exit code; else here.
pub fn run_or_forward(cli: &Cli, command: &Command) -> Exit {
    if forwardable(command) {
        let argv: Option<Vec<String>> = std::env::args_os().map(|a| a.into_string().ok()).collect();
        if let Some(argv) = argv {
            let sockets = match chosen_socket(cli) {
                Some(p) => vec![p],
                None => paths::socket_candidates(),
            };
            for socket in sockets {
                let forwarded =
                    crate::service::client::forward(&socket, identity(cli), argv.clone());
                if let Some(code) = forwarded {
                    return code;
                }
            }
        }
    }
    run(cli, command)
}

/// A command a client sent through the socket, on this process's `engine` (with the client's
/// console: see `io::with_remote`).
pub fn run_forwarded(engine: &Engine, argv: &[String]) -> Exit {
    use clap::Parser;
    let cli = match Cli::try_parse_from(argv) {
        Ok(c) => c,
        Err(e) => {
            let text = e.render().to_string();
            if e.use_stderr() {
                crate::err!("{text}");
            } else {
                crate::outln!("{text}");
            }
            return e.exit_code();
        }
    };
    let command = match &cli.command {
        Some(c) if forwardable(c) => c,
        _ => {
            crate::errln!("certdeck: this runs only by itself, not through the socket");
            return EXIT_USAGE;
        }
    };
    if read_only(command) {
        return run(&cli, command);
    }
    let code = {
        let _hold = engine.hold();
        run(&cli, command)
    };
    engine.note_change(None);
    code
}

pub fn run(cli: &Cli, command: &Command) -> Exit {
    match command {
        Command::Import(a) => import::run(cli, a),
        Command::List(a) => list::run(cli, a),
        Command::Scan(a) => scan::run(cli, a),
        Command::Probe(a) => probe::run(cli, a),
        Command::Adopt(a) => adopt::run(cli, a),
        Command::Show(a) => show::run(cli, a),
        Command::Delete(a) => delete::run(cli, a),
        Command::Cancel(a) => cancel::run(cli, a),
        Command::Trust(a) => trust::run(cli, a),
        Command::Completions(a) => shell::completions(a),
        Command::Man => shell::man(),
        Command::Config(a) => config::run(cli, a),
        Command::Tick(a) => tick::run(cli, a),
        Command::Forecast(a) => forecast::run(cli, a),
        Command::Metrics(a) => metrics::run(cli, a),
        Command::Serve(a) => serve::run(cli, a),
        Command::Account(a) => account::run(cli, a),
        Command::Apply(a) => apply::run(cli, a),
        Command::Products(a) => catalogue::products(cli, a),
        Command::Zones(a) => catalogue::zones(cli, a),
        Command::Renew(a) => renew::run(cli, a),
        Command::Validate(a) => validate::run(cli, a),
        Command::Letter(a) => letter::run(cli, a),
        Command::Remind(a) => remind::run(cli, a),
        Command::Ignore(a) => ignore::run(cli, a, true),
        Command::Unignore(a) => ignore::run(cli, a, false),
        Command::Export(a) => export::run(cli, a),
        Command::Revoke(a) => revoke::run(cli, a),
        Command::Ca(a) => ca::run(cli, a),
        Command::Db(a) => db::run(cli, a),
        Command::Acme(a) => acme::run(cli, a),
        Command::Reissue(a) => reissue::run(cli, a),
        Command::Resource(a) => resource::run(cli, a),
        Command::Deploy(a) => deploy::run(cli, a),
        Command::Hosting(a) => hosting::run(cli, a),
        Command::Messages(a) => messages::run(cli, a),
        Command::Alarm(a) => alarm::run(cli, a),
        Command::Outbox(a) => outbox::run(cli, a),
    }
}

pub fn new_state(engine: &Engine, label: &str) -> State {
    let mut state = State {
        now: engine.clock().now(),
        db_label: label.to_string(),
        ..State::default()
    };
    if !engine.store().warnings().is_empty() {
        state.say(
            crate::app::state::Level::Warn,
            engine.store().warnings().join("; "),
        );
    }
    state
}
