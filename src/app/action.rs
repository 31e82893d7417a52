use crate::app::state::{SortKey, Tab};
use crate::domain::model::{CertSummary, Certificate};
use crate::domain::refusal::{Refusal, Warning};
use crate::domain::rules::upload::UploadInput;

/// Everything that can happen: user intents (from the keymap or the CLI), ticks, effect results.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub enum Action {
    // Navigation and view.
    SelectTab(Tab),
    NextTab,
    PrevTab,
    MoveBy(i64),
    Top,
    Bottom,
    CycleSort,
    SortBy(SortKey),
    ReverseSort,
    StartFilter,
    SetFilter(String),
    /// Leave filter input; `keep` false clears the filter.
    EndFilter {
        keep: bool,
    },
    StartCommand,
    SetCommand(String),
    RunCommand(String),
    CancelCommand,
    ToggleHelp,
    ScrollHelp(i32),
    OpenDetail,
    ScrollDetail(i32),
    Back,
    Quit,
    // Certificates.
    Refresh(Option<String>),
    /// A command through the socket (SV-1, SV-2) changed the database: reload everything.
    ChangedElsewhere,
    OpenUpload,
    OpenApply,
    Forecast(u32),
    ForecastLoaded {
        days: u32,
        entries: Vec<crate::app::state::ForecastRow>,
    },
    /// Open the upload form filled from these files (read by the engine, at most 1 MiB each).
    UploadFromFiles {
        cert: std::path::PathBuf,
        key: Option<std::path::PathBuf>,
    },
    FilesRead(Box<crate::app::state::Prefill>),
    SubmitUpload(Box<UploadInput>),
    /// Delete `id` (or the selected row). Unconfirmed requests open the confirmation.
    Delete {
        id: Option<String>,
        confirmed: bool,
    },
    ConfirmDelete,
    /// D-1: cancel the review of an order not yet issued (asks first).
    CancelReview(Option<String>),
    /// What cancelling would do: the confirmation opens.
    CancelPlanned(Box<crate::domain::rules::cancel::CancelPlan>),
    // Orders.
    Apply(Box<crate::domain::rules::apply::ApplyRequest>),
    /// Order from an ACME account (the order form's product list names them).
    ApplyAcme {
        account: String,
        domain: String,
        sans: Vec<String>,
    },
    AcmeAccountsLoaded(Vec<(String, String)>),
    /// DS-1: scan these paths (when empty, this machine: DS-1's default roots and every root
    /// scanned before).
    Scan(Vec<std::path::PathBuf>),
    Scanned(Box<crate::domain::discovery::ScanReport>),
    /// How far the scan under way is.
    ScanProgress(crate::domain::discovery::ScanProgress),
    ZonesLoaded(Vec<String>, crate::domain::catalogue::PriceTable),
    /// U-2: raw subjects of the trust anchors besides Mozilla's.
    TrustLoaded(Vec<Vec<u8>>),
    OrdersLoaded(Vec<crate::app::state::OrderRow>),
    OrderPlaced {
        summary: Box<CertSummary>,
        warnings: Vec<Warning>,
    },
    /// `r`: switch auto-renewal on or off (`None`: toggle) for `id` or the selected row.
    SetAutoRenew {
        id: Option<String>,
        on: Option<bool>,
    },
    RenewalContext {
        cert: Box<Certificate>,
        order: Option<Box<crate::domain::order::OrderInfo>>,
        on: Option<bool>,
    },
    /// Renew by hand now: the fee is taken and a renewal order placed.
    RenewNow(String),
    /// DS-2, H-2: a discovered certificate's sites become resources (the More menu's `o`).
    AdoptSites(Option<String>),
    /// What taking them over did, one line per site.
    SitesAdopted(Vec<String>),
    /// `i`: ignore (IG-1) or un-ignore `id` or the selected row (`None`: toggle).
    SetIgnored {
        id: Option<String>,
        on: Option<bool>,
    },
    /// `c` in the validation queue: check the order's challenges now.
    CheckValidation(Option<String>),
    /// Move the Validation queue's selection.
    MoveOrder(i64),
    /// `y`: copy the selected order's record value (or file content) to the clipboard.
    CopyValue,
    /// `m`: remind the CA reviewer of `id` or the selected order (RM-1, RM-2).
    Remind(Option<String>),
    /// Attach an OV/EV confirmation letter from a file (AR-7) to `id` or the selected order.
    AttachLetter {
        id: Option<String>,
        path: std::path::PathBuf,
    },
    /// Open the detail pane of the selected open order.
    OpenOrderDetail,
    ValidationChecked {
        id: String,
        order: Box<crate::domain::order::OrderInfo>,
        results: Vec<crate::domain::validation::CheckResult>,
        /// The order is a reissue's (RI-7: a paid DV one has no review day).
        reissue: bool,
        /// The checks were a revocation's (RV-6 (c)), with the certificate's type.
        revocation: Option<
            Box<(
                crate::domain::revocation::Revocation,
                Option<crate::domain::model::CertType>,
            )>,
        >,
    },
    /// `.`: the More menu of the selected certificate (or the one in the detail pane).
    OpenMore,
    /// A More-menu letter pressed on the list: the entry runs as from the menu (its checks
    /// and reasons too) without opening it first (#12).
    QuickMenu(char),
    /// The record, its order, its key, and for an ACME certificate whether it still holds its
    /// renewal plan.
    MoreLoaded(
        Box<(
            Certificate,
            Option<crate::domain::order::OrderInfo>,
            crate::domain::resource::StoredKey,
            Option<bool>,
        )>,
    ),
    MoveMenu(i64),
    /// Run the menu's selected entry, or say why it is unavailable.
    RunMenu,
    /// Run the menu entry with this key.
    MenuKey(char),
    /// Revoke `id` (or the selected row). Unconfirmed requests open the dialog (RV-2).
    Revoke {
        id: Option<String>,
        reason: Option<crate::domain::revocation::Reason>,
        document: Option<std::path::PathBuf>,
        confirmed: bool,
    },
    RevocationPlanned(Box<crate::domain::rules::revoke::RevokePlan>),
    MoveRevokeReason(i64),
    /// Typing in the revocation dialog: the document's path or the name typed to confirm.
    SetRevokeDocument(String),
    /// Tab: between the document's path and the confirmation.
    NextRevokeField,
    /// Submit the revocation dialog.
    ConfirmRevoke,
    RevocationSubmitted {
        records: Vec<CertSummary>,
        message: String,
    },
    /// Open the export dialog for `id` (or the selected row).
    OpenExport(Option<String>),
    MoveExportFormat(i64),
    /// Switch typing between the directory and the PKCS#12 password.
    ToggleExportField,
    SetExportText(String),
    /// Write the files the export dialog describes.
    ConfirmExport,
    /// Write the files of a certificate (the `export` command, the TUI's export).
    Export(Box<ExportRequest>),
    Exported {
        id: String,
        /// Each file written, and whether it holds the key (0600).
        files: Vec<(std::path::PathBuf, bool)>,
    },
    // Alarm policies and the outbox (issue #6).
    AddAlarm(Box<crate::domain::rules::alarm::AlarmInput>),
    AlarmSaved(Box<crate::domain::rules::alarm::AlarmPolicy>),
    RemoveAlarm(String),
    OpenAlarmForm,
    /// `p` on the Alarms tab: keys act on policies / back on messages.
    ToggleAlarmFocus,
    /// `e` on the policies: edit the selected policy.
    EditPolicy,
    /// `x` on the policies: switch the selected policy off or on.
    TogglePolicy,
    UpdateAlarm(String, Box<crate::domain::rules::alarm::AlarmInput>),
    AlarmFormMove(i64),
    SetAlarmFormText(String),
    ConfirmAlarmForm,
    /// Switch a policy on (evaluated from now) or off (not evaluated).
    EnableAlarm(String, bool),
    AlarmRemoved(String),
    /// Adds recipients to a group (AL-1), creating it.
    AddGroupMembers(Box<crate::domain::rules::alarm::RecipientGroup>),
    /// Removes a group (no policy may name it), or only its members called `recipient`.
    RemoveGroup {
        name: String,
        recipient: Option<String>,
    },
    GroupSaved(Box<crate::domain::rules::alarm::RecipientGroup>),
    GroupRemoved(String),
    /// `alarm test`: which certificates a policy fires for now.
    TestAlarm(String),
    AlarmTested(
        Box<(
            crate::domain::rules::alarm::AlarmPolicy,
            Vec<(CertSummary, bool)>,
        )>,
    ),
    ListAlarms,
    AlarmsLoaded {
        policies: Vec<crate::domain::rules::alarm::AlarmPolicy>,
        groups: Vec<crate::domain::rules::alarm::RecipientGroup>,
        deliveries: Vec<crate::domain::delivery::Delivery>,
    },
    RetryDelivery(u64),
    /// `g` on the Alarms tab: the recipient groups.
    ShowGroups,
    /// `R` on the Alarms tab: every dead delivery shown is tried again.
    RetryDeadDeliveries,
    DeliveryTried(Box<crate::domain::delivery::Delivery>),
    // Message center (issue #6).
    MessagesLoaded {
        messages: Vec<crate::domain::message::Message>,
        unread: usize,
    },
    MoveMessage(i64),
    /// Mark the selected message read (`Some(id)`: that one; `MarkAllRead` for all).
    MarkRead(Option<u64>),
    MarkAllRead,
    /// Enter on a message: open it whole (and mark it read).
    OpenMessage,
    /// `:messages`: the status line's last messages.
    ShowStatusHistory,
    ToggleUnreadOnly,
    // Resources and deployment (issue #5).
    AddResource(Box<crate::domain::resource::ResourceInput>),
    ResourceAdded(Box<crate::domain::resource::Resource>),
    RemoveResource(String),
    /// Replace resource `id` with what `input` describes.
    UpdateResource {
        id: String,
        input: Box<crate::domain::resource::ResourceInput>,
    },
    /// Change an in-progress hosting: (id, association, days before expiry, H-3 confirmed).
    EditHosting(Box<crate::domain::rules::hosting::HostingEdit>),
    ResourceRemoved(String),
    ResourcesLoaded(Vec<crate::app::state::ResourceRow>),
    ListResources,
    /// Every deployment to a resource (id or name).
    ResourceHistory(String),
    /// Deploy a certificate to a resource (id or name).
    Deploy {
        cert: String,
        resource: String,
        allow_expired: bool,
    },
    /// H-1..H-4: schedule a hosting.
    AddHosting(Box<crate::domain::rules::hosting::HostingRequest>),
    /// A hosting was written (added, run, cancelled, rolled back), with any H-3 warning.
    HostingSaved {
        hosting: Box<crate::domain::rules::hosting::Hosting>,
        warnings: Vec<String>,
    },
    CancelHosting(String),
    /// Run a failed hosting again now.
    RetryHosting(String),
    /// Put the old certificate back on the hosting's resources.
    RollbackHosting(String),
    HostingsLoaded(Vec<crate::domain::rules::hosting::Hosting>),
    MoveHosting(i64),
    /// `r` on the Hosting tab: keys act on resources, or back on hostings.
    ToggleHostingFocus,
    /// `e` on the Hosting tab: edit the selected hosting or resource.
    EditSelected,
    /// `D` on the Hosting tab: remove the selected resource (asks first).
    RemoveSelectedResource,
    OpenResourceForm,
    ResourceFormMove(i64),
    ResourceFormPreset(i64),
    SetResourceFormText(String),
    ConfirmResourceForm,
    /// A key on the Hosting tab, for the selected hosting.
    OnHosting(crate::app::state::HostingOp),
    HostingHistoryLoaded(Box<crate::app::state::HostingHistory>),
    OpenHostingForm(Option<String>),
    SetHostingFormText(String),
    NextHostingField,
    ToggleHostingSwitch,
    ConfirmHostingForm,
    OpenDeployPick(Option<String>),
    MoveDeployPick(i64),
    /// The deploy dialog's "deploy although expired" switch.
    ToggleDeployExpired,
    ConfirmDeployPick,
    /// A deployment ended: its record and the resource's name.
    Deployed(Box<(crate::domain::resource::DeployRecord, String)>),
    /// Open the reissue form for `id` (or the selected row).
    OpenReissue(Option<String>),
    MoveReissueChoice(i64),
    NextReissueField,
    /// The focused field's new text.
    SetReissueText(String),
    /// Submit the reissue form.
    ConfirmReissue,
    /// Order a reissue (RI-1..RI-7).
    Reissue(Box<ReissueSpec>),
    Reissued {
        records: Vec<CertSummary>,
        message: String,
    },
    RecordSaved(Box<CertSummary>, String),
    Renewed {
        old: Box<CertSummary>,
        new: Box<CertSummary>,
    },
    // Account.
    TopUp(crate::domain::account::Money),
    AccountLoaded(crate::domain::account::Money),
    /// A ledger entry was posted (`Some(balance)`) or refused for want of balance (`None`).
    Posted(Option<crate::domain::account::Money>),
    // Time.
    Tick,
    /// Move time forward by this much (the demo's `:advance 1d` and `+`).
    Advance(chrono::Duration),
    Advanced(chrono::Duration),
    TickDone(crate::domain::schedule::TickReport),
    // Effect results.
    AllLoaded(Vec<CertSummary>),
    MarksLoaded(std::collections::HashMap<String, crate::domain::discovery::WatchMark>),
    OneLoaded(Option<CertSummary>),
    /// The detail pane's record (its resources are filled in from the state).
    DetailLoaded(Box<crate::app::state::Detail>),
    Imported {
        summary: Box<CertSummary>,
        warnings: Vec<Warning>,
    },
    Deleted {
        id: String,
    },
    Refused(Refusal),
    Failed(String),
}

/// How a reissue's key is to be found (RI-6).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum CsrSource {
    Original,
    Generate(crate::domain::reissue::KeyChoice),
    /// A pasted CSR (PEM).
    Pasted(String),
}

/// A reissue request as the user gave it.
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ReissueSpec {
    pub id: String,
    pub csr: CsrSource,
    pub reason: String,
    /// Protects the key certdeck keeps (encrypted PKCS#8, RI-6).
    pub key_password: Option<zeroize::Zeroizing<Vec<u8>>>,
}

impl std::fmt::Debug for ReissueSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReissueSpec")
            .field("id", &self.id)
            .field("reason", &self.reason)
            .field(
                "key_password",
                &self.key_password.as_ref().map(|_| "<redacted>"),
            )
            .finish_non_exhaustive()
    }
}

/// Files to write for a certificate (RV-2 refuses it under revocation).
#[derive(Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ExportRequest {
    pub id: String,
    pub format: crate::domain::rules::export::Format,
    pub dir: std::path::PathBuf,
    pub force: bool,
    /// PKCS#12 only.
    pub password: Option<zeroize::Zeroizing<String>>,
}

impl std::fmt::Debug for ExportRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportRequest")
            .field("id", &self.id)
            .field("format", &self.format)
            .field("dir", &self.dir)
            .field("force", &self.force)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}
