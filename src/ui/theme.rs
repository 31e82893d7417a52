//! Colours carry meaning and never alone: every coloured state also has a symbol or word.
//! `NO_COLOR` (any value) turns colour off.
use crate::domain::model::Status;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone, Copy)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn from_env() -> Theme {
        Theme {
            color: std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }

    pub fn plain() -> Theme {
        Theme { color: false }
    }

    fn fg(&self, c: Color) -> Style {
        if self.color {
            Style::default().fg(c)
        } else {
            Style::default()
        }
    }

    pub fn danger(&self) -> Style {
        self.fg(Color::Red)
    }
    pub fn warn(&self) -> Style {
        self.fg(Color::Yellow)
    }
    pub fn ok(&self) -> Style {
        self.fg(Color::Green)
    }
    pub fn dim(&self) -> Style {
        if self.color {
            Style::default().fg(Color::DarkGray)
        } else {
            Style::default()
        }
    }
    pub fn accent(&self) -> Style {
        self.fg(Color::Cyan)
    }
    pub fn title(&self) -> Style {
        Style::default().add_modifier(Modifier::BOLD)
    }
    pub fn selected(&self) -> Style {
        if self.color {
            Style::default()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD)
        } else {
            Style::default().add_modifier(Modifier::REVERSED)
        }
    }

    /// A cell's colour on a table row. The selected row's white on blue wins (#12: red on blue
    /// is unreadable); the symbols and words still tell the state.
    pub fn in_row(&self, style: Style, selected: bool) -> Style {
        if selected {
            Style::default()
        } else {
            style
        }
    }

    /// Days-left cell: symbol + text + style. Expired red, 30 days or less amber.
    pub fn days(&self, days: Option<i64>, status: Status) -> (String, Style) {
        match days {
            _ if status == Status::Expired => ("✗ expired".into(), self.danger()),
            None => ("–".into(), self.dim()),
            // A revoked or abandoned certificate needs no renewal: its days are only a fact.
            Some(d) if matches!(status, Status::Revoked | Status::Cancelled | Status::Failed) => {
                (format!("– {d}d"), self.dim())
            }
            Some(d) if d <= 30 => (format!("⚠ {d}d"), self.warn()),
            Some(d) => (format!("✓ {d}d"), self.ok()),
        }
    }

    pub fn status(&self, status: Status) -> Style {
        match status {
            Status::Expired | Status::Failed | Status::Revoked => self.danger(),
            Status::ToBeRenewed
            | Status::Revoking
            | Status::AwaitingLetter
            | Status::Validating
            | Status::Reissuing => self.warn(),
            Status::Cancelled => self.dim(),
            Status::Issued => self.ok(),
        }
    }
}
