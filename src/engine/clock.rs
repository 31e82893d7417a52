use crate::domain::time::Timestamp;
use chrono::Duration;
use std::sync::Mutex;

/// Where "now" comes from: real time in production, a settable clock in tests, and real time
/// plus an offset the user moves in the demo.
pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;

    /// Moves time forward; `false` where time only moves by itself (production).
    fn advance(&self, _by: Duration) -> bool {
        false
    }
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now()
    }
}

/// A clock that moves only when told to (tests, `--now`).
pub struct ManualClock(Mutex<Timestamp>);

impl ManualClock {
    pub fn new(at: Timestamp) -> ManualClock {
        ManualClock(Mutex::new(at))
    }

    pub fn set(&self, at: Timestamp) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = at;
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn advance(&self, by: Duration) -> bool {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
        true
    }
}

/// Real time plus an offset the user moves forward (`--demo`: `:advance 1d`, `+`).
#[derive(Default)]
pub struct DemoClock(Mutex<Duration>);

impl Clock for DemoClock {
    fn now(&self) -> Timestamp {
        chrono::Utc::now() + *self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn advance(&self, by: Duration) -> bool {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) += by;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_demo_and_test_clocks_move_on_request() {
        assert!(!SystemClock.advance(Duration::days(1)));
        let demo = DemoClock::default();
        let before = demo.now();
        assert!(demo.advance(Duration::days(2)));
        assert!(demo.now() - before >= Duration::days(2));
    }
}
