//! `certdeck trust add|list|rm` (U-2): private roots, so chains that end at them are complete.
use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE, EXIT_USAGE};
use crate::domain::trust::TrustedRoot;
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct TrustArgs {
    #[command(subcommand)]
    pub command: TrustCommand,
}

#[derive(Subcommand, Debug)]
pub enum TrustCommand {
    /// Trust the CA certificates in a PEM (or DER) file: a private root or intermediate
    Add {
        /// A PEM (or DER) file of CA certificates
        file: PathBuf,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// The roots you added, and how many anchors the built-in and system stores give
    List {
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Stop trusting a root (its fingerprint, or 8+ leading hex digits of it, or its subject)
    Rm {
        /// Its fingerprint (12 hex digits are enough) or exact subject
        root: String,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
}

fn root_json(r: &TrustedRoot) -> serde_json::Value {
    serde_json::json!({
        "fingerprint_sha256": r.fingerprint_sha256,
        "subject": r.subject,
        "not_after": r.not_after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "added_at": r.added_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

fn line(r: &TrustedRoot) -> String {
    format!(
        "{}  until {}  {}",
        &r.fingerprint_sha256[..16.min(r.fingerprint_sha256.len())],
        r.not_after.format("%Y-%m-%d"),
        r.subject
    )
}

pub fn run(cli: &Cli, a: &TrustArgs) -> Exit {
    let json = match &a.command {
        TrustCommand::Add { json, .. }
        | TrustCommand::List { json }
        | TrustCommand::Rm { json, .. } => *json,
    };
    let engine = match open_engine(cli, "cli trust", json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    match &a.command {
        TrustCommand::Add { file, .. } => {
            let bytes = match crate::sidefile::read_capped(file, crate::sidefile::PEM_CAP) {
                Ok(b) => b,
                Err(e) => return fail(json, EXIT_USAGE, &format!("{}: {e}", file.display())),
            };
            match engine.trust_add(&bytes) {
                Ok(Ok((roots, added))) => {
                    if json {
                        crate::outln!(
                            "{}",
                            serde_json::json!({
                                "added": added,
                                "roots": roots.iter().map(root_json).collect::<Vec<_>>(),
                            })
                        );
                    } else {
                        for r in &roots {
                            crate::outln!("trusted: {}", line(r));
                        }
                        if added < roots.len() {
                            crate::outln!("({} already trusted)", roots.len() - added);
                        }
                    }
                    0
                }
                Ok(Err(r)) => refused(json, &r),
                Err(e) => fail(json, EXIT_UNAVAILABLE, &e.to_string()),
            }
        }
        TrustCommand::List { .. } => {
            let roots = match engine.store().trusted_roots() {
                Ok(r) => r,
                Err(e) => return fail(json, EXIT_UNAVAILABLE, &e.to_string()),
            };
            let mozilla = crate::domain::cert::mozilla_anchor_subjects().len();
            let system = crate::engine::trust::system_anchor_subjects().len();
            if json {
                crate::outln!(
                    "{}",
                    serde_json::json!({
                        "roots": roots.iter().map(root_json).collect::<Vec<_>>(),
                        "built_in": mozilla,
                        "system": system,
                    })
                );
            } else {
                crate::outln!(
                    "{mozilla} built-in roots (Mozilla), {system} from the system store, certdeck's own CA roots, and {} you added:",
                    roots.len()
                );
                for r in &roots {
                    crate::outln!("  {}", line(r));
                }
            }
            0
        }
        TrustCommand::Rm { root, .. } => match engine.trust_remove(root) {
            Ok(Ok(r)) => {
                if json {
                    crate::outln!("{}", serde_json::json!({"removed": root_json(&r)}));
                } else {
                    crate::outln!("no longer trusted: {}", line(&r));
                }
                0
            }
            Ok(Err(r)) => refused(json, &r),
            Err(e) => fail(json, EXIT_UNAVAILABLE, &e.to_string()),
        },
    }
}
