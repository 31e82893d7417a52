use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::Args;

#[derive(Args, Debug)]
pub struct IgnoreArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

/// `ignore ID` (IG-1: 30 days or less left) and `unignore ID`.
pub fn run(cli: &Cli, a: &IgnoreArgs, on: bool) -> Exit {
    let engine = match open_engine(cli, "cli ignore", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(
        &mut state,
        Action::SetIgnored {
            id: Some(a.id.clone()),
            on: Some(on),
        },
    );
    match &state.outcome {
        Some(Outcome::Saved { summary }) => {
            if a.json {
                let obj = engine
                    .store()
                    .get(&summary.id)
                    .ok()
                    .flatten()
                    .map(|c| super::json::certificate(&c, state.now))
                    .unwrap_or_default();
                crate::outln!("{obj}");
            } else {
                crate::outln!(
                    "{}: {}",
                    summary.id,
                    if summary.ignored {
                        "ignored"
                    } else {
                        "no longer ignored"
                    }
                );
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "ignore ended without an outcome"),
    }
}
