//! Tables whose columns give way on narrow terminals (#12: at 80 columns the least needed go
//! first; what a user acts on stays).
use crate::ui::theme::Theme;
use ratatui::layout::Constraint;
use ratatui::widgets::{Cell, Row};

/// A column, and the narrowest inner width of the table that shows it.
pub struct Column {
    pub title: &'static str,
    pub width: Constraint,
    pub from_width: u16,
}

pub const fn column(title: &'static str, width: Constraint, from_width: u16) -> Column {
    Column {
        title,
        width,
        from_width,
    }
}

/// The columns of a table `inner` columns wide.
pub struct Shown<'c> {
    columns: &'c [Column],
    inner: u16,
}

impl<'c> Shown<'c> {
    pub fn new(columns: &'c [Column], inner: u16) -> Shown<'c> {
        Shown { columns, inner }
    }

    fn shows(&self, c: &Column) -> bool {
        c.from_width <= self.inner
    }

    fn shown(&self) -> impl Iterator<Item = &'c Column> + '_ {
        self.columns.iter().filter(|c| self.shows(c))
    }

    /// A row of the shown cells (`cells` has one per column), in the selection's style when
    /// `selected`.
    pub fn row<'a>(
        &self,
        cells: impl IntoIterator<Item = Cell<'a>>,
        selected: bool,
        theme: &Theme,
    ) -> Row<'a> {
        let row = Row::new(
            cells
                .into_iter()
                .zip(self.columns)
                .filter(|(_, c)| self.shows(c))
                .map(|(cell, _)| cell),
        );
        if selected {
            row.style(theme.selected())
        } else {
            row
        }
    }

    pub fn header(&self, theme: &Theme) -> Row<'static> {
        Row::new(self.shown().map(|c| c.title)).style(theme.title())
    }

    pub fn widths(&self) -> Vec<Constraint> {
        self.shown().map(|c| c.width).collect()
    }
}
