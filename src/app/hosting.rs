//! The reducer's part for resources and deployment (issue #5). Pure, like `reducer`.
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::state::{
    DeployPick, HostingField, HostingForm, HostingOp, Level, Outcome, Overlay, ResourceRow, State,
};
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
            | Action::MoveHosting(_)
            | Action::OnHosting(_)
            | Action::HostingHistoryLoaded(_)
            | Action::OpenHostingForm(_)
            | Action::SetHostingFormText(_)
            | Action::NextHostingField
            | Action::ToggleHostingPartial
            | Action::ConfirmHostingForm
            | Action::OpenDeployPick(_)
            | Action::MoveDeployPick(_)
            | Action::ConfirmDeployPick
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
            state.hosting_selected = state
                .hosting_selected
                .min(state.hostings.len().saturating_sub(1));
            vec![]
        }
        Action::MoveHosting(delta) => {
            let max = state.hostings.len().saturating_sub(1) as i64;
            state.hosting_selected = (state.hosting_selected as i64 + delta).clamp(0, max) as usize;
            vec![]
        }
        Action::OnHosting(op) => {
            let Some(h) = state.hostings.get(state.hosting_selected) else {
                state.say(
                    Level::Info,
                    "no hosting selected: add one from a certificate's More menu (. then h)",
                );
                return vec![];
            };
            let id = h.id.clone();
            match op {
                HostingOp::History => vec![Effect::LoadHostingHistory(id)],
                HostingOp::Cancel => vec![Effect::CancelHosting(id)],
                HostingOp::Retry => vec![Effect::RetryHosting(id)],
                HostingOp::Rollback => vec![Effect::RollbackHosting(id)],
            }
        }
        Action::HostingHistoryLoaded(h) => {
            state.overlay = Overlay::HostingHistory(h);
            vec![]
        }
        Action::OpenHostingForm(id) => {
            let Some(id) = id.or_else(|| state.selected_row().map(|r| r.summary.id.clone())) else {
                return vec![];
            };
            let name = state
                .find(&id)
                .map(|r| r.summary.name.clone())
                .unwrap_or_default();
            state.overlay = Overlay::HostingForm(Box::new(HostingForm {
                cert_id: id,
                name,
                days: "7".into(),
                new: String::new(),
                confirm_partial: false,
                field: HostingField::Days,
            }));
            vec![]
        }
        Action::SetHostingFormText(text) => {
            if let Overlay::HostingForm(f) = &mut state.overlay {
                match f.field {
                    HostingField::Days => {
                        f.days = text.chars().filter(char::is_ascii_digit).collect()
                    }
                    HostingField::New => f.new = text.trim().to_string(),
                }
            }
            vec![]
        }
        Action::NextHostingField => {
            if let Overlay::HostingForm(f) = &mut state.overlay {
                f.field = match f.field {
                    HostingField::Days => HostingField::New,
                    HostingField::New => HostingField::Days,
                };
            }
            vec![]
        }
        Action::ToggleHostingPartial => {
            if let Overlay::HostingForm(f) = &mut state.overlay {
                f.confirm_partial = !f.confirm_partial;
            }
            vec![]
        }
        Action::ConfirmHostingForm => {
            let Overlay::HostingForm(f) = &state.overlay else {
                return vec![];
            };
            let Ok(days) = f.days.parse::<u32>() else {
                let r = Refusal::new("H-4", Field::Years, "type the number of days before expiry");
                state.say(Level::Error, r.to_string());
                state.outcome = Some(Outcome::Refused(r));
                return vec![];
            };
            let req = crate::domain::rules::hosting::HostingRequest {
                old_cert: f.cert_id.clone(),
                association: if f.new.is_empty() {
                    crate::domain::rules::hosting::Association::Renewal
                } else {
                    crate::domain::rules::hosting::Association::Specified(f.new.clone())
                },
                resources: Vec::new(),
                days_before: days,
                confirm_partial: f.confirm_partial,
                notify: true,
            };
            vec![Effect::AddHosting(Box::new(req))]
        }
        Action::OpenDeployPick(id) => {
            let Some(id) = id.or_else(|| state.selected_row().map(|r| r.summary.id.clone())) else {
                return vec![];
            };
            if state.resources.is_empty() {
                let r = Refusal::new(
                    "DEPLOY",
                    Field::Id,
                    "no resources yet: add one with `certdeck resource add NAME --preset nginx --dir DIR`",
                );
                state.say(Level::Warn, r.to_string());
                state.outcome = Some(Outcome::Refused(r));
                return vec![];
            }
            let name = state
                .find(&id)
                .map(|r| r.summary.name.clone())
                .unwrap_or_default();
            state.overlay = Overlay::DeployPick(Box::new(DeployPick {
                cert_id: id,
                name,
                selected: 0,
            }));
            vec![]
        }
        Action::MoveDeployPick(delta) => {
            let max = state.resources.len().saturating_sub(1) as i64;
            if let Overlay::DeployPick(p) = &mut state.overlay {
                p.selected = (p.selected as i64 + delta).clamp(0, max) as usize;
            }
            vec![]
        }
        Action::ConfirmDeployPick => {
            let Overlay::DeployPick(p) = &state.overlay else {
                return vec![];
            };
            let Some(r) = state.resources.get(p.selected) else {
                return vec![];
            };
            let effect = Effect::Deploy {
                cert: p.cert_id.clone(),
                resource: r.resource.id.clone(),
                allow_expired: false,
            };
            state.say(
                Level::Info,
                format!("deploying {} to {}…", p.cert_id, r.resource.name),
            );
            state.overlay = Overlay::None;
            vec![effect]
        }
        Action::HostingSaved { hosting, warnings } => {
            if matches!(state.overlay, Overlay::HostingForm(_)) {
                state.overlay = Overlay::None;
            }
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
