//! `update`: the one place where actions change state. Pure: no I/O, no clock, no terminal.
use crate::app::action::Action;
use crate::app::command;
use crate::app::effect::Effect;
use crate::app::state::{CertRow, Detail, Input, Level, Outcome, Overlay, State, Tab};
use crate::domain::cert::mozilla_anchor_subjects;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::delete::check_delete;
use crate::domain::rules::upload::validate_upload;
use crate::domain::time::Timestamp;

pub fn update(state: &mut State, action: Action, now: Timestamp) -> Vec<Effect> {
    state.now = now;
    match action {
        Action::SelectTab(tab) => state.tab = tab,
        Action::NextTab => state.tab = Tab::ALL[(state.tab.index() + 1) % Tab::ALL.len()],
        Action::PrevTab => {
            state.tab = Tab::ALL[(state.tab.index() + Tab::ALL.len() - 1) % Tab::ALL.len()]
        }
        Action::MoveBy(delta) => {
            let max = state.visible.len().saturating_sub(1) as i64;
            state.selected = (state.selected as i64 + delta).clamp(0, max) as usize;
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
        }
        Action::ReverseSort => {
            state.descending = !state.descending;
            state.rebuild_view();
        }
        Action::StartFilter => state.input = Input::Filter,
        Action::SetFilter(f) => state.apply_filter(f),
        Action::EndFilter { keep } => {
            state.input = Input::Normal;
            if !keep {
                state.apply_filter(String::new());
            }
        }
        Action::StartCommand => state.input = Input::Command(String::new()),
        Action::SetCommand(c) => state.input = Input::Command(c),
        Action::CancelCommand => state.input = Input::Normal,
        Action::RunCommand(line) => {
            state.input = Input::Normal;
            match command::parse(&line) {
                Ok(action) => return update(state, action, now),
                Err(e) => state.say(Level::Error, e),
            }
        }
        Action::ToggleHelp => {
            state.overlay = match state.overlay {
                Overlay::Help => Overlay::None,
                _ => Overlay::Help,
            }
        }
        Action::OpenDetail => {
            if let Some(row) = state.selected_row() {
                return vec![Effect::LoadDetail(row.summary.id.clone())];
            }
        }
        Action::ScrollDetail(delta) => {
            if let Overlay::Detail(d) = &mut state.overlay {
                d.scroll = (d.scroll as i32 + delta).max(0) as u16;
            }
        }
        Action::Back => {
            if state.input != Input::Normal {
                state.input = Input::Normal;
            } else if !matches!(state.overlay, Overlay::None) {
                if matches!(state.overlay, Overlay::ConfirmDelete(_)) {
                    state.say(Level::Info, "delete cancelled; nothing was changed");
                }
                state.overlay = Overlay::None;
                state.upload_refusal = None;
            } else if !state.filter.is_empty() {
                state.apply_filter(String::new());
            }
        }
        Action::Quit => state.quit = true,
        Action::Refresh(None) => return vec![Effect::LoadAll],
        Action::Refresh(Some(id)) => return vec![Effect::LoadOne(id)],
        Action::OpenUpload => {
            state.overlay = Overlay::Upload;
            state.upload_refusal = None;
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
            match check_delete(&row.summary, Vec::new(), now) {
                Err(r) => refuse(state, r),
                Ok(plan) if confirmed => return vec![Effect::Delete(plan)],
                Ok(plan) => {
                    state.outcome = Some(Outcome::NeedsConfirmation(plan.clone()));
                    state.overlay = Overlay::ConfirmDelete(plan);
                }
            }
        }
        Action::ConfirmDelete => {
            if let Overlay::ConfirmDelete(plan) =
                std::mem::replace(&mut state.overlay, Overlay::None)
            {
                return update(
                    state,
                    Action::Delete {
                        id: Some(plan.id),
                        confirmed: true,
                    },
                    now,
                );
            }
        }
        Action::Tick => state.recount(),
        Action::AllLoaded(summaries) => {
            state.set_rows(summaries.into_iter().map(CertRow::new).collect());
        }
        Action::OneLoaded(Some(summary)) => upsert(state, summary),
        Action::OneLoaded(None) => {}
        Action::DetailLoaded(detail) => {
            let (cert, timeline) = *detail;
            state.overlay = Overlay::Detail(Box::new(Detail {
                cert,
                timeline,
                resources: Vec::new(),
                scroll: 0,
            }));
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
            state.say(Level::Error, msg.clone());
            state.outcome = Some(Outcome::Failed(msg));
        }
    }
    Vec::new()
}

fn refuse(state: &mut State, r: Refusal) {
    state.say(Level::Error, r.to_string());
    if matches!(state.overlay, Overlay::Upload) {
        state.upload_refusal = Some(r.clone());
    }
    state.outcome = Some(Outcome::Refused(r));
}

fn upsert(state: &mut State, summary: crate::domain::model::CertSummary) {
    match state.rows.iter_mut().find(|r| r.summary.id == summary.id) {
        Some(row) => *row = CertRow::new(summary),
        None => state.rows.push(CertRow::new(summary)),
    }
    state.rebuild_view();
}
