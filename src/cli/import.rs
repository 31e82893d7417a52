use super::{fail, open_engine, refused, Cli, Exit, EXIT_USAGE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::pem::MAX_INPUT_BYTES;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::upload::UploadInput;
use clap::Args;
use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ImportArgs {
    /// Certificate (PEM chain, DER, or a combined PEM holding the key too)
    #[arg(long, value_name = "FILE")]
    pub cert: PathBuf,
    /// Private key (PKCS#1, SEC1, PKCS#8 or encrypted PKCS#8)
    #[arg(long, value_name = "FILE")]
    pub key: Option<PathBuf>,
    /// File whose first line is the password of an encrypted key
    #[arg(long, value_name = "FILE")]
    pub key_password_file: Option<PathBuf>,
    /// SM2: the encryption certificate
    #[arg(long, value_name = "FILE", requires = "enc_key")]
    pub enc_cert: Option<PathBuf>,
    /// SM2: the encryption private key
    #[arg(long, value_name = "FILE", requires = "enc_cert")]
    pub enc_key: Option<PathBuf>,
    /// Name shown in lists (default: the subject CN)
    #[arg(long)]
    pub name: Option<String>,
    /// Tag as KEY=VALUE (repeatable)
    #[arg(long = "tag", value_name = "K=V")]
    pub tags: Vec<String>,
    /// Project the certificate belongs to
    #[arg(long)]
    pub project: Option<String>,
    /// Print one JSON object
    #[arg(long)]
    pub json: bool,
}

/// Reads at most one byte past the limit, so a huge file is refused without being slurped.
fn read_field(path: &Path, field: Field) -> Result<Vec<u8>, Result<Refusal, String>> {
    let file = std::fs::File::open(path).map_err(|e| Err(format!("{}: {e}", path.display())))?;
    let mut buf = Vec::new();
    file.take(MAX_INPUT_BYTES as u64 + 1)
        .read_to_end(&mut buf)
        .map_err(|e| Err(format!("{}: {e}", path.display())))?;
    if buf.len() > MAX_INPUT_BYTES {
        return Err(Ok(Refusal::new(
            "U-7",
            field,
            format!(
                "{} is larger than 1 MiB ({MAX_INPUT_BYTES} bytes)",
                path.display()
            ),
        )));
    }
    Ok(buf)
}

pub fn run(cli: &Cli, a: &ImportArgs) -> Exit {
    let json = a.json;
    let read = |p: &Option<PathBuf>, f: Field| p.as_ref().map(|p| read_field(p, f)).transpose();
    let collected = (|| {
        Ok::<_, Result<Refusal, String>>(UploadInput {
            name: a.name.clone(),
            standard: None,
            cert: read_field(&a.cert, Field::Cert)?,
            key: read(&a.key, Field::Key)?,
            key_password: a
                .key_password_file
                .as_ref()
                .map(|p| {
                    crate::sidefile::read_secret_line(p)
                        .map(|s| s.to_vec())
                        .map_err(|e| Err(format!("--key-password-file {}: {e}", p.display())))
                })
                .transpose()?,
            enc_cert: read(&a.enc_cert, Field::EncCert)?,
            enc_key: read(&a.enc_key, Field::EncKey)?,
            tags: a.tags.clone(),
            project: a.project.clone(),
        })
    })();
    let input = match collected {
        Ok(i) => i,
        Err(Ok(r)) => return refused(json, &r),
        Err(Err(msg)) => return fail(json, EXIT_USAGE, &msg),
    };
    let engine = match open_engine(cli, "cli import", json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    state.extra_anchors = match engine.trust_anchor_subjects() {
        Ok(a) => a,
        Err(e) => return fail(json, super::EXIT_UNAVAILABLE, &e.to_string()),
    };
    engine.dispatch(&mut state, Action::SubmitUpload(Box::new(input)));
    match state.outcome {
        Some(Outcome::Imported { summary, warnings }) => {
            let cert = match engine.store().get(&summary.id) {
                Ok(Some(c)) => c,
                _ => {
                    return fail(
                        json,
                        super::EXIT_UNAVAILABLE,
                        "imported, but the record could not be read back",
                    )
                }
            };
            if json {
                let mut obj = super::json::certificate(&cert, state.now);
                obj["warnings"] = serde_json::to_value(&warnings).expect("warnings serialise");
                crate::outln!("{obj}");
            } else {
                crate::outln!(
                    "imported {} \"{}\" ({})",
                    cert.id,
                    cert.name,
                    cert.domains.join(", ")
                );
                for w in &warnings {
                    crate::outln!("warning: {} [{}]", w.message, w.code);
                }
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(json, &r),
        Some(Outcome::Failed(m)) => fail(json, super::EXIT_UNAVAILABLE, &m),
        _ => fail(
            json,
            super::EXIT_UNAVAILABLE,
            "import ended without an outcome",
        ),
    }
}
