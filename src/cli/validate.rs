use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::Args;

#[derive(Args, Debug)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub dns: crate::cli::ResolverArg,
    /// The certificate's id (certdeck list)
    pub id: String,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

/// Checks an order's domain validation now (the TUI's `c`). Exit 0 validated, 1 not yet.
pub fn run(cli: &Cli, a: &ValidateArgs) -> Exit {
    let engine = match open_engine(cli, "cli validate", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(&mut state, Action::CheckValidation(Some(a.id.clone())));
    match state.outcome {
        Some(Outcome::Checked {
            results, validated, ..
        }) => {
            let order = engine.store().order(&a.id).ok().flatten();
            if a.json {
                let mut obj =
                    serde_json::json!({"id": a.id, "validated": validated, "results": results});
                if let Some(o) = &order {
                    obj["order"] = super::apply::order_json(o);
                }
                crate::outln!("{obj}");
            } else {
                for r in &results {
                    crate::outln!(
                        "{:<32} {:<16} {}",
                        r.domain,
                        format!("{:?}", r.code).to_lowercase(),
                        r.detail
                    );
                }
                crate::outln!(
                    "{}",
                    if validated {
                        "validated: the review is under way"
                    } else {
                        "not validated yet"
                    }
                );
            }
            if validated {
                0
            } else {
                super::EXIT_REFUSED
            }
        }
        // An ACME order by hand: every record seen, the CA issued (AC-3).
        Some(Outcome::Saved { summary }) => {
            let cert = engine.store().get(&summary.id).ok().flatten();
            if a.json {
                let mut obj = cert
                    .map(|c| super::json::certificate(&c, state.now))
                    .unwrap_or_default();
                obj["validated"] = serde_json::json!(true);
                crate::outln!("{obj}");
            } else {
                crate::outln!(
                    "{}: every record seen; issued ({} days left)",
                    summary.id,
                    cert.and_then(|c| c.days_left(state.now)).unwrap_or(0)
                );
            }
            0
        }
        Some(Outcome::Refused(r)) => super::refused(a.json, &r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, &m),
        _ => fail(
            a.json,
            EXIT_UNAVAILABLE,
            "validation ended without an outcome",
        ),
    }
}
