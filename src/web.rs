//! HTTP for webhooks and validation checks on the same hyper + rustls (ring) stack ACME uses:
//! one exchange at a time on a small current-thread runtime, the whole of it (lookup, connect,
//! TLS, request, answer, body) bounded by one deadline, bodies capped, redirects followed only
//! where asked and at most a few times.
use bytes::Bytes;
use std::net::SocketAddr;
use std::time::Instant;

pub struct Response {
    pub status: u16,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

pub struct Request<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

struct Target {
    tls: bool,
    host: String,
    port: u16,
    /// Path and query.
    path: String,
}

fn target(url: &str) -> Result<Target, String> {
    let uri: http::Uri = url.parse().map_err(|_| "not a URL".to_string())?;
    let tls = match uri.scheme_str() {
        Some("https") => true,
        Some("http") => false,
        _ => return Err("only http:// and https:// URLs".into()),
    };
    let host = uri
        .host()
        .ok_or("no host")?
        .trim_matches(['[', ']'])
        .to_string();
    Ok(Target {
        tls,
        port: uri.port_u16().unwrap_or(if tls { 443 } else { 80 }),
        path: uri
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        host,
    })
}

/// One request and its answer. `connect_to` sends the connection there whatever the host
/// (CERTDECK_VALIDATION_HTTP); `max_body` caps what is read of the answer.
pub fn exchange(
    req: &Request,
    connect_to: Option<SocketAddr>,
    deadline: Instant,
    max_body: usize,
) -> Result<Response, String> {
    // Called from inside an async exchange (an ACME order's own check of its token), the
    // request runs on a thread of its own: a runtime cannot block inside another.
    if tokio::runtime::Handle::try_current().is_ok() {
        return std::thread::scope(|s| {
            s.spawn(|| exchange_blocking(req, connect_to, deadline, max_body))
                .join()
                .unwrap_or_else(|_| Err("the HTTP exchange stopped unexpectedly".into()))
        });
    }
    exchange_blocking(req, connect_to, deadline, max_body)
}

fn exchange_blocking(
    req: &Request,
    connect_to: Option<SocketAddr>,
    deadline: Instant,
    max_body: usize,
) -> Result<Response, String> {
    let t = target(req.url)?;
    let left = crate::net::remaining(deadline).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(async {
        match tokio::time::timeout(left, exchange_async(req, &t, connect_to, max_body)).await {
            Ok(r) => r,
            Err(_) => Err(format!(
                "no complete answer within {} ms (timed out)",
                left.as_millis()
            )),
        }
    })
}

async fn exchange_async(
    req: &Request<'_>,
    t: &Target,
    connect_to: Option<SocketAddr>,
    max_body: usize,
) -> Result<Response, String> {
    let addr = match connect_to {
        Some(a) => a,
        None => tokio::net::lookup_host((t.host.as_str(), t.port))
            .await
            .map_err(|e| format!("{}: {e}", t.host))?
            .next()
            .ok_or_else(|| format!("{}: no address", t.host))?,
    };
    let tcp = tokio::net::TcpStream::connect(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let default_port = if t.tls { 443 } else { 80 };
    let host_header = if t.port == default_port {
        t.host.clone()
    } else if t.host.contains(':') {
        format!("[{}]:{}", t.host, t.port)
    } else {
        format!("{}:{}", t.host, t.port)
    };
    let mut builder = http::Request::builder()
        .method(req.method)
        .uri(&t.path)
        .header(http::header::HOST, host_header)
        .header(http::header::USER_AGENT, "certdeck")
        .header(http::header::CONNECTION, "close");
    for (k, v) in req.headers {
        builder = builder.header(k.as_str(), v.as_str());
    }
    let request = builder
        .body(http_body(req.body))
        .map_err(|e| e.to_string())?;
    if t.tls {
        let config = std::sync::Arc::new(crate::net::tls_client_config(None)?);
        let name = rustls::pki_types::ServerName::try_from(t.host.clone())
            .map_err(|e| format!("{}: {e}", t.host))?;
        let tls = tokio_rustls::TlsConnector::from(config)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("{}: {e}", t.host))?;
        send(tls, request, max_body).await
    } else {
        send(tcp, request, max_body).await
    }
}

fn http_body(body: &[u8]) -> instant_acme::BodyWrapper<Bytes> {
    instant_acme::BodyWrapper::from(body.to_vec())
}

async fn send<S>(
    io: S,
    request: http::Request<instant_acme::BodyWrapper<Bytes>>,
    max_body: usize,
) -> Result<Response, String>
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    use hyper::body::Body;
    let (mut sender, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(io))
            .await
            .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let rsp = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = rsp.status().as_u16();
    let location = rsp
        .headers()
        .get(http::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut body = rsp.into_body();
    let mut out = Vec::new();
    while out.len() < max_body {
        let frame = std::future::poll_fn(|cx| std::pin::Pin::new(&mut body).poll_frame(cx)).await;
        match frame {
            None => break,
            Some(Err(e)) => return Err(e.to_string()),
            Some(Ok(f)) => {
                if let Ok(data) = f.into_data() {
                    out.extend_from_slice(&data);
                }
            }
        }
    }
    out.truncate(max_body);
    driver.abort();
    Ok(Response {
        status,
        location,
        body: out,
    })
}

/// GETs `url`, following up to `max_redirects` redirects (to http or https, relative or not),
/// as a CA's validation does. Returns the last answer.
pub fn get_following(
    url: &str,
    connect_to: Option<SocketAddr>,
    deadline: Instant,
    max_body: usize,
    max_redirects: usize,
) -> Result<Response, String> {
    let mut url = url.to_string();
    for _ in 0..=max_redirects {
        let rsp = exchange(
            &Request {
                method: "GET",
                url: &url,
                headers: &[],
                body: &[],
            },
            connect_to,
            deadline,
            max_body,
        )?;
        match (&rsp.location, rsp.status) {
            (Some(next), 301 | 302 | 303 | 307 | 308) => url = resolve(&url, next)?,
            _ => return Ok(rsp),
        }
    }
    Err(format!("more than {max_redirects} redirects from {url}"))
}

/// A Location header against the URL it came from.
fn resolve(base: &str, location: &str) -> Result<String, String> {
    if location.starts_with("http://") || location.starts_with("https://") {
        return Ok(location.to_string());
    }
    let t = target(base)?;
    let origin = format!(
        "{}://{}:{}",
        if t.tls { "https" } else { "http" },
        t.host,
        t.port
    );
    Ok(if location.starts_with('/') {
        format!("{origin}{location}")
    } else {
        let dir = t.path.rsplit_once('/').map(|(d, _)| d).unwrap_or("");
        format!("{origin}{dir}/{location}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_resolve_absolute_rooted_and_relative() {
        assert_eq!(
            resolve("http://a.test/.well-known/x", "https://b.test/y").unwrap(),
            "https://b.test/y"
        );
        assert_eq!(
            resolve("http://a.test/.well-known/x", "/z").unwrap(),
            "http://a.test:80/z"
        );
        assert_eq!(
            resolve("http://a.test:8080/d/x", "y").unwrap(),
            "http://a.test:8080/d/y"
        );
    }
}
