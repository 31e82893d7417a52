//! The demo's expiry alarm: a recipient group with a command that succeeds and a webhook nobody
//! answers (so the outbox shows a delivered and a retried delivery), and a policy naming it.
use crate::app::state::Outcome;
use crate::app::{Action, State};
use crate::domain::rules::alarm::{
    AlarmInput, Channel, Frequency, Objects, Recipient, RecipientGroup, WebhookStyle,
};
use crate::engine::Engine;

pub fn seed(engine: &Engine) -> Result<(), String> {
    let mut state = State::default();
    let members = vec![
        Recipient {
            name: "ops-log".into(),
            group: None,
            channel: Channel::Command {
                program: "cat >/dev/null".into(),
            },
        },
        Recipient {
            name: "pager".into(),
            group: None,
            // Port 9 (discard) on loopback: nothing listens, so this one is retried with backoff.
            channel: Channel::Webhook {
                url: "http://127.0.0.1:9/demo-pager".into(),
                secret: None,
                style: WebhookStyle::Json,
            },
        },
    ];
    engine.dispatch(
        &mut state,
        Action::AddGroupMembers(Box::new(RecipientGroup {
            name: "oncall".into(),
            members,
        })),
    );
    if !matches!(state.outcome, Some(Outcome::GroupSaved(_))) {
        return Err(format!("demo recipient group: {:?}", state.outcome));
    }
    engine.dispatch(
        &mut state,
        Action::AddAlarm(Box::new(AlarmInput {
            name: "expiring within 14 days".into(),
            remarks: "demo: fires once per certificate".into(),
            project: None,
            objects: Objects::All,
            threshold_days: Some(14),
            period_secs: None,
            frequency: Frequency::Once,
            recipients: vec![],
            groups: vec!["oncall".into()],
        })),
    );
    match &state.outcome {
        Some(Outcome::AlarmSaved(_)) => Ok(()),
        other => Err(format!("demo alarm policy: {other:?}")),
    }
}
