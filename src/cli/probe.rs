//! `certdeck probe HOST:PORT` (DS-5): what an endpoint really serves.
use super::{fail, Cli, Exit, EXIT_UNAVAILABLE};
use crate::deploy::probe::{probe, Starttls};
use clap::Args;

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// HOST:PORT
    pub address: String,
    /// The name sent in the handshake (SNI); the host by default
    #[arg(long, value_name = "NAME")]
    pub sni: Option<String>,
    /// Speak this protocol before TLS: smtp, imap, pop3, ftp, postgres (their well-known ports
    /// do so by themselves)
    #[arg(long, value_name = "PROTO", value_parser = Starttls::parse)]
    pub starttls: Option<Starttls>,
    /// The whole probe's deadline in seconds
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=120))]
    pub timeout: u64,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &ProbeArgs) -> Exit {
    let Some((host, port)) = a
        .address
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
    else {
        return fail(
            a.json,
            super::EXIT_USAGE,
            &format!("{}: give HOST:PORT", a.address),
        );
    };
    let sni = a.sni.clone().unwrap_or_else(|| host.to_string());
    let starttls = a.starttls.or_else(|| Starttls::of_port(port));
    let probed = match probe(
        &a.address,
        &sni,
        starttls,
        std::time::Duration::from_secs(a.timeout),
    ) {
        Ok(p) => p,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e),
    };
    let summary = crate::domain::probe::summarize(&probed.chain);
    // DS-5: drift against the file the last scan found configured for this port and name (the
    // store is read only when it can be opened: a running TUI holding it leaves drift unknown).
    let configured = match super::io::shared_engine() {
        Some(e) => e.configured_for(port, &sni).ok().flatten(),
        None => {
            let db = crate::store::paths::resolve_db_path(cli.db.clone());
            db.exists()
                .then(|| {
                    crate::store::Store::open(
                        &db,
                        &crate::store::paths::key_file_path(),
                        "cli probe",
                    )
                    .ok()
                })
                .flatten()
                .map(|s| {
                    crate::engine::Engine::new(
                        s,
                        std::sync::Arc::new(crate::engine::clock::SystemClock),
                    )
                })
                .and_then(|e| e.configured_for(port, &sni).ok().flatten())
        }
    };
    let served_fp = summary.chain.first().map(|c| c.fingerprint_sha256.clone());
    let drift = match (&configured, &served_fp) {
        (Some((path, fp)), Some(served))
            if crate::domain::probe::is_drift(Some(fp), Some(served)) =>
        {
            serde_json::json!({
            "configured_fingerprint_sha256": fp,
            "served_fingerprint_sha256": served,
            "path": path,
            })
        }
        _ => serde_json::Value::Null,
    };
    let at =
        |t: &crate::domain::time::Timestamp| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    if a.json {
        crate::outln!(
            "{}",
            serde_json::json!({
                "address": a.address,
                "sni": sni,
                "tls_version": probed.tls_version,
                "verified": probed.verified.is_ok(),
                "verify_error": probed.verified.as_ref().err(),
                "chain": summary.chain.iter().map(|c| serde_json::json!({
                    "subject": c.subject,
                    "issuer": c.issuer,
                    "not_after": at(&c.not_after),
                    "fingerprint_sha256": c.fingerprint_sha256,
                })).collect::<Vec<_>>(),
                "earliest_expiry": summary.earliest_expiry.as_ref().map(at),
                "drift": drift,
            })
        );
    } else {
        crate::outln!(
            "{} (SNI {sni}): {}, {}",
            a.address,
            probed.tls_version,
            match &probed.verified {
                Ok(()) => "verified against the system trust store".to_string(),
                Err(e) => format!("NOT verified: {e}"),
            }
        );
        for c in &summary.chain {
            crate::outln!(
                "  {}  until {}  {}",
                c.fingerprint_sha256,
                at(&c.not_after),
                c.subject
            );
        }
        if let Some(t) = summary.earliest_expiry {
            crate::outln!("earliest expiry in the chain: {}", at(&t));
        }
        if !drift.is_null() {
            crate::outln!(
                "DRIFT: {} holds {}, but {} is served (renewed on disk, not reloaded?)",
                drift["path"],
                drift["configured_fingerprint_sha256"],
                drift["served_fingerprint_sha256"]
            );
        }
    }
    0
}
