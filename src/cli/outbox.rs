use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct OutboxArgs {
    #[command(subcommand)]
    pub command: Option<OutboxCommand>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum OutboxCommand {
    /// Try a failed or dead delivery again now
    Retry {
        /// The delivery's id (certdeck outbox)
        id: u64,
    },
}

fn delivery_json(d: &crate::domain::delivery::Delivery) -> serde_json::Value {
    serde_json::json!({
        "id": d.id,
        "policy": d.policy_id,
        "recipient": d.recipient,
        "state": d.state.as_str(),
        "attempts": d.attempts,
        "next_attempt_at": d.next_attempt_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "last_error": d.last_error,
        "idempotency_key": d.idempotency_key,
    })
}

/// `outbox` lists deliveries with their state and last error; `outbox retry ID`.
pub fn run(cli: &Cli, a: &OutboxArgs) -> Exit {
    let engine = match open_engine(cli, "cli outbox", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    if let Some(OutboxCommand::Retry { id }) = &a.command {
        engine.dispatch(&mut state, Action::RetryDelivery(*id));
        return match &state.outcome {
            Some(Outcome::DeliveryTried(d)) => {
                if a.json {
                    crate::outln!("{}", delivery_json(d));
                } else {
                    crate::outln!(
                        "{}",
                        state
                            .status
                            .as_ref()
                            .map(|s| s.text.clone())
                            .unwrap_or_default()
                    );
                }
                if d.state == crate::domain::delivery::DeliveryState::Delivered {
                    0
                } else {
                    super::EXIT_REFUSED
                }
            }
            Some(Outcome::Refused(r)) => refused(a.json, r),
            Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, m),
            _ => fail(a.json, EXIT_UNAVAILABLE, "retry ended without an outcome"),
        };
    }
    engine.dispatch(&mut state, Action::ListAlarms);
    if a.json {
        let rows: Vec<_> = state.deliveries.iter().map(delivery_json).collect();
        crate::outln!("{}", serde_json::json!({"deliveries": rows}));
    } else {
        if state.deliveries.is_empty() {
            crate::outln!("the outbox is empty: alarm firings put their deliveries here");
        }
        for d in &state.deliveries {
            let when = match d.state {
                crate::domain::delivery::DeliveryState::Pending => {
                    format!("next try {}", d.next_attempt_at.format("%Y-%m-%d %H:%M:%S"))
                }
                crate::domain::delivery::DeliveryState::Delivered => d
                    .delivered_at
                    .map(|t| format!("delivered {}", t.format("%Y-%m-%d %H:%M:%S")))
                    .unwrap_or_default(),
                crate::domain::delivery::DeliveryState::Dead => "dead: outbox retry ID".into(),
            };
            crate::outln!(
                "{:>5} {:<9} {:>2} tries  {:<28} {}  {}",
                d.id,
                d.state.as_str(),
                d.attempts,
                when,
                d.recipient,
                d.last_error.as_deref().unwrap_or("")
            );
        }
    }
    0
}
