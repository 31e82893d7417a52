//! Target files: each written whole (temp file in the same directory, owner and mode set before
//! it gets its name, fsync, rename), the previous one kept beside it to roll back to.
use crate::domain::resource::TargetFile;
use std::ffi::CString;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// Where the file a deployment replaced is kept: `<path>.certdeck-prev`.
pub fn backup_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(crate::domain::resource::BACKUP_SUFFIX);
    path.with_file_name(name)
}

fn tmp_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(format!(
        "{}{}",
        crate::domain::resource::TEMP_INFIX,
        std::process::id()
    ));
    path.with_file_name(name)
}

/// The numeric ids of `owner` and `group` (None: leave as created).
pub fn ids(owner: Option<&str>, group: Option<&str>) -> Result<(Option<u32>, Option<u32>), String> {
    let uid = match owner {
        None => None,
        Some(name) => {
            let c = CString::new(name).map_err(|_| format!("owner {name:?}: bad name"))?;
            // SAFETY: getpwnam reads a NUL-terminated name; the record is copied out at once.
            let pw = unsafe { libc::getpwnam(c.as_ptr()) };
            if pw.is_null() {
                return Err(format!("owner {name}: no such user"));
            }
            Some(unsafe { (*pw).pw_uid })
        }
    };
    let gid = match group {
        None => None,
        Some(name) => {
            let c = CString::new(name).map_err(|_| format!("group {name:?}: bad name"))?;
            // SAFETY: as above, for groups.
            let gr = unsafe { libc::getgrnam(c.as_ptr()) };
            if gr.is_null() {
                return Err(format!("group {name}: no such group"));
            }
            Some(unsafe { (*gr).gr_gid })
        }
    };
    Ok((uid, gid))
}

fn chown(path: &Path, uid: Option<u32>, gid: Option<u32>) -> std::io::Result<()> {
    if uid.is_none() && gid.is_none() {
        return Ok(());
    }
    std::os::unix::fs::chown(path, uid, gid)
}

/// Writes one target whole. The temp file is created 0600 and only gets its final owner and
/// mode (never wider than asked) before the rename, so a key is never readable by others.
pub fn write_whole(t: &TargetFile, uid: Option<u32>, gid: Option<u32>) -> std::io::Result<()> {
    let tmp = tmp_path(&t.path);
    let _ = std::fs::remove_file(&tmp);
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)?;
        f.write_all(&t.contents)?;
        f.sync_all()?;
        chown(&tmp, uid, gid)?;
        std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(t.mode))?;
        std::fs::rename(&tmp, &t.path)?;
        sync_dir(&t.path)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// Makes a rename durable: fsync the directory that holds `path`.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    match path.parent() {
        Some(dir) => std::fs::File::open(dir)?.sync_all(),
        None => Ok(()),
    }
}

/// What a target held before a deployment, for rollback.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Before {
    pub path: PathBuf,
    /// `true`: the old file is at `backup_path(path)`; `false`: there was none.
    pub existed: bool,
}

/// Keeps the current file of each target at its backup path (a copy with the same owner and
/// mode, written whole), so the live file is never missing. A target that is a symbolic link
/// (Let's Encrypt's `live/` files) is kept as the same link, so a rollback puts the link back,
/// not a plain copy of what it pointed to.
pub fn back_up(targets: &[TargetFile]) -> std::io::Result<Vec<Before>> {
    use std::os::unix::fs::MetadataExt;
    let mut out = Vec::new();
    for t in targets {
        match std::fs::symlink_metadata(&t.path) {
            Ok(meta) if meta.file_type().is_symlink() => {
                let points_to = std::fs::read_link(&t.path)?;
                let tmp = tmp_path(&backup_path(&t.path));
                let _ = std::fs::remove_file(&tmp);
                std::os::unix::fs::symlink(&points_to, &tmp)?;
                std::fs::rename(&tmp, backup_path(&t.path))?;
                out.push(Before {
                    path: t.path.clone(),
                    existed: true,
                });
            }
            Ok(_) => {
                let meta = std::fs::metadata(&t.path)?;
                let old = TargetFile {
                    part: t.part,
                    path: backup_path(&t.path),
                    contents: std::fs::read(&t.path)?,
                    mode: meta.permissions().mode() & 0o7777,
                };
                write_whole(&old, Some(meta.uid()), Some(meta.gid()))?;
                out.push(Before {
                    path: t.path.clone(),
                    existed: true,
                });
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => out.push(Before {
                path: t.path.clone(),
                existed: false,
            }),
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

/// Two targets that are one file on disk (`a/sub/../b` and `a/b`, or a directory reached
/// through a symbolic link): their parent directories are resolved before they are compared.
pub fn same_file_twice(targets: &[TargetFile]) -> Option<(PathBuf, PathBuf)> {
    let resolved: Vec<PathBuf> = targets
        .iter()
        .map(|t| {
            let parent = t.path.parent().unwrap_or(Path::new("/"));
            std::fs::canonicalize(parent)
                .map(|p| p.join(t.path.file_name().unwrap_or_default()))
                .unwrap_or_else(|_| t.path.clone())
        })
        .collect();
    for i in 0..resolved.len() {
        for j in i + 1..resolved.len() {
            if resolved[i] == resolved[j] {
                return Some((targets[i].path.clone(), targets[j].path.clone()));
            }
        }
    }
    None
}

/// After a deployment that failed before it wrote `befores[written..]`: the backups of those
/// targets are dropped (the live files were never touched) and only the written ones restored.
pub fn restore_written(before: &[Before], written: usize) -> Result<(), String> {
    for b in before.iter().skip(written).filter(|b| b.existed) {
        let _ = std::fs::remove_file(backup_path(&b.path));
    }
    restore(&before[..written.min(before.len())])
}

/// Puts every backed-up file back (each by one rename) and removes files that did not exist.
pub fn restore(before: &[Before]) -> Result<(), String> {
    let mut errors = Vec::new();
    for b in before {
        let r = if b.existed {
            std::fs::rename(backup_path(&b.path), &b.path).and_then(|_| sync_dir(&b.path))
        } else {
            match std::fs::remove_file(&b.path) {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
                other => other,
            }
        };
        if let Err(e) = r {
            errors.push(format!("{}: {e}", b.path.display()));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors.join("; "))
    }
}
