//! T-2: a deadline is judged by the clock, not by whether a tick has run since it passed. An
//! order (AR-6, AC-2) or a revocation (RV-6 (c)) whose validation deadline has passed takes no
//! more validation, reminder or letter: it fails, as the tick would have failed it.
use crate::domain::model::Status;
use crate::domain::order::OrderInfo;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::revocation::Revocation;
use crate::domain::time::Timestamp;

/// The schedule keeps whole seconds: a deadline passes when its entry would fire.
fn passed(deadline: Timestamp, now: Timestamp) -> bool {
    deadline.timestamp() <= now.timestamp()
}

fn at(t: Timestamp) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// What the deadline says about acting on an order at `now`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Open {
    /// Its domains may still be validated (or already were).
    Yes,
    /// The deadline has passed and nothing has failed the order yet: it fails now.
    FailsNow(Refusal),
    /// It failed already.
    Failed(Refusal),
}

/// T-2 for an order: open until its deadline (exclusive, as the tick fires an entry due at
/// `now`), unless it was validated first.
pub fn order_open(status: Status, order: &OrderInfo, now: Timestamp) -> Open {
    let rule = order.deadline_rule();
    if status == Status::Failed {
        return Open::Failed(Refusal::new(
            rule,
            Field::Id,
            "the order failed: its domains were not validated by its deadline; delete it and order again",
        ));
    }
    match (order.validated_at, order.deadline) {
        (None, Some(deadline)) if passed(deadline, now) => Open::FailsNow(Refusal::new(
            rule,
            Field::Id,
            format!(
                "the validation deadline passed at {}: the order fails and the certificate cannot be issued (T-2: judged by the clock)",
                at(deadline)
            ),
        )),
        _ => Open::Yes,
    }
}

/// T-2 for a revocation under flow (c): open until its 3-day deadline unless validated first.
pub fn revocation_open(revocation: &Revocation, now: Timestamp) -> Open {
    if revocation.failed_at.is_some() {
        return Open::Failed(Refusal::new(
            "RV-6",
            Field::Id,
            "the revocation failed: its domains were not validated within 3 days",
        ));
    }
    match (revocation.validated_at, revocation.deadline) {
        (None, Some(deadline)) if passed(deadline, now) && revocation.is_open() => {
            Open::FailsNow(Refusal::new(
                "RV-6",
                Field::Id,
                format!(
                    "the revocation's validation deadline passed at {}: the revocation fails and the certificate stays valid (T-2: judged by the clock)",
                    at(deadline)
                ),
            ))
        }
        _ => Open::Yes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::order::ValidationMethod;
    use chrono::{Duration, TimeZone, Utc};

    fn order(deadline: Timestamp) -> OrderInfo {
        OrderInfo {
            product: "dnspod-dv".into(),
            years: 1,
            validation: ValidationMethod::Dns,
            challenges: vec![],
            price: Default::default(),
            submitted_at: deadline - Duration::days(7),
            validated_at: None,
            review_due: None,
            deadline: Some(deadline),
            valid_until: None,
            letter_uploaded_at: None,
            last_reminder_at: None,
        }
    }

    #[test]
    fn rule_t2_an_order_is_open_until_the_second_its_deadline_passes_whether_or_not_a_tick_ran() {
        let d = Utc.with_ymd_and_hms(2026, 12, 7, 13, 0, 0).unwrap();
        let o = order(d + Duration::milliseconds(400));
        assert_eq!(
            order_open(Status::Validating, &o, d - Duration::seconds(1)),
            Open::Yes
        );
        match order_open(Status::Validating, &o, d) {
            Open::FailsNow(r) => {
                assert_eq!(r.rule, "AR-6");
                assert!(r.message.contains("2026-12-07 13:00:00 UTC"), "{r}");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            order_open(Status::Failed, &o, d + Duration::days(1)),
            Open::Failed(_)
        ));
        // Validated in time: the deadline no longer matters.
        let validated = OrderInfo {
            validated_at: Some(d - Duration::hours(1)),
            ..o.clone()
        };
        assert_eq!(
            order_open(Status::Validating, &validated, d + Duration::days(3)),
            Open::Yes
        );
        // An ACME order's deadline is its authorization's (AC-2).
        let acme = OrderInfo {
            product: "acme:le".into(),
            ..o
        };
        match order_open(Status::Validating, &acme, d) {
            Open::FailsNow(r) => assert_eq!(r.rule, "AC-2"),
            other => panic!("{other:?}"),
        }
    }
}
