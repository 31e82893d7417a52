//! Domain validation checks against the real world: TXT lookups through a resolver (dns.rs) and
//! HTTP GET of validation files. Each check has one overall deadline and a size cap. `CERTDECK_VALIDATION_HTTP=HOST:PORT`
//! sends every fetch to that address instead of the domain's (tests, split-horizon setups).
pub mod dns;

use crate::domain::order::Challenge;
use crate::domain::validation::{judge_cname, judge_dns, judge_file, CheckResult, Fetched};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// The whole fetch: lookup, connect, request and answer.
const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_BODY: u64 = 64 * 1024;

pub fn http_override() -> Option<SocketAddr> {
    std::env::var("CERTDECK_VALIDATION_HTTP").ok()?.parse().ok()
}

/// Checks every challenge of an order once.
pub fn check_all(challenges: &[Challenge], http_addr: Option<SocketAddr>) -> Vec<CheckResult> {
    challenges
        .iter()
        .map(|c| match c {
            Challenge::File { url, .. } => judge_file(c, &fetch(url, http_addr)),
            Challenge::DnsCname { name, .. } => {
                judge_cname(c, dns::resolver().and_then(|r| dns::lookup_cname(name, r)))
            }
            Challenge::DnsTxt { name, .. } => {
                judge_dns(c, dns::resolver().and_then(|r| dns::lookup_txt(name, r)))
            }
        })
        .collect()
}

/// GET `url` (http only), following no redirects, reading at most 64 KiB within 10 s.
pub fn fetch(url: &str, override_addr: Option<SocketAddr>) -> Fetched {
    fetch_within(url, override_addr, TIMEOUT)
}

fn fetch_within(url: &str, override_addr: Option<SocketAddr>, timeout: Duration) -> Fetched {
    let deadline = Instant::now() + timeout;
    let Some(rest) = url.strip_prefix("http://") else {
        return Fetched::Failed("only http:// validation URLs are fetched".into());
    };
    let (host, path) = rest
        .split_once('/')
        .map(|(h, p)| (h, format!("/{p}")))
        .unwrap_or((rest, "/".into()));
    let addr = match override_addr {
        Some(a) => a,
        None => match crate::net::resolve(host, 80, deadline) {
            Ok(a) => a[0],
            Err(e) => return Fetched::Failed(format!("{host}: {e}")),
        },
    };
    let result = (|| -> std::io::Result<Fetched> {
        let mut s = crate::net::connect_addr(addr, deadline)?;
        // One write: a server may answer (and close) after the first segment it reads.
        let request = format!("GET {path} HTTP/1.0\r\nHost: {host}\r\nUser-Agent: certdeck-validation\r\nConnection: close\r\n\r\n");
        s.write_all(request.as_bytes())?;
        let mut raw = Vec::new();
        s.take(MAX_BODY + 8 * 1024).read_to_end(&mut raw)?;
        let text = String::from_utf8_lossy(&raw);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status = head
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        Ok(Fetched::Body {
            status,
            body: body.to_string(),
        })
    })();
    result.unwrap_or_else(|e| Fetched::Failed(format!("{addr}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_trickling_validation_server_is_cut_off_at_the_deadline() {
        let addr =
            crate::net::tests::trickler(b"HTTP/1.0 200 OK\r\n", Duration::from_millis(100), 300);
        let started = Instant::now();
        let got = fetch_within("http://a.example/x", Some(addr), Duration::from_millis(800));
        crate::net::tests::assert_ended_quickly(started);
        assert!(
            matches!(&got, Fetched::Failed(m) if m.contains("timed out")),
            "{got:?}"
        );
    }
}
