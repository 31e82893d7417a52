//! A real SMTP server (python3-aiosmtpd) for the email and STARTTLS tests.

/// `python3 -m aiosmtpd` on a loopback port, storing mail in a Maildir; stopped when dropped.
pub struct Smtpd {
    child: std::process::Child,
    pub port: u16,
}

impl Smtpd {
    pub fn start(maildir: &std::path::Path) -> Smtpd {
        Smtpd::start_with(maildir, &[])
    }

    /// aiosmtpd with extra options (`--tlscert`/`--tlskey` for STARTTLS, `--smtpscert`/
    /// `--smtpskey` for TLS from the first byte).
    pub fn start_with(maildir: &std::path::Path, options: &[&str]) -> Smtpd {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = std::process::Command::new("/usr/bin/python3")
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}")])
            .args(options)
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("python3-aiosmtpd is installed (.ci/run installs it)");
        let started = std::time::Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(15),
                "aiosmtpd listens"
            );
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        Smtpd { child, port }
    }
}

impl Drop for Smtpd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
