//! The detail pane: every fact of one certificate, its chain and its timeline.
use crate::app::state::Detail;
use crate::domain::time::Timestamp;
use crate::ui::theme::Theme;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;

fn ts(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// Plain lines, shared by the pane and `certdeck show`.
/// AC-4: when and why an ACME certificate renews next, and how its last attempts went.
pub fn renewal_text(plan: &crate::domain::acme_renewal::AcmeRenewal, on: bool) -> String {
    if !on {
        return "auto-renewal off".into();
    }
    let mut line = format!(
        "next {} ({}), {}",
        plan.at.format("%Y-%m-%d %H:%M UTC"),
        plan.reason.as_str(),
        plan.ordered.solver.describe()
    );
    if plan.failures > 0 {
        line.push_str(&format!(
            "; {} failed attempt(s), last: {}",
            plan.failures,
            plan.last_error.as_deref().unwrap_or("")
        ));
    }
    line
}

/// Every line of a certificate's detail (the TUI's pane and `show`).
pub fn detail_text(d: &Detail, now: Timestamp) -> Vec<String> {
    let (c, order, acme, watched, intermediate, timeline, resources) = (
        &d.cert,
        d.order.as_ref(),
        d.acme.as_ref(),
        d.watched.as_ref(),
        d.intermediate.as_ref(),
        &d.timeline[..],
        &d.resources[..],
    );
    let mut l = Vec::new();
    let mut kv = |k: &str, v: String| l.push(format!("{k:<20} {v}"));
    kv("Id", c.id.clone());
    kv("Name", c.name.clone());
    kv("Status", c.status_at(now).label().to_string());
    kv("Source", format!("{:?}", c.source).to_lowercase());
    kv("Brand", c.brand.clone());
    kv(
        "Type",
        c.cert_type
            .map(|t| t.as_str().to_string())
            .unwrap_or_else(|| "–".into()),
    );
    kv("Standard", c.standard.as_str().to_string());
    kv(
        "Domains",
        format!("{} ({})", c.domains.join(", "), c.domain_kind.as_str()),
    );
    if let Some(x) = &c.x509 {
        let days = c.days_left(now).unwrap_or(0);
        // "expired 5 days ago", never "(-5 days left)" (#12).
        let left = if days < 0 {
            format!(
                "expired {} ago",
                crate::domain::words::count_of((-days) as u64, "day")
            )
        } else {
            format!(
                "{} left",
                crate::domain::words::count_of(days as u64, "day")
            )
        };
        kv("Subject", x.subject.clone());
        kv("Issuer", x.issuer.clone());
        kv("Serial", x.serial.clone());
        kv("Valid from", ts(x.not_before));
        kv("Valid until", format!("{} ({left})", ts(x.not_after)));
        kv(
            "Key",
            format!("{} {} bits", x.key_algorithm.as_str(), x.key_bits),
        );
        kv("Signature", x.signature_algorithm.clone());
        kv("SHA-256", x.fingerprint_sha256.clone());
        kv("X.509 version", format!("v{}", x.version));
        kv(
            "Key usage",
            if x.key_usage.is_empty() {
                "–".into()
            } else {
                x.key_usage.join(", ")
            },
        );
        kv(
            "Extended usage",
            if x.extended_key_usage.is_empty() {
                "–".into()
            } else {
                x.extended_key_usage.join(", ")
            },
        );
        if !x.policies.is_empty() {
            kv("Policies", x.policies.join(", "));
        }
        kv(
            "SANs",
            if x.sans.is_empty() {
                "–".into()
            } else {
                x.sans.join(", ")
            },
        );
    }
    kv(
        "Private key",
        if c.has_key {
            "stored, encrypted at rest".into()
        } else {
            "none".into()
        },
    );
    if c.enc_cert_pem.is_some() {
        kv("SM2 encryption", "certificate and key stored".into());
    }
    kv(
        "Auto-renew",
        if c.auto_renew {
            "on".into()
        } else {
            "off".into()
        },
    );
    if let Some(w) = watched {
        for (i, p) in w.paths.iter().enumerate() {
            kv(if i == 0 { "Files" } else { "" }, p.clone());
        }
        kv(
            "Key file",
            w.key_path
                .clone()
                .unwrap_or_else(|| "not found (watched without its key)".into()),
        );
        for (i, s) in w.sites.iter().enumerate() {
            kv(
                if i == 0 { "Sites" } else { "" },
                format!(
                    "{} {} on {} ({}:{})",
                    format!("{:?}", s.server).to_lowercase(),
                    s.names.join(" "),
                    s.listen.join(" "),
                    s.config,
                    s.line
                ),
            );
        }
        if let Some(g) = w.gone_at {
            kv("Gone since", ts(g));
        }
        if let Some(i) = intermediate {
            kv(
                "INTERMEDIATE",
                format!(
                    "{} serves {} ending {}, before this certificate (DS-5)",
                    i.address,
                    i.subject,
                    ts(i.not_after)
                ),
            );
        }
        if let Some(d) = &w.drift {
            kv(
                "DRIFT",
                format!(
                    "{} ({}) serves {}…, not this file's certificate (seen {})",
                    d.address,
                    d.sni,
                    &d.served_fingerprint_sha256[..16.min(d.served_fingerprint_sha256.len())],
                    ts(d.seen_at)
                ),
            );
        }
    }
    if let Some(a) = acme {
        kv(
            "ACME",
            format!("account {}, order {}", a.account, a.order_url),
        );
        if let Some(plan) = &a.renewal {
            kv("Renewal", renewal_text(plan, c.auto_renew));
        }
    }
    kv(
        "Ignored",
        if c.ignored { "yes".into() } else { "no".into() },
    );
    kv(
        "Tags",
        if c.tags.is_empty() {
            "–".into()
        } else {
            c.tags
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(", ")
        },
    );
    kv("Project", c.project.clone().unwrap_or_else(|| "–".into()));
    if let Some(r) = &c.renewed_from {
        kv("Renewed from", r.clone());
    }
    if let Some(r) = &c.reissued_from {
        kv("Reissued from", r.clone());
    }
    kv(
        "Resources",
        if resources.is_empty() {
            "none".into()
        } else {
            resources.join(", ")
        },
    );
    l.push(String::new());
    l.push(format!(
        "Chain ({} certificate{}, {})",
        c.chain.len(),
        if c.chain.len() == 1 { "" } else { "s" },
        if c.chain_complete {
            "complete"
        } else {
            "not ending at a trusted root"
        }
    ));
    for (i, link) in c.chain.iter().enumerate() {
        l.push(format!(
            "  [{i}] {}{}",
            link.subject,
            if link.is_ca { "  (CA)" } else { "" }
        ));
        l.push(format!("      issued by {}", link.issuer));
        l.push(format!(
            "      {} .. {}",
            ts(link.not_before),
            ts(link.not_after)
        ));
        l.push(format!("      sha256 {}", link.fingerprint_sha256));
    }
    if let Some(o) = order {
        l.push(String::new());
        l.push("Order".into());
        l.push(format!(
            "  {:<18} {} for {} year(s), {} {} paid",
            "product",
            o.product,
            o.years,
            o.price,
            crate::domain::account::CURRENCY
        ));
        l.push(format!("  {:<18} {}", "validation", o.validation.label()));
        for ch in &o.challenges {
            match ch {
                crate::domain::order::Challenge::DnsTxt { name, value, .. } => {
                    l.push(format!("  {:<18} TXT {name} = {value}", "dns record"))
                }
                crate::domain::order::Challenge::DnsCname { name, target, .. } => {
                    l.push(format!("  {:<18} CNAME {name} -> {target}", "dns record"))
                }
                crate::domain::order::Challenge::File { url, content, .. } => {
                    l.push(format!("  {:<18} {url} containing {content}", "file"))
                }
            }
        }
        l.push(format!("  {:<18} {}", "submitted", ts(o.submitted_at)));
        if let Some(t) = o.validated_at {
            l.push(format!("  {:<18} {}", "validated", ts(t)));
        }
        if let Some(t) = o.review_due {
            l.push(format!("  {:<18} {} (then issued)", "review ends", ts(t)));
        }
        if let Some(t) = o.deadline {
            l.push(format!(
                "  {:<18} {} (else the order fails, AR-6)",
                "validate by",
                ts(t)
            ));
        }
        if let Some(t) = o.valid_until {
            l.push(format!("  {:<18} {} (AR-5)", "renewal valid to", ts(t)));
        }
    }
    l.push(String::new());
    l.push("Timeline".into());
    for t in timeline {
        let e = &t.event;
        l.push(format!("  {}  {:<10} {}", ts(e.at), e.kind, e.message));
        if let Some(ran) = t.ran_at {
            // T-1: dated when it was due; a late tick did it later.
            l.push(format!(
                "  {:<16}  {:<10} (ran at {} by a late tick)",
                "",
                "",
                ts(ran)
            ));
        }
    }
    l
}

/// How far the pane can scroll in `area`: its last line at the bottom, not past it (#12).
pub fn max_scroll(d: &Detail, now: Timestamp, area: Rect) -> u16 {
    let width = area.width.saturating_sub(2);
    let rows: u16 = detail_text(d, now)
        .iter()
        .map(|l| super::rows_of(&Line::from(l.as_str()), width))
        .sum();
    rows.saturating_sub(area.height.saturating_sub(2))
}

pub fn render(f: &mut Frame, area: Rect, d: &Detail, now: Timestamp, theme: &Theme) {
    let lines: Vec<Line> = detail_text(d, now)
        .into_iter()
        .map(|s| {
            if s == "Timeline" || s == "Order" || s.starts_with("Chain (") {
                Line::from(Span::styled(s, theme.title()))
            } else {
                Line::from(s)
            }
        })
        .collect();
    let block = Block::default()
        .borders(Borders::ALL)
        .title(format!(" {} — {} ", d.cert.name, d.cert.id))
        .title_bottom(" Esc back · j/k scroll · d delete ");
    f.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false })
            // Ui::draw keeps the scroll within `max_scroll`.
            .scroll((d.scroll, 0)),
        area,
    );
}
