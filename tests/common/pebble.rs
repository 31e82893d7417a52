//! A real pebble (Debian's 2.4) on loopback for the ACME tests: its own listener certificate (a
//! non-CA leaf for `localhost` under a test root, which the client trusts with `--root`), free
//! ports, killed when dropped. Tests skip with a message when pebble is not installed;
//! `scripts/test` installs it.
use certdeck::ca::pki::{Authority, KeyKind};
use chrono::{Duration, Utc};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub struct Pebble {
    child: Child,
    /// pebble-challtestsrv: the DNS pebble's VA asks (every name is 127.0.0.1).
    dns: Option<Child>,
    /// The port pebble's VA fetches http-01 tokens from (certdeck's `--http-listen` port).
    pub http_port: u16,
    /// challtestsrv's DNS (`CERTDECK_RESOLVER`) and management API (`/set-txt`, `/clear-txt`).
    pub dns_addr: Option<String>,
    pub dns_management: Option<String>,
    pub directory: String,
    /// The test root the listener certificate chains to (for `--root`).
    pub root_pem: PathBuf,
    pub management: String,
    _dir: tempfile::TempDir,
}

impl Drop for Pebble {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if let Some(dns) = &mut self.dns {
            let _ = dns.kill();
            let _ = dns.wait();
        }
    }
}

/// Waits (10 s at most) until `port` accepts; `false` when `child` ended first (a port taken
/// by a test beside it between choosing and binding: the caller tries other ports).
fn wait_for_port(port: u16, what: &str, child: &mut std::process::Child) -> bool {
    let started = std::time::Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        if !matches!(child.try_wait(), Ok(None)) {
            return false;
        }
        assert!(
            started.elapsed() < std::time::Duration::from_secs(10),
            "{what} did not start"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    true
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A free port below Linux's ephemeral range (32768+), for a port that stays unbound until a
/// later command binds it (the http-01 port): a port 0 bind elsewhere in the test run can never
/// be handed it meanwhile.
fn free_low_port() -> u16 {
    use std::sync::atomic::{AtomicU16, Ordering};
    static NEXT: AtomicU16 = AtomicU16::new(0);
    let start = 20_000 + (std::process::id() % 6_000) as u16 * 2;
    NEXT.compare_exchange(0, start, Ordering::SeqCst, Ordering::SeqCst)
        .ok();
    for _ in 0..12_000 {
        let p = NEXT.fetch_add(1, Ordering::SeqCst);
        let p = 20_000 + (p - 20_000) % 12_000;
        if std::net::TcpListener::bind(("127.0.0.1", p)).is_ok() {
            return p;
        }
    }
    free_port()
}

pub fn installed() -> bool {
    std::path::Path::new("/usr/bin/pebble").exists()
}

/// Options of one pebble.
#[derive(Default)]
pub struct Options {
    /// key id → unpadded base64url HMAC key; External Account Binding is then required.
    pub eab: Vec<(String, String)>,
    /// Validate for real: pebble's VA resolves every name to 127.0.0.1 through a
    /// pebble-challtestsrv and fetches http-01 tokens from `http_port`.
    pub validate: bool,
    /// Validate dns-01 against this DNS server (HOST:PORT, e.g. a bind9) instead of a
    /// pebble-challtestsrv.
    pub dns_server: Option<String>,
    /// `certificateValidityPeriod` in seconds (pebble's default: 5 years).
    pub validity_secs: Option<u64>,
}

impl Pebble {
    /// Starts pebble (and its DNS). Ports are picked free but may be taken by another test in
    /// between: a pebble or challtestsrv that exits at once is started again on other ports.
    pub fn start(opts: Options) -> Pebble {
        for _ in 0..5 {
            let Some(mut p) = Pebble::start_once(&opts) else {
                continue;
            };
            std::thread::sleep(std::time::Duration::from_millis(150));
            let pebble_up = matches!(p.child.try_wait(), Ok(None));
            let dns_up = match &mut p.dns {
                Some(d) => matches!(d.try_wait(), Ok(None)),
                None => true,
            };
            if pebble_up && dns_up {
                return p;
            }
        }
        panic!("pebble did not stay up on five sets of ports");
    }

    fn start_once(opts: &Options) -> Option<Pebble> {
        let dir = tempfile::tempdir().unwrap();
        let now = Utc::now();
        let root = Authority::root(
            "pebble listener root",
            "certdeck tests",
            KeyKind::P256,
            now - Duration::days(1),
            now + Duration::days(30),
        );
        let leaf = root.issue(
            &["localhost"],
            KeyKind::P256,
            now - Duration::days(1),
            now + Duration::days(30),
        );
        let cert = dir.path().join("listener.pem");
        let key = dir.path().join("listener.key");
        let root_pem = dir.path().join("root.pem");
        std::fs::write(&cert, &leaf.cert_pem).unwrap();
        std::fs::write(&key, &leaf.key_pem).unwrap();
        std::fs::write(&root_pem, root.pem()).unwrap();
        let (port, mgmt, http_port) = (free_port(), free_port(), free_low_port());
        let dns_mgmt = free_port();
        let (dns, dns_port) = if opts.validate && opts.dns_server.is_none() {
            let dns_port = free_port();
            let child = Command::new("/usr/bin/pebble-challtestsrv")
                .args(["-dns01", &format!("127.0.0.1:{dns_port}")])
                .args(["-http01", "", "-https01", "", "-tlsalpn01", ""])
                .args(["-management", &format!("127.0.0.1:{dns_mgmt}")])
                .args(["-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("pebble-challtestsrv starts");
            (Some(child), Some(dns_port))
        } else {
            (None, None)
        };
        let macs: serde_json::Map<String, serde_json::Value> = opts
            .eab
            .iter()
            .map(|(k, v)| (k.clone(), serde_json::Value::String(v.clone())))
            .collect();
        let mut config = serde_json::json!({"pebble": {
            "listenAddress": format!("127.0.0.1:{port}"),
            "managementListenAddress": format!("127.0.0.1:{mgmt}"),
            "certificate": cert,
            "privateKey": key,
            "httpPort": http_port,
            "tlsPort": free_port(),
            "ocspResponderURL": "",
            "externalAccountBindingRequired": !opts.eab.is_empty(),
            "externalAccountMACKeys": macs,
        }});
        if let Some(secs) = opts.validity_secs {
            config["pebble"]["certificateValidityPeriod"] = secs.into();
        }
        let config_path = dir.path().join("pebble.json");
        std::fs::write(&config_path, config.to_string()).unwrap();
        let mut command = Command::new("/usr/bin/pebble");
        command
            .arg("-config")
            .arg(&config_path)
            .arg("-strict=false")
            .env("PEBBLE_VA_NOSLEEP", "1")
            // Every order gets fresh authorizations (pebble reuses valid ones half the time by
            // default), so what a test sees does not depend on a coin toss.
            .env("PEBBLE_AUTHZREUSE", "0");
        if let Some(server) = &opts.dns_server {
            command.args(["-dnsserver", server]);
        } else if let Some(p) = dns_port {
            command.args(["-dnsserver", &format!("127.0.0.1:{p}")]);
        }
        let mut child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pebble starts");
        let mut dns = dns;
        // Ready when its ports accept (bounded: 10 s each).
        let mut up = wait_for_port(port, "pebble", &mut child);
        if let (Some(p), Some(d)) = (dns_port, dns.as_mut()) {
            // challtestsrv's DNS is UDP and TCP; its TCP port says it is up.
            up = up
                && wait_for_port(p, "pebble-challtestsrv", d)
                && wait_for_port(dns_mgmt, "pebble-challtestsrv management", d);
        }
        if !up {
            let _ = child.kill();
            let _ = child.wait();
            if let Some(d) = dns.as_mut() {
                let _ = d.kill();
                let _ = d.wait();
            }
            return None;
        }
        Some(Pebble {
            child,
            dns,
            http_port,
            dns_addr: dns_port.map(|p| format!("127.0.0.1:{p}")),
            dns_management: dns_port.map(|_| format!("http://127.0.0.1:{dns_mgmt}")),
            directory: format!("https://localhost:{port}/dir"),
            root_pem,
            management: format!("https://localhost:{mgmt}"),
            _dir: dir,
        })
    }
}
