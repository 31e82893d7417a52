//! The reducer's part for resources, deployment and hosting (issue #5). Pure, like `reducer`.
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::reducer::refuse;
use crate::app::state::{
    moved, DeployPick, HostingField, HostingForm, HostingOp, Level, Outcome, Overlay, ResourceForm,
    ResourceRow, State,
};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::resource::DeployOutcome;
use crate::domain::time::Timestamp;

/// The names of the resources `cert_id` is deployed to (D-3).
pub fn resource_names(state: &State, cert_id: &str) -> Vec<String> {
    state
        .resources
        .iter()
        .filter(|r| r.holder.as_deref() == Some(cert_id))
        .map(|r| r.resource.name.clone())
        .collect()
}

/// The ids of the hostings in progress that replace `cert_id` or deploy it (D-3).
pub fn in_progress_of(state: &State, cert_id: &str) -> Vec<String> {
    use crate::domain::rules::hosting::{Association, HostingStatus};
    state
        .hostings
        .iter()
        .filter(|h| h.status == HostingStatus::InProgress)
        .filter(|h| {
            h.old_cert == cert_id
                || matches!(&h.association, Association::Specified(s) if s == cert_id)
        })
        .map(|h| h.id.clone())
        .collect()
}

pub fn update(state: &mut State, action: Action, now: Timestamp) -> Vec<Effect> {
    match action {
        Action::AddResource(input) => {
            match crate::domain::resource::validate_resource(&input, String::new(), now) {
                Ok(_) => vec![Effect::AddResource(input)],
                Err(r) => {
                    refuse(state, r);
                    vec![]
                }
            }
        }
        Action::ResourceAdded(r) => {
            let r = *r;
            if matches!(state.overlay, Overlay::ResourceForm(_)) {
                state.overlay = Overlay::None;
            }
            state.say(Level::Info, format!("resource {} ({}) saved", r.name, r.id));
            state.outcome = Some(Outcome::ResourceAdded(Box::new(r)));
            vec![Effect::LoadResources]
        }
        Action::RemoveResource(id) => vec![Effect::RemoveResource(id)],
        Action::UpdateResource { id, input } => vec![Effect::UpdateResource { id, input }],
        Action::EditHosting(e) => vec![Effect::EditHosting(e)],
        Action::ResourceRemoved(id) => {
            state.say(
                Level::Info,
                format!("resource {id} removed; its files were left as they are"),
            );
            state.outcome = Some(Outcome::ResourceRemoved(id));
            vec![Effect::LoadResources]
        }
        Action::ListResources => vec![Effect::LoadResources, Effect::LoadHostings],
        Action::ResourceHistory(id) => vec![Effect::LoadResourceHistory(id)],
        Action::AddHosting(req) => vec![Effect::AddHosting(req)],
        Action::CancelHosting(id) => vec![Effect::CancelHosting(id)],
        Action::RetryHosting(id) => vec![Effect::RetryHosting(id)],
        Action::RollbackHosting(id) => vec![Effect::RollbackHosting(id)],
        Action::HostingsLoaded(list) => {
            state.hostings = list;
            state.hosting_selected = state
                .hosting_selected
                .min(state.visible_hostings().len().saturating_sub(1));
            vec![]
        }
        Action::MoveHosting(delta) => {
            if state.hosting_on_resources {
                state.resource_selected = moved(
                    state.resource_selected,
                    delta,
                    state.visible_resources().len(),
                );
            } else {
                state.hosting_selected = moved(
                    state.hosting_selected,
                    delta,
                    state.visible_hostings().len(),
                );
            }
            vec![]
        }
        Action::ToggleHostingFocus => {
            state.hosting_on_resources = !state.hosting_on_resources;
            vec![]
        }
        Action::EditSelected => {
            if state.hosting_on_resources {
                let Some(r) = state.selected_resource() else {
                    return vec![];
                };
                let input = r.resource.as_input();
                let preset = ResourceForm::PRESETS
                    .iter()
                    .position(|p| *p == r.resource.preset)
                    .unwrap_or(3);
                let fields = [
                    input.name.clone(),
                    String::new(),
                    input.check_command.clone().unwrap_or_default(),
                    input.reload_command.clone().unwrap_or_default(),
                    input.endpoint.clone().unwrap_or_default(),
                    input.sni.clone().unwrap_or_default(),
                ];
                state.overlay = Overlay::ResourceForm(Box::new(ResourceForm {
                    editing: Some((r.resource.id.clone(), input)),
                    preset,
                    fields,
                    focus: 0,
                }));
            } else {
                let Some(h) = state.selected_hosting() else {
                    return vec![];
                };
                if let Err(r) = crate::domain::rules::hosting::check_editable(h) {
                    state.say(Level::Warn, r.to_string());
                    state.outcome = Some(Outcome::Refused(r));
                    return vec![];
                }
                let form = HostingForm {
                    editing: Some(h.id.clone()),
                    cert_id: h.old_cert.clone(),
                    name: state
                        .find(&h.old_cert)
                        .map(|r| r.summary.name.clone())
                        .unwrap_or_default(),
                    days: h.days_before.to_string(),
                    new: match &h.association {
                        crate::domain::rules::hosting::Association::Specified(id) => id.clone(),
                        crate::domain::rules::hosting::Association::Renewal => String::new(),
                    },
                    group: h.group.clone().unwrap_or_default(),
                    confirm_partial: false,
                    notify: h.notify,
                    field: HostingField::Days,
                };
                state.overlay = Overlay::HostingForm(Box::new(form));
            }
            vec![]
        }
        Action::RemoveSelectedResource => {
            if !state.hosting_on_resources {
                state.say(
                    Level::Info,
                    "press p to switch to the resources pane, then D to remove one",
                );
                return vec![];
            }
            if let Some(r) = state.selected_resource() {
                state.overlay = Overlay::ConfirmRemoveResource(Box::new((
                    r.resource.id.clone(),
                    r.resource.name.clone(),
                )));
            }
            vec![]
        }
        Action::OpenResourceForm => {
            state.overlay = Overlay::ResourceForm(Box::new(ResourceForm {
                editing: None,
                preset: 0,
                fields: Default::default(),
                focus: 0,
            }));
            vec![]
        }
        Action::ResourceFormMove(delta) => {
            if let Overlay::ResourceForm(f) = &mut state.overlay {
                f.focus = (f.focus as i64 + delta).rem_euclid(7) as usize;
            }
            vec![]
        }
        Action::ResourceFormPreset(delta) => {
            if let Overlay::ResourceForm(f) = &mut state.overlay {
                f.preset = (f.preset as i64 + delta).rem_euclid(ResourceForm::PRESETS.len() as i64)
                    as usize;
            }
            vec![]
        }
        Action::SetResourceFormText(text) => {
            if let Overlay::ResourceForm(f) = &mut state.overlay {
                if let Some(i) = f.text_index() {
                    f.fields[i] = text;
                }
            }
            vec![]
        }
        Action::ConfirmResourceForm => {
            let Overlay::ResourceForm(f) = &state.overlay else {
                return vec![];
            };
            let text = |i: usize| Some(f.fields[i].trim().to_string()).filter(|t| !t.is_empty());
            let mut input = f
                .editing
                .as_ref()
                .map(|(_, base)| base.clone())
                .unwrap_or_default();
            input.name = f.fields[0].trim().to_string();
            input.preset = Some(ResourceForm::PRESETS[f.preset]);
            if let Some(dir) = text(1) {
                input.targets.clear();
                input.dir = Some(dir.into());
            }
            input.check_command = text(2);
            input.reload_command = text(3);
            input.endpoint = text(4);
            input.sni = text(5);
            match &f.editing {
                Some((id, _)) => vec![Effect::UpdateResource {
                    id: id.clone(),
                    input: Box::new(input),
                }],
                None => {
                    match crate::domain::resource::validate_resource(&input, String::new(), now) {
                        Ok(_) => vec![Effect::AddResource(Box::new(input))],
                        Err(r) => {
                            refuse(state, r);
                            vec![]
                        }
                    }
                }
            }
        }
        Action::OnHosting(HostingOp::History) if state.hosting_on_resources => {
            match state.selected_resource() {
                Some(r) => vec![Effect::LoadResourceHistory(r.resource.id.clone())],
                None => vec![],
            }
        }
        Action::OnHosting(op) => {
            let Some(h) = state.selected_hosting() else {
                state.say(
                    Level::Info,
                    "no hosting selected: add one from a certificate's More menu (. then h)",
                );
                return vec![];
            };
            let id = h.id.clone();
            // Cancelling and rolling back ask first, saying what will happen (#12).
            let ask = |state: &mut State, text: String| {
                state.overlay = Overlay::ConfirmHosting(Box::new((op, id.clone(), text)));
                vec![]
            };
            match op {
                HostingOp::History => vec![Effect::LoadHostingHistory(id)],
                HostingOp::Cancel => {
                    let text = format!(
                        "Cancel hosting {id}? {} will not be replaced on its resources at {}; nothing deployed so far changes. A cancelled hosting cannot be resumed (add a new one).",
                        h.old_cert,
                        h.replace_at.format("%Y-%m-%d %H:%M UTC")
                    );
                    ask(state, text)
                }
                HostingOp::Retry => vec![Effect::RetryHosting(id)],
                HostingOp::Rollback if h.new_cert.is_none() => {
                    state.say(
                        Level::Info,
                        format!("hosting {id} deployed nothing: there is nothing to roll back"),
                    );
                    vec![]
                }
                HostingOp::Rollback => {
                    let text = format!(
                        "Roll back hosting {id}? {} goes back on its resources in place of {} (backup, write, check, reload, probe), even if it has expired.",
                        h.old_cert,
                        h.new_cert.clone().unwrap_or_default()
                    );
                    ask(state, text)
                }
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
                editing: None,
                cert_id: id,
                name,
                days: "7".into(),
                new: String::new(),
                group: String::new(),
                confirm_partial: false,
                notify: true,
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
                    HostingField::Group => f.group = text.trim().to_string(),
                    HostingField::Partial | HostingField::Messages => {}
                }
            }
            vec![]
        }
        Action::NextHostingField => {
            if let Overlay::HostingForm(f) = &mut state.overlay {
                let at = HostingField::ORDER.iter().position(|x| *x == f.field);
                f.field =
                    HostingField::ORDER[at.map_or(0, |i| (i + 1) % HostingField::ORDER.len())];
            }
            vec![]
        }
        Action::ToggleHostingSwitch => {
            if let Overlay::HostingForm(f) = &mut state.overlay {
                match f.field {
                    HostingField::Partial => f.confirm_partial = !f.confirm_partial,
                    HostingField::Messages => f.notify = !f.notify,
                    _ => {}
                }
            }
            vec![]
        }
        Action::ConfirmHostingForm => {
            let Overlay::HostingForm(f) = &state.overlay else {
                return vec![];
            };
            let Ok(days) = f.days.parse::<u32>() else {
                let r = Refusal::new("H-4", Field::Years, "type the number of days before expiry");
                refuse(state, r);
                return vec![];
            };
            let association = if f.new.is_empty() {
                crate::domain::rules::hosting::Association::Renewal
            } else {
                crate::domain::rules::hosting::Association::Specified(f.new.clone())
            };
            let group = (!f.group.is_empty()).then(|| f.group.clone());
            if let Some(id) = &f.editing {
                return vec![Effect::EditHosting(Box::new(
                    crate::domain::rules::hosting::HostingEdit {
                        id: id.clone(),
                        days_before: days,
                        association: Some(association),
                        confirm_partial: f.confirm_partial,
                        group: Some(group),
                        notify: Some(f.notify),
                    },
                ))];
            }
            let req = crate::domain::rules::hosting::HostingRequest {
                old_cert: f.cert_id.clone(),
                association,
                resources: Vec::new(),
                days_before: days,
                confirm_partial: f.confirm_partial,
                notify: f.notify,
                group,
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
                    "no resources yet: add one on the Hosting tab (3, then p for the resources pane, then a)",
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
                allow_expired: false,
            }));
            vec![]
        }
        Action::MoveDeployPick(delta) => {
            let len = state.resources.len();
            if let Overlay::DeployPick(p) = &mut state.overlay {
                p.selected = moved(p.selected, delta, len);
            }
            vec![]
        }
        Action::ToggleDeployExpired => {
            if let Overlay::DeployPick(p) = &mut state.overlay {
                p.allow_expired = !p.allow_expired;
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
                allow_expired: p.allow_expired,
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
            vec![
                Effect::LoadHostings,
                Effect::LoadResources,
                state.load_messages(),
            ]
        }
        Action::ResourcesLoaded(rows) => {
            state.resources = rows;
            state.resource_selected = state
                .resource_selected
                .min(state.visible_resources().len().saturating_sub(1));
            vec![]
        }
        Action::Deploy {
            cert,
            resource,
            allow_expired,
        } => {
            if cert.is_empty() || resource.is_empty() {
                let r = Refusal::new("DEPLOY", Field::Id, "name the certificate and the resource");
                refuse(state, r);
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
            vec![Effect::LoadResources, state.load_messages()]
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
