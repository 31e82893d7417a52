//! U-2 trust anchors the user adds (`certdeck trust add`): private roots, so a chain that ends
//! at one is complete. Only CA certificates, never a key.
use crate::domain::cert::ParsedCert;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TrustedRoot {
    pub fingerprint_sha256: String,
    pub subject: String,
    pub not_after: Timestamp,
    /// The raw subject name: what chains are matched against.
    pub subject_raw: Vec<u8>,
    pub der: Vec<u8>,
    pub added_at: Timestamp,
}

/// The roots a PEM or DER file gives, each a CA certificate. A file holding a private key is
/// refused (certdeck never keeps a root's key), as is a certificate that is not a CA's.
pub fn roots_from(bytes: &[u8], now: Timestamp) -> Result<Vec<TrustedRoot>, Refusal> {
    let (certs, keys) = crate::domain::rules::upload::read_certificates(bytes, Field::Cert)?;
    if let Some(k) = keys.first() {
        return Err(Refusal::new(
            "U-2",
            Field::Cert,
            "the file holds a private key: give only the root certificate (certdeck never keeps a root's key)",
        )
        .at_line(Some(k.line)));
    }
    if let Some(c) = certs.iter().find(|c| !c.facts.is_ca) {
        return Err(Refusal::new(
            "U-2",
            Field::Cert,
            format!(
                "\"{}\" is not a CA certificate (no basicConstraints CA:TRUE): only a root or intermediate can be trusted",
                c.facts.subject
            ),
        ));
    }
    Ok(certs.iter().map(|c| root_of(c, now)).collect())
}

fn root_of(c: &ParsedCert, now: Timestamp) -> TrustedRoot {
    TrustedRoot {
        fingerprint_sha256: c.facts.fingerprint_sha256.clone(),
        subject: c.facts.subject.clone(),
        not_after: c.facts.not_after,
        subject_raw: c.subject_raw.clone(),
        der: c.der.clone(),
        added_at: now,
    }
}

/// The trusted root `what` names: its fingerprint (or a unique start of it, 8 hex digits at
/// least) or its exact subject.
pub fn find<'a>(roots: &'a [TrustedRoot], what: &str) -> Result<&'a TrustedRoot, Refusal> {
    let w = what.trim().to_ascii_lowercase().replace(':', "");
    let hits: Vec<&TrustedRoot> = roots
        .iter()
        .filter(|r| {
            (w.len() >= 8 && r.fingerprint_sha256.starts_with(&w)) || r.subject == what.trim()
        })
        .collect();
    match hits.as_slice() {
        [one] => Ok(one),
        [] => Err(Refusal::new(
            "U-2",
            Field::Id,
            format!("no trusted root is {what} (see `certdeck trust list`)"),
        )),
        many => Err(Refusal::new(
            "U-2",
            Field::Id,
            format!(
                "{what} names {} trusted roots; give more of the fingerprint",
                many.len()
            ),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::pki::{Authority, KeyKind};

    fn now() -> Timestamp {
        chrono::Utc::now()
    }

    #[test]
    fn rule_u2_only_ca_certificates_are_trusted_and_never_with_a_key() {
        let from = now() - chrono::Duration::days(1);
        let until = now() + chrono::Duration::days(100);
        let root = Authority::root("Private Root", "Org", KeyKind::P256, from, until);
        let pem = crate::domain::pem::encode("CERTIFICATE", &root.der);
        let roots = roots_from(pem.as_bytes(), now()).unwrap();
        assert_eq!(roots.len(), 1);
        assert!(roots[0].subject.contains("Private Root"));
        // A key beside it: refused, and the refusal does not quote it.
        let with_key = format!("{pem}{}", root.key_pem());
        let e = roots_from(with_key.as_bytes(), now()).unwrap_err();
        assert_eq!(e.rule, "U-2");
        assert!(!e.message.contains("BEGIN") && e.line.is_some(), "{e}");
        // A leaf is not a root.
        let leaf = root.issue(&["a.example"], KeyKind::P256, from, until);
        let e = roots_from(leaf.cert_pem.as_bytes(), now()).unwrap_err();
        assert!(e.message.contains("not a CA certificate"), "{e}");
        // Found by a fingerprint's start (8 digits at least) or the subject.
        let fp = &roots[0].fingerprint_sha256;
        assert!(find(&roots, &fp[..8]).is_ok());
        assert!(find(&roots, &fp[..7]).is_err());
        assert!(find(&roots, &roots[0].subject.clone()).is_ok());
    }
}
