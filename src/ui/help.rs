//! The `?` overlay, generated from the keymap.
use crate::app::command::COMMANDS;
use crate::ui::keymap::{help_rows, Context};
use crate::ui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Clear, Paragraph};
use ratatui::Frame;

pub fn lines(theme: &Theme) -> Vec<Line<'static>> {
    let mut out = Vec::new();
    for ctx in [
        Context::Global,
        Context::List,
        Context::Detail,
        Context::Upload,
        Context::Confirm,
        Context::Filter,
        Context::Command,
    ] {
        out.push(Line::from(Span::styled(ctx.title(), theme.title())));
        for (k, what) in help_rows(ctx) {
            out.push(Line::from(vec![
                Span::styled(format!("  {k:<14}"), theme.accent()),
                Span::raw(what),
            ]));
        }
        out.push(Line::from(""));
    }
    out.push(Line::from(Span::styled("Commands", theme.title())));
    for (c, what) in COMMANDS {
        out.push(Line::from(vec![
            Span::styled(format!("  :{c:<36}"), theme.accent()),
            Span::raw(*what),
        ]));
    }
    out
}

pub fn render(f: &mut Frame, area: Rect, theme: &Theme) {
    let popup = super::centered(area, 90, 90);
    f.render_widget(Clear, popup);
    let block = Block::default()
        .borders(Borders::ALL)
        .title(" Keys — Esc or ? closes ");
    f.render_widget(Paragraph::new(lines(theme)).block(block), popup);
}
