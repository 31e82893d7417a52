//! Domain validation results (issue #3): what a check found for each challenge, in the spirit of
//! the seed console's local-check codes, and what a fully passed check does to the order.
use crate::domain::catalogue::product;
use crate::domain::order::{Challenge, OrderInfo};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckCode {
    Ok,
    RecordMissing,
    ValueMismatch,
    FileMissing,
    ContentMismatch,
    Unreachable,
    /// Not checked: no checker for this kind here (said, never silently passed).
    NotChecked,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckResult {
    pub domain: String,
    pub code: CheckCode,
    pub detail: String,
}

/// What an HTTP fetch of a validation file returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Body { status: u16, body: String },
    Failed(String),
}

/// Judges a file challenge from what the URL served.
pub fn judge_file(challenge: &Challenge, fetched: &Fetched) -> CheckResult {
    let (domain, url, content) = match challenge {
        Challenge::File {
            domain,
            url,
            content,
        } => (domain, url, content),
        Challenge::DnsTxt { domain, .. } | Challenge::DnsCname { domain, .. } => {
            return CheckResult {
                domain: domain.clone(),
                code: CheckCode::NotChecked,
                detail: "not a file challenge".into(),
            }
        }
    };
    let (code, detail) = match fetched {
        Fetched::Failed(e) => (CheckCode::Unreachable, format!("{url}: {e}")),
        Fetched::Body { status, .. } if *status == 404 => (
            CheckCode::FileMissing,
            format!("{url}: 404, the file is not there"),
        ),
        Fetched::Body { status, .. } if !(200..300).contains(status) => {
            (CheckCode::FileMissing, format!("{url}: HTTP {status}"))
        }
        Fetched::Body { body, .. } if body.trim() == content => {
            (CheckCode::Ok, format!("{url} serves the expected content"))
        }
        Fetched::Body { body, .. } => (
            CheckCode::ContentMismatch,
            format!(
                "{url} serves \"{}\", expected \"{content}\"",
                body.trim().chars().take(80).collect::<String>()
            ),
        ),
    };
    CheckResult {
        domain: domain.clone(),
        code,
        detail,
    }
}

/// Judges a DNS challenge from the TXT values found at its name.
pub fn judge_dns(challenge: &Challenge, found: Result<Vec<String>, String>) -> CheckResult {
    let (domain, name, value) = match challenge {
        Challenge::DnsTxt {
            domain,
            name,
            value,
        } => (domain, name, value),
        Challenge::File { domain, .. } | Challenge::DnsCname { domain, .. } => {
            return CheckResult {
                domain: domain.clone(),
                code: CheckCode::NotChecked,
                detail: "not a DNS challenge".into(),
            }
        }
    };
    let (code, detail) = match found {
        Err(e) => (CheckCode::Unreachable, format!("{name}: {e}")),
        Ok(v) if v.is_empty() => (CheckCode::RecordMissing, format!("no TXT record at {name}")),
        Ok(v) if v.iter().any(|t| t.trim() == value) => (
            CheckCode::Ok,
            format!("TXT {name} holds the expected value"),
        ),
        Ok(v) => (
            CheckCode::ValueMismatch,
            format!("TXT {name} holds {v:?}, expected \"{value}\""),
        ),
    };
    CheckResult {
        domain: domain.clone(),
        code,
        detail,
    }
}

/// Judges a CNAME challenge from the target found at its name.
pub fn judge_cname(challenge: &Challenge, found: Result<Vec<String>, String>) -> CheckResult {
    let (domain, name, target) = match challenge {
        Challenge::DnsCname {
            domain,
            name,
            target,
        } => (domain, name, target),
        other => {
            return CheckResult {
                domain: other.domain().to_string(),
                code: CheckCode::NotChecked,
                detail: "not a CNAME challenge".into(),
            }
        }
    };
    let norm = |s: &str| s.trim().trim_end_matches('.').to_ascii_lowercase();
    let (code, detail) = match found {
        Err(e) => (CheckCode::Unreachable, format!("{name}: {e}")),
        Ok(v) if v.is_empty() => (
            CheckCode::RecordMissing,
            format!("no CNAME record at {name}"),
        ),
        Ok(v) if v.iter().any(|t| norm(t) == norm(target)) => (
            CheckCode::Ok,
            format!("CNAME {name} points at the expected name"),
        ),
        Ok(v) => (
            CheckCode::ValueMismatch,
            format!("CNAME {name} points at {v:?}, expected \"{target}\""),
        ),
    };
    CheckResult {
        domain: domain.clone(),
        code,
        detail,
    }
}

/// When every challenge passed, the order is validated now and its review scheduled (RM-3; a
/// paid DV reissue's ends at once, RI-7).
pub fn validated(
    order: &OrderInfo,
    results: &[CheckResult],
    now: Timestamp,
    reissue: bool,
) -> Option<OrderInfo> {
    let all_ok = !results.is_empty()
        && results.len() == order.challenges.len()
        && results.iter().all(|r| r.code == CheckCode::Ok);
    if !all_ok || order.validated_at.is_some() {
        return None;
    }
    let p = product(&order.product)?;
    let mut v = order.clone();
    v.validated_at = Some(now);
    v.deadline = None;
    // OV/EV: the review starts once the letter is in as well.
    if !p.needs_letter() || v.letter_uploaded_at.is_some() {
        let days = crate::domain::rules::reissue::review_days_of(p, reissue);
        v.review_due = Some(crate::domain::rules::reissue::review_ends(now, days));
    }
    Some(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::account::Money;
    use crate::domain::order::ValidationMethod;
    use chrono::{TimeZone, Utc};

    fn file() -> Challenge {
        Challenge::File {
            domain: "a.example".into(),
            url: "http://a.example/.well-known/pki-validation/fileauth.txt".into(),
            content: "tok123".into(),
        }
    }

    #[test]
    fn file_checks_name_what_is_wrong() {
        let body = |status, b: &str| Fetched::Body {
            status,
            body: b.into(),
        };
        assert_eq!(
            judge_file(&file(), &body(200, "tok123\n")).code,
            CheckCode::Ok
        );
        assert_eq!(
            judge_file(&file(), &body(404, "")).code,
            CheckCode::FileMissing
        );
        assert_eq!(
            judge_file(&file(), &body(500, "")).code,
            CheckCode::FileMissing
        );
        assert_eq!(
            judge_file(&file(), &body(200, "other")).code,
            CheckCode::ContentMismatch
        );
        assert_eq!(
            judge_file(&file(), &Fetched::Failed("refused".into())).code,
            CheckCode::Unreachable
        );
    }

    #[test]
    fn dns_checks_name_what_is_wrong() {
        let c = Challenge::DnsTxt {
            domain: "a.example".into(),
            name: "_dnsauth.a.example".into(),
            value: "v1".into(),
        };
        assert_eq!(judge_dns(&c, Ok(vec![])).code, CheckCode::RecordMissing);
        assert_eq!(
            judge_dns(&c, Ok(vec!["x".into()])).code,
            CheckCode::ValueMismatch
        );
        assert_eq!(
            judge_dns(&c, Ok(vec!["x".into(), "v1".into()])).code,
            CheckCode::Ok
        );
    }

    #[test]
    fn cname_checks_compare_names_case_and_dot_insensitively() {
        let c = Challenge::DnsCname {
            domain: "a.example".into(),
            name: "_abc.a.example".into(),
            target: "tok.dcv.sandbox-ca.certdeck.test".into(),
        };
        assert_eq!(judge_cname(&c, Ok(vec![])).code, CheckCode::RecordMissing);
        assert_eq!(
            judge_cname(&c, Ok(vec!["other.example".into()])).code,
            CheckCode::ValueMismatch
        );
        assert_eq!(
            judge_cname(&c, Ok(vec!["TOK.dcv.sandbox-ca.certdeck.test.".into()])).code,
            CheckCode::Ok
        );
        assert_eq!(
            judge_cname(&c, Err("timeout".into())).code,
            CheckCode::Unreachable
        );
    }

    #[test]
    fn only_a_full_pass_validates_and_schedules_review() {
        let now = Utc.with_ymd_and_hms(2026, 11, 27, 9, 0, 0).unwrap();
        let order = OrderInfo {
            product: "dnspod-dv".into(),
            years: 1,
            validation: ValidationMethod::File,
            challenges: vec![file()],
            price: Money(1),
            submitted_at: now,
            validated_at: None,
            review_due: None,
            deadline: Some(now + chrono::Duration::days(7)),
            valid_until: None,
            letter_uploaded_at: None,
            last_reminder_at: None,
        };
        let ok = CheckResult {
            domain: "a.example".into(),
            code: CheckCode::Ok,
            detail: String::new(),
        };
        let bad = CheckResult {
            code: CheckCode::FileMissing,
            ..ok.clone()
        };
        assert!(validated(&order, &[bad], now, false).is_none());
        let v = validated(&order, &[ok], now, false).unwrap();
        assert_eq!(v.deadline, None);
        assert_eq!(
            v.review_due,
            Some(Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap()),
            "Friday + 1 business day"
        );
    }
}
