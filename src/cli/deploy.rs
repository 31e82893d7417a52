use super::{fail, open_engine, refused, Cli, Exit, EXIT_REFUSED, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::resource::DeployOutcome;
use clap::Args;

#[derive(Args, Debug)]
pub struct DeployArgs {
    /// The certificate's id
    pub cert: String,
    /// The resource's id or name
    pub resource: String,
    /// Deploy a certificate that has expired
    #[arg(long)]
    pub allow_expired: bool,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

/// `deploy CERT RESOURCE`: exit 0 deployed (and served), 1 refused or rolled back, 3 when the
/// rollback failed too (look at the server).
pub fn run(cli: &Cli, a: &DeployArgs) -> Exit {
    let engine = match open_engine(cli, "cli deploy", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(
        &mut state,
        Action::Deploy {
            cert: a.cert.clone(),
            resource: a.resource.clone(),
            allow_expired: a.allow_expired,
        },
    );
    match &state.outcome {
        Some(Outcome::Deployed(record)) => {
            if a.json {
                let mut obj = serde_json::json!(record);
                obj["outcome"] = record.outcome.json();
                crate::outln!("{obj}");
            } else {
                for s in &record.steps {
                    crate::outln!("{} {}", if s.ok { "✓" } else { "✗" }, s.step);
                    for line in s.detail.lines() {
                        crate::outln!("    {line}");
                    }
                }
                if let Some(st) = &state.status {
                    crate::outln!("{}", st.text);
                }
            }
            match record.outcome {
                DeployOutcome::Deployed => 0,
                DeployOutcome::RolledBack { .. } | DeployOutcome::Refused { .. } => EXIT_REFUSED,
                DeployOutcome::RollbackFailed { .. } => EXIT_UNAVAILABLE,
            }
        }
        Some(Outcome::Refused(r)) => refused(a.json, r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "deploy ended without an outcome"),
    }
}
