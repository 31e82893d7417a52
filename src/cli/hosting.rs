use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::rules::hosting::{Association, Hosting, HostingEdit, HostingRequest};
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct HostingArgs {
    #[command(subcommand)]
    pub command: HostingCommand,
}

#[derive(Subcommand, Debug)]
pub enum HostingCommand {
    /// Replace OLD on its resources N days before it expires (H-1..H-4)
    Add {
        /// The certificate to replace (its id)
        old: String,
        /// The certificate to deploy (default: OLD's renewal, whenever it is issued)
        #[arg(long)]
        new: Option<String>,
        /// Only these resources (id or name; default: every one OLD is deployed to)
        #[arg(long = "resource")]
        resources: Vec<String>,
        /// Days before OLD's expiry (fewer than the days it has left)
        #[arg(long)]
        days: u32,
        /// Go on although --new does not cover every domain of OLD (H-3)
        #[arg(long)]
        confirm_partial: bool,
        /// No hosting messages at all, not even a failed deployment's (H-6)
        #[arg(long)]
        quiet: bool,
        /// Also send its messages to this recipient group's channels (H-6; see `alarm group`)
        #[arg(long, conflicts_with = "quiet")]
        group: Option<String>,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Hostings with their state and last result
    List {
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Change an in-progress hosting: its days before expiry, what replaces the old one, where
    /// its messages go
    Edit {
        /// The hosting's id (certdeck hosting list)
        id: String,
        /// Days before the old certificate's expiry (fewer than the days it has left, H-4)
        #[arg(long)]
        days: u32,
        /// The certificate to deploy (default: what the hosting deploys now)
        #[arg(long, conflicts_with = "renewal")]
        new: Option<String>,
        /// Deploy the old certificate's renewal instead of a specified one
        #[arg(long)]
        renewal: bool,
        /// Go on although the certificate does not cover every domain of the old one (H-3)
        #[arg(long)]
        confirm_partial: bool,
        /// Send its messages to this recipient group's channels too (H-6)
        #[arg(long, conflicts_with = "no_group")]
        group: Option<String>,
        /// Send its messages to the message center only
        #[arg(long)]
        no_group: bool,
        /// Switch its messages off (H-6)
        #[arg(long, conflicts_with = "loud")]
        quiet: bool,
        /// Switch its messages on again
        #[arg(long)]
        loud: bool,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Cancel an in-progress hosting
    Cancel {
        /// The hosting's id (certdeck hosting list)
        id: String,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Run a failed hosting again now
    Retry {
        /// The hosting's id (certdeck hosting list)
        id: String,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Put the old certificate back on the hosting's resources
    Rollback {
        /// The hosting's id (certdeck hosting list)
        id: String,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
}

pub fn hosting_json(h: &Hosting) -> serde_json::Value {
    serde_json::json!({
        "id": h.id,
        "old": h.old_cert,
        "new": h.new_cert,
        "association": match &h.association { Association::Renewal => "renewal".to_string(), Association::Specified(id) => id.clone() },
        "resources": h.resources,
        "days_before": h.days_before,
        "replace_at": h.replace_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "status": h.status.as_str(),
        "last_result": h.last_result,
        "notify": h.notify,
        "group": h.group,
    })
}

pub fn run(cli: &Cli, a: &HostingArgs) -> Exit {
    let json = match &a.command {
        HostingCommand::Add { json, .. }
        | HostingCommand::List { json }
        | HostingCommand::Edit { json, .. }
        | HostingCommand::Cancel { json, .. }
        | HostingCommand::Retry { json, .. }
        | HostingCommand::Rollback { json, .. } => *json,
    };
    let engine = match open_engine(cli, "cli hosting", json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    let action = match &a.command {
        HostingCommand::Add {
            old,
            new,
            resources,
            days,
            confirm_partial,
            quiet,
            group,
            ..
        } => Action::AddHosting(Box::new(HostingRequest {
            old_cert: old.clone(),
            association: match new {
                Some(id) => Association::Specified(id.clone()),
                None => Association::Renewal,
            },
            resources: resources.clone(),
            days_before: *days,
            confirm_partial: *confirm_partial,
            notify: !quiet,
            group: group.clone(),
        })),
        HostingCommand::List { .. } => {
            engine.dispatch(&mut state, Action::ListResources);
            if json {
                let rows: Vec<_> = state.hostings.iter().map(hosting_json).collect();
                crate::outln!("{}", serde_json::json!(rows));
            } else if state.hostings.is_empty() {
                crate::outln!("no hostings (add one with `certdeck hosting add OLD --days N`)");
            } else {
                for h in &state.hostings {
                    crate::outln!(
                        "{}  {}  {:<11} {}  {}",
                        h.id,
                        h.old_cert,
                        h.status.as_str(),
                        h.replace_at.format("%Y-%m-%d %H:%M"),
                        h.last_result.as_deref().unwrap_or("")
                    );
                }
            }
            return 0;
        }
        HostingCommand::Edit {
            id,
            days,
            new,
            renewal,
            confirm_partial,
            group,
            no_group,
            quiet,
            loud,
            ..
        } => Action::EditHosting(Box::new(HostingEdit {
            id: id.clone(),
            days_before: *days,
            // Without --new or --renewal the hosting keeps what it deploys (H-2).
            association: match (new, renewal) {
                (Some(n), _) => Some(Association::Specified(n.clone())),
                (None, true) => Some(Association::Renewal),
                (None, false) => None,
            },
            confirm_partial: *confirm_partial,
            group: match (group, no_group) {
                (Some(g), _) => Some(Some(g.clone())),
                (None, true) => Some(None),
                (None, false) => None,
            },
            notify: match (quiet, loud) {
                (true, _) => Some(false),
                (false, true) => Some(true),
                (false, false) => None,
            },
        })),
        HostingCommand::Cancel { id, .. } => Action::CancelHosting(id.clone()),
        HostingCommand::Retry { id, .. } => Action::RetryHosting(id.clone()),
        HostingCommand::Rollback { id, .. } => Action::RollbackHosting(id.clone()),
    };
    engine.dispatch(&mut state, action);
    match &state.outcome {
        Some(Outcome::HostingSaved { hosting, warnings }) => {
            if json {
                let mut obj = hosting_json(hosting);
                obj["warnings"] = serde_json::json!(warnings);
                crate::outln!("{obj}");
            } else {
                for w in warnings {
                    crate::errln!("warning: {w}");
                }
                crate::outln!(
                    "hosting {} {}: {}",
                    hosting.id,
                    hosting.status.as_str(),
                    hosting.last_result.clone().unwrap_or_else(|| format!(
                        "replaces {} at {}",
                        hosting.old_cert,
                        hosting.replace_at.format("%Y-%m-%d %H:%M UTC")
                    ))
                );
            }
            if hosting.status == crate::domain::rules::hosting::HostingStatus::Failed {
                super::EXIT_REFUSED
            } else {
                0
            }
        }
        Some(Outcome::Refused(r)) => refused(json, r),
        Some(Outcome::Failed(m)) => fail(json, EXIT_UNAVAILABLE, m),
        _ => fail(json, EXIT_UNAVAILABLE, "hosting ended without an outcome"),
    }
}
