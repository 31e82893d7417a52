//! One ACME order, start to finish (AC-2, AC-3): new order, http-01 challenges published (a
//! built-in listener or files in a webroot), certdeck's own check of every token before the CA
//! is told (a failed validation costs rate limit), finalize with a CSR for the key the engine generated,
//! download the chain, and the token files removed whatever happened.
use super::{describe, run, Failure};
use crate::domain::reissue::KeyChoice;
use instant_acme::{
    AuthorizationStatus, ChallengeType, Identifier, NewOrder, OrderStatus, RetryPolicy,
};
use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

pub use crate::domain::acme_renewal::Solver;

fn challenge_of(solver: &Solver) -> ChallengeType {
    if solver.is_http01() {
        ChallengeType::Http01
    } else {
        ChallengeType::Dns01
    }
}

/// What was published for one authorization, for certdeck's own check (AC-3).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Published {
    Http {
        domain: String,
        token: String,
        key_authorization: String,
    },
    Dns {
        domain: String,
        name: String,
        value: String,
    },
}

/// How long a DNS hook may take, each call.
const HOOK_DEADLINE: Duration = Duration::from_secs(60);

fn run_hook(
    command: &str,
    action: &str,
    domain: &str,
    name: &str,
    value: &str,
) -> Result<(), String> {
    let env = vec![
        ("CERTDECK_DNS_ACTION".to_string(), action.to_string()),
        ("CERTDECK_DNS_NAME".to_string(), name.to_string()),
        ("CERTDECK_DNS_VALUE".to_string(), value.to_string()),
        ("CERTDECK_DNS_DOMAIN".to_string(), domain.to_string()),
    ];
    let r = crate::deploy::command::run_with(command, HOOK_DEADLINE, &env, None);
    if r.ok {
        Ok(())
    } else {
        Err(format!(
            "the DNS hook ({action} {name}) failed: {} {}",
            r.status,
            r.output.trim()
        ))
    }
}

/// How dns-01 TXT records are published.
enum DnsWay {
    Hook(String),
    /// RFC 2136 to the primary server, signed with the key.
    Update {
        server: SocketAddr,
        key: crate::domain::tsig::TsigKey,
    },
}

impl DnsWay {
    /// The way a solver publishes TXT records; the key file is read (and checked) here, before
    /// anything is asked of the CA.
    fn of(solver: &Solver) -> Result<Option<DnsWay>, String> {
        Ok(match solver {
            Solver::DnsHook(h) => Some(DnsWay::Hook(h.clone())),
            Solver::DnsUpdate { server, key_file } => {
                let text = crate::sidefile::read_secret_file(key_file)
                    .map_err(|e| format!("--tsig-key-file {}: {e}", key_file.display()))?;
                let key = crate::domain::tsig::parse_key_file(&text)
                    .map_err(|e| format!("--tsig-key-file {}: {e}", key_file.display()))?;
                let (host, port) = match server.rsplit_once(':') {
                    Some((h, p)) if !h.contains(':') || h.ends_with(']') => (
                        h,
                        p.parse::<u16>().map_err(|_| {
                            format!("--dns-update {server}: the port is not a number")
                        })?,
                    ),
                    _ => (server.as_str(), 53),
                };
                let deadline = std::time::Instant::now() + Duration::from_secs(10);
                let server = crate::net::resolve(host, port, deadline)
                    .map_err(|e| format!("--dns-update {server}: {e}"))?
                    .into_iter()
                    .next()
                    .ok_or_else(|| format!("--dns-update {server}: no address"))?;
                Some(DnsWay::Update { server, key })
            }
            _ => None,
        })
    }

    fn publish(&self, domain: &str, name: &str, value: &str, add: bool) -> Result<(), String> {
        match self {
            DnsWay::Hook(h) => run_hook(h, if add { "add" } else { "remove" }, domain, name, value),
            DnsWay::Update { server, key } => {
                let zone = super::dns_update::find_zone(*server, name)?;
                super::dns_update::update(*server, key, &zone, name, value, add)
            }
        }
    }
}

/// TXT records added, removed the same way when dropped (AC-3: removed afterwards).
struct DnsRecords {
    way: Option<DnsWay>,
    added: Vec<(String, String, String)>,
}

impl Drop for DnsRecords {
    fn drop(&mut self) {
        if let Some(way) = &self.way {
            for (domain, name, value) in &self.added {
                let _ = way.publish(domain, name, value, false);
            }
        }
    }
}

pub struct OrderSpec<'a> {
    pub credentials: &'a [u8],
    pub root_pem: Option<&'a str>,
    pub domains: &'a [String],
    /// The new certificate's key (PKCS#8 PEM, made by the engine) and its kind.
    pub key_pem: &'a str,
    pub key: KeyChoice,
    pub solver: &'a Solver,
    pub profile: Option<&'a str>,
    /// RFC 9773: the certificate this order renews (`AKI.serial`), when the CA offers ARI.
    pub replaces: Option<&'a str>,
}

/// What the CA issued: the chain (PEM, leaf first) and the key it certifies (PKCS#8 PEM, never
/// shown).
pub struct Obtained {
    pub chain_pem: String,
    pub key_pem: zeroize::Zeroizing<String>,
    pub order_url: String,
}

/// The whole order, from new-order to certificate.
const ORDER_DEADLINE: Duration = Duration::from_secs(300);

/// Token files written into a webroot, removed when dropped (AC-3: removed afterwards).
struct WebrootFiles(Vec<PathBuf>);

impl Drop for WebrootFiles {
    fn drop(&mut self) {
        for f in &self.0 {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn write_token(dir: &std::path::Path, token: &str, key_auth: &str) -> Result<PathBuf, String> {
    use std::os::unix::fs::PermissionsExt;
    let challenge_dir = dir.join(".well-known/acme-challenge");
    std::fs::create_dir_all(&challenge_dir)
        .map_err(|e| format!("{}: {e}", challenge_dir.display()))?;
    let path = challenge_dir.join(token);
    let mut tmp = tempfile::Builder::new()
        .prefix(".certdeck-token-")
        .tempfile_in(&challenge_dir)
        .map_err(|e| format!("{}: {e}", challenge_dir.display()))?;
    tmp.write_all(key_auth.as_bytes())
        .and_then(|_| tmp.as_file().sync_all())
        .and_then(|_| {
            tmp.as_file()
                .set_permissions(std::fs::Permissions::from_mode(0o644))
        })
        .map_err(|e| format!("{}: {e}", path.display()))?;
    tmp.persist(&path)
        .map_err(|e| format!("{}: {}", path.display(), e.error))?;
    Ok(path)
}

/// A CSR for `names` signed by `key_pem`.
fn csr(names: &[String], key_pem: &str, key: KeyChoice) -> Result<Vec<u8>, String> {
    let alg = match key {
        KeyChoice::P256 => &rcgen::PKCS_ECDSA_P256_SHA256,
        KeyChoice::P384 => &rcgen::PKCS_ECDSA_P384_SHA384,
        KeyChoice::Rsa2048 | KeyChoice::Rsa3072 | KeyChoice::Rsa4096 => &rcgen::PKCS_RSA_SHA256,
        KeyChoice::Sm2 => return Err("an SM2 key cannot be certified by an ACME CA".into()),
    };
    let kp = rcgen::KeyPair::from_pem_and_sign_algo(key_pem, alg).map_err(|e| e.to_string())?;
    let mut params = rcgen::CertificateParams::new(names.to_vec()).map_err(|e| e.to_string())?;
    params.distinguished_name = rcgen::DistinguishedName::new();
    Ok(params
        .serialize_request(&kp)
        .map_err(|e| e.to_string())?
        .der()
        .to_vec())
}

/// After the challenges are answered: wait for the CA's validation (bounded), finalize with the
/// CSR, download the chain. A failed validation is said with the first challenge's problem.
async fn finish(order: &mut instant_acme::Order, csr: &[u8]) -> Result<String, Failure> {
    let ca = |e: instant_acme::Error| Failure::of(&e);
    let retry = RetryPolicy::new()
        .initial_delay(Duration::from_millis(250))
        .timeout(Duration::from_secs(120));
    let status = order.poll_ready(&retry).await.map_err(ca)?;
    if status != OrderStatus::Ready {
        // Say why: the first failed challenge's problem.
        let mut why = format!("the order is {status:?}");
        let mut authzs = order.authorizations();
        while let Some(Ok(mut a)) = authzs.next().await {
            if let Ok(state) = a.refresh().await {
                if let Some(e) = state.challenges.iter().find_map(|c| c.error.clone()) {
                    why = describe(&instant_acme::Error::Api(e));
                    break;
                }
            }
        }
        return Err(Failure::Ca(why));
    }
    order.finalize_csr(csr).await.map_err(ca)?;
    let chain = order.poll_certificate(&retry).await.map_err(ca)?;
    Ok(chain)
}

/// Places one order and sees it through. `own_check` is certdeck's lookup of what was published
/// (the token file, the TXT record); the CA is told to validate only after it passes.
pub fn obtain(
    spec: &OrderSpec,
    own_check: &(dyn Fn(&Published) -> Result<(), String> + Sync),
) -> Result<Obtained, Failure> {
    let session = super::Session::new(spec.credentials, spec.root_pem)?;
    let retry_after = session.retry_after.clone();
    let csr = csr(spec.domains, spec.key_pem, spec.key).map_err(Failure::ac3)?;
    // Orders running at once share one listener per address (a fleet's renewals).
    let mut answers = match spec.solver {
        Solver::Listen(addr) => Some(super::listener::answering_on(*addr).map_err(Failure::ac3)?),
        _ => None,
    };
    let mut files = WebrootFiles(Vec::new());
    let mut records = DnsRecords {
        way: DnsWay::of(spec.solver).map_err(Failure::ac3)?,
        added: Vec::new(),
    };
    let ca = |e: instant_acme::Error| Failure::of(&e);
    let (chain_pem, order_url) = run(ORDER_DEADLINE, async {
        let account = session.open().await?;
        let identifiers = identifiers(spec.domains);
        let new_order = new_order(&identifiers, spec.profile, spec.replaces);
        let mut order = account.new_order(&new_order).await.map_err(ca)?;
        // Publish every pending token, check it ourselves, then tell the CA.
        let mut pending = Vec::new();
        {
            let mut authzs = order.authorizations();
            while let Some(a) = authzs.next().await {
                let mut a = a.map_err(ca)?;
                if a.status == AuthorizationStatus::Valid {
                    continue;
                }
                // The name validated: a wildcard's authorization is for its base domain.
                let domain = a.identifier().to_string();
                let domain = domain.trim_start_matches("*.").to_string();
                let kind = challenge_of(spec.solver);
                let ch = a.challenge(kind.clone()).ok_or_else(|| {
                    Failure::Ca(format!("{domain}: the CA offers no {kind:?} challenge"))
                })?;
                let key_auth = ch.key_authorization();
                let token = ch.token.clone();
                match spec.solver {
                    Solver::Manual => {
                        return Err(Failure::ac3(
                            "dns-01 by hand is an open order (place_manual), not seen through at once".into(),
                        ))
                    }
                    Solver::Listen(_) => {
                        if let Some(a) = answers.as_mut() {
                            a.answer(&token, key_auth.as_str());
                        }
                    }
                    Solver::Webroot(dir) => files
                        .0
                        .push(write_token(dir, &token, key_auth.as_str()).map_err(Failure::ac3)?),
                    Solver::DnsHook(_) | Solver::DnsUpdate { .. } => {
                        let name = format!("_acme-challenge.{domain}");
                        let value = key_auth.dns_value();
                        records
                            .way
                            .as_ref()
                            .ok_or_else(|| Failure::ac3("no way to publish TXT records".into()))?
                            .publish(&domain, &name, &value, true)
                            .map_err(Failure::ac3)?;
                        records
                            .added
                            .push((domain.clone(), name.clone(), value.clone()));
                        pending.push(Published::Dns {
                            domain,
                            name,
                            value,
                        });
                        continue;
                    }
                }
                pending.push(Published::Http {
                    domain,
                    token,
                    key_authorization: key_auth.as_str().to_string(),
                });
            }
        }
        for p in &pending {
            own_check(p).map_err(|m| {
                let (domain, what) = match p {
                    Published::Http { domain, .. } => (domain, "http-01 token"),
                    Published::Dns { domain, .. } => (domain, "dns-01 TXT record"),
                };
                Failure::ac3(format!(
                    "{domain}: certdeck's own check of the {what} failed, so the CA was not asked to validate (AC-3): {m}"
                ))
            })?;
        }
        {
            let mut authzs = order.authorizations();
            while let Some(a) = authzs.next().await {
                let mut a = a.map_err(ca)?;
                if a.status == AuthorizationStatus::Valid {
                    continue;
                }
                if let Some(mut ch) = a.challenge(challenge_of(spec.solver)) {
                    ch.set_ready().await.map_err(ca)?;
                }
            }
        }
        let chain = finish(&mut order, &csr).await?;
        Ok((chain, order.url().to_string()))
    })
    .map_err(|f| f.rate_limited(&retry_after))?;
    drop(files);
    drop(records);
    Ok(Obtained {
        chain_pem,
        key_pem: zeroize::Zeroizing::new(spec.key_pem.to_string()),
        order_url,
    })
}

/// A dns-01 record the user adds by hand (AC-3), with its authorization's deadline (AC-2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManualRecord {
    pub domain: String,
    pub name: String,
    pub value: String,
    pub expires: Option<crate::domain::time::Timestamp>,
}

/// An order placed and left open for records added by hand.
pub struct Placed {
    pub order_url: String,
    pub records: Vec<ManualRecord>,
}

/// A new order for `ids`, with its profile (AC-2) and the certificate it replaces (`AKI.serial`,
/// RFC 9773) when given.
fn new_order<'a>(
    ids: &'a [Identifier],
    profile: Option<&'a str>,
    replaces: Option<&'a str>,
) -> NewOrder<'a> {
    let mut order = NewOrder::new(ids);
    if let Some(p) = profile {
        order = order.profile(p);
    }
    if let Some((aki, serial)) = replaces.and_then(|r| r.split_once('.')) {
        order = order.replaces(instant_acme::CertificateIdentifier {
            authority_key_identifier: aki.into(),
            serial: serial.into(),
        });
    }
    order
}

fn identifiers(domains: &[String]) -> Vec<Identifier> {
    domains
        .iter()
        .map(|d| match d.parse::<std::net::IpAddr>() {
            Ok(ip) => Identifier::Ip(ip),
            Err(_) => Identifier::Dns(d.clone()),
        })
        .collect()
}

/// dns-01 by hand, step one: the order placed, the TXT records it needs, and until when.
pub fn place_manual(
    credentials: &[u8],
    root_pem: Option<&str>,
    directory_url: &str,
    domains: &[String],
    profile: Option<&str>,
) -> Result<Placed, Failure> {
    let session = super::Session::new(credentials, root_pem)?;
    let retry_after = session.retry_after.clone();
    let ca = |e: instant_acme::Error| Failure::of(&e);
    let (order_url, pending) = run(ORDER_DEADLINE, async {
        let account = session.open().await?;
        let ids = identifiers(domains);
        let mut order = account
            .new_order(&new_order(&ids, profile, None))
            .await
            .map_err(ca)?;
        let mut pending = Vec::new();
        {
            let mut authzs = order.authorizations();
            while let Some(a) = authzs.next().await {
                let mut a = a.map_err(ca)?;
                if a.status == AuthorizationStatus::Valid {
                    continue;
                }
                let url = a.url().to_string();
                let domain = a.identifier().to_string();
                let domain = domain.trim_start_matches("*.").to_string();
                let ch = a.challenge(ChallengeType::Dns01).ok_or_else(|| {
                    Failure::Ca(format!("{domain}: the CA offers no dns-01 challenge"))
                })?;
                pending.push((url, domain, ch.key_authorization().dns_value()));
            }
        }
        Ok((order.url().to_string(), pending))
    })
    .map_err(|f| f.rate_limited(&retry_after))?;
    let mut records = Vec::new();
    for (url, domain, value) in pending {
        // The authorization's own deadline; a CA that does not say leaves it unknown. Asked
        // up to three times: a busy CA's bad nonces or a slow answer must not lose it.
        let expires = (0..3)
            .find_map(|_| super::jws::post_as_get(credentials, root_pem, directory_url, &url).ok())
            .and_then(|a| a["expires"].as_str().map(str::to_string))
            .and_then(|e| chrono::DateTime::parse_from_rfc3339(&e).ok())
            .map(|e| e.with_timezone(&chrono::Utc));
        records.push(ManualRecord {
            name: format!("_acme-challenge.{domain}"),
            domain,
            value,
            expires,
        });
    }
    Ok(Placed { order_url, records })
}

/// dns-01 by hand, step two (after certdeck's own lookup saw every record): the CA is told,
/// validates, and issues for a CSR of `key_pem`.
pub fn complete_manual(
    credentials: &[u8],
    root_pem: Option<&str>,
    order_url: &str,
    domains: &[String],
    key_pem: &str,
    key: KeyChoice,
) -> Result<String, Failure> {
    let session = super::Session::new(credentials, root_pem)?;
    let retry_after = session.retry_after.clone();
    let csr = csr(domains, key_pem, key).map_err(Failure::ac3)?;
    let ca = |e: instant_acme::Error| Failure::of(&e);
    run(ORDER_DEADLINE, async {
        let account = session.open().await?;
        let mut order = account.order(order_url.to_string()).await.map_err(ca)?;
        {
            let mut authzs = order.authorizations();
            while let Some(a) = authzs.next().await {
                let mut a = a.map_err(ca)?;
                if a.status != AuthorizationStatus::Pending {
                    continue;
                }
                if let Some(mut ch) = a.challenge(ChallengeType::Dns01) {
                    ch.set_ready().await.map_err(ca)?;
                }
            }
        }
        finish(&mut order, &csr).await
    })
    .map_err(|f| f.rate_limited(&retry_after))
}
