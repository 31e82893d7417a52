//! The Hosting tab: hostings (old certificate, its replacement, when, state, last result) and
//! resources (files, commands, endpoint, the certificate each holds), rendered from State alone;
//! and the hosting history, hosting form and resource picker overlays.
use crate::app::state::{
    DeployPick, HostingField, HostingForm, HostingHistory, ResourceForm, State,
};
use crate::domain::rules::hosting::{Association, HostingStatus};
use crate::ui::text::clip;
use crate::ui::theme::Theme;
use crate::ui::validation::countdown;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Clear, Paragraph, Row, Table, Wrap};
use ratatui::Frame;

pub fn render(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Percentage(50), Constraint::Min(5)])
        .split(area);
    let hostings = state.visible_hostings();
    let resources = state.visible_resources();
    let block = Block::default().borders(Borders::ALL).title(format!(
        " {}{} · Enter history · e edit · x cancel · R retry · b roll back{} ",
        crate::domain::words::count_of(hostings.len() as u64, "hosting"),
        super::filtered_note(&state.hosting_filter, state.hostings.len()),
        if state.hosting_on_resources {
            ""
        } else {
            " ◀ keys"
        }
    ));
    if hostings.is_empty() && !state.hosting_filter.is_empty() {
        f.render_widget(
            super::no_match("hosting", &state.hosting_filter, block),
            parts[0],
        );
    } else if state.hostings.is_empty() {
        let p = Paragraph::new(vec![
            Line::from(""),
            Line::from("  No hostings. A hosting puts a certificate's renewal on its resources by itself, N days before it expires."),
            Line::from("  Deploy the certificate to a resource first (. then p), then host it (. then h), or `certdeck hosting add ID --days N`."),
        ])
        .block(block);
        f.render_widget(p, parts[0]);
    } else {
        let narrow = parts[0].width < 112;
        let rows = hostings
            .iter()
            .map(|&i| &state.hostings[i])
            .enumerate()
            .map(|(i, h)| {
                let selected = !state.hosting_on_resources && i == state.hosting_selected;
                let new = match (&h.new_cert, &h.association) {
                    (Some(id), _) => id.clone(),
                    (None, Association::Renewal) => {
                        if narrow { "renewal" } else { "after renewal" }.into()
                    }
                    (None, Association::Specified(id)) => id.clone(),
                };
                let when = match h.status {
                    // #12: at 80 columns the countdown gives way to the last result.
                    HostingStatus::InProgress if narrow => {
                        h.replace_at.format("%Y-%m-%d %H:%M").to_string()
                    }
                    HostingStatus::InProgress => format!(
                        "{} (in {})",
                        h.replace_at.format("%Y-%m-%d %H:%M"),
                        countdown(h.replace_at, state.now)
                    ),
                    _ => h.replace_at.format("%Y-%m-%d %H:%M").to_string(),
                };
                let style = match h.status {
                    HostingStatus::Failed => theme.danger(),
                    HostingStatus::Succeeded => theme.ok(),
                    HostingStatus::Cancelled => theme.dim(),
                    HostingStatus::RolledBack => theme.warn(),
                    HostingStatus::InProgress => theme.warn(),
                };
                let mark = match h.status {
                    HostingStatus::Failed => "✗ ",
                    HostingStatus::Succeeded => "✓ ",
                    HostingStatus::Cancelled => "– ",
                    HostingStatus::RolledBack => "↩ ",
                    HostingStatus::InProgress => "⏳ ",
                };
                let row = Row::new(vec![
                    Cell::from(h.id.clone()),
                    Cell::from(h.old_cert.clone()),
                    Cell::from(new),
                    Cell::from(when),
                    Cell::from(Span::styled(
                        format!("{mark}{}", h.status.label()),
                        theme.in_row(style, selected),
                    )),
                    Cell::from(clip(h.last_result.as_deref().unwrap_or(""), 60)),
                ]);
                if selected {
                    row.style(theme.selected())
                } else {
                    row
                }
            });
        let header = Row::new(vec![
            "ID",
            "OLD",
            "NEW",
            "REPLACES AT",
            "STATUS",
            "LAST RESULT",
        ])
        .style(theme.title());
        let widths = [
            Constraint::Length(8),
            Constraint::Length(8),
            Constraint::Length(if narrow { 8 } else { 13 }),
            Constraint::Length(if narrow { 16 } else { 28 }),
            Constraint::Length(14),
            Constraint::Min(if narrow { 12 } else { 20 }),
        ];
        super::table_at(
            f,
            Table::new(rows, widths).header(header).block(block),
            parts[0],
            state.hosting_selected,
        );
    }
    let rows = resources
        .iter()
        .map(|&i| &state.resources[i])
        .enumerate()
        .map(|(i, r)| {
            let files: Vec<String> = r
                .resource
                .targets
                .iter()
                .map(|(p, path)| format!("{}={}", p.as_str(), path.display()))
                .collect();
            let row = Row::new(vec![
                Cell::from(r.resource.name.clone()),
                Cell::from(r.resource.preset.as_str()),
                Cell::from(r.holder.clone().unwrap_or_else(|| "–".into())),
                Cell::from(
                    r.resource
                        .endpoint
                        .as_ref()
                        .map(|e| e.address.clone())
                        .unwrap_or_else(|| "–".into()),
                ),
                Cell::from(clip(&files.join(" "), 70)),
            ]);
            if state.hosting_on_resources && i == state.resource_selected {
                row.style(theme.selected())
            } else {
                row
            }
        });
    let header =
        Row::new(vec!["RESOURCE", "PRESET", "HOLDS", "ENDPOINT", "FILES"]).style(theme.title());
    let widths = [
        Constraint::Length(16),
        Constraint::Length(8),
        Constraint::Length(9),
        Constraint::Length(22),
        Constraint::Min(20),
    ];
    let title = if state.resources.is_empty() {
        " no resources · a add (or certdeck resource add NAME --preset nginx --dir DIR) "
            .to_string()
    } else {
        format!(
            " {}{} · p switch pane · a add · e edit · D remove{} ",
            crate::domain::words::count_of(resources.len() as u64, "resource"),
            super::filtered_note(&state.hosting_filter, state.resources.len()),
            if state.hosting_on_resources {
                " ◀ keys"
            } else {
                ""
            }
        )
    };
    super::table_at(
        f,
        Table::new(rows, widths)
            .header(header)
            .block(Block::default().borders(Borders::ALL).title(title)),
        parts[1],
        state.resource_selected,
    );
}

pub fn render_history(f: &mut Frame, area: Rect, h: &HostingHistory, theme: &Theme) {
    let mut lines = vec![
        Line::from(Span::styled(h.heading.clone(), theme.title())),
        Line::from(h.summary.clone()),
        Line::from(""),
    ];
    if h.records.is_empty() {
        lines.push(Line::from("No deployment has run here yet."));
    }
    for (name, r) in &h.records {
        lines.push(Line::from(Span::styled(
            format!(
                "{} · {} · {}",
                r.at.format("%Y-%m-%d %H:%M:%S"),
                name,
                r.summary(name)
            ),
            if r.succeeded() {
                theme.ok()
            } else {
                theme.danger()
            },
        )));
        for s in &r.steps {
            lines.push(Line::from(format!(
                "  {} {}",
                if s.ok { "✓" } else { "✗" },
                s.step
            )));
            for d in s.detail.lines() {
                lines.push(Line::from(Span::styled(format!("      {d}"), theme.dim())));
            }
        }
        lines.push(Line::from(""));
    }
    let p = Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .scroll((h.scroll, 0))
        .block(
            Block::default()
                .borders(Borders::ALL)
                .title(" Deployment history — j/k scroll · Esc back "),
        );
    f.render_widget(p, area);
}

pub fn render_form(f: &mut Frame, area: Rect, form: &HostingForm, theme: &Theme) {
    let popup = super::centered(area, 80, 90);
    f.render_widget(Clear, popup);
    let cursor = |field: HostingField| if form.field == field { "▏" } else { "" };
    let focus = |field: HostingField| if form.field == field { "▶ " } else { "  " };
    let lines = vec![
        Line::from(format!("{} ({})", form.name, form.cert_id)),
        Line::from(""),
        Line::from(Span::styled(
            "Days before expiry (H-4: fewer than it has left)",
            theme.title(),
        )),
        Line::from(format!("  {}{}", form.days, cursor(HostingField::Days))),
        Line::from(Span::styled(
            "Certificate to deploy (empty: its renewal, H-2)",
            theme.title(),
        )),
        Line::from(format!(
            "  {}{}",
            if form.new.is_empty() {
                "(the renewal)"
            } else {
                &form.new
            },
            cursor(HostingField::New)
        )),
        Line::from(Span::styled(
            "Recipient group for its messages (empty: none, H-6)",
            theme.title(),
        )),
        Line::from(format!(
            "  {}{}",
            if form.group.is_empty() {
                "(none)"
            } else {
                &form.group
            },
            cursor(HostingField::Group)
        )),
        Line::from(format!(
            "{}[{}] deploy even if it misses a domain of the old (H-3)",
            focus(HostingField::Partial),
            if form.confirm_partial { "x" } else { " " }
        )),
        Line::from(format!(
            "{}[{}] hosting messages (H-6)",
            focus(HostingField::Messages),
            if form.notify { "x" } else { " " }
        )),
    ];
    crate::ui::dialog(
        f,
        popup,
        lines,
        Some("It goes to every resource the certificate is deployed to (H-1)."),
        "Enter schedule · Tab field · Space switch · Esc cancel",
        match &form.editing {
            Some(id) => format!(" Edit hosting {id} of {} ", form.cert_id),
            None => format!(" Host {} ", form.cert_id),
        },
        Some(match form.field {
            HostingField::Days => 3,
            HostingField::New => 5,
            HostingField::Group => 7,
            HostingField::Partial => 8,
            HostingField::Messages => 9,
        }),
        theme,
    );
}

pub fn render_pick(f: &mut Frame, area: Rect, pick: &DeployPick, state: &State, theme: &Theme) {
    let popup = super::centered(area, 70, 60);
    f.render_widget(Clear, popup);
    let mut lines = vec![
        Line::from(format!("{} ({})", pick.name, pick.cert_id)),
        Line::from(""),
    ];
    for (i, r) in state.resources.iter().enumerate() {
        let text = format!(
            "{} {:<16} {:<8} holds {}",
            if i == pick.selected { "▶" } else { " " },
            r.resource.name,
            r.resource.preset.as_str(),
            r.holder.as_deref().unwrap_or("nothing yet")
        );
        lines.push(Line::from(Span::styled(
            text,
            if i == pick.selected {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            },
        )));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(format!(
        "[{}] deploy although expired (clients will refuse it)",
        if pick.allow_expired { "x" } else { " " }
    )));
    crate::ui::dialog(
        f,
        popup,
        lines,
        Some("Backup, write (keys 0600), check, reload, probe; any failure puts the previous files back."),
        "Enter deploy · ↑↓ choose · Space although expired · Esc cancel",
        format!(" Deploy {} ", pick.cert_id),
        Some(2 + pick.selected),
        theme,
    );
}

pub fn render_resource_form(f: &mut Frame, area: Rect, form: &ResourceForm, theme: &Theme) {
    let popup = super::centered(area, 76, 80);
    f.render_widget(Clear, popup);
    let mut lines = Vec::new();
    for (i, label) in ResourceForm::LABELS.iter().enumerate() {
        let focused = form.focus == i;
        lines.push(Line::from(Span::styled(
            format!("{}{label}", if focused { "▶ " } else { "  " }),
            if focused {
                theme.selected()
            } else {
                theme.title()
            },
        )));
        let value = match i {
            0 => form.fields[0].clone(),
            1 => ResourceForm::PRESETS
                .iter()
                .enumerate()
                .map(|(j, p)| {
                    if j == form.preset {
                        format!("[{}]", p.as_str())
                    } else {
                        p.as_str().to_string()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            n => form.fields[n - 1].clone(),
        };
        lines.push(Line::from(format!(
            "    {value}{}",
            if focused && i != 1 { "▏" } else { "" }
        )));
    }
    let note = match &form.editing {
        Some(_) => "Editing: an empty directory keeps the files it has.",
        None => "Keys are written 0600, certificates 0644. Other files and owners: certdeck resource add.",
    };
    let title = match &form.editing {
        Some((id, _)) => format!(" Edit resource {id} "),
        None => " Add a resource ".to_string(),
    };
    crate::ui::dialog(
        f,
        popup,
        lines,
        Some(note),
        "Enter save · Tab field · ← → preset · Esc cancel",
        title,
        Some(2 * form.focus + 1),
        theme,
    );
}
