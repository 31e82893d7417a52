//! Shared helpers: a temporary database and key file, the real binary, generated certificates.
#![allow(dead_code)]
pub mod bind;
pub mod nginx;
pub mod pebble;
pub mod prometheus;
pub mod smtp;
pub mod tmux;
use certdeck::ca::pki::{Authority, Issued, KeyKind};
use chrono::{Duration, Utc};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

pub struct Env {
    pub dir: tempfile::TempDir,
    /// With `CERTDECK_TEST_THROUGH_SERVICE=1`: the `serve` CLI commands go through (SV-1).
    service: std::sync::Mutex<Option<Child>>,
}

/// `CERTDECK_TEST_THROUGH_SERVICE=1` runs the CLI tests a second way: every command that can
/// goes through a `certdeck serve --no-tick` on the test's database, started when needed (the
/// timed rules still run only when a test runs `tick`). Commands that cannot — with their own
/// `--now` or environment, `db`, `serve`, or while the test itself holds the database — stop it
/// and run by themselves, as a user's would.
fn through_service() -> bool {
    std::env::var_os("CERTDECK_TEST_THROUGH_SERVICE").is_some_and(|v| v == "1")
}

impl Drop for Env {
    fn drop(&mut self) {
        self.stop_service();
    }
}

impl Env {
    pub fn new() -> Env {
        Env {
            dir: tempfile::tempdir().unwrap(),
            service: std::sync::Mutex::new(None),
        }
    }

    /// Starts or stops this test's service for a command with `args` (and extra environment).
    fn prepare(&self, args: &[&str], own_environment: bool) {
        if !through_service() {
            return;
        }
        let by_itself = own_environment
            || args
                .iter()
                .any(|a| *a == "--now" || a.starts_with("--now="))
            || matches!(args.first(), Some(&"db") | Some(&"serve"));
        if by_itself {
            self.stop_service();
            return;
        }
        let mut service = self.service.lock().unwrap();
        if service.is_none() {
            *service = self.try_serve();
        }
    }

    /// `serve --no-tick`, once its socket answers; `None` when it cannot start (the database
    /// is held by the test, or by a TUI it runs: commands then go to that holder).
    fn try_serve(&self) -> Option<Child> {
        let mut child = Child(
            self.base_command()
                .args(["serve", "--no-tick"])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap(),
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if std::os::unix::net::UnixStream::connect(self.socket()).is_ok() {
                return Some(child);
            }
            if child.0.try_wait().unwrap().is_some() || std::time::Instant::now() > deadline {
                return None;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
    }

    /// Ends this test's service (SIGTERM; it finishes the command in hand).
    pub fn stop_service(&self) {
        let taken = self.service.lock().map(|mut s| s.take()).unwrap_or(None);
        if let Some(mut child) = taken {
            child.terminate();
        }
    }

    /// The test's own handle on the database (the service, if any, is stopped first).
    pub fn open_store(&self, role: &str) -> certdeck::store::Store {
        self.stop_service();
        certdeck::store::Store::open(&self.db(), &self.key_file(), role).unwrap()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn db(&self) -> PathBuf {
        self.path("certdeck.redb")
    }

    pub fn key_file(&self) -> PathBuf {
        self.path("config/certdeck/store.key")
    }

    pub fn write(&self, name: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let p = self.path(name);
        std::fs::write(&p, content).unwrap();
        p
    }

    /// The binary on this test's database, for a command set up by hand (environment, stdin,
    /// working directory): it runs by itself (a test's service, if any, makes way).
    pub fn command(&self) -> Command {
        self.stop_service();
        self.base_command()
    }

    fn base_command(&self) -> Command {
        let mut c = self.bare_command();
        c.arg("--db").arg(self.db());
        c
    }

    /// certdeck in this test's own directories, without `--db`: the configuration file or the
    /// XDG data dir chooses the database.
    pub fn bare_command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_certdeck"));
        // Each test's own runtime dir: its service socket (SV-1) is nobody else's.
        c.env("XDG_CONFIG_HOME", self.path("config"))
            .env("XDG_DATA_HOME", self.path("data"))
            .env("XDG_RUNTIME_DIR", self.path("run"))
            .env_remove("CERTDECK_SOCKET")
            .env_remove("CERTDECK_DB")
            .env_remove("CERTDECK_KEY_FILE")
            .env_remove("CERTDECK_CONFIG")
            .env_remove("CERTDECK_RESOLVER")
            .stdin(Stdio::null());
        c
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.prepare(args, false);
        self.base_command().args(args).output().unwrap()
    }

    /// Runs with --json and returns (exit code, parsed stdout).
    pub fn json(&self, args: &[&str]) -> (i32, Value) {
        let mut all: Vec<&str> = args.to_vec();
        all.push("--json");
        let out = self.run(&all);
        let text = String::from_utf8_lossy(&out.stdout);
        let v = serde_json::from_str(&text).unwrap_or_else(|e| {
            panic!(
                "not JSON ({e}): {text}\nstderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap(), v)
    }

    pub fn import(&self, cert: &Path, key: Option<&Path>, extra: &[&str]) -> (i32, Value) {
        let mut args = vec!["import", "--cert", cert.to_str().unwrap()];
        if let Some(k) = key {
            args.extend(["--key", k.to_str().unwrap()]);
        }
        args.extend_from_slice(extra);
        self.json(&args)
    }
}

/// A child process killed when the test ends, whatever happens.
pub struct Child(pub std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Child {
    /// SIGTERM, then its exit status (it must end within 10 s).
    pub fn terminate(&mut self) -> std::process::ExitStatus {
        unsafe {
            libc::kill(self.0.id() as i32, libc::SIGTERM);
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Some(s) = self.0.try_wait().unwrap() {
                return s;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "ends on SIGTERM within 10 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

impl Env {
    /// The socket `serve` and a TUI listen on in this test (SV-1).
    pub fn socket(&self) -> PathBuf {
        self.path("run/certdeck.sock")
    }

    /// `certdeck serve` on this test's database, once its socket answers; its log is in
    /// `serve.log`.
    pub fn serve(&self, extra: &[&str]) -> Child {
        let log = std::fs::File::create(self.path("serve.log")).unwrap();
        let child = Child(
            self.command()
                .arg("serve")
                .args(extra)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .unwrap(),
        );
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::os::unix::net::UnixStream::connect(self.socket()).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "serve listens within 10 s: {}",
                std::fs::read_to_string(self.path("serve.log")).unwrap_or_default()
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        child
    }
}

pub struct Pki {
    pub root: Authority,
    pub inter: Authority,
}

impl Pki {
    pub fn new(kind: KeyKind) -> Pki {
        let now = Utc::now();
        let root = Authority::root(
            "Test Root",
            "certdeck tests",
            kind,
            now - Duration::days(400),
            now + Duration::days(4000),
        );
        let inter = root.intermediate(
            "Test Intermediate",
            "certdeck tests",
            now - Duration::days(300),
            now + Duration::days(3000),
        );
        Pki { root, inter }
    }

    pub fn leaf(&self, domains: &[&str], days: i64) -> Issued {
        let now = Utc::now();
        self.inter.issue(
            domains,
            KeyKind::P256,
            now - Duration::days(1),
            now + Duration::days(days),
        )
    }

    pub fn leaf_kind(&self, domains: &[&str], kind: KeyKind, days: i64) -> Issued {
        let now = Utc::now();
        self.inter.issue(
            domains,
            kind,
            now - Duration::days(1),
            now + Duration::days(days),
        )
    }

    pub fn full_chain(&self, leaf: &Issued) -> String {
        format!("{}{}{}", leaf.cert_pem, self.inter.pem(), self.root.pem())
    }
}

/// Runs openssl with `args`, feeding `stdin`; panics with its stderr on failure.
pub fn openssl(args: &[&str], stdin: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut child = Command::new("openssl")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("openssl is installed by .ci/run");
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// `now + days` as RFC 3339, for `--now`.
pub fn days_from_now(days: f64) -> String {
    (Utc::now() + Duration::seconds((days * 86_400.0) as i64)).to_rfc3339()
}

/// `acme account add NAME` on pebble `p` (its directory and root) with `extra` arguments.
pub fn acme_account_add(env: &Env, p: &pebble::Pebble, name: &str, extra: &[&str]) -> (i32, Value) {
    let mut args = vec![
        "acme",
        "account",
        "add",
        name,
        "--directory",
        &p.directory,
        "--root",
        p.root_pem.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    env.json(&args)
}

/// An ACME account named `name` on pebble `p`, terms agreed.
pub fn add_acme_account(env: &Env, p: &pebble::Pebble, name: &str) {
    let (code, a) = acme_account_add(env, p, name, &["--agree-tos"]);
    assert_eq!(code, 0, "{a}");
}

/// `export ID --format pem` into a fresh directory: (exit code, answer).
pub fn export_pem(env: &Env, id: &str) -> (i32, Value) {
    let out = env.path("out");
    env.json(&[
        "export",
        id,
        "--format",
        "pem",
        "--out",
        out.to_str().unwrap(),
    ])
}

impl Env {
    /// `json`, with more environment for certdeck (e.g. `CERTDECK_RESOLVER`).
    pub fn json_with(&self, args: &[&str], vars: &[(&str, &str)]) -> (i32, Value) {
        self.prepare(args, !vars.is_empty());
        let mut c = self.base_command();
        c.args(args).arg("--json");
        for (k, v) in vars {
            c.env(k, v);
        }
        let out = c.output().unwrap();
        let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "{e}: {}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            )
        });
        (out.status.code().unwrap_or(-1), v)
    }
}

/// A DNSPod DV order of `domain` validated by hand over DNS (the balance must cover it): its
/// `apply --json` answer.
pub fn dns_order(env: &Env, domain: &str) -> Value {
    dv_order(env, domain, "dns")
}

/// A DNSPod DV order of `domain` validated by `validation` (dns, file, dns_auto…), placed:
/// the `apply --json` answer (id, order with its challenges).
pub fn dv_order(env: &Env, domain: &str, validation: &str) -> Value {
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        domain,
        "--product",
        "dnspod-dv",
        "--validation",
        validation,
    ]);
    assert_eq!(code, 0, "{v}");
    v
}

/// A DV order of `shop.example.com` from the sandbox CA (balance topped up, the zone managed so
/// it validates at once): its id. The review ends the next day (`tick --now` a few days on).
pub fn sandbox_order(env: &Env) -> String {
    env.json(&["account", "topup", "1000"]);
    env.json(&["zones", "add", "example.com"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "shop.example.com",
        "--product",
        "dnspod-dv",
    ]);
    assert_eq!(code, 0, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// The row of `list --json` output holding the certificate `der` (its fingerprint by openssl).
pub fn row_of(list: &Value, der: &[u8]) -> Value {
    let fp = fingerprint(der, "DER");
    list.as_array()
        .unwrap_or_else(|| panic!("a list: {list}"))
        .iter()
        .find(|c| c["fingerprint_sha256"] == fp.as_str())
        .cloned()
        .unwrap_or_else(|| panic!("{fp} in {list}"))
}

/// `probe 127.0.0.1:PORT --sni SNI --json`: (exit code, report).
pub fn probe(env: &Env, port: u16, sni: &str) -> (i32, Value) {
    env.json(&["probe", &format!("127.0.0.1:{port}"), "--sni", sni])
}

/// A certificate's SHA-256 fingerprint as openssl sees it (lower-case hex); `form` PEM or DER.
pub fn fingerprint(cert: &[u8], form: &str) -> String {
    let fp = openssl(
        &["x509", "-inform", form, "-noout", "-fingerprint", "-sha256"],
        cert,
    );
    String::from_utf8_lossy(&fp)
        .trim()
        .rsplit('=')
        .next()
        .unwrap()
        .replace(':', "")
        .to_lowercase()
}
