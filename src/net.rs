//! Network exchanges bounded by an overall deadline, not only per read: a peer that trickles a
//! byte every few seconds, a name lookup that never answers, or a server that accepts and then
//! says nothing can hold a tick only until its deadline. Every outgoing connection certdeck makes
//! (webhooks, SMS gateways, SMTP, validation fetches, DNS, TLS probes) goes through here.
use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// A rustls client configuration (ring) trusting the Mozilla roots and, for a private CA, the
/// certificates of `extra_root_pem`: what webhooks, SMS gateways and ACME directories use.
pub fn tls_client_config(extra_root_pem: Option<&str>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(pem) = extra_root_pem {
        let blocks = crate::domain::pem::scan(pem).map_err(|e| e.message)?;
        let mut added = 0;
        for b in blocks.into_iter().filter(|b| b.label == "CERTIFICATE") {
            roots
                .add(rustls::pki_types::CertificateDer::from(b.der))
                .map_err(|e| e.to_string())?;
            added += 1;
        }
        if added == 0 {
            return Err("no BEGIN CERTIFICATE block".into());
        }
    }
    Ok(
        rustls::ClientConfig::builder_with_provider(std::sync::Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth(),
    )
}

/// The time left before `deadline`, or a `TimedOut` error once it has passed.
pub fn remaining(deadline: Instant) -> io::Result<Duration> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "timed out (overall deadline passed)",
        ))
    } else {
        Ok(left)
    }
}

/// A TCP stream whose every read and write is limited to the time left before one deadline.
pub struct DeadlineStream {
    inner: TcpStream,
    deadline: Instant,
}

impl DeadlineStream {
    pub fn deadline(&self) -> Instant {
        self.deadline
    }
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner
            .set_read_timeout(Some(remaining(self.deadline)?))?;
        self.inner.read(buf).map_err(timed_out)
    }
}

impl Write for DeadlineStream {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner
            .set_write_timeout(Some(remaining(self.deadline)?))?;
        self.inner.write(buf).map_err(timed_out)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A socket timeout reads as "Resource temporarily unavailable" (EAGAIN); say what it was.
fn timed_out(e: io::Error) -> io::Error {
    if e.kind() == io::ErrorKind::WouldBlock {
        io::Error::new(io::ErrorKind::TimedOut, "timed out")
    } else {
        e
    }
}

/// `host`'s addresses. getaddrinfo cannot be interrupted, so a name is looked up on its own
/// thread and abandoned (it ends by itself) when the deadline passes first.
pub fn resolve(host: &str, port: u16, deadline: Instant) -> io::Result<Vec<SocketAddr>> {
    let bare = host.trim_matches(['[', ']']);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(vec![SocketAddr::new(ip, port)]);
    }
    let name = bare.to_string();
    let found = within(deadline, move || {
        (name.as_str(), port)
            .to_socket_addrs()
            .map(Iterator::collect::<Vec<_>>)
    })
    .ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::TimedOut,
            format!("looking up {bare} timed out"),
        )
    })??;
    if found.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::NotFound,
            format!("{bare} has no address"),
        ));
    }
    Ok(found)
}

/// Connects to `addr` within the deadline.
pub fn connect_addr(addr: SocketAddr, deadline: Instant) -> io::Result<DeadlineStream> {
    let inner = TcpStream::connect_timeout(&addr, remaining(deadline)?)?;
    Ok(DeadlineStream { inner, deadline })
}

/// Looks `host` up and connects to the first address that answers, all within the deadline.
pub fn connect(host: &str, port: u16, deadline: Instant) -> io::Result<DeadlineStream> {
    let mut last = None;
    for addr in resolve(host, port, deadline)? {
        match connect_addr(addr, deadline) {
            Ok(s) => return Ok(s),
            Err(e) => last = Some(e),
        }
        if remaining(deadline).is_err() {
            break;
        }
    }
    Err(last.unwrap_or_else(|| io::Error::new(io::ErrorKind::TimedOut, "timed out")))
}

/// Runs `work` on its own thread and returns its result, or `None` when the deadline passes
/// first. For libraries whose I/O cannot be given a deadline (getaddrinfo, lettre's blocking
/// SMTP client): the caller goes on; the abandoned thread ends when its own timeouts fire.
pub fn within<T: Send + 'static>(
    deadline: Instant,
    work: impl FnOnce() -> T + Send + 'static,
) -> Option<T> {
    let (tx, rx) = mpsc::sync_channel(1);
    std::thread::Builder::new()
        .name("certdeck-net".into())
        .spawn(move || {
            let _ = tx.send(work());
        })
        .ok()?;
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .ok()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A peer that accepts and then sends one byte every `every`, up to `count` bytes: per-read
    /// timeouts never fire on it.
    pub(crate) fn trickler(first: &'static [u8], every: Duration, count: usize) -> SocketAddr {
        let l = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            for s in l.incoming().take(4) {
                let Ok(mut s) = s else { continue };
                std::thread::spawn(move || {
                    let _ = s.write_all(first);
                    for _ in 0..count {
                        std::thread::sleep(every);
                        if s.write_all(b"x").is_err() {
                            break;
                        }
                    }
                });
            }
        });
        addr
    }

    /// Fails unless what started at `started` ended well within 3 s (deadlines under 1 s).
    pub(crate) fn assert_ended_quickly(started: Instant) {
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "took {:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_trickling_peer_is_cut_off_at_the_deadline() {
        let addr = trickler(b"", Duration::from_millis(100), 200);
        let started = Instant::now();
        let mut s = connect_addr(addr, Instant::now() + Duration::from_millis(700)).unwrap();
        let mut all = Vec::new();
        let e = s.read_to_end(&mut all).unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::TimedOut);
        assert!(!all.is_empty(), "bytes did arrive before the deadline");
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn within_gives_up_on_slow_work() {
        let started = Instant::now();
        let r = within(Instant::now() + Duration::from_millis(200), || {
            std::thread::sleep(Duration::from_secs(5));
            1
        });
        assert_eq!(r, None);
        assert!(started.elapsed() < Duration::from_secs(1));
        assert_eq!(
            within(Instant::now() + Duration::from_secs(5), || 2),
            Some(2)
        );
    }

    #[test]
    fn ip_literals_resolve_without_a_lookup() {
        let past = Instant::now();
        assert_eq!(
            resolve("[::1]", 443, past + Duration::from_secs(1)).unwrap(),
            vec!["[::1]:443".parse().unwrap()]
        );
    }
}
