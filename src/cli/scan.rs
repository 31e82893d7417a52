//! `certdeck scan [PATH...]` (DS-1, DS-3, DS-4): finds the certificates on this machine and
//! watches them.
use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use clap::Args;

#[derive(Args, Debug)]
pub struct ScanArgs {
    /// Where to look (default: /etc/ssl /etc/pki /etc/letsencrypt /etc/nginx /etc/apache2
    /// /etc/httpd /etc/haproxy /usr/local/etc)
    pub paths: Vec<std::path::PathBuf>,
    /// The password of PKCS#12 files, from this file (first line)
    #[arg(long, value_name = "FILE")]
    pub pkcs12_password_file: Option<std::path::PathBuf>,
    /// Add the resource proposed for each site found (its files, check and reload commands), so
    /// a hosting can replace the certificate it serves (section 4, H-2)
    #[arg(long)]
    pub adopt_resources: bool,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &ScanArgs) -> Exit {
    let password = match &a.pkcs12_password_file {
        Some(f) => match crate::sidefile::read_secret_text(f) {
            Ok(p) => Some(p),
            Err(e) => {
                return fail(
                    a.json,
                    super::EXIT_USAGE,
                    &format!("--pkcs12-password-file {}: {e}", f.display()),
                )
            }
        },
        None => None,
    };
    let engine = match open_engine(cli, "cli scan", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let paths: Vec<std::path::PathBuf> = a
        .paths
        .iter()
        .map(|p| std::path::absolute(p).unwrap_or_else(|_| p.clone()))
        .collect();
    let bar = ProgressBar::on_stderr();
    let scanned = engine.scan_with(&paths, password.as_deref().map(|p| p.as_str()), &|p| {
        if let Some(bar) = &bar {
            bar.show(p)
        }
    });
    if let Some(bar) = &bar {
        bar.clear();
    }
    let report = match scanned {
        Ok(r) => r,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    let adopted = if a.adopt_resources {
        match engine.adopt_sites(&report.proposed) {
            Ok(a) => a,
            Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
        }
    } else {
        Vec::new()
    };
    if a.json {
        let mut v = serde_json::json!(report);
        if a.adopt_resources {
            v["resources"] = serde_json::json!(adopted);
        }
        crate::outln!("{v}");
    } else {
        crate::outln!(
            "{} file(s), {} certificate(s): {} new, {} file(s) changed, {} gone, {} unchanged",
            report.files,
            report.certificates,
            report.new,
            report.changed,
            report.gone,
            report.unchanged
        );
        for e in &report.errors {
            crate::outln!("  {}: {}", e.path, e.reason.as_str());
        }
        for r in &adopted {
            crate::outln!("{}", r.line());
        }
    }
    if adopted.iter().any(|r| r.refusal.is_some()) {
        return super::EXIT_REFUSED;
    }
    0
}

/// A one-line progress bar on stderr, only when stderr is a terminal (nothing when piped), drawn
/// at most ten times a second.
struct ProgressBar {
    console: std::sync::Arc<dyn super::io::Console>,
    last: std::sync::Mutex<Option<(std::time::Instant, crate::domain::discovery::ScanPhase)>>,
}

impl ProgressBar {
    fn on_stderr() -> Option<ProgressBar> {
        let console = super::io::console();
        console.stderr_is_terminal().then(|| ProgressBar {
            console,
            last: std::sync::Mutex::new(None),
        })
    }

    fn show(&self, p: crate::domain::discovery::ScanProgress) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let now = std::time::Instant::now();
        let due = match *last {
            Some((at, phase)) => {
                phase != p.phase
                    || p.done == p.total
                    || now.duration_since(at) >= std::time::Duration::from_millis(100)
            }
            None => true,
        };
        if due {
            *last = Some((now, p.phase));
            // Carriage return and erase-line: the bar redraws in place.
            self.console
                .err(format!("\r\x1b[2K{}", p.bar(30)).as_bytes());
        }
    }

    fn clear(&self) {
        if self
            .last
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .is_some()
        {
            self.console.err(b"\r\x1b[2K");
        }
    }
}
