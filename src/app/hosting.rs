//! The reducer's part for resources and deployment (issue #5). Pure, like `reducer`.
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::{Level, Outcome, ResourceRow, State};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::resource::DeployOutcome;
use crate::domain::time::Timestamp;

/// Whether `update` below handles `action`.
pub fn handles(action: &Action) -> bool {
    matches!(
        action,
        Action::AddResource(_)
            | Action::ResourceAdded(_)
            | Action::RemoveResource(_)
            | Action::ResourceRemoved(_)
            | Action::ResourcesLoaded(_)
            | Action::ListResources
            | Action::Deploy { .. }
            | Action::Deployed(_)
            | Action::AddHosting(_)
            | Action::HostingSaved { .. }
            | Action::CancelHosting(_)
            | Action::RetryHosting(_)
            | Action::RollbackHosting(_)
            | Action::HostingsLoaded(_)
    )
}

/// The names of the resources `cert_id` is deployed to (D-3).
pub fn resource_names(state: &State, cert_id: &str) -> Vec<String> {
    state
        .resources
        .iter()
        .filter(|r| r.holder.as_deref() == Some(cert_id))
        .map(|r| r.resource.name.clone())
        .collect()
}

pub fn update(state: &mut State, action: Action, now: Timestamp) -> Vec<Effect> {
    match action {
        Action::AddResource(input) => {
            match crate::domain::resource::validate_resource(&input, String::new(), now) {
                Ok(_) => vec![Effect::AddResource(input)],
                Err(r) => {
                    state.say(Level::Error, r.to_string());
                    state.outcome = Some(Outcome::Refused(r));
                    vec![]
                }
            }
        }
        Action::ResourceAdded(r) => {
            let r = *r;
            state.say(Level::Info, format!("resource {} ({}) added", r.name, r.id));
            state.outcome = Some(Outcome::ResourceAdded(Box::new(r)));
            vec![Effect::LoadResources]
        }
        Action::RemoveResource(id) => vec![Effect::RemoveResource(id)],
        Action::ResourceRemoved(id) => {
            state.say(
                Level::Info,
                format!("resource {id} removed; its files were left as they are"),
            );
            state.outcome = Some(Outcome::ResourceRemoved(id));
            vec![Effect::LoadResources]
        }
        Action::ListResources => vec![Effect::LoadResources, Effect::LoadHostings],
        Action::AddHosting(req) => vec![Effect::AddHosting(req)],
        Action::CancelHosting(id) => vec![Effect::CancelHosting(id)],
        Action::RetryHosting(id) => vec![Effect::RetryHosting(id)],
        Action::RollbackHosting(id) => vec![Effect::RollbackHosting(id)],
        Action::HostingsLoaded(list) => {
            state.hostings = list;
            vec![]
        }
        Action::HostingSaved { hosting, warnings } => {
            let level = match hosting.status {
                crate::domain::rules::hosting::HostingStatus::Failed => Level::Warn,
                _ => Level::Info,
            };
            let text = hosting
                .last_result
                .clone()
                .unwrap_or_else(|| format!("hosting {} {}", hosting.id, hosting.status.as_str()));
            state.say(level, format!("{}: {text}", hosting.id));
            state.outcome = Some(Outcome::HostingSaved { hosting, warnings });
            vec![Effect::LoadHostings, Effect::LoadResources]
        }
        Action::ResourcesLoaded(rows) => {
            state.resources = rows;
            vec![]
        }
        Action::Deploy {
            cert,
            resource,
            allow_expired,
        } => {
            if cert.is_empty() || resource.is_empty() {
                let r = Refusal::new("DEPLOY", Field::Id, "name the certificate and the resource");
                state.say(Level::Error, r.to_string());
                state.outcome = Some(Outcome::Refused(r));
                return vec![];
            }
            vec![Effect::Deploy {
                cert,
                resource,
                allow_expired,
            }]
        }
        Action::Deployed(done) => {
            let (record, name) = *done;
            let level = match record.outcome {
                DeployOutcome::Deployed => Level::Info,
                DeployOutcome::RolledBack { .. } | DeployOutcome::Refused { .. } => Level::Warn,
                DeployOutcome::RollbackFailed { .. } => Level::Error,
            };
            state.say(
                level,
                format!("{}: {}", record.cert_id, record.summary(&name)),
            );
            state.outcome = Some(Outcome::Deployed(Box::new(record)));
            vec![Effect::LoadResources]
        }
        _ => vec![],
    }
}

/// A row of the resource list: the resource and the certificate it holds.
pub fn rows(
    resources: Vec<crate::domain::resource::Resource>,
    holders: Vec<Option<String>>,
) -> Vec<ResourceRow> {
    resources
        .into_iter()
        .zip(holders)
        .map(|(resource, holder)| ResourceRow { resource, holder })
        .collect()
}
