use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::action::ExportRequest;
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::export::Format;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ExportArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// pem (cert, chain, fullchain, privkey), nginx, apache, haproxy or pkcs12
    #[arg(long, value_parser = Format::parse, default_value = "pem")]
    pub format: Format,
    /// Directory to write into (created 0700 if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// Replace files that exist
    #[arg(long)]
    pub force: bool,
    /// PKCS#12: the file holding its password (first line)
    #[arg(long, value_name = "FILE")]
    pub password_file: Option<PathBuf>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &ExportArgs) -> Exit {
    if let Some(p) = &a.password_file {
        if let Err(code) =
            super::side_file_ok(a.json, "--password-file", p, crate::sidefile::SECRET_CAP)
        {
            return code;
        }
    }
    let password = match &a.password_file {
        None => None,
        Some(p) => match crate::sidefile::read_secret_text(p) {
            Ok(text) => Some(text),
            Err(e) => {
                let r = Refusal::new(
                    "EXPORT",
                    Field::Password,
                    format!("--password-file {}: {e}", p.display()),
                );
                return refused(a.json, &r);
            }
        },
    };
    let engine = match open_engine(cli, "cli export", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    let req = ExportRequest {
        id: a.id.clone(),
        format: a.format,
        dir: a.out.clone(),
        force: a.force,
        password,
    };
    engine.dispatch(&mut state, Action::Export(Box::new(req)));
    match &state.outcome {
        Some(Outcome::Exported { id, files }) => {
            let mode = |secret: bool| if secret { "0600" } else { "0644" };
            if a.json {
                let files: Vec<_> = files
                    .iter()
                    .map(|(p, s)| serde_json::json!({"path": p, "mode": mode(*s)}))
                    .collect();
                crate::outln!("{}", serde_json::json!({"id": id, "files": files}));
            } else {
                for (p, s) in files {
                    crate::outln!("wrote {} ({})", p.display(), mode(*s));
                }
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "export ended without an outcome"),
    }
}
