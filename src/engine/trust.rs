//! U-2 trust anchors: the system's store, certdeck's own CA roots and the roots the user added.
//! (Mozilla's roots, built in, are added by every caller of `validate_upload`.)
use super::Engine;
use crate::domain::refusal::Refusal;
use crate::domain::trust::{self, TrustedRoot};
use crate::store::StoreError;
use std::sync::OnceLock;

/// Where distributions keep their bundle of trusted roots; `SSL_CERT_FILE` comes first.
const SYSTEM_BUNDLES: [&str; 4] = [
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
];

/// A bundle larger than this is not a trust store.
const MAX_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// The raw subjects of the system's trusted roots, read once per process.
pub fn system_anchor_subjects() -> &'static [Vec<u8>] {
    static SUBJECTS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    SUBJECTS.get_or_init(|| {
        let candidates = std::env::var_os("SSL_CERT_FILE")
            .map(std::path::PathBuf::from)
            .into_iter()
            .chain(SYSTEM_BUNDLES.iter().map(std::path::PathBuf::from));
        for path in candidates {
            if let Some(subjects) = read_bundle(&path) {
                return subjects;
            }
        }
        Vec::new()
    })
}

fn read_bundle(path: &std::path::Path) -> Option<Vec<Vec<u8>>> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut text = String::new();
    file.take(MAX_BUNDLE_BYTES).read_to_string(&mut text).ok()?;
    let blocks = crate::domain::pem::scan(&text).ok()?;
    Some(
        blocks
            .iter()
            .filter(|b| b.label.contains("CERTIFICATE"))
            .filter_map(|b| crate::domain::cert::subject_raw_of(&b.der))
            .collect(),
    )
}

impl Engine {
    /// Every trust anchor besides Mozilla's: the system store, the sandbox CA's roots (when it
    /// exists) and the roots the user trusts.
    pub fn trust_anchor_subjects(&self) -> Result<Vec<Vec<u8>>, StoreError> {
        let mut out = system_anchor_subjects().to_vec();
        for name in ["sandbox", "sandbox-sm2"] {
            if let Some(der) = self.store.ca_root_der(name)? {
                out.extend(crate::domain::cert::subject_raw_of(&der));
            }
        }
        out.extend(
            self.store
                .trusted_roots()?
                .into_iter()
                .map(|r| r.subject_raw),
        );
        Ok(out)
    }

    /// `validate_upload` with every trust anchor.
    pub(super) fn validate_with_anchors(
        &self,
        input: &crate::domain::rules::upload::UploadInput,
    ) -> Result<Result<crate::domain::rules::upload::ValidatedUpload, Refusal>, StoreError> {
        let extra = self.trust_anchor_subjects()?;
        let mut anchors = crate::domain::cert::mozilla_anchor_subjects();
        anchors.extend(extra.iter().map(Vec::as_slice));
        Ok(crate::domain::rules::upload::validate_upload(
            input,
            self.clock.now(),
            &anchors,
        ))
    }

    /// `certdeck trust add`: the roots a file gives, and how many of them were new.
    pub fn trust_add(
        &self,
        bytes: &[u8],
    ) -> Result<Result<(Vec<TrustedRoot>, usize), Refusal>, StoreError> {
        let roots = match trust::roots_from(bytes, self.clock.now()) {
            Ok(r) => r,
            Err(r) => return Ok(Err(r)),
        };
        let added = self.store.add_trusted_roots(&roots)?;
        if added > 0 {
            self.note_change(None);
        }
        Ok(Ok((roots, added)))
    }

    /// `certdeck trust rm`: the root `what` names (fingerprint or subject), removed.
    pub fn trust_remove(&self, what: &str) -> Result<Result<TrustedRoot, Refusal>, StoreError> {
        let roots = self.store.trusted_roots()?;
        let root = match trust::find(&roots, what) {
            Ok(r) => r.clone(),
            Err(r) => return Ok(Err(r)),
        };
        self.store.remove_trusted_root(&root.fingerprint_sha256)?;
        self.note_change(None);
        Ok(Ok(root))
    }
}
