//! The upload form (`u`): ratatui-textarea editors for the PEM fields, validated as the user types
//! or pastes, pointing at the field and line that is wrong.
use crate::app::state::State;
use crate::domain::cert::mozilla_anchor_subjects;
use crate::domain::model::Standard;
use crate::domain::refusal::{Field, Refusal, Warning};
use crate::domain::rules::upload::{validate_upload, UploadInput};
use crate::domain::time::Timestamp;
use crate::ui::theme::Theme;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::{Constraint, Direction, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
use ratatui::Frame;
use ratatui_textarea::TextArea;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldId {
    Name,
    Standard,
    Cert,
    Key,
    Password,
    EncCert,
    EncKey,
    Tags,
    Project,
}

impl FieldId {
    fn title(self) -> &'static str {
        match self {
            FieldId::Name => "Name (default: subject CN)",
            FieldId::Standard => "Standard",
            FieldId::Cert => "Certificate PEM (leaf first, then chain)",
            FieldId::Key => "Private key PEM",
            FieldId::Password => "Key password (for an encrypted key)",
            FieldId::EncCert => "SM2 encryption certificate",
            FieldId::EncKey => "SM2 encryption private key",
            FieldId::Tags => "Tags (k=v, k=v)",
            FieldId::Project => "Project",
        }
    }

    fn multiline(self) -> bool {
        matches!(
            self,
            FieldId::Cert | FieldId::Key | FieldId::EncCert | FieldId::EncKey
        )
    }

    fn refusal_field(self) -> Option<Field> {
        Some(match self {
            FieldId::Name => Field::Name,
            FieldId::Cert => Field::Cert,
            FieldId::Key | FieldId::Password => Field::Key,
            FieldId::EncCert => Field::EncCert,
            FieldId::EncKey => Field::EncKey,
            FieldId::Tags => Field::Tag,
            FieldId::Project => Field::Project,
            FieldId::Standard => return None,
        })
    }
}

/// What a key did to the form.
#[derive(Debug, PartialEq, Eq)]
pub enum FormEvent {
    Ignored,
    Changed,
    Moved,
    Submit,
}

pub struct UploadForm {
    fields: Vec<(FieldId, TextArea<'static>)>,
    pub standard: Standard,
    pub focus: FieldId,
    /// Live validation of what is typed so far: a summary line and warnings, or the refusal.
    pub preview: Option<Result<(String, Vec<Warning>), Refusal>>,
}

impl Default for UploadForm {
    fn default() -> Self {
        Self::new()
    }
}

impl UploadForm {
    pub fn new() -> UploadForm {
        let ids = [
            FieldId::Name,
            FieldId::Cert,
            FieldId::Key,
            FieldId::Password,
            FieldId::EncCert,
            FieldId::EncKey,
            FieldId::Tags,
            FieldId::Project,
        ];
        let fields = ids
            .into_iter()
            .map(|id| {
                let mut t = TextArea::default();
                t.set_cursor_line_style(ratatui::style::Style::default());
                if id == FieldId::Password {
                    t.set_mask_char('•');
                }
                if id == FieldId::Cert {
                    t.set_placeholder_text("paste -----BEGIN CERTIFICATE----- … here");
                }
                if id == FieldId::Key {
                    t.set_placeholder_text("paste -----BEGIN PRIVATE KEY----- … here");
                }
                (id, t)
            })
            .collect();
        UploadForm {
            fields,
            standard: Standard::International,
            // #12: what people come to paste.
            focus: FieldId::Cert,
            preview: None,
        }
    }

    /// Fields in tab order, which is the order they are drawn in (left to right, top to
    /// bottom); the SM2 encryption pair only with the SM2 standard.
    pub fn order(&self) -> Vec<FieldId> {
        let mut v = vec![
            FieldId::Name,
            FieldId::Tags,
            FieldId::Project,
            FieldId::Standard,
            FieldId::Password,
            FieldId::Cert,
            FieldId::Key,
        ];
        if self.standard == Standard::Sm2 {
            v.extend([FieldId::EncCert, FieldId::EncKey]);
        }
        v
    }

    fn area_mut(&mut self, id: FieldId) -> Option<&mut TextArea<'static>> {
        self.fields
            .iter_mut()
            .find(|(f, _)| *f == id)
            .map(|(_, t)| t)
    }

    fn area(&self, id: FieldId) -> Option<&TextArea<'static>> {
        self.fields.iter().find(|(f, _)| *f == id).map(|(_, t)| t)
    }

    pub fn text(&self, id: FieldId) -> String {
        self.area(id)
            .map(|t| t.lines().join("\n"))
            .unwrap_or_default()
    }

    fn move_focus(&mut self, step: isize) {
        let order = self.order();
        let pos = order.iter().position(|f| *f == self.focus).unwrap_or(0) as isize;
        let n = order.len() as isize;
        self.focus = order[((pos + step) % n + n) as usize % order.len()];
    }

    pub fn handle_key(&mut self, ev: KeyEvent) -> FormEvent {
        let ctrl = ev.modifiers.contains(KeyModifiers::CONTROL);
        match (ev.code, ev.modifiers) {
            (KeyCode::Char('s'), m) if m.contains(KeyModifiers::CONTROL) => {
                return FormEvent::Submit
            }
            // Ctrl-U clears the field; Ctrl-Z undoes, Ctrl-Y redoes (#12; the help lists them).
            (KeyCode::Char('u'), _) if ctrl => {
                let focus = self.focus;
                return match self.area_mut(focus) {
                    Some(t) if !t.is_empty() => {
                        t.select_all();
                        t.cut();
                        FormEvent::Changed
                    }
                    _ => FormEvent::Ignored,
                };
            }
            (KeyCode::Char('z'), _) if ctrl => {
                let focus = self.focus;
                return match self.area_mut(focus).map(|t| t.undo()) {
                    Some(true) => FormEvent::Changed,
                    _ => FormEvent::Ignored,
                };
            }
            (KeyCode::Char('y'), _) if ctrl => {
                let focus = self.focus;
                return match self.area_mut(focus).map(|t| t.redo()) {
                    Some(true) => FormEvent::Changed,
                    _ => FormEvent::Ignored,
                };
            }
            (KeyCode::Tab, _) => {
                self.move_focus(1);
                return FormEvent::Moved;
            }
            (KeyCode::BackTab, _) => {
                self.move_focus(-1);
                return FormEvent::Moved;
            }
            (KeyCode::Enter, _) if !self.focus.multiline() => {
                self.move_focus(1);
                return FormEvent::Moved;
            }
            _ => {}
        }
        if self.focus == FieldId::Standard {
            if matches!(ev.code, KeyCode::Char(' ') | KeyCode::Left | KeyCode::Right) {
                self.standard = match self.standard {
                    Standard::International => Standard::Sm2,
                    Standard::Sm2 => Standard::International,
                };
                return FormEvent::Changed;
            }
            return FormEvent::Ignored;
        }
        let focus = self.focus;
        match self.area_mut(focus).map(|t| t.input(ev)) {
            Some(true) => FormEvent::Changed,
            _ => FormEvent::Ignored,
        }
    }

    /// Replaces the certificate (and key) fields with text read from files.
    pub fn prefill(&mut self, p: &crate::app::state::Prefill) {
        let set = |t: &mut TextArea<'static>, text: &str| {
            let lines: Vec<String> = text
                .replace("\r\n", "\n")
                .lines()
                .map(str::to_string)
                .collect();
            let mut fresh = TextArea::new(lines);
            fresh.set_cursor_line_style(ratatui::style::Style::default());
            *t = fresh;
        };
        if let Some(t) = self.area_mut(FieldId::Cert) {
            set(t, &p.cert);
        }
        if let (Some(key), Some(t)) = (&p.key, self.area_mut(FieldId::Key)) {
            set(t, key);
        }
        self.focus = FieldId::Name;
    }

    /// A paste: PEM blocks go to the fields their type belongs in, wherever the focus is
    /// (certificates to the certificate field, keys to the key field; with the SM2 standard a
    /// paste of two pairs fills all four); other text goes to the focused text field, on one
    /// line in a single-line one. `Ignored`: there was no text field to take it (#12).
    pub fn paste(&mut self, text: &str) -> FormEvent {
        let normalised = text.replace("\r\n", "\n").replace('\r', "\n");
        let blocks = crate::domain::pem::raw_blocks(&normalised);
        if !blocks.is_empty() {
            let is_key = |l: &str| crate::domain::key::is_private_key_label(l);
            let certs: Vec<&String> = blocks
                .iter()
                .filter(|(l, _)| !is_key(l))
                .map(|(_, t)| t)
                .collect();
            let keys: Vec<&String> = blocks
                .iter()
                .filter(|(l, _)| is_key(l))
                .map(|(_, t)| t)
                .collect();
            let mut fill: Vec<(FieldId, String)> = Vec::new();
            if self.standard == Standard::Sm2 && certs.len() >= 2 && keys.len() >= 2 {
                fill.push((FieldId::Cert, certs[0].clone()));
                fill.push((FieldId::Key, keys[0].clone()));
                fill.push((
                    FieldId::EncCert,
                    certs[1..].iter().map(|s| s.as_str()).collect(),
                ));
                fill.push((
                    FieldId::EncKey,
                    keys[1..].iter().map(|s| s.as_str()).collect(),
                ));
            } else {
                if !certs.is_empty() {
                    fill.push((FieldId::Cert, certs.iter().map(|s| s.as_str()).collect()));
                }
                if !keys.is_empty() {
                    fill.push((FieldId::Key, keys.iter().map(|s| s.as_str()).collect()));
                }
            }
            for (id, text) in fill {
                if let Some(t) = self.area_mut(id) {
                    let lines: Vec<String> = text.lines().map(str::to_string).collect();
                    let mut fresh = TextArea::new(lines);
                    fresh.set_cursor_line_style(ratatui::style::Style::default());
                    *t = fresh;
                }
            }
            return FormEvent::Changed;
        }
        let focus = self.focus;
        let multiline = focus.multiline();
        let Some(t) = self.area_mut(focus) else {
            return FormEvent::Ignored;
        };
        if multiline {
            t.insert_str(normalised);
        } else {
            t.insert_str(normalised.replace('\n', " "));
        }
        FormEvent::Changed
    }

    /// Whether anything was typed or pasted (Esc then asks before throwing it away).
    pub fn has_content(&self) -> bool {
        self.fields.iter().any(|(_, t)| !t.is_empty())
    }

    pub fn input(&self) -> UploadInput {
        let opt = |id| Some(self.text(id)).filter(|s| !s.trim().is_empty());
        let sm2 = self.standard == Standard::Sm2;
        UploadInput {
            name: opt(FieldId::Name),
            standard: Some(self.standard),
            cert: self.text(FieldId::Cert).into_bytes(),
            key: opt(FieldId::Key).map(String::into_bytes),
            key_password: opt(FieldId::Password).map(String::into_bytes),
            enc_cert: if sm2 {
                opt(FieldId::EncCert).map(String::into_bytes)
            } else {
                None
            },
            enc_key: if sm2 {
                opt(FieldId::EncKey).map(String::into_bytes)
            } else {
                None
            },
            tags: self
                .text(FieldId::Tags)
                .split(',')
                .map(str::to_string)
                .collect(),
            project: opt(FieldId::Project),
        }
    }

    /// Runs every upload rule on what is typed so far (nothing is stored).
    pub fn revalidate(&mut self, now: Timestamp, extra_anchors: &[Vec<u8>]) {
        if self.text(FieldId::Cert).trim().is_empty() {
            self.preview = None;
            return;
        }
        let mut anchors = mozilla_anchor_subjects();
        anchors.extend(extra_anchors.iter().map(Vec::as_slice));
        self.preview = Some(validate_upload(&self.input(), now, &anchors).map(|v| {
            let leaf = v.leaf();
            (
                format!(
                    "✓ ready: \"{}\" · {} · chain of {}{} · {} {} key matches",
                    v.name,
                    leaf.facts.sans.join(", "),
                    v.chain.certs.len(),
                    match v.chain.end {
                        crate::domain::cert::ChainEnd::SelfSigned
                        | crate::domain::cert::ChainEnd::Trusted => " (complete)",
                        crate::domain::cert::ChainEnd::UnknownIssuer { .. } => " (unknown issuer)",
                        _ => " (incomplete)",
                    },
                    leaf.facts.key_algorithm.as_str(),
                    leaf.facts.key_bits
                ),
                v.warnings,
            )
        }));
    }

    /// The refusal to show: the live one, else the one the last submit got.
    fn refusal<'a>(&'a self, submitted: Option<&'a Refusal>) -> Option<&'a Refusal> {
        match &self.preview {
            Some(Err(r)) => Some(r),
            Some(Ok(_)) => None,
            None => submitted,
        }
    }

    pub fn render(&self, f: &mut Frame, area: Rect, state: &State, theme: &Theme) {
        let refusal = self.refusal(state.upload_refusal.as_ref());
        let sm2 = self.standard == Standard::Sm2;
        let outer = Block::default()
            .borders(Borders::ALL)
            .title(" Upload a certificate ")
            .title_bottom(" Tab next field · Ctrl-S submit · Esc cancel · paste PEM straight in ");
        let inner = outer.inner(area);
        f.render_widget(outer, area);
        let rows = Layout::default()
            .direction(Direction::Vertical)
            .constraints([
                Constraint::Length(3),
                Constraint::Length(3),
                Constraint::Min(4),
                Constraint::Length(if sm2 { 7 } else { 0 }),
                Constraint::Length(5),
            ])
            .split(inner);
        let thirds = |r: Rect| {
            Layout::default()
                .direction(Direction::Horizontal)
                .constraints([
                    Constraint::Ratio(1, 3),
                    Constraint::Ratio(1, 3),
                    Constraint::Ratio(1, 3),
                ])
                .split(r)
        };
        let halves = |r: Rect| {
            Layout::default()
                .direction(Direction::Horizontal)
                .constraints([Constraint::Ratio(1, 2), Constraint::Ratio(1, 2)])
                .split(r)
        };
        let top = thirds(rows[0]);
        let second = thirds(rows[1]);
        let editors = halves(rows[2]);
        let enc = halves(rows[3]);
        let place = [
            (FieldId::Name, top[0]),
            (FieldId::Tags, top[1]),
            (FieldId::Project, top[2]),
            (FieldId::Password, second[1]),
            (FieldId::Cert, editors[0]),
            (FieldId::Key, editors[1]),
            (FieldId::EncCert, enc[0]),
            (FieldId::EncKey, enc[1]),
        ];
        for (id, rect) in place {
            if !sm2 && matches!(id, FieldId::EncCert | FieldId::EncKey) {
                continue;
            }
            let Some(t) = self.area(id) else { continue };
            let mut t = t.clone();
            t.set_block(self.field_block(id, refusal, theme));
            if id != self.focus {
                t.set_cursor_style(ratatui::style::Style::default());
            }
            f.render_widget(&t, rect);
        }
        let standard = Paragraph::new(Line::from(vec![Span::raw(
            if self.standard == Standard::International {
                "(•) International  ( ) SM2"
            } else {
                "( ) International  (•) SM2"
            },
        )]))
        .block(self.field_block(FieldId::Standard, refusal, theme));
        f.render_widget(standard, second[0]);
        let hint = Paragraph::new("Space toggles; SM2 adds the encryption certificate and key")
            .style(theme.dim());
        f.render_widget(
            hint.block(Block::default().borders(Borders::NONE)),
            second[2],
        );
        f.render_widget(self.feedback(refusal, theme), rows[4]);
    }

    fn field_block(&self, id: FieldId, refusal: Option<&Refusal>, theme: &Theme) -> Block<'static> {
        let wrong =
            refusal.is_some_and(|r| Some(r.field) == id.refusal_field() && id != FieldId::Password);
        let mut title = id.title().to_string();
        if wrong {
            title = format!("✗ {title}");
        }
        if id == self.focus {
            title = format!("▶ {title}");
        }
        let style = if wrong {
            theme.danger()
        } else if id == self.focus {
            theme.accent()
        } else {
            ratatui::style::Style::default()
        };
        Block::default()
            .borders(Borders::ALL)
            .title(title)
            .border_style(style)
    }

    fn feedback(&self, refusal: Option<&Refusal>, theme: &Theme) -> Paragraph<'static> {
        let mut lines = Vec::new();
        match (refusal, &self.preview) {
            (Some(r), _) => {
                let at = match r.line {
                    Some(l) => format!("{} line {l}", r.field.as_str()),
                    None => r.field.as_str().to_string(),
                };
                lines.push(Line::from(Span::styled(format!("✗ {at}: {} ({})", r.message, r.rule), theme.danger())));
            }
            (None, Some(Ok((summary, warnings)))) => {
                lines.push(Line::from(Span::styled(summary.clone(), theme.ok())));
                for w in warnings {
                    lines.push(Line::from(Span::styled(format!("⚠ {}", w.message), theme.warn())));
                }
            }
            _ => lines.push(Line::from(Span::styled(
                "Paste the certificate (with its chain) and the private key; they are checked as you type.",
                theme.dim(),
            ))),
        }
        Paragraph::new(lines)
            .wrap(Wrap { trim: true })
            .block(Block::default().borders(Borders::ALL).title(" Check "))
    }
}

#[cfg(test)]
mod paste_tests {
    use super::*;

    const CERT_A: &str = "-----BEGIN CERTIFICATE-----\nQUFB\n-----END CERTIFICATE-----\n";
    const CERT_B: &str = "-----BEGIN CERTIFICATE-----\nQkJC\n-----END CERTIFICATE-----\n";
    const KEY_A: &str = "-----BEGIN PRIVATE KEY-----\nS0FB\n-----END PRIVATE KEY-----\n";
    const KEY_B: &str = "-----BEGIN EC PRIVATE KEY-----\nS0JC\n-----END EC PRIVATE KEY-----\n";

    #[test]
    fn a_pem_paste_fills_the_fields_of_its_blocks_wherever_the_focus_is() {
        let mut form = UploadForm::new();
        assert_eq!(form.focus, FieldId::Cert, "opens on the certificate field");
        form.focus = FieldId::Name;
        let paste = format!("Bag Attributes\r\n{KEY_A}{CERT_A}{CERT_B}");
        assert_eq!(form.paste(&paste), FormEvent::Changed);
        assert_eq!(
            form.text(FieldId::Cert),
            format!("{CERT_A}{CERT_B}").trim_end()
        );
        assert_eq!(form.text(FieldId::Key), KEY_A.trim_end());
        assert_eq!(form.text(FieldId::Name), "", "the name is not touched");
        // SM2: two pairs fill all four.
        let mut sm2 = UploadForm::new();
        sm2.standard = Standard::Sm2;
        sm2.paste(&format!("{CERT_A}{KEY_A}{CERT_B}{KEY_B}"));
        assert_eq!(sm2.text(FieldId::EncCert), CERT_B.trim_end());
        assert_eq!(sm2.text(FieldId::EncKey), KEY_B.trim_end());
        assert_eq!(sm2.text(FieldId::Key), KEY_A.trim_end());
    }

    #[test]
    fn other_text_goes_to_the_focused_field_and_never_vanishes_on_the_switch() {
        let mut form = UploadForm::new();
        form.focus = FieldId::Tags;
        assert_eq!(form.paste("env=prod\nteam=web"), FormEvent::Changed);
        assert_eq!(form.text(FieldId::Tags), "env=prod team=web");
        form.focus = FieldId::Standard;
        assert_eq!(
            form.paste("hello"),
            FormEvent::Ignored,
            "the caller says why"
        );
        // Tab follows the drawing: name, tags, project, standard, password, cert, key.
        form.focus = FieldId::Name;
        let mut seen = vec![form.focus];
        for _ in 0..6 {
            form.handle_key(KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE));
            seen.push(form.focus);
        }
        assert_eq!(
            seen,
            [
                FieldId::Name,
                FieldId::Tags,
                FieldId::Project,
                FieldId::Standard,
                FieldId::Password,
                FieldId::Cert,
                FieldId::Key
            ]
        );
    }
}

#[cfg(test)]
mod editing_tests {
    use super::*;

    fn ctrl(c: char) -> KeyEvent {
        KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)
    }

    #[test]
    fn ctrl_u_clears_the_field_and_ctrl_z_ctrl_y_undo_and_redo() {
        let mut form = UploadForm::new();
        form.focus = FieldId::Name;
        for c in "shop".chars() {
            form.handle_key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
        }
        assert!(form.has_content());
        assert_eq!(form.handle_key(ctrl('u')), FormEvent::Changed);
        assert_eq!(form.text(FieldId::Name), "");
        assert!(!form.has_content());
        assert_eq!(
            form.handle_key(ctrl('u')),
            FormEvent::Ignored,
            "nothing to clear"
        );
        assert_eq!(form.handle_key(ctrl('z')), FormEvent::Changed);
        assert_eq!(form.text(FieldId::Name), "shop", "undone");
        assert_eq!(form.handle_key(ctrl('y')), FormEvent::Changed);
        assert_eq!(form.text(FieldId::Name), "", "redone");
    }
}
