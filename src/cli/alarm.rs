use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::alarm::{
    AlarmInput, AlarmPolicy, Channel, Frequency, Objects, Recipient, Smtp, SmtpSecurity,
    WebhookStyle,
};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AlarmArgs {
    #[command(subcommand)]
    pub command: AlarmCommand,
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum AlarmCommand {
    /// Add an expiry alarm policy (AL-1)
    Add(Box<AddArgs>),
    /// Policies, with the newest deliveries
    List,
    /// Remove a policy
    Rm { id: String },
    /// Change a policy's name, threshold, period or frequency (recipients stay)
    Edit {
        id: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        threshold: Option<i64>,
        #[arg(long)]
        period: Option<i64>,
        /// Every N periods (0: once per certificate)
        #[arg(long)]
        every: Option<u32>,
    },
    /// Evaluate a policy again (from now)
    Enable { id: String },
    /// Stop evaluating a policy (it keeps its settings)
    Disable { id: String },
    /// Which certificates a policy fires for now (nothing is sent)
    Test { id: String },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    pub name: String,
    #[arg(long, default_value = "")]
    pub remarks: String,
    #[arg(long)]
    pub project: Option<String>,
    /// Watch these certificates (default: all)
    #[arg(long = "cert")]
    pub certs: Vec<String>,
    /// Watch certificates tagged KEY=VALUE
    #[arg(long)]
    pub tag: Option<String>,
    /// Fire while days to expiry <= this (default 30)
    #[arg(long)]
    pub threshold: Option<i64>,
    /// Statistical period in seconds (default 60)
    #[arg(long)]
    pub period: Option<i64>,
    /// Fire again every N periods (default: once per certificate)
    #[arg(long)]
    pub every: Option<u32>,
    /// Recipient name for the channels below (a group with --group)
    #[arg(long, default_value = "ops")]
    pub recipient: String,
    #[arg(long)]
    pub group: Option<String>,
    /// POST the event to this URL
    #[arg(long)]
    pub webhook: Option<String>,
    /// The webhook's body: json (default), slack, teams, feishu or dingtalk
    #[arg(long, value_parser = WebhookStyle::parse, default_value = "json")]
    pub style: WebhookStyle,
    /// Sign webhook bodies with HMAC-SHA256 using the secret in this file
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Run this command with the event (env and JSON on stdin)
    #[arg(long)]
    pub command: Option<String>,
    /// Email the event to this address
    #[arg(long)]
    pub email: Option<String>,
    /// The SMTP server, HOST:PORT
    #[arg(long, default_value = "127.0.0.1:25")]
    pub smtp: String,
    /// none, starttls or tls
    #[arg(long, value_parser = SmtpSecurity::parse, default_value = "starttls")]
    pub smtp_security: SmtpSecurity,
    #[arg(long)]
    pub smtp_user: Option<String>,
    /// The SMTP password, read from this file at each send (never stored)
    #[arg(long)]
    pub smtp_password_file: Option<PathBuf>,
    #[arg(long, default_value = "certdeck@localhost")]
    pub smtp_from: String,
}

fn policy_json(p: &AlarmPolicy) -> serde_json::Value {
    serde_json::json!({
        "id": p.id,
        "name": p.name,
        "remarks": p.remarks,
        "project": p.project,
        "objects": match &p.objects {
            Objects::All => serde_json::json!("all"),
            Objects::Ids(ids) => serde_json::json!(ids),
            Objects::Tag(k, v) => serde_json::json!(format!("{k}={v}")),
        },
        "threshold_days": p.threshold_days,
        "period_secs": p.period_secs,
        "frequency": match p.frequency { Frequency::Once => "once".to_string(), Frequency::EveryPeriods(n) => format!("every {n} periods") },
        "recipients": p.recipients.iter().map(|r| serde_json::json!({
            "name": r.name,
            "group": r.group,
            "channel": match &r.channel {
                Channel::Webhook { url, secret, .. } => serde_json::json!({"webhook": url, "signed": secret.is_some()}),
                Channel::Command { program } => serde_json::json!({"command": program}),
                Channel::Email { to, smtp, .. } => serde_json::json!({"email": to, "smtp": format!("{}:{}", smtp.host, smtp.port)}),
            },
        })).collect::<Vec<_>>(),
        "enabled": p.enabled,
        "firings": p.firings,
        "last_evaluated": p.last_evaluated.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "next_evaluation": p.enabled.then(|| p.next_evaluation.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    })
}

pub fn run(cli: &Cli, a: &AlarmArgs) -> Exit {
    let json = a.json;
    let action = match &a.command {
        AlarmCommand::Add(x) => {
            let objects = match (&x.tag, x.certs.is_empty()) {
                (Some(t), _) => match t.split_once('=') {
                    Some((k, v)) => Objects::Tag(k.into(), v.into()),
                    None => {
                        let r = Refusal::new(
                            "AL-1",
                            Field::Tag,
                            format!("--tag {t}: expected KEY=VALUE"),
                        );
                        return refused(json, &r);
                    }
                },
                (None, false) => Objects::Ids(x.certs.clone()),
                (None, true) => Objects::All,
            };
            let secret = match &x.secret_file {
                Some(p) => match std::fs::read_to_string(p) {
                    Ok(s) => Some(s.trim_end().to_string()),
                    Err(e) => {
                        let r = Refusal::new(
                            "AL-1",
                            Field::Password,
                            format!("--secret-file {}: {e}", p.display()),
                        );
                        return refused(json, &r);
                    }
                },
                None => None,
            };
            let mut recipients = Vec::new();
            if let Some(url) = &x.webhook {
                recipients.push(Recipient {
                    name: x.recipient.clone(),
                    group: x.group.clone(),
                    channel: Channel::Webhook {
                        url: url.clone(),
                        secret,
                        style: x.style,
                    },
                });
            }
            if let Some(to) = &x.email {
                let (host, port) = match x.smtp.rsplit_once(':').map(|(h, p)| (h, p.parse::<u16>()))
                {
                    Some((h, Ok(p))) => (h.to_string(), p),
                    _ => {
                        let r = Refusal::new(
                            "AL-1",
                            Field::Domain,
                            format!("--smtp {}: expected HOST:PORT", x.smtp),
                        );
                        return refused(json, &r);
                    }
                };
                recipients.push(Recipient {
                    name: x.recipient.clone(),
                    group: x.group.clone(),
                    channel: Channel::Email {
                        to: to.clone(),
                        from: x.smtp_from.clone(),
                        smtp: Smtp {
                            host,
                            port,
                            security: x.smtp_security,
                            user: x.smtp_user.clone(),
                            password_file: x.smtp_password_file.clone(),
                        },
                    },
                });
            }
            if let Some(cmd) = &x.command {
                recipients.push(Recipient {
                    name: x.recipient.clone(),
                    group: x.group.clone(),
                    channel: Channel::Command {
                        program: cmd.clone(),
                    },
                });
            }
            Action::AddAlarm(Box::new(AlarmInput {
                name: x.name.clone(),
                remarks: x.remarks.clone(),
                project: x.project.clone(),
                objects,
                threshold_days: x.threshold,
                period_secs: x.period,
                frequency: x.every.map_or(Frequency::Once, Frequency::EveryPeriods),
                recipients,
            }))
        }
        AlarmCommand::List => Action::ListAlarms,
        AlarmCommand::Rm { id } => Action::RemoveAlarm(id.clone()),
        AlarmCommand::Edit {
            id,
            name,
            threshold,
            period,
            every,
        } => {
            let engine = match open_engine(cli, "cli alarm", json) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let current = match engine.store().alarm(id) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    let r = Refusal::new("AL-1", Field::Id, format!("no alarm policy called {id}"));
                    return refused(json, &r);
                }
                Err(e) => return fail(json, EXIT_UNAVAILABLE, &e.to_string()),
            };
            let input = AlarmInput {
                name: name.clone().unwrap_or(current.name.clone()),
                remarks: current.remarks.clone(),
                project: current.project.clone(),
                objects: current.objects.clone(),
                threshold_days: Some(threshold.unwrap_or(current.threshold_days)),
                period_secs: Some(period.unwrap_or(current.period_secs)),
                frequency: match every {
                    Some(0) => Frequency::Once,
                    Some(n) => Frequency::EveryPeriods(*n),
                    None => current.frequency,
                },
                recipients: current.recipients.clone(),
            };
            drop(engine);
            Action::UpdateAlarm(current.id, Box::new(input))
        }
        AlarmCommand::Enable { id } => Action::EnableAlarm(id.clone(), true),
        AlarmCommand::Disable { id } => Action::EnableAlarm(id.clone(), false),
        AlarmCommand::Test { id } => Action::TestAlarm(id.clone()),
    };
    let engine = match open_engine(cli, "cli alarm", json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(&mut state, action);
    if matches!(a.command, AlarmCommand::List) {
        if json {
            let rows: Vec<_> = state.alarms.iter().map(policy_json).collect();
            println!("{}", serde_json::json!({"policies": rows}));
        } else {
            for p in &state.alarms {
                println!(
                    "{}  {:<20} threshold {} days, next {}",
                    p.id,
                    p.name,
                    p.threshold_days,
                    p.next_evaluation.format("%Y-%m-%d %H:%M")
                );
            }
        }
        return 0;
    }
    match &state.outcome {
        Some(Outcome::AlarmSaved(p)) => {
            if json {
                println!("{}", policy_json(p));
            } else {
                println!(
                    "alarm policy {} ({}) {}",
                    p.name,
                    p.id,
                    if p.enabled {
                        "saved"
                    } else {
                        "saved, disabled"
                    }
                );
            }
            0
        }
        Some(Outcome::AlarmRemoved(id)) => {
            if json {
                println!("{}", serde_json::json!({"removed": id}));
            } else {
                println!("removed alarm policy {id}");
            }
            0
        }
        Some(Outcome::AlarmTested(t)) => {
            let (p, rows) = &**t;
            if json {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|(c, due)| serde_json::json!({"id": c.id, "name": c.name, "days_left": c.days_left(state.now), "fires_now": due}))
                    .collect();
                println!(
                    "{}",
                    serde_json::json!({"policy": p.id, "certificates": rows})
                );
            } else {
                for (c, due) in rows {
                    println!(
                        "{} {:<30} {:>4} days  {}",
                        c.id,
                        c.name,
                        c.days_left(state.now).unwrap_or(0),
                        if *due {
                            "fires now"
                        } else {
                            "fired already (frequency)"
                        }
                    );
                }
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(json, r),
        Some(Outcome::Failed(m)) => fail(json, EXIT_UNAVAILABLE, m),
        _ => fail(json, EXIT_UNAVAILABLE, "alarm ended without an outcome"),
    }
}
