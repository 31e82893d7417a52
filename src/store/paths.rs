//! Where things live: `--db`, else `$CERTDECK_DB`, else the XDG data dir; the key file in the
//! XDG config dir unless `$CERTDECK_KEY_FILE` says otherwise.
use std::path::PathBuf;

fn home() -> PathBuf {
    std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."))
}

fn xdg(var: &str, fallback: &str) -> PathBuf {
    std::env::var_os(var)
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .unwrap_or_else(|| home().join(fallback))
}

pub fn default_db_path() -> PathBuf {
    xdg("XDG_DATA_HOME", ".local/share")
        .join("certdeck")
        .join("certdeck.redb")
}

/// certdeck's directory under the XDG config dir (the key file, config.toml).
pub fn config_dir() -> PathBuf {
    xdg("XDG_CONFIG_HOME", ".config").join("certdeck")
}

pub fn key_file_path() -> PathBuf {
    match std::env::var_os("CERTDECK_KEY_FILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => config_dir().join("store.key"),
    }
}

/// The database and where that choice came from: `--db`, then `$CERTDECK_DB`, then the
/// configuration file's `db`, then the XDG data dir.
pub fn db_path_with_source(flag: Option<PathBuf>) -> (PathBuf, crate::domain::config::Source) {
    crate::domain::config::pick(
        (flag, "--db"),
        (
            std::env::var_os("CERTDECK_DB")
                .filter(|p| !p.is_empty())
                .map(PathBuf::from),
            "CERTDECK_DB",
        ),
        crate::config::file().db.clone(),
        default_db_path(),
    )
}

pub fn resolve_db_path(flag: Option<PathBuf>) -> PathBuf {
    db_path_with_source(flag).0
}

/// Where the service listens and clients look (SV-1): `$XDG_RUNTIME_DIR/certdeck.sock`, else
/// `/run/certdeck/certdeck.sock` for root, else a directory of the user's own under the
/// temporary directory.
pub fn default_socket_path() -> PathBuf {
    if let Some(dir) = std::env::var_os("XDG_RUNTIME_DIR")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
    {
        return dir.join("certdeck.sock");
    }
    // SAFETY: geteuid has no preconditions and cannot fail.
    let uid = unsafe { libc::geteuid() };
    if uid == 0 {
        PathBuf::from("/run/certdeck/certdeck.sock")
    } else {
        std::env::temp_dir()
            .join(format!("certdeck-{uid}"))
            .join("certdeck.sock")
    }
}

/// Where a client looks for a service, in order: the default path, and for root also the
/// system service's (`/run/certdeck/certdeck.sock`), which root's login session, with its own
/// runtime dir, would otherwise miss.
pub fn socket_candidates() -> Vec<PathBuf> {
    let mut all = vec![default_socket_path()];
    let system = PathBuf::from("/run/certdeck/certdeck.sock");
    // SAFETY: geteuid has no preconditions and cannot fail.
    if unsafe { libc::geteuid() } == 0 && !all.contains(&system) {
        all.push(system);
    }
    all
}

/// `path` made absolute and, when it exists, with its links resolved: two spellings of one
/// database compare equal.
pub fn canonical(path: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| {
        std::env::current_dir()
            .map(|d| d.join(path))
            .unwrap_or_else(|_| path.to_path_buf())
    })
}
