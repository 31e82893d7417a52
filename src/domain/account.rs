//! The account that pays for orders and renewals (AR-3, AR-4): a balance and a ledger of
//! top-ups, deductions and refunds, in whole cents so sums are exact.
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

pub const CURRENCY: &str = "CNY";
/// The largest single top-up: a typo guard, not a business rule.
pub const MAX_TOPUP_CENTS: i64 = 10_000_000_000;

/// An amount in cents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Default)]
pub struct Money(pub i64);

impl Money {
    /// Parses `100`, `100.5`, `100.50` (no sign, at most two decimals).
    pub fn parse(s: &str) -> Result<Money, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "\"{s}\" is not an amount: use digits with at most two decimals, e.g. 100 or 99.50"
            )
        };
        let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
        if whole.is_empty()
            || whole.len() > 12
            || !whole.bytes().all(|b| b.is_ascii_digit())
            || frac.len() > 2
            || !frac.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(bad());
        }
        let whole: i64 = whole.parse().map_err(|_| bad())?;
        let cents: i64 = format!("{frac:0<2}").parse().map_err(|_| bad())?;
        Ok(Money(whole * 100 + cents))
    }

    pub fn cents(self) -> i64 {
        self.0
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        write!(f, "{sign}{}.{:02}", self.0.abs() / 100, self.0.abs() % 100)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LedgerKind {
    TopUp,
    Deduction,
    Refund,
}

impl LedgerKind {
    /// The sign this kind of entry gives the balance.
    pub fn sign(self) -> i64 {
        match self {
            LedgerKind::TopUp | LedgerKind::Refund => 1,
            LedgerKind::Deduction => -1,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    pub at: Timestamp,
    pub kind: LedgerKind,
    /// Always positive; `kind` gives the direction.
    pub amount: Money,
    pub cert_id: Option<String>,
    pub note: String,
}

/// A top-up of `amount`. The amount must be positive and at most MAX_TOPUP_CENTS.
pub fn topup(amount: Money, now: Timestamp) -> Result<LedgerEntry, String> {
    if amount.0 <= 0 {
        return Err("a top-up must be more than 0.00".into());
    }
    if amount.0 > MAX_TOPUP_CENTS {
        return Err(format!(
            "a single top-up is at most {} {CURRENCY}",
            Money(MAX_TOPUP_CENTS)
        ));
    }
    Ok(LedgerEntry {
        at: now,
        kind: LedgerKind::TopUp,
        amount,
        cert_id: None,
        note: "top-up".into(),
    })
}

/// The balance after `entry`, or `None` if a deduction would take it below zero (AR-4).
pub fn apply(balance: Money, entry: &LedgerEntry) -> Option<Money> {
    let next = balance.0 + entry.kind.sign() * entry.amount.0;
    (next >= 0).then_some(Money(next))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn amounts_parse_exactly() {
        assert_eq!(Money::parse("100").unwrap(), Money(10_000));
        assert_eq!(Money::parse("99.5").unwrap(), Money(9_950));
        assert_eq!(Money::parse("0.01").unwrap(), Money(1));
        for bad in ["", "-5", "1.234", "1e3", "abc", ".5", "1,000"] {
            assert!(Money::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Money(123_456).to_string(), "1234.56");
        assert_eq!(Money(-5).to_string(), "-0.05");
    }

    #[test]
    fn topups_must_be_positive_and_bounded() {
        let now = Utc::now();
        assert!(topup(Money(0), now).is_err());
        assert!(topup(Money(MAX_TOPUP_CENTS), now).is_ok());
        assert!(topup(Money(MAX_TOPUP_CENTS + 1), now).is_err());
    }

    #[test]
    fn rule_ar4_a_deduction_never_takes_the_balance_below_zero() {
        let now = Utc::now();
        let fee = |c| LedgerEntry {
            at: now,
            kind: LedgerKind::Deduction,
            amount: Money(c),
            cert_id: None,
            note: String::new(),
        };
        assert_eq!(
            apply(Money(500), &fee(500)),
            Some(Money(0)),
            "exactly the balance is covered"
        );
        assert_eq!(apply(Money(500), &fee(501)), None);
        let refund = LedgerEntry {
            kind: LedgerKind::Refund,
            ..fee(200)
        };
        assert_eq!(apply(Money(0), &refund), Some(Money(200)));
    }
}
