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
    let report = match engine.scan(&paths, password.as_deref().map(|p| p.as_str())) {
        Ok(r) => r,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    if a.json {
        println!("{}", serde_json::json!(report));
    } else {
        println!(
            "{} file(s), {} certificate(s): {} new, {} file(s) changed, {} gone, {} unchanged",
            report.files,
            report.certificates,
            report.new,
            report.changed,
            report.gone,
            report.unchanged
        );
        for e in &report.errors {
            println!("  {}: {}", e.path, e.reason.as_str());
        }
    }
    0
}
