//! Notification channels (issue #6): webhooks (HTTP POST, HMAC-SHA256 signed, with an
//! idempotency key) and commands (the event in environment variables and JSON on stdin). The
//! message center needs no sending: messages are stored with the firing.
pub mod http;

use crate::domain::delivery::{sms_body, webhook_request, Delivery};
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
            let (url, body) =
                webhook_request(url, *style, secret.as_deref(), &event, chrono::Utc::now());
            post(d, &url, secret.as_deref(), &body)
        }
        Channel::Sms {
            gateway,
            to,
            secret,
        } => post(d, gateway, secret.as_deref(), &sms_body(to, &event)),
        Channel::Email { to, from, smtp } => {
            send_email(to, from, smtp, &event, &d.idempotency_key, SMTP_DEADLINE)
        }
        Channel::Command { program } => {
            let text = |k: &str| event[k].as_str().unwrap_or("").to_string();
            let env = vec![
                (
                    "CERTDECK_EVENT".to_string(),
                    event["event"].as_str().unwrap_or("alarm").to_string(),
                ),
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

/// The whole SMTP exchange (connect, TLS, greeting, auth, message); lettre's own timeout is per
/// read, which a relay trickling bytes never trips.
const SMTP_DEADLINE: Duration = Duration::from_secs(30);
/// Each SMTP read or write.
const SMTP_STEP: Duration = Duration::from_secs(10);

/// One email: the text, then the event JSON; its Message-ID carries the idempotency key, so a
/// mailbox that got a retry can tell.
fn send_email(
    to: &str,
    from: &str,
    smtp: &crate::domain::rules::alarm::Smtp,
    event: &serde_json::Value,
    key: &str,
    deadline: Duration,
) -> Result<(), String> {
    use crate::domain::rules::alarm::SmtpSecurity;
    use lettre::message::header::ContentType;
    use lettre::transport::smtp::authentication::Credentials;
    use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
    use lettre::{Message, SmtpTransport, Transport};
    let text = event["text"].as_str().unwrap_or("certdeck alarm");
    let subject: String = text.chars().take(120).collect();
    let email = Message::builder()
        .from(from.parse().map_err(|e| format!("from {from}: {e}"))?)
        .to(to.parse().map_err(|e| format!("to {to}: {e}"))?)
        .subject(format!("[certdeck] {subject}"))
        .message_id(Some(format!("<{key}@certdeck>")))
        .header(ContentType::TEXT_PLAIN)
        .body(format!(
            "{text}\n\n{}\n",
            serde_json::to_string_pretty(event).unwrap_or_default()
        ))
        .map_err(|e| format!("composing the email: {e}"))?;
    let params = || -> Result<TlsParameters, String> {
        let mut b = TlsParameters::builder(smtp.host.clone());
        if let Some(file) = &smtp.ca_file {
            let pem = crate::sidefile::read_capped(file, crate::sidefile::PEM_CAP)
                .map(|b| String::from_utf8_lossy(&b).into_owned())
                .map_err(|e| format!("SMTP CA file {}: {e}", file.display()))?;
            let blocks = crate::domain::pem::scan(&pem).map_err(|e| {
                format!(
                    "SMTP CA file {}{}: {}",
                    file.display(),
                    e.line.map(|l| format!(" line {l}")).unwrap_or_default(),
                    e.message
                )
            })?;
            for block in blocks.into_iter().filter(|b| b.label == "CERTIFICATE") {
                let cert = Certificate::from_der(block.der.clone())
                    .map_err(|e| format!("SMTP CA file {}: {e}", file.display()))?;
                b = b.add_root_certificate(cert);
            }
        }
        b.build_rustls().map_err(|e| e.to_string())
    };
    let tls = match smtp.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::StartTls => Tls::Required(params()?),
        SmtpSecurity::Tls => Tls::Wrapper(params()?),
    };
    let mut builder = SmtpTransport::builder_dangerous(smtp.host.as_str())
        .port(smtp.port)
        .tls(tls)
        .timeout(Some(SMTP_STEP));
    if let (Some(user), Some(file)) = (&smtp.user, &smtp.password_file) {
        let password = crate::sidefile::read_secret_text(file)
            .map_err(|e| format!("SMTP password file {}: {e}", file.display()))?;
        builder = builder.credentials(Credentials::new(
            user.clone(),
            password.trim_end().to_string(),
        ));
    }
    let transport = builder.build();
    let sent = crate::net::within(std::time::Instant::now() + deadline, move || {
        transport
            .send(&email)
            .map(|_| ())
            .map_err(|e| e.to_string())
    });
    match sent {
        Some(r) => r.map_err(|e| format!("SMTP {}:{}: {e}", smtp.host, smtp.port)),
        None => Err(format!(
            "SMTP {}:{}: no answer within {} s (timed out)",
            smtp.host,
            smtp.port,
            deadline.as_secs_f32()
        )),
    }
}

/// One signed HTTP POST of `body` with the delivery's idempotency key; a 2xx answer delivers.
fn post(d: &Delivery, url: &str, secret: Option<&str>, body: &str) -> Result<(), String> {
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
        Err(format!(
            "{} answered HTTP {status}",
            crate::domain::rules::alarm::redacted_url(url)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::rules::alarm::{Smtp, SmtpSecurity};

    #[test]
    fn a_trickling_smtp_relay_is_cut_off_at_the_deadline() {
        let addr = crate::net::tests::trickler(b"220", Duration::from_millis(100), 300);
        let smtp = Smtp {
            host: addr.ip().to_string(),
            port: addr.port(),
            security: SmtpSecurity::None,
            user: None,
            password_file: None,
            ca_file: None,
        };
        let started = std::time::Instant::now();
        let e = send_email(
            "ops@example.com",
            "certdeck@example.com",
            &smtp,
            &serde_json::json!({"text": "t"}),
            "k",
            Duration::from_millis(800),
        )
        .unwrap_err();
        crate::net::tests::assert_ended_quickly(started);
        assert!(e.contains("timed out"), "{e}");
    }
}
