//! A real bind9 (`named`) on a loopback port, primary for `example.test`, accepting RFC 2136
//! updates of TXT records signed with a TSIG key that `tsig-keygen` made (AC-3 tests).
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

pub const ZONE: &str = "example.test";

pub fn installed() -> bool {
    std::path::Path::new("/usr/sbin/named").exists()
        && std::path::Path::new("/usr/sbin/tsig-keygen").exists()
}

pub struct Bind {
    child: Child,
    pub port: u16,
    /// The key file to give certdeck (`--tsig-key-file`).
    pub key_file: PathBuf,
    pub dir: tempfile::TempDir,
}

fn tsig_keygen(name: &str) -> String {
    let out = Command::new("/usr/sbin/tsig-keygen")
        .args(["-a", "hmac-sha256", name])
        .output()
        .expect("tsig-keygen runs");
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

impl Bind {
    pub fn start() -> Bind {
        for _ in 0..5 {
            if let Some(b) = Bind::start_once() {
                return b;
            }
        }
        panic!("named did not start on a free port in 5 tries");
    }

    fn start_once() -> Option<Bind> {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().display().to_string();
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let key = tsig_keygen("certdeck-acme");
        let key_file = dir.path().join("certdeck-acme.key");
        std::fs::write(&key_file, &key).unwrap();
        std::fs::write(
            dir.path().join("zone.db"),
            format!(
                "$TTL 60\n@ IN SOA ns.{ZONE}. hostmaster.{ZONE}. 1 60 60 3600 60\n\
                 @ IN NS ns.{ZONE}.\nns IN A 127.0.0.1\n"
            ),
        )
        .unwrap();
        let conf = format!(
            "options {{\n  directory \"{d}\";\n  listen-on port {port} {{ 127.0.0.1; }};\n  \
             listen-on-v6 {{ none; }};\n  pid-file \"{d}/named.pid\";\n  \
             session-keyfile \"{d}/session.key\";\n  recursion no;\n  dnssec-validation no;\n  \
             allow-query {{ any; }};\n}};\ncontrols {{ }};\n{key}\n\
             zone \"{ZONE}\" {{\n  type primary;\n  file \"{d}/zone.db\";\n  \
             update-policy {{ grant certdeck-acme zonesub TXT; }};\n}};\n"
        );
        let conf_path = dir.path().join("named.conf");
        std::fs::write(&conf_path, conf).unwrap();
        let mut child = Command::new("/usr/sbin/named")
            .arg("-g")
            .arg("-4")
            .arg("-c")
            .arg(&conf_path)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("named starts");
        // Ready when its TCP port accepts (bounded: 10 s); gone at once means the port was taken.
        let until = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return None;
            }
            // Listening comes before the zone is loaded (queries get SERVFAIL meanwhile): ready
            // once it answers for the zone with authority.
            let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            if std::net::TcpStream::connect(addr).is_ok()
                && certdeck::ca::acme::dns_update::find_zone(addr, &format!("ready.{ZONE}")).is_ok()
            {
                break;
            }
            assert!(
                std::time::Instant::now() < until,
                "named did not serve its zone in 10 s"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Some(Bind {
            child,
            port,
            key_file,
            dir,
        })
    }

    pub fn addr(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// The TXT values at `name`, as bind has them now.
    pub fn txt(&self, name: &str) -> Vec<String> {
        certdeck::validate::dns::lookup_txt(name, self.addr().parse().unwrap()).unwrap()
    }

    /// Another key, unknown to this server.
    pub fn foreign_key(&self) -> PathBuf {
        let path = self.dir.path().join("foreign.key");
        std::fs::write(&path, tsig_keygen("someone-else")).unwrap();
        path
    }
}

impl Drop for Bind {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
