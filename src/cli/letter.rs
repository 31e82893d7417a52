use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct LetterArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// The signed confirmation letter: JPG, PNG or PDF, at most 1.4 MB (AR-7)
    pub file: PathBuf,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &LetterArgs) -> Exit {
    if let Err(code) = super::side_file_ok(a.json, "letter", &a.file, u64::MAX) {
        return code;
    }
    let engine = match open_engine(cli, "cli letter", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(
        &mut state,
        Action::AttachLetter {
            id: Some(a.id.clone()),
            path: a.file.clone(),
        },
    );
    match &state.outcome {
        Some(Outcome::Saved { summary }) => {
            let order = engine.store().order(&summary.id).ok().flatten();
            if a.json {
                let mut obj = engine
                    .store()
                    .get(&summary.id)
                    .ok()
                    .flatten()
                    .map(|c| super::json::certificate(&c, state.now))
                    .unwrap_or_default();
                if let Some(o) = &order {
                    obj["order"] = super::apply::order_json(o);
                }
                crate::outln!("{obj}");
            } else {
                crate::outln!(
                    "{}: letter received; now {}",
                    summary.id,
                    summary.status.as_str()
                );
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "letter ended without an outcome"),
    }
}
