//! `certdeck adopt ID` (DS-3): a discovered certificate whose key was found becomes uploaded.
use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::Action;
use clap::Args;

#[derive(Args, Debug)]
pub struct AdoptArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// The key's password, from this file (first line), when the key is encrypted
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<std::path::PathBuf>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &AdoptArgs) -> Exit {
    let password = match &a.key_password_file {
        Some(f) => match crate::sidefile::read_secret_line(f) {
            Ok(p) => Some(p.to_vec()),
            Err(e) => {
                return fail(
                    a.json,
                    super::EXIT_USAGE,
                    &format!("--key-password-file {}: {e}", f.display()),
                )
            }
        },
        None => None,
    };
    let engine = match open_engine(cli, "cli adopt", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    match engine.adopt(&a.id, password) {
        Ok(Action::RecordSaved(summary, note)) => {
            let now = engine.clock().now();
            if a.json {
                match engine.store().get(&summary.id) {
                    Ok(Some(c)) => crate::outln!("{}", super::json::certificate(&c, now)),
                    _ => crate::outln!("{}", serde_json::json!({"id": summary.id})),
                }
            } else {
                crate::outln!("{}: {note}", summary.id);
            }
            0
        }
        Ok(Action::Refused(r)) => refused(a.json, &r),
        Ok(Action::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, &m),
        Ok(_) => fail(a.json, EXIT_UNAVAILABLE, "adopt ended without an outcome"),
        Err(e) => fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    }
}
