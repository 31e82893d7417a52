//! What the UI shows. Views render from this alone.
use crate::domain::model::{CertSummary, Certificate, Status};
use crate::domain::refusal::{Refusal, Warning};
use crate::domain::rules::delete::DeletePlan;
use crate::domain::time::Timestamp;
use chrono::DateTime;
use std::borrow::Cow;
use std::cmp::Ordering;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Tab {
    Certificates,
    Validation,
    Hosting,
    Alarms,
}

impl Tab {
    pub const ALL: [Tab; 4] = [
        Tab::Certificates,
        Tab::Validation,
        Tab::Hosting,
        Tab::Alarms,
    ];

    pub fn title(self) -> &'static str {
        match self {
            Tab::Certificates => "Certificates",
            Tab::Validation => "Validation queue",
            Tab::Hosting => "Hosting",
            Tab::Alarms => "Alarms",
        }
    }

    pub fn index(self) -> usize {
        Tab::ALL.iter().position(|t| *t == self).expect("listed")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SortKey {
    DaysLeft,
    Name,
    Status,
    Issuer,
    Brand,
}

impl SortKey {
    pub fn label(self) -> &'static str {
        match self {
            SortKey::DaysLeft => "days left",
            SortKey::Name => "name",
            SortKey::Status => "status",
            SortKey::Issuer => "issuer",
            SortKey::Brand => "brand",
        }
    }

    pub fn next(self) -> SortKey {
        match self {
            SortKey::DaysLeft => SortKey::Name,
            SortKey::Name => SortKey::Status,
            SortKey::Status => SortKey::Issuer,
            SortKey::Issuer => SortKey::Brand,
            SortKey::Brand => SortKey::DaysLeft,
        }
    }
}

/// One list row: the summary and its precomputed lower-case filter text.
#[derive(Debug, Clone)]
pub struct CertRow {
    pub summary: CertSummary,
    pub haystack: String,
}

impl CertRow {
    pub fn new(summary: CertSummary) -> CertRow {
        let haystack = summary.search_text();
        CertRow { summary, haystack }
    }
}

#[derive(Debug, Clone)]
pub enum Overlay {
    None,
    Help,
    Detail(Box<Detail>),
    ConfirmDelete(DeletePlan),
    /// D-1: cancelling a review, after this confirmation.
    ConfirmCancel(Box<crate::domain::rules::cancel::CancelPlan>),
    Upload,
    /// The order form (`a`).
    Apply,
    /// Every timed rule due in the window, in time order (`f`, `:forecast 30`).
    Forecast {
        days: u32,
        entries: Vec<ForecastRow>,
    },
    /// Every action on one certificate, the unavailable ones with their reason (`.`).
    More(Box<MoreMenu>),
    /// The revocation confirmation (RV-2): reason, document, what happens next.
    Revoke(Box<RevokeDialog>),
    /// Download/export: format, directory and (PKCS#12) password.
    Export(Box<ExportDialog>),
    /// The reissue form (RI-6): CSR choice, key password, reason.
    Reissue(Box<ReissueDialog>),
    /// Every deployment step of one hosting (Enter on the Hosting tab).
    HostingHistory(Box<HostingHistory>),
    /// A new hosting for a certificate (H-1..H-4).
    HostingForm(Box<HostingForm>),
    /// Choose the resource to deploy a certificate to.
    DeployPick(Box<DeployPick>),
    /// Add or edit a resource.
    ResourceForm(Box<ResourceForm>),
    /// Removing a resource asks first: (id, name).
    ConfirmRemoveResource(Box<(String, String)>),
    /// Cancelling or rolling back a hosting asks first: the op, its id, what will happen.
    ConfirmHosting(Box<(HostingOp, String, String)>),
    /// A new alarm policy (AL-1).
    AlarmForm(Box<AlarmForm>),
    /// The recipient groups with their members and the policies that name them (`g`).
    Groups,
    /// One message of the message center, whole (Enter on the Alarms tab).
    Message(Box<crate::domain::message::Message>),
    /// The status line's last messages, newest first (`:messages`).
    StatusHistory,
}

/// The alarm policy form: text fields, focus on one.
#[derive(Debug, Clone, Default)]
pub struct AlarmForm {
    /// The policy being edited (its recipients stay as they are).
    pub editing: Option<String>,
    /// name, threshold, period, every, tag, webhook, command, groups.
    pub fields: [String; 8],
    pub focus: usize,
}

impl AlarmForm {
    pub const LABELS: [&'static str; 8] = [
        "Name",
        "Threshold: days to expiry or fewer (empty: 30)",
        "Statistical period in seconds (empty: 60)",
        "Fire again every N periods (empty: once per certificate)",
        "Only certificates tagged KEY=VALUE (empty: all)",
        "Webhook URL (optional)",
        "Command (optional; the event on stdin)",
        "Recipient groups, comma-separated (optional)",
    ];
}

/// The resource form: text fields and the preset. Files other than a preset's are set with
/// `certdeck resource add|edit` (an edit keeps them).
#[derive(Debug, Clone)]
pub struct ResourceForm {
    /// The resource being edited, with what it has now.
    pub editing: Option<(String, crate::domain::resource::ResourceInput)>,
    /// Index into `ResourceForm::PRESETS`.
    pub preset: usize,
    /// name, dir, check, reload, endpoint, sni.
    pub fields: [String; 6],
    /// 0 name, 1 preset, 2 dir, 3 check, 4 reload, 5 endpoint, 6 sni.
    pub focus: usize,
}

impl ResourceForm {
    pub const PRESETS: [crate::domain::resource::Preset; 4] = [
        crate::domain::resource::Preset::Nginx,
        crate::domain::resource::Preset::Apache,
        crate::domain::resource::Preset::Haproxy,
        crate::domain::resource::Preset::Custom,
    ];
    pub const LABELS: [&'static str; 7] = [
        "Name",
        "Preset",
        "Directory (a preset's files go here)",
        "Check command (empty: the preset's; none: no check)",
        "Reload command (empty: the preset's; none: no reload)",
        "TLS endpoint HOST:PORT to probe (optional)",
        "SNI name (empty: the endpoint's host)",
    ];

    /// The text field focus points at, if it is one (the preset is not).
    pub fn text_index(&self) -> Option<usize> {
        match self.focus {
            0 => Some(0),
            1 => None,
            f => Some(f - 1),
        }
    }
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct HostingHistory {
    /// What the history is of (a hosting or a resource), and its state, in two lines.
    pub heading: String,
    pub summary: String,
    /// Each deployment since the hosting was made, with its resource's name, newest first.
    pub records: Vec<(String, crate::domain::resource::DeployRecord)>,
    pub scroll: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostingField {
    Days,
    New,
    Group,
    /// The H-3 switch.
    Partial,
    /// The H-6 switch.
    Messages,
}

impl HostingField {
    /// Tab order, as the form shows them.
    pub const ORDER: [HostingField; 5] = [
        HostingField::Days,
        HostingField::New,
        HostingField::Group,
        HostingField::Partial,
        HostingField::Messages,
    ];
}

#[derive(Debug, Clone)]
pub struct HostingForm {
    /// The hosting being changed (`e` on the Hosting tab); `None`: a new one.
    pub editing: Option<String>,
    pub cert_id: String,
    pub name: String,
    pub days: String,
    /// Empty: the renewal (H-2 automatic); else a certificate id.
    pub new: String,
    /// H-6: empty, no group; else a recipient group's name.
    pub group: String,
    pub confirm_partial: bool,
    /// H-6: hosting messages on.
    pub notify: bool,
    pub field: HostingField,
}

impl HostingForm {
    /// The focused text field's text (`None` on a switch).
    pub fn text(&self) -> Option<&str> {
        match self.field {
            HostingField::Days => Some(&self.days),
            HostingField::New => Some(&self.new),
            HostingField::Group => Some(&self.group),
            HostingField::Partial | HostingField::Messages => None,
        }
    }
}

#[derive(Debug, Clone)]
pub struct DeployPick {
    pub cert_id: String,
    pub name: String,
    pub selected: usize,
    /// Deploy even an expired certificate (the CLI's --allow-expired), switched in the dialog.
    pub allow_expired: bool,
}

/// What a key on the Hosting tab does to the selected hosting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum HostingOp {
    History,
    Cancel,
    Retry,
    Rollback,
}

/// Which field of the reissue form typing goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReissueField {
    Csr,
    Password,
    Reason,
}

/// The reissue form's fields.
#[derive(Clone)]
pub struct ReissueDialog {
    pub id: String,
    pub name: String,
    pub standard: crate::domain::model::Standard,
    /// Index into `ReissueDialog::CHOICES`.
    pub choice: usize,
    pub field: ReissueField,
    /// A pasted CSR (PEM), when the choice is "paste".
    pub csr: String,
    pub password: zeroize::Zeroizing<String>,
    pub reason: String,
}

impl ReissueDialog {
    /// `None`: paste a CSR.
    pub const CHOICES: [Option<crate::domain::reissue::CsrChoice>; 8] = {
        use crate::domain::reissue::{CsrChoice, KeyChoice};
        [
            Some(CsrChoice::Original),
            Some(CsrChoice::Generate(KeyChoice::P256)),
            Some(CsrChoice::Generate(KeyChoice::P384)),
            Some(CsrChoice::Generate(KeyChoice::Rsa2048)),
            Some(CsrChoice::Generate(KeyChoice::Rsa3072)),
            Some(CsrChoice::Generate(KeyChoice::Rsa4096)),
            Some(CsrChoice::Generate(KeyChoice::Sm2)),
            None,
        ]
    };

    pub fn label(i: usize) -> String {
        match Self::CHOICES[i] {
            Some(crate::domain::reissue::CsrChoice::Original) => "original CSR (same key)".into(),
            Some(crate::domain::reissue::CsrChoice::Generate(k)) => {
                format!("generate a new {} key", k.as_str())
            }
            _ => "paste a CSR (the key stays with you)".into(),
        }
    }

    /// Why a choice does not fit this certificate (SM2 takes SM2 keys only, and only SM2 does).
    pub fn unfit(&self, i: usize) -> Option<&'static str> {
        use crate::domain::reissue::{CsrChoice, KeyChoice};
        let sm2 = self.standard == crate::domain::model::Standard::Sm2;
        match Self::CHOICES[i] {
            Some(CsrChoice::Generate(KeyChoice::Sm2)) if !sm2 => {
                Some("SM2 keys are for SM2 certificates (RI-6)")
            }
            Some(CsrChoice::Generate(k)) if sm2 && k != KeyChoice::Sm2 => {
                Some("an SM2 certificate takes an SM2 key (RI-6)")
            }
            _ => None,
        }
    }
}

impl std::fmt::Debug for ReissueDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReissueDialog")
            .field("id", &self.id)
            .field("choice", &self.choice)
            .field("field", &self.field)
            .finish_non_exhaustive()
    }
}

/// The export dialog's fields.
#[derive(Clone)]
pub struct ExportDialog {
    pub id: String,
    pub name: String,
    /// Index into `ExportDialog::FORMATS`.
    pub format: usize,
    pub dir: String,
    pub password: zeroize::Zeroizing<String>,
    /// Typing goes to the password (PKCS#12) instead of the directory.
    pub on_password: bool,
}

impl ExportDialog {
    pub const FORMATS: [crate::domain::rules::export::Format; 5] = [
        crate::domain::rules::export::Format::Pem,
        crate::domain::rules::export::Format::Nginx,
        crate::domain::rules::export::Format::Apache,
        crate::domain::rules::export::Format::Haproxy,
        crate::domain::rules::export::Format::Pkcs12,
    ];

    pub fn format(&self) -> crate::domain::rules::export::Format {
        Self::FORMATS[self.format]
    }
}

impl std::fmt::Debug for ExportDialog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportDialog")
            .field("id", &self.id)
            .field("format", &self.format())
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// The "More" menu of one certificate.
#[derive(Debug, Clone)]
pub struct MoreMenu {
    pub id: String,
    pub name: String,
    pub entries: Vec<MenuEntry>,
    pub selected: usize,
}

/// One action of the More menu. `disabled` says why it cannot run now (and the rule).
#[derive(Debug, Clone)]
pub struct MenuEntry {
    pub key: char,
    pub label: String,
    pub action: crate::app::Action,
    pub disabled: Option<String>,
}

/// The revocation dialog: the plan, the chosen reason, the document path being typed.
#[derive(Debug, Clone)]
pub struct RevokeDialog {
    pub plan: crate::domain::rules::revoke::RevokePlan,
    /// Index into `Reason::ALL`; none until the user chooses one (RV-6: a reason first).
    pub reason: Option<usize>,
    pub document: String,
    /// The certificate's name or id, typed to confirm: a revocation cannot be undone.
    pub confirm: String,
    /// Typing goes to the document's path (when the flow needs one) or to the confirmation.
    pub on_document: bool,
    /// The view follows the reason list (the first step: it opens there, and ↑/↓ come back to
    /// it) until the user types or moves to a text field.
    pub on_reason: bool,
}

impl RevokeDialog {
    pub fn new(plan: crate::domain::rules::revoke::RevokePlan) -> RevokeDialog {
        let on_document = plan.document.is_some();
        RevokeDialog {
            plan,
            reason: None,
            document: String::new(),
            confirm: String::new(),
            on_document,
            on_reason: true,
        }
    }

    /// Whether the typed confirmation names the certificate (its id, or its name exactly).
    pub fn confirmed(&self) -> bool {
        let typed = self.confirm.trim();
        !typed.is_empty() && (typed == self.plan.id || typed == self.plan.name)
    }
}

/// One line of the forecast: when, what, for which certificate.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ForecastRow {
    pub entry: crate::domain::schedule::DueEntry,
    pub name: String,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Detail {
    pub cert: Certificate,
    pub order: Option<crate::domain::order::OrderInfo>,
    /// Where an ACME certificate came from and how it renews (AC-4).
    pub acme: Option<AcmeDetail>,
    /// Where a discovered certificate is (DS-3).
    pub watched: Option<crate::domain::discovery::Watched>,
    /// An intermediate its site serves that ends soon, before it (DS-5).
    pub intermediate: Option<crate::domain::discovery::ExpiringIntermediate>,
    pub timeline: Vec<crate::domain::model::TimelineEntry>,
    pub resources: Vec<String>,
    pub scroll: u16,
}

/// An ACME certificate's account, order and renewal plan, for the detail pane and `show`.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AcmeDetail {
    pub account: String,
    pub order_url: String,
    pub renewal: Option<crate::domain::acme_renewal::AcmeRenewal>,
}

/// One open order in the Validation queue.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OrderRow {
    pub summary: CertSummary,
    pub order: crate::domain::order::OrderInfo,
    /// A revocation under way (its steps shown as an order's), not an order.
    pub revocation: Option<crate::domain::revocation::Revocation>,
}

/// Text for the upload form to start with (from `:upload CERT [KEY]`); the form takes it.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct Prefill {
    pub cert: String,
    pub key: Option<String>,
}

impl std::fmt::Debug for Prefill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prefill")
            .field("cert_bytes", &self.cert.len())
            .field("key", &self.key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Normal,
    Filter,
    Command(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Info,
    Warn,
    Error,
}

/// How many status lines `:messages` keeps.
pub const STATUS_HISTORY: usize = 50;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatusMsg {
    pub level: Level,
    pub text: String,
}

/// The result of the last user intent, for the CLI to report and the form to show.
#[derive(Debug, Clone)]
pub enum Outcome {
    Imported {
        summary: CertSummary,
        warnings: Vec<Warning>,
    },
    NeedsConfirmation(DeletePlan),
    Deleted {
        id: String,
    },
    Posted {
        balance: crate::domain::account::Money,
    },
    Ordered {
        summary: CertSummary,
        warnings: Vec<Warning>,
    },
    Saved {
        summary: CertSummary,
    },
    Checked {
        id: String,
        results: Vec<crate::domain::validation::CheckResult>,
        validated: bool,
    },
    Renewed {
        old: CertSummary,
        new: CertSummary,
    },
    /// A revocation needs the user's confirmation first (RV-2).
    NeedsRevokeConfirmation(crate::domain::rules::revoke::RevokePlan),
    /// A revocation was submitted: the records it covers, as they are now.
    RevocationSubmitted {
        records: Vec<CertSummary>,
        message: String,
    },
    ResourceAdded(Box<crate::domain::resource::Resource>),
    AlarmSaved(Box<crate::domain::rules::alarm::AlarmPolicy>),
    AlarmRemoved(String),
    GroupSaved(Box<crate::domain::rules::alarm::RecipientGroup>),
    GroupRemoved(String),
    AlarmTested(
        Box<(
            crate::domain::rules::alarm::AlarmPolicy,
            Vec<(CertSummary, bool)>,
        )>,
    ),
    DeliveryTried(Box<crate::domain::delivery::Delivery>),
    HostingSaved {
        hosting: Box<crate::domain::rules::hosting::Hosting>,
        warnings: Vec<String>,
    },
    ResourceRemoved(String),
    Deployed(Box<crate::domain::resource::DeployRecord>),
    Exported {
        id: String,
        files: Vec<(std::path::PathBuf, bool)>,
    },
    /// A reissue was ordered: the original (now `reissuing`) and the reissue order.
    Reissued {
        records: Vec<CertSummary>,
        message: String,
    },
    Refused(Refusal),
    Failed(String),
}

#[derive(Debug, Clone)]
pub struct State {
    pub now: Timestamp,
    pub rows: Vec<CertRow>,
    /// The discovered certificates' marks, by id (DS-4, DS-5): gone, drifting, chain ending.
    pub marks: std::collections::HashMap<String, crate::domain::discovery::WatchMark>,
    /// Indices into `rows` in sort order (all rows).
    pub sorted: Vec<usize>,
    /// `sorted` filtered: what the table shows.
    pub visible: Vec<usize>,
    /// Status-bar counts (total, expired, within 30 days), kept current by `recount`.
    pub counts: (usize, usize, usize),
    pub selected: usize,
    pub sort: SortKey,
    pub descending: bool,
    pub filter: String,
    pub tab: Tab,
    pub overlay: Overlay,
    pub input: Input,
    pub status: Option<StatusMsg>,
    /// A More-menu letter pressed on the list: run once the menu's entries are loaded.
    pub pending_menu_key: Option<char>,
    /// The last status lines said (at most `STATUS_HISTORY`), oldest first, with when.
    pub status_history: std::collections::VecDeque<(Timestamp, StatusMsg)>,
    pub outcome: Option<Outcome>,
    /// The last refusal of the upload form, shown at its field.
    pub upload_refusal: Option<Refusal>,
    /// Raw subjects of trust anchors besides Mozilla's: the system store, the sandbox CA's roots
    /// and the roots the user trusts (U-2).
    pub extra_anchors: Vec<Vec<u8>>,
    pub db_label: String,
    /// Open orders that need the user (the Validation queue tab), soonest deadline first.
    pub orders: Vec<OrderRow>,
    pub order_selected: usize,
    /// Text the UI should put on the clipboard (OSC 52), taken once.
    pub copy: Option<String>,
    /// The last "check now" results, for the order they belong to.
    pub check_results: Option<(String, Vec<crate::domain::validation::CheckResult>)>,
    /// Zones whose DNS certdeck manages (AR-6).
    pub managed_zones: Vec<String>,
    /// ACME accounts to order from (name, directory name), offered in the order form (AC-2).
    pub acme_accounts: Vec<(String, String)>,
    /// Prices set in the store's price table.
    pub prices: crate::domain::catalogue::PriceTable,
    /// File contents waiting for the upload form to take them.
    pub prefill: Option<Prefill>,
    /// The account balance, once loaded.
    pub balance: Option<crate::domain::account::Money>,
    pub quit: bool,
    /// How far the help overlay is scrolled (it outgrows small terminals).
    pub help_scroll: u16,
    /// Resources and the certificate each holds (issue #5).
    pub resources: Vec<ResourceRow>,
    /// Hostings, soonest replacement first.
    pub hostings: Vec<crate::domain::rules::hosting::Hosting>,
    pub hosting_selected: usize,
    /// The Hosting tab's keys act on resources instead of hostings (`r` switches).
    pub hosting_on_resources: bool,
    pub resource_selected: usize,
    /// The message center (issue #6): newest first, and how many are unread.
    pub messages: Vec<crate::domain::message::Message>,
    pub unread: usize,
    pub message_selected: usize,
    pub unread_only: bool,
    /// Effects still outstanding after a moment: waiting for the engine or running (the status
    /// bar shows it).
    pub waiting: usize,
    /// The scan under way (DS-1), for the bottom line's gauge.
    pub scan: Option<crate::domain::discovery::ScanProgress>,
    /// The Alarms tab's `/` filter over messages.
    pub message_filter: String,
    /// The Validation tab's `/` filter over open orders.
    pub order_filter: String,
    /// The Hosting tab's `/` filter over hostings and resources.
    pub hosting_filter: String,
    /// The help's `/` search over keys and commands.
    pub help_filter: String,
    /// Recipient groups (AL-1), for the Alarms tab and the policy form.
    pub recipient_groups: Vec<crate::domain::rules::alarm::RecipientGroup>,
    /// Alarm policies and the newest outbox deliveries.
    pub alarms: Vec<crate::domain::rules::alarm::AlarmPolicy>,
    pub deliveries: Vec<crate::domain::delivery::Delivery>,
    /// The Alarms tab's keys act on policies instead of messages (`p` switches).
    pub alarm_on_policies: bool,
    pub policy_selected: usize,
}

/// A resource and the certificate it holds now.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ResourceRow {
    pub resource: crate::domain::resource::Resource,
    pub holder: Option<String>,
}

impl Default for State {
    fn default() -> Self {
        State {
            now: DateTime::UNIX_EPOCH,
            rows: Vec::new(),
            sorted: Vec::new(),
            visible: Vec::new(),
            counts: (0, 0, 0),
            selected: 0,
            sort: SortKey::DaysLeft,
            descending: false,
            filter: String::new(),
            tab: Tab::Certificates,
            overlay: Overlay::None,
            input: Input::Normal,
            status: None,
            pending_menu_key: None,
            status_history: std::collections::VecDeque::new(),
            outcome: None,
            upload_refusal: None,
            extra_anchors: Vec::new(),
            db_label: String::new(),
            balance: None,
            prefill: None,
            managed_zones: Vec::new(),
            acme_accounts: Vec::new(),
            prices: Default::default(),
            orders: Vec::new(),
            order_selected: 0,
            check_results: None,
            copy: None,
            quit: false,
            help_scroll: 0,
            resources: Vec::new(),
            hostings: Vec::new(),
            hosting_selected: 0,
            hosting_on_resources: false,
            resource_selected: 0,
            messages: Vec::new(),
            unread: 0,
            message_selected: 0,
            unread_only: false,
            message_filter: String::new(),
            order_filter: String::new(),
            hosting_filter: String::new(),
            help_filter: String::new(),
            waiting: 0,
            scan: None,
            marks: Default::default(),
            recipient_groups: Vec::new(),
            alarms: Vec::new(),
            deliveries: Vec::new(),
            alarm_on_policies: false,
            policy_selected: 0,
        }
    }
}

/// Indices of the `items` one of whose `texts` holds `filter`, ignoring case (all of them when
/// it is empty: nothing is built for a list no one filters).
fn filtered<'a, T>(
    items: &'a [T],
    filter: &str,
    texts: impl Fn(&'a T) -> Vec<Cow<'a, str>>,
) -> Vec<usize> {
    if filter.is_empty() {
        return (0..items.len()).collect();
    }
    let needle = filter.to_lowercase();
    items
        .iter()
        .enumerate()
        .filter(|(_, item)| {
            texts(item)
                .iter()
                .any(|t| t.to_lowercase().contains(&needle))
        })
        .map(|(i, _)| i)
        .collect()
}

/// A list position moved by `delta`, kept within a list of `len` rows.
pub fn moved(index: usize, delta: i64, len: usize) -> usize {
    let max = len.saturating_sub(1) as i64;
    (index as i64 + delta).clamp(0, max) as usize
}

impl State {
    /// Which messages the message center shows now.
    pub fn message_query(&self) -> crate::app::effect::MessageQuery {
        crate::app::effect::MessageQuery {
            unread_only: self.unread_only,
            matching: self.message_filter.clone(),
        }
    }

    /// Reloads the message center as it is filtered now.
    pub fn load_messages(&self) -> crate::app::effect::Effect {
        crate::app::effect::Effect::LoadMessages(self.message_query())
    }

    /// The `/` filter's text where the user is: the help's search, or the tab's own filter.
    pub fn filter_text(&self) -> &str {
        if matches!(self.overlay, Overlay::Help) {
            return &self.help_filter;
        }
        match self.tab {
            Tab::Certificates => &self.filter,
            Tab::Validation => &self.order_filter,
            Tab::Hosting => &self.hosting_filter,
            Tab::Alarms => &self.message_filter,
        }
    }

    /// Indices into `orders` that the Validation tab's filter lets through.
    pub fn visible_orders(&self) -> Vec<usize> {
        filtered(&self.orders, &self.order_filter, |o| {
            let mut t: Vec<Cow<str>> = vec![
                o.summary.id.as_str().into(),
                o.summary.name.as_str().into(),
                o.summary.status.label().into(),
                o.order.validation.label().into(),
                o.order.validation.as_str().into(),
                o.order.product.as_str().into(),
            ];
            t.extend(o.summary.domains.iter().map(|d| d.as_str().into()));
            t
        })
    }

    /// Indices into `hostings` that the Hosting tab's filter lets through.
    pub fn visible_hostings(&self) -> Vec<usize> {
        filtered(&self.hostings, &self.hosting_filter, |h| {
            let mut t: Vec<Cow<str>> = vec![
                h.id.as_str().into(),
                h.old_cert.as_str().into(),
                h.new_cert.as_deref().unwrap_or("").into(),
                h.status.label().into(),
                h.group.as_deref().unwrap_or("").into(),
                h.last_result.as_deref().unwrap_or("").into(),
            ];
            t.extend(h.resources.iter().map(|r| r.as_str().into()));
            t
        })
    }

    /// Indices into `resources` that the Hosting tab's filter lets through.
    pub fn visible_resources(&self) -> Vec<usize> {
        filtered(&self.resources, &self.hosting_filter, |r| {
            let res = &r.resource;
            let mut t: Vec<Cow<str>> = vec![
                res.id.as_str().into(),
                res.name.as_str().into(),
                res.preset.as_str().into(),
                r.holder.as_deref().unwrap_or("").into(),
                res.endpoint
                    .as_ref()
                    .map(|e| e.address.as_str())
                    .unwrap_or("")
                    .into(),
            ];
            t.extend(res.targets.iter().map(|(_, p)| p.to_string_lossy()));
            t
        })
    }

    /// Puts the Validation tab's selection on the order `keep` when it is still shown, else on
    /// the first.
    pub fn reselect_order(&mut self, keep: Option<String>) {
        let visible = self.visible_orders();
        self.order_selected = keep
            .and_then(|id| {
                visible
                    .iter()
                    .position(|&i| self.orders[i].summary.id == id)
            })
            .unwrap_or(0)
            .min(visible.len().saturating_sub(1));
    }

    /// The hosting the Hosting tab's selection is on (within its filter).
    pub fn selected_hosting(&self) -> Option<&crate::domain::rules::hosting::Hosting> {
        picked(
            &self.visible_hostings(),
            self.hosting_selected,
            &self.hostings,
        )
    }

    /// The resource the Hosting tab's selection is on (within its filter).
    pub fn selected_resource(&self) -> Option<&ResourceRow> {
        picked(
            &self.visible_resources(),
            self.resource_selected,
            &self.resources,
        )
    }

    pub fn selected_row(&self) -> Option<&CertRow> {
        picked(&self.visible, self.selected, &self.rows)
    }

    pub fn selected_order(&self) -> Option<&OrderRow> {
        picked(&self.visible_orders(), self.order_selected, &self.orders)
    }

    pub fn find(&self, id: &str) -> Option<&CertRow> {
        self.rows.iter().find(|r| r.summary.id == id)
    }

    pub fn say(&mut self, level: Level, text: impl Into<String>) {
        let msg = StatusMsg {
            level,
            text: text.into(),
        };
        if self.status_history.len() == STATUS_HISTORY {
            self.status_history.pop_front();
        }
        self.status_history.push_back((self.now, msg.clone()));
        self.status = Some(msg);
    }

    /// Recomputes the status-bar counts: after rows change and when time moves.
    pub fn recount(&mut self) {
        self.counts = self.compute_counts();
    }

    fn compute_counts(&self) -> (usize, usize, usize) {
        let mut expired = 0;
        let mut soon = 0;
        for r in &self.rows {
            match r.summary.days_left(self.now) {
                _ if r.summary.status_at(self.now) == Status::Expired => expired += 1,
                Some(d) if d <= 30 && r.summary.status_at(self.now) != Status::Revoked => soon += 1,
                _ => {}
            }
        }
        (self.rows.len(), expired, soon)
    }

    /// Replaces every row (indices into the old rows are void).
    pub fn set_rows(&mut self, rows: Vec<CertRow>) {
        self.rows = rows;
        self.visible.clear();
        self.rebuild_view();
    }

    /// Removes a row, keeping the cursor at the same position in the list.
    pub fn remove_row(&mut self, id: &str) {
        let pos = self.selected;
        self.rows.retain(|r| r.summary.id != id);
        self.visible.clear();
        self.rebuild_view();
        self.selected = pos.min(self.visible.len().saturating_sub(1));
    }

    /// Re-sorts all rows and re-applies the filter, keeping the selected record selected.
    pub fn rebuild_view(&mut self) {
        let now = self.now;
        let mut order: Vec<usize> = (0..self.rows.len()).collect();
        let rows = &self.rows;
        order.sort_by(|&a, &b| {
            let (a, b) = (&rows[a].summary, &rows[b].summary);
            compare(a, b, self.sort, now)
                .then_with(|| a.name.cmp(&b.name))
                .then_with(|| a.id.cmp(&b.id))
        });
        if self.descending {
            order.reverse();
        }
        self.sorted = order;
        self.refilter();
        self.recount();
    }

    /// Applies a new filter. Typing more characters only narrows, so it scans what is visible;
    /// otherwise it scans the sorted order (no re-sort).
    pub fn apply_filter(&mut self, filter: String) {
        let narrows = filter.starts_with(&self.filter);
        self.filter = filter;
        if narrows {
            let keep = self.selected_row().map(|r| r.summary.id.clone());
            let needle = self.filter.to_lowercase();
            let finder = memchr::memmem::Finder::new(needle.as_bytes());
            let rows = &self.rows;
            self.visible
                .retain(|&i| finder.find(rows[i].haystack.as_bytes()).is_some());
            self.reselect(keep);
        } else {
            self.refilter();
        }
    }

    fn refilter(&mut self) {
        let keep = self.selected_row().map(|r| r.summary.id.clone());
        let needle = self.filter.to_lowercase();
        let rows = &self.rows;
        self.visible = self
            .sorted
            .iter()
            .copied()
            .filter(|&i| rows[i].haystack.contains(&needle))
            .collect();
        self.reselect(keep);
    }

    fn reselect(&mut self, keep: Option<String>) {
        let found = keep.and_then(|id| {
            self.visible
                .iter()
                .position(|&i| self.rows[i].summary.id == id)
        });
        self.selected = found.unwrap_or(0).min(self.visible.len().saturating_sub(1));
    }
}

fn compare(a: &CertSummary, b: &CertSummary, key: SortKey, now: Timestamp) -> Ordering {
    match key {
        // Orders without a certificate (no expiry) sort after every dated one.
        SortKey::DaysLeft => match (a.not_after, b.not_after) {
            (Some(x), Some(y)) => x.cmp(&y),
            (Some(_), None) => Ordering::Less,
            (None, Some(_)) => Ordering::Greater,
            (None, None) => Ordering::Equal,
        },
        SortKey::Name => a.name.to_lowercase().cmp(&b.name.to_lowercase()),
        SortKey::Status => a.status_at(now).cmp(&b.status_at(now)),
        SortKey::Issuer => a.issuer.cmp(&b.issuer),
        SortKey::Brand => a.brand.cmp(&b.brand),
    }
}

/// The item a selection is on: `selected` indexes the shown items, `shown` holds their
/// indices into `items`.
fn picked<'a, T>(shown: &[usize], selected: usize, items: &'a [T]) -> Option<&'a T> {
    shown.get(selected).and_then(|&i| items.get(i))
}
