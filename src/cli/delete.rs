use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::Args;

#[derive(Args, Debug)]
pub struct DeleteArgs {
    pub id: String,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
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
        let interactive = super::io::console().stdin_is_terminal() && !a.json;
        if !interactive {
            let r = crate::domain::refusal::Refusal::new(
                "D-3",
                crate::domain::refusal::Field::Id,
                format!("{} Pass --yes to confirm.", plan.confirmation_text()),
            );
            return refused(a.json, &r);
        }
        crate::err!("{}\nDelete? [y/N] ", plan.confirmation_text());
        let answer = super::io::console().read_line().unwrap_or_default();
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            crate::errln!("not deleted");
            return super::EXIT_REFUSED;
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
