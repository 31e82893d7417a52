//! D-1: an order not yet issued (`validating`, `awaiting_letter`) can have its review cancelled,
//! after a confirmation: it becomes `cancelled`, what was paid for it is refunded, and it can
//! then be deleted.
use crate::domain::account::{LedgerEntry, LedgerKind, Money, CURRENCY};
use crate::domain::model::{Certificate, Status, TimelineEvent};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::schedule::Fired;
use crate::domain::time::Timestamp;

/// What cancelling will do, for the confirmation to say first.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CancelPlan {
    pub id: String,
    pub name: String,
    /// What was paid for the order and comes back (zero: nothing was paid).
    pub refund: Money,
}

impl CancelPlan {
    pub fn confirmation_text(&self) -> String {
        let money = if self.refund.0 > 0 {
            format!(" {} {CURRENCY} paid for it is refunded.", self.refund)
        } else {
            String::new()
        };
        format!(
            "Cancel the review of \"{}\" ({})? The order stops and cannot be resumed; it can then be deleted.{money}",
            self.name, self.id
        )
    }
}

/// D-1: whether `cert`'s review can be cancelled; `paid` is what its ledger says was paid for
/// it (deductions less refunds).
pub fn check_cancel(cert: &Certificate, paid: Money) -> Result<CancelPlan, Refusal> {
    if !matches!(cert.status, Status::Validating | Status::AwaitingLetter) {
        return Err(Refusal::new(
            "D-1",
            Field::Id,
            format!(
                "only an order not yet issued (validating, awaiting a letter) can have its review cancelled; {} is {}",
                cert.id,
                cert.status.as_str()
            ),
        ));
    }
    Ok(CancelPlan {
        id: cert.id.clone(),
        name: cert.name.clone(),
        refund: Money(paid.0.max(0)),
    })
}

/// The cancellation itself: the record `cancelled` (its timed work goes with its status), the
/// event, and the refund.
pub fn cancelled(cert: &Certificate, plan: &CancelPlan, now: Timestamp) -> Fired {
    let mut updated = cert.clone();
    updated.status = Status::Cancelled;
    let refund = (plan.refund.0 > 0).then(|| LedgerEntry {
        at: now,
        kind: LedgerKind::Refund,
        amount: plan.refund,
        cert_id: Some(cert.id.clone()),
        note: format!("review of {} cancelled (D-1)", cert.name),
    });
    let money = if plan.refund.0 > 0 {
        format!("; {} {CURRENCY} refunded", plan.refund)
    } else {
        String::new()
    };
    Fired {
        event: TimelineEvent {
            at: now,
            kind: "cancelled".into(),
            message: format!("review cancelled{money}; it can be deleted now (D-1)"),
        },
        updated: Some(updated),
        refund,
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn order(status: Status) -> Certificate {
        let mut c = crate::domain::rules::apply::tests_support::blank_order_cert();
        c.id = "abc".into();
        c.name = "shop.example.com".into();
        c.status = status;
        c
    }

    #[test]
    fn rule_d1_only_an_order_not_yet_issued_has_its_review_cancelled() {
        for st in [Status::Validating, Status::AwaitingLetter] {
            assert!(check_cancel(&order(st), Money(19_900)).is_ok(), "{st:?}");
        }
        let issued_or_over = Status::ALL
            .into_iter()
            .filter(|s| !matches!(s, Status::Validating | Status::AwaitingLetter));
        for st in issued_or_over {
            let r = check_cancel(&order(st), Money(0)).unwrap_err();
            assert_eq!(r.rule, "D-1", "{st:?}");
        }
    }

    #[test]
    fn rule_d1_a_cancelled_review_refunds_what_was_paid_and_nothing_when_nothing_was() {
        let now = chrono::Utc::now();
        let c = order(Status::Validating);
        let plan = check_cancel(&c, Money(19_900)).unwrap();
        assert!(
            plan.confirmation_text().contains("199.00 CNY"),
            "{}",
            plan.confirmation_text()
        );
        let f = cancelled(&c, &plan, now);
        assert_eq!(f.updated.unwrap().status, Status::Cancelled);
        let refund = f.refund.unwrap();
        assert_eq!(
            (refund.kind, refund.amount),
            (LedgerKind::Refund, Money(19_900))
        );
        let free = check_cancel(&c, Money(0)).unwrap();
        assert!(!free.confirmation_text().contains("refunded"));
        assert!(cancelled(&c, &free, now).refund.is_none());
    }
}
