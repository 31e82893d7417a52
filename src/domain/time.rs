use chrono::{DateTime, Utc};

pub type Timestamp = DateTime<Utc>;

/// Whole days left until `not_after`, rounded down (so an expired certificate has a negative count).
pub fn days_left(not_after: Timestamp, now: Timestamp) -> i64 {
    (not_after - now).num_seconds().div_euclid(86_400)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    #[test]
    fn days_left_floors_in_both_directions() {
        let now = Utc.with_ymd_and_hms(2026, 1, 1, 12, 0, 0).unwrap();
        assert_eq!(days_left(now + Duration::days(30), now), 30);
        assert_eq!(
            days_left(now + Duration::days(30) - Duration::seconds(1), now),
            29
        );
        assert_eq!(days_left(now, now), 0);
        assert_eq!(days_left(now - Duration::seconds(1), now), -1);
        assert_eq!(days_left(now - Duration::days(2), now), -2);
    }
}
