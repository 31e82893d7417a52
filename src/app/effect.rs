use crate::domain::rules::delete::DeletePlan;
use crate::domain::rules::upload::ValidatedUpload;

/// I/O the reducer asks for. The engine performs it and feeds the outcome back as an Action.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Effect {
    LoadAll,
    /// The marks of the discovered certificates the list shows (DS-4, DS-5).
    LoadMarks,
    LoadOne(String),
    LoadDetail(String),
    InsertUploaded(Box<ValidatedUpload>),
    Delete(DeletePlan),
    LoadAccount,
    LoadForRenewal {
        id: String,
        on: Option<bool>,
    },
    /// Record an effect on a certificate (a switch flipped) with its timeline event.
    Save {
        id: String,
        fired: Box<crate::domain::schedule::Fired>,
    },
    RenewNow(String),
    AdoptSites(String),
    SetIgnored {
        id: String,
        on: Option<bool>,
    },
    CheckValidation(String),
    Remind(String),
    AttachLetter {
        id: String,
        path: std::path::PathBuf,
    },
    LoadZones,
    /// U-2: the trust anchors besides Mozilla's.
    LoadTrust,
    LoadAcmeAccounts,
    Scan(Vec<std::path::PathBuf>),
    /// AC-2, AC-3: an ACME order, dns-01 by hand (the Validation queue shows its records).
    AcmeOrder {
        account: String,
        domain: String,
        sans: Vec<String>,
    },
    LoadOrders,
    LoadForecast(u32),
    PlaceOrder(Box<crate::domain::rules::apply::ValidatedApply>),
    ReadFiles {
        cert: std::path::PathBuf,
        key: Option<std::path::PathBuf>,
    },
    /// Post a ledger entry (top-up, deduction, refund) and move the balance.
    Post(crate::domain::account::LedgerEntry),
    /// Fire every schedule entry due now (SPEC §11).
    RunDue,
    /// Move the clock forward (demo and tests only).
    Advance(chrono::Duration),
    /// Load what the More menu needs to judge each action.
    LoadMore(String),
    PlanRevocation(String),
    Reissue(Box<crate::app::action::ReissueSpec>),
    Export(Box<crate::app::action::ExportRequest>),
    LoadResources,
    AddAlarm(Box<crate::domain::rules::alarm::AlarmInput>),
    RemoveAlarm(String),
    EnableAlarm(String, bool),
    UpdateAlarm(String, Box<crate::domain::rules::alarm::AlarmInput>),
    TestAlarm(String),
    LoadAlarms,
    AddGroupMembers(Box<crate::domain::rules::alarm::RecipientGroup>),
    RemoveGroup {
        name: String,
        recipient: Option<String>,
    },
    RetryDelivery(u64),
    LoadMessages(MessageQuery),
    MarkRead {
        /// `None`: every message.
        ids: Option<Vec<u64>>,
        query: MessageQuery,
    },
    LoadHostings,
    LoadHostingHistory(String),
    LoadResourceHistory(String),
    AddHosting(Box<crate::domain::rules::hosting::HostingRequest>),
    CancelHosting(String),
    RetryHosting(String),
    RollbackHosting(String),
    AddResource(Box<crate::domain::resource::ResourceInput>),
    RemoveResource(String),
    /// D-1: what cancelling a review would do (the ledger says what was paid).
    PlanCancel(String),
    /// D-1: cancel the review, refund what was paid.
    CancelReview(String),
    UpdateResource {
        id: String,
        input: Box<crate::domain::resource::ResourceInput>,
    },
    EditHosting(Box<crate::domain::rules::hosting::HostingEdit>),
    Deploy {
        cert: String,
        resource: String,
        allow_expired: bool,
    },
    SubmitRevocation {
        id: String,
        reason: crate::domain::revocation::Reason,
        document: Option<std::path::PathBuf>,
    },
}

impl Effect {
    /// Whether running it may change what is stored (others watching the database then
    /// reload, SV-1). Loads and plans only read: a reload never makes another one.
    pub fn changes_store(&self) -> bool {
        !matches!(
            self,
            Effect::LoadAll
                | Effect::LoadMarks
                | Effect::LoadOne(_)
                | Effect::LoadDetail(_)
                | Effect::LoadAccount
                | Effect::LoadForRenewal { .. }
                | Effect::LoadZones
                | Effect::LoadTrust
                | Effect::LoadAcmeAccounts
                | Effect::LoadOrders
                | Effect::LoadForecast(_)
                | Effect::ReadFiles { .. }
                | Effect::LoadMore(_)
                | Effect::PlanRevocation(_)
                | Effect::PlanCancel(_)
                | Effect::LoadResources
                | Effect::LoadAlarms
                | Effect::LoadMessages(_)
                | Effect::LoadHostings
                | Effect::LoadHostingHistory(_)
                | Effect::LoadResourceHistory(_)
        )
    }
}

/// Which messages the message center shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct MessageQuery {
    pub unread_only: bool,
    /// Text the message, its kind, severity or certificate contains (empty: every message).
    pub matching: String,
}

#[cfg(test)]
mod tests {
    use crate::app::{update, Action, State};

    #[test]
    fn rule_sv1_a_reload_changes_nothing_so_two_watching_tuis_never_reload_each_other() {
        let now = chrono::Utc::now();
        let mut state = State::default();
        for action in [
            Action::Refresh(None),
            Action::ChangedElsewhere,
            Action::Refresh(Some("abc".into())),
        ] {
            let effects = update(&mut state, action.clone(), now);
            assert!(!effects.is_empty(), "{action:?} loads");
            assert!(
                effects.iter().all(|e| !e.changes_store()),
                "{action:?} asks only for loads: {effects:?}"
            );
        }
    }
}
