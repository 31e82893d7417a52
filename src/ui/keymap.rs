//! Every key, in one table. The help overlay is generated from it.
use crate::app::state::{HostingOp, Input, Overlay, State, Tab};
use crate::app::Action;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    Global,
    List,
    Validation,
    Detail,
    Confirm,
    Help,
    Upload,
    Order,
    Filter,
    Command,
    Menu,
    Revoke,
    Export,
    Reissue,
    Hosting,
    HostingForm,
    DeployPick,
}

impl Context {
    pub fn title(self) -> &'static str {
        match self {
            Context::Global => "Everywhere",
            Context::List => "Certificates",
            Context::Validation => "Validation queue",
            Context::Detail => "Detail pane",
            Context::Confirm => "Confirmation",
            Context::Help => "Help",
            Context::Upload => "Upload form",
            Context::Order => "Order form",
            Context::Filter => "Filter (/)",
            Context::Command => "Command line (:)",
            Context::Menu => "More menu (.)",
            Context::Revoke => "Revocation dialog",
            Context::Export => "Export dialog",
            Context::Reissue => "Reissue form",
            Context::Hosting => "Hosting",
            Context::HostingForm => "Hosting form",
            Context::DeployPick => "Deploy to a resource",
        }
    }
}

pub struct Binding {
    pub context: Context,
    pub code: KeyCode,
    pub mods: KeyModifiers,
    /// How the key is written in the help.
    pub label: &'static str,
    pub help: &'static str,
    /// `None`: handled by the form or input line itself (listed for help only).
    pub action: Option<Action>,
}

const fn key(
    context: Context,
    code: KeyCode,
    label: &'static str,
    help: &'static str,
    action: Option<Action>,
) -> Binding {
    Binding {
        context,
        code,
        mods: KeyModifiers::NONE,
        label,
        help,
        action,
    }
}

const fn ctrl(
    context: Context,
    c: char,
    label: &'static str,
    help: &'static str,
    action: Option<Action>,
) -> Binding {
    Binding {
        context,
        code: KeyCode::Char(c),
        mods: KeyModifiers::CONTROL,
        label,
        help,
        action,
    }
}

use Context::*;
use KeyCode::{
    BackTab, Char, Down, End, Enter, Esc, Home, Left, PageDown, PageUp, Right, Tab as TabKey, Up,
};

pub static BINDINGS: &[Binding] = &[
    key(
        Hosting,
        Char('j'),
        "j / k",
        "next / previous hosting",
        Some(Action::MoveHosting(1)),
    ),
    key(Hosting, Down, "", "", Some(Action::MoveHosting(1))),
    key(Hosting, Char('k'), "", "", Some(Action::MoveHosting(-1))),
    key(Hosting, Up, "", "", Some(Action::MoveHosting(-1))),
    key(
        Hosting,
        Enter,
        "Enter",
        "every deployment step of the hosting, with its output",
        Some(Action::OnHosting(HostingOp::History)),
    ),
    key(
        Hosting,
        Char('x'),
        "x",
        "cancel an in-progress hosting",
        Some(Action::OnHosting(HostingOp::Cancel)),
    ),
    key(
        Hosting,
        Char('R'),
        "R",
        "retry a failed hosting now",
        Some(Action::OnHosting(HostingOp::Retry)),
    ),
    key(
        Hosting,
        Char('b'),
        "b",
        "roll back: the old certificate goes back on the resources",
        Some(Action::OnHosting(HostingOp::Rollback)),
    ),
    key(
        HostingForm,
        TabKey,
        "Tab",
        "days before expiry / the certificate to deploy (empty: its renewal)",
        Some(Action::NextHostingField),
    ),
    key(
        HostingForm,
        Char(' '),
        "Space",
        "confirm a certificate that does not cover every domain (H-3)",
        Some(Action::ToggleHostingPartial),
    ),
    key(
        HostingForm,
        Enter,
        "Enter",
        "schedule the hosting",
        Some(Action::ConfirmHostingForm),
    ),
    key(HostingForm, Esc, "Esc", "cancel", Some(Action::Back)),
    key(
        DeployPick,
        Down,
        "↑ / ↓",
        "choose the resource",
        Some(Action::MoveDeployPick(1)),
    ),
    key(DeployPick, Up, "", "", Some(Action::MoveDeployPick(-1))),
    key(
        DeployPick,
        Char('j'),
        "",
        "",
        Some(Action::MoveDeployPick(1)),
    ),
    key(
        DeployPick,
        Char('k'),
        "",
        "",
        Some(Action::MoveDeployPick(-1)),
    ),
    key(
        DeployPick,
        Enter,
        "Enter",
        "deploy: backup, write, check, reload, probe; roll back on failure",
        Some(Action::ConfirmDeployPick),
    ),
    key(DeployPick, Esc, "Esc", "cancel", Some(Action::Back)),
    key(
        List,
        Char('.'),
        ".",
        "More: every action, and why one is unavailable",
        Some(Action::OpenMore),
    ),
    key(
        Detail,
        Char('.'),
        ".",
        "More: every action on this certificate",
        Some(Action::OpenMore),
    ),
    key(
        Menu,
        Down,
        "↓ / j",
        "next action",
        Some(Action::MoveMenu(1)),
    ),
    key(Menu, Char('j'), "", "", Some(Action::MoveMenu(1))),
    key(
        Menu,
        Up,
        "↑ / k",
        "previous action",
        Some(Action::MoveMenu(-1)),
    ),
    key(Menu, Char('k'), "", "", Some(Action::MoveMenu(-1))),
    key(
        Menu,
        Enter,
        "Enter",
        "run it (or press its letter); a greyed one says why not",
        Some(Action::RunMenu),
    ),
    key(Menu, Esc, "Esc", "close", Some(Action::Back)),
    key(
        Revoke,
        Down,
        "↑ / ↓",
        "choose the reason (RFC 5280 code)",
        Some(Action::MoveRevokeReason(1)),
    ),
    key(Revoke, Up, "", "", Some(Action::MoveRevokeReason(-1))),
    key(
        Revoke,
        Char('/'),
        "typing",
        "the path of the application file or letter, when one is needed",
        None,
    ),
    key(
        Revoke,
        Enter,
        "Enter",
        "submit the revocation (it cannot be cancelled: RV-2)",
        Some(Action::ConfirmRevoke),
    ),
    key(
        Revoke,
        Esc,
        "Esc",
        "cancel: nothing is submitted",
        Some(Action::Back),
    ),
    key(
        Export,
        Right,
        "← / →",
        "format: pem, nginx, apache, haproxy, pkcs12",
        Some(Action::MoveExportFormat(1)),
    ),
    key(Export, Left, "", "", Some(Action::MoveExportFormat(-1))),
    key(
        Export,
        TabKey,
        "Tab",
        "type the directory or (pkcs12) the password",
        Some(Action::ToggleExportField),
    ),
    key(
        Export,
        Enter,
        "Enter",
        "write the files (keys 0600; never over existing files)",
        Some(Action::ConfirmExport),
    ),
    key(Export, Esc, "Esc", "cancel", Some(Action::Back)),
    key(
        Reissue,
        Down,
        "↑ / ↓",
        "CSR: original, generate RSA/ECDSA/SM2, or paste one",
        Some(Action::MoveReissueChoice(1)),
    ),
    key(Reissue, Up, "", "", Some(Action::MoveReissueChoice(-1))),
    key(
        Reissue,
        TabKey,
        "Tab",
        "next field: reason, key password (or the pasted CSR)",
        Some(Action::NextReissueField),
    ),
    key(
        Reissue,
        Enter,
        "Enter",
        "order the reissue (free; keeps the validity, RI-5)",
        Some(Action::ConfirmReissue),
    ),
    key(Reissue, Esc, "Esc", "cancel", Some(Action::Back)),
    key(
        List,
        Char('i'),
        "i",
        "ignore / un-ignore (IG-1: 30 days or less left)",
        Some(Action::SetIgnored { id: None, on: None }),
    ),
    key(
        List,
        Char('f'),
        "f",
        "forecast: every timed rule of the next 90 days",
        Some(Action::Forecast(90)),
    ),
    key(
        Validation,
        Char('f'),
        "f",
        "forecast: every timed rule of the next 90 days",
        Some(Action::Forecast(90)),
    ),
    key(
        List,
        Char('a'),
        "a",
        "order a certificate from the CA",
        Some(Action::OpenApply),
    ),
    key(
        Validation,
        Char('a'),
        "a",
        "order a certificate from the CA",
        Some(Action::OpenApply),
    ),
    key(Order, TabKey, "Tab / ↑↓", "next / previous field", None),
    key(
        Order,
        Left,
        "← / →",
        "choose the product, validation or years",
        None,
    ),
    ctrl(
        Order,
        's',
        "Ctrl-S",
        "place the order (the price is deducted)",
        None,
    ),
    key(Order, Esc, "Esc", "cancel", Some(Action::Back)),
    key(
        Validation,
        Char('j'),
        "j / k",
        "next / previous order",
        Some(Action::MoveOrder(1)),
    ),
    key(Validation, Down, "", "", Some(Action::MoveOrder(1))),
    key(
        Validation,
        Char('m'),
        "m",
        "remind the CA reviewer (RM-1, RM-2: the status line says why not)",
        Some(Action::Remind(None)),
    ),
    key(Validation, Char('k'), "", "", Some(Action::MoveOrder(-1))),
    key(Validation, Up, "", "", Some(Action::MoveOrder(-1))),
    key(
        Validation,
        Char('c'),
        "c",
        "check now (DNS TXT through the resolver, files over HTTP)",
        Some(Action::CheckValidation(None)),
    ),
    key(
        Validation,
        Char('y'),
        "y",
        "copy the record value / file content (OSC 52)",
        Some(Action::CopyValue),
    ),
    key(
        Validation,
        Enter,
        "Enter",
        "open the order's detail pane",
        Some(Action::OpenOrderDetail),
    ),
    key(
        Global,
        Char('1'),
        "1-4",
        "switch tab",
        Some(Action::SelectTab(Tab::Certificates)),
    ),
    key(
        Global,
        Char('2'),
        "",
        "",
        Some(Action::SelectTab(Tab::Validation)),
    ),
    key(
        Global,
        Char('3'),
        "",
        "",
        Some(Action::SelectTab(Tab::Hosting)),
    ),
    key(
        Global,
        Char('4'),
        "",
        "",
        Some(Action::SelectTab(Tab::Alarms)),
    ),
    key(
        Global,
        TabKey,
        "Tab / S-Tab",
        "next / previous tab",
        Some(Action::NextTab),
    ),
    key(Global, BackTab, "", "", Some(Action::PrevTab)),
    key(
        Global,
        Char('?'),
        "?",
        "this help",
        Some(Action::ToggleHelp),
    ),
    key(
        Global,
        Char(':'),
        ":",
        "command line (:upload, :sort name, :filter x, :q)",
        Some(Action::StartCommand),
    ),
    key(Global, Char('q'), "q", "quit", Some(Action::Quit)),
    ctrl(Global, 'c', "Ctrl-C", "quit", Some(Action::Quit)),
    key(
        List,
        Char('j'),
        "j / ↓",
        "move down",
        Some(Action::MoveBy(1)),
    ),
    key(List, Down, "", "", Some(Action::MoveBy(1))),
    key(
        List,
        Char('k'),
        "k / ↑",
        "move up",
        Some(Action::MoveBy(-1)),
    ),
    key(List, Up, "", "", Some(Action::MoveBy(-1))),
    key(
        List,
        PageDown,
        "PgDn / PgUp",
        "page down / up",
        Some(Action::MoveBy(20)),
    ),
    key(List, PageUp, "", "", Some(Action::MoveBy(-20))),
    key(List, Char('g'), "g / Home", "first row", Some(Action::Top)),
    key(List, Home, "", "", Some(Action::Top)),
    key(List, Char('G'), "G / End", "last row", Some(Action::Bottom)),
    key(List, End, "", "", Some(Action::Bottom)),
    key(
        List,
        Char('/'),
        "/",
        "filter by name, domain, issuer, tag, project",
        Some(Action::StartFilter),
    ),
    key(
        List,
        Char('s'),
        "s",
        "next sort key (days left, name, status, issuer, brand)",
        Some(Action::CycleSort),
    ),
    key(
        List,
        Char('S'),
        "S",
        "reverse the sort",
        Some(Action::ReverseSort),
    ),
    key(
        List,
        Enter,
        "Enter",
        "open the detail pane",
        Some(Action::OpenDetail),
    ),
    key(
        Global,
        Char('+'),
        "+",
        "demo: time moves one day (:advance 2w)",
        Some(Action::Advance(chrono::TimeDelta::days(1))),
    ),
    key(
        List,
        Char('r'),
        "r",
        "switch auto-renewal on/off (AR-1, AR-2: 14 days or more left)",
        Some(Action::SetAutoRenew { id: None, on: None }),
    ),
    key(
        List,
        Char('u'),
        "u",
        "upload a certificate",
        Some(Action::OpenUpload),
    ),
    key(
        List,
        Char('d'),
        "d",
        "delete (asks first; D-1..D-3)",
        Some(Action::Delete {
            id: None,
            confirmed: false,
        }),
    ),
    key(List, Esc, "Esc", "clear the filter", Some(Action::Back)),
    key(
        Detail,
        Char('j'),
        "j / k",
        "scroll",
        Some(Action::ScrollDetail(1)),
    ),
    key(Detail, Down, "", "", Some(Action::ScrollDetail(1))),
    key(Detail, Char('k'), "", "", Some(Action::ScrollDetail(-1))),
    key(Detail, Up, "", "", Some(Action::ScrollDetail(-1))),
    key(
        Detail,
        PageDown,
        "PgDn / PgUp",
        "scroll a page",
        Some(Action::ScrollDetail(20)),
    ),
    key(Detail, PageUp, "", "", Some(Action::ScrollDetail(-20))),
    key(
        Detail,
        Char('d'),
        "d",
        "delete this certificate",
        Some(Action::Delete {
            id: None,
            confirmed: false,
        }),
    ),
    key(Detail, Esc, "Esc", "back to the list", Some(Action::Back)),
    key(
        Confirm,
        Char('y'),
        "y",
        "yes, do it",
        Some(Action::ConfirmDelete),
    ),
    key(
        Confirm,
        Char('n'),
        "n / Esc",
        "no, cancel",
        Some(Action::Back),
    ),
    key(Confirm, Esc, "", "", Some(Action::Back)),
    key(
        Help,
        Esc,
        "Esc / ?",
        "close the help",
        Some(Action::ToggleHelp),
    ),
    key(Help, Char('?'), "", "", Some(Action::ToggleHelp)),
    key(
        Help,
        Char('j'),
        "j / k",
        "scroll the help",
        Some(Action::ScrollHelp(1)),
    ),
    key(Help, Down, "", "", Some(Action::ScrollHelp(1))),
    key(Help, Char('k'), "", "", Some(Action::ScrollHelp(-1))),
    key(Help, Up, "", "", Some(Action::ScrollHelp(-1))),
    key(Help, PageDown, "", "", Some(Action::ScrollHelp(10))),
    key(Help, PageUp, "", "", Some(Action::ScrollHelp(-10))),
    key(Help, Char('q'), "", "", Some(Action::ToggleHelp)),
    key(Upload, TabKey, "Tab / S-Tab", "next / previous field", None),
    ctrl(Upload, 's', "Ctrl-S", "submit", None),
    key(
        Upload,
        Char(' '),
        "Space",
        "switch the standard (on the Standard field)",
        None,
    ),
    key(Upload, Esc, "Esc", "cancel the upload", Some(Action::Back)),
    key(
        Upload,
        Char('v'),
        "paste",
        "paste PEM straight into the focused field (bracketed paste, up to 1 MiB)",
        None,
    ),
    key(
        Filter,
        Enter,
        "Enter",
        "keep the filter",
        Some(Action::EndFilter { keep: true }),
    ),
    key(
        Filter,
        Esc,
        "Esc",
        "clear the filter",
        Some(Action::EndFilter { keep: false }),
    ),
    key(Command, Enter, "Enter", "run the command", None),
    key(Command, Esc, "Esc", "cancel", Some(Action::CancelCommand)),
];

/// Which keys apply now, most specific first.
pub fn contexts(state: &State) -> Vec<Context> {
    match (&state.input, &state.overlay) {
        (Input::Filter, _) => vec![Filter],
        (Input::Command(_), _) => vec![Command],
        (_, Overlay::Help) => vec![Help, Global],
        (_, Overlay::ConfirmDelete(_)) => vec![Confirm],
        (_, Overlay::More(_)) => vec![Menu],
        (_, Overlay::Revoke(_)) => vec![Revoke],
        (_, Overlay::Export(_)) => vec![Export],
        (_, Overlay::Reissue(_)) => vec![Reissue],
        (_, Overlay::HostingHistory(_)) => vec![Detail, Global],
        (_, Overlay::HostingForm(_)) => vec![HostingForm],
        (_, Overlay::DeployPick(_)) => vec![DeployPick],
        (_, Overlay::Upload) => vec![Upload],
        (_, Overlay::Apply) => vec![Order],
        (_, Overlay::Detail(_)) => vec![Detail, Global],
        (_, Overlay::Forecast { .. }) => vec![Detail, Global],
        (_, Overlay::None) if state.tab == Tab::Certificates => vec![List, Global],
        (_, Overlay::None) if state.tab == Tab::Validation => vec![Validation, Global],
        (_, Overlay::None) if state.tab == Tab::Hosting => vec![Hosting, Global],
        (_, Overlay::None) => vec![Global],
    }
}

/// The action a key means in the current state, if any.
pub fn action_for(state: &State, ev: KeyEvent) -> Option<Action> {
    let mods = ev.modifiers - KeyModifiers::SHIFT;
    // Shift is in the character itself ('G', '?') and in BackTab; terminals disagree on the flag.
    let code = ev.code;
    for ctx in contexts(state) {
        if let Some(b) = BINDINGS
            .iter()
            .find(|b| b.context == ctx && b.code == code && b.mods == mods)
        {
            return b.action.clone();
        }
    }
    None
}

/// Help rows for a context: (keys, what), skipping continuation rows.
pub fn help_rows(ctx: Context) -> impl Iterator<Item = (&'static str, &'static str)> {
    BINDINGS
        .iter()
        .filter(move |b| b.context == ctx && !b.label.is_empty())
        .map(|b| (b.label, b.help))
}
