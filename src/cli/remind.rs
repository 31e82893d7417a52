use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::Args;

#[derive(Args, Debug)]
pub struct RemindArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

/// Reminds the CA reviewer of an order (RM-1, RM-2); a refusal says why and from when.
pub fn run(cli: &Cli, a: &RemindArgs) -> Exit {
    let engine = match open_engine(cli, "cli remind", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(&mut state, Action::Remind(Some(a.id.clone())));
    match &state.outcome {
        Some(Outcome::Saved { summary }) => {
            if a.json {
                crate::outln!(
                    "{}",
                    serde_json::json!({"id": summary.id, "reminded": true})
                );
            } else {
                crate::outln!(
                    "{}: reminder sent to the {} reviewer",
                    summary.id,
                    summary.brand
                );
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "remind ended without an outcome"),
    }
}
