//! RFC 8555 POST-as-GET (section 6.3), signed by the account key: for what instant-acme reads
//! but does not hand on (an authorization's `expires`, AC-2's real deadline).
use super::{describe, http, run, Failure};
use base64::Engine as _;
use instant_acme::HttpClient;
use std::time::Duration;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// The account URL and key the stored credentials hold.
fn account_of(credentials: &[u8]) -> Result<(String, ring::signature::EcdsaKeyPair), Failure> {
    let bad = |m: &str| Failure::ac1(format!("stored account credentials: {m}"));
    let v: serde_json::Value = serde_json::from_slice(credentials).map_err(|_| bad("not JSON"))?;
    let id = v["id"].as_str().ok_or_else(|| bad("no account URL"))?;
    let key = v["key_pkcs8"].as_str().ok_or_else(|| bad("no key"))?;
    let der = zeroize::Zeroizing::new(
        B64.decode(key.trim_end_matches('='))
            .map_err(|_| bad("the key is not base64"))?,
    );
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        &der,
        &ring::rand::SystemRandom::new(),
    )
    .map_err(|_| bad("the key is not an ECDSA P-256 key"))?;
    Ok((id.to_string(), pair))
}

/// Tries of one request that the CA answers `badNonce`.
const NONCE_ATTEMPTS: u32 = 4;

/// POST-as-GET `url` with a fresh nonce from the directory's `newNonce`; `badNonce` is retried
/// (RFC 8555 §6.5) up to `NONCE_ATTEMPTS` times in all, as instant-acme does (a CA may reject any
/// nonce now and then: pebble rejects 5 % on purpose).
pub fn post_as_get(
    credentials: &[u8],
    root_pem: Option<&str>,
    directory_url: &str,
    url: &str,
) -> Result<serde_json::Value, Failure> {
    let (kid, key) = account_of(credentials)?;
    let directory = super::get_json(directory_url, root_pem)?.0;
    let new_nonce = directory["newNonce"]
        .as_str()
        .ok_or_else(|| Failure::Ca(format!("{directory_url}: no newNonce")))?
        .to_string();
    let client =
        http::DeadlineClient::new(root_pem, http::REQUEST_DEADLINE).map_err(Failure::ac1)?;
    let unreachable = |m: String| Failure::Unreachable(format!("{url}: {m}"));
    let url = url.to_string();
    run(Duration::from_secs(60), async move {
        for attempt in 0..NONCE_ATTEMPTS {
            let head = ::http::Request::head(&new_nonce)
                .body(instant_acme::BodyWrapper::from(Vec::new()))
                .map_err(|e| unreachable(e.to_string()))?;
            let rsp = client
                .request(head)
                .await
                .map_err(|e| unreachable(describe(&e)))?;
            let nonce = rsp
                .parts
                .headers
                .get("replay-nonce")
                .and_then(|v| v.to_str().ok())
                .ok_or_else(|| unreachable("no Replay-Nonce from newNonce".into()))?
                .to_string();
            let protected = B64.encode(
                serde_json::json!({"alg": "ES256", "kid": kid, "nonce": nonce, "url": url})
                    .to_string(),
            );
            let signature = key
                .sign(
                    &ring::rand::SystemRandom::new(),
                    format!("{protected}.").as_bytes(),
                )
                .map_err(|_| Failure::Ca("signing the request failed".into()))?;
            let body = serde_json::json!({
                "protected": protected,
                "payload": "",
                "signature": B64.encode(signature.as_ref()),
            })
            .to_string();
            let req = ::http::Request::post(&url)
                .header("content-type", "application/jose+json")
                .body(instant_acme::BodyWrapper::from(body.into_bytes()))
                .map_err(|e| unreachable(e.to_string()))?;
            let mut rsp = client
                .request(req)
                .await
                .map_err(|e| unreachable(describe(&e)))?;
            let status = rsp.parts.status;
            let bytes = rsp
                .body
                .into_bytes()
                .await
                .map_err(|e| unreachable(e.to_string()))?;
            let json: serde_json::Value = serde_json::from_slice(&bytes)
                .map_err(|_| unreachable(format!("answered HTTP {status}, not JSON")))?;
            if status.is_success() {
                return Ok(json);
            }
            let kind = json["type"].as_str().unwrap_or("");
            if kind.ends_with(":badNonce") && attempt + 1 < NONCE_ATTEMPTS {
                continue;
            }
            return Err(Failure::Ca(format!(
                "{}: {}",
                kind.trim_start_matches("urn:ietf:params:acme:error:"),
                json["detail"].as_str().unwrap_or("(no detail)")
            )));
        }
        Err(unreachable(format!("badNonce {NONCE_ATTEMPTS} times")))
    })
}
