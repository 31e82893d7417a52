use super::{fail, open_engine, refused, Cli, Exit, EXIT_REFUSED, EXIT_UNAVAILABLE};
use crate::domain::rules::export::{check_export, export_files, Format};
use clap::Args;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

#[derive(Args, Debug)]
pub struct ExportArgs {
    pub id: String,
    /// pem (cert, chain, fullchain, privkey), nginx, apache or haproxy
    #[arg(long, value_parser = Format::parse, default_value = "pem")]
    pub format: Format,
    /// Directory to write into (created 0700 if missing)
    #[arg(long)]
    pub out: PathBuf,
    /// Replace files that exist
    #[arg(long)]
    pub force: bool,
    #[arg(long)]
    pub json: bool,
}

/// Writes `contents` to `path` whole or not at all: a temp file in the same directory (0600 for
/// keys, 0644 otherwise), fsync, then rename over the target.
fn write_atomically(path: &Path, contents: &str, secret: bool) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.certdeck-tmp",
        path.file_name()
            .and_then(|n| n.to_str())
            .unwrap_or("export")
    ));
    let mode = if secret { 0o600 } else { 0o644 };
    let _ = std::fs::remove_file(&tmp);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
}

pub fn run(cli: &Cli, a: &ExportArgs) -> Exit {
    let engine = match open_engine(cli, "cli export", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let now = engine.clock().now();
    let cert = match engine.store().get(&a.id) {
        Ok(Some(c)) => c,
        Ok(None) => {
            return fail(
                a.json,
                EXIT_REFUSED,
                &format!("no certificate with id {}", a.id),
            )
        }
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    if let Err(r) = check_export(&cert, now) {
        return refused(a.json, &r);
    }
    let key = match engine.store().private_key_pem(&a.id) {
        Ok(Some(k)) => k,
        Ok(None) => {
            return fail(
                a.json,
                EXIT_REFUSED,
                &format!("{} has no private key in the store", a.id),
            )
        }
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    let files = export_files(&cert, &key, a.format);
    if !a.out.exists() {
        if let Err(e) = std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(&a.out)
        {
            return fail(
                a.json,
                EXIT_UNAVAILABLE,
                &format!("{}: {e}", a.out.display()),
            );
        }
    }
    // Check every target first, so a refusal writes nothing.
    if !a.force {
        if let Some(f) = files.iter().find(|f| a.out.join(&f.name).exists()) {
            return fail(
                a.json,
                EXIT_REFUSED,
                &format!(
                    "{} exists; pass --force to replace it",
                    a.out.join(&f.name).display()
                ),
            );
        }
    }
    let mut written = Vec::new();
    for f in &files {
        let path = a.out.join(&f.name);
        if let Err(e) = write_atomically(&path, &f.contents, f.secret) {
            return fail(
                a.json,
                EXIT_UNAVAILABLE,
                &format!("{}: {e}", path.display()),
            );
        }
        written.push(
            serde_json::json!({"path": path, "mode": if f.secret { "0600" } else { "0644" }}),
        );
    }
    if a.json {
        println!("{}", serde_json::json!({"id": cert.id, "files": written}));
    } else {
        for w in &written {
            println!(
                "wrote {} ({})",
                w["path"].as_str().unwrap_or(""),
                w["mode"].as_str().unwrap_or("")
            );
        }
    }
    0
}
