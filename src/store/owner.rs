//! Who holds the database. redb lets one process open a file; the other gets a plain
//! `DatabaseAlreadyOpen`. A small file beside the database names the holder for that message.
use std::fs;
use std::path::{Path, PathBuf};

pub struct OwnerFile {
    path: PathBuf,
}

pub fn owner_path(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".owner");
    PathBuf::from(p)
}

impl OwnerFile {
    pub fn claim(db: &Path, role: &str) -> OwnerFile {
        let path = owner_path(db);
        let text = format!(
            "pid={}\nrole={}\nsince={}\n",
            std::process::id(),
            role,
            chrono::Utc::now().format("%Y-%m-%d %H:%M:%S UTC")
        );
        // Best effort: the lock itself is redb's; this file only improves the message.
        let _ = fs::write(&path, text);
        OwnerFile { path }
    }
}

impl Drop for OwnerFile {
    fn drop(&mut self) {
        if let Ok(text) = fs::read_to_string(&self.path) {
            if text.starts_with(&format!("pid={}\n", std::process::id())) {
                let _ = fs::remove_file(&self.path);
            }
        }
    }
}

/// Describes the process holding `db`, e.g. `pid 4242 (certdeck tui, since 2026-11-27 10:00:00 UTC)`.
pub fn describe_holder(db: &Path) -> Option<String> {
    let text = fs::read_to_string(owner_path(db)).ok()?;
    let field = |k: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{k}=")))
            .map(str::to_string)
    };
    let pid = field("pid")?;
    let alive = Path::new(&format!("/proc/{pid}")).exists();
    let cmd = fs::read(format!("/proc/{pid}/cmdline"))
        .ok()
        .map(|b| {
            String::from_utf8_lossy(&b)
                .replace('\0', " ")
                .trim()
                .to_string()
        })
        .filter(|s| !s.is_empty());
    Some(format!(
        "pid {pid} ({}, since {}{}){}",
        field("role").unwrap_or_else(|| "certdeck".into()),
        field("since").unwrap_or_else(|| "?".into()),
        if alive { "" } else { ", no longer running" },
        cmd.map(|c| format!(": {c}")).unwrap_or_default()
    ))
}
