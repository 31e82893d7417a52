//! Records as schema v6 stored them, frozen: read only by the v6 → v7 migration. postcard is not
//! self-describing, so a record whose shape changed is decoded with its old shape and rewritten.
//! v7 added recipient groups to policies and a CA file to SMTP settings.
use super::{db_err, decode_v7, encode_v7, StoreError, ALARMS, OUTBOX};
use crate::domain::delivery::{Delivery, DeliveryState};
use crate::domain::rules::alarm::{
    AlarmPolicy, Channel, Frequency, Objects, Recipient, Smtp, SmtpSecurity, WebhookStyle,
};
use crate::domain::time::Timestamp;
use redb::ReadableTable;
use serde::Deserialize;

#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct SmtpV6 {
    host: String,
    port: u16,
    security: SmtpSecurity,
    user: Option<String>,
    password_file: Option<std::path::PathBuf>,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
enum ChannelV6 {
    Webhook {
        url: String,
        secret: Option<String>,
        style: WebhookStyle,
    },
    Command {
        program: String,
    },
    Email {
        to: String,
        from: String,
        smtp: SmtpV6,
    },
}

impl From<ChannelV6> for Channel {
    fn from(c: ChannelV6) -> Channel {
        match c {
            ChannelV6::Webhook { url, secret, style } => Channel::Webhook { url, secret, style },
            ChannelV6::Command { program } => Channel::Command { program },
            ChannelV6::Email { to, from, smtp } => Channel::Email {
                to,
                from,
                smtp: Smtp {
                    host: smtp.host,
                    port: smtp.port,
                    security: smtp.security,
                    user: smtp.user,
                    password_file: smtp.password_file,
                    ca_file: None,
                },
            },
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct RecipientV6 {
    name: String,
    group: Option<String>,
    channel: ChannelV6,
}

impl From<RecipientV6> for Recipient {
    fn from(r: RecipientV6) -> Recipient {
        Recipient {
            name: r.name,
            group: r.group,
            channel: r.channel.into(),
        }
    }
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct AlarmPolicyV6 {
    id: String,
    name: String,
    remarks: String,
    project: Option<String>,
    objects: Objects,
    threshold_days: i64,
    period_secs: i64,
    frequency: Frequency,
    recipients: Vec<RecipientV6>,
    enabled: bool,
    created_at: Timestamp,
    next_evaluation: Timestamp,
    last_evaluated: Option<Timestamp>,
    firings: u64,
}

#[derive(Deserialize)]
#[cfg_attr(test, derive(serde::Serialize))]
struct DeliveryV6 {
    id: u64,
    policy_id: String,
    recipient: String,
    channel: ChannelV6,
    event: String,
    idempotency_key: String,
    attempts: u32,
    next_attempt_at: Timestamp,
    state: DeliveryState,
    last_error: Option<String>,
    created_at: Timestamp,
    delivered_at: Option<Timestamp>,
}

/// Rewrites every v6 policy (no groups yet) and delivery (no SMTP CA file yet) in v7's shape.
pub(super) fn migrate(txn: &redb::WriteTransaction) -> Result<(), StoreError> {
    let mut alarms = txn.open_table(ALARMS).map_err(db_err)?;
    let mut old = Vec::new();
    for row in alarms.iter().map_err(db_err)? {
        old.push(decode_v7::<AlarmPolicyV6>(row.map_err(db_err)?.1.value())?);
    }
    for p in old {
        let new = AlarmPolicy {
            id: p.id,
            name: p.name,
            remarks: p.remarks,
            project: p.project,
            objects: p.objects,
            threshold_days: p.threshold_days,
            period_secs: p.period_secs,
            frequency: p.frequency,
            recipients: p.recipients.into_iter().map(Recipient::from).collect(),
            enabled: p.enabled,
            created_at: p.created_at,
            next_evaluation: p.next_evaluation,
            last_evaluated: p.last_evaluated,
            firings: p.firings,
            groups: Vec::new(),
        };
        alarms
            .insert(new.id.as_str(), encode_v7(&new).as_slice())
            .map_err(db_err)?;
    }
    let mut outbox = txn.open_table(OUTBOX).map_err(db_err)?;
    let mut old = Vec::new();
    for row in outbox.iter().map_err(db_err)? {
        old.push(decode_v7::<DeliveryV6>(row.map_err(db_err)?.1.value())?);
    }
    for d in old {
        let new = Delivery {
            id: d.id,
            policy_id: d.policy_id,
            recipient: d.recipient,
            channel: d.channel.into(),
            event: d.event,
            idempotency_key: d.idempotency_key,
            attempts: d.attempts,
            next_attempt_at: d.next_attempt_at,
            state: d.state,
            last_error: d.last_error,
            created_at: d.created_at,
            delivered_at: d.delivered_at,
        };
        outbox
            .insert(new.id, encode_v7(&new).as_slice())
            .map_err(db_err)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::{Store, MESSAGES, MESSAGES_UNREAD, META, OUTBOX_DUE, RECIPIENT_GROUPS};
    use super::*;
    use crate::domain::message::{Message, Severity};
    use chrono::Utc;
    use redb::Database;

    #[test]
    fn migration_to_v7_rewrites_v6_policies_and_deliveries_and_indexes_unread_messages() {
        let dir = tempfile::tempdir().unwrap();
        let (db, key) = (dir.path().join("c.redb"), dir.path().join("k"));
        drop(Store::open(&db, &key, "test").unwrap());
        let now = Utc::now();
        let email = || ChannelV6::Email {
            to: "ops@example.com".into(),
            from: "certdeck@example.com".into(),
            smtp: SmtpV6 {
                host: "127.0.0.1".into(),
                port: 25,
                security: SmtpSecurity::StartTls,
                user: None,
                password_file: None,
            },
        };
        {
            // A v6 file: a policy and a delivery in v6's shape, a read and an unread message.
            let raw = Database::create(&db).unwrap();
            let txn = raw.begin_write().unwrap();
            txn.delete_table(MESSAGES_UNREAD).unwrap();
            txn.delete_table(RECIPIENT_GROUPS).unwrap();
            let policy = AlarmPolicyV6 {
                id: "p1".into(),
                name: "expiring".into(),
                remarks: String::new(),
                project: None,
                objects: Objects::All,
                threshold_days: 30,
                period_secs: 60,
                frequency: Frequency::Once,
                recipients: vec![RecipientV6 {
                    name: "ops".into(),
                    group: None,
                    channel: email(),
                }],
                enabled: true,
                created_at: now,
                next_evaluation: now,
                last_evaluated: None,
                firings: 3,
            };
            txn.open_table(ALARMS)
                .unwrap()
                .insert("p1", encode_v7(&policy).as_slice())
                .unwrap();
            let delivery = DeliveryV6 {
                id: 1,
                policy_id: "p1".into(),
                recipient: "ops".into(),
                channel: email(),
                event: "{}".into(),
                idempotency_key: "k".into(),
                attempts: 1,
                next_attempt_at: now,
                state: DeliveryState::Pending,
                last_error: Some("SMTP 127.0.0.1:25: refused".into()),
                created_at: now,
                delivered_at: None,
            };
            txn.open_table(OUTBOX)
                .unwrap()
                .insert(1, encode_v7(&delivery).as_slice())
                .unwrap();
            txn.open_table(OUTBOX_DUE)
                .unwrap()
                .insert((now.timestamp(), 1), ())
                .unwrap();
            let mut messages = txn.open_table(MESSAGES).unwrap();
            for (id, read) in [(1u64, true), (2, false)] {
                let m = Message {
                    id,
                    at: now,
                    cert_id: None,
                    kind: "alarm".into(),
                    severity: Severity::Warning,
                    text: format!("message {id}"),
                    read,
                };
                messages.insert(id, encode_v7(&m).as_slice()).unwrap();
            }
            drop(messages);
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 6u32.to_le_bytes().as_slice())
                .unwrap();
            txn.commit().unwrap();
        }
        let store = Store::open(&db, &key, "test").unwrap();
        let p = &store.alarms().unwrap()[0];
        assert_eq!((p.name.as_str(), p.firings), ("expiring", 3));
        assert!(p.groups.is_empty());
        let Channel::Email { smtp, .. } = &p.recipients[0].channel else {
            panic!("the email recipient survives: {p:?}")
        };
        assert_eq!((smtp.port, smtp.ca_file.as_ref()), (25, None));
        let d = store.delivery(1).unwrap().unwrap();
        assert_eq!((d.attempts, d.state), (1, DeliveryState::Pending));
        assert!(matches!(d.channel, Channel::Email { .. }));
        assert_eq!(store.due_deliveries(now, 10).unwrap().len(), 1, "still due");
        assert_eq!(store.unread_messages().unwrap(), 1);
        let unread = store.messages(10, true, "").unwrap();
        assert_eq!(unread.len(), 1);
        assert_eq!(unread[0].id, 2);
        assert_eq!(store.mark_read(None).unwrap(), 1);
        assert_eq!(store.unread_messages().unwrap(), 0);
        assert_eq!(store.messages(10, false, "MESSAGE 1").unwrap().len(), 1);
    }
}
