use chrono::{DateTime, Duration, Utc};

pub type Timestamp = DateTime<Utc>;

/// 9999-12-31T23:59:59Z in Unix seconds: the last instant an X.509 certificate can carry.
pub const LAST_X509_SECOND: i64 = 253_402_300_799;

/// Whole days left until `not_after`, rounded down (so an expired certificate has a negative count).
pub fn days_left(not_after: Timestamp, now: Timestamp) -> i64 {
    (not_after - now).num_seconds().div_euclid(86_400)
}

/// T-3: "more than N days left" — the exact time left exceeds N × 24 h (30 days and one second
/// is more than 30 days; 30 days and 23 hours shown as "30d" is too).
pub fn more_than_days_left(not_after: Timestamp, now: Timestamp, n: i64) -> bool {
    not_after - now > Duration::days(n)
}

/// T-3: "N days or less" left — the exact time left is at most N × 24 h.
pub fn within_days(not_after: Timestamp, now: Timestamp, n: i64) -> bool {
    not_after - now <= Duration::days(n)
}

/// Parses `1d`, `12h`, `30m`, `2w` (what `:advance` takes).
pub fn parse_step(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.split_at(s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len()));
    let n: i64 = num
        .parse()
        .map_err(|_| format!("\"{s}\": expected a number and a unit, e.g. 1d, 12h, 30m, 2w"))?;
    if n <= 0 || n > 3650 {
        return Err(format!(
            "\"{s}\": the step must be between 1 and 3650 units"
        ));
    }
    match unit {
        "m" => Ok(Duration::minutes(n)),
        "h" => Ok(Duration::hours(n)),
        "d" | "" => Ok(Duration::days(n)),
        "w" => Ok(Duration::weeks(n)),
        other => Err(format!("\"{other}\" is not a unit: use m, h, d or w")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_x509_second_is_the_end_of_9999() {
        assert_eq!(
            chrono::DateTime::from_timestamp(LAST_X509_SECOND, 0)
                .unwrap()
                .to_rfc3339(),
            "9999-12-31T23:59:59+00:00"
        );
    }
    use chrono::TimeZone;

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
    #[test]
    fn steps_parse_with_units_and_bounds() {
        assert_eq!(parse_step("1d").unwrap(), Duration::days(1));
        assert_eq!(parse_step("12h").unwrap(), Duration::hours(12));
        assert_eq!(parse_step("2w").unwrap(), Duration::weeks(2));
        assert_eq!(parse_step("7").unwrap(), Duration::days(7));
        assert!(parse_step("0d").is_err());
        assert!(parse_step("1y").is_err());
        assert!(parse_step("soon").is_err());
    }
}
