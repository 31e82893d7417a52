//! SV-4: a service is healthy while its ticks run on time. Pure.
use crate::domain::time::Timestamp;

/// Whether the last tick is recent enough: at most two tick periods old. A service that has
/// not ticked yet is not healthy.
pub fn ticks_on_time(
    last_tick: Option<Timestamp>,
    now: Timestamp,
    period: chrono::Duration,
) -> bool {
    last_tick.is_some_and(|t| now.signed_duration_since(t) <= period * 2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn rule_sv4_healthy_until_the_last_tick_is_older_than_two_periods() {
        let t = chrono::Utc
            .with_ymd_and_hms(2026, 11, 30, 12, 0, 0)
            .unwrap();
        let p = chrono::Duration::seconds(1);
        assert!(ticks_on_time(Some(t), t, p));
        assert!(ticks_on_time(Some(t), t + chrono::Duration::seconds(2), p));
        assert!(!ticks_on_time(
            Some(t),
            t + chrono::Duration::milliseconds(2001),
            p
        ));
        assert!(!ticks_on_time(None, t, p));
        // A tick stamped in the future (a clock step back) is not stale.
        assert!(ticks_on_time(Some(t + chrono::Duration::seconds(5)), t, p));
    }
}
