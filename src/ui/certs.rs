//! The Certificates tab: the triage table, rendered from State (only the rows on screen).
use crate::app::state::State;
use crate::ui::columns::{column, Column, Shown};
use crate::ui::text::clip;
use crate::ui::theme::Theme;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Table};
use ratatui::Frame;

/// Where the table's rows are on screen, kept between frames: the scroll offset, and the
/// geometry a mouse click is mapped through.
#[derive(Debug, Clone, Copy, Default)]
pub struct TableView {
    pub offset: usize,
    pub first_row_y: u16,
    pub rows: u16,
    pub x: u16,
    pub width: u16,
}

impl TableView {
    /// The index into `visible` of the row at screen position (x, y), if any.
    pub fn row_at(&self, x: u16, y: u16) -> Option<usize> {
        (y >= self.first_row_y
            && y < self.first_row_y + self.rows
            && x >= self.x
            && x < self.x + self.width)
            .then(|| self.offset + (y - self.first_row_y) as usize)
    }
}

/// The Certificates table's columns and the narrowest inner width each shows at.
const COLUMNS: [Column; 7] = [
    column("ID", Constraint::Length(8), 100),
    column("NAME", Constraint::Min(14), 0),
    column("DOMAINS", Constraint::Min(16), 0),
    column("STATUS", Constraint::Length(15), 0),
    column("DAYS LEFT", Constraint::Length(10), 0),
    column("SOURCE/BRAND", Constraint::Length(18), 110),
    column("ISSUER", Constraint::Min(12), 130),
];

pub fn render(f: &mut Frame, area: Rect, state: &State, theme: &Theme, view: &mut TableView) {
    let offset = &mut view.offset;
    let title = format!(
        " {} of {} · sorted by {}{}{} ",
        state.visible.len(),
        state.rows.len(),
        state.sort.label(),
        if state.descending { " ↓" } else { "" },
        if state.filter.is_empty() {
            String::new()
        } else {
            format!(" · filter \"{}\"", state.filter)
        }
    );
    let block = Block::default().borders(Borders::ALL).title(title);
    if state.rows.is_empty() {
        let p = Paragraph::new(vec![
            Line::from(""),
            Line::from("  No certificates yet."),
            Line::from("  Press u to upload one (paste PEM into the form), or run `certdeck import --cert FILE --key FILE`."),
        ])
        .block(block);
        f.render_widget(p, area);
        return;
    }
    let height = area.height.saturating_sub(3) as usize; // borders + header
    if state.selected < *offset {
        *offset = state.selected;
    } else if height > 0 && state.selected >= *offset + height {
        *offset = state.selected + 1 - height;
    }
    *offset = (*offset).min(state.visible.len().saturating_sub(height.max(1)));
    view.first_row_y = area.y + 2;
    view.rows = (height as u16).min(state.visible.len().saturating_sub(view.offset) as u16);
    view.x = area.x + 1;
    view.width = area.width.saturating_sub(2);
    let now = state.now;
    // #12: narrow terminals drop issuer, then source/brand, then id; name, status and days left
    // stay, and days left is never cut.
    let inner = area.width.saturating_sub(2);
    let shown = Shown::new(&COLUMNS, inner);
    let rows = state
        .visible
        .iter()
        .enumerate()
        .skip(view.offset)
        .take(height.max(1))
        .map(|(pos, &i)| {
            let s = &state.rows[i].summary;
            let status = s.status_at(now);
            let (days, days_style) = theme.days(s.days_left(now), status);
            let selected = pos == state.selected;
            let status_style = theme.in_row(theme.status(status), selected);
            let days_style = theme.in_row(days_style, selected);
            let mut name = clip(&s.name, 28);
            if s.ignored {
                name.push_str(" (ignored)");
            }
            // A discovered certificate's mark goes beside its status: the column is narrow
            // but never dropped, at 80 columns too.
            let status_text = match state.marks.get(&s.id) {
                Some(m) => format!("{} · {}", status.label(), m.label()),
                None => status.label().to_string(),
            };
            let source = format!(
                "{}/{}",
                match s.source {
                    crate::domain::model::Source::Uploaded => "upl",
                    crate::domain::model::Source::Issued => "iss",
                    crate::domain::model::Source::Discovered => "dis",
                },
                s.brand
            );
            let cells = vec![
                Cell::from(s.id.clone()),
                Cell::from(name),
                Cell::from(clip(&s.domains.join(", "), 36)),
                Cell::from(Span::styled(status_text, status_style)),
                Cell::from(Span::styled(days, days_style)),
                Cell::from(clip(&source, 20)),
                Cell::from(clip(&s.issuer, 28)),
            ];
            shown.row(cells, selected, theme)
        });
    let (header, widths) = (shown.header(theme), shown.widths());
    f.render_widget(Table::new(rows, widths).header(header).block(block), area);
}
