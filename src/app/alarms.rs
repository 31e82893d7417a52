//! The reducer's part for the message center, alarm policies and the outbox (issue #6). Pure,
//! like `reducer`.
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::reducer::refuse;
use crate::app::state::{moved, AlarmForm, Level, Outcome, Overlay, State};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::Timestamp;

/// Handles the message center, alarm and outbox actions (the reducer routes them here).
pub fn update(state: &mut State, action: Action, _now: Timestamp) -> Vec<Effect> {
    match action {
        Action::AddAlarm(input) => vec![Effect::AddAlarm(input)],
        Action::RemoveAlarm(id) => vec![Effect::RemoveAlarm(id)],
        Action::OpenAlarmForm => {
            state.overlay = Overlay::AlarmForm(Box::default());
            vec![]
        }
        Action::AlarmFormMove(delta) => {
            if let Overlay::AlarmForm(f) = &mut state.overlay {
                f.focus =
                    (f.focus as i64 + delta).rem_euclid(AlarmForm::LABELS.len() as i64) as usize;
            }
            vec![]
        }
        Action::SetAlarmFormText(text) => {
            if let Overlay::AlarmForm(f) = &mut state.overlay {
                f.fields[f.focus] = text;
            }
            vec![]
        }
        Action::ConfirmAlarmForm => {
            let Overlay::AlarmForm(f) = &state.overlay else {
                return vec![];
            };
            match (alarm_input(f), &f.editing) {
                (Ok(input), Some(id)) => vec![Effect::UpdateAlarm(id.clone(), Box::new(input))],
                (Ok(input), None) => vec![Effect::AddAlarm(Box::new(input))],
                (Err(r), _) => {
                    refuse(state, r);
                    vec![]
                }
            }
        }
        Action::EnableAlarm(id, on) => vec![Effect::EnableAlarm(id, on)],
        Action::TestAlarm(id) => vec![Effect::TestAlarm(id)],
        Action::ListAlarms => vec![Effect::LoadAlarms],
        Action::RetryDelivery(id) => vec![Effect::RetryDelivery(id)],
        Action::ShowGroups => {
            state.overlay = Overlay::Groups;
            vec![Effect::LoadAlarms]
        }
        Action::RetryDeadDeliveries => {
            let dead: Vec<Effect> = state
                .deliveries
                .iter()
                .filter(|d| d.state == crate::domain::delivery::DeliveryState::Dead)
                .map(|d| Effect::RetryDelivery(d.id))
                .collect();
            if dead.is_empty() {
                state.say(Level::Info, "no dead deliveries to retry");
            }
            dead
        }
        Action::AlarmsLoaded {
            policies,
            groups,
            deliveries,
        } => {
            state.alarms = policies;
            state.recipient_groups = groups;
            state.deliveries = deliveries;
            vec![]
        }
        Action::AlarmSaved(p) => {
            if matches!(state.overlay, Overlay::AlarmForm(_)) {
                state.overlay = Overlay::None;
            }
            // Say which way a switch went, not "saved" both ways (#12).
            let was = state
                .alarms
                .iter()
                .find(|a| a.id == p.id)
                .map(|a| a.enabled);
            let what = match (was, p.enabled) {
                (Some(false), true) => "switched on",
                (Some(true), false) => "switched off",
                _ => "saved",
            };
            state.say(
                Level::Info,
                format!("alarm policy {} ({}) {what}", p.name, p.id),
            );
            state.outcome = Some(Outcome::AlarmSaved(p));
            vec![Effect::LoadAlarms]
        }
        Action::AlarmRemoved(id) => {
            state.say(Level::Info, format!("alarm policy {id} removed"));
            state.outcome = Some(Outcome::AlarmRemoved(id));
            vec![Effect::LoadAlarms]
        }
        Action::AddGroupMembers(g) => vec![Effect::AddGroupMembers(g)],
        Action::RemoveGroup { name, recipient } => vec![Effect::RemoveGroup { name, recipient }],
        Action::GroupSaved(g) => {
            state.say(
                Level::Info,
                format!(
                    "recipient group {} saved ({} recipient(s))",
                    g.name,
                    g.members.len()
                ),
            );
            state.outcome = Some(Outcome::GroupSaved(g));
            vec![Effect::LoadAlarms]
        }
        Action::GroupRemoved(name) => {
            state.say(Level::Info, format!("recipient group {name} removed"));
            state.outcome = Some(Outcome::GroupRemoved(name));
            vec![Effect::LoadAlarms]
        }
        Action::AlarmTested(t) => {
            state.outcome = Some(Outcome::AlarmTested(t));
            vec![]
        }
        Action::DeliveryTried(d) => {
            let text = match d.state {
                crate::domain::delivery::DeliveryState::Delivered => {
                    format!("delivery {} delivered", d.id)
                }
                crate::domain::delivery::DeliveryState::Pending if d.attempts == 0 => {
                    format!("delivery {} queued to be sent again now", d.id)
                }
                _ => format!(
                    "delivery {} not delivered: {}",
                    d.id,
                    d.last_error.clone().unwrap_or_default()
                ),
            };
            state.say(Level::Info, text);
            state.outcome = Some(Outcome::DeliveryTried(d));
            vec![Effect::LoadAlarms]
        }
        Action::MessagesLoaded { messages, unread } => {
            state.messages = messages;
            state.unread = unread;
            state.message_selected = state
                .message_selected
                .min(state.messages.len().saturating_sub(1));
            vec![]
        }
        Action::MoveMessage(delta) => {
            if state.alarm_on_policies {
                state.policy_selected = moved(state.policy_selected, delta, state.alarms.len());
            } else {
                state.message_selected = moved(state.message_selected, delta, state.messages.len());
            }
            vec![]
        }
        Action::ToggleAlarmFocus => {
            state.alarm_on_policies = !state.alarm_on_policies;
            vec![]
        }
        Action::TogglePolicy => match state.alarms.get(state.policy_selected) {
            Some(p) if state.alarm_on_policies => {
                vec![Effect::EnableAlarm(p.id.clone(), !p.enabled)]
            }
            _ => {
                state.say(
                    Level::Info,
                    "press p to act on policies, then x to switch one off or on",
                );
                vec![]
            }
        },
        Action::EditPolicy => {
            let Some(p) = state
                .alarms
                .get(state.policy_selected)
                .filter(|_| state.alarm_on_policies)
            else {
                state.say(
                    Level::Info,
                    "press p to act on policies, then e to edit one",
                );
                return vec![];
            };
            let every = match p.frequency {
                crate::domain::rules::alarm::Frequency::Once => String::new(),
                crate::domain::rules::alarm::Frequency::EveryPeriods(n) => n.to_string(),
            };
            let tag = match &p.objects {
                crate::domain::rules::alarm::Objects::Tag(k, v) => format!("{k}={v}"),
                _ => String::new(),
            };
            state.overlay = Overlay::AlarmForm(Box::new(AlarmForm {
                editing: Some(p.id.clone()),
                fields: [
                    p.name.clone(),
                    p.threshold_days.to_string(),
                    p.period_secs.to_string(),
                    every,
                    tag,
                    String::new(),
                    String::new(),
                    p.groups.join(", "),
                ],
                focus: 0,
            }));
            vec![]
        }
        Action::UpdateAlarm(id, input) => vec![Effect::UpdateAlarm(id, input)],
        Action::MarkRead(id) => {
            let id = id.or_else(|| state.messages.get(state.message_selected).map(|m| m.id));
            match id {
                Some(id) => vec![Effect::MarkRead {
                    ids: Some(vec![id]),
                    query: state.message_query(),
                }],
                None => vec![],
            }
        }
        Action::MarkAllRead => {
            state.say(
                Level::Info,
                if state.unread == 0 {
                    "every message was read already".to_string()
                } else {
                    format!(
                        "{} marked read",
                        crate::domain::words::count_of(state.unread as u64, "message")
                    )
                },
            );
            vec![Effect::MarkRead {
                ids: None,
                query: state.message_query(),
            }]
        }
        Action::OpenMessage => {
            let Some(m) = state.messages.get(state.message_selected).cloned() else {
                state.say(Level::Info, "no message is selected");
                return vec![];
            };
            let id = m.id;
            let unread = !m.read;
            state.overlay = Overlay::Message(Box::new(m));
            if unread {
                return vec![Effect::MarkRead {
                    ids: Some(vec![id]),
                    query: state.message_query(),
                }];
            }
            vec![]
        }
        Action::ToggleUnreadOnly => {
            state.unread_only = !state.unread_only;
            vec![state.load_messages()]
        }
        _ => vec![],
    }
}

/// The policy the alarm form describes, or the field that is wrong.
fn alarm_input(f: &AlarmForm) -> Result<crate::domain::rules::alarm::AlarmInput, Refusal> {
    use crate::domain::rules::alarm::{
        AlarmInput, Channel, Frequency, Objects, Recipient, WebhookStyle,
    };
    let text = |i: usize| Some(f.fields[i].trim().to_string()).filter(|t| !t.is_empty());
    let number = |i: usize, field: Field| -> Result<Option<i64>, Refusal> {
        text(i)
            .map(|t| {
                t.parse::<i64>()
                    .map_err(|_| Refusal::new("AL-1", field, format!("\"{t}\" is not a number")))
            })
            .transpose()
    };
    let objects = match text(4) {
        None => Objects::All,
        Some(t) => match t.split_once('=') {
            Some((k, v)) => Objects::Tag(k.trim().into(), v.trim().into()),
            None => {
                return Err(Refusal::new(
                    "AL-1",
                    Field::Tag,
                    format!("tag {t}: expected KEY=VALUE"),
                ))
            }
        },
    };
    let mut recipients = Vec::new();
    if let Some(url) = text(5) {
        recipients.push(Recipient {
            name: "ops".into(),
            group: None,
            channel: Channel::Webhook {
                url,
                secret: None,
                style: WebhookStyle::Json,
            },
        });
    }
    if let Some(program) = text(6) {
        recipients.push(Recipient {
            name: "ops".into(),
            group: None,
            channel: Channel::Command { program },
        });
    }
    Ok(AlarmInput {
        name: f.fields[0].trim().to_string(),
        remarks: String::new(),
        project: None,
        objects,
        threshold_days: number(1, Field::Threshold)?,
        period_secs: number(2, Field::Period)?,
        frequency: match number(3, Field::Frequency)? {
            None => Frequency::Once,
            Some(n) => Frequency::EveryPeriods(n.clamp(0, u32::MAX as i64) as u32),
        },
        recipients,
        groups: f.fields[7]
            .split(',')
            .map(str::trim)
            .filter(|g| !g.is_empty())
            .map(str::to_string)
            .collect(),
    })
}
