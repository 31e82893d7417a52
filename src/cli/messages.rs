use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::Action;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct MessagesArgs {
    #[command(subcommand)]
    pub command: Option<MessagesCommand>,
    /// Only unread messages
    #[arg(long)]
    pub unread: bool,
    /// Only messages whose text, kind, severity or certificate id contains this
    #[arg(long)]
    pub matching: Option<String>,
    /// At most this many (newest first)
    #[arg(long, default_value_t = 50)]
    pub limit: usize,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum MessagesCommand {
    /// Mark messages read: their ids, or --all
    Read {
        /// The messages' ids
        ids: Vec<u64>,
        /// Every message
        #[arg(long)]
        all: bool,
    },
}

/// `messages [--unread] [--matching TEXT] [--limit N]` lists the message center; `messages read ID… | --all`.
pub fn run(cli: &Cli, a: &MessagesArgs) -> Exit {
    let engine = match open_engine(cli, "cli messages", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    if let Some(MessagesCommand::Read { ids, all }) = &a.command {
        if ids.is_empty() && !all {
            return fail(a.json, super::EXIT_USAGE, "name the message ids, or --all");
        }
        let action = if *all {
            Action::MarkAllRead
        } else {
            // One at a time keeps the reducer's single-message action.
            for id in &ids[..ids.len() - 1] {
                engine.dispatch(&mut state, Action::MarkRead(Some(*id)));
            }
            Action::MarkRead(ids.last().copied())
        };
        engine.dispatch(&mut state, action);
    } else {
        state.unread_only = !a.unread;
        state.message_filter = a.matching.clone().unwrap_or_default();
        engine.dispatch(&mut state, Action::ToggleUnreadOnly);
    }
    if let Some(crate::app::state::Outcome::Failed(m)) = &state.outcome {
        return fail(a.json, EXIT_UNAVAILABLE, m);
    }
    let shown: Vec<_> = state.messages.iter().take(a.limit).collect();
    if a.json {
        crate::outln!(
            "{}",
            serde_json::json!({"unread": state.unread, "messages": shown})
        );
    } else {
        crate::outln!("{} unread", state.unread);
        for m in shown {
            crate::outln!(
                "{:>5} {} {} {:<8} {:<8} {}",
                m.id,
                if m.read { " " } else { "●" },
                m.at.format("%Y-%m-%d %H:%M"),
                m.severity.as_str(),
                m.cert_id.as_deref().unwrap_or(""),
                m.text
            );
        }
    }
    0
}
