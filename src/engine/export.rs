//! Download/export (issue #4): the files a server wants, written whole or not at all (temp file,
//! fsync, rename), keys 0600, refused under RV-2. The CLI and the TUI both come through here.
use super::Engine;
use crate::app::action::ExportRequest;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::rules::export::{
    chain_without_root, check_export, export_files, pkcs12_file, ExportFile, Format,
};
use crate::store::StoreError;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Writes `contents` to `path` whole or not at all: a temp file in the same directory (0600 for
/// keys, 0644 otherwise), fsync, then rename over the target.
fn write_atomically(path: &Path, contents: &[u8], secret: bool) -> std::io::Result<()> {
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
    f.write_all(contents)?;
    f.sync_all()?;
    std::fs::rename(&tmp, path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
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
        let Some(key) = self.store.private_key_pem(&req.id)? else {
            return refuse(
                Field::Id,
                format!("{} has no private key in the store", req.id),
            );
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
            export_files(&cert, &key, req.format)
        };
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
        let mut written = Vec::new();
        for f in &files {
            let path = dir.join(&f.name);
            if let Err(e) = write_atomically(&path, &f.contents, f.secret) {
                return Ok(Action::Failed(format!("{}: {e}", path.display())));
            }
            written.push((path, f.secret));
        }
        Ok(Action::Exported {
            id: cert.id,
            files: written,
        })
    }
}
