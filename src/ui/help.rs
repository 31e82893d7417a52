//! The `?` overlay, generated from the keymap.
use crate::app::command::COMMANDS;
use crate::ui::keymap::{help_rows, Context};
use crate::ui::theme::Theme;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph, Wrap};
use ratatui::Frame;

fn section(out: &mut Vec<Line<'static>>, ctx: Context, theme: &Theme) {
    out.push(Line::from(Span::styled(ctx.title(), theme.title())));
    for (k, what) in help_rows(ctx) {
        out.push(Line::from(vec![
            Span::styled(format!("  {k:<14}"), theme.accent()),
            Span::raw(what),
        ]));
    }
    out.push(Line::from(""));
}

/// Two columns of help: navigation on the left; forms, inputs and commands on the right.
pub fn columns(theme: &Theme) -> (Vec<Line<'static>>, Vec<Line<'static>>) {
    let mut left = Vec::new();
    for ctx in [
        Context::Global,
        Context::List,
        Context::Validation,
        Context::Hosting,
        Context::Alarms,
        Context::Detail,
        Context::Menu,
        Context::Revoke,
    ] {
        section(&mut left, ctx, theme);
    }
    left.push(Line::from(Span::styled(
        "Mouse (never required)",
        theme.title(),
    )));
    left.push(Line::from(
        "  wheel scrolls · click selects a row or a tab · click the selected row opens it",
    ));
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
        section(&mut right, ctx, theme);
    }
    right.push(Line::from(Span::styled("Commands", theme.title())));
    let width = COMMANDS.iter().map(|(c, _)| c.len()).max().unwrap_or(0) + 2;
    for (c, what) in COMMANDS {
        right.push(Line::from(vec![
            Span::styled(format!("  :{c:<width$}"), theme.accent()),
            Span::raw(*what),
        ]));
    }
    (left, right)
}

pub fn render(f: &mut Frame, area: Rect, scroll: u16, theme: &Theme) {
    let popup = super::centered(area, 96, 96);
    f.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys — j/k scroll · Esc or ? closes ");
    let inner = block.inner(popup);
    f.render_widget(block, popup);
    let halves = Layout::default()
        .direction(Direction::Horizontal)
        .constraints([Constraint::Percentage(45), Constraint::Percentage(55)])
        .split(inner);
    let (left, right) = columns(theme);
    let column = |lines| {
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((scroll, 0))
    };
    f.render_widget(column(left), halves[0]);
    f.render_widget(column(right), halves[1]);
}
