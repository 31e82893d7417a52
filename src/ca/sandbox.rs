//! The sandbox CA: a root and an issuing intermediate created on first use, their keys sealed in
//! the store like every other private key. It issues real X.509 certificates (rcgen) that chain
//! to its root.
use super::{CaBackend, IssueRequest, IssuedChain};
use crate::ca::pki::{Authority, KeyKind};
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
    now: crate::domain::time::Timestamp,
) -> Result<(Vec<u8>, Authority), StoreError> {
    if let Some(m) = store.ca_material(name)? {
        let issuing = Authority::restore(issuing_cn, ORG, &m.issuing_key_pem, m.issuing_der)
            .map_err(StoreError::Db)?;
        return Ok((m.root_der, issuing));
    }
    let (from, root_until, issuing_until) = validity(now);
    let root = Authority::root(root_cn, ORG, kind, from, root_until);
    let issuing = root.intermediate(issuing_cn, ORG, from, issuing_until);
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

/// The sandbox hierarchy's validity around the engine's clock: from ten years before it (so
/// certificates issued under a simulated past `--now` chain to a CA valid at their issue time)
/// to 25 years (root) and 15 years (issuing CA) after it, never past the last date a
/// certificate can carry.
fn validity(
    now: crate::domain::time::Timestamp,
) -> (
    crate::domain::time::Timestamp,
    crate::domain::time::Timestamp,
    crate::domain::time::Timestamp,
) {
    let last = chrono::DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31T23:59:59Z");
    let first = chrono::DateTime::from_timestamp(0, 0).expect("1970");
    let at = |d: i64| {
        now.checked_add_signed(Duration::days(d))
            .unwrap_or(if d < 0 { first } else { last })
            .clamp(first, last)
    };
    (at(-3650), at(365 * 25), at(365 * 15))
}

impl SandboxCa {
    /// Loads the sandbox CA from the store, creating and saving its hierarchies on first use
    /// around the engine's clock `now`.
    pub fn load_or_create(
        store: &Store,
        now: crate::domain::time::Timestamp,
    ) -> Result<SandboxCa, StoreError> {
        let (root_der, issuing) =
            hierarchy(store, "sandbox", (ROOT_CN, ISSUING_CN), KeyKind::P256, now)?;
        let (sm2_root_der, sm2_issuing) = hierarchy(
            store,
            "sandbox-sm2",
            (SM2_ROOT_CN, SM2_ISSUING_CN),
            KeyKind::Sm2,
            now,
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

#[cfg(test)]
mod validity_tests {
    use super::validity;
    use chrono::{Duration, TimeZone, Utc};

    #[test]
    fn the_sandbox_ca_is_valid_around_the_engines_clock_even_at_its_ends() {
        let now = Utc.with_ymd_and_hms(2020, 3, 1, 0, 0, 0).unwrap();
        let (from, root, issuing) = validity(now);
        assert_eq!(from, now - Duration::days(3650));
        assert_eq!(root, now + Duration::days(365 * 25));
        assert_eq!(issuing, now + Duration::days(365 * 15));
        // Year 9999: capped at the last date a certificate can carry, no panic.
        let late = Utc.with_ymd_and_hms(9999, 12, 31, 0, 0, 0).unwrap();
        let (from, root, issuing) = validity(late);
        assert_eq!(
            root.format("%Y-%m-%d %H:%M:%S").to_string(),
            "9999-12-31 23:59:59"
        );
        assert_eq!(issuing, root);
        assert!(from < late);
        let early = Utc.with_ymd_and_hms(1971, 1, 1, 0, 0, 0).unwrap();
        assert_eq!(validity(early).0.timestamp(), 0);
    }
}
