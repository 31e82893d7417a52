//! Notification channels (issue #6): webhooks (HTTP POST, HMAC-SHA256 signed, with an
//! idempotency key) and commands (the event in environment variables and JSON on stdin). The
//! message center needs no sending: messages are stored with the firing.
pub mod http;

use crate::domain::delivery::{webhook_body, Delivery};
use crate::domain::rules::alarm::Channel;
use std::time::Duration;

/// Fault injection for the crash test: with `CERTDECK_DELIVERY_PAUSE=1` a delivery waits a
/// minute before sending (after touching `CERTDECK_DELIVERY_PAUSE_MARK`) so a test can kill it.
fn pause_point() {
    if std::env::var("CERTDECK_DELIVERY_PAUSE").as_deref() == Ok("1") {
        if let Ok(mark) = std::env::var("CERTDECK_DELIVERY_PAUSE_MARK") {
            let _ = std::fs::write(mark, "delivery");
        }
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// The HMAC-SHA256 of `body` under `secret`, hex: the `X-Certdeck-Signature` header's value
/// after `sha256=`.
pub fn signature(secret: &str, body: &[u8]) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    ring::hmac::sign(&key, body)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// One try of one delivery.
pub fn send(d: &Delivery) -> Result<(), String> {
    pause_point();
    let event: serde_json::Value =
        serde_json::from_str(&d.event).map_err(|e| format!("stored event: {e}"))?;
    match &d.channel {
        Channel::Webhook { url, secret, style } => {
            let body = webhook_body(*style, &event);
            let mut headers = vec![
                ("Content-Type".to_string(), "application/json".to_string()),
                ("Idempotency-Key".to_string(), d.idempotency_key.clone()),
                ("X-Certdeck-Event".to_string(), "alarm".to_string()),
            ];
            if let Some(s) = secret {
                headers.push((
                    "X-Certdeck-Signature".to_string(),
                    format!("sha256={}", signature(s, body.as_bytes())),
                ));
            }
            let status = http::post(url, &headers, body.as_bytes(), Duration::from_secs(5))?;
            if (200..300).contains(&status) {
                Ok(())
            } else {
                Err(format!("{url} answered HTTP {status}"))
            }
        }
        Channel::Command { program } => {
            let text = |k: &str| event[k].as_str().unwrap_or("").to_string();
            let env = vec![
                ("CERTDECK_EVENT".to_string(), "alarm".to_string()),
                ("CERTDECK_CERT_ID".to_string(), text("cert_id")),
                ("CERTDECK_CERT_NAME".to_string(), text("cert_name")),
                (
                    "CERTDECK_DAYS_LEFT".to_string(),
                    event["days_left"].to_string(),
                ),
                ("CERTDECK_TEXT".to_string(), text("text")),
                (
                    "CERTDECK_IDEMPOTENCY_KEY".to_string(),
                    d.idempotency_key.clone(),
                ),
            ];
            let run = crate::deploy::command::run_with(
                program,
                Duration::from_secs(10),
                &env,
                Some(d.event.as_bytes()),
            );
            if run.ok {
                Ok(())
            } else {
                Err(format!("{program}: {} {}", run.status, run.output.trim()))
            }
        }
    }
}
