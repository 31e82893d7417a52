//! When an ACME certificate renews (AC-4), and what happens after a failed attempt. Pure: the
//! engine supplies the clock, the random draw and what the CA answered.
use crate::domain::model::{Certificate, Status, TimelineEvent};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::reissue::KeyChoice;
use crate::domain::time::Timestamp;
use chrono::Duration;
use serde::{Deserialize, Serialize};

/// How the challenges of an ACME order are answered (AC-3); kept with the certificate so its
/// renewal answers them the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Solver {
    /// http-01: certdeck answers on this address while the order is open.
    Listen(std::net::SocketAddr),
    /// http-01: files under `DIR/.well-known/acme-challenge/`, served by the site's web server.
    Webroot(std::path::PathBuf),
    /// dns-01: a command that adds (and later removes) the TXT record, given
    /// `CERTDECK_DNS_ACTION` (`add`/`remove`), `CERTDECK_DNS_NAME`, `CERTDECK_DNS_VALUE` and
    /// `CERTDECK_DNS_DOMAIN` in its environment, never as arguments.
    DnsHook(String),
    /// dns-01: RFC 2136 updates signed with the TSIG key in `key_file` (BIND's format, read at
    /// each order, never copied into the store) to the zone's primary server `server`
    /// (HOST or HOST:PORT).
    DnsUpdate {
        server: String,
        key_file: std::path::PathBuf,
    },
    /// dns-01 by hand: the Validation queue shows each record's name and value; certdeck
    /// tells the CA once its own lookup sees them (`c`, `certdeck validate ID`).
    Manual,
}

impl Solver {
    pub fn is_http01(&self) -> bool {
        matches!(self, Solver::Listen(_) | Solver::Webroot(_))
    }

    pub fn describe(&self) -> String {
        match self {
            Solver::Listen(a) => format!("http-01, certdeck listening on {a}"),
            Solver::Webroot(d) => format!("http-01, token files in {}", d.display()),
            Solver::DnsHook(_) => "dns-01 through a hook command".into(),
            Solver::DnsUpdate { server, .. } => format!("dns-01, RFC 2136 updates to {server}"),
            Solver::Manual => "dns-01, records added by hand".into(),
        }
    }
}

/// Certificates valid less than this renew at half their lifetime, the others at a third left.
pub const SHORT_LIVED_DAYS: i64 = 10;
/// The first retry after a failure waits this long, doubling each time ...
pub const FIRST_RETRY_HOURS: i64 = 1;
/// ... up to this.
pub const LONGEST_RETRY_HOURS: i64 = 24;
/// ARI is fetched at least this often (twice a day) ...
pub const ARI_REFETCH_HOURS: i64 = 12;
/// ... and, whatever Retry-After says, not more often than this.
pub const ARI_SHORTEST_REFETCH_MINUTES: i64 = 1;

/// Why a renewal is planned for when it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RenewReason {
    /// A moment in the CA's suggested renewal window (RFC 9773).
    AriWindow,
    /// A third of the lifetime is left.
    ThirdLeft,
    /// Half the lifetime is left (certificates valid less than 10 days).
    HalfLeft,
    /// The retry after a failed attempt (back-off).
    Retry,
    /// The CA said `rateLimited`: the moment it allows the next attempt.
    RateLimited,
}

impl RenewReason {
    pub fn as_str(self) -> &'static str {
        match self {
            RenewReason::AriWindow => "ARI window",
            RenewReason::ThirdLeft => "⅓ lifetime left",
            RenewReason::HalfLeft => "½ lifetime left",
            RenewReason::Retry => "retry after a failed attempt",
            RenewReason::RateLimited => "rate limit: the CA's Retry-After",
        }
    }
}

/// The CA's suggested renewal window (RFC 9773 `suggestedWindow`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct AriWindow {
    pub start: Timestamp,
    pub end: Timestamp,
}

/// How a certificate was ordered; its renewal is ordered the same way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderedAs {
    pub domains: Vec<String>,
    pub solver: Solver,
    pub key: KeyChoice,
    pub profile: Option<String>,
}

/// Everything certdeck keeps to renew one ACME certificate by itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AcmeRenewal {
    pub ordered: OrderedAs,
    /// The next attempt, and why then.
    pub at: Timestamp,
    pub reason: RenewReason,
    /// Failed attempts in a row.
    pub failures: u32,
    pub last_error: Option<String>,
    /// The RFC 9773 identifier of the certificate (`AKI.serial`), when its CA offers ARI; the
    /// renewal order names it in `replaces`.
    pub ari_id: Option<String>,
    pub ari_window: Option<AriWindow>,
    /// When ARI is fetched next (`None`: the CA offers none).
    pub ari_fetch_at: Option<Timestamp>,
    /// The random draw (0..1) that places the attempt in an ARI window, kept so that refetching
    /// an unchanged window does not move it.
    pub ari_draw: f64,
}

impl AcmeRenewal {
    /// When the schedule next needs this certificate: the attempt, or the next ARI fetch.
    pub fn due(&self) -> Timestamp {
        match self.ari_fetch_at {
            Some(f) if f < self.at => f,
            _ => self.at,
        }
    }
}

/// AC-4: the point where a third of the lifetime is left, or half of it for a certificate valid
/// less than 10 days.
pub fn lifetime_point(not_before: Timestamp, not_after: Timestamp) -> (Timestamp, RenewReason) {
    let lifetime = not_after - not_before;
    if lifetime < Duration::days(SHORT_LIVED_DAYS) {
        (not_before + lifetime / 2, RenewReason::HalfLeft)
    } else {
        (not_after - lifetime / 3, RenewReason::ThirdLeft)
    }
}

/// A moment in the window, `draw` (0..1) of the way through it.
pub fn ari_moment(w: &AriWindow, draw: f64) -> Timestamp {
    if w.end <= w.start {
        return w.start;
    }
    let span = (w.end - w.start).num_seconds() as f64;
    w.start + Duration::seconds((span * draw.clamp(0.0, 1.0)) as i64)
}

/// AC-4: the earlier of the moment in the ARI window (when the CA suggests one) and the lifetime
/// point.
pub fn renewal_time(
    not_before: Timestamp,
    not_after: Timestamp,
    window: Option<&AriWindow>,
    draw: f64,
) -> (Timestamp, RenewReason) {
    let by_lifetime = lifetime_point(not_before, not_after);
    match window {
        Some(w) if ari_moment(w, draw) < by_lifetime.0 => {
            (ari_moment(w, draw), RenewReason::AriWindow)
        }
        _ => by_lifetime,
    }
}

/// The back-off after `failures` failed attempts in a row: 1 h, doubling, at most a day.
pub fn backoff(failures: u32) -> Duration {
    let hours = FIRST_RETRY_HOURS
        .checked_shl(failures.saturating_sub(1).min(16))
        .unwrap_or(LONGEST_RETRY_HOURS);
    Duration::hours(hours.min(LONGEST_RETRY_HOURS))
}

/// AC-4, AC-5: when to try again after the attempt at `now` failed (`failures` counts it), never
/// before the CA's Retry-After and never past expiry. `None`: no attempt is left before the
/// certificate expires.
pub fn retry_time(
    failures: u32,
    now: Timestamp,
    not_after: Timestamp,
    retry_after: Option<Timestamp>,
) -> Option<(Timestamp, RenewReason)> {
    let by_backoff = now + backoff(failures);
    let next = match retry_after {
        Some(r) if r > by_backoff => (r, RenewReason::RateLimited),
        _ => (by_backoff, RenewReason::Retry),
    };
    if next.0 < not_after {
        return Some(next);
    }
    // The back-off may be cut short so that a last attempt comes before expiry; the CA's
    // Retry-After may not.
    let last = not_after - Duration::minutes(1);
    match next.1 {
        RenewReason::Retry if last > now => Some((last, RenewReason::Retry)),
        _ => None,
    }
}

/// When ARI is fetched again: after the CA's Retry-After, but at least twice a day.
pub fn ari_refetch_time(now: Timestamp, retry_after: Option<Timestamp>) -> Timestamp {
    let longest = now + Duration::hours(ARI_REFETCH_HOURS);
    let shortest = now + Duration::minutes(ARI_SHORTEST_REFETCH_MINUTES);
    retry_after.unwrap_or(longest).clamp(shortest, longest)
}

/// A `Retry-After` header: delay-seconds or an HTTP-date.
pub fn parse_retry_after(value: &str, now: Timestamp) -> Option<Timestamp> {
    let v = value.trim();
    if let Ok(secs) = v.parse::<u32>() {
        return Some(now + Duration::seconds(secs as i64));
    }
    chrono::DateTime::parse_from_rfc2822(v)
        .ok()
        .map(|t| t.with_timezone(&chrono::Utc))
}

/// A new certificate is not renewed sooner than this after it was stored, whatever its lifetime
/// (a tick that renews must not renew the renewal again).
pub const SOONEST_AFTER_ISSUE_MINUTES: i64 = 1;

/// The renewal plan of a newly issued ACME certificate.
pub fn first_plan(
    cert: &Certificate,
    ordered: OrderedAs,
    ari_id: Option<String>,
    draw: f64,
    now: Timestamp,
) -> Option<AcmeRenewal> {
    let x = cert.x509.as_ref()?;
    let (at, reason) = renewal_time(x.not_before, x.not_after, None, draw);
    let at = at.max(now + Duration::minutes(SOONEST_AFTER_ISSUE_MINUTES));
    Some(AcmeRenewal {
        ordered,
        at,
        reason,
        failures: 0,
        last_error: None,
        ari_fetch_at: ari_id.as_ref().map(|_| now),
        ari_id,
        ari_window: None,
        ari_draw: draw,
    })
}

/// The plan once the CA's window is known (or could not be fetched: then the lifetime point
/// stands and ARI is asked again later). An attempt already waiting for a retry keeps its time.
pub fn with_ari(
    plan: &AcmeRenewal,
    cert: &Certificate,
    window: Option<AriWindow>,
    retry_after: Option<Timestamp>,
    now: Timestamp,
) -> AcmeRenewal {
    let mut p = plan.clone();
    p.ari_fetch_at = Some(ari_refetch_time(now, retry_after));
    if window.is_some() {
        p.ari_window = window;
    }
    if p.failures == 0 {
        if let Some(x) = &cert.x509 {
            let (at, reason) =
                renewal_time(x.not_before, x.not_after, p.ari_window.as_ref(), p.ari_draw);
            p.at = at;
            p.reason = reason;
        }
    }
    p
}

/// The plan after a failed attempt: the next one, or `None` (with why) when none is left.
pub fn after_failure(
    plan: &AcmeRenewal,
    not_after: Timestamp,
    error: &str,
    retry_after: Option<Timestamp>,
    now: Timestamp,
) -> Result<AcmeRenewal, String> {
    let failures = plan.failures.saturating_add(1);
    match retry_time(failures, now, not_after, retry_after) {
        Some((at, reason)) => {
            let mut p = plan.clone();
            p.failures = failures;
            p.at = at;
            p.reason = reason;
            p.last_error = Some(error.to_string());
            Ok(p)
        }
        None => Err(format!(
            "no renewal attempt is left before the certificate expires on {} (AC-4)",
            not_after.format("%Y-%m-%d %H:%M UTC")
        )),
    }
}

/// The plan of a certificate whose auto-renewal is switched back on: failures forgotten, the
/// renewal time worked out again (at once when it has passed), ARI asked at once.
pub fn replan(plan: &AcmeRenewal, cert: &Certificate, now: Timestamp) -> AcmeRenewal {
    let mut p = plan.clone();
    p.failures = 0;
    p.last_error = None;
    p.ari_fetch_at = p.ari_id.as_ref().map(|_| now);
    if let Some(x) = &cert.x509 {
        let (at, reason) =
            renewal_time(x.not_before, x.not_after, p.ari_window.as_ref(), p.ari_draw);
        p.at = at.max(now);
        p.reason = reason;
    }
    p
}

/// AC-4: an ACME certificate can renew (by itself or by hand) while it is issued and still
/// holds its renewal plan (a renewed one has handed it to its renewal). `what` is what was
/// asked, for the refusal.
fn check_can_renew(
    cert: &Certificate,
    has_plan: bool,
    now: Timestamp,
    what: &str,
) -> Result<(), Refusal> {
    let refuse = |m: String| Err(Refusal::new("AC-4", Field::Id, m));
    if cert.status_at(now) != Status::Issued {
        return refuse(format!(
            "{} is {}, not issued: {what} does not apply",
            cert.id,
            cert.status_at(now).as_str()
        ));
    }
    if !has_plan {
        return refuse(format!(
            "{} has been renewed already: {what} its renewal instead",
            cert.id
        ));
    }
    Ok(())
}

/// AC-4: auto-renewal switched on needs an issued certificate that still holds its plan.
pub fn check_switch_on(cert: &Certificate, has_plan: bool, now: Timestamp) -> Result<(), Refusal> {
    check_can_renew(cert, has_plan, now, "switching auto-renewal on")
}

/// AC-4: auto-renewal of an ACME certificate switched on or off. On needs an issued certificate
/// that still has its renewal plan (a renewed one has handed it on). No balance is needed.
pub fn switch_auto_renew(
    cert: &Certificate,
    plan: Option<&AcmeRenewal>,
    on: bool,
    now: Timestamp,
) -> Result<(Certificate, TimelineEvent), Refusal> {
    let mut updated = cert.clone();
    updated.auto_renew = on;
    let message = if on {
        check_switch_on(cert, plan.is_some(), now)?;
        match plan.map(|p| replan(p, cert, now)) {
            Some(p) => format!(
                "auto-renewal on: renews from {} ({}) with no fee (AC-4)",
                p.at.format("%Y-%m-%d %H:%M UTC"),
                p.reason.as_str()
            ),
            None => "auto-renewal on (AC-4)".to_string(),
        }
    } else {
        "auto-renewal off: certdeck will not renew it by itself (AC-4)".to_string()
    };
    Ok((
        updated,
        TimelineEvent {
            at: now,
            kind: "auto_renew".into(),
            message,
        },
    ))
}

/// AC-4: an ACME certificate renewed by hand now, no balance needed.
pub fn check_renew_now(cert: &Certificate, has_plan: bool, now: Timestamp) -> Result<(), Refusal> {
    check_can_renew(cert, has_plan, now, "renewing")
}

/// What the schedule's entry for an ACME certificate does now.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Ask the CA for its renewal window first.
    FetchAri,
    /// Order the renewal.
    Renew,
    /// Nothing yet: come back then.
    Wait(Timestamp),
    /// The certificate no longer renews by itself (the reason goes nowhere: the entry is stale).
    Stop(&'static str),
}

/// AC-4: the next step for `cert` under `plan` at `now`.
pub fn step(plan: &AcmeRenewal, cert: &Certificate, now: Timestamp) -> Step {
    if !cert.auto_renew {
        return Step::Stop("auto-renewal is off");
    }
    if cert.status_at(now) != Status::Issued {
        return Step::Stop("the certificate is no longer issued");
    }
    if plan.ari_fetch_at.is_some_and(|f| f <= now) {
        return Step::FetchAri;
    }
    if plan.at <= now {
        return Step::Renew;
    }
    Step::Wait(plan.due())
}

/// RFC 9773's certificate identifier: base64url(AKI keyIdentifier) "." base64url(serial DER).
pub fn ari_cert_id(leaf_der: &[u8]) -> Option<String> {
    use base64::Engine;
    use x509_parser::extensions::ParsedExtension;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf_der).ok()?;
    let aki = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            ParsedExtension::AuthorityKeyIdentifier(a) => a.key_identifier.as_ref().map(|k| k.0),
            _ => None,
        })?;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    Some(format!(
        "{}.{}",
        b64.encode(aki),
        b64.encode(cert.tbs_certificate.raw_serial())
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t(day: u32, hour: u32) -> Timestamp {
        chrono::Utc
            .with_ymd_and_hms(2026, 1, day, hour, 0, 0)
            .unwrap()
    }

    #[test]
    fn rule_ac4_a_90_day_certificate_renews_with_30_days_left() {
        let (nb, na) = (t(1, 0), t(1, 0) + Duration::days(90));
        assert_eq!(
            lifetime_point(nb, na),
            (na - Duration::days(30), RenewReason::ThirdLeft)
        );
    }

    #[test]
    fn rule_ac4_exactly_10_days_is_not_short_lived_and_just_under_is() {
        let nb = t(1, 0);
        let ten = nb + Duration::days(10);
        assert_eq!(lifetime_point(nb, ten).1, RenewReason::ThirdLeft);
        let under = ten - Duration::seconds(1);
        let (at, reason) = lifetime_point(nb, under);
        assert_eq!(reason, RenewReason::HalfLeft);
        assert_eq!(at, nb + (under - nb) / 2);
        // A six-day certificate renews after three days.
        assert_eq!(
            lifetime_point(nb, nb + Duration::days(6)).0,
            nb + Duration::days(3)
        );
    }

    #[test]
    fn rule_ac4_the_earlier_of_ari_and_lifetime_wins() {
        let (nb, na) = (t(1, 0), t(1, 0) + Duration::days(90));
        let early = AriWindow {
            start: nb + Duration::days(10),
            end: nb + Duration::days(12),
        };
        let (at, reason) = renewal_time(nb, na, Some(&early), 0.5);
        assert_eq!(reason, RenewReason::AriWindow);
        assert_eq!(at, nb + Duration::days(11));
        assert!(at >= early.start && at <= early.end);
        // A window after the lifetime point does not delay the renewal.
        let late = AriWindow {
            start: na - Duration::days(5),
            end: na - Duration::days(4),
        };
        assert_eq!(
            renewal_time(nb, na, Some(&late), 0.0).1,
            RenewReason::ThirdLeft
        );
        // The draw's ends are the window's ends; an inverted window is its start.
        assert_eq!(ari_moment(&early, 0.0), early.start);
        assert_eq!(ari_moment(&early, 1.0), early.end);
        let inverted = AriWindow {
            start: early.end,
            end: early.start,
        };
        assert_eq!(ari_moment(&inverted, 0.7), early.end);
    }

    #[test]
    fn rule_ac4_backoff_starts_at_an_hour_doubles_and_stops_at_a_day() {
        let hours: Vec<i64> = (1..=8).map(|n| backoff(n).num_hours()).collect();
        assert_eq!(hours, vec![1, 2, 4, 8, 16, 24, 24, 24]);
        assert_eq!(backoff(u32::MAX).num_hours(), 24);
    }

    #[test]
    fn rule_ac4_a_retry_never_goes_past_expiry() {
        let now = t(10, 0);
        // Plenty of time: the back-off.
        assert_eq!(
            retry_time(3, now, t(20, 0), None),
            Some((now + Duration::hours(4), RenewReason::Retry))
        );
        // Two hours left, a 4 h back-off: the last attempt a minute before expiry.
        let na = now + Duration::hours(2);
        assert_eq!(
            retry_time(3, now, na, None),
            Some((na - Duration::minutes(1), RenewReason::Retry))
        );
        // Less than a minute left: none.
        assert_eq!(retry_time(1, now, now + Duration::seconds(30), None), None);
    }

    #[test]
    fn rule_ac5_rate_limited_waits_for_the_cas_retry_after_and_never_past_expiry() {
        let now = t(10, 0);
        let allowed = now + Duration::hours(7);
        assert_eq!(
            retry_time(1, now, t(20, 0), Some(allowed)),
            Some((allowed, RenewReason::RateLimited))
        );
        // A Retry-After earlier than the back-off does not shorten it.
        assert_eq!(
            retry_time(3, now, t(20, 0), Some(now + Duration::minutes(5))),
            Some((now + Duration::hours(4), RenewReason::Retry))
        );
        // Allowed only after expiry: no attempt (never a loop against the limit).
        assert_eq!(
            retry_time(1, now, allowed - Duration::hours(1), Some(allowed)),
            None
        );
    }

    #[test]
    fn rule_ac4_ari_is_fetched_at_least_twice_a_day_and_honours_retry_after() {
        let now = t(10, 0);
        assert_eq!(ari_refetch_time(now, None), now + Duration::hours(12));
        assert_eq!(
            ari_refetch_time(now, Some(now + Duration::hours(6))),
            now + Duration::hours(6)
        );
        assert_eq!(
            ari_refetch_time(now, Some(now + Duration::days(3))),
            now + Duration::hours(12)
        );
        assert_eq!(ari_refetch_time(now, Some(now)), now + Duration::minutes(1));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = t(10, 0);
        assert_eq!(
            parse_retry_after("3600", now),
            Some(now + Duration::hours(1))
        );
        assert_eq!(
            parse_retry_after("Sat, 10 Jan 2026 07:00:00 GMT", now),
            Some(t(10, 7))
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    /// An issued, auto-renewing certificate valid from January 1st to `na`.
    fn issued(na: Timestamp) -> Certificate {
        let mut c = crate::domain::schedule::tests::cert(Status::Issued, Some(na));
        c.auto_renew = true;
        c.x509.as_mut().unwrap().not_before = t(1, 0);
        c
    }

    fn plan_for(cert: &Certificate, now: Timestamp) -> AcmeRenewal {
        first_plan(
            cert,
            OrderedAs {
                domains: vec!["a".into()],
                solver: Solver::DnsHook("hook".into()),
                key: KeyChoice::P256,
                profile: None,
            },
            Some("aki.serial".into()),
            0.5,
            now,
        )
        .unwrap()
    }

    #[test]
    fn rule_ac4_steps_fetch_ari_first_then_renew_and_stop_when_off_or_not_issued() {
        let na = t(30, 0);
        let cert = issued(na);
        let now = t(1, 0);
        let plan = plan_for(&cert, now);
        assert_eq!(plan.ari_fetch_at, Some(now), "ARI is asked at once");
        assert_eq!(step(&plan, &cert, now), Step::FetchAri);
        let fetched = with_ari(&plan, &cert, None, None, now);
        assert_eq!(fetched.ari_fetch_at, Some(now + Duration::hours(12)));
        assert_eq!(step(&fetched, &cert, now), Step::Wait(fetched.due()));
        assert_eq!(
            step(&fetched, &cert, fetched.at),
            Step::FetchAri,
            "12 h passed"
        );
        let mut due = fetched.clone();
        due.ari_fetch_at = None;
        assert_eq!(step(&due, &cert, due.at), Step::Renew);
        let mut off = cert.clone();
        off.auto_renew = false;
        assert!(matches!(step(&due, &off, due.at), Step::Stop(_)));
        let revoked = crate::domain::schedule::tests::cert(Status::Revoked, Some(na));
        assert!(matches!(step(&due, &revoked, due.at), Step::Stop(_)));
    }

    #[test]
    fn rule_ac4_a_new_certificate_is_never_due_at_once_and_a_failure_keeps_its_retry_time() {
        let na = t(10, 0);
        let cert = issued(na);
        // Its lifetime point has passed (a tick long after issue): a minute later, not now.
        let now = t(9, 0);
        let plan = plan_for(&cert, now);
        assert_eq!(plan.at, now + Duration::minutes(1));
        let failed = after_failure(&plan, na, "boom", None, now).unwrap();
        assert_eq!((failed.failures, failed.reason), (1, RenewReason::Retry));
        assert_eq!(failed.last_error.as_deref(), Some("boom"));
        let w = AriWindow {
            start: t(2, 0),
            end: t(3, 0),
        };
        assert_eq!(
            with_ari(&failed, &cert, Some(w), None, now).at,
            failed.at,
            "a retry keeps its time"
        );
        assert_eq!(
            with_ari(&plan, &cert, Some(w), None, now).reason,
            RenewReason::AriWindow
        );
        // Past the last minute: no attempt left.
        assert!(after_failure(&plan, na, "boom", None, na).is_err());
    }

    #[test]
    fn rule_ac4_switching_on_needs_an_issued_certificate_with_its_plan_and_no_balance() {
        let now = t(1, 0);
        let cert = issued(t(30, 0));
        let plan = plan_for(&cert, now);
        let (on, event) = switch_auto_renew(&cert, Some(&plan), true, now).unwrap();
        assert!(on.auto_renew);
        assert!(event.message.contains("no fee"), "{}", event.message);
        let r = switch_auto_renew(&cert, None, true, now).unwrap_err();
        assert_eq!(r.rule, "AC-4");
        assert!(r.message.contains("renewed already"), "{}", r.message);
        let revoked = crate::domain::schedule::tests::cert(Status::Revoked, Some(t(30, 0)));
        assert_eq!(
            switch_auto_renew(&revoked, Some(&plan), true, now)
                .unwrap_err()
                .rule,
            "AC-4"
        );
        // Off always works.
        assert!(
            !switch_auto_renew(&revoked, None, false, now)
                .unwrap()
                .0
                .auto_renew
        );
        // Replanning forgets failures and is never earlier than now.
        let mut failed = after_failure(&plan, t(30, 0), "x", None, now).unwrap();
        failed.failures = 4;
        let late = t(29, 0);
        let again = replan(&failed, &cert, late);
        assert_eq!((again.failures, again.last_error.clone()), (0, None));
        assert_eq!(again.at, late);
    }
}
