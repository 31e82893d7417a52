use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::action::{CsrSource, ReissueSpec};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::reissue::KeyChoice;
use clap::Args;

#[derive(Args, Debug)]
pub struct ReissueArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// `original` (same key), `generate:ALG` (rsa2048, rsa3072, rsa4096, p256, p384, sm2) or the path of a PEM CSR
    #[arg(long, default_value = "original")]
    pub csr: String,
    /// Protect the key certdeck keeps with the password in this file (encrypted PKCS#8); such a
    /// key cannot be deployed automatically
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<std::path::PathBuf>,
    /// Why the certificate is reissued (kept in the timeline)
    #[arg(long, default_value = "")]
    pub reason: String,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

fn csr_source(s: &str) -> Result<CsrSource, Refusal> {
    let refuse = |m: String| Refusal::new("RI-6", Field::Cert, m);
    if s == "original" {
        return Ok(CsrSource::Original);
    }
    if let Some(alg) = s.strip_prefix("generate:") {
        return KeyChoice::parse(alg)
            .map(CsrSource::Generate)
            .map_err(refuse);
    }
    let bytes = crate::sidefile::read_capped(std::path::Path::new(s), crate::sidefile::PEM_CAP)
        .map_err(|e| refuse(format!("--csr {s}: {e}")))?;
    String::from_utf8(bytes)
        .map(CsrSource::Pasted)
        .map_err(|_| refuse(format!("--csr {s}: not a PEM text file")))
}

/// `reissue ID --csr original|generate:ALG|FILE [--reason R]` (RI-1..RI-7).
pub fn run(cli: &Cli, a: &ReissueArgs) -> Exit {
    let is_file = a.csr != "original" && !a.csr.starts_with("generate:");
    if is_file {
        let path = std::path::Path::new(&a.csr);
        if let Err(code) = super::side_file_ok(a.json, "--csr", path, crate::sidefile::PEM_CAP) {
            return code;
        }
    }
    if let Some(p) = &a.key_password_file {
        if let Err(code) = super::side_file_ok(
            a.json,
            "--key-password-file",
            p,
            crate::sidefile::SECRET_CAP,
        ) {
            return code;
        }
    }
    let csr = match csr_source(&a.csr) {
        Ok(c) => c,
        Err(r) => return refused(a.json, &r),
    };
    let key_password = match &a.key_password_file {
        None => None,
        Some(p) => match crate::sidefile::read_secret_line(p) {
            Ok(b) => Some(b),
            Err(e) => {
                let r = Refusal::new(
                    "RI-6",
                    Field::Key,
                    format!("--key-password-file {}: {e}", p.display()),
                );
                return refused(a.json, &r);
            }
        },
    };
    let engine = match open_engine(cli, "cli reissue", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    let spec = ReissueSpec {
        id: a.id.clone(),
        csr,
        reason: a.reason.clone(),
        key_password,
    };
    engine.dispatch(&mut state, Action::Reissue(Box::new(spec)));
    match &state.outcome {
        Some(Outcome::Reissued { records, message }) => {
            let new_id = records.get(1).map(|s| s.id.clone()).unwrap_or_default();
            if a.json {
                let store = engine.store();
                let order = store.order(&new_id).ok().flatten();
                let obj = serde_json::json!({
                    "id": new_id,
                    "reissued_from": a.id,
                    "order": order.as_ref().map(super::apply::order_json),
                    "records": records.iter()
                        .filter_map(|s| store.get(&s.id).ok().flatten())
                        .map(|c| super::json::certificate(&c, state.now))
                        .collect::<Vec<_>>(),
                });
                crate::outln!("{obj}");
            } else {
                crate::outln!("{}: {message}", a.id);
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "reissue ended without an outcome"),
    }
}
