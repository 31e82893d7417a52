//! Download/export (issue #4): the files a server wants, written whole or not at all (temp file,
//! fsync, rename), keys 0600, refused under RV-2. The CLI and the TUI both come through here.
use super::Engine;
use crate::app::action::ExportRequest;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::export::{
    chain_without_root, check_export, check_keyless, export_files, pkcs12_file, ExportFile, Format,
};
use crate::store::StoreError;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::Path;

/// Writes every file or none. Each is staged as a temp file beside its target (0600 for keys,
/// 0644 otherwise) and fsynced; only when all are staged do they replace their targets. If a
/// replacement fails half-way, the targets already replaced get their old files back, so a
/// server never finds a new certificate beside an old key. Temp files never outlive a failure.
fn write_all_or_nothing(files: &[(std::path::PathBuf, &[u8], bool)]) -> Result<(), String> {
    write_all_or_nothing_with(files, |tmp, path| {
        tmp.persist(path).map(|_| ()).map_err(|e| e.error)
    })
}

/// `write_all_or_nothing` with the step that puts a staged file in place given (tests make it
/// fail half-way).
fn write_all_or_nothing_with(
    files: &[(std::path::PathBuf, &[u8], bool)],
    place: impl Fn(tempfile::NamedTempFile, &Path) -> std::io::Result<()>,
) -> Result<(), String> {
    let fail = |p: &Path, e: std::io::Error| format!("{}: {e}; nothing was changed", p.display());
    let mut staged = Vec::with_capacity(files.len());
    for (path, contents, secret) in files {
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut tmp = tempfile::Builder::new()
            .prefix(".certdeck-export-")
            .tempfile_in(dir)
            .map_err(|e| fail(path, e))?;
        let mode = if *secret { 0o600 } else { 0o644 };
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))
            .and_then(|_| tmp.write_all(contents))
            .and_then(|_| tmp.as_file().sync_all())
            .map_err(|e| fail(path, e))?;
        staged.push(tmp);
    }
    // The old files, kept under temp names until every new one is in place.
    let mut kept = Vec::new();
    for (path, _, _) in files {
        if path.exists() {
            let dir = path.parent().unwrap_or(Path::new("."));
            let old = tempfile::Builder::new()
                .prefix(".certdeck-old-")
                .make_in(dir, |p| std::fs::hard_link(path, p))
                .map_err(|e| fail(path, e))?;
            kept.push((path.clone(), old));
        }
    }
    for (i, (tmp, (path, _, _))) in staged.into_iter().zip(files).enumerate() {
        if let Err(e) = place(tmp, path) {
            for (done, _, _) in &files[..i] {
                if let Some((_, old)) = kept.iter().find(|(p, _)| p == done) {
                    let _ = std::fs::rename(old.path(), done);
                } else {
                    let _ = std::fs::remove_file(done);
                }
            }
            return Err(fail(path, e));
        }
    }
    if let Some(dir) = files.first().and_then(|(p, _, _)| p.parent()) {
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
    }
    Ok(())
}

/// One password-protected PKCS#12 file: PBES2/AES-256-CBC bags and an HMAC-SHA256 MAC, which
/// OpenSSL 3, Java and Windows read.
fn pkcs12(
    chain: &[Vec<u8>],
    key_pem: &str,
    password: &str,
    alias: &str,
) -> Result<Vec<u8>, String> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let key_der = crate::domain::key::to_pkcs8_der(key_pem)?;
    let key = PrivateKey::from_der(&key_der).map_err(|e| format!("PKCS#12 key: {e}"))?;
    let certs = chain
        .iter()
        .map(|d| Certificate::from_der(d).map_err(|e| format!("PKCS#12 certificate: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let local_id = ring::digest::digest(&ring::digest::SHA256, &chain[0]);
    let mut store = KeyStore::new();
    store.add_entry(
        alias,
        KeyStoreEntry::PrivateKeyChain(PrivateKeyChain::new(local_id.as_ref(), key, certs)),
    );
    store
        .writer(password)
        .write()
        .map_err(|e| format!("PKCS#12 encoding: {e}"))
}

impl Engine {
    pub(super) fn export(&self, req: &ExportRequest) -> Result<Action, StoreError> {
        let refuse = |field, m: String| Ok(Action::Refused(Refusal::new("EXPORT", field, m)));
        let Some(cert) = self.store.get(&req.id)? else {
            return refuse(Field::Id, format!("no certificate with id {}", req.id));
        };
        if let Err(r) = check_export(&cert, self.clock.now()) {
            return Ok(Action::Refused(r));
        }
        let key = self.store.private_key_pem(&req.id)?;
        let Some(key) = key else {
            if let Err(r) = check_keyless(&cert, req.format) {
                return Ok(Action::Refused(r));
            }
            return self.write_export(req, &cert, export_files(&cert, None, req.format));
        };
        let files: Vec<ExportFile> = if req.format == Format::Pkcs12 {
            let password = match req.password.as_deref() {
                Some(p) if !p.is_empty() => p,
                _ => {
                    return refuse(
                        Field::Password,
                        "a PKCS#12 file needs a password (--password-file FILE)".into(),
                    )
                }
            };
            match pkcs12(&chain_without_root(&cert), &key, password, &cert.name) {
                Ok(bytes) => vec![pkcs12_file(&cert, bytes)],
                Err(m) => return refuse(Field::Key, m),
            }
        } else {
            export_files(&cert, Some(&key), req.format)
        };
        self.write_export(req, &cert, files)
    }

    /// Writes an export's files into its directory: all of them or none.
    fn write_export(
        &self,
        req: &ExportRequest,
        cert: &crate::domain::model::Certificate,
        files: Vec<ExportFile>,
    ) -> Result<Action, StoreError> {
        let refuse = |field, m: String| Ok(Action::Refused(Refusal::new("EXPORT", field, m)));
        let dir = &req.dir;
        if !dir.exists() {
            if let Err(e) = std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
            {
                return Ok(Action::Failed(format!("{}: {e}", dir.display())));
            }
        }
        // Check every target first, so a refusal writes nothing.
        if !req.force {
            if let Some(f) = files.iter().find(|f| dir.join(&f.name).exists()) {
                return refuse(
                    Field::Path,
                    format!(
                        "{} exists; pass --force to replace it",
                        dir.join(&f.name).display()
                    ),
                );
            }
        }
        let targets: Vec<_> = files
            .iter()
            .map(|f| (dir.join(&f.name), f.contents.as_slice(), f.secret))
            .collect();
        if let Err(m) = write_all_or_nothing(&targets) {
            return Ok(Action::Failed(m));
        }
        let written = targets.into_iter().map(|(p, _, s)| (p, s)).collect();
        Ok(Action::Exported {
            id: cert.id.clone(),
            files: written,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    }

    #[test]
    fn a_failure_half_way_leaves_the_old_set_and_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = (dir.path().join("a.crt"), dir.path().join("a.key"));
        std::fs::write(&crt, "old cert").unwrap();
        std::fs::write(&key, "old key").unwrap();
        let files = vec![
            (crt.clone(), b"new cert".as_slice(), false),
            (key.clone(), b"new key".as_slice(), true),
        ];
        let placed = std::cell::Cell::new(0);
        let e = write_all_or_nothing_with(&files, |tmp, path| {
            placed.set(placed.get() + 1);
            if placed.get() == 2 {
                return Err(std::io::Error::other("disk full"));
            }
            tmp.persist(path).map(|_| ()).map_err(|e| e.error)
        })
        .unwrap_err();
        assert!(
            e.contains("disk full") && e.contains("nothing was changed"),
            "{e}"
        );
        assert_eq!(std::fs::read_to_string(&crt).unwrap(), "old cert");
        assert_eq!(std::fs::read_to_string(&key).unwrap(), "old key");
        assert_eq!(
            names(dir.path()),
            vec!["a.crt", "a.key"],
            "no temp file left"
        );
        // And when nothing existed before, nothing is left either.
        let fresh = tempfile::tempdir().unwrap();
        let files = vec![
            (fresh.path().join("b.crt"), b"c".as_slice(), false),
            (fresh.path().join("b.key"), b"k".as_slice(), true),
        ];
        let placed = std::cell::Cell::new(0);
        assert!(write_all_or_nothing_with(&files, |tmp, path| {
            placed.set(placed.get() + 1);
            if placed.get() == 2 {
                return Err(std::io::Error::other("disk full"));
            }
            tmp.persist(path).map(|_| ()).map_err(|e| e.error)
        })
        .is_err());
        assert!(names(fresh.path()).is_empty());
    }

    #[test]
    fn all_files_are_replaced_with_their_modes() {
        let dir = tempfile::tempdir().unwrap();
        let (crt, key) = (dir.path().join("a.crt"), dir.path().join("a.key"));
        std::fs::write(&crt, "old").unwrap();
        write_all_or_nothing(&[
            (crt.clone(), b"new cert".as_slice(), false),
            (key.clone(), b"new key".as_slice(), true),
        ])
        .unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!((mode(&crt), mode(&key)), (0o644, 0o600));
        assert_eq!(std::fs::read_to_string(&crt).unwrap(), "new cert");
        assert_eq!(names(dir.path()), vec!["a.crt", "a.key"]);
    }
}
