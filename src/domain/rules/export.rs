//! Download/export (issue #4): which certificates may leave the store (RV-2), and the files each
//! server format wants. Pure: the CLI writes what this returns.
use crate::domain::model::{Certificate, Status};
use crate::domain::pem::encode;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::Timestamp;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    Pem,
    Nginx,
    Apache,
    Haproxy,
    /// One password-protected PKCS#12 file (Windows, Java, appliances).
    Pkcs12,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Pem => "pem",
            Format::Nginx => "nginx",
            Format::Apache => "apache",
            Format::Haproxy => "haproxy",
            Format::Pkcs12 => "pkcs12",
        }
    }

    pub fn parse(s: &str) -> Result<Format, String> {
        match s {
            "pem" => Ok(Format::Pem),
            "nginx" => Ok(Format::Nginx),
            "apache" => Ok(Format::Apache),
            "haproxy" => Ok(Format::Haproxy),
            "pkcs12" | "p12" | "pfx" => Ok(Format::Pkcs12),
            other => Err(format!(
                "\"{other}\": format is pem, nginx, apache, haproxy or pkcs12"
            )),
        }
    }
}

/// One file to write: its name, its contents, and whether it holds the private key (0600).
#[derive(Clone, PartialEq, Eq)]
pub struct ExportFile {
    pub name: String,
    pub contents: Vec<u8>,
    pub secret: bool,
}

impl std::fmt::Debug for ExportFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportFile")
            .field("name", &self.name)
            .field("secret", &self.secret)
            .finish_non_exhaustive()
    }
}

/// RV-2: once a revocation is submitted the certificate can no longer be downloaded. An order
/// without a certificate has nothing to download (tag `EXPORT`: no SPEC rule).
pub fn check_export(cert: &Certificate, now: Timestamp) -> Result<(), Refusal> {
    match cert.status_at(now) {
        Status::Revoking | Status::Revoked => Err(Refusal::new(
            "RV-2",
            Field::Id,
            format!(
                "{} is {}: a certificate under revocation can no longer be downloaded",
                cert.id,
                cert.status_at(now).as_str()
            ),
        )),
        _ if cert.chain_der.is_empty() => Err(Refusal::new(
            "EXPORT",
            Field::Id,
            format!(
                "{} has no issued certificate to download yet ({})",
                cert.id,
                cert.status.as_str()
            ),
        )),
        _ => Ok(()),
    }
}

/// RI-6: a certificate whose key certdeck never had (reissued from a pasted CSR: the key stayed
/// with its owner) is exported as its certificate and chain; the formats that carry the key in
/// the same file cannot be made without it.
pub fn check_keyless(cert: &Certificate, format: Format) -> Result<(), Refusal> {
    match format {
        Format::Haproxy | Format::Pkcs12 => Err(Refusal::new(
            "RI-6",
            Field::Path,
            format!(
                "{} has no key in certdeck (it was issued for a CSR you gave; the key is yours): the {} file holds the key, so export as pem, nginx or apache and add your key",
                cert.id,
                format.as_str()
            ),
        )),
        _ => Ok(()),
    }
}

/// A file-name stem from the certificate's first domain (`*.` becomes `wildcard.`).
pub fn stem(cert: &Certificate) -> String {
    let base = cert
        .domains
        .first()
        .cloned()
        .unwrap_or_else(|| cert.id.clone())
        .replacen("*.", "wildcard.", 1);
    base.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// The files `format` wants, leaf first, intermediates after, the key on its own (0600).
/// Without a key (`None`, see `check_keyless`) the key file is left out.
pub fn export_files(cert: &Certificate, key_pem: Option<&str>, format: Format) -> Vec<ExportFile> {
    let leaf = cert
        .chain_der
        .first()
        .map(|d| encode("CERTIFICATE", d))
        .unwrap_or_default();
    // Servers send the chain without the root: drop a trailing self-signed certificate.
    let chain_links = cert
        .chain
        .iter()
        .zip(&cert.chain_der)
        .skip(1)
        .filter(|(l, _)| l.subject != l.issuer);
    let chain: String = chain_links.map(|(_, d)| encode("CERTIFICATE", d)).collect();
    let full = format!("{leaf}{chain}");
    let s = stem(cert);
    let file = |name: String, contents: String, secret: bool| ExportFile {
        name,
        contents: contents.into_bytes(),
        secret,
    };
    let key = |name: String| key_pem.map(|k| file(name, k.to_string(), true));
    let files: Vec<Option<ExportFile>> = match format {
        Format::Pem => vec![
            Some(file("cert.pem".into(), leaf, false)),
            Some(file("chain.pem".into(), chain, false)),
            Some(file("fullchain.pem".into(), full, false)),
            key("privkey.pem".into()),
        ],
        Format::Nginx => vec![
            Some(file(format!("{s}.crt"), full, false)),
            key(format!("{s}.key")),
        ],
        Format::Apache => vec![
            Some(file(format!("{s}.crt"), leaf, false)),
            Some(file(format!("{s}.chain.crt"), chain, false)),
            key(format!("{s}.key")),
        ],
        Format::Haproxy => {
            vec![key_pem.map(|k| file(format!("{s}.pem"), format!("{full}{k}"), true))]
        }
        // Built by the engine (it needs a password and randomness); see `pkcs12_file`.
        Format::Pkcs12 => Vec::new(),
    };
    files.into_iter().flatten().collect()
}

/// The PKCS#12 file of `cert`, from the bytes the engine encoded.
pub fn pkcs12_file(cert: &Certificate, bytes: Vec<u8>) -> ExportFile {
    ExportFile {
        name: format!("{}.p12", stem(cert)),
        contents: bytes,
        secret: true,
    }
}

/// The chain for a PKCS#12 bag: leaf first, the root left out as servers do.
pub fn chain_without_root(cert: &Certificate) -> Vec<Vec<u8>> {
    cert.chain_der
        .iter()
        .enumerate()
        .filter(|(i, _)| *i == 0 || cert.chain.get(*i).is_none_or(|l| l.subject != l.issuer))
        .map(|(_, d)| d.clone())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    #[test]
    fn rule_rv2_revoking_and_revoked_certificates_cannot_be_downloaded() {
        let mut c = crate::domain::rules::apply::tests_support::blank_order_cert();
        c.chain_der = vec![vec![0x30]];
        c.has_key = true;
        c.status = Status::Cancelled;
        assert!(check_export(&c, Utc::now()).is_ok());
        for s in [Status::Revoking, Status::Revoked] {
            c.status = s;
            assert_eq!(check_export(&c, Utc::now()).unwrap_err().rule, "RV-2");
        }
    }

    #[test]
    fn wildcard_stems_are_file_names() {
        let mut c = crate::domain::rules::apply::tests_support::blank_order_cert();
        c.domains = vec!["*.shop.example".into()];
        assert_eq!(stem(&c), "wildcard.shop.example");
    }

    #[test]
    fn rule_ri6_a_certificate_without_a_key_exports_its_certificate_and_chain_only() {
        let mut c = crate::domain::rules::apply::tests_support::blank_order_cert();
        c.domains = vec!["a.example".into()];
        c.chain_der = vec![vec![0x30], vec![0x31]];
        c.has_key = false;
        assert!(
            check_export(&c, Utc::now()).is_ok(),
            "no key: still exported"
        );
        for (format, expected) in [
            (Format::Pem, vec!["cert.pem", "chain.pem", "fullchain.pem"]),
            (Format::Nginx, vec!["a.example.crt"]),
            (Format::Apache, vec!["a.example.crt", "a.example.chain.crt"]),
        ] {
            assert!(check_keyless(&c, format).is_ok());
            let files = export_files(&c, None, format);
            let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
            assert_eq!(names, expected, "{format:?}");
            assert!(files.iter().all(|f| !f.secret));
        }
        for format in [Format::Haproxy, Format::Pkcs12] {
            let e = check_keyless(&c, format).unwrap_err();
            assert_eq!(e.rule, "RI-6");
            assert!(e.message.contains(format.as_str()), "{e}");
        }
    }
}
