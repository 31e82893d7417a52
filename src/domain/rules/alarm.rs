//! SPEC §10, expiry alarms (AL-1, AL-2), and IG-2: policies, which certificates a policy fires
//! for at a given time, and what each firing sends.
use crate::domain::model::{CertSummary, Status};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::{days_left, Timestamp};
use serde::{Deserialize, Serialize};

/// AL-1 objects: which certificates a policy watches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Objects {
    All,
    Ids(Vec<String>),
    /// Certificates tagged `key=value`.
    Tag(String, String),
}

/// AL-1 frequency: once per certificate, or again every N statistical periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Frequency {
    Once,
    EveryPeriods(u32),
}

/// Where a firing goes besides the message center (which always gets it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Channel {
    /// HTTP POST of the event JSON; `secret` signs it (HMAC-SHA256); `style` shapes the body for
    /// chat incoming webhooks.
    Webhook {
        url: String,
        secret: Option<String>,
        style: WebhookStyle,
    },
    /// A program run with the event in `CERTDECK_*` variables and JSON on stdin.
    Command { program: String },
    /// An email through an SMTP server (the password is read from its file at each send).
    Email {
        to: String,
        from: String,
        smtp: Smtp,
    },
    /// A text message through the user's SMS gateway: an HTTP POST of `{"to", "text"}` (signed
    /// like a webhook when `secret` is set).
    Sms {
        gateway: String,
        to: String,
        secret: Option<String>,
    },
}

/// `url` as it may be shown in lists, the outbox and errors: its query (chat robots keep access
/// tokens there) and the user and password before `@` (`https://user:pw@host/`) left out.
pub fn redacted_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, _)) => (base, "?…"),
        None => (url, ""),
    };
    let (scheme, rest) = match base.split_once("://") {
        Some((scheme, rest)) => (format!("{scheme}://"), rest),
        None => (String::new(), base),
    };
    let authority_end = rest.find('/').unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((_, host)) => format!("…@{host}"),
        None => authority.to_string(),
    };
    format!("{scheme}{authority}{path}{query}")
}

/// The user and password of a URL's `user:password@`, percent-decoded, if it has them.
pub fn url_credentials(url: &str) -> Option<(String, String)> {
    let rest = url.split_once("://")?.1;
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    let (userinfo, _) = authority.rsplit_once('@')?;
    let (user, password) = userinfo.split_once(':').unwrap_or((userinfo, ""));
    Some((percent_decode(user), percent_decode(password)))
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).and_then(|c| hex(*c)),
            b.get(i + 2).and_then(|c| hex(*c)),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl Channel {
    /// What the channel reaches, for lists: the URL (its query, where robots keep their access
    /// tokens, left out), program, address or number.
    pub fn describe(&self) -> String {
        let bare = redacted_url;
        match self {
            Channel::Webhook { url, style, .. } => {
                format!("webhook {} ({})", bare(url), style.as_str())
            }
            Channel::Command { program } => format!("command {program}"),
            Channel::Email { to, smtp, .. } => {
                format!("email {to} via {}:{}", smtp.host, smtp.port)
            }
            Channel::Sms { to, gateway, .. } => format!("sms {to} via {}", bare(gateway)),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Smtp {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub user: Option<String>,
    pub password_file: Option<std::path::PathBuf>,
    /// PEM CA certificates trusted besides the public roots (a relay with an internal CA);
    /// read at each send.
    pub ca_file: Option<std::path::PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum SmtpSecurity {
    /// Plain SMTP (a relay on the same machine).
    None,
    /// STARTTLS, required.
    StartTls,
    /// TLS from the first byte (port 465).
    Tls,
}

impl SmtpSecurity {
    pub fn parse(s: &str) -> Result<SmtpSecurity, String> {
        match s {
            "none" | "plain" => Ok(SmtpSecurity::None),
            "starttls" => Ok(SmtpSecurity::StartTls),
            "tls" | "smtps" => Ok(SmtpSecurity::Tls),
            other => Err(format!(
                "\"{other}\": SMTP security is none, starttls or tls"
            )),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum WebhookStyle {
    /// certdeck's own JSON (documented in the README).
    Json,
    /// `{"text": …}` (Slack, Mattermost).
    Slack,
    /// `{"msg_type":"text","content":{"text":…}}` (Feishu).
    Feishu,
    /// `{"msgtype":"text","text":{"content":…}}` (DingTalk, WeCom).
    DingTalk,
    /// An Adaptive Card message (Microsoft Teams workflows).
    Teams,
}

impl WebhookStyle {
    pub fn as_str(self) -> &'static str {
        match self {
            WebhookStyle::Json => "json",
            WebhookStyle::Slack => "slack",
            WebhookStyle::Feishu => "feishu",
            WebhookStyle::DingTalk => "dingtalk",
            WebhookStyle::Teams => "teams",
        }
    }

    pub fn parse(s: &str) -> Result<WebhookStyle, String> {
        match s {
            "json" => Ok(WebhookStyle::Json),
            "slack" | "mattermost" => Ok(WebhookStyle::Slack),
            "teams" => Ok(WebhookStyle::Teams),
            "feishu" | "lark" => Ok(WebhookStyle::Feishu),
            "dingtalk" | "wecom" => Ok(WebhookStyle::DingTalk),
            other => Err(format!(
                "\"{other}\": the style is json, slack, teams, feishu or dingtalk"
            )),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipient {
    pub name: String,
    /// A recipient group's name, if the recipient came from one.
    pub group: Option<String>,
    pub channel: Channel,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AlarmPolicy {
    pub id: String,
    pub name: String,
    pub remarks: String,
    pub project: Option<String>,
    pub objects: Objects,
    /// Fires while days to expiry <= this.
    pub threshold_days: i64,
    /// The statistical period, in seconds.
    pub period_secs: i64,
    pub frequency: Frequency,
    /// The notification template: recipients with their channels…
    pub recipients: Vec<Recipient>,
    pub enabled: bool,
    pub created_at: Timestamp,
    /// When the policy is evaluated next (its schedule entry).
    pub next_evaluation: Timestamp,
    pub last_evaluated: Option<Timestamp>,
    /// Firings so far, over every certificate.
    pub firings: u64,
    /// …and recipient groups by name, whose members are read at each firing (so a group edited
    /// once reaches every policy that names it).
    pub groups: Vec<String>,
}

/// A named, reusable list of recipients (AL-1 "groups").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RecipientGroup {
    pub name: String,
    pub members: Vec<Recipient>,
}

/// What the user gives.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AlarmInput {
    pub name: String,
    pub remarks: String,
    pub project: Option<String>,
    pub objects: Objects,
    pub threshold_days: Option<i64>,
    pub period_secs: Option<i64>,
    pub frequency: Frequency,
    pub recipients: Vec<Recipient>,
    pub groups: Vec<String>,
}

/// AL-1: checks a policy as given, with its defaults (30 days, one minute).
pub fn validate_policy(
    input: &AlarmInput,
    id: String,
    now: Timestamp,
) -> Result<AlarmPolicy, Refusal> {
    let refuse = |field, m: String| Err(Refusal::new("AL-1", field, m));
    if input.name.trim().is_empty() {
        return refuse(Field::Name, "an alarm policy needs a name".into());
    }
    let threshold = input.threshold_days.unwrap_or(30);
    if !(0..=3650).contains(&threshold) {
        return refuse(
            Field::Threshold,
            format!("threshold {threshold} days: from 0 to 3650"),
        );
    }
    let period = input.period_secs.unwrap_or(60);
    if !(60..=86_400 * 7).contains(&period) {
        return refuse(
            Field::Period,
            format!("statistical period {period} s: from 1 minute to 7 days"),
        );
    }
    if input.frequency == Frequency::EveryPeriods(0) {
        return refuse(
            Field::Frequency,
            "the frequency is once, or every N periods with N at least 1".into(),
        );
    }
    if let Objects::Ids(ids) = &input.objects {
        if ids.is_empty() {
            return refuse(
                Field::Id,
                "name the certificates, or watch all of them".into(),
            );
        }
    }
    for r in &input.recipients {
        validate_recipient(r)?;
    }
    for g in &input.groups {
        if g.trim().is_empty() {
            return refuse(Field::Group, "a recipient group's name is empty".into());
        }
    }
    Ok(AlarmPolicy {
        id,
        name: input.name.trim().to_string(),
        remarks: input.remarks.clone(),
        project: input.project.clone(),
        objects: input.objects.clone(),
        threshold_days: threshold,
        period_secs: period,
        frequency: input.frequency,
        recipients: input.recipients.clone(),
        enabled: true,
        created_at: now,
        next_evaluation: now,
        last_evaluated: None,
        firings: 0,
        groups: input.groups.iter().map(|g| g.trim().to_string()).collect(),
    })
}

/// AL-1: a recipient's channel is one that can be sent to.
pub fn validate_recipient(r: &Recipient) -> Result<(), Refusal> {
    let refuse = |field, m: String| Err(Refusal::new("AL-1", field, m));
    if r.name.trim().is_empty() {
        return refuse(Field::Recipient, "a recipient needs a name".into());
    }
    let http = |url: &str, what: &str| {
        if url.starts_with("http://") || url.starts_with("https://") {
            Ok(())
        } else {
            refuse(
                Field::Recipient,
                format!("{what} {url}: the URL starts with http:// or https://"),
            )
        }
    };
    match &r.channel {
        Channel::Webhook { url, .. } => http(url, "webhook"),
        Channel::Sms { gateway, to, .. } => {
            http(gateway, "SMS gateway")?;
            let digits = to.strip_prefix('+').unwrap_or(to);
            if !(6..=15).contains(&digits.len()) || !digits.chars().all(|c| c.is_ascii_digit()) {
                return refuse(
                    Field::Recipient,
                    format!("{to}: a phone number is 6 to 15 digits, with an optional leading +"),
                );
            }
            Ok(())
        }
        Channel::Email { to, from, smtp } => {
            for a in [to, from] {
                if !a.contains('@') || a.chars().any(char::is_whitespace) {
                    return refuse(Field::Recipient, format!("{a}: not an email address"));
                }
            }
            if smtp.host.is_empty() || smtp.port == 0 {
                return refuse(Field::Recipient, "the SMTP server is HOST:PORT".into());
            }
            if smtp.ca_file.is_some() && smtp.security == SmtpSecurity::None {
                return refuse(
                    Field::Recipient,
                    "an SMTP CA file needs --smtp-security starttls or tls".into(),
                );
            }
            if smtp.user.is_some() != smtp.password_file.is_some() {
                return refuse(
                    Field::Password,
                    "SMTP authentication needs both the user and the password file".into(),
                );
            }
            Ok(())
        }
        Channel::Command { program } => {
            if program.trim().is_empty() {
                return refuse(Field::Recipient, "the command is empty".into());
            }
            Ok(())
        }
    }
}

/// AL-1: a recipient group has a name and at least one member, each one valid.
pub fn validate_group(name: &str, members: Vec<Recipient>) -> Result<RecipientGroup, Refusal> {
    let name = name.trim();
    if name.is_empty() || name.chars().any(|c| c == ',' || c.is_control()) {
        return Err(Refusal::new(
            "AL-1",
            Field::Group,
            format!("\"{name}\": a group's name is not empty and has no commas"),
        ));
    }
    if members.is_empty() {
        return Err(Refusal::new(
            "AL-1",
            Field::Recipient,
            format!("group {name}: give at least one recipient"),
        ));
    }
    for m in &members {
        validate_recipient(m)?;
    }
    Ok(RecipientGroup {
        name: name.to_string(),
        members,
    })
}

impl AlarmPolicy {
    /// Whether the policy watches `c` (objects, project).
    pub fn watches(&self, c: &CertSummary) -> bool {
        let object = match &self.objects {
            Objects::All => true,
            Objects::Ids(ids) => ids.contains(&c.id),
            Objects::Tag(k, v) => c.tags.get(k) == Some(v),
        };
        object
            && self
                .project
                .as_ref()
                .is_none_or(|p| c.project.as_ref() == Some(p))
    }

    /// Who a firing goes to: the policy's own recipients, then each named group's members
    /// (marked with the group), each channel once. Groups not in `groups` are skipped.
    pub fn recipients_with(&self, groups: &[RecipientGroup]) -> Vec<Recipient> {
        let mut out: Vec<Recipient> = Vec::new();
        let members = self.groups.iter().flat_map(|name| {
            groups
                .iter()
                .filter(move |g| &g.name == name)
                .flat_map(|g| {
                    g.members.iter().map(|m| Recipient {
                        group: Some(g.name.clone()),
                        ..m.clone()
                    })
                })
        });
        for r in self.recipients.iter().cloned().chain(members) {
            if !out.iter().any(|o| o.channel == r.channel) {
                out.push(r);
            }
        }
        out
    }

    /// AL-1 trigger and IG-2: `c` is live, not ignored, and has `threshold` days or fewer left.
    pub fn triggers(&self, c: &CertSummary, now: Timestamp) -> bool {
        let live = matches!(
            c.status_at(now),
            Status::Issued | Status::ToBeRenewed | Status::Reissuing
        );
        live && !c.ignored
            && self.watches(c)
            && c.days_left(now).is_some_and(|d| d <= self.threshold_days)
    }

    /// AL-1 frequency: fire for a certificate now, given when the policy last fired for it.
    pub fn due(&self, last: Option<Timestamp>, now: Timestamp) -> bool {
        match (self.frequency, last) {
            (_, None) => true,
            (Frequency::Once, Some(_)) => false,
            (Frequency::EveryPeriods(n), Some(t)) => {
                now - t >= chrono::Duration::seconds(self.period_secs * n as i64)
            }
        }
    }

    /// AL-2: the policy's schedule entry (keyed by the policy's id).
    pub fn entry(&self) -> Option<crate::domain::schedule::DueEntry> {
        self.enabled.then(|| crate::domain::schedule::DueEntry {
            due: chrono::DateTime::from_timestamp(self.next_evaluation.timestamp(), 0)
                .unwrap_or(self.next_evaluation),
            kind: crate::domain::schedule::DueKind::AlarmEvaluate,
            cert_id: self.id.clone(),
        })
    }

    /// When the policy is evaluated next (AL-2: every period).
    pub fn next_evaluation(&self, after: Timestamp) -> Timestamp {
        let t = after + chrono::Duration::seconds(self.period_secs);
        chrono::DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t)
    }

    /// The message of a firing for `c`.
    pub fn text(&self, c: &CertSummary, now: Timestamp) -> String {
        let left = c.not_after.map(|t| days_left(t, now)).unwrap_or(0);
        let when = if left < 0 {
            format!(
                "expired {} ago",
                crate::domain::words::count_of((-left) as u64, "day")
            )
        } else {
            format!(
                "expires in {}",
                crate::domain::words::count_of(left as u64, "day")
            )
        };
        format!(
            "alarm \"{}\": {} ({}) {when}, on {} (threshold {} days)",
            self.name,
            c.name,
            c.id,
            c.not_after
                .map(|t| t.format("%Y-%m-%d %H:%M UTC").to_string())
                .unwrap_or_default(),
            self.threshold_days
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_shown_without_their_query_or_credentials() {
        assert_eq!(
            redacted_url("https://u:pw@hooks.example/x?access_token=t"),
            "https://…@hooks.example/x?…"
        );
        assert_eq!(redacted_url("http://host:8080/p"), "http://host:8080/p");
        assert_eq!(redacted_url("http://tok@host"), "http://…@host");
        assert_eq!(
            url_credentials("https://a%3Ab:c%25d@h/x"),
            Some(("a:b".into(), "c%d".into()))
        );
        assert_eq!(url_credentials("https://h/x?u=a@b"), None);
    }
    use crate::domain::model::{Source, Standard};
    use chrono::{Duration, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    fn cert(days: i64) -> CertSummary {
        CertSummary {
            id: "c1".into(),
            name: "shop".into(),
            source: Source::Uploaded,
            status: Status::Issued,
            brand: "X".into(),
            cert_type: None,
            standard: Standard::International,
            domains: vec!["a".into()],
            issuer: "ca".into(),
            not_after: Some(now() + Duration::days(days)),
            auto_renew: false,
            ignored: false,
            tags: [("env".to_string(), "prod".to_string())].into(),
            project: Some("web".into()),
        }
    }

    fn policy(frequency: Frequency) -> AlarmPolicy {
        validate_policy(
            &AlarmInput {
                name: "expiring".into(),
                remarks: String::new(),
                project: None,
                objects: Objects::All,
                threshold_days: None,
                period_secs: None,
                frequency,
                recipients: vec![],
                groups: vec![],
            },
            "p1".into(),
            now(),
        )
        .unwrap()
    }

    #[test]
    fn rule_al1_threshold_exactly_fires_one_more_day_does_not() {
        let p = policy(Frequency::Once);
        assert_eq!((p.threshold_days, p.period_secs), (30, 60), "defaults");
        assert!(p.triggers(&cert(30), now()));
        assert!(!p.triggers(&cert(31), now()));
    }

    #[test]
    fn rule_ig2_ignored_certificates_never_trigger() {
        let mut c = cert(3);
        c.ignored = true;
        assert!(!policy(Frequency::Once).triggers(&c, now()));
    }

    #[test]
    fn rule_al1_frequency_once_versus_every_n_periods() {
        let once = policy(Frequency::Once);
        assert!(once.due(None, now()));
        assert!(!once.due(Some(now()), now() + Duration::days(9)));
        let every = policy(Frequency::EveryPeriods(3));
        assert!(!every.due(Some(now()), now() + Duration::seconds(179)));
        assert!(every.due(Some(now()), now() + Duration::seconds(180)));
    }

    #[test]
    fn rule_al1_objects_and_project_select_certificates() {
        let mut p = policy(Frequency::Once);
        p.objects = Objects::Tag("env".into(), "prod".into());
        assert!(p.watches(&cert(1)));
        p.objects = Objects::Ids(vec!["other".into()]);
        assert!(!p.watches(&cert(1)));
        p.objects = Objects::All;
        p.project = Some("mail".into());
        assert!(!p.watches(&cert(1)));
    }

    fn hook(name: &str, url: &str) -> Recipient {
        Recipient {
            name: name.into(),
            group: None,
            channel: Channel::Webhook {
                url: url.into(),
                secret: None,
                style: WebhookStyle::Json,
            },
        }
    }

    #[test]
    fn rule_al1_groups_expand_at_firing_each_channel_once() {
        let mut p = policy(Frequency::Once);
        p.recipients = vec![hook("ops", "http://127.0.0.1:1/a")];
        p.groups = vec!["oncall".into(), "gone".into()];
        let oncall = validate_group(
            "oncall",
            vec![
                hook("ann", "http://127.0.0.1:1/b"),
                hook("ops again", "http://127.0.0.1:1/a"),
            ],
        )
        .unwrap();
        let got = p.recipients_with(&[oncall]);
        let names: Vec<(&str, Option<&str>)> = got
            .iter()
            .map(|r| (r.name.as_str(), r.group.as_deref()))
            .collect();
        assert_eq!(names, [("ops", None), ("ann", Some("oncall"))]);
    }

    #[test]
    fn rule_al1_a_group_needs_a_name_and_valid_members() {
        assert_eq!(validate_group(" ", vec![]).unwrap_err().field, Field::Group);
        assert_eq!(
            validate_group("a,b", vec![hook("x", "http://h/")])
                .unwrap_err()
                .field,
            Field::Group
        );
        assert_eq!(
            validate_group("empty", vec![]).unwrap_err().field,
            Field::Recipient
        );
        let bad = validate_group("g", vec![hook("x", "ftp://h/")]).unwrap_err();
        assert_eq!((bad.rule.as_str(), bad.field), ("AL-1", Field::Recipient));
    }

    #[test]
    fn rule_al1_sms_numbers_are_6_to_15_digits() {
        let sms = |to: &str| Recipient {
            name: "pager".into(),
            group: None,
            channel: Channel::Sms {
                gateway: "https://127.0.0.1/sms".into(),
                to: to.into(),
                secret: None,
            },
        };
        assert!(validate_recipient(&sms("+861380000")).is_ok());
        assert!(
            validate_recipient(&sms("123456")).is_ok(),
            "6 digits exactly"
        );
        assert!(validate_recipient(&sms("12345")).is_err(), "5 digits");
        assert!(
            validate_recipient(&sms("+123456789012345")).is_ok(),
            "15 exactly"
        );
        assert!(validate_recipient(&sms("+1234567890123456")).is_err(), "16");
        assert!(validate_recipient(&sms("+86 138")).is_err());
    }

    #[test]
    fn rule_al1_refusals_name_the_field() {
        let mut input = AlarmInput {
            name: "x".into(),
            remarks: String::new(),
            project: None,
            objects: Objects::All,
            threshold_days: Some(3651),
            period_secs: None,
            frequency: Frequency::Once,
            recipients: vec![],
            groups: vec![],
        };
        let field = |i: &AlarmInput| validate_policy(i, "p".into(), now()).unwrap_err().field;
        assert_eq!(field(&input), Field::Threshold);
        input.threshold_days = Some(3650);
        input.period_secs = Some(59);
        assert_eq!(field(&input), Field::Period);
        input.period_secs = Some(60);
        input.frequency = Frequency::EveryPeriods(0);
        assert_eq!(field(&input), Field::Frequency);
        input.frequency = Frequency::EveryPeriods(1);
        assert!(validate_policy(&input, "p".into(), now()).is_ok());
    }

    #[test]
    fn robot_tokens_in_webhook_queries_are_left_out_of_lists_and_errors() {
        assert_eq!(
            redacted_url("https://oapi.dingtalk.com/robot/send?access_token=SECRET"),
            "https://oapi.dingtalk.com/robot/send?…"
        );
        assert_eq!(redacted_url("http://127.0.0.1:9/x"), "http://127.0.0.1:9/x");
        let c = Channel::Webhook {
            url: "https://h/hook?token=SECRET".into(),
            secret: Some("s".into()),
            style: WebhookStyle::Teams,
        };
        assert_eq!(c.describe(), "webhook https://h/hook?… (teams)");
    }
}
