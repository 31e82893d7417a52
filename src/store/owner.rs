//! Who holds the database. redb lets one process open a file; the other gets a plain
//! `DatabaseAlreadyOpen`. A small file beside the database names the holder for that message.
use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

pub struct OwnerFile {
    path: PathBuf,
    /// Kept open to mark each tick cheaply (its modification time is the heartbeat).
    file: Option<fs::File>,
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
        // Best effort: the lock itself is redb's; this file only improves the message. Never
        // written through a symlink another user could have planted beside the database.
        let _ = fs::remove_file(&path);
        let file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .and_then(|mut f| f.write_all(text.as_bytes()).map(|_| f))
            .ok();
        OwnerFile { path, file }
    }

    /// Marks that the holder's tick ran: a cron `tick` that finds the database held tells a
    /// holder that is advancing the rules from one that is stuck.
    pub fn heartbeat(&self) {
        if let Some(f) = &self.file {
            let _ = f.set_modified(SystemTime::now());
        }
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

/// How long ago the holder of `db` last ticked (or claimed the database, if it never ticked);
/// `None` when nobody alive holds it or the file is missing.
pub fn holder_idle(db: &Path) -> Option<Duration> {
    let path = owner_path(db);
    let text = crate::sidefile::read_capped(&path, 4096).ok()?;
    let text = String::from_utf8_lossy(&text);
    let pid = text.lines().find_map(|l| l.strip_prefix("pid="))?;
    if !Path::new(&format!("/proc/{pid}")).exists() {
        return None;
    }
    let modified = fs::metadata(&path).ok()?.modified().ok()?;
    Some(
        SystemTime::now()
            .duration_since(modified)
            .unwrap_or_default(),
    )
}
