//! The built-in http-01 listener (AC-3 `--http-listen`): answers
//! `GET /.well-known/acme-challenge/TOKEN` with its key authorization, 404 otherwise. Orders
//! running at once (renewals falling due together) share one listener per address; it stops
//! when the last of them is done.
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

type Tokens = Arc<Mutex<BTreeMap<String, String>>>;

struct Shared {
    addr: SocketAddr,
    tokens: Tokens,
    stop: Arc<AtomicBool>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = std::net::TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.lock().ok().and_then(|mut t| t.take()) {
            let _ = t.join();
        }
    }
}

/// Listeners running now, by address.
static RUNNING: Mutex<Vec<(SocketAddr, Weak<Shared>)>> = Mutex::new(Vec::new());

/// One order's tokens on a shared listener, withdrawn when dropped.
pub struct Answers {
    shared: Arc<Shared>,
    mine: Vec<String>,
}

impl Answers {
    pub fn answer(&mut self, token: &str, key_authorization: &str) {
        if let Ok(mut t) = self.shared.tokens.lock() {
            t.insert(token.to_string(), key_authorization.to_string());
            self.mine.push(token.to_string());
        }
    }
}

impl Drop for Answers {
    fn drop(&mut self) {
        if let Ok(mut t) = self.shared.tokens.lock() {
            for token in &self.mine {
                t.remove(token);
            }
        }
    }
}

/// Answers on `addr`: the listener already there, or a new one.
pub fn answering_on(addr: SocketAddr) -> Result<Answers, String> {
    let mut running = RUNNING.lock().map_err(|_| "listener registry poisoned")?;
    running.retain(|(_, w)| w.strong_count() > 0);
    if let Some(shared) = running
        .iter()
        .find(|(a, _)| *a == addr)
        .and_then(|(_, w)| w.upgrade())
    {
        return Ok(Answers {
            shared,
            mine: Vec::new(),
        });
    }
    // A listener just stopped may still hold the port for a moment.
    let mut bound = std::net::TcpListener::bind(addr);
    for _ in 0..20 {
        if bound.is_ok() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
        bound = std::net::TcpListener::bind(addr);
    }
    let l = bound.map_err(|e| format!("--http-listen {addr}: {e}"))?;
    let bound_addr = l.local_addr().map_err(|e| e.to_string())?;
    let tokens: Tokens = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let thread = {
        let (tokens, stop) = (tokens.clone(), stop.clone());
        std::thread::Builder::new()
            .name("certdeck-http01".into())
            .spawn(move || serve(l, tokens, stop))
            .map_err(|e| e.to_string())?
    };
    let shared = Arc::new(Shared {
        addr: bound_addr,
        tokens,
        stop,
        thread: Mutex::new(Some(thread)),
    });
    running.push((addr, Arc::downgrade(&shared)));
    Ok(Answers {
        shared,
        mine: Vec::new(),
    })
}

fn serve(l: std::net::TcpListener, tokens: Tokens, stop: Arc<AtomicBool>) {
    for conn in l.incoming() {
        if stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(mut s) = conn else { continue };
        let _ = s.set_write_timeout(Some(Duration::from_secs(5)));
        // The request line may come in pieces: read to the end of the head (at most 2 KiB,
        // 5 s).
        let mut buf = [0u8; 2048];
        let mut n = 0;
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while n < buf.len() && !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
            let Ok(left) = crate::net::remaining(deadline) else {
                break;
            };
            let _ = s.set_read_timeout(Some(left));
            match s.read(&mut buf[n..]) {
                Ok(0) | Err(_) => break,
                Ok(k) => n += k,
            }
        }
        let head = String::from_utf8_lossy(&buf[..n]);
        let path = head.split_whitespace().nth(1).unwrap_or("");
        let answer = path
            .strip_prefix("/.well-known/acme-challenge/")
            .and_then(|t| tokens.lock().ok()?.get(t).cloned());
        let reply = match answer {
            Some(body) => format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                body.len()
            ),
            None => {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
            }
        };
        let _ = s.write_all(reply.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(addr: SocketAddr, token: &str) -> String {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        write!(
            s,
            "GET /.well-known/acme-challenge/{token} HTTP/1.1\r\nHost: x\r\n\r\n"
        )
        .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        out
    }

    #[test]
    fn rule_ac3_orders_at_once_share_one_listener_and_each_withdraws_its_own_tokens() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        let mut a = answering_on(addr).unwrap();
        let mut b = answering_on(addr).expect("the second order joins the first's listener");
        a.answer("ta", "ka");
        b.answer("tb", "kb");
        assert!(get(addr, "ta").ends_with("\r\n\r\nka"));
        assert!(get(addr, "tb").ends_with("\r\n\r\nkb"));
        drop(a);
        assert!(get(addr, "ta").starts_with("HTTP/1.1 404"), "withdrawn");
        assert!(
            get(addr, "tb").ends_with("kb"),
            "the other order's token stays"
        );
        drop(b);
        // The last one gone, the port is free again and a new order listens afresh.
        let mut c = answering_on(addr).unwrap();
        c.answer("tc", "kc");
        assert!(get(addr, "tc").ends_with("kc"));
    }
}
