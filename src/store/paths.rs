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

pub fn key_file_path() -> PathBuf {
    match std::env::var_os("CERTDECK_KEY_FILE") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => xdg("XDG_CONFIG_HOME", ".config")
            .join("certdeck")
            .join("store.key"),
    }
}

/// `--db` wins, then `$CERTDECK_DB`, then the XDG data dir.
pub fn resolve_db_path(flag: Option<PathBuf>) -> PathBuf {
    flag.or_else(|| {
        std::env::var_os("CERTDECK_DB")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
    })
    .unwrap_or_else(default_db_path)
}
