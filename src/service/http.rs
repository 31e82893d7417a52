//! `/metrics` and `/healthz` over plain HTTP/1.1 (SV-3, SV-4): two GET endpoints, so a small
//! blocking server with hard bounds (request size, read and write deadlines, connections at
//! once) rather than a web framework.
use crate::engine::Engine;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A request line and headers larger than this are refused.
const MAX_REQUEST: usize = 8 * 1024;
/// The whole request must arrive within this.
const READ_DEADLINE: Duration = Duration::from_secs(5);
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections served at once; more are closed at once (a scraper retries).
const MAX_CONNECTIONS: usize = 32;

/// Serves `listener` for ever on its own threads; `period` is the tick period `/healthz`
/// judges by.
pub fn spawn(listener: TcpListener, engine: Arc<Engine>, period: Duration) -> std::io::Result<()> {
    let open = Arc::new(AtomicUsize::new(0));
    std::thread::Builder::new()
        .name("certdeck-http".into())
        .spawn(move || {
            for conn in listener.incoming() {
                let Ok(stream) = conn else { continue };
                if open.fetch_add(1, Ordering::SeqCst) >= MAX_CONNECTIONS {
                    open.fetch_sub(1, Ordering::SeqCst);
                    continue;
                }
                let (engine, open) = (Arc::clone(&engine), Arc::clone(&open));
                let spawned = std::thread::Builder::new()
                    .name("certdeck-http-conn".into())
                    .spawn(move || {
                        let _ = handle(stream, &engine, period);
                        open.fetch_sub(1, Ordering::SeqCst);
                    });
                if spawned.is_err() {
                    // The closure (and its count) was dropped with the error.
                    super::log(super::Level::Warning, "could not start a connection thread");
                }
            }
        })?;
    Ok(())
}

/// The request's method and path, read within the deadline and the size bound.
fn read_request(stream: &mut TcpStream) -> Option<(String, String)> {
    let deadline = Instant::now() + READ_DEADLINE;
    let mut buf = Vec::with_capacity(512);
    let mut chunk = [0u8; 1024];
    while !buf.windows(4).any(|w| w == b"\r\n\r\n") && !buf.windows(2).any(|w| w == b"\n\n") {
        let left = deadline.checked_duration_since(Instant::now())?;
        stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))
            .ok()?;
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 || buf.len() + n > MAX_REQUEST {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let line = buf.split(|b| *b == b'\n').next()?;
    let line = std::str::from_utf8(line).ok()?.trim_end();
    let mut parts = line.split(' ');
    Some((parts.next()?.to_string(), parts.next()?.to_string()))
}

fn handle(mut stream: TcpStream, engine: &Engine, period: Duration) -> std::io::Result<()> {
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let Some((method, path)) = read_request(&mut stream) else {
        return respond(&mut stream, 400, "text/plain", b"bad request\n");
    };
    let path = path.split('?').next().unwrap_or("");
    if method != "GET" {
        return respond(&mut stream, 405, "text/plain", b"only GET\n");
    }
    match path {
        "/metrics" => match engine.metrics_parts() {
            Ok(parts) => {
                let sent = respond_parts(
                    &mut stream,
                    200,
                    "text/plain; version=0.0.4; charset=utf-8",
                    &parts,
                );
                drop(parts);
                // A /metrics of 100,000 certificates builds ~200 MB of short-lived data: between
                // scrapes the service keeps only what it needs.
                crate::memory::give_back();
                sent
            }
            Err(e) => {
                super::log(super::Level::Error, &format!("metrics: {e}"));
                respond(&mut stream, 500, "text/plain", format!("{e}\n").as_bytes())
            }
        },
        "/healthz" => {
            let now = engine.clock().now();
            let last = engine.last_tick();
            let period = chrono::Duration::from_std(period).unwrap_or(chrono::Duration::seconds(1));
            if crate::domain::health::ticks_on_time(last, now, period) {
                respond(&mut stream, 200, "text/plain", b"ok\n")
            } else {
                let why = match last {
                    Some(t) => format!(
                        "the last tick was {:.1} s ago (SV-4: at most two periods)\n",
                        now.signed_duration_since(t).num_milliseconds() as f64 / 1000.0
                    ),
                    None => "no tick has run yet (SV-4)\n".to_string(),
                };
                respond(&mut stream, 503, "text/plain", why.as_bytes())
            }
        }
        _ => respond(
            &mut stream,
            404,
            "text/plain",
            b"not found: /metrics or /healthz\n",
        ),
    }
}

fn respond(stream: &mut TcpStream, code: u16, kind: &str, body: &[u8]) -> std::io::Result<()> {
    respond_parts(stream, code, kind, &[body])
}

/// A response whose body is `parts`, one after the other.
fn respond_parts(
    stream: &mut TcpStream,
    code: u16,
    kind: &str,
    parts: &[impl AsRef<[u8]>],
) -> std::io::Result<()> {
    let reason = match code {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        503 => "Service Unavailable",
        _ => "Internal Server Error",
    };
    let head = format!(
        "HTTP/1.1 {code} {reason}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        parts.iter().map(|p| p.as_ref().len()).sum::<usize>()
    );
    stream.write_all(head.as_bytes())?;
    for p in parts {
        stream.write_all(p.as_ref())?;
    }
    stream.flush()
}
