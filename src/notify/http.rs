//! Webhook POSTs on the shared hyper + rustls stack (web.rs): `https://` with the Mozilla roots,
//! the whole exchange within one deadline.
use std::time::{Duration, Instant};

/// POSTs `body` and returns the response status code; `timeout` bounds the whole exchange.
/// `user:password@` in the URL is sent as basic authentication and never shown.
pub fn post(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<u16, String> {
    // Errors end up in the outbox and on screen: a robot's access token in the query must not.
    let shown = crate::domain::rules::alarm::redacted_url(url);
    let mut all: Vec<(String, String)> = headers.to_vec();
    if let Some((user, password)) = crate::domain::rules::alarm::url_credentials(url) {
        let token = crate::domain::pem::base64(format!("{user}:{password}").as_bytes());
        all.push(("Authorization".into(), format!("Basic {token}")));
    }
    let without_credentials = strip_credentials(url);
    crate::web::exchange(
        &crate::web::Request {
            method: "POST",
            url: &without_credentials,
            headers: &all,
            body,
        },
        None,
        Instant::now() + timeout,
        // Only the status matters; a little of the body is read so the answer is whole.
        4 * 1024,
    )
    .map(|r| r.status)
    .map_err(|e| format!("{shown}: {}", e.replace(url, &shown)))
}

/// The URL without its `user:password@`.
fn strip_credentials(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    match rest[..end].rsplit_once('@') {
        Some((_, host)) => format!("{scheme}://{host}{}", &rest[end..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn credentials_in_the_url_become_basic_auth_and_are_never_shown() {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut got = Vec::new();
            let mut buf = [0u8; 4096];
            while !got.windows(4).any(|w| w == b"\r\n\r\n") {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n").unwrap();
            String::from_utf8_lossy(&got).into_owned()
        });
        let url = format!("http://ops:p%40ss@{addr}/hook?token=t");
        assert_eq!(post(&url, &[], b"{}", Duration::from_secs(5)), Ok(204));
        // Header names are case-insensitive (hyper writes them in lower case).
        let request = server.join().unwrap().to_ascii_lowercase();
        // "ops:p@ss" in base64.
        assert!(
            request.contains("authorization: basic b3bzonbac3m="),
            "{request}"
        );
        assert!(
            request.starts_with("post /hook?token=t http/1.1"),
            "{request}"
        );
        assert!(request.contains(&format!("host: {addr}")), "{request}");
        let e = post(
            "http://ops:secret@127.0.0.1:1/x",
            &[],
            b"{}",
            Duration::from_secs(2),
        )
        .unwrap_err();
        assert!(!e.contains("secret") && e.contains("…@127.0.0.1:1"), "{e}");
    }

    #[test]
    fn a_trickling_webhook_is_cut_off_at_the_deadline() {
        // A status line, then a header that never ends.
        let addr = crate::net::tests::trickler(
            b"HTTP/1.1 200 OK\r\nX-Slow: ",
            Duration::from_millis(100),
            300,
        );
        let started = Instant::now();
        let e = post(
            &format!("http://{addr}/hook"),
            &[],
            b"{}",
            Duration::from_millis(800),
        )
        .unwrap_err();
        crate::net::tests::assert_ended_quickly(started);
        assert!(e.contains("timed out"), "{e}");
    }
}
