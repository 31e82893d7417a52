//! The reducer's part for the More menu and revocation (issue #4). Pure, like `reducer`.
use crate::app::action::Action;
use crate::app::effect::Effect;
use crate::app::reducer::refuse;
use crate::app::state::{
    ExportDialog, Level, MenuEntry, MoreMenu, Outcome, Overlay, ReissueDialog, ReissueField,
    RevokeDialog, State,
};
use crate::domain::model::Certificate;
use crate::domain::order::OrderInfo;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::revocation::Reason;
use crate::domain::rules::export::Format;
use crate::domain::time::Timestamp;

/// The id an action without one means: the detail pane's certificate, else the selected row.
fn target(state: &State, id: Option<String>) -> Option<String> {
    id.or_else(|| match &state.overlay {
        Overlay::Detail(d) => Some(d.cert.id.clone()),
        Overlay::More(m) => Some(m.id.clone()),
        _ => None,
    })
    .or_else(|| state.selected_row().map(|r| r.summary.id.clone()))
}

/// Every action on `cert`, with the reason (and rule) each unavailable one cannot run now.
pub fn menu_entries(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    key: crate::domain::resource::StoredKey,
    acme: Option<bool>,
    now: Timestamp,
) -> Vec<MenuEntry> {
    use crate::domain::rules::{delete, export, ignore, reminder, renewal, revoke};
    let id = Some(cert.id.clone());
    let why = |r: Result<(), Refusal>| {
        r.err().map(|r| match r.spec_rule() {
            Some(rule) => format!("{} ({rule})", r.message),
            None => r.message,
        })
    };
    let entry = |key, label: &str, action, disabled| MenuEntry {
        key,
        label: label.to_string(),
        action,
        disabled,
    };
    let remind = match order {
        Some(o) => reminder::remind(cert, o, now).map(|_| ()),
        None => Err(Refusal::new(
            "RM-1",
            Field::Id,
            "not an order: there is no review to remind",
        )),
    };
    // AC-4: an ACME certificate renews through its CA, with no fee.
    let (auto, renew_now, renew_label, revocable) = match acme {
        Some(has_plan) => (
            if cert.auto_renew {
                Ok(())
            } else {
                crate::domain::acme_renewal::check_switch_on(cert, has_plan, now)
            },
            crate::domain::acme_renewal::check_renew_now(cert, has_plan, now),
            "renew now from the ACME CA (no fee)",
            crate::domain::acme::check_revocable(cert, now),
        ),
        None => (
            renewal::set_auto_renew(cert, order, !cert.auto_renew, now).map(|_| ()),
            renewal::check_manual_renewal(cert, order, now),
            "renew now (the fee is deducted)",
            revoke::check_revocable(cert, now).map(|_| ()),
        ),
    };
    let ignore_label = if cert.ignored {
        "un-ignore expiry messages"
    } else {
        "ignore expiry messages"
    };
    let auto_label = if cert.auto_renew {
        "switch auto-renewal off"
    } else {
        "switch auto-renewal on"
    };
    let mut entries = vec![
        // `v`iew: `d` is delete everywhere (#12: one verb, one key).
        entry('v', "view details", Action::OpenDetail, None),
        entry(
            'r',
            auto_label,
            Action::SetAutoRenew {
                id: id.clone(),
                on: None,
            },
            why(auto),
        ),
        entry(
            'n',
            renew_label,
            Action::RenewNow(cert.id.clone()),
            why(renew_now),
        ),
        entry(
            'x',
            "revoke…",
            Action::Revoke {
                id: id.clone(),
                reason: None,
                document: None,
                confirmed: false,
            },
            why(revocable),
        ),
        entry(
            'i',
            ignore_label,
            Action::SetIgnored {
                id: id.clone(),
                on: None,
            },
            why(ignore::set_ignored(cert, !cert.ignored, now).map(|_| ())),
        ),
        entry(
            'e',
            "download / export…",
            Action::OpenExport(id.clone()),
            why(export::check_export(cert, now)),
        ),
        entry(
            'p',
            "deploy to a resource…",
            Action::OpenDeployPick(id.clone()),
            why(crate::domain::resource::check_deploy(cert, key, false, now)),
        ),
        entry(
            'h',
            "host: replace it automatically before expiry…",
            Action::OpenHostingForm(id.clone()),
            None,
        ),
        entry(
            's',
            "reissue… (same validity)",
            Action::OpenReissue(id.clone()),
            why(crate::domain::rules::reissue::check_reissuable(
                cert,
                &[],
                &[],
                now,
            )),
        ),
        entry(
            'm',
            "remind the CA reviewer",
            Action::Remind(id.clone()),
            why(remind),
        ),
        entry(
            'D',
            "delete…",
            Action::Delete {
                id,
                confirmed: false,
            },
            why(delete::check_delete(&cert.summary(), Vec::new(), now).map(|_| ())),
        ),
    ];
    // Only an order still in review can have it cancelled (D-1): listed for those alone.
    if crate::domain::rules::cancel::check_cancel(cert, crate::domain::account::Money(0)).is_ok() {
        let at = entries
            .iter()
            .position(|e| e.key == 'D')
            .unwrap_or(entries.len());
        entries.insert(
            at,
            entry(
                'C',
                "cancel the review (its fee is refunded)…",
                Action::CancelReview(Some(cert.id.clone())),
                None,
            ),
        );
    }
    // Only a discovered certificate has sites of its own to take over.
    if cert.source == crate::domain::model::Source::Discovered {
        let at = entries
            .iter()
            .position(|e| e.key == 'h')
            .unwrap_or(entries.len());
        entries.insert(
            at,
            entry(
                'o',
                "take over its sites as resources (DS-2)",
                Action::AdoptSites(Some(cert.id.clone())),
                None,
            ),
        );
    }
    entries
}

/// Handles the More menu, revocation, reissue and export actions (the reducer routes them here).
pub fn update(state: &mut State, action: Action, now: Timestamp) -> Vec<Effect> {
    match action {
        Action::OpenMore => match target(state, None) {
            Some(id) => vec![Effect::LoadMore(id)],
            None => {
                refuse(
                    state,
                    Refusal::new("MORE", Field::Id, "nothing is selected"),
                );
                vec![]
            }
        },
        Action::QuickMenu(key) => {
            state.pending_menu_key = Some(key);
            update(state, Action::OpenMore, now)
        }
        Action::MoreLoaded(loaded) => {
            let (cert, order, key, acme) = *loaded;
            let entries = menu_entries(&cert, order.as_ref(), key, acme, now);
            let selected = state
                .pending_menu_key
                .and_then(|k| entries.iter().position(|e| e.key == k))
                .unwrap_or(0);
            state.overlay = Overlay::More(Box::new(MoreMenu {
                id: cert.id.clone(),
                name: cert.name.clone(),
                entries,
                selected,
            }));
            match state.pending_menu_key.take() {
                // An unavailable entry stays shown in the menu with its reason.
                Some(k) => update(state, Action::MenuKey(k), now),
                None => vec![],
            }
        }
        Action::MoveMenu(delta) => {
            if let Overlay::More(m) = &mut state.overlay {
                m.selected = crate::app::state::moved(m.selected, delta, m.entries.len());
            }
            vec![]
        }
        Action::RunMenu | Action::MenuKey(_) => {
            let Overlay::More(m) = &state.overlay else {
                return vec![];
            };
            let chosen = match action {
                Action::MenuKey(k) => m.entries.iter().find(|e| e.key == k),
                _ => m.entries.get(m.selected),
            };
            let Some(entry) = chosen.cloned() else {
                return vec![];
            };
            if let Some(reason) = entry.disabled {
                // The entry pressed is the one shown, its reason in view (#12).
                if let Overlay::More(m) = &mut state.overlay {
                    if let Some(i) = m.entries.iter().position(|e| e.key == entry.key) {
                        m.selected = i;
                    }
                }
                state.say(Level::Warn, format!("{}: {reason}", entry.label));
                return vec![];
            }
            let id = m.id.clone();
            state.overlay = Overlay::None;
            // "details" opens on the record the menu was for, wherever the cursor is.
            if matches!(entry.action, Action::OpenDetail) {
                return vec![Effect::LoadDetail(id)];
            }
            crate::app::reducer::update(state, entry.action, now)
        }
        Action::Revoke {
            id,
            reason,
            document,
            confirmed,
        } => {
            let Some(id) = target(state, id) else {
                refuse(
                    state,
                    Refusal::new("RV-1", Field::Id, "nothing is selected"),
                );
                return vec![];
            };
            match (confirmed, reason) {
                (false, _) => vec![Effect::PlanRevocation(id)],
                (true, Some(reason)) => vec![Effect::SubmitRevocation {
                    id,
                    reason,
                    document,
                }],
                (true, None) => {
                    refuse(
                        state,
                        Refusal::new(
                            "RV-6",
                            Field::Id,
                            "a revocation needs a reason (e.g. key_compromise, superseded)",
                        ),
                    );
                    vec![]
                }
            }
        }
        Action::RevocationPlanned(plan) => {
            state.outcome = Some(Outcome::NeedsRevokeConfirmation((*plan).clone()));
            state.overlay = Overlay::Revoke(Box::new(RevokeDialog::new(*plan)));
            vec![]
        }
        Action::MoveRevokeReason(delta) => {
            if let Overlay::Revoke(d) = &mut state.overlay {
                d.on_reason = true;
                d.reason = Some(match d.reason {
                    Some(r) => crate::app::state::moved(r, delta, Reason::ALL.len()),
                    None => 0,
                });
            }
            vec![]
        }
        Action::SetRevokeDocument(text) => {
            if let Overlay::Revoke(d) = &mut state.overlay {
                d.on_reason = false;
                if d.on_document {
                    d.document = text;
                } else {
                    d.confirm = text;
                }
            }
            vec![]
        }
        Action::NextRevokeField => {
            if let Overlay::Revoke(d) = &mut state.overlay {
                d.on_document = d.plan.document.is_some() && !d.on_document;
                d.on_reason = false;
            }
            vec![]
        }
        Action::ConfirmRevoke => {
            let Overlay::Revoke(d) = &state.overlay else {
                return vec![];
            };
            let document = (!d.document.trim().is_empty()).then(|| d.document.trim().into());
            let Some(reason) = d.reason else {
                let r = Refusal::new(
                    "RV-6",
                    Field::Reason,
                    "choose the reason first (↑ ↓): a revocation states why",
                );
                refuse(state, r);
                return vec![];
            };
            if d.plan.document.is_some() && document.is_none() {
                let r = crate::domain::rules::revoke::missing_document(&d.plan);
                refuse(state, r);
                return vec![];
            }
            if !d.confirmed() {
                let r = Refusal::new(
                    "RV-2",
                    Field::Id,
                    format!(
                        "type {} (or its id {}) to confirm: a revocation cannot be undone",
                        d.plan.name, d.plan.id
                    ),
                );
                refuse(state, r);
                return vec![];
            }
            let effect = Effect::SubmitRevocation {
                id: d.plan.id.clone(),
                reason: Reason::ALL[reason],
                document,
            };
            // The dialog stays until the submission is recorded: a refused document can be fixed.
            vec![effect]
        }
        Action::RevocationSubmitted { records, message } => {
            if matches!(state.overlay, Overlay::Revoke(_)) {
                state.overlay = Overlay::None;
            }
            if let Some(first) = records.first() {
                state.say(Level::Info, format!("{}: {message}", first.id));
            }
            for r in &records {
                crate::app::reducer::upsert_row(state, r.clone());
            }
            state.outcome = Some(Outcome::RevocationSubmitted { records, message });
            vec![Effect::LoadOrders]
        }
        Action::Reissue(spec) => vec![Effect::Reissue(spec)],
        Action::Export(req) => vec![Effect::Export(req)],
        Action::Exported { id, files } => {
            let names: Vec<String> = files.iter().map(|(p, _)| p.display().to_string()).collect();
            state.say(Level::Info, format!("{id}: wrote {}", names.join(", ")));
            if matches!(state.overlay, Overlay::Export(_)) {
                state.overlay = Overlay::None;
            }
            state.outcome = Some(Outcome::Exported { id, files });
            vec![]
        }
        Action::Reissued { records, message } => {
            if let Some(first) = records.first() {
                state.say(Level::Info, format!("{}: {message}", first.id));
            }
            for r in &records {
                crate::app::reducer::upsert_row(state, r.clone());
            }
            if matches!(state.overlay, Overlay::Reissue(_)) {
                state.overlay = Overlay::None;
            }
            state.outcome = Some(Outcome::Reissued { records, message });
            vec![Effect::LoadOrders]
        }
        Action::OpenReissue(id) => {
            let Some(id) = target(state, id) else {
                refuse(
                    state,
                    Refusal::new("RI-1", Field::Id, "nothing is selected"),
                );
                return vec![];
            };
            let (name, standard) = state
                .find(&id)
                .map(|r| (r.summary.name.clone(), r.summary.standard))
                .unwrap_or((String::new(), crate::domain::model::Standard::International));
            state.overlay = Overlay::Reissue(Box::new(ReissueDialog {
                id,
                name,
                standard,
                choice: 0,
                field: ReissueField::Reason,
                csr: String::new(),
                password: Default::default(),
                reason: String::new(),
            }));
            vec![]
        }
        Action::MoveReissueChoice(delta) => {
            if let Overlay::Reissue(d) = &mut state.overlay {
                d.choice = crate::app::state::moved(d.choice, delta, ReissueDialog::CHOICES.len());
                d.field = if ReissueDialog::CHOICES[d.choice].is_none() {
                    ReissueField::Csr
                } else if d.field == ReissueField::Csr {
                    ReissueField::Reason
                } else {
                    d.field
                };
            }
            vec![]
        }
        Action::NextReissueField => {
            if let Overlay::Reissue(d) = &mut state.overlay {
                let pasting = ReissueDialog::CHOICES[d.choice].is_none();
                d.field = match (d.field, pasting) {
                    (ReissueField::Reason, true) => ReissueField::Csr,
                    (ReissueField::Reason, false) => ReissueField::Password,
                    _ => ReissueField::Reason,
                };
            }
            vec![]
        }
        Action::SetReissueText(text) => {
            if let Overlay::Reissue(d) = &mut state.overlay {
                match d.field {
                    ReissueField::Csr => d.csr = text,
                    ReissueField::Password => d.password = zeroize::Zeroizing::new(text),
                    ReissueField::Reason => d.reason = text,
                }
            }
            vec![]
        }
        Action::ConfirmReissue => {
            let Overlay::Reissue(d) = &state.overlay else {
                return vec![];
            };
            if let Some(why) = d.unfit(d.choice) {
                let r = Refusal::new("RI-6", Field::Key, why);
                refuse(state, r);
                return vec![];
            }
            use crate::app::action::CsrSource;
            use crate::domain::reissue::CsrChoice;
            let csr = match ReissueDialog::CHOICES[d.choice] {
                Some(CsrChoice::Original) => CsrSource::Original,
                Some(CsrChoice::Generate(k)) => CsrSource::Generate(k),
                _ if d.csr.trim().is_empty() => {
                    let r = Refusal::new("RI-6", Field::Cert, "paste the CSR (PEM) first");
                    refuse(state, r);
                    return vec![];
                }
                _ => CsrSource::Pasted(d.csr.clone()),
            };
            let spec = crate::app::action::ReissueSpec {
                id: d.id.clone(),
                csr,
                reason: d.reason.trim().to_string(),
                key_password: (!d.password.is_empty())
                    .then(|| zeroize::Zeroizing::new(d.password.as_bytes().to_vec())),
            };
            vec![Effect::Reissue(Box::new(spec))]
        }
        Action::OpenExport(id) => {
            let Some(id) = target(state, id) else {
                refuse(
                    state,
                    Refusal::new("EXPORT", Field::Id, "nothing is selected"),
                );
                return vec![];
            };
            let name = state
                .find(&id)
                .map(|r| r.summary.name.clone())
                .unwrap_or_default();
            state.overlay = Overlay::Export(Box::new(ExportDialog {
                dir: format!("./certdeck-export-{id}"),
                id,
                name,
                format: 0,
                password: Default::default(),
                on_password: false,
            }));
            vec![]
        }
        Action::MoveExportFormat(delta) => {
            if let Overlay::Export(d) = &mut state.overlay {
                let n = ExportDialog::FORMATS.len() as i64;
                d.format = (d.format as i64 + delta).rem_euclid(n) as usize;
                if d.format() != Format::Pkcs12 {
                    d.on_password = false;
                }
            }
            vec![]
        }
        Action::ToggleExportField => {
            if let Overlay::Export(d) = &mut state.overlay {
                d.on_password = !d.on_password && d.format() == Format::Pkcs12;
            }
            vec![]
        }
        Action::SetExportText(text) => {
            if let Overlay::Export(d) = &mut state.overlay {
                if d.on_password {
                    d.password = zeroize::Zeroizing::new(text);
                } else {
                    d.dir = text;
                }
            }
            vec![]
        }
        Action::ConfirmExport => {
            let Overlay::Export(d) = &state.overlay else {
                return vec![];
            };
            if d.dir.trim().is_empty() {
                let r = Refusal::new("EXPORT", Field::Path, "type the directory to write into");
                refuse(state, r);
                return vec![];
            }
            let req = crate::app::action::ExportRequest {
                id: d.id.clone(),
                format: d.format(),
                dir: d.dir.trim().into(),
                force: false,
                password: (d.format() == Format::Pkcs12).then(|| d.password.clone()),
            };
            vec![Effect::Export(Box::new(req))]
        }
        _ => vec![],
    }
}
