use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::revocation::Reason;
use clap::Args;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RevokeArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// RFC 5280 reason: unspecified, key_compromise, affiliation_changed, superseded,
    /// cessation_of_operation, privilege_withdrawn (or its code)
    #[arg(long)]
    pub reason: String,
    /// The signed application file (SM2 OV/EV: JPG, GIF or PDF) or confirmation letter
    /// (OV/EV: JPG, PNG or PDF), at most 1.4 MB (RV-6)
    #[arg(long, value_name = "FILE")]
    pub letter: Option<PathBuf>,
    /// Submit without asking: a revocation cannot be cancelled (RV-2)
    #[arg(long)]
    pub yes: bool,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

/// `revoke ID --reason R [--letter FILE] [--yes]` (RV-1..RV-7).
pub fn run(cli: &Cli, a: &RevokeArgs) -> Exit {
    let reason = match Reason::parse(&a.reason) {
        Ok(r) => r,
        Err(m) => return refused(a.json, &Refusal::new("RV-6", Field::Reason, m)),
    };
    let engine = match open_engine(cli, "cli revoke", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    let revoke = |confirmed| Action::Revoke {
        id: Some(a.id.clone()),
        reason: Some(reason),
        document: a.letter.clone(),
        confirmed,
    };
    engine.dispatch(&mut state, revoke(false));
    let plan = match &state.outcome {
        Some(Outcome::NeedsRevokeConfirmation(p)) => p.clone(),
        Some(Outcome::Refused(r)) => return refused(a.json, r),
        Some(Outcome::Failed(m)) => return fail(a.json, EXIT_UNAVAILABLE, m),
        _ => return fail(a.json, EXIT_UNAVAILABLE, "revoke ended without an outcome"),
    };
    if !a.yes {
        let interactive = super::io::console().stdin_is_terminal() && !a.json;
        if !interactive {
            let r = Refusal::new(
                "RV-2",
                Field::Id,
                format!("{} Pass --yes to confirm.", plan.warning()),
            );
            return refused(a.json, &r);
        }
        crate::errln!(
            "Revoke {} ({}) for {}:",
            plan.id,
            plan.name,
            reason.as_str()
        );
        match engine.store().acme_origin(&plan.id) {
            Ok(Some(origin)) => crate::errln!(
                "  AC-6: the CA revokes it at once (ACME account {})",
                origin.account
            ),
            _ => {
                crate::errln!("  {}", plan.flow.label());
                for s in &plan.steps {
                    crate::errln!("  - {s}");
                }
            }
        }
        crate::err!("{}\nSubmit the revocation? [y/N] ", plan.warning());
        let answer = super::io::console().read_line().unwrap_or_default();
        if !matches!(answer.trim(), "y" | "Y" | "yes") {
            crate::errln!("not submitted; nothing was changed");
            return super::EXIT_REFUSED;
        }
    }
    engine.dispatch(&mut state, revoke(true));
    match &state.outcome {
        Some(Outcome::RevocationSubmitted { records, message }) => {
            if a.json {
                let store = engine.store();
                let certs: Vec<_> = records
                    .iter()
                    .filter_map(|s| store.get(&s.id).ok().flatten())
                    .map(|c| super::json::certificate(&c, state.now))
                    .collect();
                let revocation = store.revocation(&a.id).ok().flatten();
                let steps = revocation
                    .as_ref()
                    .map(|r| super::apply::order_json(&r.as_order_view()));
                crate::outln!(
                    "{}",
                    serde_json::json!({"revocation": revocation, "validation": steps, "records": certs})
                );
            } else {
                crate::outln!("{}: {message}", a.id);
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "revoke ended without an outcome"),
    }
}
