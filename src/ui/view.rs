//! The shell: tabs, body, status bar and the bottom line. A function of State (plus the
//! editor pane's own text and the table's scroll position).
use crate::app::state::{Input, Level, Overlay, State, Tab};
use crate::ui::apply_form::ApplyForm;
use crate::ui::theme::Theme;
use crate::ui::upload::UploadForm;
use crate::ui::{certs, detail, help, validation};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Tabs, Wrap};
use ratatui::Frame;

/// One message of the message center, whole: when, how serious, which certificate, the text.
fn message(f: &mut Frame, area: Rect, m: &crate::domain::message::Message, theme: &Theme) {
    let lines = vec![
        Line::from(format!(
            "{}  {}  {}",
            m.at.format("%Y-%m-%d %H:%M:%S UTC"),
            m.severity.as_str(),
            m.kind.replace('_', " ")
        )),
        Line::from(format!(
            "certificate {}",
            m.cert_id.as_deref().unwrap_or("(none)")
        )),
        Line::from(""),
        Line::from(m.text.clone()),
    ];
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(
        Block::default()
            .borders(Borders::ALL)
            .title(format!(" Message {} ", m.id))
            .title_bottom(" Esc back "),
    );
    let _ = theme;
    f.render_widget(p, area);
}

/// What the status line said lately, newest first (`:messages`).
fn status_history(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut lines: Vec<Line> = state
        .status_history
        .iter()
        .rev()
        .map(|(at, m)| {
            let style = match m.level {
                Level::Info => theme.ok(),
                Level::Warn => theme.warn(),
                Level::Error => theme.danger(),
            };
            Line::from(vec![
                Span::styled(format!("{}  ", at.format("%H:%M:%S")), theme.dim()),
                Span::styled(m.text.clone(), style),
            ])
        })
        .collect();
    if lines.is_empty() {
        lines.push(Line::from("nothing was said yet"));
    }
    let p = Paragraph::new(lines).wrap(Wrap { trim: false }).block(
        Block::default()
            .borders(Borders::ALL)
            .title(" Status messages, newest first ")
            .title_bottom(" Esc back "),
    );
    f.render_widget(p, area);
}

/// The whole screen when the terminal is smaller than certdeck can lay out.
pub fn too_small(f: &mut Frame, width: u16, height: u16, theme: &Theme) {
    let area = f.area();
    let text = vec![
        Line::from(Span::styled("certdeck", theme.title())),
        Line::from(format!(
            "terminal too small: {width}×{height} needed, this one is {}×{}",
            area.width, area.height
        )),
        Line::from("enlarge it, or press q to quit"),
    ];
    let top = area.height.saturating_sub(3) / 2;
    let rect = Rect {
        y: area.y + top,
        height: area.height.saturating_sub(top).min(3),
        ..area
    };
    f.render_widget(
        Paragraph::new(text)
            .alignment(ratatui::layout::Alignment::Center)
            .wrap(Wrap { trim: true }),
        rect,
    );
}

pub fn draw(
    f: &mut Frame,
    state: &State,
    form: Option<&UploadForm>,
    apply: Option<&ApplyForm>,
    table: &mut certs::TableView,
    theme: &Theme,
) {
    let area = f.area();
    let rows = Layout::default()
        .direction(Direction::Vertical)
        .constraints([
            Constraint::Length(1),
            Constraint::Min(3),
            Constraint::Length(1),
            Constraint::Length(1),
        ])
        .split(area);
    let titles: Vec<Line> = Tab::ALL
        .iter()
        .enumerate()
        .map(|(i, t)| Line::from(format!("{} {}", i + 1, t.title())))
        .collect();
    f.render_widget(
        Tabs::new(titles)
            .select(state.tab.index())
            .highlight_style(theme.selected())
            .divider("│"),
        rows[0],
    );
    let body = rows[1];
    match (&state.overlay, form) {
        (Overlay::Upload, Some(form)) => form.render(f, body, state, theme),
        (Overlay::Apply, _) if apply.is_some() => {
            apply.expect("checked").render(f, body, state, theme)
        }
        (Overlay::Detail(d), _) => detail::render(f, body, d, state.now, theme),
        (Overlay::Forecast { days, entries }, _) => {
            forecast(f, body, *days, entries, state.now, theme)
        }
        (Overlay::HostingHistory(h), _) => super::hosting::render_history(f, body, h, theme),
        (Overlay::Groups, _) => super::alarms::render_groups(f, body, state, theme),
        (Overlay::Message(m), _) => message(f, body, m, theme),
        (Overlay::StatusHistory, _) => status_history(f, body, state, theme),
        _ => match state.tab {
            Tab::Certificates => certs::render(f, body, state, theme, table),
            Tab::Validation => validation::render(f, body, state, theme),
            Tab::Hosting => super::hosting::render(f, body, state, theme),
            Tab::Alarms => super::alarms::render(f, body, state, theme),
        },
    }
    status_bar(f, rows[2], state, theme);
    bottom_line(f, rows[3], state, theme);
    match &state.overlay {
        Overlay::Help => help::render(
            f,
            body,
            state.help_scroll,
            state.tab,
            &state.help_filter,
            theme,
        ),
        Overlay::ConfirmDelete(plan) => confirm(f, body, &plan.confirmation_text(), theme),
        Overlay::ConfirmCancel(plan) => confirm_with(
            f,
            body,
            &plan.confirmation_text(),
            (" Confirm cancel ", "y  cancel the review      n / Esc  keep it"),
            theme,
        ),
        Overlay::More(menu) => super::more::render_menu(f, body, menu, theme),
        Overlay::Revoke(dialog) => super::more::render_revoke(f, body, dialog, theme),
        Overlay::Export(dialog) => super::more::render_export(f, body, dialog, theme),
        Overlay::Reissue(dialog) => super::more::render_reissue(f, body, dialog, theme),
        Overlay::HostingForm(form) => super::hosting::render_form(f, body, form, theme),
        Overlay::DeployPick(pick) => super::hosting::render_pick(f, body, pick, state, theme),
        Overlay::ResourceForm(form) => super::hosting::render_resource_form(f, body, form, theme),
        Overlay::AlarmForm(form) => super::alarms::render_form(f, body, form, theme),
        Overlay::ConfirmHosting(c) => confirm_with(
            f,
            body,
            &c.2,
            match c.0 {
                crate::app::state::HostingOp::Rollback => {
                    (" Confirm roll back ", "y  roll back      n / Esc  keep it as it is")
                }
                _ => (" Confirm cancel ", "y  cancel the hosting      n / Esc  keep it"),
            },
            theme,
        ),
        Overlay::ConfirmRemoveResource(r) => confirm(
            f,
            body,
            &format!(
                "Remove resource {} ({})? certdeck forgets it and its deployment history; the files on it are left as they are, and hostings that deploy to it will fail.",
                r.1, r.0
            ),
            theme,
        ),
        _ => {}
    }
}

fn forecast(
    f: &mut Frame,
    area: Rect,
    days: u32,
    entries: &[crate::app::state::ForecastRow],
    now: crate::domain::time::Timestamp,
    theme: &Theme,
) {
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{:<18} {:<20} {:<9} {:<28} {}",
            "WHEN", "RULE", "ID", "NAME", "WHAT"
        ),
        theme.title(),
    ))];
    for r in entries {
        let overdue = r.entry.due < now;
        let text = format!(
            "{:<18} {:<20} {:<9} {:<28} {}{}",
            r.entry.due.format("%Y-%m-%d %H:%M"),
            r.entry.kind.as_str(),
            r.entry.cert_id,
            crate::ui::text::clip(&r.name, 28),
            r.entry.kind.describe(),
            if overdue {
                " — overdue: no tick ran"
            } else {
                ""
            }
        );
        lines.push(if overdue {
            Line::from(Span::styled(text, theme.warn()))
        } else {
            Line::from(text)
        });
    }
    if entries.is_empty() {
        lines.push(Line::from("nothing is scheduled in this window"));
    }
    let title = format!(
        " Forecast: {} in the next {days} days from {} · Esc back ",
        crate::domain::words::count_of(entries.len() as u64, "timed rule"),
        now.format("%Y-%m-%d %H:%M UTC")
    );
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}

/// The tab whose title is at column `x` of the tab line (titles as `draw` writes them).
pub fn tab_at(x: u16) -> Option<Tab> {
    let mut start = 0u16;
    for (i, t) in Tab::ALL.iter().enumerate() {
        // " N Title " plus the one-column divider.
        let width = format!(" {} {} ", i + 1, t.title()).chars().count() as u16;
        if x >= start && x < start + width {
            return Some(*t);
        }
        start += width + 1;
    }
    None
}

fn status_bar(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let (total, expired, soon) = state.counts;
    let line = Line::from(vec![
        Span::styled(" certdeck ", theme.title()),
        Span::raw(format!("│ {total} certificates │ ")),
        Span::styled(
            format!("✗ {expired} expired"),
            if expired > 0 {
                theme.danger()
            } else {
                theme.dim()
            },
        ),
        Span::raw(" │ "),
        Span::styled(
            format!("⚠ {soon} within 30 days"),
            if soon > 0 { theme.warn() } else { theme.dim() },
        ),
        Span::styled(
            if state.unread > 0 {
                format!(" │ ✉ {} unread", state.unread)
            } else {
                String::new()
            },
            theme.warn(),
        ),
        Span::styled(
            if state.waiting > 0 {
                format!(" │ ⏳ {} working…", state.waiting)
            } else {
                String::new()
            },
            theme.warn(),
        ),
        Span::raw(format!(
            " │ balance {} │ {} │ {}",
            state
                .balance
                .map(|b| format!("{b} {}", crate::domain::account::CURRENCY))
                .unwrap_or_else(|| "–".into()),
            state.db_label,
            state.now.format("%Y-%m-%d %H:%M UTC")
        )),
    ]);
    // "? help" keeps its place at the right end at every width (#12).
    let style = theme.dim().add_modifier(ratatui::style::Modifier::REVERSED);
    let parts = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Min(0), Constraint::Length(9)])
        .split(area);
    f.render_widget(Paragraph::new(line).style(style), parts[0]);
    f.render_widget(
        Paragraph::new(" │ ? help")
            .style(style)
            .alignment(ratatui::layout::Alignment::Right),
        parts[1],
    );
}

fn bottom_line(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let line = match &state.input {
        Input::Filter => Line::from(vec![
            Span::styled("/", theme.accent()),
            Span::raw(state.filter_text().to_string()),
            Span::styled("▏ Enter keep · Esc clear", theme.dim()),
        ]),
        Input::Command(c) => Line::from(vec![
            Span::styled(":", theme.accent()),
            Span::raw(c.clone()),
            Span::raw("▏"),
        ]),
        Input::Normal if state.scan.is_some() => {
            let p = state.scan.unwrap_or_default();
            let width = (area.width as usize / 4).clamp(4, 30);
            Line::from(Span::styled(p.bar(width), theme.accent()))
        }
        Input::Normal => match &state.status {
            Some(m) => {
                let style = match m.level {
                    Level::Info => theme.ok(),
                    Level::Warn => theme.warn(),
                    Level::Error => theme.danger(),
                };
                Line::from(Span::styled(m.text.clone(), style))
            }
            None => Line::from(Span::styled(hints(state, area.width), theme.dim())),
        },
    };
    f.render_widget(Paragraph::new(line), area);
}

/// The bottom line's key hints for the view in use: the fewest that fit, "? help" and "q quit"
/// always. A dialog or form shows its own keys in its frame, so the line stays empty under it.
fn hints(state: &State, width: u16) -> &'static str {
    if !matches!(state.overlay, Overlay::None) {
        return "";
    }
    let wide = width >= 100;
    match (state.tab, wide) {
        (Tab::Certificates, true) => {
            "u upload · / filter · s sort · Enter detail · . more · d delete · : command · ? help · q quit"
        }
        (Tab::Certificates, false) => {
            "u upload · / filter · Enter detail · . more · : command · ? help · q quit"
        }
        (Tab::Validation, true) => {
            "c check now · y copy the record · Enter detail · m remind · / filter · a order · ? help · q quit"
        }
        (Tab::Validation, false) => "c check now · y copy · Enter detail · / filter · ? help · q quit",
        (Tab::Hosting, true) => {
            "Enter history · p switch pane · e edit · x cancel · b roll back · / filter · ? help · q quit"
        }
        (Tab::Hosting, false) => "Enter history · p switch pane · e edit · / filter · ? help · q quit",
        (Tab::Alarms, true) => {
            "Enter open · U unread only · A all read · p policies · n new policy · / filter · ? help · q quit"
        }
        (Tab::Alarms, false) => "Enter open · U unread · p policies · / filter · ? help · q quit",
    }
}

fn confirm(f: &mut Frame, area: Rect, text: &str, theme: &Theme) {
    confirm_with(
        f,
        area,
        text,
        (" Confirm delete ", "y  delete      n / Esc  keep it"),
        theme,
    )
}

/// A confirmation: `text`, then the keys; `(title, keys)` name the action.
fn confirm_with(f: &mut Frame, area: Rect, text: &str, (title, keys): (&str, &str), theme: &Theme) {
    let popup = super::centered(area, 70, 30);
    f.render_widget(Clear, popup);
    let p = Paragraph::new(vec![
        Line::from(text.to_string()),
        Line::from(""),
        Line::from(Span::styled(keys.to_string(), theme.title())),
    ])
    .wrap(Wrap { trim: true })
    .block(
        Block::default()
            .borders(Borders::ALL)
            .border_style(theme.danger())
            .title(title.to_string()),
    );
    f.render_widget(p, popup);
}
