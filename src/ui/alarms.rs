//! The Alarms tab: the message center — every message a rule raised, newest first, unread ones
//! marked — rendered from State alone.
use crate::app::state::State;
use crate::domain::message::Severity;
use crate::ui::text::clip;
use crate::ui::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Row, Table};
use ratatui::Frame;

pub fn render(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let parts = ratatui::layout::Layout::default()
        .direction(ratatui::layout::Direction::Vertical)
        .constraints([
            Constraint::Length(policies_height(state)),
            Constraint::Length(deliveries_height(state)),
            Constraint::Min(5),
        ])
        .split(area);
    policies(f, parts[0], state, theme);
    deliveries(f, parts[1], state, theme);
    messages(f, parts[2], state, theme);
}

fn deliveries_height(state: &State) -> u16 {
    match state.deliveries.len() {
        0 => 0,
        n => (n.min(4) + 2) as u16,
    }
}

/// The newest deliveries with their state and last error.
fn deliveries(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use crate::domain::delivery::DeliveryState;
    if area.height == 0 {
        return;
    }
    let rows = state.deliveries.iter().take(4).map(|d| {
        let style = match d.state {
            DeliveryState::Delivered => theme.ok(),
            DeliveryState::Pending => theme.warn(),
            DeliveryState::Dead => theme.danger(),
        };
        let when = match d.state {
            DeliveryState::Pending => d.next_attempt_at.format("next %H:%M:%S").to_string(),
            DeliveryState::Delivered => d
                .delivered_at
                .map(|t| t.format("at %H:%M:%S").to_string())
                .unwrap_or_default(),
            DeliveryState::Dead => "R retries".to_string(),
        };
        Row::new(vec![
            Cell::from(format!("#{}", d.id)),
            Cell::from(Span::styled(d.state.as_str(), style)),
            Cell::from(crate::domain::words::count_of(d.attempts, "try")),
            Cell::from(Span::styled(when, theme.dim())),
            Cell::from(d.recipient.clone()),
            Cell::from(clip(d.last_error.as_deref().unwrap_or(""), 80)),
        ])
    });
    let widths = [
        Constraint::Length(6),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Length(13),
        Constraint::Length(20),
        Constraint::Min(20),
    ];
    f.render_widget(
        Table::new(rows, widths).block(
            Block::default()
                .borders(Borders::ALL)
                .title(" newest deliveries · R retries the dead ones · certdeck outbox retry ID "),
        ),
        area,
    );
}

fn policies_height(state: &State) -> u16 {
    (state.alarms.len().clamp(1, 6) + 3) as u16
}

/// Policies with their next evaluation, and the outbox by state.
fn policies(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    use crate::domain::delivery::DeliveryState;
    let count = |s: DeliveryState| state.deliveries.iter().filter(|d| d.state == s).count();
    let title = format!(
        " {} alarm polic{}{} · p switch pane · e edit · x off/on · n new · M groups · outbox: {} pending, {} delivered, {} dead ",
        state.alarms.len(),
        if state.alarms.len() == 1 { "y" } else { "ies" },
        match state.recipient_groups.len() {
            0 => String::new(),
            n => format!(", {}", crate::domain::words::count_of(n as u64, "recipient group")),
        },
        count(DeliveryState::Pending),
        count(DeliveryState::Delivered),
        count(DeliveryState::Dead)
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    if state.alarms.is_empty() {
        let p = Paragraph::new(Line::from(
            "  No alarm policies yet: n adds one (email, signed webhooks and chat styles: certdeck alarm add).",
        ))
        .block(block);
        f.render_widget(p, area);
        return;
    }
    let rows = state.alarms.iter().enumerate().map(|(i, p)| {
        let selected = state.alarm_on_policies && i == state.policy_selected;
        let frequency = match p.frequency {
            crate::domain::rules::alarm::Frequency::Once => "once".to_string(),
            crate::domain::rules::alarm::Frequency::EveryPeriods(n) => format!("every {n} periods"),
        };
        let row = Row::new(vec![
            Cell::from(p.name.clone()),
            Cell::from(format!("≤ {} days", p.threshold_days)),
            Cell::from(format!("{} s", p.period_secs)),
            Cell::from(frequency),
            Cell::from(if p.groups.is_empty() {
                crate::domain::words::count_of(p.recipients.len() as u64, "recipient")
            } else {
                format!("{} + {}", p.recipients.len(), p.groups.join(","))
            }),
            Cell::from(format!(
                "{} fired, {}",
                p.firings,
                p.last_evaluated
                    .map(|t| t.format("ran %H:%M:%S").to_string())
                    .unwrap_or_else(|| "not run yet".into())
            )),
            Cell::from(Span::styled(
                if p.enabled {
                    format!("next {}", p.next_evaluation.format("%m-%d %H:%M:%S"))
                } else {
                    "disabled (x switches on)".to_string()
                },
                theme.in_row(theme.dim(), selected),
            )),
        ]);
        if selected {
            row.style(theme.selected())
        } else {
            row
        }
    });
    let widths = [
        Constraint::Length(24),
        Constraint::Length(12),
        Constraint::Length(8),
        Constraint::Length(16),
        Constraint::Length(18),
        Constraint::Length(24),
        Constraint::Min(20),
    ];
    super::table_at(
        f,
        Table::new(rows, widths).block(block),
        area,
        state.policy_selected,
    );
}

fn messages(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let block = Block::default().borders(Borders::ALL).title(format!(
        " Messages{}{} · {} unread · Enter open · A all read · U {} · / filter ",
        if state.unread_only {
            " (unread only)"
        } else {
            ""
        },
        if state.message_filter.is_empty() {
            String::new()
        } else {
            format!(" matching \"{}\"", clip(&state.message_filter, 30))
        },
        state.unread,
        if state.unread_only {
            "show all"
        } else {
            "unread only"
        }
    ));
    if state.messages.is_empty() && !state.message_filter.is_empty() {
        let p = Paragraph::new(Line::from(format!(
            "  No message matches \"{}\" (Esc on / clears the filter).",
            state.message_filter
        )))
        .block(block);
        f.render_widget(p, area);
        return;
    }
    if state.messages.is_empty() {
        let p = Paragraph::new(vec![
            Line::from(""),
            Line::from("  No messages. Renewals charged or stopped, validations missed, reviews done, hostings and"),
            Line::from("  revocations, expiries (unless ignored, IG-2) all leave one here."),
        ])
        .block(block);
        f.render_widget(p, area);
        return;
    }
    let rows = state.messages.iter().enumerate().map(|(i, m)| {
        let selected = i == state.message_selected;
        let (mark, style) = match m.severity {
            Severity::Critical => ("✗ critical", theme.danger()),
            Severity::Warning => ("⚠ warning", theme.warn()),
            Severity::Info => ("· info", theme.ok()),
        };
        let text_style = if m.read {
            theme.dim()
        } else {
            ratatui::style::Style::default().add_modifier(ratatui::style::Modifier::BOLD)
        };
        let row = Row::new(vec![
            Cell::from(if m.read { " " } else { "●" }),
            Cell::from(m.at.format("%Y-%m-%d %H:%M").to_string()),
            Cell::from(Span::styled(mark, theme.in_row(style, selected))),
            Cell::from(m.cert_id.clone().unwrap_or_default()),
            Cell::from(Span::styled(
                clip(&m.text, 120),
                theme.in_row(text_style, selected),
            )),
        ]);
        if selected {
            row.style(theme.selected())
        } else {
            row
        }
    });
    let header = Row::new(vec!["", "WHEN", "SEVERITY", "CERT", "MESSAGE"]).style(theme.title());
    let widths = [
        Constraint::Length(1),
        Constraint::Length(16),
        Constraint::Length(10),
        Constraint::Length(8),
        Constraint::Min(30),
    ];
    super::table_at(
        f,
        Table::new(rows, widths).header(header).block(block),
        area,
        state.message_selected,
    );
}

pub fn render_form(f: &mut Frame, area: Rect, form: &crate::app::state::AlarmForm, theme: &Theme) {
    use ratatui::widgets::Clear;
    let popup = super::centered(area, 76, 80);
    f.render_widget(Clear, popup);
    let mut lines = Vec::new();
    for (i, label) in crate::app::state::AlarmForm::LABELS.iter().enumerate() {
        let focused = form.focus == i;
        lines.push(Line::from(Span::styled(
            format!("{}{label}", if focused { "▶ " } else { "  " }),
            if focused {
                theme.selected()
            } else {
                theme.title()
            },
        )));
        lines.push(Line::from(format!(
            "    {}{}",
            form.fields[i],
            if focused { "▏" } else { "" }
        )));
    }
    crate::ui::dialog(
        f,
        popup,
        lines,
        Some("Every firing goes to the message center. Email, signed webhooks and chat styles: certdeck alarm add."),
        "Enter save · Tab field · Esc cancel",
        match &form.editing {
            Some(id) => format!(" Edit alarm policy {id} (its recipients stay as they are) "),
            None => " New alarm policy ".to_string(),
        },
        Some(2 * form.focus + 1),
        theme,
    );
}

/// The recipient groups (AL-1): each member with its channel, and which policies name the group.
pub fn render_groups(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let mut lines = Vec::new();
    if state.recipient_groups.is_empty() {
        lines.push(Line::from(
            "  No recipient groups. certdeck alarm group add GROUP --recipient NAME --email ADDR | --webhook URL | --sms NUMBER --sms-gateway URL | --command CMD",
        ));
    }
    for g in &state.recipient_groups {
        let users: Vec<&str> = state
            .alarms
            .iter()
            .filter(|p| p.groups.contains(&g.name))
            .map(|p| p.name.as_str())
            .collect();
        lines.push(Line::from(vec![
            Span::styled(g.name.clone(), theme.title()),
            Span::styled(
                if users.is_empty() {
                    "  · named by no policy".to_string()
                } else {
                    format!("  · named by {}", users.join(", "))
                },
                theme.dim(),
            ),
        ]));
        for m in &g.members {
            lines.push(Line::from(format!(
                "  {:<20} {}",
                clip(&m.name, 20),
                m.channel.describe()
            )));
        }
        lines.push(Line::from(""));
    }
    let title = format!(
        " {} · added and removed with certdeck alarm group add|rm · Esc back ",
        crate::domain::words::count_of(state.recipient_groups.len() as u64, "recipient group")
    );
    f.render_widget(
        Paragraph::new(lines).block(Block::default().borders(Borders::ALL).title(title)),
        area,
    );
}
