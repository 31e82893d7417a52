//! Alarm policies and deliveries (issue #6): evaluation every period (AL-2), the firings written
//! with their messages and outbox deliveries in one transaction, and the sender that tries due
//! deliveries with backoff.
use super::Engine;
use crate::app::Action;
use crate::domain::delivery::{after_attempt, retried, Delivery, DeliveryState};
use crate::domain::model::{CertSummary, TimelineEvent};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::alarm::{
    validate_group, validate_policy, AlarmInput, AlarmPolicy, RecipientGroup,
};
use crate::domain::schedule::{DueEntry, DueKind};
use crate::domain::time::Timestamp;
use crate::store::StoreError;

/// Deliveries tried per tick: the TUI's tick must stay short, and cron runs every minute.
const DELIVERIES_PER_TICK: usize = 10;

impl Engine {
    pub(super) fn add_alarm(&self, input: &AlarmInput) -> Result<Action, StoreError> {
        let now = self.clock.now();
        let p = match validate_policy(input, self.store.new_id()?, now) {
            Ok(p) => p,
            Err(r) => return Ok(Action::Refused(r)),
        };
        if let Some(r) = self.missing_group(&p)? {
            return Ok(Action::Refused(r));
        }
        if self.store.alarm(&p.name)?.is_some() {
            return Ok(Action::Refused(Refusal::new(
                "AL-1",
                Field::Name,
                format!("an alarm policy called {} exists already", p.name),
            )));
        }
        self.store.save_alarm(&p)?;
        Ok(Action::AlarmSaved(Box::new(p)))
    }

    pub(super) fn remove_alarm(&self, id: &str) -> Result<Action, StoreError> {
        Ok(match self.store.alarm(id)? {
            Some(p) if self.store.remove_alarm(&p.id)? => Action::AlarmRemoved(p.id),
            _ => Action::Refused(Refusal::new(
                "AL-1",
                Field::Id,
                format!("no alarm policy called {id}"),
            )),
        })
    }

    /// AL-1: a policy names only groups that exist.
    fn missing_group(&self, p: &AlarmPolicy) -> Result<Option<Refusal>, StoreError> {
        for g in &p.groups {
            if self.store.recipient_group(g)?.is_none() {
                return Ok(Some(Refusal::new(
                    "AL-1",
                    Field::Group,
                    format!(
                        "no recipient group called {g}; create it with `certdeck alarm group add {g} …`"
                    ),
                )));
            }
        }
        Ok(None)
    }

    /// Adds `g`'s members to the group of that name (created if new); a channel already in the
    /// group is not added twice.
    pub(super) fn add_group_members(&self, g: &RecipientGroup) -> Result<Action, StoreError> {
        let mut members = self
            .store
            .recipient_group(g.name.trim())?
            .map(|old| old.members)
            .unwrap_or_default();
        for m in &g.members {
            if !members.iter().any(|o| o.channel == m.channel) {
                members.push(m.clone());
            }
        }
        match validate_group(&g.name, members) {
            Ok(group) => {
                self.store.save_recipient_group(&group)?;
                Ok(Action::GroupSaved(Box::new(group)))
            }
            Err(r) => Ok(Action::Refused(r)),
        }
    }

    /// Removes a group, or only its members called `recipient` (the group goes with its last
    /// member). A group a policy names stays: the refusal names the policies.
    pub(super) fn remove_group(
        &self,
        name: &str,
        recipient: Option<&str>,
    ) -> Result<Action, StoreError> {
        let Some(mut group) = self.store.recipient_group(name)? else {
            return Ok(Action::Refused(Refusal::new(
                "AL-1",
                Field::Group,
                format!("no recipient group called {name}"),
            )));
        };
        if let Some(who) = recipient {
            let before = group.members.len();
            group.members.retain(|m| m.name != who);
            if group.members.len() == before {
                return Ok(Action::Refused(Refusal::new(
                    "AL-1",
                    Field::Recipient,
                    format!("group {name} has no recipient called {who}"),
                )));
            }
            if !group.members.is_empty() {
                self.store.save_recipient_group(&group)?;
                return Ok(Action::GroupSaved(Box::new(group)));
            }
        }
        Ok(match self.store.remove_recipient_group(name)? {
            Ok(_) => Action::GroupRemoved(name.to_string()),
            Err(users) => Action::Refused(Refusal::new(
                "AL-1",
                Field::Group,
                format!(
                    "recipient group {name} is named by {}; remove it from {} first (certdeck alarm edit POLICY --groups …, certdeck hosting edit ID --no-group)",
                    users.join(", "),
                    if users.len() == 1 { "it" } else { "them" }
                ),
            )),
        })
    }

    /// Replaces a policy's settings (`input`'s recipients are ignored: they stay as they are).
    pub(super) fn update_alarm(&self, id: &str, input: &AlarmInput) -> Result<Action, StoreError> {
        let Some(old) = self.store.alarm(id)? else {
            return Ok(Action::Refused(Refusal::new(
                "AL-1",
                Field::Id,
                format!("no alarm policy called {id}"),
            )));
        };
        let mut input = input.clone();
        input.recipients = old.recipients.clone();
        let mut p = match validate_policy(&input, old.id.clone(), old.created_at) {
            Ok(p) => p,
            Err(r) => return Ok(Action::Refused(r)),
        };
        if let Some(r) = self.missing_group(&p)? {
            return Ok(Action::Refused(r));
        }
        if let Some(other) = self.store.alarm(&p.name)?.filter(|o| o.id != p.id) {
            return Ok(Action::Refused(Refusal::new(
                "AL-1",
                Field::Name,
                format!(
                    "an alarm policy called {} exists already ({})",
                    p.name, other.id
                ),
            )));
        }
        p.enabled = old.enabled;
        p.next_evaluation = old.next_evaluation;
        p.last_evaluated = old.last_evaluated;
        p.firings = old.firings;
        self.store.save_alarm(&p)?;
        Ok(Action::AlarmSaved(Box::new(p)))
    }

    pub(super) fn enable_alarm(&self, id: &str, on: bool) -> Result<Action, StoreError> {
        let Some(mut p) = self.store.alarm(id)? else {
            return Ok(Action::Refused(Refusal::new(
                "AL-1",
                Field::Id,
                format!("no alarm policy called {id}"),
            )));
        };
        if on && !p.enabled {
            p.next_evaluation = self.clock.now();
        }
        p.enabled = on;
        self.store.save_alarm(&p)?;
        Ok(Action::AlarmSaved(Box::new(p)))
    }

    /// The certificates `policy` watches that are within its threshold now, soonest first: the
    /// schedule's expiry entries up to now + threshold, so the cost follows the matches.
    fn alarm_candidates(
        &self,
        p: &AlarmPolicy,
        now: Timestamp,
    ) -> Result<Vec<CertSummary>, StoreError> {
        let until = now + chrono::Duration::days(p.threshold_days + 1);
        let entries = self
            .store
            .upcoming(now - chrono::Duration::days(1), until, 1_000_000)?;
        let ids: Vec<&str> = entries
            .iter()
            .filter(|e| e.kind == DueKind::Expiry)
            .map(|e| e.cert_id.as_str())
            .collect();
        Ok(self
            .store
            .get_many(ids.into_iter())?
            .into_iter()
            .flatten()
            .map(|c| c.summary())
            .filter(|c| p.triggers(c, now))
            .collect())
    }

    /// `alarm test`: which certificates the policy fires for now (nothing is sent).
    pub(super) fn test_alarm(&self, id: &str) -> Result<Action, StoreError> {
        let Some(p) = self.store.alarm(id)? else {
            return Ok(Action::Refused(Refusal::new(
                "AL-1",
                Field::Id,
                format!("no alarm policy called {id}"),
            )));
        };
        let now = self.clock.now();
        let mut rows = Vec::new();
        for c in self.alarm_candidates(&p, now)? {
            let due = p.due(self.store.last_firing(&p.id, &c.id)?, now);
            rows.push((c, due));
        }
        Ok(Action::AlarmTested(Box::new((p, rows))))
    }

    /// AL-2: evaluates the policy of a due entry, records what fires, schedules the next run.
    pub(super) fn evaluate_alarm(
        &self,
        entry: &DueEntry,
    ) -> Result<Option<(AlarmPolicy, usize)>, StoreError> {
        let Some(mut p) = self.store.alarm(&entry.cert_id)? else {
            self.store.apply_fired(&[(entry.clone(), None)])?;
            return Ok(None);
        };
        if p.entry().as_ref() != Some(entry) {
            self.store.apply_fired(&[(entry.clone(), None)])?;
            return Ok(None);
        }
        let now = self.clock.now();
        let recipients = p.recipients_with(&self.store.recipient_groups()?);
        let mut firings = Vec::new();
        for c in self.alarm_candidates(&p, now)? {
            if !p.due(self.store.last_firing(&p.id, &c.id)?, now) {
                continue;
            }
            let text = p.text(&c, now);
            let event_json = serde_json::json!({
                "event": "alarm",
                "policy": {"id": p.id, "name": p.name, "remarks": p.remarks},
                "cert_id": c.id,
                "cert_name": c.name,
                "domains": c.domains,
                "not_after": c.not_after.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
                "days_left": c.days_left(now),
                "fired_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "text": text,
            })
            .to_string();
            let deliveries = recipients
                .iter()
                .enumerate()
                .map(|(i, r)| {
                    Delivery::pending(
                        &p.id,
                        match &r.group {
                            Some(g) => format!("{} ({g})", r.name),
                            None => r.name.clone(),
                        },
                        r.channel.clone(),
                        event_json.clone(),
                        // One key per recipient channel of one firing: names can repeat across
                        // groups.
                        format!("{}-{}-{}-{i}", p.id, c.id, now.timestamp()),
                        now,
                    )
                })
                .collect();
            firings.push(crate::store::alarms::Firing {
                cert_id: c.id.clone(),
                event: TimelineEvent {
                    at: now,
                    kind: "alarm".into(),
                    message: text,
                },
                deliveries,
            });
        }
        p.next_evaluation = p.next_evaluation(now);
        p.last_evaluated = Some(now);
        p.firings += firings.len() as u64;
        self.store.record_evaluation(&p, entry, &firings, now)?;
        Ok(Some((p, firings.len())))
    }

    /// Tries the deliveries that are due (at most `DELIVERIES_PER_TICK`) side by side, so an
    /// endpoint that times out holds up no other; each result is saved as it comes in.
    pub fn send_deliveries(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let due = self.store.due_deliveries(now, DELIVERIES_PER_TICK)?;
        std::thread::scope(|s| -> Result<(), StoreError> {
            let (tx, results) = std::sync::mpsc::channel();
            for d in &due {
                let tx = tx.clone();
                s.spawn(move || {
                    let sent = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        crate::notify::send(d)
                    }))
                    .unwrap_or_else(|_| Err("internal error while sending".into()));
                    let _ = tx.send((d, sent));
                });
            }
            drop(tx);
            for (d, result) in results {
                self.store
                    .save_delivery(&after_attempt(d, result, self.clock.now()))?;
            }
            Ok(())
        })?;
        Ok(due.len())
    }

    pub(super) fn retry_delivery(&self, id: u64) -> Result<Action, StoreError> {
        let Some(d) = self.store.delivery(id)? else {
            return Ok(Action::Refused(Refusal::new(
                "AL-2",
                Field::Id,
                format!("no delivery {id}"),
            )));
        };
        if d.state == DeliveryState::Delivered {
            return Ok(Action::Refused(Refusal::new(
                "AL-2",
                Field::Id,
                format!("delivery {id} was delivered already"),
            )));
        }
        let now = self.clock.now();
        if self
            .sender
            .background
            .load(std::sync::atomic::Ordering::SeqCst)
        {
            // The sender thread sends it within a second; sending here too could send it twice.
            let due = retried(&d, now);
            self.store.save_delivery(&due)?;
            return Ok(Action::DeliveryTried(Box::new(due)));
        }
        let tried = after_attempt(&retried(&d, now), crate::notify::send(&d), now);
        self.store.save_delivery(&tried)?;
        Ok(Action::DeliveryTried(Box::new(tried)))
    }
}
