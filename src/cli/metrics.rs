//! `certdeck metrics [--textfile PATH]` (SV-3): the Prometheus exposition on stdout, or written
//! whole to a file for node_exporter's textfile collector (never a half-written file: a temp
//! file in the same directory is renamed over it).
use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE, EXIT_USAGE};
use clap::Args;
use std::io::Write;

#[derive(Args, Debug)]
pub struct MetricsArgs {
    /// Write to this file (atomically, mode 0644) instead of stdout, e.g.
    /// /var/lib/prometheus/node-exporter/certdeck.prom
    #[arg(long, value_name = "PATH")]
    pub textfile: Option<std::path::PathBuf>,
}

pub fn run(cli: &Cli, a: &MetricsArgs) -> Exit {
    let engine = match open_engine(cli, "cli metrics", false) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let text = match engine.metrics_text() {
        Ok(t) => t,
        Err(e) => return fail(false, EXIT_UNAVAILABLE, &e.to_string()),
    };
    match &a.textfile {
        None => {
            super::io::console().out(text.as_bytes());
            0
        }
        Some(path) => match write_whole(path, text.as_bytes()) {
            Ok(()) => 0,
            Err(e) => fail(
                false,
                EXIT_USAGE,
                &format!("--textfile {}: {e}", path.display()),
            ),
        },
    }
}

/// `bytes` as the whole content of `path`: written to a temp file beside it, synced, renamed.
fn write_whole(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".certdeck-metrics-")
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.as_file()
        .set_permissions(std::fs::Permissions::from_mode(0o644))?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}
