//! `certdeck config show [--json]`: every setting the configuration file can hold, its
//! effective value and where it came from (flag > environment > file > default).
use super::{Cli, Exit};
use crate::domain::config::{pick, Source};
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct ConfigArgs {
    #[command(subcommand)]
    pub command: ConfigCommand,
}

#[derive(Subcommand, Debug)]
pub enum ConfigCommand {
    /// The effective settings and where each came from
    Show {
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
}

fn env(name: &'static str) -> (Option<String>, &'static str) {
    (std::env::var(name).ok().filter(|v| !v.is_empty()), name)
}

pub fn run(cli: &Cli, a: &ConfigArgs) -> Exit {
    let ConfigCommand::Show { json } = a.command;
    let loaded = crate::config::load();
    let file = crate::config::file();
    let path = crate::config::path();
    let shown = path.display().to_string();
    let text = |p: &std::path::Path| p.display().to_string();
    let none = || "(none)".to_string();
    let mut rows: Vec<(&str, String, Source)> = Vec::new();
    let (db, src) = crate::store::paths::db_path_with_source(cli.db.clone());
    rows.push(("db", text(&db), src));
    let (resolver, src) = pick(
        (cli.resolver.map(|r| r.to_string()), "--resolver"),
        env("CERTDECK_RESOLVER"),
        file.resolver.clone(),
        "the first nameserver of /etc/resolv.conf".to_string(),
    );
    rows.push(("resolver", resolver, src));
    let (socket, src) = pick(
        (
            cli.socket.as_deref().map(text).filter(|_| {
                // clap fills --socket from $CERTDECK_SOCKET too: tell them apart.
                std::env::var_os("CERTDECK_SOCKET").is_none()
            }),
            "--socket",
        ),
        env("CERTDECK_SOCKET"),
        file.socket.as_deref().map(text),
        text(&crate::store::paths::default_socket_path()),
    );
    rows.push(("socket", socket, src));
    let key_file = match std::env::var_os("CERTDECK_KEY_FILE").filter(|v| !v.is_empty()) {
        Some(_) => Source::Env("CERTDECK_KEY_FILE"),
        None => Source::Default,
    };
    rows.push((
        "key_file",
        text(&crate::store::paths::key_file_path()),
        key_file,
    ));
    let from_file = |v: Option<String>, default: String| match v {
        Some(v) => (v, Source::File),
        None => (default, Source::Default),
    };
    let numbers = [
        ("tick.period", file.tick.period, 60),
        ("serve.period", file.serve.period, 1),
    ];
    for (name, v, default) in numbers {
        let (v, s) = from_file(v.map(|n| n.to_string()), default.to_string());
        rows.push((name, v, s));
    }
    let (v, s) = from_file(file.serve.metrics.clone(), none());
    rows.push(("serve.metrics", v, s));
    let roots = crate::engine::discovery::default_roots()
        .iter()
        .map(|r| text(r))
        .collect::<Vec<_>>()
        .join(", ");
    let src = if file.scan.roots.is_some() {
        Source::File
    } else {
        Source::Default
    };
    rows.push(("scan.roots", roots, src));
    let smtp = &file.smtp;
    for (name, v, default) in [
        (
            "smtp.server",
            smtp.server.clone(),
            "127.0.0.1:25".to_string(),
        ),
        ("smtp.security", smtp.security.clone(), "starttls".into()),
        ("smtp.from", smtp.from.clone(), "certdeck@localhost".into()),
        ("smtp.user", smtp.user.clone(), none()),
        (
            "smtp.password_file",
            smtp.password_file.as_deref().map(text),
            none(),
        ),
        ("smtp.ca", smtp.ca.as_deref().map(text), none()),
    ] {
        let (v, s) = from_file(v, default);
        rows.push((name, v, s));
    }
    let exists = matches!(loaded, Ok(l) if l.exists);
    if json {
        let settings: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(k, v, s)| {
                (
                    k.to_string(),
                    serde_json::json!({"value": v, "source": s.describe()}),
                )
            })
            .collect();
        crate::outln!(
            "{}",
            serde_json::json!({"file": shown, "file_exists": exists, "settings": settings})
        );
    } else {
        crate::outln!(
            "configuration file: {shown}{}",
            if exists { "" } else { " (none)" }
        );
        for (k, v, s) in &rows {
            crate::outln!("  {k:<19} {v:<40} {}", s.describe());
        }
    }
    0
}
