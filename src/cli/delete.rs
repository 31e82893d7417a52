use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::Args;

#[derive(Args, Debug)]
pub struct DeleteArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &DeleteArgs) -> Exit {
    let engine = match open_engine(cli, "cli delete", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(&mut state, Action::Refresh(Some(a.id.clone())));
    engine.dispatch(
        &mut state,
        Action::Delete {
            id: Some(a.id.clone()),
            confirmed: a.yes,
        },
    );
    if let Some(Outcome::NeedsConfirmation(plan)) = &state.outcome {
        let text = plan.confirmation_text();
        if let Some(stop) = super::confirm(a.json, "D-3", &text, "Delete?", "not deleted") {
            return stop;
        }
        engine.dispatch(
            &mut state,
            Action::Delete {
                id: Some(a.id.clone()),
                confirmed: true,
            },
        );
    }
    match state.outcome {
        Some(Outcome::Deleted { id }) => {
            if a.json {
                crate::outln!("{}", serde_json::json!({"deleted": id}));
            } else {
                crate::outln!("deleted {id}");
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, &r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, &m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "delete ended without an outcome"),
    }
}
