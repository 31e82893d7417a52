use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::account::{Money, CURRENCY};
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct AccountArgs {
    #[command(subcommand)]
    pub action: Option<AccountAction>,
    /// Print one JSON object
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum AccountAction {
    /// Add money to the account
    Topup {
        /// Amount, e.g. 500 or 99.50
        #[arg(value_parser = Money::parse)]
        amount: Money,
    },
}

pub fn run(cli: &Cli, a: &AccountArgs) -> Exit {
    let engine = match open_engine(cli, "cli account", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let Some(AccountAction::Topup { amount }) = &a.action {
        let mut state = super::new_state(&engine, "");
        engine.dispatch(&mut state, Action::TopUp(*amount));
        match state.outcome {
            Some(Outcome::Posted { .. }) => {}
            Some(Outcome::Refused(r)) => return super::refused(a.json, &r),
            Some(Outcome::Failed(m)) => return fail(a.json, super::EXIT_USAGE, &m),
            _ => return fail(a.json, EXIT_UNAVAILABLE, "top-up ended without an outcome"),
        }
    }
    let (balance, ledger) = match (engine.store().balance(), engine.store().ledger(50)) {
        (Ok(b), Ok(l)) => (b, l),
        (Err(e), _) | (_, Err(e)) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    if a.json {
        let entries: Vec<_> = ledger
            .iter()
            .map(|e| {
                serde_json::json!({
                    "at": e.at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                    "kind": e.kind,
                    "amount": e.amount.to_string(),
                    "cert_id": e.cert_id,
                    "note": e.note,
                })
            })
            .collect();
        crate::outln!(
            "{}",
            serde_json::json!({"balance": balance.to_string(), "currency": CURRENCY, "ledger": entries})
        );
    } else {
        crate::outln!("balance {balance} {CURRENCY}");
        for e in &ledger {
            let sign = if e.kind.sign() < 0 { "-" } else { "+" };
            crate::outln!(
                "{}  {:<9}  {sign}{:>12}  {}  {}",
                e.at.format("%Y-%m-%d %H:%M"),
                format!("{:?}", e.kind).to_lowercase(),
                e.amount,
                e.cert_id.as_deref().unwrap_or("-"),
                e.note
            );
        }
    }
    0
}
