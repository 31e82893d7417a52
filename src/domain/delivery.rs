//! The delivery outbox (issue #6): every notification a firing sends, written in the firing's
//! transaction, tried at least once, retried with backoff, dead after a bounded number of tries
//! (and retried by hand from there). Each carries an idempotency key so a receiver that saw a
//! delivery whose answer got lost can tell the retry apart.
use crate::domain::rules::alarm::{Channel, WebhookStyle};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Tries before a delivery is dead.
pub const MAX_ATTEMPTS: u32 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    Pending,
    Delivered,
    Dead,
}

impl DeliveryState {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Dead => "dead",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: u64,
    /// The alarm policy, or the hosting (H-6), that sent it.
    pub policy_id: String,
    pub recipient: String,
    pub channel: Channel,
    /// The event as JSON text (the documented body).
    pub event: String,
    pub idempotency_key: String,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub state: DeliveryState,
    pub last_error: Option<String>,
    pub created_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

impl Delivery {
    /// A delivery not tried yet, due at once: what a firing (or a hosting event) queues.
    pub fn pending(
        sender: &str,
        recipient: String,
        channel: Channel,
        event: String,
        idempotency_key: String,
        now: Timestamp,
    ) -> Delivery {
        Delivery {
            id: 0,
            policy_id: sender.to_string(),
            recipient,
            channel,
            event,
            idempotency_key,
            attempts: 0,
            next_attempt_at: now,
            state: DeliveryState::Pending,
            last_error: None,
            created_at: now,
            delivered_at: None,
        }
    }
}

/// The pause before try `attempts + 1`: 30 s, doubling, at most an hour.
pub fn backoff(attempts: u32) -> chrono::Duration {
    let secs = 30i64.saturating_mul(1 << attempts.saturating_sub(1).min(10));
    chrono::Duration::seconds(secs.min(3600))
}

/// A delivery after one try.
pub fn after_attempt(d: &Delivery, result: Result<(), String>, now: Timestamp) -> Delivery {
    let mut d = d.clone();
    d.attempts += 1;
    match result {
        Ok(()) => {
            d.state = DeliveryState::Delivered;
            d.delivered_at = Some(now);
            d.last_error = None;
        }
        Err(e) => {
            d.last_error = Some(e);
            if d.attempts >= MAX_ATTEMPTS {
                d.state = DeliveryState::Dead;
            } else {
                d.next_attempt_at = now + backoff(d.attempts);
            }
        }
    }
    d
}

/// A dead (or failing) delivery tried again now, from the start.
pub fn retried(d: &Delivery, now: Timestamp) -> Delivery {
    let mut d = d.clone();
    d.state = DeliveryState::Pending;
    d.attempts = 0;
    d.next_attempt_at = now;
    d
}

/// The body a webhook gets: certdeck's JSON, or the chat service's shape around the text.
fn webhook_body(style: WebhookStyle, event: &serde_json::Value) -> String {
    let text = event["text"]
        .as_str()
        .unwrap_or("certdeck alarm")
        .to_string();
    match style {
        WebhookStyle::Json => event.to_string(),
        WebhookStyle::Slack => serde_json::json!({ "text": text }).to_string(),
        WebhookStyle::Feishu => {
            serde_json::json!({"msg_type": "text", "content": {"text": text}}).to_string()
        }
        WebhookStyle::DingTalk => {
            serde_json::json!({"msgtype": "text", "text": {"content": text}}).to_string()
        }
        // Teams workflows ("Post to a channel when a webhook request is received") take an
        // Adaptive Card in a message envelope.
        WebhookStyle::Teams => serde_json::json!({
            "type": "message",
            "attachments": [{
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": null,
                "content": {
                    "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                    "type": "AdaptiveCard",
                    "version": "1.4",
                    "body": [{"type": "TextBlock", "text": text, "wrap": true}],
                },
            }],
        })
        .to_string(),
    }
}

/// Where a webhook goes and what it carries: the body for `style`, and — when the webhook has a
/// secret — the chat service's own signature (DingTalk: `timestamp` and `sign` in the URL,
/// milliseconds; Feishu/Lark: `timestamp` and `sign` in the body, seconds), so robots with
/// signing switched on accept it. certdeck's `X-Certdeck-Signature` header is sent besides.
pub fn webhook_request(
    url: &str,
    style: WebhookStyle,
    secret: Option<&str>,
    event: &serde_json::Value,
    now: Timestamp,
) -> (String, String) {
    let body = webhook_body(style, event);
    let Some(secret) = secret else {
        return (url.to_string(), body);
    };
    match style {
        WebhookStyle::DingTalk => {
            let ms = now.timestamp_millis();
            let sign = hmac_base64(secret.as_bytes(), format!("{ms}\n{secret}").as_bytes());
            let glue = if url.contains('?') { '&' } else { '?' };
            (
                format!("{url}{glue}timestamp={ms}&sign={}", url_encode(&sign)),
                body,
            )
        }
        WebhookStyle::Feishu => {
            let ts = now.timestamp();
            let sign = hmac_base64(format!("{ts}\n{secret}").as_bytes(), b"");
            let mut v: serde_json::Value = serde_json::from_str(&body).unwrap_or_default();
            v["timestamp"] = serde_json::Value::String(ts.to_string());
            v["sign"] = serde_json::Value::String(sign);
            (url.to_string(), v.to_string())
        }
        _ => (url.to_string(), body),
    }
}

fn hmac_base64(key: &[u8], message: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key);
    crate::domain::pem::base64(ring::hmac::sign(&key, message).as_ref())
}

/// Percent-encodes what base64 puts in a query value.
fn url_encode(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '+' => "%2B".to_string(),
            '/' => "%2F".to_string(),
            '=' => "%3D".to_string(),
            c => c.to_string(),
        })
        .collect()
}

/// The longest SMS text sent: a gateway splits longer ones into several paid parts.
pub const SMS_TEXT_MAX: usize = 300;

/// The body an SMS gateway gets: the number and the event's text, cut to `SMS_TEXT_MAX`
/// characters.
pub fn sms_body(to: &str, event: &serde_json::Value) -> String {
    let text = event["text"].as_str().unwrap_or("certdeck alarm");
    let text: String = if text.chars().count() > SMS_TEXT_MAX {
        text.chars()
            .take(SMS_TEXT_MAX - 1)
            .chain(std::iter::once('…'))
            .collect()
    } else {
        text.to_string()
    };
    serde_json::json!({ "to": to, "text": text }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn delivery() -> Delivery {
        Delivery {
            id: 1,
            policy_id: "p".into(),
            recipient: "ops".into(),
            channel: Channel::Command {
                program: "true".into(),
            },
            event: "{}".into(),
            idempotency_key: "k".into(),
            attempts: 0,
            next_attempt_at: Utc::now(),
            state: DeliveryState::Pending,
            last_error: None,
            created_at: Utc::now(),
            delivered_at: None,
        }
    }

    #[test]
    fn rule_al2_failed_deliveries_back_off_then_die_and_can_be_retried() {
        let now = Utc::now();
        let mut d = delivery();
        for i in 1..MAX_ATTEMPTS {
            d = after_attempt(&d, Err("503".into()), now);
            assert_eq!((d.state, d.attempts), (DeliveryState::Pending, i));
            assert_eq!(d.next_attempt_at, now + backoff(i));
        }
        d = after_attempt(&d, Err("503".into()), now);
        assert_eq!(d.state, DeliveryState::Dead);
        let r = retried(&d, now);
        assert_eq!((r.state, r.attempts), (DeliveryState::Pending, 0));
        let ok = after_attempt(&r, Ok(()), now);
        assert_eq!(ok.state, DeliveryState::Delivered);
        assert_eq!(backoff(1), chrono::Duration::seconds(30));
        assert_eq!(backoff(20), chrono::Duration::seconds(3600));
    }

    #[test]
    fn rule_al1_sms_text_is_cut_at_300_characters_exactly() {
        let body = |n: usize| {
            let v: serde_json::Value = serde_json::from_str(&sms_body(
                "+8613800000000",
                &serde_json::json!({ "text": "é".repeat(n) }),
            ))
            .unwrap();
            v["text"].as_str().unwrap().to_string()
        };
        assert_eq!(body(300), "é".repeat(300), "300 exactly is sent whole");
        let cut = body(301);
        assert_eq!(cut.chars().count(), 300);
        assert!(cut.ends_with('…'));
    }

    #[test]
    fn rule_al1_chat_styles_wrap_the_text() {
        let event = serde_json::json!({ "text": "alarm x" });
        let v = |style| -> serde_json::Value {
            serde_json::from_str(&webhook_body(style, &event)).unwrap()
        };
        assert_eq!(v(WebhookStyle::Slack)["text"], "alarm x");
        assert_eq!(v(WebhookStyle::Feishu)["content"]["text"], "alarm x");
        assert_eq!(v(WebhookStyle::DingTalk)["text"]["content"], "alarm x");
        assert_eq!(
            v(WebhookStyle::Teams)["attachments"][0]["content"]["body"][0]["text"],
            "alarm x"
        );
        assert_eq!(v(WebhookStyle::Json), event);
    }

    #[test]
    fn rule_al1_dingtalk_and_feishu_robots_get_their_own_signatures() {
        use chrono::TimeZone;
        let now = Utc.timestamp_millis_opt(1_764_230_400_000).unwrap();
        let event = serde_json::json!({ "text": "alarm x" });
        // Vectors from Python's hmac/base64, the way both services document them.
        let (url, _) = webhook_request(
            "https://oapi.dingtalk.com/robot/send?access_token=t",
            WebhookStyle::DingTalk,
            Some("SEC123"),
            &event,
            now,
        );
        assert_eq!(
            url,
            "https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1764230400000&sign=UrS4Yv6ZnEDpgI33DwfS20wFosTKE1l%2FO28nhImIcP0%3D"
        );
        let (url, body) = webhook_request(
            "https://open.feishu.cn/hook/x",
            WebhookStyle::Feishu,
            Some("SEC123"),
            &event,
            now,
        );
        assert_eq!(url, "https://open.feishu.cn/hook/x");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["timestamp"], "1764230400");
        assert_eq!(v["sign"], "/bPULg5PXe0fJqeQdJdpzMSchUo4nFDLRDDa6/S1PGA=");
        assert_eq!(v["content"]["text"], "alarm x");
        // Without a secret, or for other styles, the URL and body are left alone.
        let (url, body) = webhook_request("http://h/x", WebhookStyle::Json, Some("s"), &event, now);
        assert_eq!((url.as_str(), body), ("http://h/x", event.to_string()));
    }
}
