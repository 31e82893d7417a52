//! A small HTTP/1.1 POST for webhooks: plain TCP for `http://`, rustls with the Mozilla roots
//! for `https://`, the whole exchange (lookup, connect, TLS, request, status line) within one
//! deadline, the response read only as far as its status line.
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

struct Url {
    tls: bool,
    host: String,
    port: u16,
    path: String,
}

fn parse(url: &str) -> Result<Url, String> {
    let shown = crate::domain::rules::alarm::redacted_url(url);
    let (tls, rest) = if let Some(r) = url.strip_prefix("https://") {
        (true, r)
    } else if let Some(r) = url.strip_prefix("http://") {
        (false, r)
    } else {
        return Err(format!("{shown}: only http:// and https:// URLs"));
    };
    let (authority, path) = match rest.find(['/', '?']) {
        Some(i) if rest.as_bytes()[i] == b'?' => (&rest[..i], format!("/{}", &rest[i..])),
        Some(i) => (&rest[..i], rest[i..].to_string()),
        None => (rest, "/".to_string()),
    };
    // `user:password@` is sent as basic authentication (post), never as part of the host.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (
            h.to_string(),
            p.parse().map_err(|_| format!("{shown}: bad port"))?,
        ),
        _ => (authority.to_string(), if tls { 443 } else { 80 }),
    };
    Ok(Url {
        tls,
        host: host.trim_matches(['[', ']']).to_string(),
        port,
        path,
    })
}

/// Reads until the status line is complete (it may come in pieces) or `head` is full.
fn status_line(r: &mut impl Read, head: &mut [u8]) -> std::io::Result<usize> {
    let mut n = 0;
    while n < head.len() && !head[..n].contains(&b'\n') {
        match r.read(&mut head[n..])? {
            0 => break,
            got => n += got,
        }
    }
    Ok(n)
}

/// POSTs `body` and returns the response status code; `timeout` bounds the whole exchange.
pub fn post(
    url: &str,
    headers: &[(String, String)],
    body: &[u8],
    timeout: Duration,
) -> Result<u16, String> {
    // Errors end up in the outbox and on screen: a robot's access token in the query must not.
    let shown = crate::domain::rules::alarm::redacted_url(url);
    let u = parse(url)?;
    let deadline = Instant::now() + timeout;
    let sock =
        crate::net::connect(&u.host, u.port, deadline).map_err(|e| format!("{shown}: {e}"))?;
    let mut request = format!(
        "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\nConnection: close\r\nUser-Agent: certdeck\r\n",
        u.path,
        u.host,
        body.len()
    );
    if let Some((user, password)) = crate::domain::rules::alarm::url_credentials(url) {
        let token = crate::domain::pem::base64(format!("{user}:{password}").as_bytes());
        request.push_str(&format!("Authorization: Basic {token}\r\n"));
    }
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    request.push_str("\r\n");
    let mut head = [0u8; 256];
    let n = if u.tls {
        let config = crate::net::tls_client_config(None)?;
        let name = rustls::pki_types::ServerName::try_from(u.host.clone())
            .map_err(|e| format!("{shown}: {e}"))?;
        let conn =
            rustls::ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
        let mut tls = rustls::StreamOwned::new(conn, sock);
        tls.write_all(request.as_bytes())
            .and_then(|_| tls.write_all(body))
            .map_err(|e| format!("{shown}: {e}"))?;
        status_line(&mut tls, &mut head).map_err(|e| format!("{shown}: {e}"))?
    } else {
        let mut sock = sock;
        sock.write_all(request.as_bytes())
            .and_then(|_| sock.write_all(body))
            .map_err(|e| format!("{shown}: {e}"))?;
        status_line(&mut sock, &mut head).map_err(|e| format!("{shown}: {e}"))?
    };
    let line = String::from_utf8_lossy(&head[..n]);
    line.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| format!("{shown}: not an HTTP answer"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let request = server.join().unwrap();
        // "ops:p@ss" in base64.
        assert!(
            request.contains("Authorization: Basic b3BzOnBAc3M="),
            "{request}"
        );
        assert!(
            request.starts_with("POST /hook?token=t HTTP/1.1"),
            "{request}"
        );
        assert!(
            request.contains(&format!("Host: {}", addr.ip())),
            "{request}"
        );
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
        let addr = crate::net::tests::trickler(b"", Duration::from_millis(100), 300);
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
