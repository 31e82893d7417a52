//! `certdeck alarm`: expiry alarm policies (AL-1), their recipient groups, and `alarm test`.
use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::alarm::{
    AlarmInput, AlarmPolicy, Channel, Frequency, Objects, Recipient, RecipientGroup, Smtp,
    SmtpSecurity, WebhookStyle,
};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AlarmArgs {
    #[command(subcommand)]
    pub command: AlarmCommand,
    /// Print JSON instead of text (a refusal as {"error": …})
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
    Rm {
        /// The alarm policy's id or name
        id: String,
    },
    /// Change a policy's name, threshold, period, frequency or groups (recipients stay)
    Edit {
        /// The alarm policy's id or name
        id: String,
        /// The policy's name (group: the recipient group's name)
        #[arg(long)]
        name: Option<String>,
        /// Days to expiry or fewer that fire (AL-1)
        #[arg(long)]
        threshold: Option<i64>,
        /// Seconds between evaluations
        #[arg(long)]
        period: Option<i64>,
        /// Every N periods (0: once per certificate)
        #[arg(long)]
        every: Option<u32>,
        /// The recipient groups it notifies, comma-separated ("" for none)
        #[arg(long)]
        groups: Option<String>,
    },
    /// Evaluate a policy again (from now)
    Enable {
        /// The alarm policy's id or name
        id: String,
    },
    /// Stop evaluating a policy (it keeps its settings)
    Disable {
        /// The alarm policy's id or name
        id: String,
    },
    /// Which certificates a policy fires for now (nothing is sent)
    Test {
        /// The alarm policy's id or name
        id: String,
    },
    /// Recipient groups policies can name (AL-1)
    Group {
        #[command(subcommand)]
        command: GroupCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum GroupCommand {
    /// Add a recipient with its channels to a group (the group is created if new)
    Add {
        /// The policy's name (group: the recipient group's name)
        name: String,
        /// The recipient's name
        #[arg(long, default_value = "ops")]
        recipient: String,
        #[command(flatten)]
        channels: Box<ChannelArgs>,
    },
    /// Groups with their recipients
    List,
    /// Remove a group (no policy may name it), or with --recipient only that recipient
    Rm {
        /// The policy's name (group: the recipient group's name)
        name: String,
        /// The recipient's name
        #[arg(long)]
        recipient: Option<String>,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The policy's name (group: the recipient group's name)
    pub name: String,
    /// Remarks shown with the policy and in its messages
    #[arg(long, default_value = "")]
    pub remarks: String,
    /// Project the certificate belongs to
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
    /// Also notify this recipient group (repeatable; see `alarm group add`)
    #[arg(long = "group")]
    pub groups: Vec<String>,
    /// Recipient name for the channels below
    #[arg(long, default_value = "ops")]
    pub recipient: String,
    #[command(flatten)]
    pub channels: ChannelArgs,
}

/// The channels one recipient is reached through.
#[derive(Args, Debug)]
pub struct ChannelArgs {
    /// POST the event to this URL
    #[arg(long)]
    pub webhook: Option<String>,
    /// The webhook's body: json (default), slack, teams, feishu or dingtalk
    #[arg(long, value_parser = WebhookStyle::parse, default_value = "json")]
    pub style: WebhookStyle,
    /// Sign webhook and SMS gateway bodies with HMAC-SHA256 using the secret in this file
    #[arg(long)]
    pub secret_file: Option<PathBuf>,
    /// Run this command with the event (env and JSON on stdin)
    #[arg(long)]
    pub command: Option<String>,
    /// Email the event to this address
    #[arg(long)]
    pub email: Option<String>,
    /// The SMTP server, HOST:PORT (default: the configuration file's [smtp] server, else
    /// 127.0.0.1:25)
    #[arg(long)]
    pub smtp: Option<String>,
    /// none, starttls or tls (default: [smtp] security, else starttls)
    #[arg(long, value_parser = SmtpSecurity::parse)]
    pub smtp_security: Option<SmtpSecurity>,
    /// SMTP user (default: [smtp] user of the configuration file)
    #[arg(long)]
    pub smtp_user: Option<String>,
    /// The SMTP password, read from this file at each send (never stored)
    #[arg(long)]
    pub smtp_password_file: Option<PathBuf>,
    /// The sender (default: [smtp] from, else certdeck@localhost)
    #[arg(long)]
    pub smtp_from: Option<String>,
    /// Trust the CA certificates in this PEM file too (a relay with an internal CA)
    #[arg(long)]
    pub smtp_ca: Option<PathBuf>,
    /// Text this phone number through the SMS gateway given with --sms-gateway
    #[arg(long)]
    pub sms: Option<String>,
    /// The SMS gateway's URL: it gets a POST of {"to", "text"}
    #[arg(long)]
    pub sms_gateway: Option<String>,
}

impl ChannelArgs {
    /// The SMTP password file and CA bundle: the flags, else the configuration file's [smtp].
    fn smtp_files(&self) -> (Option<PathBuf>, Option<PathBuf>) {
        let file = &crate::config::file().smtp;
        (
            self.smtp_password_file
                .clone()
                .or_else(|| file.password_file.clone()),
            self.smtp_ca.clone().or_else(|| file.ca.clone()),
        )
    }

    /// The files the channel options name (or the configuration file gives) are read at each
    /// send, but a directory or a huge file is refused when given, not found out at the first
    /// alarm: exit 2, as for every command.
    fn check_files(&self, json: bool) -> Result<(), Exit> {
        let (password_file, ca_file) = match self.email {
            Some(_) => self.smtp_files(),
            None => (None, None),
        };
        for (flag, file, cap) in [
            (
                "--secret-file",
                &self.secret_file,
                crate::sidefile::SECRET_CAP,
            ),
            (
                "--smtp-password-file",
                &password_file,
                crate::sidefile::SECRET_CAP,
            ),
            ("--smtp-ca", &ca_file, crate::sidefile::PEM_CAP),
        ] {
            if let Some(p) = file {
                super::side_file_ok(json, flag, p, cap)?;
            }
        }
        Ok(())
    }

    /// The recipient `name` once per channel given.
    fn recipients(&self, name: &str) -> Result<Vec<Recipient>, Refusal> {
        let secret = match &self.secret_file {
            Some(p) => match crate::sidefile::read_secret_text(p) {
                Ok(s) => Some(s.trim_end().to_string()),
                Err(e) => {
                    return Err(Refusal::new(
                        "AL-1",
                        Field::Password,
                        format!("--secret-file {}: {e}", p.display()),
                    ))
                }
            },
            None => None,
        };
        let mut channels = Vec::new();
        if let Some(url) = &self.webhook {
            channels.push(Channel::Webhook {
                url: url.clone(),
                secret: secret.clone(),
                style: self.style,
            });
        }
        if let Some(to) = &self.email {
            // The flags, else the configuration file's [smtp] defaults (`check_files` has
            // checked the files).
            let file = &crate::config::file().smtp;
            let (password_file, ca_file) = self.smtp_files();
            let server = self
                .smtp
                .clone()
                .or_else(|| file.server.clone())
                .unwrap_or_else(|| "127.0.0.1:25".into());
            let Some((host, Ok(port))) = server
                .rsplit_once(':')
                .map(|(h, p)| (h.to_string(), p.parse::<u16>()))
            else {
                return Err(Refusal::new(
                    "AL-1",
                    Field::Recipient,
                    format!("--smtp {server}: expected HOST:PORT"),
                ));
            };
            let security = match (self.smtp_security, file.security.as_deref()) {
                (Some(s), _) => s,
                (None, Some(s)) => SmtpSecurity::parse(s).unwrap_or(SmtpSecurity::StartTls),
                (None, None) => SmtpSecurity::StartTls,
            };
            channels.push(Channel::Email {
                to: to.clone(),
                from: self
                    .smtp_from
                    .clone()
                    .or_else(|| file.from.clone())
                    .unwrap_or_else(|| "certdeck@localhost".into()),
                smtp: Smtp {
                    host,
                    port,
                    security,
                    user: self.smtp_user.clone().or_else(|| file.user.clone()),
                    password_file,
                    ca_file,
                },
            });
        }
        if let Some(program) = &self.command {
            channels.push(Channel::Command {
                program: program.clone(),
            });
        }
        match (&self.sms, &self.sms_gateway) {
            (Some(to), Some(gateway)) => channels.push(Channel::Sms {
                gateway: gateway.clone(),
                to: to.clone(),
                secret,
            }),
            (None, None) => {}
            _ => {
                return Err(Refusal::new(
                    "AL-1",
                    Field::Recipient,
                    "an SMS recipient needs both --sms NUMBER and --sms-gateway URL",
                ))
            }
        }
        Ok(channels
            .into_iter()
            .map(|channel| Recipient {
                name: name.to_string(),
                group: None,
                channel,
            })
            .collect())
    }
}

/// A channel for `--json` lists: URLs redacted as on screen (tokens and passwords are secrets).
fn channel_json(c: &Channel) -> serde_json::Value {
    use crate::domain::rules::alarm::redacted_url;
    match c {
        Channel::Webhook { url, secret, .. } => {
            serde_json::json!({"webhook": redacted_url(url), "signed": secret.is_some()})
        }
        Channel::Command { program } => serde_json::json!({"command": program}),
        Channel::Email { to, smtp, .. } => {
            serde_json::json!({"email": to, "smtp": format!("{}:{}", smtp.host, smtp.port)})
        }
        Channel::Sms {
            gateway,
            to,
            secret,
        } => {
            serde_json::json!({"sms": to, "gateway": redacted_url(gateway), "signed": secret.is_some()})
        }
    }
}

fn recipient_json(r: &Recipient) -> serde_json::Value {
    serde_json::json!({
        "name": r.name,
        "channel": channel_json(&r.channel),
    })
}

fn group_json(g: &RecipientGroup) -> serde_json::Value {
    serde_json::json!({
        "name": g.name,
        "recipients": g.members.iter().map(recipient_json).collect::<Vec<_>>(),
    })
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
        "recipients": p.recipients.iter().map(recipient_json).collect::<Vec<_>>(),
        "groups": p.groups,
        "enabled": p.enabled,
        "firings": p.firings,
        "last_evaluated": p.last_evaluated.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        "next_evaluation": p.enabled.then(|| p.next_evaluation.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
    })
}

/// A comma-separated list of group names.
fn group_list(text: &str) -> Vec<String> {
    text.split(',')
        .map(str::trim)
        .filter(|g| !g.is_empty())
        .map(str::to_string)
        .collect()
}

/// What an `alarm` command asks the engine, or the exit code when it cannot be asked.
fn action_for(cli: &Cli, command: &AlarmCommand, json: bool) -> Result<Action, Exit> {
    Ok(match command {
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
                        return Err(refused(json, &r));
                    }
                },
                (None, false) => Objects::Ids(x.certs.clone()),
                (None, true) => Objects::All,
            };
            x.channels.check_files(json)?;
            let recipients = x
                .channels
                .recipients(&x.recipient)
                .map_err(|r| refused(json, &r))?;
            Action::AddAlarm(Box::new(AlarmInput {
                name: x.name.clone(),
                remarks: x.remarks.clone(),
                project: x.project.clone(),
                objects,
                threshold_days: x.threshold,
                period_secs: x.period,
                frequency: x.every.map_or(Frequency::Once, Frequency::EveryPeriods),
                recipients,
                groups: x.groups.clone(),
            }))
        }
        AlarmCommand::List
        | AlarmCommand::Group {
            command: GroupCommand::List,
        } => Action::ListAlarms,
        AlarmCommand::Rm { id } => Action::RemoveAlarm(id.clone()),
        AlarmCommand::Edit {
            id,
            name,
            threshold,
            period,
            every,
            groups,
        } => {
            let engine = open_engine(cli, "cli alarm", json)?;
            let current = match engine.store().alarm(id) {
                Ok(Some(p)) => p,
                Ok(None) => {
                    let r = Refusal::new("AL-1", Field::Id, format!("no alarm policy called {id}"));
                    return Err(refused(json, &r));
                }
                Err(e) => return Err(fail(json, EXIT_UNAVAILABLE, &e.to_string())),
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
                groups: groups.as_deref().map_or(current.groups.clone(), group_list),
            };
            Action::UpdateAlarm(current.id, Box::new(input))
        }
        AlarmCommand::Enable { id } => Action::EnableAlarm(id.clone(), true),
        AlarmCommand::Disable { id } => Action::EnableAlarm(id.clone(), false),
        AlarmCommand::Test { id } => Action::TestAlarm(id.clone()),
        AlarmCommand::Group { command } => match command {
            GroupCommand::Add {
                name,
                recipient,
                channels,
            } => {
                channels.check_files(json)?;
                let members = channels
                    .recipients(recipient)
                    .map_err(|r| refused(json, &r))?;
                if members.is_empty() {
                    let r = Refusal::new(
                        "AL-1",
                        Field::Recipient,
                        format!(
                            "give {recipient} a channel: --webhook, --email, --command or --sms"
                        ),
                    );
                    return Err(refused(json, &r));
                }
                Action::AddGroupMembers(Box::new(RecipientGroup {
                    name: name.clone(),
                    members,
                }))
            }
            GroupCommand::Rm { name, recipient } => Action::RemoveGroup {
                name: name.clone(),
                recipient: recipient.clone(),
            },
            GroupCommand::List => Action::ListAlarms,
        },
    })
}

pub fn run(cli: &Cli, a: &AlarmArgs) -> Exit {
    let json = a.json;
    let action = match action_for(cli, &a.command, json) {
        Ok(action) => action,
        Err(code) => return code,
    };
    let engine = match open_engine(cli, "cli alarm", json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    engine.dispatch(&mut state, action);
    match &a.command {
        AlarmCommand::List => {
            if json {
                let rows: Vec<_> = state.alarms.iter().map(policy_json).collect();
                crate::outln!("{}", serde_json::json!({"policies": rows}));
            } else {
                for p in &state.alarms {
                    crate::outln!(
                        "{}  {:<20} threshold {} days, next {}{}",
                        p.id,
                        p.name,
                        p.threshold_days,
                        p.next_evaluation.format("%Y-%m-%d %H:%M"),
                        if p.groups.is_empty() {
                            String::new()
                        } else {
                            format!(", groups {}", p.groups.join(", "))
                        }
                    );
                }
            }
            return 0;
        }
        AlarmCommand::Group {
            command: GroupCommand::List,
        } => {
            if json {
                let rows: Vec<_> = state.recipient_groups.iter().map(group_json).collect();
                crate::outln!("{}", serde_json::json!({"groups": rows}));
            } else {
                for g in &state.recipient_groups {
                    crate::outln!("{}", g.name);
                    for m in &g.members {
                        crate::outln!("  {:<16} {}", m.name, m.channel.describe());
                    }
                }
            }
            return 0;
        }
        _ => {}
    }
    match &state.outcome {
        Some(Outcome::AlarmSaved(p)) => {
            if json {
                crate::outln!("{}", policy_json(p));
            } else {
                crate::outln!(
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
                crate::outln!("{}", serde_json::json!({"removed": id}));
            } else {
                crate::outln!("removed alarm policy {id}");
            }
            0
        }
        Some(Outcome::GroupSaved(g)) => {
            if json {
                crate::outln!("{}", group_json(g));
            } else {
                crate::outln!(
                    "recipient group {} saved: {}",
                    g.name,
                    g.members
                        .iter()
                        .map(|m| format!("{} ({})", m.name, m.channel.describe()))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
            0
        }
        Some(Outcome::GroupRemoved(name)) => {
            if json {
                crate::outln!("{}", serde_json::json!({"removed_group": name}));
            } else {
                crate::outln!("removed recipient group {name}");
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
                crate::outln!(
                    "{}",
                    serde_json::json!({"policy": p.id, "certificates": rows})
                );
            } else {
                for (c, due) in rows {
                    crate::outln!(
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
