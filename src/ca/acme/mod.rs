//! ACME (RFC 8555) through instant-acme (SPEC §12). Each exchange runs on a small
//! current-thread tokio runtime of its own, so the engine and the TUI stay synchronous and every
//! call is bounded (ca/acme/http.rs).
pub mod dns_update;
pub mod http;
pub mod jws;
pub mod listener;
pub mod order;

use crate::domain::acme::AccountRequest;
use instant_acme::{Account, ExternalAccountKey, NewAccount};
use serde::Deserialize;
use std::time::Duration;

/// What a directory says about itself (RFC 8555 7.1.1 `meta`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DirectoryInfo {
    pub terms_of_service: Option<String>,
    pub external_account_required: bool,
    pub profiles: Vec<String>,
    /// RFC 9773 renewal information is offered.
    pub renewal_info: bool,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawDirectory {
    #[serde(default)]
    meta: RawMeta,
    #[serde(default)]
    renewal_info: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct RawMeta {
    terms_of_service: Option<String>,
    #[serde(default)]
    external_account_required: bool,
    #[serde(default)]
    profiles: std::collections::BTreeMap<String, serde_json::Value>,
}

/// Why an exchange failed: the CA said no (a problem document, AC-5), or it could not be reached
/// or did not answer in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Ca(String),
    Unreachable(String),
    /// A problem on this side (a challenge that could not be published or was not seen by
    /// certdeck's own check, an unreadable root or credentials), with the rule it falls under.
    Local {
        rule: &'static str,
        message: String,
    },
    /// The CA's `rateLimited` problem, with when it allows the next attempt (its Retry-After).
    RateLimited {
        message: String,
        /// The header as sent (seconds or an HTTP-date); read against the engine's clock.
        retry_after: Option<String>,
    },
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Failure::Ca(m) | Failure::Unreachable(m) | Failure::Local { message: m, .. } => {
                write!(f, "{m}")
            }
            Failure::RateLimited {
                message,
                retry_after: Some(at),
            } => write!(f, "{message} (the CA's Retry-After: {at})"),
            Failure::RateLimited { message, .. } => write!(f, "{message}"),
        }
    }
}

impl Failure {
    /// A local problem under AC-3 (publishing and checking challenges).
    pub(crate) fn ac3(message: String) -> Failure {
        Failure::Local {
            rule: "AC-3",
            message,
        }
    }

    /// A local problem under AC-1 (the account's root and credentials).
    pub(crate) fn ac1(message: String) -> Failure {
        Failure::Local {
            rule: "AC-1",
            message,
        }
    }

    /// A `rateLimited` problem becomes `RateLimited`, with the Retry-After the CA sent.
    pub(crate) fn rate_limited(self, retry_after: &http::RetryAfter) -> Failure {
        match self {
            Failure::Ca(m) if m.starts_with("rateLimited:") => Failure::RateLimited {
                message: m,
                retry_after: retry_after.lock().ok().and_then(|s| s.clone()),
            },
            other => other,
        }
    }
}

impl Failure {
    fn of(e: &instant_acme::Error) -> Failure {
        match e {
            instant_acme::Error::Api(_) => Failure::Ca(describe(e)),
            other => Failure::Unreachable(describe(other)),
        }
    }
}

/// An ACME problem or a transport failure, said with its RFC 8555 type and detail (AC-5).
pub fn describe(e: &instant_acme::Error) -> String {
    match e {
        instant_acme::Error::Api(p) => {
            let kind = p
                .r#type
                .as_deref()
                .map(|t| t.trim_start_matches("urn:ietf:params:acme:error:"))
                .unwrap_or("problem");
            format!("{kind}: {}", p.detail.as_deref().unwrap_or("(no detail)"))
        }
        other => other.to_string(),
    }
}

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("starting the ACME runtime: {e}"))
}

/// Runs one ACME exchange on its own runtime, bounded as a whole by `deadline`.
fn run<T>(
    deadline: Duration,
    work: impl std::future::Future<Output = Result<T, Failure>>,
) -> Result<T, Failure> {
    runtime()
        .map_err(Failure::Unreachable)?
        .block_on(async move {
            tokio::time::timeout(deadline, work)
                .await
                .unwrap_or_else(|_| {
                    Err(Failure::Unreachable(format!(
                        "the CA did not finish within {} s (timed out)",
                        deadline.as_secs()
                    )))
                })
        })
}

/// An account's stored credentials with a client for its CA: what opening the account needs.
pub(crate) struct Session {
    credentials: instant_acme::AccountCredentials,
    client: http::DeadlineClient,
    /// The last Retry-After the CA sent (AC-5), kept past the client's move into the account.
    pub retry_after: http::RetryAfter,
}

impl Session {
    pub(crate) fn new(credentials: &[u8], root_pem: Option<&str>) -> Result<Session, Failure> {
        let credentials = serde_json::from_slice(credentials)
            .map_err(|e| Failure::ac1(format!("stored account credentials: {e}")))?;
        let client =
            http::DeadlineClient::new(root_pem, http::REQUEST_DEADLINE).map_err(Failure::ac1)?;
        let retry_after = client.retry_after();
        Ok(Session {
            credentials,
            client,
            retry_after,
        })
    }

    /// The account, opened at its CA (inside an exchange's runtime).
    pub(crate) async fn open(self) -> Result<Account, Failure> {
        Account::builder_with_http(Box::new(self.client))
            .from_credentials(self.credentials)
            .await
            .map_err(|e| Failure::of(&e))
    }
}

/// The whole of one account or directory exchange.
const EXCHANGE_DEADLINE: Duration = Duration::from_secs(60);

/// GETs `url` and reads its JSON (directories, renewal information, pebble's management API),
/// with the Retry-After header when one came.
pub fn get_json(
    url: &str,
    root_pem: Option<&str>,
) -> Result<(serde_json::Value, Option<String>), Failure> {
    use ::http::Request;
    use instant_acme::HttpClient;
    let unreachable = |m: String| Failure::Unreachable(format!("{url}: {m}"));
    let client =
        http::DeadlineClient::new(root_pem, http::REQUEST_DEADLINE).map_err(Failure::ac1)?;
    let req = Request::get(url)
        .body(instant_acme::BodyWrapper::from(Vec::new()))
        .map_err(|e| unreachable(e.to_string()))?;
    run(EXCHANGE_DEADLINE, async move {
        let mut rsp = client
            .request(req)
            .await
            .map_err(|e| unreachable(describe(&e)))?;
        if !rsp.parts.status.is_success() {
            return Err(unreachable(format!("answered HTTP {}", rsp.parts.status)));
        }
        let body = rsp
            .body
            .into_bytes()
            .await
            .map_err(|e| unreachable(e.to_string()))?;
        let retry_after = rsp
            .parts
            .headers
            .get(::http::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(64).collect());
        serde_json::from_slice(&body)
            .map(|v| (v, retry_after))
            .map_err(|e| unreachable(format!("not JSON: {e}")))
    })
}

/// Reads a directory's `meta` (terms of service, EAB, profiles) and whether it offers ARI.
pub fn directory_info(url: &str, root_pem: Option<&str>) -> Result<DirectoryInfo, Failure> {
    let raw: RawDirectory = serde_json::from_value(get_json(url, root_pem)?.0)
        .map_err(|e| Failure::Unreachable(format!("{url}: not an ACME directory: {e}")))?;
    Ok(DirectoryInfo {
        terms_of_service: raw.meta.terms_of_service,
        external_account_required: raw.meta.external_account_required,
        profiles: raw.meta.profiles.into_keys().collect(),
        renewal_info: raw.renewal_info.is_some(),
    })
}

/// RFC 9773: the CA's suggested renewal window for the certificate `cert_id` (`AKI.serial`) and
/// when to ask again (its Retry-After header, as sent). `Ok(None)`: the directory offers no
/// renewal information.
pub fn renewal_info(
    directory_url: &str,
    root_pem: Option<&str>,
    cert_id: &str,
) -> Result<Option<(crate::domain::acme_renewal::AriWindow, Option<String>)>, Failure> {
    let raw: RawDirectory =
        serde_json::from_value(get_json(directory_url, root_pem)?.0).map_err(|e| {
            Failure::Unreachable(format!("{directory_url}: not an ACME directory: {e}"))
        })?;
    let Some(base) = raw.renewal_info else {
        return Ok(None);
    };
    let url = format!("{}/{cert_id}", base.trim_end_matches('/'));
    let (body, retry_after) = get_json(&url, root_pem)?;
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Info {
        suggested_window: Window,
    }
    #[derive(Deserialize)]
    struct Window {
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
    }
    let info: Info = serde_json::from_value(body)
        .map_err(|e| Failure::Ca(format!("{url}: not renewal information: {e}")))?;
    Ok(Some((
        crate::domain::acme_renewal::AriWindow {
            start: info.suggested_window.start,
            end: info.suggested_window.end,
        },
        retry_after,
    )))
}

/// A new account at the CA (terms agreed, contacts, EAB when given). Returns the account URL and
/// its credentials (JSON holding the new ECDSA P-256 key: seal it, never print it).
pub fn create_account(
    req: &AccountRequest,
    root_pem: Option<&str>,
    eab: Option<(&str, &[u8])>,
) -> Result<(String, zeroize::Zeroizing<Vec<u8>>), Failure> {
    let client =
        http::DeadlineClient::new(root_pem, http::REQUEST_DEADLINE).map_err(Failure::ac1)?;
    let contacts: Vec<&str> = req.contacts.iter().map(String::as_str).collect();
    let eab = eab.map(|(kid, key)| ExternalAccountKey::new(kid.to_string(), key));
    let url = req.directory_url.clone();
    run(EXCHANGE_DEADLINE, async move {
        let (account, credentials) = Account::builder_with_http(Box::new(client))
            .create(
                &NewAccount {
                    contact: &contacts,
                    terms_of_service_agreed: true,
                    only_return_existing: false,
                },
                url,
                eab.as_ref(),
            )
            .await
            .map_err(|e| Failure::of(&e))?;
        let json =
            serde_json::to_vec(&credentials).map_err(|e| Failure::Unreachable(e.to_string()))?;
        Ok((account.id().to_string(), zeroize::Zeroizing::new(json)))
    })
}

/// AC-6: asks the CA to revoke `cert_der` with an RFC 5280 reason, signed by the account key.
pub fn revoke(
    credentials: &[u8],
    root_pem: Option<&str>,
    cert_der: &[u8],
    reason: crate::domain::revocation::Reason,
) -> Result<(), Failure> {
    use crate::domain::revocation::Reason;
    use instant_acme::{RevocationReason, RevocationRequest};
    let session = Session::new(credentials, root_pem)?;
    let reason = match reason {
        Reason::Unspecified => RevocationReason::Unspecified,
        Reason::KeyCompromise => RevocationReason::KeyCompromise,
        Reason::AffiliationChanged => RevocationReason::AffiliationChanged,
        Reason::Superseded => RevocationReason::Superseded,
        Reason::CessationOfOperation => RevocationReason::CessationOfOperation,
        Reason::PrivilegeWithdrawn => RevocationReason::PrivilegeWithdrawn,
    };
    let der = rustls::pki_types::CertificateDer::from(cert_der.to_vec());
    run(EXCHANGE_DEADLINE, async move {
        let account = session.open().await?;
        account
            .revoke(&RevocationRequest {
                certificate: &der,
                reason: Some(reason),
            })
            .await
            .map_err(|e| Failure::of(&e))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::pki::{Authority, KeyKind};
    use std::io::{Read, Write};

    type Route = (&'static str, u16, Vec<(&'static str, String)>, String);

    /// An HTTPS stub on loopback answering GETs by path with (status, headers, body); `routes`
    /// is given the stub's port (a directory names its own URLs). Stops after `max`
    /// connections or 20 s. Returns the port and the root to trust.
    fn https_stub(routes: impl FnOnce(u16) -> Vec<Route>, max: usize) -> (u16, String) {
        let now = chrono::Utc::now();
        let days = chrono::Duration::days;
        let root = Authority::root(
            "stub root",
            "certdeck tests",
            KeyKind::P256,
            now - days(1),
            now + days(30),
        );
        let leaf = root.issue(&["localhost"], KeyKind::P256, now - days(1), now + days(30));
        let key = rustls::pki_types::PrivateKeyDer::try_from(
            crate::domain::pem::scan_expecting(&leaf.key_pem, "PRIVATE KEY").unwrap()[0]
                .der
                .clone(),
        )
        .unwrap();
        let config = std::sync::Arc::new(
            rustls::ServerConfig::builder_with_provider(std::sync::Arc::new(
                rustls::crypto::ring::default_provider(),
            ))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![leaf.der.clone().into()], key)
            .unwrap(),
        );
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = l.local_addr().unwrap().port();
        let routes = routes(port);
        std::thread::spawn(move || {
            let until = std::time::Instant::now() + Duration::from_secs(20);
            for conn in l.incoming().take(max) {
                if std::time::Instant::now() > until {
                    break;
                }
                let Ok(tcp) = conn else { continue };
                let _ = tcp.set_read_timeout(Some(Duration::from_secs(5)));
                let Ok(server) = rustls::ServerConnection::new(config.clone()) else {
                    continue;
                };
                let mut tls = rustls::StreamOwned::new(server, tcp);
                let mut buf = [0u8; 4096];
                let n = tls.read(&mut buf).unwrap_or(0);
                let head = String::from_utf8_lossy(&buf[..n]).to_string();
                let path = head.split_whitespace().nth(1).unwrap_or("").to_string();
                let reply = match routes.iter().find(|r| r.0 == path) {
                    Some((_, status, headers, body)) => {
                        let extra: String = headers
                            .iter()
                            .map(|(k, v)| format!("{k}: {v}\r\n"))
                            .collect();
                        format!(
                            "HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n{extra}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                            body.len()
                        )
                    }
                    None => {
                        "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                            .into()
                    }
                };
                let _ = tls.write_all(reply.as_bytes());
                tls.conn.send_close_notify();
                let _ = tls.flush();
            }
        });
        (port, root.pem())
    }

    #[test]
    fn rule_ac4_renewal_information_is_read_with_its_retry_after_from_a_directory_that_offers_it() {
        let window =
            r#"{"suggestedWindow":{"start":"2027-01-10T00:00:00Z","end":"2027-01-12T00:00:00Z"}}"#;
        let (port, root) = https_stub(
            |port| {
                vec![
                    (
                        "/dir",
                        200,
                        vec![],
                        serde_json::json!({
                            "newNonce": format!("https://localhost:{port}/nonce"),
                            "renewalInfo": format!("https://localhost:{port}/ari/"),
                        })
                        .to_string(),
                    ),
                    (
                        "/ari/aki.serial",
                        200,
                        vec![("Retry-After", "21600".into())],
                        window.to_string(),
                    ),
                ]
            },
            4,
        );
        let dir = format!("https://localhost:{port}/dir");
        assert!(directory_info(&dir, Some(&root)).unwrap().renewal_info);
        let (w, retry_after) = renewal_info(&dir, Some(&root), "aki.serial")
            .unwrap()
            .expect("offered");
        assert_eq!(w.start.to_rfc3339(), "2027-01-10T00:00:00+00:00");
        assert_eq!(w.end.to_rfc3339(), "2027-01-12T00:00:00+00:00");
        assert_eq!(retry_after.as_deref(), Some("21600"));
        // Something else than renewal information is the CA's problem, said with the URL.
        let e = renewal_info(&dir, Some(&root), "other.id").unwrap_err();
        assert!(e.to_string().contains("/ari/other.id"), "{e}");
    }

    #[test]
    fn rule_ac5_rate_limited_keeps_the_cas_retry_after_and_other_problems_do_not() {
        let slot = http::RetryAfter::default();
        *slot.lock().unwrap() = Some("3600".into());
        let f = Failure::Ca("rateLimited: too many new orders recently".into()).rate_limited(&slot);
        assert_eq!(
            f,
            Failure::RateLimited {
                message: "rateLimited: too many new orders recently".into(),
                retry_after: Some("3600".into()),
            }
        );
        assert!(f.to_string().contains("Retry-After: 3600"), "{f}");
        let other = Failure::Ca("unauthorized: no".into()).rate_limited(&slot);
        assert_eq!(other, Failure::Ca("unauthorized: no".into()));
    }

    #[test]
    fn rule_ac4_a_directory_without_renewal_information_offers_none() {
        let (port, root) = https_stub(
            |_| {
                vec![(
                    "/dir",
                    200,
                    vec![],
                    r#"{"newNonce":"https://x/n"}"#.to_string(),
                )]
            },
            2,
        );
        let dir = format!("https://localhost:{port}/dir");
        assert!(renewal_info(&dir, Some(&root), "aki.serial")
            .unwrap()
            .is_none());
    }

    #[test]
    fn rule_ac4_the_ari_id_is_the_issuers_key_id_and_the_serial() {
        let now = chrono::Utc::now();
        let days = chrono::Duration::days;
        let root = Authority::root("r", "o", KeyKind::P256, now - days(1), now + days(30));
        let leaf = root.issue(&["a.test"], KeyKind::P256, now - days(1), now + days(30));
        let id = crate::domain::acme_renewal::ari_cert_id(&leaf.der).expect("an AKI");
        let (_, parsed) = x509_parser::parse_x509_certificate(&leaf.der).unwrap();
        use base64::Engine;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let serial = b64.encode(parsed.tbs_certificate.raw_serial());
        assert!(id.ends_with(&format!(".{serial}")), "{id}");
        let aki = id.split('.').next().unwrap();
        assert_eq!(b64.decode(aki).unwrap().len(), 20, "a SHA-1 key id: {id}");
        assert_eq!(
            crate::domain::acme_renewal::ari_cert_id(b"not a certificate"),
            None
        );
    }
}
