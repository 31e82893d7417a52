//! `update`: the one place where actions change state. Pure: no I/O, no clock, no terminal.
use crate::app::action::Action;
use crate::app::command;
use crate::app::effect::Effect;
use crate::app::state::{moved, CertRow, Input, Level, Outcome, Overlay, State, Tab};
use crate::domain::cert::mozilla_anchor_subjects;
use crate::domain::model::TimelineEvent;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::delete::check_delete;
use crate::domain::rules::upload::validate_upload;
use crate::domain::time::Timestamp;

/// Sets the `/` filter where the user is (the help's search, or the tab's list) and keeps the
/// selection on a row that is still shown.
fn set_filter(state: &mut State, f: String) -> Vec<Effect> {
    if matches!(state.overlay, Overlay::Help) {
        state.help_filter = f;
        state.help_scroll = 0;
        return vec![];
    }
    match state.tab {
        Tab::Certificates => state.apply_filter(f),
        Tab::Validation => {
            let keep = state.selected_order().map(|o| o.summary.id.clone());
            state.order_filter = f;
            state.reselect_order(keep);
        }
        Tab::Hosting => {
            state.hosting_filter = f;
            state.hosting_selected = 0;
            state.resource_selected = 0;
        }
        Tab::Alarms => {
            state.message_filter = f;
            state.message_selected = 0;
            return vec![state.load_messages()];
        }
    }
    vec![]
}

pub fn update(state: &mut State, action: Action, now: Timestamp) -> Vec<Effect> {
    state.now = now;
    match action {
        Action::SelectTab(tab) => {
            // A status line belongs to the view it was said in (#12).
            if state.tab != tab {
                state.status = None;
            }
            state.tab = tab;
        }
        Action::NextTab => state.tab = Tab::ALL[(state.tab.index() + 1) % Tab::ALL.len()],
        Action::PrevTab => {
            state.tab = Tab::ALL[(state.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
        }
        Action::MoveBy(delta) => {
            state.selected = crate::app::state::moved(state.selected, delta, state.visible.len());
        }
        Action::Top => state.selected = 0,
        Action::Bottom => state.selected = state.visible.len().saturating_sub(1),
        Action::CycleSort => {
            state.sort = state.sort.next();
            state.rebuild_view();
            state.say(Level::Info, format!("sorted by {}", state.sort.label()));
        }
        Action::SortBy(key) => {
            state.sort = key;
            state.rebuild_view();
            state.say(Level::Info, format!("sorted by {}", state.sort.label()));
        }
        Action::ReverseSort => {
            state.descending = !state.descending;
            state.rebuild_view();
            state.say(
                Level::Info,
                format!(
                    "sorted by {}, {}",
                    state.sort.label(),
                    if state.descending {
                        "reversed"
                    } else {
                        "in order"
                    }
                ),
            );
        }
        Action::StartFilter => state.input = Input::Filter,
        Action::SetFilter(f) => return set_filter(state, f),
        Action::EndFilter { keep } => {
            state.input = Input::Normal;
            if !keep {
                return set_filter(state, String::new());
            }
        }
        Action::StartCommand => state.input = Input::Command(String::new()),
        Action::SetCommand(c) => state.input = Input::Command(c),
        Action::CancelCommand => state.input = Input::Normal,
        Action::RunCommand(line) => {
            state.input = Input::Normal;
            match command::parse(&line) {
                Ok(Action::Refresh(None)) => {
                    // Asked for: say it was done (the start-up refresh says nothing).
                    state.say(Level::Info, "reloaded from the store");
                    return update(state, Action::Refresh(None), now);
                }
                Ok(action) => return update(state, action, now),
                Err(e) => state.say(Level::Error, e),
            }
        }
        Action::ShowStatusHistory => state.overlay = Overlay::StatusHistory,
        Action::ToggleHelp => {
            state.help_scroll = 0;
            state.help_filter.clear();
            state.overlay = match state.overlay {
                Overlay::Help => Overlay::None,
                _ => Overlay::Help,
            }
        }
        Action::ScrollHelp(delta) => {
            state.help_scroll = (state.help_scroll as i32 + delta).clamp(0, 200) as u16;
        }
        Action::OpenDetail => {
            if let Some(row) = state.selected_row() {
                return vec![Effect::LoadDetail(row.summary.id.clone())];
            }
        }
        Action::ScrollDetail(delta) => match &mut state.overlay {
            Overlay::Detail(d) => d.scroll = (d.scroll as i32 + delta).max(0) as u16,
            Overlay::HostingHistory(h) => h.scroll = (h.scroll as i32 + delta).max(0) as u16,
            _ => {}
        },
        Action::Back => {
            // Esc also clears the status line (#12); what Esc itself did is said below.
            state.status = None;
            if state.input != Input::Normal {
                state.input = Input::Normal;
            } else if !matches!(state.overlay, Overlay::None) {
                if matches!(state.overlay, Overlay::ConfirmDelete(_)) {
                    state.say(Level::Info, "delete cancelled; nothing was changed");
                }
                if matches!(state.overlay, Overlay::ConfirmCancel(_)) {
                    state.say(Level::Info, "the review goes on; nothing was changed");
                }
                if matches!(state.overlay, Overlay::Revoke(_)) {
                    state.say(Level::Info, "revocation not submitted; nothing was changed");
                }
                state.overlay = Overlay::None;
                state.upload_refusal = None;
            } else if !state.filter_text().is_empty() {
                return set_filter(state, String::new());
            }
        }
        Action::Quit => state.quit = true,
        // The More menu, revocation, reissue and export.
        a @ (Action::OpenMore
        | Action::QuickMenu(_)
        | Action::MoreLoaded(_)
        | Action::MoveMenu(_)
        | Action::RunMenu
        | Action::MenuKey(_)
        | Action::Revoke { .. }
        | Action::RevocationPlanned(_)
        | Action::MoveRevokeReason(_)
        | Action::SetRevokeDocument(_)
        | Action::NextRevokeField
        | Action::ConfirmRevoke
        | Action::RevocationSubmitted { .. }
        | Action::OpenExport(_)
        | Action::MoveExportFormat(_)
        | Action::ToggleExportField
        | Action::SetExportText(_)
        | Action::ConfirmExport
        | Action::OpenReissue(_)
        | Action::MoveReissueChoice(_)
        | Action::NextReissueField
        | Action::SetReissueText(_)
        | Action::ConfirmReissue
        | Action::Reissue(_)
        | Action::Reissued { .. }
        | Action::Export(_)
        | Action::Exported { .. }) => return crate::app::lifecycle::update(state, a, now),
        // The message center, alarm policies and the outbox.
        a @ (Action::AddAlarm(_)
        | Action::AlarmSaved(_)
        | Action::RemoveAlarm(_)
        | Action::OpenAlarmForm
        | Action::ToggleAlarmFocus
        | Action::EditPolicy
        | Action::TogglePolicy
        | Action::UpdateAlarm(_, _)
        | Action::AlarmFormMove(_)
        | Action::SetAlarmFormText(_)
        | Action::ConfirmAlarmForm
        | Action::EnableAlarm(_, _)
        | Action::AlarmRemoved(_)
        | Action::AddGroupMembers(_)
        | Action::RemoveGroup { .. }
        | Action::GroupSaved(_)
        | Action::GroupRemoved(_)
        | Action::TestAlarm(_)
        | Action::AlarmTested(_)
        | Action::ListAlarms
        | Action::AlarmsLoaded { .. }
        | Action::RetryDelivery(_)
        | Action::RetryDeadDeliveries
        | Action::ShowGroups
        | Action::DeliveryTried(_)
        | Action::MessagesLoaded { .. }
        | Action::MoveMessage(_)
        | Action::MarkRead(_)
        | Action::MarkAllRead
        | Action::OpenMessage
        | Action::ToggleUnreadOnly) => return crate::app::alarms::update(state, a, now),
        // Resources, deployment and hosting.
        a @ (Action::AddResource(_)
        | Action::ResourceAdded(_)
        | Action::RemoveResource(_)
        | Action::UpdateResource { .. }
        | Action::EditHosting(_)
        | Action::ResourceRemoved(_)
        | Action::ResourcesLoaded(_)
        | Action::ListResources
        | Action::ResourceHistory(_)
        | Action::Deploy { .. }
        | Action::Deployed(_)
        | Action::AddHosting(_)
        | Action::HostingSaved { .. }
        | Action::CancelHosting(_)
        | Action::RetryHosting(_)
        | Action::RollbackHosting(_)
        | Action::HostingsLoaded(_)
        | Action::MoveHosting(_)
        | Action::ToggleHostingFocus
        | Action::EditSelected
        | Action::RemoveSelectedResource
        | Action::OpenResourceForm
        | Action::ResourceFormMove(_)
        | Action::ResourceFormPreset(_)
        | Action::SetResourceFormText(_)
        | Action::ConfirmResourceForm
        | Action::OnHosting(_)
        | Action::HostingHistoryLoaded(_)
        | Action::OpenHostingForm(_)
        | Action::SetHostingFormText(_)
        | Action::NextHostingField
        | Action::ToggleHostingSwitch
        | Action::ConfirmHostingForm
        | Action::OpenDeployPick(_)
        | Action::MoveDeployPick(_)
        | Action::ToggleDeployExpired
        | Action::ConfirmDeployPick) => return crate::app::hosting::update(state, a, now),
        Action::ChangedElsewhere => {
            state.say(
                Level::Info,
                "reloaded: changed by another certdeck (a command, a TUI or the service)"
                    .to_string(),
            );
            return update(state, Action::Refresh(None), now);
        }
        Action::Refresh(None) => {
            return vec![
                Effect::LoadAll,
                Effect::LoadAccount,
                Effect::LoadZones,
                Effect::LoadTrust,
                Effect::LoadOrders,
                Effect::LoadResources,
                Effect::LoadHostings,
                state.load_messages(),
                Effect::LoadAlarms,
            ]
        }
        Action::Refresh(Some(id)) => {
            return vec![
                Effect::LoadOne(id),
                Effect::LoadResources,
                Effect::LoadHostings,
            ]
        }
        Action::Forecast(days) => return vec![Effect::LoadForecast(days)],
        Action::ForecastLoaded { days, entries } => {
            state.overlay = Overlay::Forecast { days, entries }
        }
        Action::OpenApply => {
            state.overlay = Overlay::Apply;
            state.upload_refusal = None;
            return vec![Effect::LoadAcmeAccounts];
        }
        Action::AcmeAccountsLoaded(accounts) => state.acme_accounts = accounts,
        Action::Scan(paths) => {
            if state.scan.is_some() {
                state.say(Level::Warn, "a scan is already under way".to_string());
                return vec![];
            }
            state.scan = Some(Default::default());
            state.say(Level::Info, "scanning for certificates…".to_string());
            return vec![Effect::Scan(paths)];
        }
        Action::ScanProgress(p) => {
            if state.scan.is_some() {
                state.scan = Some(p);
            }
        }
        Action::Scanned(r) => {
            state.scan = None;
            // What changed first: at 80 columns the status line keeps the start.
            let mut text = format!(
                "scan: {} new, {} file(s) changed, {} gone",
                r.new, r.changed, r.gone
            );
            if !r.errors.is_empty() {
                text.push_str(&format!(", {} skipped", r.errors.len()));
            }
            text.push_str(&format!(
                " ({} certificate(s) in {} file(s))",
                r.certificates, r.files
            ));
            if !r.errors.is_empty() {
                text.push_str("; why skipped: certdeck scan --json");
            }
            state.say(
                if r.gone > 0 || r.changed > 0 {
                    Level::Warn
                } else {
                    Level::Info
                },
                text,
            );
            return vec![Effect::LoadAll];
        }
        Action::ApplyAcme {
            account,
            domain,
            sans,
        } => {
            state.say(
                Level::Info,
                format!("ordering {domain} from ACME account {account}…"),
            );
            return vec![Effect::AcmeOrder {
                account,
                domain,
                sans,
            }];
        }
        Action::OpenUpload => {
            state.overlay = Overlay::Upload;
            state.upload_refusal = None;
        }
        Action::UploadFromFiles { cert, key } => return vec![Effect::ReadFiles { cert, key }],
        Action::FilesRead(prefill) => {
            state.overlay = Overlay::Upload;
            state.upload_refusal = None;
            state.prefill = Some(*prefill);
        }
        Action::SubmitUpload(input) => {
            let mut anchors = mozilla_anchor_subjects();
            anchors.extend(state.extra_anchors.iter().map(Vec::as_slice));
            match validate_upload(&input, now, &anchors) {
                Ok(v) => return vec![Effect::InsertUploaded(Box::new(v))],
                Err(r) => refuse(state, r),
            }
        }
        Action::Delete { id, confirmed } => {
            // Without an id: the certificate in the detail pane, else the selected row.
            let id = id.or_else(|| match &state.overlay {
                Overlay::Detail(d) => Some(d.cert.id.clone()),
                _ => None,
            });
            let row = match &id {
                Some(id) => state.find(id),
                None => state.selected_row(),
            };
            let Some(row) = row else {
                let what = id
                    .map(|i| format!("no certificate with id {i}"))
                    .unwrap_or_else(|| "nothing is selected".into());
                refuse(state, Refusal::new("D-1", Field::Id, what));
                return vec![];
            };
            // Resources arrive with the hosting issue; until then no certificate has any.
            let resources = crate::app::hosting::resource_names(state, &row.summary.id);
            match check_delete(&row.summary, resources, now).map(|mut plan| {
                plan.hostings = crate::app::hosting::in_progress_of(state, &plan.id);
                plan
            }) {
                Err(r) => refuse(state, r),
                Ok(plan) if confirmed => return vec![Effect::Delete(plan)],
                Ok(plan) => {
                    state.outcome = Some(Outcome::NeedsConfirmation(plan.clone()));
                    state.overlay = Overlay::ConfirmDelete(plan);
                }
            }
        }
        // `y` on a confirmation: the certificate's deletion, or a resource's removal.
        Action::ConfirmDelete => match std::mem::replace(&mut state.overlay, Overlay::None) {
            Overlay::ConfirmDelete(plan) => {
                return update(
                    state,
                    Action::Delete {
                        id: Some(plan.id),
                        confirmed: true,
                    },
                    now,
                );
            }
            Overlay::ConfirmRemoveResource(r) => return vec![Effect::RemoveResource(r.0)],
            Overlay::ConfirmHosting(c) => {
                let (op, id, _) = *c;
                return vec![match op {
                    crate::app::state::HostingOp::Rollback => Effect::RollbackHosting(id),
                    _ => Effect::CancelHosting(id),
                }];
            }
            Overlay::ConfirmCancel(plan) => return vec![Effect::CancelReview(plan.id)],
            other => state.overlay = other,
        },
        Action::CancelReview(id) => {
            match id.or_else(|| state.selected_row().map(|r| r.summary.id.clone())) {
                Some(id) => return vec![Effect::PlanCancel(id)],
                None => refuse(state, Refusal::new("D-1", Field::Id, "nothing is selected")),
            }
        }
        Action::CancelPlanned(plan) => state.overlay = Overlay::ConfirmCancel(plan),
        Action::Apply(req) => {
            match crate::domain::rules::apply::validate_apply_priced(
                &req,
                &state.managed_zones,
                &state.prices,
            ) {
                Ok(v) => return vec![Effect::PlaceOrder(Box::new(v))],
                Err(r) => refuse(state, r),
            }
        }
        Action::TrustLoaded(anchors) => state.extra_anchors = anchors,
        Action::ZonesLoaded(zones, prices) => {
            state.managed_zones = zones;
            state.prices = prices;
        }
        Action::OrdersLoaded(mut orders) => {
            let keep = state.selected_order().map(|o| o.summary.id.clone());
            orders.sort_by_key(|o| {
                (
                    o.order.deadline.or(o.order.review_due),
                    o.summary.id.clone(),
                )
            });
            state.orders = orders;
            state.reselect_order(keep);
        }
        Action::OrderPlaced { summary, warnings } => {
            let summary = *summary;
            if matches!(state.overlay, Overlay::Apply) {
                state.overlay = Overlay::None;
                state.upload_refusal = None;
            }
            let mut text = format!(
                "ordered \"{}\" as {} ({})",
                summary.name,
                summary.id,
                summary.status.as_str()
            );
            for w in &warnings {
                text.push_str(&format!(" — {}", w.message));
            }
            state.say(
                if warnings.is_empty() {
                    Level::Info
                } else {
                    Level::Warn
                },
                text,
            );
            state.outcome = Some(Outcome::Ordered {
                summary: summary.clone(),
                warnings,
            });
            upsert(state, summary);
            return vec![Effect::LoadAccount, Effect::LoadOrders];
        }
        Action::SetAutoRenew { id, on } => {
            let id = id.or_else(|| state.selected_row().map(|r| r.summary.id.clone()));
            match id {
                Some(id) => return vec![Effect::LoadForRenewal { id, on }],
                None => refuse(
                    state,
                    Refusal::new("AR-1", Field::Id, "nothing is selected"),
                ),
            }
        }
        Action::RenewalContext { cert, order, on } => {
            let on = on.unwrap_or(!cert.auto_renew);
            match crate::domain::rules::renewal::set_auto_renew(&cert, order.as_deref(), on, now) {
                Ok((updated, event)) => {
                    let fired = crate::domain::schedule::Fired {
                        event,
                        updated: Some(updated),
                        ..Default::default()
                    };
                    return vec![Effect::Save {
                        id: cert.id.clone(),
                        fired: Box::new(fired),
                    }];
                }
                Err(r) => refuse(state, r),
            }
        }
        Action::RenewNow(id) => return vec![Effect::RenewNow(id)],
        Action::AdoptSites(id) => {
            match id.or_else(|| state.selected_row().map(|r| r.summary.id.clone())) {
                Some(id) => {
                    state.overlay = Overlay::None;
                    return vec![Effect::AdoptSites(id)];
                }
                None => refuse(
                    state,
                    Refusal::new("DS-2", Field::Id, "nothing is selected"),
                ),
            }
        }
        Action::SitesAdopted(lines) => {
            let added = lines.iter().filter(|l| l.contains(" added for ")).count();
            let text = format!(
                "{added} site(s) taken over as resources: {}",
                lines.join("; ")
            );
            state.say(
                if added == lines.len() {
                    Level::Info
                } else {
                    Level::Warn
                },
                text,
            );
            return vec![Effect::LoadResources];
        }
        Action::SetIgnored { id, on } => {
            let id = id.or_else(|| state.selected_row().map(|r| r.summary.id.clone()));
            match id {
                Some(id) => return vec![Effect::SetIgnored { id, on }],
                None => refuse(
                    state,
                    Refusal::new("IG-1", Field::Id, "nothing is selected"),
                ),
            }
        }
        Action::MoveOrder(delta) => {
            state.order_selected = moved(state.order_selected, delta, state.visible_orders().len());
        }
        // `y` copies what the view is about: a certificate's id (list, detail), a hosting's id,
        // a message's text, an order's record value (#12: one copy key on every tab).
        Action::CopyValue
            if state.tab != Tab::Validation || !matches!(state.overlay, Overlay::None) =>
        {
            let what = match (&state.overlay, state.tab) {
                (Overlay::Detail(d), _) => Some((
                    d.cert
                        .x509
                        .as_ref()
                        .map(|x| x.fingerprint_sha256.clone())
                        .unwrap_or_else(|| d.cert.id.clone()),
                    format!("the SHA-256 fingerprint of {}", d.cert.id),
                )),
                (Overlay::Message(m), _) => Some((m.text.clone(), format!("message {}", m.id))),
                (Overlay::None, Tab::Certificates) => state.selected_row().map(|r| {
                    (
                        r.summary.id.clone(),
                        format!("the id of {}", r.summary.name),
                    )
                }),
                (Overlay::None, Tab::Hosting) => state
                    .selected_hosting()
                    .map(|h| (h.id.clone(), format!("hosting id {}", h.id))),
                (Overlay::None, Tab::Alarms) => state
                    .messages
                    .get(state.message_selected)
                    .map(|m| (m.text.clone(), format!("message {}", m.id))),
                _ => None,
            };
            match what {
                Some((text, said)) => {
                    state.copy = Some(text);
                    state.say(Level::Info, format!("copied {said}"));
                }
                None => state.say(Level::Info, "nothing to copy here"),
            }
        }
        Action::CopyValue => match state
            .selected_order()
            .and_then(|o| o.order.challenges.first())
            .cloned()
        {
            Some(crate::domain::order::Challenge::DnsTxt { name, value, .. }) => {
                state.copy = Some(value.clone());
                state.say(Level::Info, format!("copied the TXT value for {name}"));
            }
            Some(crate::domain::order::Challenge::DnsCname { name, target, .. }) => {
                state.copy = Some(target.clone());
                state.say(Level::Info, format!("copied the CNAME target for {name}"));
            }
            Some(crate::domain::order::Challenge::File { url, content, .. }) => {
                state.copy = Some(content.clone());
                state.say(Level::Info, format!("copied the file content for {url}"));
            }
            None => state.say(Level::Info, "nothing to copy: no open order is selected"),
        },
        Action::AttachLetter { id, path } => {
            let id = id.or_else(|| state.selected_order().map(|o| o.summary.id.clone()));
            match id {
                Some(id) => return vec![Effect::AttachLetter { id, path }],
                None => refuse(
                    state,
                    Refusal::new(
                        "AR-7",
                        Field::Id,
                        "select the order the letter belongs to (Validation queue)",
                    ),
                ),
            }
        }
        Action::Remind(id) => {
            let id = id.or_else(|| match state.tab {
                Tab::Validation => state.selected_order().map(|o| o.summary.id.clone()),
                _ => state.selected_row().map(|r| r.summary.id.clone()),
            });
            match id {
                Some(id) => return vec![Effect::Remind(id)],
                None => refuse(
                    state,
                    Refusal::new(
                        "RM-2",
                        Field::Id,
                        "select the order to remind its reviewer of",
                    ),
                ),
            }
        }
        Action::OpenOrderDetail => {
            if let Some(o) = state.selected_order() {
                return vec![Effect::LoadDetail(o.summary.id.clone())];
            }
        }
        Action::CheckValidation(id) => {
            let id = id.or_else(|| state.selected_order().map(|o| o.summary.id.clone()));
            match id {
                Some(id) => return vec![Effect::CheckValidation(id)],
                None => state.say(Level::Info, "no open order is selected"),
            }
        }
        Action::ValidationChecked {
            id,
            order,
            results,
            reissue,
            revocation,
        } => {
            if let Some(rev) = revocation {
                return revocation_checked(state, id, &order, &rev.0, rev.1, results, now);
            }
            let passed = crate::domain::validation::validated(&order, &results, now, reissue);
            let text = results
                .iter()
                .map(|r| format!("{}: {:?}", r.domain, r.code).to_lowercase())
                .collect::<Vec<_>>()
                .join(", ");
            state.outcome = Some(Outcome::Checked {
                id: id.clone(),
                results: results.clone(),
                validated: passed.is_some(),
            });
            state.check_results = Some((id.clone(), results));
            match passed {
                Some(v) => {
                    state.say(
                        Level::Info,
                        format!("{id}: validated ({text}); review under way"),
                    );
                    let event = TimelineEvent {
                        at: now,
                        kind: "validated".into(),
                        message: format!(
                            "domain validation passed ({text}); review ends {}",
                            v.review_due
                                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                                .unwrap_or_else(|| "after the confirmation letter".into())
                        ),
                    };
                    let fired = crate::domain::schedule::Fired {
                        event,
                        updated_order: Some(v),
                        ..Default::default()
                    };
                    return vec![
                        Effect::Save {
                            id,
                            fired: Box::new(fired),
                        },
                        Effect::LoadOrders,
                    ];
                }
                None => state.say(Level::Warn, format!("{id}: not validated yet — {text}")),
            }
        }
        Action::RecordSaved(summary, note) => {
            let summary = *summary;
            state.say(Level::Info, format!("{}: {note}", summary.id));
            // A save that completes a check keeps the check's outcome (what the user asked for).
            let completes_check =
                matches!(&state.outcome, Some(Outcome::Checked { id, .. }) if *id == summary.id);
            if !completes_check {
                state.outcome = Some(Outcome::Saved {
                    summary: summary.clone(),
                });
            }
            upsert(state, summary);
            // A save can move money (a cancelled review's refund): the balance is read again.
            return vec![Effect::LoadOrders, Effect::LoadAccount];
        }
        Action::Renewed { old, new } => {
            state.say(
                Level::Info,
                format!(
                    "{} renewed: renewal order {} placed ({})",
                    old.id,
                    new.id,
                    new.status.as_str()
                ),
            );
            state.outcome = Some(Outcome::Renewed {
                old: (*old).clone(),
                new: (*new).clone(),
            });
            upsert(state, *old);
            upsert(state, *new);
            return vec![Effect::LoadAccount, Effect::LoadOrders];
        }
        Action::TopUp(amount) => match crate::domain::account::topup(amount, now) {
            Ok(entry) => return vec![Effect::Post(entry)],
            Err(msg) => {
                state.say(Level::Error, msg.clone());
                state.outcome = Some(Outcome::Failed(msg));
            }
        },
        Action::AccountLoaded(balance) => state.balance = Some(balance),
        Action::Posted(Some(balance)) => {
            state.balance = Some(balance);
            state.say(
                Level::Info,
                format!("balance now {balance} {}", crate::domain::account::CURRENCY),
            );
            state.outcome = Some(Outcome::Posted { balance });
        }
        Action::Posted(None) => {
            let r = Refusal::new(
                "AR-4",
                Field::Id,
                "the balance does not cover this deduction",
            );
            refuse(state, r);
        }
        Action::Tick => {
            state.recount();
            return vec![Effect::RunDue];
        }
        Action::Advance(by) => return vec![Effect::Advance(by)],
        Action::Advanced(by) => {
            state.say(
                Level::Info,
                format!(
                    "time moved forward {}; now {}",
                    human_span(by),
                    now.format("%Y-%m-%d %H:%M UTC")
                ),
            );
            return update(state, Action::Tick, now);
        }
        Action::TickDone(report) => {
            // Days left move with the clock even when nothing fires.
            state.recount();
            if let Some(r) = &report.rescan {
                state.say(Level::Warn, r.clone());
                if report.fired.is_empty() {
                    return vec![Effect::LoadAll, state.load_messages()];
                }
            }
            if !report.fired.is_empty() {
                let mut text = format!(
                    "{} fired",
                    crate::domain::words::count_of(report.fired.len() as u64, "timed rule")
                );
                if let Some(first) = report.fired.first() {
                    text.push_str(&format!(": {} {}", first.cert_id, first.message));
                }
                state.say(Level::Warn, text);
                state.recount();
                let mut ids: Vec<String> = report.fired.into_iter().map(|f| f.cert_id).collect();
                ids.sort();
                ids.dedup();
                // A fired rule may create records (renewal orders) and changes the open orders.
                let mut effects: Vec<Effect> = ids.into_iter().map(Effect::LoadOne).collect();
                effects.extend([
                    Effect::LoadAll,
                    Effect::LoadOrders,
                    Effect::LoadAccount,
                    Effect::LoadHostings,
                    Effect::LoadResources,
                    state.load_messages(),
                    Effect::LoadAlarms,
                ]);
                return effects;
            }
            if report.deliveries_tried > 0 {
                return vec![Effect::LoadAlarms];
            }
        }
        Action::AllLoaded(summaries) => {
            state.set_rows(summaries.into_iter().map(CertRow::new).collect());
            // Read after the rows: a store of many discovered certificates draws its list first.
            return vec![Effect::LoadMarks];
        }
        Action::MarksLoaded(marks) => state.marks = marks,
        Action::OneLoaded(Some(summary)) => upsert(state, summary),
        Action::OneLoaded(None) => {}
        Action::DetailLoaded(detail) => {
            let mut detail = detail;
            detail.resources = crate::app::hosting::resource_names(state, &detail.cert.id);
            detail.scroll = 0;
            state.overlay = Overlay::Detail(detail);
        }
        Action::Imported { summary, warnings } => {
            let summary = *summary;
            let mut text = format!("imported \"{}\" as {}", summary.name, summary.id);
            if !warnings.is_empty() {
                text.push_str(&format!(
                    " — {}",
                    warnings
                        .iter()
                        .map(|w| w.message.as_str())
                        .collect::<Vec<_>>()
                        .join("; ")
                ));
            }
            state.say(
                if warnings.is_empty() {
                    Level::Info
                } else {
                    Level::Warn
                },
                text,
            );
            if matches!(state.overlay, Overlay::Upload) {
                state.overlay = Overlay::None;
            }
            state.upload_refusal = None;
            let id = summary.id.clone();
            state.outcome = Some(Outcome::Imported {
                summary: summary.clone(),
                warnings,
            });
            upsert(state, summary);
            if let Some(pos) = state
                .visible
                .iter()
                .position(|&i| state.rows[i].summary.id == id)
            {
                state.selected = pos;
            }
        }
        Action::Deleted { id } => {
            state.remove_row(&id);
            state.say(Level::Info, format!("deleted {id}"));
            state.outcome = Some(Outcome::Deleted { id });
        }
        Action::Refused(r) => refuse(state, r),
        Action::Failed(msg) => {
            // Effects run one at a time: a failure while scanning is the scan's.
            state.scan = None;
            state.say(Level::Error, msg.clone());
            state.outcome = Some(Outcome::Failed(msg));
        }
    }
    Vec::new()
}

/// Says why an action was refused and keeps the refusal as the outcome.
pub(crate) fn refuse(state: &mut State, r: Refusal) {
    state.say(Level::Error, r.to_string());
    if matches!(state.overlay, Overlay::Upload | Overlay::Apply) {
        state.upload_refusal = Some(r.clone());
    }
    state.outcome = Some(Outcome::Refused(r));
}

/// RV-6 (c): the checks of a revocation's domains; all passing starts the CA's review.
fn revocation_checked(
    state: &mut State,
    id: String,
    view: &crate::domain::order::OrderInfo,
    rev: &crate::domain::revocation::Revocation,
    cert_type: Option<crate::domain::model::CertType>,
    results: Vec<crate::domain::validation::CheckResult>,
    now: Timestamp,
) -> Vec<Effect> {
    use crate::domain::validation::CheckCode;
    let all_ok = !results.is_empty()
        && results.len() == view.challenges.len()
        && results.iter().all(|r| r.code == CheckCode::Ok);
    let passed = all_ok
        .then(|| crate::domain::rules::revoke::validated(rev, cert_type, now))
        .flatten();
    let text = results
        .iter()
        .map(|r| format!("{}: {:?}", r.domain, r.code).to_lowercase())
        .collect::<Vec<_>>()
        .join(", ");
    state.outcome = Some(Outcome::Checked {
        id: id.clone(),
        results: results.clone(),
        validated: passed.is_some(),
    });
    state.check_results = Some((id.clone(), results));
    let Some(v) = passed else {
        state.say(
            Level::Warn,
            format!("{id}: revocation not validated yet — {text}"),
        );
        return vec![];
    };
    state.say(
        Level::Info,
        format!("{id}: validated ({text}); the CA reviews the revocation"),
    );
    let event = TimelineEvent {
        at: now,
        kind: "validated".into(),
        message: format!(
            "revocation domain validation passed ({text}); CA review ends {}",
            v.review_due
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default()
        ),
    };
    let fired = crate::domain::schedule::Fired {
        event,
        revocation: Some(v),
        ..Default::default()
    };
    vec![
        Effect::Save {
            id,
            fired: Box::new(fired),
        },
        Effect::LoadOrders,
    ]
}

pub(crate) fn upsert_row(state: &mut State, summary: crate::domain::model::CertSummary) {
    upsert(state, summary)
}

fn upsert(state: &mut State, summary: crate::domain::model::CertSummary) {
    match state.rows.iter_mut().find(|r| r.summary.id == summary.id) {
        Some(row) => *row = CertRow::new(summary),
        None => state.rows.push(CertRow::new(summary)),
    }
    state.rebuild_view();
}

fn human_span(d: chrono::Duration) -> String {
    match (d.num_weeks(), d.num_days(), d.num_hours(), d.num_minutes()) {
        (w, days, _, _) if w > 0 && days % 7 == 0 => {
            crate::domain::words::count_of(w as u64, "week")
        }
        (_, days, h, _) if days > 0 && h % 24 == 0 => {
            crate::domain::words::count_of(days as u64, "day")
        }
        (_, _, h, m) if h > 0 && m % 60 == 0 => crate::domain::words::count_of(h as u64, "hour"),
        (_, _, _, m) => crate::domain::words::count_of(m as u64, "minute"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::model::{CertSummary, Source, Standard, Status};
    use chrono::{Duration, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap()
    }

    fn row(id: &str, name: &str, days: i64, source: Source) -> CertSummary {
        CertSummary {
            id: id.into(),
            name: name.into(),
            source,
            status: Status::Issued,
            brand: "DNSPod".into(),
            cert_type: None,
            standard: Standard::International,
            domains: vec![format!("{name}.example")],
            issuer: "CA".into(),
            not_after: Some(now() + Duration::days(days)),
            auto_renew: false,
            ignored: false,
            tags: [("team".to_string(), "Web".to_string())].into(),
            project: None,
        }
    }

    fn loaded() -> State {
        let mut s = State::default();
        update(
            &mut s,
            Action::AllLoaded(vec![
                row("a", "alpha", 200, Source::Uploaded),
                row("b", "bravo", 3, Source::Uploaded),
                row("c", "charlie", 40, Source::Issued),
            ]),
            now(),
        );
        s
    }

    fn visible_ids(s: &State) -> Vec<&str> {
        s.visible
            .iter()
            .map(|&i| s.rows[i].summary.id.as_str())
            .collect()
    }

    #[test]
    fn sorted_by_days_left_by_default_and_by_other_keys_on_request() {
        let mut s = loaded();
        assert_eq!(visible_ids(&s), ["b", "c", "a"]);
        update(&mut s, Action::CycleSort, now());
        assert_eq!(visible_ids(&s), ["a", "b", "c"], "by name");
        update(&mut s, Action::ReverseSort, now());
        assert_eq!(visible_ids(&s), ["c", "b", "a"]);
    }

    #[test]
    fn filter_narrows_widens_and_keeps_the_selection() {
        let mut s = loaded();
        update(&mut s, Action::MoveBy(1), now());
        assert_eq!(s.selected_row().unwrap().summary.id, "c");
        update(&mut s, Action::SetFilter("ch".into()), now());
        assert_eq!(visible_ids(&s), ["c"]);
        assert_eq!(s.selected_row().unwrap().summary.id, "c");
        update(&mut s, Action::SetFilter("TEAM=web".into()), now());
        assert_eq!(visible_ids(&s).len(), 3, "tags match, case-insensitively");
        update(&mut s, Action::SetFilter("zzz".into()), now());
        assert!(s.visible.is_empty() && s.selected_row().is_none());
        update(&mut s, Action::Back, now());
        assert_eq!(visible_ids(&s).len(), 3, "Esc clears the filter");
    }

    #[test]
    fn rule_d3_delete_asks_first_then_deletes_on_confirmation() {
        let mut s = loaded();
        let effects = update(
            &mut s,
            Action::Delete {
                id: None,
                confirmed: false,
            },
            now(),
        );
        assert!(effects.is_empty());
        assert!(matches!(&s.overlay, Overlay::ConfirmDelete(p) if p.id == "b"));
        let effects = update(&mut s, Action::ConfirmDelete, now());
        assert!(matches!(effects.as_slice(), [Effect::Delete(p)] if p.id == "b"));
        update(&mut s, Action::Deleted { id: "b".into() }, now());
        assert_eq!(visible_ids(&s), ["c", "a"]);
        assert!(matches!(s.overlay, Overlay::None));
    }

    #[test]
    fn rule_d1_cancelling_a_review_asks_first_then_cancels_on_confirmation() {
        let mut s = loaded();
        let effects = update(&mut s, Action::CancelReview(Some("b".into())), now());
        assert!(matches!(effects.as_slice(), [Effect::PlanCancel(id)] if id == "b"));
        let plan = crate::domain::rules::cancel::CancelPlan {
            id: "b".into(),
            name: "b.example".into(),
            refund: crate::domain::account::Money(19_900),
        };
        update(&mut s, Action::CancelPlanned(Box::new(plan)), now());
        assert!(matches!(&s.overlay, Overlay::ConfirmCancel(p) if p.id == "b"));
        // Esc: nothing happens, and the status line says so.
        assert!(update(&mut s, Action::Back, now()).is_empty());
        assert!(s
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("nothing was changed"));
        let plan = crate::domain::rules::cancel::CancelPlan {
            id: "b".into(),
            name: "b.example".into(),
            refund: crate::domain::account::Money(0),
        };
        update(&mut s, Action::CancelPlanned(Box::new(plan)), now());
        let effects = update(&mut s, Action::ConfirmDelete, now());
        assert!(matches!(effects.as_slice(), [Effect::CancelReview(id)] if id == "b"));
        assert!(matches!(s.overlay, Overlay::None));
    }

    #[test]
    fn rule_d2_issued_certificate_is_refused_with_the_rule() {
        let mut s = loaded();
        update(
            &mut s,
            Action::Delete {
                id: Some("c".into()),
                confirmed: true,
            },
            now(),
        );
        assert!(matches!(&s.outcome, Some(Outcome::Refused(r)) if r.rule == "D-2"));
        assert!(s.status.as_ref().unwrap().text.contains("(D-2)"));
    }

    #[test]
    fn escape_cancels_a_confirmation_without_effects() {
        let mut s = loaded();
        update(
            &mut s,
            Action::Delete {
                id: None,
                confirmed: false,
            },
            now(),
        );
        assert!(update(&mut s, Action::Back, now()).is_empty());
        assert!(matches!(s.overlay, Overlay::None));
        assert!(
            update(&mut s, Action::ConfirmDelete, now()).is_empty(),
            "nothing left to confirm"
        );
    }

    #[test]
    fn command_line_runs_commands_and_reports_unknown_ones() {
        let mut s = loaded();
        update(&mut s, Action::RunCommand("sort name".into()), now());
        assert_eq!(visible_ids(&s), ["a", "b", "c"]);
        update(&mut s, Action::RunCommand("launch rockets".into()), now());
        assert!(s.status.as_ref().unwrap().text.contains("unknown command"));
        update(&mut s, Action::RunCommand("q".into()), now());
        assert!(s.quit);
    }

    #[test]
    fn tabs_cycle_both_ways() {
        let mut s = loaded();
        update(&mut s, Action::PrevTab, now());
        assert_eq!(s.tab, Tab::Alarms);
        update(&mut s, Action::NextTab, now());
        assert_eq!(s.tab, Tab::Certificates);
    }

    #[test]
    fn status_bar_counts_follow_time() {
        let mut s = loaded();
        assert_eq!(s.counts, (3, 0, 1));
        update(&mut s, Action::Tick, now() + Duration::days(41));
        assert_eq!(s.counts, (3, 2, 0), "b and c expired; a has 159 days");
    }

    #[test]
    fn the_status_line_clears_on_esc_and_when_the_tab_changes() {
        let mut s = State::default();
        s.say(Level::Info, "imported shop");
        update(&mut s, Action::Back, now());
        assert!(s.status.is_none(), "Esc clears it");
        s.say(Level::Info, "imported shop");
        update(
            &mut s,
            Action::SelectTab(crate::app::state::Tab::Hosting),
            now(),
        );
        assert!(s.status.is_none(), "another view, another status");
        // What Esc itself did is still said.
        s.overlay = Overlay::ConfirmDelete(crate::domain::rules::delete::DeletePlan {
            id: "id000001".into(),
            name: "shop".into(),
            resources: vec![],
            hostings: vec![],
        });
        update(&mut s, Action::Back, now());
        assert!(s.status.as_ref().unwrap().text.contains("delete cancelled"));
    }

    #[test]
    fn sorting_refreshing_and_marking_say_what_they_did() {
        let mut s = State::default();
        update(&mut s, Action::RunCommand("sort name".into()), now());
        assert!(s.status.as_ref().unwrap().text.contains("sorted by name"));
        update(&mut s, Action::ReverseSort, now());
        assert!(s.status.as_ref().unwrap().text.contains("reversed"));
        update(&mut s, Action::RunCommand("refresh".into()), now());
        assert!(s.status.as_ref().unwrap().text.contains("reloaded"));
        s.unread = 3;
        update(&mut s, Action::MarkAllRead, now());
        assert!(s
            .status
            .as_ref()
            .unwrap()
            .text
            .contains("3 messages marked read"));
    }

    #[test]
    fn y_copies_what_the_view_is_about() {
        let mut s = State::default();
        update(&mut s, Action::CopyValue, now());
        assert!(s.copy.is_none());
        assert!(s.status.as_ref().unwrap().text.contains("nothing to copy"));
        let mut row = crate::domain::rules::revoke::tests::issued(
            "DNSPod",
            crate::domain::model::Standard::International,
            crate::domain::model::CertType::Dv,
            now() - chrono::Duration::days(10),
            now() + chrono::Duration::days(100),
        );
        row.id = "abc12345".into();
        update(&mut s, Action::AllLoaded(vec![row.summary()]), now());
        update(&mut s, Action::CopyValue, now());
        assert_eq!(s.copy.as_deref(), Some("abc12345"));
    }
}
