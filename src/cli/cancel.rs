//! `certdeck cancel ID [--yes] [--json]` (D-1): cancels the review of an order not yet issued,
//! after a confirmation; its fee is refunded and it can then be deleted.
use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::Action;
use clap::Args;

#[derive(Args, Debug)]
pub struct CancelArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// Do not ask for confirmation
    #[arg(long)]
    pub yes: bool,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &CancelArgs) -> Exit {
    let engine = match open_engine(cli, "cli cancel", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let plan = match engine.plan_cancel(&a.id) {
        Ok(Ok(p)) => p,
        Ok(Err(r)) => return refused(a.json, &r),
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    if !a.yes {
        let text = plan.confirmation_text();
        let asked = super::confirm(a.json, "D-1", &text, "Cancel the review?", "not cancelled");
        if let Some(stop) = asked {
            return stop;
        }
    }
    match engine.cancel_review(&a.id) {
        Ok(Action::RecordSaved(summary, message)) => {
            if a.json {
                crate::outln!(
                    "{}",
                    serde_json::json!({
                        "id": summary.id,
                        "status": summary.status.as_str(),
                        "refunded": plan.refund.to_string(),
                        "message": message,
                    })
                );
            } else {
                crate::outln!("{} ({}): {message}", summary.name, summary.id);
            }
            0
        }
        Ok(Action::Refused(r)) => refused(a.json, &r),
        Ok(other) => fail(a.json, EXIT_UNAVAILABLE, &format!("{other:?}")),
        Err(e) => fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    }
}
