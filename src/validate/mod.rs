//! Domain validation checks against the real world: TXT lookups through a resolver (dns.rs) and
//! HTTP GET of validation files. Each check has one overall deadline and a size cap. `CERTDECK_VALIDATION_HTTP=HOST:PORT`
//! sends every fetch to that address instead of the domain's (tests, split-horizon setups).
pub mod dns;

use crate::domain::order::Challenge;
use crate::domain::validation::{judge_cname, judge_dns, judge_file, CheckResult, Fetched};
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
    if !url.starts_with("http://") {
        return Fetched::Failed("only http:// validation URLs are fetched".into());
    }
    // A CA's validation follows redirects (to https too): so does certdeck's own check.
    match crate::web::get_following(
        url,
        override_addr,
        Instant::now() + timeout,
        MAX_BODY as usize,
        MAX_REDIRECTS,
    ) {
        Ok(r) => Fetched::Body {
            status: r.status,
            body: String::from_utf8_lossy(&r.body).into_owned(),
        },
        Err(e) => Fetched::Failed(match override_addr {
            Some(a) => format!("{a}: {e}"),
            None => e,
        }),
    }
}

/// Redirects followed, as Let's Encrypt's validation does.
const MAX_REDIRECTS: usize = 10;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ac3_a_redirected_token_is_followed_as_the_ca_follows_it() {
        use std::io::{Read, Write};
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for (i, s) in l.incoming().take(2).enumerate() {
                let mut s = s.unwrap();
                let mut buf = [0u8; 1024];
                let _ = s.read(&mut buf);
                let reply = if i == 0 {
                    "HTTP/1.1 301 Moved\r\nLocation: /moved/token\r\nContent-Length: 0\r\n\r\n"
                } else {
                    "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nproof"
                };
                let _ = s.write_all(reply.as_bytes());
            }
        });
        let got = fetch(
            "http://a.example/.well-known/acme-challenge/token",
            Some(addr),
        );
        assert_eq!(
            got,
            Fetched::Body {
                status: 200,
                body: "proof".into()
            }
        );
    }

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
