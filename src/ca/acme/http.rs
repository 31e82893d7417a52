//! The HTTP client instant-acme talks through: hyper + rustls (ring) with the Mozilla roots and,
//! for a private CA, its own root; every request bounded by one overall deadline, so a CA that
//! stops answering cannot hold a tick (issue #13's "later ACME").
use bytes::Bytes;
use http::Request;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use instant_acme::{BodyWrapper, BytesResponse, HttpClient};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

type Https = hyper_rustls::HttpsConnector<HttpConnector>;

/// One ACME request, whole (connect, TLS, request, answer).
pub const REQUEST_DEADLINE: Duration = Duration::from_secs(30);

pub struct DeadlineClient {
    inner: Client<Https, BodyWrapper<Bytes>>,
    deadline: Duration,
    retry_after: RetryAfter,
}

/// The last `Retry-After` header the CA sent (AC-5: a `rateLimited` problem says when the next
/// attempt is allowed there, and instant-acme's error keeps only the problem document).
pub type RetryAfter = std::sync::Arc<std::sync::Mutex<Option<String>>>;

impl DeadlineClient {
    /// `extra_root_pem`: a private CA's root certificates, trusted besides the public ones.
    pub fn new(extra_root_pem: Option<&str>, deadline: Duration) -> Result<Self, String> {
        let config =
            crate::net::tls_client_config(extra_root_pem).map_err(|e| format!("--root: {e}"))?;
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(config)
            .https_only()
            .enable_http1()
            .enable_http2()
            .build();
        Ok(DeadlineClient {
            inner: Client::builder(TokioExecutor::new()).build(connector),
            deadline,
            retry_after: RetryAfter::default(),
        })
    }

    /// Where this client keeps the last Retry-After it was sent.
    pub fn retry_after(&self) -> RetryAfter {
        self.retry_after.clone()
    }
}

impl HttpClient for DeadlineClient {
    fn request(
        &self,
        req: Request<BodyWrapper<Bytes>>,
    ) -> Pin<Box<dyn Future<Output = Result<BytesResponse, instant_acme::Error>> + Send>> {
        let host = req
            .uri()
            .authority()
            .map(|a| a.to_string())
            .unwrap_or_default();
        let fut = self.inner.request(req);
        let deadline = self.deadline;
        let retry_after = self.retry_after.clone();
        Box::pin(async move {
            // Requests to one CA are paced, whichever order or account sends them (a fleet's
            // renewals falling due together must not trip the CA's rate limits).
            let wait = pace(&host, requests_per_second(), std::time::Instant::now());
            if !wait.is_zero() {
                tokio::time::sleep(wait).await;
            }
            match tokio::time::timeout(deadline, fut).await {
                Ok(Ok(rsp)) => {
                    // The body too is read under the deadline.
                    let (parts, body) = rsp.into_parts();
                    if let Some(v) = parts
                        .headers
                        .get(http::header::RETRY_AFTER)
                        .and_then(|v| v.to_str().ok())
                    {
                        if let Ok(mut slot) = retry_after.lock() {
                            *slot = Some(v.chars().take(64).collect());
                        }
                    }
                    let bytes = tokio::time::timeout(deadline, http_body_util_collect(body))
                        .await
                        .map_err(|_| timeout(deadline))??;
                    Ok(BytesResponse::from(http::Response::from_parts(
                        parts,
                        BodyWrapper::from(bytes.to_vec()),
                    )))
                }
                Ok(Err(e)) => Err(instant_acme::Error::Other(Box::new(e))),
                Err(_) => Err(timeout(deadline)),
            }
        })
    }
}

/// Requests per second to one CA: `CERTDECK_ACME_RPS` (1 to 100), else 10.
pub fn requests_per_second() -> u32 {
    std::env::var("CERTDECK_ACME_RPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .filter(|n| (1..=100).contains(n))
        .unwrap_or(10)
}

/// The next free slot of each CA (by host), shared by every request of the process.
static SLOTS: std::sync::Mutex<Vec<(String, std::time::Instant)>> =
    std::sync::Mutex::new(Vec::new());

/// How long a request to `host` at `now` must wait so that at most `rate` go out per second;
/// takes its slot.
pub fn pace(host: &str, rate: u32, now: std::time::Instant) -> Duration {
    let gap = Duration::from_secs(1) / rate.max(1);
    let Ok(mut slots) = SLOTS.lock() else {
        return Duration::ZERO;
    };
    let slot = match slots.iter_mut().find(|(h, _)| h == host) {
        Some((_, next)) => {
            let at = (*next).max(now);
            *next = at + gap;
            at
        }
        None => {
            slots.push((host.to_string(), now + gap));
            now
        }
    };
    slot.saturating_duration_since(now)
}

fn timeout(deadline: Duration) -> instant_acme::Error {
    instant_acme::Error::Other(
        format!("no answer within {} s (timed out)", deadline.as_secs()).into(),
    )
}

/// Reads a hyper body whole (at most 4 MiB: a certificate chain or a directory is far smaller).
async fn http_body_util_collect(
    mut body: hyper::body::Incoming,
) -> Result<Bytes, instant_acme::Error> {
    use hyper::body::Body;
    const MAX: usize = 4 * 1024 * 1024;
    let mut out = Vec::new();
    loop {
        let frame = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => break,
            Some(Err(e)) => return Err(instant_acme::Error::Other(Box::new(e))),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    if out.len() + data.len() > MAX {
                        return Err(instant_acme::Error::Other(
                            "answer larger than 4 MiB".into(),
                        ));
                    }
                    out.extend_from_slice(&data);
                }
            }
        }
    }
    Ok(Bytes::from(out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_to_one_ca_are_paced_and_other_cas_are_not_held_up() {
        let now = std::time::Instant::now();
        let waits: Vec<Duration> = (0..21)
            .map(|_| pace("ca.pacing.test:443", 10, now))
            .collect();
        assert_eq!(waits[0], Duration::ZERO);
        assert_eq!(
            waits[10],
            Duration::from_secs(1),
            "the 11th request waits a second"
        );
        assert_eq!(waits[20], Duration::from_secs(2));
        assert_eq!(pace("other.pacing.test:443", 10, now), Duration::ZERO);
        // Once the slots have passed, a request goes at once.
        assert_eq!(
            pace("ca.pacing.test:443", 10, now + Duration::from_secs(5)),
            Duration::ZERO
        );
    }
}
