//! The sandbox CA: a root and an issuing intermediate created on first use, their keys sealed in
//! the store like every other private key. It issues real X.509 certificates (rcgen) that chain
//! to its root.
use super::{CaBackend, IssueRequest, IssuedChain};
use crate::demo::pki::{Authority, KeyKind};
use crate::domain::model::Standard;
use crate::store::{Store, StoreError};
use chrono::Duration;

const ROOT_CN: &str = "certdeck Sandbox Root CA";
const ISSUING_CN: &str = "certdeck Sandbox Issuing CA";
const SM2_ROOT_CN: &str = "certdeck Sandbox SM2 Root CA";
const SM2_ISSUING_CN: &str = "certdeck Sandbox SM2 Issuing CA";
const ORG: &str = "certdeck sandbox";

pub struct SandboxCa {
    root_der: Vec<u8>,
    issuing: Authority,
    /// The SM2 (GM/T) hierarchy that issues SM2 certificates.
    sm2_root_der: Vec<u8>,
    sm2_issuing: Authority,
}

/// One hierarchy (root and issuing CA) stored under `name`, created on first use.
fn hierarchy(
    store: &Store,
    name: &str,
    (root_cn, issuing_cn): (&str, &str),
    kind: KeyKind,
) -> Result<(Vec<u8>, Authority), StoreError> {
    if let Some(m) = store.ca_material(name)? {
        let issuing = Authority::restore(issuing_cn, ORG, &m.issuing_key_pem, m.issuing_der)
            .map_err(StoreError::Db)?;
        return Ok((m.root_der, issuing));
    }
    let now = chrono::Utc::now();
    let root = Authority::root(
        root_cn,
        ORG,
        kind,
        now - Duration::days(1),
        now + Duration::days(365 * 25),
    );
    let issuing = root.intermediate(
        issuing_cn,
        ORG,
        now - Duration::days(1),
        now + Duration::days(365 * 15),
    );
    store.save_ca_material(
        name,
        &crate::store::CaMaterial {
            root_der: root.der.clone(),
            root_key_pem: root.key_pem(),
            issuing_der: issuing.der.clone(),
            issuing_key_pem: issuing.key_pem(),
        },
    )?;
    Ok((root.der, issuing))
}

impl SandboxCa {
    /// Loads the sandbox CA from the store, creating and saving its hierarchies on first use.
    pub fn load_or_create(store: &Store) -> Result<SandboxCa, StoreError> {
        let (root_der, issuing) =
            hierarchy(store, "sandbox", (ROOT_CN, ISSUING_CN), KeyKind::P256)?;
        let (sm2_root_der, sm2_issuing) = hierarchy(
            store,
            "sandbox-sm2",
            (SM2_ROOT_CN, SM2_ISSUING_CN),
            KeyKind::Sm2,
        )?;
        Ok(SandboxCa {
            root_der,
            issuing,
            sm2_root_der,
            sm2_issuing,
        })
    }

    pub fn root_der(&self) -> &[u8] {
        &self.root_der
    }

    pub fn issuing_der(&self) -> &[u8] {
        &self.issuing.der
    }

    /// The issuing CA of a standard: its name as certificate records write their issuer (the
    /// scope of its CRL), and the authority.
    fn issuing_of(&self, standard: Standard) -> &Authority {
        match standard {
            Standard::Sm2 => &self.sm2_issuing,
            Standard::International => &self.issuing,
        }
    }

    pub fn issuer_name(&self, standard: Standard) -> Result<String, String> {
        crate::domain::cert::parse_certificate(&self.issuing_of(standard).der)
            .map(|c| c.facts.subject)
    }

    /// The issuing and root certificates (DER) of a standard's hierarchy.
    pub fn certs(&self, standard: Standard) -> [&[u8]; 2] {
        match standard {
            Standard::Sm2 => [&self.sm2_issuing.der, &self.sm2_root_der],
            Standard::International => [&self.issuing.der, &self.root_der],
        }
    }

    /// The CRL (DER) of a standard's issuing CA listing `entries`, valid for 7 days from
    /// `now`. The CRL number is the signing time in seconds: it grows with every CRL signed.
    pub fn crl(
        &self,
        standard: Standard,
        entries: &[crate::domain::revocation::CrlEntry],
        now: crate::domain::time::Timestamp,
    ) -> Result<Vec<u8>, String> {
        let revoked = entries
            .iter()
            .map(|e| {
                let serial = hex_bytes(&e.serial)
                    .ok_or_else(|| format!("serial {} of {} is not hex", e.serial, e.cert_id))?;
                Ok((serial, e.revoked_at, e.reason.code()))
            })
            .collect::<Result<Vec<_>, String>>()?;
        self.issuing_of(standard).sign_crl(
            &revoked,
            now.timestamp().max(1) as u64,
            now,
            now + Duration::days(7),
        )
    }
}

fn hex_bytes(s: &str) -> Option<Vec<u8>> {
    let s = if s.len() % 2 == 1 {
        format!("0{s}")
    } else {
        s.to_string()
    };
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).ok())
        .collect()
}

impl CaBackend for SandboxCa {
    fn name(&self) -> &str {
        "sandbox"
    }

    fn issue(&self, req: &IssueRequest) -> Result<IssuedChain, String> {
        if req.domains.is_empty() {
            return Err("no domains to issue for".into());
        }
        if req.not_after.timestamp() > crate::domain::time::LAST_X509_SECOND {
            return Err(format!(
                "the validity would end {}, after 9999-12-31, the last date a certificate can carry",
                req.not_after.format("%Y-%m-%d")
            ));
        }
        let domains: Vec<&str> = req.domains.iter().map(String::as_str).collect();
        let (issuing, root) = match req.standard {
            Standard::Sm2 => (&self.sm2_issuing, &self.sm2_root_der),
            Standard::International => (&self.issuing, &self.root_der),
        };
        let (der, key_pem) = match &req.spki_der {
            Some(spki) => (
                issuing.issue_for_spki(&domains, spki, req.not_before, req.not_after)?,
                None,
            ),
            None => {
                // An SM2 authority issues an SM2 key whatever kind is asked for.
                let leaf = issuing.issue(&domains, KeyKind::P256, req.not_before, req.not_after);
                (leaf.der, Some(leaf.key_pem))
            }
        };
        Ok(IssuedChain {
            chain_der: vec![der, issuing.der.clone(), root.clone()],
            key_pem,
        })
    }
}
