//! The order form (`a`): domain, extra domains, product, validation and years, checked as the
//! user types with the same rules `certdeck apply` uses. The product list ends with the ACME
//! accounts: choosing one orders from that CA, dns-01 by hand (AC-2, AC-3).
use crate::app::state::State;
use crate::domain::catalogue::CATALOGUE;
use crate::domain::order::ValidationMethod;
use crate::domain::refusal::Refusal;
use crate::domain::rules::apply::{validate_apply_priced, ApplyRequest, MAX_YEARS};
use crate::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderField {
    Domain,
    Sans,
    Product,
    Validation,
    Years,
}

const ORDER: [OrderField; 5] = [
    OrderField::Domain,
    OrderField::Sans,
    OrderField::Product,
    OrderField::Validation,
    OrderField::Years,
];
/// `None` = automatic (dns_auto in a managed zone, else dns).
const VALIDATIONS: [Option<ValidationMethod>; 4] = [
    None,
    Some(ValidationMethod::Dns),
    Some(ValidationMethod::DnsAuto),
    Some(ValidationMethod::File),
];

pub enum ApplyEvent {
    Ignored,
    Changed,
    Submit,
}

pub struct ApplyForm {
    domain: TextArea<'static>,
    sans: TextArea<'static>,
    pub product: usize,
    pub validation: usize,
    pub years: u32,
    pub focus: OrderField,
    pub preview: Option<Result<String, Refusal>>,
    /// ACME accounts (name, directory name), after the catalogue in the product list.
    acme: Vec<(String, String)>,
}

impl Default for ApplyForm {
    fn default() -> Self {
        Self::new()
    }
}

impl ApplyForm {
    pub fn new() -> ApplyForm {
        let mut domain = TextArea::default();
        domain.set_placeholder_text("shop.example.com (or *.example.com for wildcard products)");
        let mut sans = TextArea::default();
        sans.set_placeholder_text("comma-separated, multi-domain products only");
        ApplyForm {
            domain,
            sans,
            product: 0,
            validation: 0,
            years: 1,
            focus: OrderField::Domain,
            preview: None,
            acme: Vec::new(),
        }
    }

    /// The ACME accounts the product list offers (loaded when the form opens).
    pub fn set_acme_accounts(&mut self, accounts: &[(String, String)]) {
        if self.acme != accounts {
            self.acme = accounts.to_vec();
            self.product = self.product.min(CATALOGUE.len() + self.acme.len() - 1);
        }
    }

    /// The ACME account chosen as the product, if one is.
    pub fn acme_account(&self) -> Option<&(String, String)> {
        self.product
            .checked_sub(CATALOGUE.len())
            .and_then(|i| self.acme.get(i))
    }

    fn domain_text(&self) -> String {
        self.domain.lines().join("").trim().to_string()
    }

    fn sans_list(&self) -> Vec<String> {
        self.sans
            .lines()
            .join("")
            .split(',')
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// What submitting the form does: an ACME order or a sandbox one.
    pub fn submit(&self) -> crate::app::Action {
        match self.acme_account() {
            Some((account, _)) => crate::app::Action::ApplyAcme {
                account: account.clone(),
                domain: self.domain_text(),
                sans: self.sans_list(),
            },
            None => crate::app::Action::Apply(Box::new(self.request())),
        }
    }

    pub fn request(&self) -> ApplyRequest {
        ApplyRequest {
            domain: self.domain_text(),
            sans: self.sans_list(),
            product: CATALOGUE[self.product.min(CATALOGUE.len() - 1)]
                .code
                .to_string(),
            validation: VALIDATIONS[self.validation],
            years: self.years,
            ..Default::default()
        }
    }

    pub fn revalidate(&mut self, zones: &[String], prices: &crate::domain::catalogue::PriceTable) {
        if self.domain.lines().join("").trim().is_empty() {
            self.preview = None;
            return;
        }
        if let Some((account, directory)) = self.acme_account() {
            self.preview = Some(
                crate::domain::acme::order_names(&self.domain_text(), &self.sans_list(), false)
                    .map(|names| {
                        format!(
                            "✓ {} from {directory} (ACME account {account}): no fee; the Validation queue shows the TXT record(s) to add, then c tells the CA; renews by itself",
                            names.join(", ")
                        )
                    }),
            );
            return;
        }
        self.preview = Some(validate_apply_priced(&self.request(), zones, prices).map(|v| {
            let how = match v.validation {
                ValidationMethod::DnsAuto => "validated at once in the managed zone",
                ValidationMethod::Dns => "you add a DNS TXT record within 7 days",
                ValidationMethod::File => "you serve a validation file within 7 days",
            };
            let letter = if v.product.needs_letter() { "; a confirmation letter is needed" } else { "" };
            format!(
                "✓ {} for {} year(s): {} {} from the balance; {how}{letter}; review {} business day(s)",
                v.domains.join(", "),
                v.years,
                v.price,
                crate::domain::account::CURRENCY,
                v.product.review_days
            )
        }));
    }

    fn step(&mut self, delta: isize) {
        let wrap = |i: usize, n: usize| ((i as isize + delta).rem_euclid(n as isize)) as usize;
        match self.focus {
            OrderField::Product => {
                self.product = wrap(self.product, CATALOGUE.len() + self.acme.len())
            }
            OrderField::Validation => self.validation = wrap(self.validation, VALIDATIONS.len()),
            OrderField::Years => {
                self.years = (self.years as isize + delta).clamp(1, MAX_YEARS as isize) as u32
            }
            _ => {}
        }
    }

    pub fn handle_key(&mut self, ev: KeyEvent) -> ApplyEvent {
        let pos = ORDER.iter().position(|f| *f == self.focus).unwrap_or(0);
        match (ev.code, ev.modifiers) {
            (KeyCode::Char('s'), m) if m.contains(KeyModifiers::CONTROL) => {
                return ApplyEvent::Submit
            }
            (KeyCode::Enter, _) if self.focus == OrderField::Years => return ApplyEvent::Submit,
            (KeyCode::Tab | KeyCode::Enter | KeyCode::Down, _) => {
                self.focus = ORDER[(pos + 1) % ORDER.len()];
                return ApplyEvent::Ignored;
            }
            (KeyCode::BackTab | KeyCode::Up, _) => {
                self.focus = ORDER[(pos + ORDER.len() - 1) % ORDER.len()];
                return ApplyEvent::Ignored;
            }
            _ => {}
        }
        match self.focus {
            OrderField::Domain => {
                if self.domain.input(ev) {
                    ApplyEvent::Changed
                } else {
                    ApplyEvent::Ignored
                }
            }
            OrderField::Sans => {
                if self.sans.input(ev) {
                    ApplyEvent::Changed
                } else {
                    ApplyEvent::Ignored
                }
            }
            _ => match ev.code {
                KeyCode::Left | KeyCode::Char('h') => {
                    self.step(-1);
                    ApplyEvent::Changed
                }
                KeyCode::Right | KeyCode::Char('l') | KeyCode::Char(' ') => {
                    self.step(1);
                    ApplyEvent::Changed
                }
                _ => ApplyEvent::Ignored,
            },
        }
    }

    pub fn render(&self, f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
        let outer = Block::default()
            .borders(Borders::ALL)
            .title(" Order a certificate ")
            .title_bottom(
                " Tab/↑↓ field · ←/→ choose · Ctrl-S or Enter on Years to order · Esc cancel ",
            );
        let inner = outer.inner(area);
        f.render_widget(outer, area);
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Min(3),
            ])
            .split(inner);
        let block = |field: OrderField, title: &str| {
            let style = if self.focus == field {
                theme.accent()
            } else {
                ratatui::style::Style::default()
            };
            let mark = if self.focus == field { "▶ " } else { "" };
            Block::default()
                .borders(Borders::ALL)
                .title(format!("{mark}{title}"))
                .border_style(style)
        };
        let mut domain = self.domain.clone();
        domain.set_block(block(OrderField::Domain, "Domain"));
        f.render_widget(&domain, rows[0]);
        let mut sans = self.sans.clone();
        sans.set_block(block(OrderField::Sans, "More domains"));
        f.render_widget(&sans, rows[1]);
        let p = &CATALOGUE[self.product.min(CATALOGUE.len() - 1)];
        let acme = self.acme_account();
        let product = if let Some((account, directory)) = acme {
            format!("◀ ACME: {account} ▶  {directory} · no fee · renews by itself (AC-4)")
        } else {
            format!(
                "◀ {} ▶  {} {} {} · {} {} a year{}",
                p.code,
                p.brand,
                p.cert_type.as_str(),
                p.domain_kind.as_str(),
                crate::domain::catalogue::price_of(p, &state.prices),
                crate::domain::account::CURRENCY,
                if p.auto_renewable() {
                    " · can auto-renew"
                } else {
                    ""
                }
            )
        };
        f.render_widget(
            Paragraph::new(product).block(block(OrderField::Product, "Product")),
            rows[2],
        );
        let validation = match (acme, VALIDATIONS[self.validation]) {
            (Some(_), _) => "dns-01 by hand (others: certdeck apply --ca)".to_string(),
            (None, None) => {
                "◀ automatic ▶  DNS (automatic) in a managed zone, else DNS".to_string()
            }
            (None, Some(v)) => format!("◀ {} ▶", v.label()),
        };
        f.render_widget(
            Paragraph::new(validation).block(block(OrderField::Validation, "Validation")),
            rows[3],
        );
        f.render_widget(
            Paragraph::new(if acme.is_some() {
                "the CA sets the lifetime".to_string()
            } else {
                format!("◀ {} ▶", self.years)
            })
            .block(block(OrderField::Years, "Years")),
            rows[4],
        );
        let refusal = match &self.preview {
            Some(Err(r)) => Some(r),
            None => state.upload_refusal.as_ref(),
            _ => None,
        };
        let line = match (&self.preview, refusal) {
            (_, Some(r)) => Line::from(Span::styled(
                format!("✗ {}: {} ({})", r.field.as_str(), r.message, r.rule),
                theme.danger(),
            )),
            (Some(Ok(text)), None) => Line::from(Span::styled(text.clone(), theme.ok())),
            _ => Line::from(Span::styled(
                format!(
                    "Type the domain; the order is checked as you type. Balance: {}",
                    state
                        .balance
                        .map(|b| format!("{b} {}", crate::domain::account::CURRENCY))
                        .unwrap_or_else(|| "–".into())
                ),
                theme.dim(),
            )),
        };
        f.render_widget(
            Paragraph::new(line)
                .wrap(Wrap { trim: true })
                .block(Block::default().borders(Borders::ALL).title(" Check ")),
            rows[5],
        );
    }
}
