//! The `?` overlay, generated from the keymap.
use crate::app::command::COMMANDS;
use crate::ui::keymap::{help_rows, Context};
use crate::ui::theme::Theme;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

/// Whether a help row shows under the `/` search (`needle` already lower-case).
fn found(needle: &str, texts: &[&str]) -> bool {
    needle.is_empty() || texts.iter().any(|t| t.to_lowercase().contains(needle))
}

/// A section of help rows, left out when none of them matches the search.
fn section(out: &mut Vec<Line<'static>>, ctx: Context, needle: &str, theme: &Theme) {
    let rows: Vec<_> = help_rows(ctx)
        .filter(|(k, what)| found(needle, &[k, what, ctx.title()]))
        .collect();
    if rows.is_empty() {
        return;
    }
    out.push(Line::from(Span::styled(ctx.title(), theme.title())));
    for (k, what) in rows {
        out.push(Line::from(vec![
            Span::styled(format!("  {k:<14}"), theme.accent()),
            Span::raw(what),
        ]));
    }
    out.push(Line::from(""));
}

/// The view's own context (what the tab in use takes).
fn tab_context(tab: crate::app::state::Tab) -> Context {
    use crate::app::state::Tab;
    match tab {
        Tab::Certificates => Context::List,
        Tab::Validation => Context::Validation,
        Tab::Hosting => Context::Hosting,
        Tab::Alarms => Context::Alarms,
    }
}

/// Two columns of help: navigation on the left (the view in use first); forms, inputs and
/// commands on the right. Only what matches `search` (the help's `/`), when it is not empty.
pub fn columns(
    tab: crate::app::state::Tab,
    search: &str,
    theme: &Theme,
) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let needle = search.to_lowercase();
    let first = tab_context(tab);
    let mut left = Vec::new();
    section(&mut left, first, &needle, theme);
    for ctx in [
        Context::Global,
        Context::List,
        Context::Validation,
        Context::Hosting,
        Context::Alarms,
        Context::Detail,
        Context::Menu,
        Context::Revoke,
        Context::Help,
    ] {
        if ctx != first {
            section(&mut left, ctx, &needle, theme);
        }
    }
    const MOUSE: &str =
        "  wheel scrolls · click selects a row or a tab · click the selected row opens it";
    if found(&needle, &["mouse", MOUSE]) {
        left.push(Line::from(Span::styled(
            "Mouse (never required)",
            theme.title(),
        )));
        left.push(Line::from(MOUSE));
    }
    let mut right = Vec::new();
    for ctx in [
        Context::Upload,
        Context::Confirm,
        Context::Export,
        Context::Reissue,
        Context::HostingForm,
        Context::DeployPick,
        Context::ResourceForm,
        Context::AlarmForm,
        Context::Filter,
        Context::Command,
    ] {
        section(&mut right, ctx, &needle, theme);
    }
    let commands: Vec<_> = COMMANDS
        .iter()
        .filter(|(c, what)| found(&needle, &[c, what, "commands"]))
        .collect();
    if !commands.is_empty() {
        right.push(Line::from(Span::styled("Commands", theme.title())));
    }
    let width = COMMANDS.iter().map(|(c, _)| c.len()).max().unwrap_or(0) + 2;
    for (c, what) in commands {
        right.push(Line::from(vec![
            Span::styled(format!("  :{c:<width$}"), theme.accent()),
            Span::raw(*what),
        ]));
    }
    if left.is_empty() && right.is_empty() {
        left.push(Line::from(format!(
            "Nothing in the help matches “{search}”."
        )));
    }
    (left, right)
}

/// Below this inner width the help is one column (#12: readable at 80×24).
const TWO_COLUMNS_FROM: u16 = 120;

/// How far the help can scroll in `area` (the Ui keeps the scroll within it).
pub fn max_scroll(area: Rect, tab: crate::app::state::Tab, search: &str) -> u16 {
    let inner = Block::default()
        .borders(Borders::ALL)
        .inner(super::centered(area, 96, 96));
    let theme = Theme::plain();
    let (left, right) = columns(tab, search, &theme);
    let end = |lines: &[Line], width: u16| -> u16 {
        let rows: u16 = lines.iter().map(|l| super::rows_of(l, width)).sum();
        rows.saturating_sub(inner.height)
    };
    if inner.width < TWO_COLUMNS_FROM {
        let mut all = left;
        all.extend(right);
        return end(&all, inner.width);
    }
    let halves = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
        .split(inner);
    end(&left, halves[0].width).max(end(&right, halves[1].width))
}

pub fn render(
    f: &mut Frame,
    area: Rect,
    scroll: u16,
    tab: crate::app::state::Tab,
    search: &str,
    theme: &Theme,
) {
    let popup = super::centered(area, 96, 96);
    f.render_widget(Clear, popup);
    let title = if search.is_empty() {
        " Keys — your view first · j/k scroll · / search · Esc or ? closes ".to_string()
    } else {
        format!(
            " Keys matching \"{}\" · j/k scroll · / search · Esc or ? closes ",
            crate::ui::text::clip(search, 24)
        )
    };
    let block = Block::default().borders(Borders::ALL).title(title);
    let inner = block.inner(popup);
    f.render_widget(block, popup);
    let (left, right) = columns(tab, search, theme);
    // Ui::draw keeps `scroll` within `max_scroll`.
    if inner.width < TWO_COLUMNS_FROM {
        let mut all = left;
        all.extend(right);
        f.render_widget(
            Paragraph::new(all)
                .wrap(Wrap { trim: false })
                .scroll((scroll, 0)),
            inner,
        );
        return;
    }
    let halves = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
        .split(inner);
    let column = |lines| {
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
    };
    f.render_widget(column(left), halves[0]);
    f.render_widget(column(right), halves[1]);
}
