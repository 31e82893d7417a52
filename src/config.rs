//! The configuration file, read once per process: `$CERTDECK_CONFIG`, else
//! `$XDG_CONFIG_HOME/certdeck/config.toml` (`~/.config/...`). A missing file is no settings; a bad
//! one stops every command with its path, line and key (main.rs).
use crate::domain::config::{parse, FileConfig};
use std::io::Read;
use std::path::PathBuf;
use std::sync::OnceLock;

/// A configuration file is small; a larger one is refused, not read.
const MAX_BYTES: u64 = 1024 * 1024;

pub struct Loaded {
    pub path: PathBuf,
    pub exists: bool,
    pub file: FileConfig,
}

pub fn path() -> PathBuf {
    match std::env::var_os("CERTDECK_CONFIG") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => crate::store::paths::config_dir().join("config.toml"),
    }
}

fn read(path: PathBuf) -> Result<Loaded, String> {
    let shown = path.display().to_string();
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Loaded {
                path,
                exists: false,
                file: FileConfig::default(),
            })
        }
        Err(e) => return Err(format!("{shown}: {e}")),
    };
    let mut text = String::new();
    file.take(MAX_BYTES + 1)
        .read_to_string(&mut text)
        .map_err(|e| format!("{shown}: {e} (the file must be UTF-8 TOML)"))?;
    if text.len() as u64 > MAX_BYTES {
        return Err(format!(
            "{shown}: larger than 1 MiB; not a configuration file"
        ));
    }
    let file = parse(&text).map_err(|e| format!("{shown}: {e}"))?;
    Ok(Loaded {
        path,
        exists: true,
        file,
    })
}

/// The file as read (once), or why it cannot be used.
pub fn load() -> &'static Result<Loaded, String> {
    static LOADED: OnceLock<Result<Loaded, String>> = OnceLock::new();
    LOADED.get_or_init(|| read(path()))
}

/// The file's settings (none when there is no file; main.rs stops on a bad one first).
pub fn file() -> &'static FileConfig {
    static EMPTY: OnceLock<FileConfig> = OnceLock::new();
    match load() {
        Ok(l) => &l.file,
        Err(_) => EMPTY.get_or_init(FileConfig::default),
    }
}
