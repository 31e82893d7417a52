use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::{Args, ValueEnum};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub enum OnOff {
    On,
    Off,
}

#[derive(Args, Debug)]
pub struct RenewArgs {
    #[command(flatten)]
    pub dns: crate::cli::ResolverArg,
    /// The certificate's id (certdeck list)
    pub id: String,
    /// Switch auto-renewal on or off instead of renewing now (AR-1..AR-3)
    #[arg(long, value_enum)]
    pub auto: Option<OnOff>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

/// `renew ID`: renew by hand now (fee taken, renewal order placed); `--auto on|off`: the switch.
pub fn run(cli: &Cli, a: &RenewArgs) -> Exit {
    let engine = match open_engine(cli, "cli renew", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    let action = match a.auto {
        Some(v) => Action::SetAutoRenew {
            id: Some(a.id.clone()),
            on: Some(matches!(v, OnOff::On)),
        },
        None => Action::RenewNow(a.id.clone()),
    };
    engine.dispatch(&mut state, action);
    let show = |id: &str| {
        engine
            .store()
            .get(id)
            .ok()
            .flatten()
            .map(|c| super::json::certificate(&c, state.now))
    };
    match &state.outcome {
        Some(Outcome::Saved { summary }) => {
            if a.json {
                crate::outln!("{}", show(&summary.id).unwrap_or_default());
            } else {
                crate::outln!(
                    "{}: auto-renewal {}",
                    summary.id,
                    if summary.auto_renew { "on" } else { "off" }
                );
            }
            0
        }
        Some(Outcome::Renewed { old, new }) => {
            if a.json {
                let mut obj = show(&new.id).unwrap_or_default();
                obj["renewed_from"] = serde_json::json!(old.id);
                if let Ok(Some(o)) = engine.store().order(&new.id) {
                    obj["order"] = super::apply::order_json(&o);
                }
                crate::outln!("{obj}");
            } else {
                crate::outln!(
                    "{} renewed: renewal order {} ({})",
                    old.id,
                    new.id,
                    new.status.as_str()
                );
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "renew ended without an outcome"),
    }
}
