//! The More menu and the revocation dialog, rendered from State alone.
use crate::app::state::{ExportDialog, MoreMenu, ReissueDialog, ReissueField, RevokeDialog};
use crate::domain::revocation::Reason;
use crate::ui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;
use ratatui::Frame;

pub fn render_menu(f: &mut Frame, area: Rect, menu: &MoreMenu, theme: &Theme) {
    let popup = super::centered(area, 70, 70);
    f.render_widget(Clear, popup);
    let mut lines = Vec::new();
    let mut focus = None;
    for (i, e) in menu.entries.iter().enumerate() {
        let marker = if i == menu.selected { "▶" } else { " " };
        if i == menu.selected {
            focus = Some(lines.len());
        }
        let style = match (&e.disabled, i == menu.selected) {
            (_, true) => theme.selected(),
            (Some(_), false) => theme.dim(),
            (None, false) => ratatui::style::Style::default(),
        };
        lines.push(Line::from(Span::styled(
            format!("{marker} {}  {}", e.key, e.label),
            style,
        )));
        if let Some(why) = &e.disabled {
            lines.push(Line::from(Span::styled(
                format!("      unavailable: {why}"),
                theme.dim(),
            )));
        }
    }
    super::dialog(
        f,
        popup,
        lines,
        None,
        "↑↓ choose · Enter or its letter runs it · Esc close",
        format!(" More — {} ({}) ", menu.name, menu.id),
        // The entry's "unavailable" line too, when it has one.
        focus.map(|l| l + usize::from(menu.entries[menu.selected].disabled.is_some())),
        theme,
    );
}

pub fn render_revoke(f: &mut Frame, area: Rect, d: &RevokeDialog, theme: &Theme) {
    let popup = super::centered(area, 76, 90);
    f.render_widget(Clear, popup);
    let plan = &d.plan;
    let mut lines = vec![
        Line::from(format!("{} ({})", plan.name, plan.id)),
        Line::from(Span::styled(plan.flow.label(), theme.accent())),
        Line::from(""),
        Line::from(Span::styled(
            if d.reason.is_some() {
                "Reason (RFC 5280)"
            } else {
                "Reason (RFC 5280): choose one with ↑ ↓"
            },
            theme.title(),
        )),
    ];
    // Opened, the dialog shows its top: what is revoked, how, and the reasons to choose from.
    let mut focus = Some(0);
    let mut reason_line = None;
    for (i, r) in Reason::ALL.iter().enumerate() {
        let chosen = d.reason == Some(i);
        if chosen {
            reason_line = Some(lines.len());
        }
        lines.push(Line::from(Span::styled(
            format!(
                "{} {:<24} {:>2}  {}",
                if chosen { "▶" } else { " " },
                r.as_str(),
                r.code(),
                r.describe()
            ),
            if chosen {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            },
        )));
    }
    lines.push(Line::from(""));
    let cursor = |on: bool| if on { "▏" } else { "" };
    if let Some(what) = plan.document {
        lines.push(Line::from(Span::styled(
            format!(
                "Signed {what} ({}): type its path (Tab)",
                plan.document_kinds
            ),
            theme.title(),
        )));
        if d.on_document && !d.on_reason {
            focus = Some(lines.len());
        }
        lines.push(Line::from(format!(
            "  {}{}",
            d.document,
            cursor(d.on_document)
        )));
        lines.push(Line::from(""));
    }
    lines.push(Line::from(Span::styled("What happens", theme.title())));
    for s in &plan.steps {
        lines.push(Line::from(format!("  • {s}")));
    }
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled(
        format!("Type {} (or {}) to confirm", plan.name, plan.id),
        theme.title(),
    )));
    if !d.on_document && !d.on_reason {
        focus = Some(lines.len());
    }
    if d.on_reason {
        focus = reason_line.or(focus);
    }
    lines.push(Line::from(format!(
        "  {}{}{}",
        d.confirm,
        cursor(!d.on_document),
        if d.confirmed() { "  ✓" } else { "" }
    )));
    // The warning and the keys stay in view whatever the terminal's size (#12).
    let footer = vec![
        Line::from(Span::styled(plan.warning(), theme.danger())),
        Line::from(Span::styled(
            "Enter submit (cannot be cancelled) · ↑↓ reason · type the name · Esc cancel",
            theme.title(),
        )),
    ];
    super::framed(
        f,
        popup,
        lines,
        footer,
        format!(" Revoke {} ", plan.id),
        focus,
        theme.danger(),
        theme,
    );
}

pub fn render_export(f: &mut Frame, area: Rect, d: &ExportDialog, theme: &Theme) {
    use crate::domain::rules::export::Format;
    let popup = super::centered(area, 70, 70);
    f.render_widget(Clear, popup);
    let names = ["pem", "nginx", "apache", "haproxy", "pkcs12"];
    let formats: Vec<Span> = names
        .iter()
        .enumerate()
        .flat_map(|(i, n)| {
            let style = if i == d.format {
                theme.selected()
            } else {
                ratatui::style::Style::default()
            };
            [Span::styled(format!(" {n} "), style), Span::raw(" ")]
        })
        .collect();
    let what = match d.format() {
        Format::Pem => "cert.pem, chain.pem, fullchain.pem, privkey.pem",
        Format::Nginx => "NAME.crt (full chain) and NAME.key",
        Format::Apache => "NAME.crt, NAME.chain.crt and NAME.key",
        Format::Haproxy => "NAME.pem: chain and key in one file",
        Format::Pkcs12 => "NAME.p12: key and chain, protected by the password",
    };
    let cursor = |on: bool| if on { "▏" } else { "" };
    let mut lines = vec![
        Line::from(format!("{} ({})", d.name, d.id)),
        Line::from(""),
        Line::from(Span::styled("Format (← →)", theme.title())),
        Line::from(formats),
        Line::from(Span::styled(format!("  {what}"), theme.dim())),
        Line::from(""),
        Line::from(Span::styled("Directory", theme.title())),
        Line::from(format!("  {}{}", d.dir, cursor(!d.on_password))),
    ];
    if d.format() == Format::Pkcs12 {
        lines.push(Line::from(Span::styled("Password (Tab)", theme.title())));
        lines.push(Line::from(format!(
            "  {}{}",
            "•".repeat(d.password.chars().count()),
            cursor(d.on_password)
        )));
    }
    super::dialog(
        f,
        popup,
        lines,
        Some("Keys are written 0600, every file whole; existing files are never replaced here."),
        "Enter write · Tab field · Esc cancel",
        format!(" Export {} ", d.id),
        Some(if d.on_password { 9 } else { 7 }),
        theme,
    );
}

pub fn render_reissue(f: &mut Frame, area: Rect, d: &ReissueDialog, theme: &Theme) {
    let popup = super::centered(area, 76, 85);
    f.render_widget(Clear, popup);
    let mut lines = vec![
        Line::from(format!("{} ({}) · {}", d.name, d.id, d.standard.as_str())),
        Line::from(""),
        Line::from(Span::styled("CSR (↑ ↓)", theme.title())),
    ];
    for i in 0..ReissueDialog::CHOICES.len() {
        let chosen = i == d.choice;
        let unfit = d.unfit(i);
        let style = match (chosen, unfit) {
            (true, _) => theme.selected(),
            (false, Some(_)) => theme.dim(),
            (false, None) => ratatui::style::Style::default(),
        };
        let mut text = format!(
            "{} {}",
            if chosen { "▶" } else { " " },
            ReissueDialog::label(i)
        );
        if let Some(why) = unfit {
            text.push_str(&format!(" — {why}"));
        }
        lines.push(Line::from(Span::styled(text, style)));
    }
    let cursor = |f: ReissueField| if d.field == f { "▏" } else { "" };
    lines.push(Line::from(""));
    lines.push(Line::from(Span::styled("Reason", theme.title())));
    let reason_line = lines.len();
    lines.push(Line::from(format!(
        "  {}{}",
        d.reason,
        cursor(ReissueField::Reason)
    )));
    if ReissueDialog::CHOICES[d.choice].is_none() {
        lines.push(Line::from(Span::styled(
            "CSR (paste the PEM; it must parse and its signature verify)",
            theme.title(),
        )));
        let n = d.csr.lines().count();
        let shown = match d.csr.lines().next() {
            Some(first) => format!("  {first} … ({n} lines)"),
            None => "  (nothing pasted yet)".into(),
        };
        lines.push(Line::from(format!("{shown}{}", cursor(ReissueField::Csr))));
    } else {
        lines.push(Line::from(Span::styled(
            "Key password (optional; Tab)",
            theme.title(),
        )));
        lines.push(Line::from(format!(
            "  {}{}",
            "•".repeat(d.password.chars().count()),
            cursor(ReissueField::Password)
        )));
        if !d.password.is_empty() {
            lines.push(Line::from(Span::styled(
                "  A password-protected key cannot be deployed automatically (RI-6).",
                theme.warn(),
            )));
        }
    }
    super::dialog(
        f,
        popup,
        lines,
        Some("Free. The reissue keeps the original's validity (RI-5); validation is skipped within 3 days of issue or with the original CSR, else required (RI-7)."),
        "Enter order · Tab field · Esc cancel",
        format!(" Reissue {} ", d.id),
        Some(match d.field {
            ReissueField::Reason => reason_line,
            // The CSR or password field comes right after the reason.
            ReissueField::Csr | ReissueField::Password => reason_line + 2,
        }),
        theme,
    );
}
