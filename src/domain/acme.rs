//! ACME accounts (SPEC AC-1): which directory, who to contact, whether its terms were agreed.
//! Pure: the network side is `ca::acme`.
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The directories certdeck knows by name (AC-1), with the name shown as their brand.
pub const PRESETS: [(&str, &str, &str); 5] = [
    (
        "letsencrypt",
        "https://acme-v02.api.letsencrypt.org/directory",
        "Let's Encrypt",
    ),
    (
        "letsencrypt-staging",
        "https://acme-staging-v02.api.letsencrypt.org/directory",
        "Let's Encrypt (staging)",
    ),
    ("zerossl", "https://acme.zerossl.com/v2/DV90", "ZeroSSL"),
    (
        "google",
        "https://dv.acme-v02.api.pki.goog/directory",
        "Google Trust Services",
    ),
    (
        "google-staging",
        "https://dv.acme-v02.test-api.pki.goog/directory",
        "Google Trust Services (staging)",
    ),
];

/// AC-5: where a `--dry-run` of an order on `directory_url` goes: the staging twin of a known
/// production directory, else the directory itself (a private or test CA).
pub fn dry_run_directory(directory_url: &str) -> &str {
    let twin = |name: &str| {
        PRESETS
            .iter()
            .find(|(p, _, _)| *p == name)
            .map(|(_, u, _)| *u)
    };
    let preset = PRESETS
        .iter()
        .find(|(_, u, _)| *u == directory_url)
        .map(|(p, _, _)| *p);
    match preset {
        Some("letsencrypt") => twin("letsencrypt-staging").unwrap_or(directory_url),
        Some("google") => twin("google-staging").unwrap_or(directory_url),
        _ => directory_url,
    }
}

/// An account name: what `--ca NAME` and the list call it.
pub const MAX_ACCOUNT_NAME: usize = 32;

/// A stored ACME account. The account key is not here: it is sealed with the private keys.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeAccount {
    pub name: String,
    pub directory_url: String,
    /// The preset's name for a known directory, else the directory's host (the brand of what
    /// it issues).
    pub directory_name: String,
    pub contacts: Vec<String>,
    /// A private CA's root (PEM), trusted for this directory's HTTPS besides the public roots.
    pub root_pem: Option<String>,
    /// The External Account Binding key id the account was bound with.
    pub eab_kid: Option<String>,
    /// The terms of service URL agreed to (None: the directory names none).
    pub terms_agreed: Option<String>,
    /// The account's URL at the CA.
    pub account_url: String,
    pub created_at: Timestamp,
}

/// What `acme account add` was given, checked before anything goes to the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccountRequest {
    pub name: String,
    pub directory_url: String,
    pub directory_name: String,
    pub contacts: Vec<String>,
}

fn refuse(field: Field, message: impl Into<String>) -> Refusal {
    Refusal::new("AC-1", field, message)
}

/// AC-1: a name, a directory (preset or https URL) and contacts (`mailto:` addresses).
pub fn account_request(
    name: &str,
    directory: &str,
    contacts: &[String],
) -> Result<AccountRequest, Refusal> {
    let name = name.trim();
    let valid_name = !name.is_empty()
        && name.len() <= MAX_ACCOUNT_NAME
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if !valid_name {
        return Err(refuse(
            Field::Name,
            format!("an account name is 1 to {MAX_ACCOUNT_NAME} letters, digits, '-', '_' or '.'"),
        ));
    }
    let (directory_url, directory_name) = match PRESETS.iter().find(|(p, _, _)| *p == directory) {
        Some((_, url, shown)) => (url.to_string(), shown.to_string()),
        None => {
            let host = directory
                .strip_prefix("https://")
                .and_then(|rest| rest.split(['/', '?']).next())
                .filter(|h| !h.is_empty() && !h.contains('@'));
            match host {
                Some(host) => (directory.to_string(), host.to_string()),
                None => {
                    let names: Vec<&str> = PRESETS.iter().map(|(p, _, _)| *p).collect();
                    return Err(refuse(
                        Field::Domain,
                        format!(
                            "directory {directory}: give an https:// URL or one of {}",
                            names.join(", ")
                        ),
                    ));
                }
            }
        }
    };
    let mut checked = Vec::new();
    for c in contacts {
        let address = c.strip_prefix("mailto:").unwrap_or(c);
        let (local, domain) = address.split_once('@').unwrap_or(("", ""));
        if local.is_empty()
            || !domain.contains('.')
            || address.chars().any(|ch| ch.is_whitespace() || ch == ',')
        {
            return Err(refuse(
                Field::Recipient,
                format!("contact {c}: expected mailto:name@example.com"),
            ));
        }
        checked.push(format!("mailto:{address}"));
    }
    Ok(AccountRequest {
        name: name.to_string(),
        directory_url,
        directory_name,
        contacts: checked,
    })
}

/// AC-1: the directory's terms must be agreed to explicitly.
pub fn check_terms(terms: Option<&str>, agreed: bool) -> Result<(), Refusal> {
    match (terms, agreed) {
        (_, true) | (None, false) => Ok(()),
        (Some(url), false) => Err(refuse(
            Field::Name,
            format!("the directory's terms of service are at {url}; read them and pass --agree-tos to agree"),
        )),
    }
}

/// AC-1: External Account Binding comes as a key id and a file with the HMAC key, both or none;
/// a directory that requires it is told before the network says so.
pub fn check_eab(required: bool, kid: Option<&str>, hmac_given: bool) -> Result<(), Refusal> {
    match (kid, hmac_given) {
        (Some(_), false) | (None, true) => Err(refuse(
            Field::Password,
            "External Account Binding needs both --eab-kid and --eab-hmac-file",
        )),
        (None, false) if required => Err(refuse(
            Field::Password,
            "this directory requires External Account Binding: give --eab-kid and --eab-hmac-file (from the CA's account page)",
        )),
        _ => Ok(()),
    }
}

/// The HMAC key of an EAB file: base64url (padding and line ends tolerated).
pub fn eab_hmac_key(text: &str) -> Result<Vec<u8>, Refusal> {
    let cleaned: String = text
        .trim()
        .trim_end_matches('=')
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let padded = format!("{cleaned}{}", "=".repeat((4 - cleaned.len() % 4) % 4));
    let block = format!("-----BEGIN X-----\n{padded}\n-----END X-----\n");
    match crate::domain::pem::scan(&block) {
        Ok(mut b) if !b.is_empty() && b[0].der.len() >= 16 => Ok(b.remove(0).der),
        _ => Err(refuse(
            Field::Password,
            "the EAB HMAC key file must hold the base64url key the CA gave (at least 16 bytes)",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_ac1_presets_urls_names_and_contacts() {
        let r = account_request("le", "letsencrypt-staging", &["ops@example.com".into()]).unwrap();
        assert_eq!(
            r.directory_url,
            "https://acme-staging-v02.api.letsencrypt.org/directory"
        );
        assert_eq!(r.directory_name, "Let's Encrypt (staging)");
        assert_eq!(r.contacts, vec!["mailto:ops@example.com"]);
        let r =
            account_request("step", "https://ca.internal:9000/acme/acme/directory", &[]).unwrap();
        assert_eq!(r.directory_name, "ca.internal:9000");
        for bad in [
            "http://ca/dir",
            "letsencrypt-prod",
            "https://u:p@h/d",
            "https://",
        ] {
            let e = account_request("x", bad, &[]).unwrap_err();
            assert_eq!((e.rule.as_str(), e.field), ("AC-1", Field::Domain), "{bad}");
        }
        assert!(account_request(&"n".repeat(MAX_ACCOUNT_NAME), "zerossl", &[]).is_ok());
        assert!(account_request(&"n".repeat(MAX_ACCOUNT_NAME + 1), "zerossl", &[]).is_err());
        assert!(account_request("a b", "zerossl", &[]).is_err());
        assert!(account_request("a", "zerossl", &["mailto:nobody".into()]).is_err());
    }

    #[test]
    fn rule_ac5_dry_runs_go_to_the_staging_twin_or_the_directory_itself() {
        let url = |p: &str| PRESETS.iter().find(|(n, _, _)| *n == p).unwrap().1;
        assert_eq!(
            dry_run_directory(url("letsencrypt")),
            url("letsencrypt-staging")
        );
        assert_eq!(dry_run_directory(url("google")), url("google-staging"));
        assert_eq!(
            dry_run_directory(url("letsencrypt-staging")),
            url("letsencrypt-staging")
        );
        assert_eq!(dry_run_directory(url("zerossl")), url("zerossl"));
        assert_eq!(
            dry_run_directory("https://ca.internal/acme/dir"),
            "https://ca.internal/acme/dir"
        );
    }

    #[test]
    fn rule_ac1_terms_must_be_agreed_explicitly() {
        let e = check_terms(Some("https://ca/tos.pdf"), false).unwrap_err();
        assert!(e.message.contains("https://ca/tos.pdf") && e.message.contains("--agree-tos"));
        assert!(check_terms(Some("https://ca/tos.pdf"), true).is_ok());
        assert!(check_terms(None, false).is_ok());
    }

    #[test]
    fn rule_ac1_eab_needs_both_parts_and_a_real_key() {
        assert!(check_eab(true, None, false)
            .unwrap_err()
            .message
            .contains("requires"));
        assert!(check_eab(false, Some("kid"), false).is_err());
        assert!(check_eab(false, None, true).is_err());
        assert!(check_eab(true, Some("kid"), true).is_ok());
        assert!(check_eab(false, None, false).is_ok());
        // 32 bytes, base64url without padding, as CAs hand them out.
        let key =
            eab_hmac_key("zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W\n")
                .unwrap();
        assert_eq!(key.len(), 48);
        assert!(eab_hmac_key("c2hvcnQ").is_err(), "too short");
        assert!(eab_hmac_key("not base64 !").is_err());
    }
}

/// AC-2: the keys an ACME CA certifies (ECDSA P-256/P-384, RSA); SM2 is the sandbox's.
pub fn check_key_type(key: crate::domain::reissue::KeyChoice) -> Result<(), Refusal> {
    if key == crate::domain::reissue::KeyChoice::Sm2 {
        return Err(Refusal::new(
            "AC-2",
            Field::Domain,
            "ACME CAs certify ECDSA P-256/P-384 and RSA keys, not SM2: --key-type p256|p384|rsa2048|rsa3072|rsa4096",
        ));
    }
    Ok(())
}

/// AC-6: an account whose certificates are still stored is not forgotten without `force`:
/// revoking them needs its key.
pub fn check_account_removable(
    name: &str,
    exists: bool,
    issued: &[String],
    force: bool,
) -> Result<(), Refusal> {
    if !exists {
        return Err(Refusal::new(
            "AC-1",
            Field::Name,
            format!("no ACME account named {name}"),
        ));
    }
    if !issued.is_empty() && !force {
        return Err(Refusal::new(
            "AC-6",
            Field::Name,
            format!(
                "account {name} issued {} stored certificate(s) ({}); revoking them needs its key: delete them first, or pass --force",
                issued.len(),
                issued.join(", ")
            ),
        ));
    }
    Ok(())
}

/// Where an ACME certificate came from: the account and the order (kept beside the record).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcmeOrigin {
    pub account: String,
    pub order_url: String,
}

/// The longest domain list one ACME order takes here (Let's Encrypt allows 100 names).
pub const MAX_ORDER_NAMES: usize = 100;

/// AC-2/AC-3: the names of an order, checked before any request: DNS names (a wildcard needs
/// dns-01, which http-01 cannot prove) or IP addresses, each once.
pub fn order_names(domain: &str, sans: &[String], http01: bool) -> Result<Vec<String>, Refusal> {
    let refuse = |m: String| Refusal::new("AC-2", Field::Domain, m);
    let mut names: Vec<String> = Vec::new();
    for n in std::iter::once(domain).chain(sans.iter().map(String::as_str)) {
        let n = n.trim().trim_end_matches('.').to_ascii_lowercase();
        let is_ip = n.parse::<std::net::IpAddr>().is_ok();
        let bare = n.strip_prefix("*.").unwrap_or(&n);
        let valid_dns = bare.contains('.')
            && bare.len() <= 253
            && bare.split('.').all(|l| {
                !l.is_empty()
                    && l.len() <= 63
                    && !l.starts_with('-')
                    && !l.ends_with('-')
                    && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !is_ip && !valid_dns {
            return Err(refuse(format!("{n} is not a domain name or an IP address")));
        }
        if n.starts_with("*.") && http01 {
            return Err(refuse(format!(
                "{n}: a wildcard can only be validated with dns-01 (AC-3)"
            )));
        }
        if names.contains(&n) {
            return Err(refuse(format!("{n} is named twice")));
        }
        names.push(n);
    }
    if names.len() > MAX_ORDER_NAMES {
        return Err(refuse(format!(
            "{} names; one order takes at most {MAX_ORDER_NAMES}",
            names.len()
        )));
    }
    Ok(names)
}

#[cfg(test)]
mod order_tests {
    use super::*;

    #[test]
    fn rule_ac2_sm2_keys_are_not_for_acme_cas() {
        use crate::domain::reissue::KeyChoice;
        assert_eq!(check_key_type(KeyChoice::Sm2).unwrap_err().rule, "AC-2");
        assert!(check_key_type(KeyChoice::P384).is_ok());
    }

    #[test]
    fn rule_ac6_an_account_with_stored_certificates_needs_force_to_go() {
        assert!(check_account_removable("a", true, &[], false).is_ok());
        let e = check_account_removable("a", true, &["c1".into()], false).unwrap_err();
        assert_eq!(e.rule, "AC-6");
        assert!(e.message.contains("c1"));
        assert!(check_account_removable("a", true, &["c1".into()], true).is_ok());
        assert_eq!(
            check_account_removable("a", false, &[], true)
                .unwrap_err()
                .rule,
            "AC-1"
        );
    }

    #[test]
    fn rule_ac2_names_are_domains_or_ips_once_and_wildcards_need_dns01() {
        assert_eq!(
            order_names(
                "Shop.Example.com.",
                &["www.example.com".into(), "192.0.2.7".into()],
                true
            )
            .unwrap(),
            vec!["shop.example.com", "www.example.com", "192.0.2.7"]
        );
        assert!(order_names("*.example.com", &[], false).is_ok());
        let e = order_names("*.example.com", &[], true).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("AC-2", Field::Domain));
        assert!(e.message.contains("dns-01"));
        assert!(order_names("a.example", &["a.example".into()], true).is_err());
        assert!(order_names("localhost", &[], true).is_err());
        assert!(order_names("-a.example", &[], true).is_err());
        let hundred: Vec<String> = (1..MAX_ORDER_NAMES)
            .map(|i| format!("h{i}.example"))
            .collect();
        assert!(order_names("h0.example", &hundred, true).is_ok());
        let more: Vec<String> = (1..=MAX_ORDER_NAMES)
            .map(|i| format!("h{i}.example"))
            .collect();
        assert!(order_names("h0.example", &more, true).is_err());
    }
}

/// AC-6 with RV-2: an ACME certificate can be revoked while it is issued and not expired; a
/// revoked one cannot be revoked again. (RV-3..RV-6 are the sandbox brands' rules.)
pub fn check_revocable(
    cert: &crate::domain::model::Certificate,
    now: Timestamp,
) -> Result<(), Refusal> {
    use crate::domain::model::Status;
    match cert.status_at(now) {
        Status::Issued | Status::ToBeRenewed => Ok(()),
        Status::Revoked | Status::Revoking => Err(Refusal::new(
            "RV-2",
            Field::Id,
            format!("{} is already revoked", cert.id),
        )),
        Status::Expired => Err(Refusal::new(
            "AC-6",
            Field::Id,
            format!("{} has expired: the CA no longer revokes it", cert.id),
        )),
        other => Err(Refusal::new(
            "AC-6",
            Field::Id,
            format!(
                "{} is {}, not issued: nothing to revoke",
                cert.id,
                other.as_str()
            ),
        )),
    }
}

/// AC-6: the record once the CA has revoked it (RV-2: no download or deployment afterwards;
/// RV-7: it can then be deleted).
pub fn revoked(
    cert: &crate::domain::model::Certificate,
    reason: crate::domain::revocation::Reason,
    account: &str,
    now: Timestamp,
) -> crate::domain::schedule::Fired {
    use crate::domain::model::{Status, TimelineEvent};
    let mut updated = cert.clone();
    updated.status = Status::Revoked;
    updated.auto_renew = false;
    crate::domain::schedule::Fired {
        event: TimelineEvent {
            at: now,
            kind: "revoked".into(),
            message: format!(
                "revoked at the CA through ACME account {account} ({}); it can no longer be downloaded or deployed, and can be deleted (AC-6, RV-2, RV-7)",
                reason.as_str()
            ),
        },
        updated: Some(updated),
        ..Default::default()
    }
}

/// One TXT record an ACME order waits for (dns-01 by hand, AC-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtRecord {
    pub domain: String,
    pub name: String,
    pub value: String,
}

/// AC-2, AC-3: the record of an ACME order left open for records added by hand: `validating`,
/// its order listing the records with the earliest authorization deadline (in the Validation
/// queue like any order), no fee.
#[allow(clippy::too_many_arguments)]
pub fn pending_order(
    id: String,
    account: &AcmeAccount,
    domains: &[String],
    records: &[TxtRecord],
    deadline: Option<Timestamp>,
    name: Option<String>,
    tags: std::collections::BTreeMap<String, String>,
    project: Option<String>,
    now: Timestamp,
) -> (
    crate::domain::model::Certificate,
    crate::domain::order::OrderInfo,
    crate::domain::model::TimelineEvent,
) {
    use crate::domain::model::{Certificate, DomainKind, Source, Standard, Status, TimelineEvent};
    use crate::domain::order::{Challenge, OrderInfo, ValidationMethod};
    let cert = Certificate {
        id,
        name: name.unwrap_or_else(|| domains.first().cloned().unwrap_or_default()),
        source: Source::Issued,
        status: Status::Validating,
        brand: account.directory_name.clone(),
        cert_type: None,
        standard: Standard::International,
        domain_kind: DomainKind::of(domains),
        domains: domains.to_vec(),
        x509: None,
        chain: Vec::new(),
        chain_der: Vec::new(),
        chain_complete: false,
        enc_cert_pem: None,
        has_key: false,
        auto_renew: true,
        ignored: false,
        tags,
        project,
        renewed_from: None,
        reissued_from: None,
        created_at: now,
    };
    let order = OrderInfo {
        product: format!("acme:{}", account.name),
        years: 0,
        validation: ValidationMethod::Dns,
        challenges: records
            .iter()
            .map(|r| Challenge::DnsTxt {
                domain: r.domain.clone(),
                name: r.name.clone(),
                value: r.value.clone(),
            })
            .collect(),
        price: crate::domain::account::Money(0),
        submitted_at: now,
        validated_at: None,
        review_due: None,
        deadline,
        valid_until: None,
        letter_uploaded_at: None,
        last_reminder_at: None,
    };
    let until = deadline
        .map(|d| format!(" by {}", d.format("%Y-%m-%d %H:%M UTC")))
        .unwrap_or_default();
    let event = TimelineEvent {
        at: now,
        kind: "ordered".into(),
        message: format!(
            "ACME order placed with {} (account {}); add {} TXT record(s){until}, then check (c / certdeck validate {}): certdeck tells the CA once it sees them (AC-3)",
            account.directory_name,
            account.name,
            records.len(),
            cert.id
        ),
    };
    (cert, order, event)
}

/// AC-6: what revoking an ACME certificate does, for the confirmation dialog.
pub fn revocation_plan(
    cert: &crate::domain::model::Certificate,
    account: &AcmeAccount,
    now: Timestamp,
) -> Result<crate::domain::rules::revoke::RevokePlan, Refusal> {
    check_revocable(cert, now)?;
    Ok(crate::domain::rules::revoke::RevokePlan {
        id: cert.id.clone(),
        name: cert.name.clone(),
        flow: crate::domain::revocation::Flow::AcmeCa,
        document: None,
        document_kinds: "",
        family: Vec::new(),
        steps: vec![
            format!(
                "certdeck asks {} to revoke it with the chosen reason, signed by ACME account {}",
                account.directory_name, account.name
            ),
            "the CA answers at once: no review, nothing to upload".into(),
        ],
    })
}

/// AC-5: an open ACME order the CA refused (its validation failed, the order is invalid) ends
/// `failed`, its timeline holding the CA's problem.
pub fn order_refused(
    cert: &crate::domain::model::Certificate,
    order: &crate::domain::order::OrderInfo,
    problem: &str,
    now: Timestamp,
) -> crate::domain::schedule::Fired {
    use crate::domain::model::{Status, TimelineEvent};
    let mut updated = cert.clone();
    updated.status = Status::Failed;
    let mut closed = order.clone();
    closed.deadline = None;
    crate::domain::schedule::Fired {
        event: TimelineEvent {
            at: now,
            kind: "failed".into(),
            message: format!("the CA refused the order: {problem} (AC-5); order again to retry"),
        },
        updated: Some(updated),
        updated_order: Some(closed),
        ..Default::default()
    }
}
