//! Prometheus and promtool (Debian's package, unpacked by scripts/test under target/tools), and
//! a plain HTTP GET for the service's endpoints.
use std::io::{Read, Write};
use std::path::PathBuf;
use std::time::Duration;

/// `promtool` or `prometheus`: from $CERTDECK_PROMETHEUS_BIN, target/tools, or the PATH.
pub fn bin(name: &str) -> PathBuf {
    let candidates = [
        std::env::var_os("CERTDECK_PROMETHEUS_BIN").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/tools/prometheus/usr/bin")),
        Some(PathBuf::from("/usr/bin")),
    ];
    candidates
        .into_iter()
        .flatten()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found: run scripts/test, which unpacks it"))
}

/// GET `path` from `addr`: (status, body), or `None` when nothing answers.
pub fn get(addr: &str, path: &str) -> Option<(u16, String)> {
    let mut s =
        std::net::TcpStream::connect_timeout(&addr.parse().ok()?, Duration::from_secs(2)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let code = text.split(' ').nth(1)?.parse().ok()?;
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())?;
    Some((code, body))
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
