//! The terminal UI: event loop, terminal set-up and restore, and the views.
pub mod alarms;
pub mod apply_form;
pub mod certs;
pub mod columns;
pub mod detail;
pub mod help;
pub mod hosting;
pub mod keymap;
pub mod more;
pub mod text;
pub mod theme;
pub mod tty;
pub mod upload;
pub mod validation;
pub mod view;

use crate::app::state::{Input, Level, Overlay, State};
use crate::app::Action;
use crate::domain::pem::MAX_INPUT_BYTES;
use crate::engine::host::Host;
use crate::engine::Engine;
use crossterm::event::{
    self, DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use ratatui::layout::Rect;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;
use theme::Theme;
use upload::{FormEvent, UploadForm};

/// Draws a dialog in `popup`: its `lines`, then the dim `note` (what the action does) if any and
/// the `keys` it takes, framed under `title`. The note and keys stay at the bottom whatever the
/// size; the lines scroll so that line `focus` (the focused field, the selected entry) is always
/// in view, with "↑ more" / "↓ more" on the frame when some are hidden (#12: 80×24).
#[allow(clippy::too_many_arguments)]
pub fn dialog(
    f: &mut ratatui::Frame,
    popup: Rect,
    lines: Vec<ratatui::text::Line<'_>>,
    note: Option<&str>,
    keys: &str,
    title: String,
    focus: Option<usize>,
    theme: &Theme,
) {
    use ratatui::text::{Line, Span};
    let mut footer = Vec::new();
    if let Some(note) = note {
        footer.push(Line::from(Span::styled(note.to_string(), theme.dim())));
    }
    footer.push(Line::from(Span::styled(keys.to_string(), theme.title())));
    framed(f, popup, lines, footer, title, focus, theme.dim(), theme);
}

/// How many rows `line` takes wrapped at `width` (word wrapping can only add to this estimate's
/// rows at the margin, so the footer gets one spare row when it is long).
pub(crate) fn rows_of(line: &ratatui::text::Line<'_>, width: u16) -> u16 {
    let w = line.width() as u16;
    if width == 0 {
        return 1;
    }
    w.div_ceil(width).max(1)
}

/// A dialog with a scrolling body and a footer that is always shown (see `dialog`); `border`
/// styles the frame (red for an irreversible action).
#[allow(clippy::too_many_arguments)]
pub fn framed(
    f: &mut ratatui::Frame,
    popup: Rect,
    lines: Vec<ratatui::text::Line<'_>>,
    footer: Vec<ratatui::text::Line<'_>>,
    title: String,
    focus: Option<usize>,
    border: ratatui::style::Style,
    _theme: &Theme,
) {
    use ratatui::widgets::{Block, Borders, Paragraph, Wrap};
    let block = Block::default()
        .borders(Borders::ALL)
        .border_style(border)
        .title(title);
    let inner = block.inner(popup);
    let width = inner.width;
    let footer_rows: u16 = footer.iter().map(|l| rows_of(l, width)).sum::<u16>()
        + u16::from(footer.iter().any(|l| l.width() as u16 > width));
    // At least two rows of body, whatever the footer wants.
    let footer_rows = footer_rows.min(inner.height.saturating_sub(2));
    let body_rows = inner.height.saturating_sub(footer_rows + 1);
    let heights: Vec<u16> = lines.iter().map(|l| rows_of(l, width)).collect();
    let total: u16 = heights.iter().sum();
    let offset = match focus {
        Some(i) if i < heights.len() => {
            let top: u16 = heights[..i].iter().sum();
            let bottom = top + heights[i];
            // Keep the focus in view with a line of context below it when there is room.
            let wanted = (bottom + 1).min(total);
            wanted.saturating_sub(body_rows).min(top)
        }
        _ => 0,
    };
    let more_above = offset > 0;
    let more_below = total > offset + body_rows;
    let mut block = block;
    if more_above || more_below {
        let hint = match (more_above, more_below) {
            (true, true) => " ↑↓ more ",
            (true, false) => " ↑ more ",
            _ => " ↓ more ",
        };
        block = block.title_bottom(ratatui::text::Line::from(hint).right_aligned());
    }
    f.render_widget(block, popup);
    let body = Rect {
        height: body_rows,
        ..inner
    };
    f.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .scroll((offset, 0)),
        body,
    );
    let foot = Rect {
        y: inner.y + inner.height.saturating_sub(footer_rows),
        height: footer_rows,
        ..inner
    };
    f.render_widget(Paragraph::new(footer).wrap(Wrap { trim: false }), foot);
}

/// A rectangle of `pct_x` × `pct_y` percent in the middle of `area`, but never narrower than 72
/// columns or shorter than 20 rows when the area has them: at 80×24 a dialog gets the room it
/// needs (#12).
/// A list title's note on its `/` filter: how many rows there are in all, and the filter.
pub fn filtered_note(filter: &str, total: usize) -> String {
    if filter.is_empty() {
        String::new()
    } else {
        format!(" of {total} · filter \"{}\"", text::clip(filter, 30))
    }
}

/// What a tab shows when its filter matches none of its `things` ("hosting", "open order").
pub fn no_match<'a>(
    things: &str,
    filter: &str,
    block: ratatui::widgets::Block<'a>,
) -> ratatui::widgets::Paragraph<'a> {
    use ratatui::text::Line;
    ratatui::widgets::Paragraph::new(vec![
        Line::from(""),
        Line::from(format!(
            "  No {things} matches “{filter}”. Esc clears the filter."
        )),
    ])
    .block(block)
}

/// Renders a table scrolled so the `selected` row (an index among its rows) is on screen.
pub fn table_at(
    f: &mut ratatui::Frame,
    table: ratatui::widgets::Table,
    area: Rect,
    selected: usize,
) {
    let mut at = ratatui::widgets::TableState::default().with_selected(Some(selected));
    f.render_stateful_widget(table, area, &mut at);
}

pub fn centered(area: Rect, pct_x: u16, pct_y: u16) -> Rect {
    let w = (area.width as u32 * pct_x as u32 / 100) as u16;
    let h = (area.height as u32 * pct_y as u32 / 100) as u16;
    let w = w.max(72.min(area.width));
    let h = h.max(20.min(area.height));
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

/// The UI's own bits: the editor pane (owns only its text until submitted) and where the table is.
pub struct Ui {
    pub state: State,
    pub form: Option<UploadForm>,
    pub apply: Option<apply_form::ApplyForm>,
    pub table: certs::TableView,
    pub theme: Theme,
    /// Effects asked for and not yet handed on (to the runner, or run here when there is none).
    pending: std::collections::VecDeque<crate::app::Effect>,
    /// The live TUI's effect runner thread; without one (tests), effects run on this thread.
    runner: Option<crate::engine::worker::EffectRunner>,
    /// Since when effects have been outstanding (the status bar says so after a moment).
    busy_since: Option<std::time::Instant>,
    min_size: Option<(u16, u16)>,
    /// Esc was pressed once on a form with content: the next Esc discards it.
    discard_armed: bool,
}

impl Ui {
    pub fn new(state: State, theme: Theme) -> Ui {
        Ui {
            state,
            form: None,
            apply: None,
            table: certs::TableView::default(),
            theme,
            pending: std::collections::VecDeque::new(),
            runner: None,
            busy_since: None,
            min_size: None,
            discard_armed: false,
        }
    }

    /// Below this size the screen says so instead of drawing a broken layout (#12: 80×24 is
    /// the smallest supported). Set by the terminal loop; snapshot tests draw any size.
    pub fn with_min_size(mut self, width: u16, height: u16) -> Ui {
        self.min_size = Some((width, height));
        self
    }

    pub fn draw(&mut self, f: &mut ratatui::Frame) {
        let area = f.area();
        if let Some((w, h)) = self
            .min_size
            .filter(|(w, h)| area.width < *w || area.height < *h)
        {
            view::too_small(f, w, h, &self.theme);
            return;
        }
        // The detail pane stops at its end: scrolling on past it would take as many presses
        // back (#12). Its body is the screen less the tab line and the two status lines.
        let now = self.state.now;
        if let crate::app::state::Overlay::Detail(d) = &mut self.state.overlay {
            let body = Rect {
                height: area.height.saturating_sub(3),
                ..area
            };
            d.scroll = d.scroll.min(detail::max_scroll(d, now, body));
        }
        if matches!(self.state.overlay, crate::app::state::Overlay::Help) {
            let body = Rect {
                height: area.height.saturating_sub(3),
                ..area
            };
            self.state.help_scroll = self.state.help_scroll.min(help::max_scroll(
                body,
                self.state.tab,
                &self.state.help_filter,
            ));
        }
        view::draw(
            f,
            &self.state,
            self.form.as_ref(),
            self.apply.as_ref(),
            &mut self.table,
            &self.theme,
        );
    }

    /// Keeps the editor pane in step with the state: created when the form opens, dropped when it closes.
    fn sync_form(&mut self, now: crate::domain::time::Timestamp) {
        match (&self.state.overlay, &self.form) {
            (Overlay::Upload, None) => self.form = Some(UploadForm::new()),
            (Overlay::Upload, Some(_)) => {}
            (_, Some(_)) => self.form = None,
            _ => {}
        }
        match (&self.state.overlay, &self.apply) {
            (Overlay::Apply, None) => self.apply = Some(apply_form::ApplyForm::new()),
            (Overlay::Apply, Some(_)) => {}
            (_, Some(_)) => self.apply = None,
            _ => {}
        }
        if let (Some(form), Some(prefill)) = (self.form.as_mut(), self.state.prefill.take()) {
            form.prefill(&prefill);
            form.revalidate(now, &self.state.extra_anchors);
        }
    }

    /// Applies `action` now and hands its effects on: to the runner thread in the live TUI, or
    /// run here when the engine is free (else they wait; keys keep working meanwhile).
    pub fn dispatch(&mut self, engine: &dyn Host, action: Action) {
        engine.reduce(&mut self.state, action, &mut self.pending);
        self.run_pending(engine);
    }

    /// Applies finished effects' actions and hands waiting effects on; returns how many actions
    /// came back.
    pub fn run_pending(&mut self, engine: &dyn Host) -> usize {
        let mut applied = 0;
        match self.runner.as_mut() {
            Some(runner) => {
                let done = runner.finished();
                applied = done.len();
                for action in done {
                    engine.reduce(&mut self.state, action, &mut self.pending);
                }
                for effect in self.pending.drain(..) {
                    runner.send(effect);
                }
            }
            None => {
                if !self.pending.is_empty() {
                    engine.try_run(&mut self.state, &mut self.pending);
                }
            }
        }
        let outstanding = self.pending.len() + self.runner.as_ref().map_or(0, |r| r.in_flight());
        self.busy_since = match (outstanding, self.busy_since) {
            (0, _) => None,
            (_, None) => Some(std::time::Instant::now()),
            (_, since) => since,
        };
        self.state.waiting = match self.busy_since {
            // A moment of work is not worth a word; longer work (a deployment) is.
            Some(t) if t.elapsed() >= Duration::from_millis(300) => outstanding,
            _ => 0,
        };
        if let Some(text) = self.state.copy.take() {
            // OSC 52: the terminal (also over SSH) puts it on the clipboard.
            use std::io::Write;
            let mut out = std::io::stdout();
            let _ = write!(
                out,
                "\x1b]52;c;{}\x07",
                crate::domain::pem::base64(text.as_bytes())
            );
            let _ = out.flush();
        }
        self.sync_form(engine.now());
        applied
    }

    /// Hands effects to `runner` from now on, as the live TUI does.
    pub fn attach_runner(&mut self, runner: crate::engine::worker::EffectRunner) {
        self.runner = Some(runner);
    }

    /// Takes the runner back (to stop it once the terminal is restored).
    pub fn detach_runner(&mut self) -> Option<crate::engine::worker::EffectRunner> {
        self.runner.take()
    }

    /// Effects asked for whose actions have not come back yet.
    pub fn outstanding(&self) -> usize {
        self.pending.len() + self.runner.as_ref().map_or(0, |r| r.in_flight())
    }

    /// Whether effects are out with the runner (the loop then looks for their results often).
    pub fn working(&self) -> bool {
        self.runner.as_ref().is_some_and(|r| r.in_flight() > 0)
    }

    pub fn on_key(&mut self, engine: &dyn Host, ev: KeyEvent) {
        if ev.kind == KeyEventKind::Release {
            return;
        }
        // Text inputs first: they take printable keys before the keymap does.
        match self.state.input.clone() {
            Input::Filter => {
                let mut f = self.state.filter_text().to_string();
                match ev.code {
                    // Ctrl-U clears the line, as in a shell.
                    KeyCode::Char('u') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                        return self.dispatch(engine, Action::SetFilter(String::new()));
                    }
                    KeyCode::Char(c) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                        f.push(c);
                        return self.dispatch(engine, Action::SetFilter(f));
                    }
                    KeyCode::Backspace => {
                        f.pop();
                        return self.dispatch(engine, Action::SetFilter(f));
                    }
                    _ => {}
                }
            }
            Input::Command(mut c) => match ev.code {
                KeyCode::Char('u') if ev.modifiers.contains(KeyModifiers::CONTROL) => {
                    return self.dispatch(engine, Action::SetCommand(String::new()));
                }
                KeyCode::Char(ch) if !ev.modifiers.contains(KeyModifiers::CONTROL) => {
                    c.push(ch);
                    return self.dispatch(engine, Action::SetCommand(c));
                }
                KeyCode::Backspace if c.is_empty() => {
                    return self.dispatch(engine, Action::CancelCommand)
                }
                KeyCode::Backspace => {
                    c.pop();
                    return self.dispatch(engine, Action::SetCommand(c));
                }
                KeyCode::Enter => return self.dispatch(engine, Action::RunCommand(c)),
                _ => {}
            },
            Input::Normal => {
                if let Some(action) = dialog_typing(&self.state, ev) {
                    return self.dispatch(engine, action);
                }
                if let (Overlay::Apply, Some(form)) = (&self.state.overlay, self.apply.as_mut()) {
                    if ev.code != KeyCode::Esc
                        && !(ev.modifiers.contains(KeyModifiers::CONTROL)
                            && ev.code == KeyCode::Char('c'))
                    {
                        form.set_acme_accounts(&self.state.acme_accounts);
                        match form.handle_key(ev) {
                            apply_form::ApplyEvent::Submit => {
                                let action = form.submit();
                                return self.dispatch(engine, action);
                            }
                            apply_form::ApplyEvent::Changed => {
                                form.revalidate(&self.state.managed_zones, &self.state.prices);
                            }
                            apply_form::ApplyEvent::Ignored => {}
                        }
                        return;
                    }
                }
                if let (Overlay::Upload, Some(form)) = (&self.state.overlay, self.form.as_mut()) {
                    // Esc on a form with content asks first: a second Esc discards it (#12).
                    if ev.code == KeyCode::Esc && form.has_content() && !self.discard_armed {
                        self.discard_armed = true;
                        self.state.say(
                            Level::Warn,
                            "discard what you typed? Esc again discards it; any other key goes on editing",
                        );
                        return;
                    }
                    self.discard_armed = false;
                    if ev.code != KeyCode::Esc {
                        match form.handle_key(ev) {
                            FormEvent::Submit => {
                                let input = form.input();
                                return self
                                    .dispatch(engine, Action::SubmitUpload(Box::new(input)));
                            }
                            FormEvent::Changed => {
                                form.revalidate(engine.now(), &self.state.extra_anchors);
                                return;
                            }
                            FormEvent::Moved | FormEvent::Ignored => {
                                if !(ev.modifiers.contains(KeyModifiers::CONTROL)
                                    && ev.code == KeyCode::Char('c'))
                                {
                                    return;
                                }
                            }
                        }
                    }
                }
            }
        }
        if let Some(action) = keymap::action_for(&self.state, ev) {
            self.dispatch(engine, action);
        }
    }

    /// The wheel scrolls; a click selects a row or a tab. Never required: every action has a key.
    pub fn on_mouse(&mut self, engine: &dyn Host, ev: MouseEvent) {
        let detail = matches!(self.state.overlay, Overlay::Detail(_));
        let list = matches!(self.state.overlay, Overlay::None)
            && self.state.tab == crate::app::state::Tab::Certificates;
        let action = match ev.kind {
            MouseEventKind::ScrollDown if detail => Action::ScrollDetail(3),
            MouseEventKind::ScrollUp if detail => Action::ScrollDetail(-3),
            MouseEventKind::ScrollDown if list => Action::MoveBy(3),
            MouseEventKind::ScrollUp if list => Action::MoveBy(-3),
            MouseEventKind::Down(MouseButton::Left)
                if ev.row == 0 && matches!(self.state.overlay, Overlay::None) =>
            {
                match view::tab_at(ev.column) {
                    Some(tab) => Action::SelectTab(tab),
                    None => return,
                }
            }
            MouseEventKind::Down(MouseButton::Left) if list => {
                match self.table.row_at(ev.column, ev.row) {
                    Some(row) if row == self.state.selected => Action::OpenDetail,
                    Some(row) => Action::MoveBy(row as i64 - self.state.selected as i64),
                    None => return,
                }
            }
            _ => return,
        };
        self.dispatch(engine, action);
    }

    pub fn on_paste(&mut self, engine: &dyn Host, text: &str) {
        if text.len() > MAX_INPUT_BYTES {
            self.state.say(
                Level::Error,
                format!(
                    "paste of {} bytes ignored: the limit is 1 MiB (U-7)",
                    text.len()
                ),
            );
            return;
        }
        match (&self.state.overlay, self.form.as_mut(), &self.state.input) {
            (Overlay::Upload, Some(form), Input::Normal) => {
                if form.paste(text) == FormEvent::Ignored {
                    // Never dropped without a word (#12).
                    self.state.say(
                        Level::Warn,
                        "paste not taken: the Standard switch holds no text; Tab to a text field (PEM goes to its fields wherever the focus is)",
                    );
                }
                form.revalidate(engine.now(), &self.state.extra_anchors);
            }
            (Overlay::Reissue(d), _, Input::Normal)
                if d.field == crate::app::state::ReissueField::Csr =>
            {
                let text = format!("{}{text}", d.csr);
                self.dispatch(engine, Action::SetReissueText(text));
            }
            (_, _, Input::Filter) => {
                let f = format!(
                    "{}{}",
                    self.state.filter_text(),
                    text.lines().next().unwrap_or("")
                );
                self.dispatch(engine, Action::SetFilter(f));
            }
            _ => self.state.say(
                Level::Info,
                "paste ignored: press u to open the upload form, then paste",
            ),
        }
    }
}

/// What the TUI runs on: this process's engine (it holds the database: it ticks, sends the
/// outbox and serves commands on its socket), or a service's, through the socket (SV-1).
pub enum Session {
    Local(Arc<Engine>),
    Remote(Arc<dyn Host>),
}

/// Runs the TUI until the user quits or the terminal goes away. Restores the terminal always.
pub fn run(session: Session, state: State) -> color_eyre::Result<()> {
    // SIGTERM, SIGHUP (SSH drop), SIGINT and SIGQUIT end the loop; the terminal is restored after.
    let stop = Arc::new(AtomicBool::new(false));
    for sig in [
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGQUIT,
    ] {
        signal_hook::flag::register(sig, Arc::clone(&stop))?;
    }
    let tty = tty::Tty::open()?;
    let done = Arc::new(AtomicBool::new(false));
    tty::spawn_watchdog(
        tty.fd(),
        Arc::clone(&stop),
        Arc::clone(&done),
        Duration::from_millis(1500),
    );
    let (reports_tx, reports) = std::sync::mpsc::channel();
    // The threads that work beside the screen: with the database here, the outbox sender and
    // the ticker; through a service, which does both, a clock that counts days down.
    // Each with the time it gets to finish its work in hand when the TUI ends: a send stuck on a
    // dead endpoint is not worth a slow exit (its delivery stays pending); a tick in the middle
    // of a deployment gets time to finish it (one that takes longer is put back by the next
    // start's recovery, the deployment journal).
    type Background = Vec<(crate::engine::worker::Worker, Duration)>;
    let (host, background): (Arc<dyn Host>, Background) = match session {
        Session::Local(engine) => {
            let local = Arc::new(crate::engine::host::LocalHost::new(Arc::clone(&engine)));
            let sender = crate::engine::worker::spawn_sender(Arc::clone(&engine))?;
            let ticker = crate::engine::worker::spawn_ticker(
                engine,
                Some(local.watch.id),
                Duration::from_secs(1),
                reports_tx,
            )?;
            (
                local,
                vec![
                    (sender, Duration::from_millis(300)),
                    (ticker, Duration::from_secs(10)),
                ],
            )
        }
        Session::Remote(host) => {
            let clock = crate::engine::worker::spawn_clock(Duration::from_secs(1), reports_tx)?;
            (host, vec![(clock, Duration::from_millis(300))])
        }
    };
    let mut terminal = ratatui::init();
    let _ = crossterm::execute!(std::io::stdout(), EnableBracketedPaste, EnableMouseCapture);
    let runner = crate::engine::worker::EffectRunner::spawn(Arc::clone(&host))?;
    let (result, runner) = event_loop(&mut terminal, &*host, state, runner, &stop, &tty, &reports);
    if tty.wait(Duration::ZERO) != tty::Readiness::HungUp {
        let _ = crossterm::execute!(
            std::io::stdout(),
            DisableBracketedPaste,
            DisableMouseCapture
        );
        ratatui::restore();
    }
    done.store(true, Ordering::Relaxed);
    // An effect under way (a deployment from a key) gets the same time as a tick to finish.
    runner.stop(Duration::from_secs(10));
    for (worker, wait) in background {
        worker.stop(wait);
    }
    result
}

/// Runs the loop until quit; gives the effect runner back for stopping once the terminal is
/// restored.
fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    engine: &dyn Host,
    state: State,
    runner: crate::engine::worker::EffectRunner,
    stop: &AtomicBool,
    tty: &tty::Tty,
    reports: &std::sync::mpsc::Receiver<Result<crate::domain::schedule::TickReport, String>>,
) -> (color_eyre::Result<()>, crate::engine::worker::EffectRunner) {
    let mut ui = Ui::new(state, Theme::from_env()).with_min_size(80, 24);
    ui.runner = Some(runner);
    let result = run_loop(terminal, engine, &mut ui, stop, tty, reports);
    (result, ui.detach_runner().expect("set above"))
}

fn run_loop(
    terminal: &mut ratatui::DefaultTerminal,
    engine: &dyn Host,
    ui: &mut Ui,
    stop: &AtomicBool,
    tty: &tty::Tty,
    reports: &std::sync::mpsc::Receiver<Result<crate::domain::schedule::TickReport, String>>,
) -> color_eyre::Result<()> {
    ui.dispatch(engine, Action::Refresh(None));
    let mut dirty = true;
    while !ui.state.quit && !stop.load(Ordering::Relaxed) {
        if dirty {
            terminal.draw(|f| ui.draw(f))?;
            dirty = false;
        }
        // Wait on the tty ourselves: crossterm would spin forever on a hung-up one (#793).
        // While effects are out, look for their results often.
        let wait = if ui.working() { 15 } else { 200 };
        if tty.wait(Duration::from_millis(wait)) == tty::Readiness::HungUp {
            break;
        }
        // Events crossterm can give now (keys, pastes, resizes), without blocking.
        while !stop.load(Ordering::Relaxed) && event::poll(Duration::ZERO)? {
            match event::read()? {
                Event::Key(k) => ui.on_key(engine, k),
                Event::Paste(p) => ui.on_paste(engine, &p),
                Event::Mouse(m) => ui.on_mouse(engine, m),
                _ => {}
            }
            dirty = true;
            if ui.state.quit {
                break;
            }
        }
        // The ticker thread ticks; its reports are applied here, on the state's own thread.
        while let Ok(report) = reports.try_recv() {
            ui.dispatch(
                engine,
                match report {
                    Ok(r) => Action::TickDone(r),
                    Err(e) => Action::Failed(e),
                },
            );
            dirty = true;
        }
        if ui.runner.as_ref().is_some_and(|r| r.died()) {
            // Like a panic on this thread: end (the terminal is restored), do not draw on.
            return Err(color_eyre::eyre::eyre!(
                "internal error: the effect runner stopped; the store is intact, start certdeck again"
            ));
        }
        // What commands and other TUIs changed through the socket (SV-1, SV-2) shows within
        // a loop turn.
        if engine.take_changed() {
            ui.dispatch(engine, Action::ChangedElsewhere);
            dirty = true;
        }
        if let Some(why) = engine.lost() {
            return Err(color_eyre::eyre::eyre!("{why}"));
        }
        if ui.state.scan.is_some() {
            if let Some(p) = engine.scan_progress().filter(|p| Some(*p) != ui.state.scan) {
                ui.dispatch(engine, Action::ScanProgress(p));
                dirty = true;
            }
        }
        if ui.working() || ui.state.waiting > 0 {
            let waiting = ui.state.waiting;
            if ui.run_pending(engine) > 0 || ui.state.waiting != waiting {
                dirty = true;
            }
        }
    }
    Ok(())
}

/// Keys the More menu and the revocation dialog take as text: a menu entry's letter, or the
/// document path being typed. Navigation keys go through the keymap.
fn dialog_typing(state: &State, ev: KeyEvent) -> Option<Action> {
    if ev.modifiers.contains(KeyModifiers::CONTROL) {
        return None;
    }
    match (&state.overlay, ev.code) {
        (Overlay::More(_), KeyCode::Char(c)) if !matches!(c, 'j' | 'k') => Some(Action::MenuKey(c)),
        (Overlay::Revoke(d), KeyCode::Char(c)) => {
            let current = if d.on_document {
                &d.document
            } else {
                &d.confirm
            };
            Some(Action::SetRevokeDocument(format!("{current}{c}")))
        }
        (Overlay::Revoke(d), KeyCode::Backspace) => {
            let mut text = if d.on_document {
                d.document.clone()
            } else {
                d.confirm.clone()
            };
            text.pop();
            Some(Action::SetRevokeDocument(text))
        }
        (Overlay::Export(d), KeyCode::Char(c)) => {
            let current: &str = if d.on_password { &d.password } else { &d.dir };
            Some(Action::SetExportText(format!("{current}{c}")))
        }
        (Overlay::AlarmForm(f), KeyCode::Char(c)) => Some(Action::SetAlarmFormText(format!(
            "{}{c}",
            f.fields[f.focus]
        ))),
        (Overlay::AlarmForm(f), KeyCode::Backspace) => {
            let mut text = f.fields[f.focus].clone();
            text.pop();
            Some(Action::SetAlarmFormText(text))
        }
        (Overlay::ResourceForm(f), KeyCode::Char(c)) => f
            .text_index()
            .map(|i| Action::SetResourceFormText(format!("{}{c}", f.fields[i]))),
        (Overlay::ResourceForm(f), KeyCode::Backspace) => f.text_index().map(|i| {
            let mut text = f.fields[i].clone();
            text.pop();
            Action::SetResourceFormText(text)
        }),
        (Overlay::HostingForm(f), KeyCode::Char(c)) if c != ' ' => f
            .text()
            .map(|current| Action::SetHostingFormText(format!("{current}{c}"))),
        (Overlay::HostingForm(f), KeyCode::Backspace) => f.text().map(|current| {
            let mut text = current.to_string();
            text.pop();
            Action::SetHostingFormText(text)
        }),
        (Overlay::Reissue(d), KeyCode::Char(c)) => {
            Some(Action::SetReissueText(format!("{}{c}", reissue_text(d))))
        }
        (Overlay::Reissue(d), KeyCode::Backspace) => {
            let mut text = reissue_text(d);
            text.pop();
            Some(Action::SetReissueText(text))
        }
        (Overlay::Export(d), KeyCode::Backspace) => {
            let mut text = if d.on_password {
                d.password.to_string()
            } else {
                d.dir.clone()
            };
            text.pop();
            Some(Action::SetExportText(text))
        }
        _ => None,
    }
}

fn reissue_text(d: &crate::app::state::ReissueDialog) -> String {
    use crate::app::state::ReissueField;
    match d.field {
        ReissueField::Csr => d.csr.clone(),
        ReissueField::Password => d.password.to_string(),
        ReissueField::Reason => d.reason.clone(),
    }
}
