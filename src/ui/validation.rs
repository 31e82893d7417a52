//! The Validation queue tab: every open order that needs the user, what to do for each domain,
//! and how long is left — rendered from State alone.
use crate::app::state::State;
use crate::domain::order::{Challenge, ValidationMethod};
use crate::domain::time::Timestamp;
use crate::domain::validation::CheckCode;
use crate::ui::columns::{column, Column, Shown};
use crate::ui::text::clip;
use crate::ui::theme::Theme;
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Cell, Paragraph, Table, Wrap};
use ratatui::Frame;

/// "3d 04h", "5h 12m", "12m", or "overdue".
pub fn countdown(until: Timestamp, now: Timestamp) -> String {
    let secs = (until - now).num_seconds();
    if secs <= 0 {
        return "overdue".into();
    }
    let (d, h, m) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    match (d, h) {
        (0, 0) => format!("{m}m"),
        (0, _) => format!("{h}h {m:02}m"),
        _ => format!("{d}d {h:02}h"),
    }
}

/// The queue's columns: title, width, and the narrowest inner width that shows it.
const COLUMNS: [Column; 6] = [
    column("ID", Constraint::Length(8), 100),
    column("NAME", Constraint::Min(14), 0),
    column("STATUS", Constraint::Length(15), 0),
    column("METHOD", Constraint::Length(15), 100),
    column("NEXT STEP", Constraint::Min(24), 0),
    column("TIME", Constraint::Length(18), 0),
];

pub fn render(f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
    let parts = Layout::default()
        .direction(Direction::Vertical)
        .constraints([Constraint::Percentage(45), Constraint::Min(6)])
        .split(area);
    let visible = state.visible_orders();
    let block = Block::default().borders(Borders::ALL).title(format!(
        " {}{} · c check · y copy · Enter detail · / filter ",
        crate::domain::words::count_of(visible.len() as u64, "open order"),
        super::filtered_note(&state.order_filter, state.orders.len()),
    ));
    if visible.is_empty() && !state.order_filter.is_empty() {
        f.render_widget(
            super::no_match("open order", &state.order_filter, block),
            area,
        );
        return;
    }
    if state.orders.is_empty() {
        let p = Paragraph::new(vec![
            Line::from(""),
            Line::from("  Nothing waits for you. Orders that need a DNS record, a file or a confirmation letter show up here."),
            Line::from("  Order with `certdeck apply --domain D --product P` (see `certdeck products`)."),
        ])
        .block(block);
        f.render_widget(p, area);
        return;
    }
    let now = state.now;
    // #12: at 80 columns the id and method give way; the next step and its time never do.
    let inner = parts[0].width.saturating_sub(2);
    let shown = Shown::new(&COLUMNS, inner);
    let rows = visible
        .iter()
        .map(|&i| &state.orders[i])
        .enumerate()
        .map(|(i, o)| {
            let selected = i == state.order_selected;
            let (next, when, style) = match (o.summary.status, o.order.deadline, o.order.review_due)
            {
                (crate::domain::model::Status::AwaitingLetter, _, _) => (
                    "upload the confirmation letter".to_string(),
                    "–".to_string(),
                    theme.warn(),
                ),
                (_, _, Some(review)) if o.revocation.is_some() => (
                    "CA reviews the revocation".to_string(),
                    format!("revoked in {}", countdown(review, now)),
                    theme.ok(),
                ),
                (_, _, Some(review)) => (
                    "CA review under way".to_string(),
                    format!("issued in {}", countdown(review, now)),
                    theme.ok(),
                ),
                (_, Some(deadline), None) => {
                    let what = match o.order.validation {
                        ValidationMethod::File => "serve the validation file",
                        _ => "add the DNS TXT record",
                    };
                    let left = countdown(deadline, now);
                    let style = if (deadline - now).num_hours() < 48 {
                        theme.danger()
                    } else {
                        theme.warn()
                    };
                    (what.to_string(), format!("{left} left"), style)
                }
                _ => ("–".to_string(), "–".to_string(), theme.dim()),
            };
            let cells = [
                Cell::from(o.summary.id.clone()),
                Cell::from(clip(&o.summary.name, 28)),
                Cell::from(o.summary.status.label()),
                Cell::from(o.order.validation.label()),
                Cell::from(Span::styled(next, theme.in_row(style, selected))),
                Cell::from(Span::styled(when, theme.in_row(style, selected))),
            ];
            shown.row(cells, selected, theme)
        });
    let (header, widths) = (shown.header(theme), shown.widths());
    super::table_at(
        f,
        Table::new(rows, widths).header(header).block(block),
        parts[0],
        state.order_selected,
    );
    f.render_widget(details(state, theme), parts[1]);
}

fn details(state: &State, theme: &Theme) -> Paragraph<'static> {
    let Some(o) = state.selected_order() else {
        return Paragraph::new("");
    };
    let now = state.now;
    let mut lines = vec![Line::from(Span::styled(
        format!(
            "{} — {} ({})",
            o.summary.id, o.summary.name, o.order.product
        ),
        theme.title(),
    ))];
    let results = state
        .check_results
        .as_ref()
        .filter(|(id, _)| *id == o.summary.id)
        .map(|(_, r)| r);
    for c in &o.order.challenges {
        match c {
            Challenge::DnsTxt {
                domain,
                name,
                value,
            } => {
                lines.push(Line::from(format!(
                    "  {domain}: add DNS record  {name}  TXT  \"{value}\""
                )));
                if o.order.validation == ValidationMethod::DnsAuto {
                    lines.push(Line::from(Span::styled(
                        "      added automatically in the managed zone (AR-6)",
                        theme.ok(),
                    )));
                }
            }
            Challenge::DnsCname {
                domain,
                name,
                target,
            } => {
                lines.push(Line::from(format!(
                    "  {domain}: add DNS record  {name}  CNAME  {target}"
                )));
                if o.order.validation == ValidationMethod::DnsAuto {
                    lines.push(Line::from(Span::styled(
                        "      added automatically in the managed zone (AR-6)",
                        theme.ok(),
                    )));
                }
            }
            Challenge::File {
                domain,
                url,
                content,
            } => {
                lines.push(Line::from(format!(
                    "  {domain}: serve  {url}  containing  \"{content}\""
                )));
            }
        }
        if let Some(r) = results.and_then(|rs| rs.iter().find(|r| r.domain == c.domain())) {
            let style = if r.code == CheckCode::Ok {
                theme.ok()
            } else {
                theme.danger()
            };
            let mark = if r.code == CheckCode::Ok {
                "✓"
            } else {
                "✗"
            };
            lines.push(Line::from(Span::styled(
                format!("      {mark} {:?}: {}", r.code, r.detail).to_string(),
                style,
            )));
        }
    }
    if let Some(deadline) = o.order.deadline {
        lines.push(Line::from(Span::styled(
            format!(
                "  Deadline {} ({} left): if the domains are not validated by then, the order fails and the certificate cannot be issued ({}).",
                deadline.format("%Y-%m-%d %H:%M UTC"),
                countdown(deadline, now),
                o.order.deadline_rule()
            ),
            theme.warn(),
        )));
    }
    if let Some(review) = o.order.review_due {
        lines.push(Line::from(format!(
            "  Review ends {} (RM-3, business days); the certificate is issued then.",
            review.format("%Y-%m-%d %H:%M UTC")
        )));
    }
    if o.summary.status == crate::domain::model::Status::AwaitingLetter {
        lines.push(Line::from(Span::styled("  A confirmation letter (JPG, PNG or PDF) is needed before review (AR-7); letter upload arrives next.", theme.warn())));
    }
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(Block::default().borders(Borders::ALL).title(" What to do "))
}

#[cfg(test)]
mod tests {
    use super::countdown;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn countdowns_read_at_a_glance() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(
            countdown(now + Duration::days(3) + Duration::hours(4), now),
            "3d 04h"
        );
        assert_eq!(
            countdown(now + Duration::hours(5) + Duration::minutes(12), now),
            "5h 12m"
        );
        assert_eq!(countdown(now + Duration::minutes(12), now), "12m");
        assert_eq!(countdown(now, now), "overdue");
    }
}
