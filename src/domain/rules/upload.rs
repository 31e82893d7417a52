//! SPEC §2, upload (U-1..U-7): what a user hands over becomes a certificate record or a refusal
//! that names the field, the line and the rule. Nothing here stores anything.
use crate::domain::cert::{
    order_chain, parse_certificate, ChainEnd, ChainError, OrderedChain, ParsedCert,
};
use crate::domain::key::{
    is_private_key_label, parse_private_key, parse_private_key_der, KeyError, PrivateKey,
};
use crate::domain::model::{
    CertType, Certificate, DomainKind, KeyAlgorithm, Source, Standard, Status, TimelineEvent,
};
use crate::domain::pem::{self, RawInput};
use crate::domain::refusal::{Field, Refusal, Warning};
use crate::domain::time::Timestamp;
use std::collections::BTreeMap;

pub const MAX_NAME_CHARS: usize = 128;
pub const MAX_TAGS: usize = 50;
pub const MAX_TAG_KEY_CHARS: usize = 64;
pub const MAX_TAG_VALUE_CHARS: usize = 256;
pub const MAX_PROJECT_CHARS: usize = 64;

/// What the user handed over, raw, as the form or the CLI collected it.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
pub struct UploadInput {
    pub name: Option<String>,
    /// `None`: decided by the certificate's key (SM2 key → SM2 standard).
    pub standard: Option<Standard>,
    pub cert: Vec<u8>,
    pub key: Option<Vec<u8>>,
    pub key_password: Option<Vec<u8>>,
    pub enc_cert: Option<Vec<u8>>,
    pub enc_key: Option<Vec<u8>>,
    pub tags: Vec<String>,
    pub project: Option<String>,
}

/// Debug never shows key material or passwords, only whether they were given.
impl std::fmt::Debug for UploadInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let given =
            |v: &Option<Vec<u8>>| v.as_ref().map(|b| format!("<{} bytes, redacted>", b.len()));
        f.debug_struct("UploadInput")
            .field("name", &self.name)
            .field("standard", &self.standard)
            .field("cert_bytes", &self.cert.len())
            .field("key", &given(&self.key))
            .field("key_password", &given(&self.key_password))
            .field("enc_cert_bytes", &self.enc_cert.as_ref().map(Vec::len))
            .field("enc_key", &given(&self.enc_key))
            .field("tags", &self.tags)
            .field("project", &self.project)
            .finish()
    }
}

/// An upload that passed every rule but U-6 (which needs the store).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ValidatedUpload {
    pub name: String,
    pub standard: Standard,
    pub chain: OrderedChain,
    pub key: PrivateKey,
    pub enc_cert: Option<ParsedCert>,
    pub enc_key: Option<PrivateKey>,
    pub tags: BTreeMap<String, String>,
    pub project: Option<String>,
    pub warnings: Vec<Warning>,
}

impl ValidatedUpload {
    pub fn leaf(&self) -> &ParsedCert {
        &self.chain.certs[0]
    }
}

/// U-2: what an upload is told about where its chain ends (nothing when it reaches a root).
pub fn chain_warning(end: &ChainEnd) -> Option<Warning> {
    Some(match end {
        ChainEnd::SelfSigned | ChainEnd::Trusted => return None,
        ChainEnd::Gap { after, issuer } => Warning::new(
            "chain_incomplete",
            format!(
                "the chain is incomplete: it breaks after \"{after}\" — its issuer \"{issuer}\" was not given, though other CA certificates were (U-2)"
            ),
        ),
        ChainEnd::MissingIntermediate { issuer, url } => Warning::new(
            "chain_incomplete",
            format!(
                "the chain is incomplete: the intermediate \"{issuer}\" is missing (its CA publishes it at {url}); add it after the leaf (U-2)"
            ),
        ),
        ChainEnd::UnknownIssuer { issuer } => Warning::new(
            "chain_unknown_issuer",
            format!(
                "the chain ends at \"{issuer}\", an issuer certdeck does not know: if it is your private root, trust it with `certdeck trust add ROOT.pem`; if it is an intermediate, add it after the leaf (U-2)"
            ),
        ),
    })
}

/// Private keys of a new record, sealed by the store before they touch the disk.
/// Orders that have no certificate yet have no key either.
#[derive(Default)]
pub struct NewSecrets {
    pub key_pem: Option<String>,
    pub enc_key_pem: Option<String>,
}

/// Every check of U-1, U-2, U-3, U-5 and U-7, in the order a user would fix them. A parser that
/// panics on hostile input gives a U-7 refusal, never the end of the process.
pub fn validate_upload(
    input: &UploadInput,
    now: Timestamp,
    anchors: &[&[u8]],
) -> Result<ValidatedUpload, Refusal> {
    crate::domain::guard::contained(|| checked_upload(input, now, anchors)).unwrap_or_else(|_| {
        Err(Refusal::new(
            "U-7",
            Field::Cert,
            "the input could not be read: a parser failed on it (please report the file's kind, not its content)",
        ))
    })
}

fn checked_upload(
    input: &UploadInput,
    now: Timestamp,
    anchors: &[&[u8]],
) -> Result<ValidatedUpload, Refusal> {
    let tags = parse_tags(&input.tags)?;
    let project = validate_project(input.project.as_deref())?;
    let mut warnings = Vec::new();

    let (certs, bundled_keys) = read_certificates(&input.cert, Field::Cert)?;
    let (certs, repeated) = without_repeats(certs);
    if repeated > 0 {
        warnings.push(Warning::new(
            "chain_repeated",
            format!("{repeated} certificate(s) were given more than once; each is kept once (U-5)"),
        ));
    }
    if certs.len() > MAX_CHAIN {
        return Err(Refusal::new(
            "U-7",
            Field::Cert,
            format!(
                "holds {} different certificates; a chain has at most {MAX_CHAIN} (leaf, intermediates, root)",
                certs.len()
            ),
        ));
    }
    let chain = order_chain(certs, anchors).map_err(|ChainError::SeveralLeaves(subjects)| {
        Refusal::new(
            "U-1",
            Field::Cert,
            format!(
                "holds {} unrelated end-entity certificates ({}); upload one certificate with its chain at a time",
                subjects.len(),
                subjects.join("; ")
            ),
        )
    })?;
    let leaf = &chain.certs[0];
    if chain.reordered {
        warnings.push(Warning::new(
            "chain_reordered",
            "the chain was out of order; it is stored leaf first (U-2, U-5)",
        ));
    }
    if let Some(w) = chain_warning(&chain.end) {
        warnings.push(w);
    }
    if chain.unrelated > 0 {
        warnings.push(Warning::new(
            "chain_unrelated",
            format!(
                "{} certificate(s) given are not on the leaf's chain; kept after it",
                chain.unrelated
            ),
        ));
    }
    if leaf.facts.is_ca {
        warnings.push(Warning::new(
            "leaf_is_ca",
            "the leaf certificate is a CA certificate",
        ));
    }
    if now >= leaf.facts.not_after {
        warnings.push(Warning::new(
            "expired",
            "the certificate has already expired",
        ));
    } else if now < leaf.facts.not_before {
        warnings.push(Warning::new(
            "not_yet_valid",
            "the certificate is not valid yet",
        ));
    }

    let leaf_is_sm2 = leaf.facts.key_algorithm == KeyAlgorithm::Sm2;
    let standard = match input.standard {
        Some(Standard::Sm2) if !leaf_is_sm2 => {
            return Err(Refusal::new(
                "U-3",
                Field::Cert,
                format!(
                    "the SM2 standard needs an SM2 signature certificate; this one has a {} key",
                    leaf.facts.key_algorithm.as_str()
                ),
            ))
        }
        Some(Standard::International) if leaf_is_sm2 => {
            return Err(Refusal::new(
                "U-3",
                Field::Cert,
                "this is an SM2 certificate: switch the standard to SM2 and add the encryption certificate and key",
            ))
        }
        Some(s) => s,
        None if leaf_is_sm2 => Standard::Sm2,
        None => Standard::International,
    };

    // U-5: such a certificate is read, but no key can be matched to it: said before any key is
    // read, naming the algorithm.
    let Some(leaf_pk) = leaf.public_key.as_ref() else {
        return Err(Refusal::new(
            "U-2",
            Field::Cert,
            format!(
                "certdeck cannot check a private key against this certificate's {} public key (signed {}): it can watch it (certdeck scan) but not keep it with a key",
                match leaf.facts.key_algorithm {
                    KeyAlgorithm::Ecdsa => "EC (explicit curve parameters)",
                    other => other.as_str(),
                },
                leaf.facts.signature_algorithm
            ),
        ));
    };
    let mut keys = match &input.key {
        Some(bytes) if !bytes.iter().all(u8::is_ascii_whitespace) => {
            if !bundled_keys.is_empty() {
                warnings.push(Warning::new(
                    "bundle_key_ignored",
                    "the certificate field also held a private key; the key field's key is used",
                ));
            }
            read_keys(bytes, Field::Key, input.key_password.as_deref())?
        }
        _ if !bundled_keys.is_empty() => {
            warnings.push(Warning::new(
                "key_from_bundle",
                "the private key was taken from the combined PEM in the certificate field (U-5)",
            ));
            resolve_bundled_keys(bundled_keys, input.key_password.as_deref())?
        }
        _ => {
            return Err(Refusal::new(
                "U-1",
                Field::Key,
                "a private key is required (PKCS#1, SEC1 or PKCS#8 PEM)",
            ))
        }
    };

    for w in keys.iter().filter_map(|(k, _)| k.weak.as_deref()) {
        warnings.push(Warning::new("weak_key_protection", format!("{w} (U-5)")));
    }
    let key_field = |k: &(PrivateKey, Option<usize>)| k.1;
    let sign_pos = keys.iter().position(|(k, _)| k.belongs_to(leaf_pk));
    let key = match sign_pos {
        Some(pos) => keys.remove(pos),
        None => {
            let first = &keys[0];
            return Err(Refusal::new(
                "U-2",
                Field::Key,
                format!(
                    "the private key does not belong to the certificate (key: {} {} bits; certificate \"{}\": {} {} bits)",
                    first.0.algorithm().as_str(),
                    first.0.bits(),
                    leaf.facts.subject_cn.as_deref().unwrap_or(&leaf.facts.subject),
                    leaf_pk.algorithm().as_str(),
                    leaf_pk.bits()
                ),
            )
            .at_line(key_field(first)));
        }
    };

    let (enc_cert, enc_key) = if standard == Standard::Sm2 {
        let (enc_cert, enc_key) = validate_sm2_encryption_pair(input, keys)?;
        (Some(enc_cert), Some(enc_key))
    } else {
        if let Some((_, line)) = keys.first() {
            return Err(Refusal::new(
                "U-1",
                Field::Key,
                "holds more than one private key; give the leaf's key only",
            )
            .at_line(*line));
        }
        if input.enc_cert.is_some() || input.enc_key.is_some() {
            return Err(Refusal::new(
                "U-3",
                Field::EncCert,
                "encryption certificate and key belong to SM2 uploads only",
            ));
        }
        (None, None)
    };

    let name = validate_name(input.name.as_deref(), leaf)?;
    Ok(ValidatedUpload {
        name,
        standard,
        chain,
        key: key.0,
        enc_cert,
        enc_key,
        tags,
        project,
        warnings,
    })
}

/// U-3: the SM2 encryption certificate and its key; one key file may hold both keys.
fn validate_sm2_encryption_pair(
    input: &UploadInput,
    spare_keys: Vec<(PrivateKey, Option<usize>)>,
) -> Result<(ParsedCert, PrivateKey), Refusal> {
    let enc_bytes = input
        .enc_cert
        .as_ref()
        .filter(|b| !b.iter().all(u8::is_ascii_whitespace))
        .ok_or_else(|| {
            Refusal::new(
                "U-3",
                Field::EncCert,
                "an SM2 upload needs the encryption certificate",
            )
        })?;
    let (mut enc_certs, _) = read_certificates(enc_bytes, Field::EncCert)?;
    let enc_cert = enc_certs.remove(0);
    if enc_cert.facts.key_algorithm != KeyAlgorithm::Sm2 {
        return Err(Refusal::new(
            "U-3",
            Field::EncCert,
            "the encryption certificate's key is not SM2",
        ));
    }
    let enc_pk = enc_cert.public_key.clone().ok_or_else(|| {
        Refusal::new(
            "U-3",
            Field::EncCert,
            "the encryption certificate's public key cannot be read",
        )
    })?;
    let mut candidates = spare_keys;
    if let Some(bytes) = input
        .enc_key
        .as_ref()
        .filter(|b| !b.iter().all(u8::is_ascii_whitespace))
    {
        candidates = read_keys(bytes, Field::EncKey, input.key_password.as_deref())?;
    }
    if candidates.is_empty() {
        return Err(Refusal::new(
            "U-3",
            Field::EncKey,
            "an SM2 upload needs the encryption private key (or one key file holding both keys)",
        ));
    }
    match candidates.into_iter().find(|(k, _)| k.belongs_to(&enc_pk)) {
        Some((k, _)) => Ok((enc_cert, k)),
        None => Err(Refusal::new(
            "U-3",
            Field::EncKey,
            "the encryption private key does not belong to the encryption certificate",
        )),
    }
}

/// The most certificates one upload may hold: real chains have 2 to 4.
pub const MAX_CHAIN: usize = 10;

/// The certificates with repeats (same DER) dropped, and how many were dropped.
fn without_repeats(certs: Vec<ParsedCert>) -> (Vec<ParsedCert>, usize) {
    let given = certs.len();
    let mut seen = std::collections::HashSet::new();
    let kept: Vec<ParsedCert> = certs
        .into_iter()
        .filter(|c| seen.insert(c.der.clone()))
        .collect();
    let dropped = given - kept.len();
    (kept, dropped)
}

/// Reads certificates from a field. Private keys found beside them (combined PEM) are returned.
pub fn read_certificates(
    bytes: &[u8],
    field: Field,
) -> Result<(Vec<ParsedCert>, Vec<pem::PemBlock>), Refusal> {
    let blocks = match pem::read_input(bytes, "CERTIFICATE")
        .map_err(|e| Refusal::new("U-7", field, e.message).at_line(e.line))?
    {
        RawInput::Der(der) => {
            if parse_private_key_der(&der).is_ok() {
                return Err(Refusal::new(
                    "U-7",
                    field,
                    "this is a DER private key, not a certificate; it belongs in the key field",
                ));
            }
            return match parse_certificate(&der) {
                Ok(c) => Ok((vec![c], Vec::new())),
                Err(_) => Err(Refusal::new(
                    "U-7",
                    field,
                    "binary data that is neither PEM nor a DER certificate",
                )),
            };
        }
        RawInput::Pem(blocks) => blocks,
    };
    let mut certs = Vec::new();
    let mut keys = Vec::new();
    for block in blocks {
        match block.label.as_str() {
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => {
                let c = parse_certificate(&block.der).map_err(|e| {
                    Refusal::new("U-7", field, format!("BEGIN CERTIFICATE: {e}"))
                        .at_line(Some(block.line))
                })?;
                certs.push(c);
            }
            l if is_private_key_label(l) => keys.push(block),
            "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST" => {
                return Err(Refusal::new(
                    "U-7",
                    field,
                    "this is a certificate signing request (CSR), not a certificate",
                )
                .at_line(Some(block.line)))
            }
            other => {
                return Err(Refusal::new(
                    "U-7",
                    field,
                    format!("unexpected BEGIN {other} block; expected BEGIN CERTIFICATE"),
                )
                .at_line(Some(block.line)))
            }
        }
    }
    if certs.is_empty() {
        let line = keys.first().map(|b| b.line);
        return Err(Refusal::new(
            "U-7",
            field,
            "this is a private key, not a certificate; it belongs in the key field",
        )
        .at_line(line));
    }
    if field != Field::Cert && !keys.is_empty() {
        return Err(
            Refusal::new("U-7", field, "a private key does not belong in this field")
                .at_line(Some(keys[0].line)),
        );
    }
    Ok((certs, keys))
}

/// Reads the private keys of a key field (an SM2 key file may hold two).
fn read_keys(
    bytes: &[u8],
    field: Field,
    password: Option<&[u8]>,
) -> Result<Vec<(PrivateKey, Option<usize>)>, Refusal> {
    match pem::read_input(bytes, "PRIVATE KEY")
        .map_err(|e| Refusal::new("U-7", field, e.message).at_line(e.line))?
    {
        RawInput::Der(der) => {
            if parse_certificate(&der).is_ok() {
                return Err(Refusal::new(
                    "U-7",
                    field,
                    "this is a DER certificate; the key field takes a private key",
                ));
            }
            parse_private_key_der(&der)
                .map(|k| vec![(k, None)])
                .map_err(|_| {
                    Refusal::new("U-7", field, "binary data that is not a DER private key")
                })
        }
        RawInput::Pem(blocks) => {
            if let Some(b) = blocks.iter().find(|b| b.label.contains("CERTIFICATE")) {
                if !blocks.iter().any(|b| is_private_key_label(&b.label)) {
                    return Err(Refusal::new(
                        "U-7",
                        field,
                        format!(
                            "this is a certificate (BEGIN {}); the key field takes a private key",
                            b.label
                        ),
                    )
                    .at_line(Some(b.line)));
                }
            }
            let keys: Vec<_> = blocks
                .into_iter()
                .filter(|b| is_private_key_label(&b.label) || !b.label.contains("CERTIFICATE"))
                .collect();
            resolve_bundled_keys(keys, password).map_err(|mut r| {
                r.field = field;
                r
            })
        }
    }
}

fn resolve_bundled_keys(
    blocks: Vec<pem::PemBlock>,
    password: Option<&[u8]>,
) -> Result<Vec<(PrivateKey, Option<usize>)>, Refusal> {
    blocks
        .into_iter()
        .map(|b| {
            if !is_private_key_label(&b.label) {
                return Err(Refusal::new(
                    "U-7",
                    Field::Key,
                    format!("unexpected BEGIN {} block; expected a private key", b.label),
                )
                .at_line(Some(b.line)));
            }
            parse_private_key(&b.label, &b.der, &b.headers, password)
                .map(|k| (k, Some(b.line)))
                .map_err(|e| {
                    let msg = match e {
                        KeyError::NeedsPassword => {
                            format!("{e} (--key-password-file, or the password field)")
                        }
                        other => other.to_string(),
                    };
                    Refusal::new("U-7", Field::Key, msg).at_line(Some(b.line))
                })
        })
        .collect()
}

/// Name: optional; defaults to the subject CN or the first domain.
fn validate_name(name: Option<&str>, leaf: &ParsedCert) -> Result<String, Refusal> {
    let given = name.map(str::trim).filter(|n| !n.is_empty());
    let name = match given {
        Some(n) => n.to_string(),
        None => leaf
            .facts
            .subject_cn
            .clone()
            .or_else(|| leaf.facts.sans.first().cloned())
            .unwrap_or_else(|| leaf.facts.serial.clone()),
    };
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Refusal::new(
            "U-1",
            Field::Name,
            format!("is longer than {MAX_NAME_CHARS} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(Refusal::new(
            "U-1",
            Field::Name,
            "must not contain control characters",
        ));
    }
    Ok(name)
}

/// Tags are `key=value`; keys are unique.
pub fn parse_tags(raw: &[String]) -> Result<BTreeMap<String, String>, Refusal> {
    let mut tags = BTreeMap::new();
    for item in raw {
        let item = item.trim();
        if item.is_empty() {
            continue;
        }
        let bad = |m: String| Refusal::new("U-1", Field::Tag, m);
        let (k, v) = item
            .split_once('=')
            .ok_or_else(|| bad(format!("\"{item}\" is not key=value")))?;
        let (k, v) = (k.trim(), v.trim());
        if k.is_empty() || k.chars().count() > MAX_TAG_KEY_CHARS {
            return Err(bad(format!(
                "\"{item}\": the key must have 1 to {MAX_TAG_KEY_CHARS} characters"
            )));
        }
        if !k
            .chars()
            .all(|c| c.is_alphanumeric() || "-_./:".contains(c))
        {
            return Err(bad(format!(
                "\"{item}\": the key may hold letters, digits and - _ . / : only"
            )));
        }
        if v.chars().count() > MAX_TAG_VALUE_CHARS || v.chars().any(char::is_control) {
            return Err(bad(format!(
                "\"{item}\": the value must be at most {MAX_TAG_VALUE_CHARS} printable characters"
            )));
        }
        if tags.insert(k.to_string(), v.to_string()).is_some() {
            return Err(bad(format!("tag key \"{k}\" is given twice")));
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(Refusal::new(
            "U-1",
            Field::Tag,
            format!("at most {MAX_TAGS} tags"),
        ));
    }
    Ok(tags)
}

fn validate_project(p: Option<&str>) -> Result<Option<String>, Refusal> {
    let Some(p) = p.map(str::trim).filter(|p| !p.is_empty()) else {
        return Ok(None);
    };
    if p.chars().count() > MAX_PROJECT_CHARS || p.chars().any(char::is_control) {
        return Err(Refusal::new(
            "U-1",
            Field::Project,
            format!("must be 1 to {MAX_PROJECT_CHARS} printable characters"),
        ));
    }
    Ok(Some(p.to_string()))
}

/// U-6: the same leaf (SHA-256 fingerprint) is stored once.
pub fn check_not_duplicate(existing_id: Option<&str>) -> Result<(), Refusal> {
    match existing_id {
        None => Ok(()),
        Some(id) => Err(Refusal::new(
            "U-6",
            Field::Cert,
            format!("this certificate is already stored as {id}"),
        )),
    }
}

/// The brand a third-party certificate shows: its issuer's organisation, else its CN.
pub fn brand_of(leaf: &ParsedCert) -> String {
    leaf.facts
        .issuer_org
        .clone()
        .or_else(|| leaf.facts.issuer_cn.clone())
        .unwrap_or_else(|| "unknown".into())
}

/// Type from the CA/Browser Forum policy OIDs; without one, OV when the subject names an organisation.
pub fn cert_type_of(leaf: &ParsedCert) -> CertType {
    let p = &leaf.facts.policies;
    if p.iter().any(|o| o == "2.23.140.1.1") {
        CertType::Ev
    } else if p
        .iter()
        .any(|o| o == "2.23.140.1.2.2" || o == "2.23.140.1.2.3")
    {
        CertType::Ov
    } else if p.iter().any(|o| o == "2.23.140.1.2.1") || leaf.facts.subject_org.is_none() {
        CertType::Dv
    } else {
        CertType::Ov
    }
}

/// The record and secrets of an upload that passed every rule.
pub fn new_uploaded_certificate(
    v: &ValidatedUpload,
    id: String,
    now: Timestamp,
) -> (Certificate, NewSecrets, TimelineEvent) {
    let leaf = v.leaf();
    let domains = if leaf.facts.sans.is_empty() {
        leaf.facts.subject_cn.iter().cloned().collect()
    } else {
        leaf.facts.sans.clone()
    };

    let cert = Certificate {
        id,
        name: v.name.clone(),
        source: Source::Uploaded,
        status: Status::Issued,
        brand: brand_of(leaf),
        cert_type: Some(cert_type_of(leaf)),
        standard: v.standard,
        domain_kind: DomainKind::of(&domains),
        domains,
        x509: Some(leaf.facts.clone()),
        chain: v.chain.certs.iter().map(ParsedCert::link).collect(),
        chain_der: v.chain.certs.iter().map(|c| c.der.clone()).collect(),
        chain_complete: v.chain.complete,
        enc_cert_pem: v
            .enc_cert
            .as_ref()
            .map(|c| pem::encode("CERTIFICATE", &c.der)),
        has_key: true,
        auto_renew: false,
        ignored: false,
        tags: v.tags.clone(),
        project: v.project.clone(),
        renewed_from: None,
        reissued_from: None,
        created_at: now,
    };
    let secrets = NewSecrets {
        key_pem: Some(v.key.to_pem()),
        enc_key_pem: v.enc_key.as_ref().map(PrivateKey::to_pem),
    };
    let mut message = format!("uploaded; chain of {}", v.chain.certs.len());
    for w in &v.warnings {
        message.push_str("; ");
        message.push_str(&w.message);
    }
    let event = TimelineEvent {
        at: now,
        kind: "uploaded".into(),
        message,
    };
    (cert, secrets, event)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_u1_tags_are_key_value_and_unique() {
        let t = parse_tags(&["env=prod".into(), " team = web ".into(), "".into()]).unwrap();
        assert_eq!(t["env"], "prod");
        assert_eq!(t["team"], "web");
        let e = parse_tags(&["novalue".into()]).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("U-1", Field::Tag));
        assert!(parse_tags(&["a=1".into(), "a=2".into()])
            .unwrap_err()
            .message
            .contains("twice"));
        assert!(parse_tags(&["=1".into()]).is_err());
        assert!(parse_tags(&["a b=1".into()]).is_err());
    }

    #[test]
    fn rule_u1_tag_count_limit_is_inclusive() {
        let fifty: Vec<String> = (0..MAX_TAGS).map(|i| format!("k{i}=v")).collect();
        assert!(parse_tags(&fifty).is_ok());
        let mut fifty_one = fifty.clone();
        fifty_one.push("extra=v".into());
        assert!(parse_tags(&fifty_one).is_err());
    }

    #[test]
    fn rule_u1_project_length_limit_is_inclusive() {
        assert!(validate_project(Some(&"p".repeat(MAX_PROJECT_CHARS))).is_ok());
        let e = validate_project(Some(&"p".repeat(MAX_PROJECT_CHARS + 1))).unwrap_err();
        assert_eq!(e.field, Field::Project);
        assert_eq!(validate_project(Some("  ")).unwrap(), None);
    }

    #[test]
    fn debug_output_never_shows_key_material() {
        let input = UploadInput {
            key: Some(b"-----BEGIN PRIVATE KEY-----\nSECRETSECRET".to_vec()),
            key_password: Some(b"hunter2".to_vec()),
            ..Default::default()
        };
        let shown = format!("{input:?}");
        assert!(
            !shown.contains("SECRET") && !shown.contains("hunter2"),
            "{shown}"
        );
        assert!(shown.contains("redacted"));
    }

    #[test]
    fn rule_u6_duplicate_names_existing_id() {
        assert!(check_not_duplicate(None).is_ok());
        let e = check_not_duplicate(Some("e79vbLDZ")).unwrap_err();
        assert_eq!(e.rule, "U-6");
        assert!(e.message.contains("e79vbLDZ"));
    }
}

#[cfg(test)]
mod flow_tests {
    use super::*;
    use crate::ca::pki::{Authority, KeyKind};
    use chrono::{Duration, TimeZone, Utc};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 0, 0, 0).unwrap()
    }

    fn ca(kind: KeyKind) -> (Authority, Authority) {
        let root = Authority::root(
            "Test Root",
            "Test CA",
            kind,
            now() - Duration::days(400),
            now() + Duration::days(4000),
        );
        let inter = root.intermediate(
            "Test Intermediate",
            "Test CA",
            now() - Duration::days(300),
            now() + Duration::days(2000),
        );
        (root, inter)
    }

    /// A 90-day leaf issued by `inter` now.
    fn leaf(inter: &Authority, domains: &[&str], kind: KeyKind) -> crate::ca::pki::Issued {
        inter.issue(domains, kind, now(), now() + Duration::days(90))
    }

    fn input(cert: String, key: String) -> UploadInput {
        UploadInput {
            cert: cert.into_bytes(),
            key: Some(key.into_bytes()),
            ..Default::default()
        }
    }

    #[test]
    fn rule_u2_every_key_algorithm_matches_its_leaf() {
        for kind in [
            KeyKind::P256,
            KeyKind::P384,
            KeyKind::Ed25519,
            KeyKind::Rsa2048,
            KeyKind::Rsa3072,
        ] {
            let (root, inter) = ca(KeyKind::P256);
            let leaf = inter.issue(
                &["shop.example", "www.shop.example"],
                kind,
                now(),
                now() + Duration::days(90),
            );
            let chain = format!("{}{}{}", leaf.cert_pem, inter.pem(), root.pem());
            let v = validate_upload(&input(chain, leaf.key_pem.clone()), now(), &[])
                .unwrap_or_else(|e| panic!("{kind:?}: {e}"));
            assert_eq!(v.chain.certs.len(), 3);
            assert!(v.chain.complete && !v.chain.reordered, "{kind:?}");
            assert_eq!(
                v.leaf().facts.sans,
                vec!["shop.example", "www.shop.example"]
            );
            assert_eq!(v.name, "shop.example");
        }
    }

    #[test]
    fn rule_u2_mismatched_key_is_refused() {
        let (_, inter) = ca(KeyKind::P256);
        let a = leaf(&inter, &["a.example"], KeyKind::P256);
        let b = leaf(&inter, &["b.example"], KeyKind::P256);
        let e = validate_upload(&input(a.cert_pem, b.key_pem), now(), &[]).unwrap_err();
        assert_eq!(
            (e.rule.as_str(), e.field, e.line),
            ("U-2", Field::Key, Some(1))
        );
        assert!(e.message.contains("does not belong"));
    }

    #[test]
    fn rule_u5_out_of_order_chain_is_stored_leaf_first() {
        let (root, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["a.example"], KeyKind::P256);
        let chain = format!("{}{}{}", root.pem(), leaf.cert_pem, inter.pem());
        let v = validate_upload(&input(chain, leaf.key_pem), now(), &[]).unwrap();
        assert!(v.chain.reordered);
        assert_eq!(
            v.chain.certs[0].facts.subject_cn.as_deref(),
            Some("a.example")
        );
        assert_eq!(
            v.chain.certs[1].facts.subject_cn.as_deref(),
            Some("Test Intermediate")
        );
        assert!(v.warnings.iter().any(|w| w.code == "chain_reordered"));
    }

    #[test]
    fn rule_u2_a_chain_is_complete_at_a_root_or_a_trusted_issuer_and_says_how_it_ends_otherwise() {
        let (root, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["a.example"], KeyKind::P256);
        let upload = |cert: String, anchors: &[&[u8]]| {
            validate_upload(&input(cert, leaf.key_pem.clone()), now(), anchors).unwrap()
        };
        let codes = |v: &ValidatedUpload| -> Vec<String> {
            v.warnings
                .iter()
                .map(|w| w.code.to_string())
                .filter(|c| c.starts_with("chain_"))
                .collect()
        };
        // Leaf + intermediate + root: ends at a self-signed root.
        let full = upload(
            format!("{}{}{}", leaf.cert_pem, inter.pem(), root.pem()),
            &[],
        );
        assert_eq!(
            (full.chain.end.clone(), codes(&full)),
            (ChainEnd::SelfSigned, vec![])
        );
        // Leaf + intermediate, the root a trust anchor: complete, no warning (servers do not
        // send the root).
        let root_subject = crate::domain::cert::subject_raw_of(&root.der).unwrap();
        let served = upload(
            format!("{}{}", leaf.cert_pem, inter.pem()),
            &[&root_subject],
        );
        assert!(served.chain.complete, "{:?}", served.chain.end);
        assert_eq!(
            (served.chain.end.clone(), codes(&served)),
            (ChainEnd::Trusted, vec![])
        );
        // The same without the anchor: an issuer certdeck does not know, named, with the way out.
        let private = upload(format!("{}{}", leaf.cert_pem, inter.pem()), &[]);
        assert!(!private.chain.complete);
        assert_eq!(codes(&private), ["chain_unknown_issuer"]);
        let w = &private
            .warnings
            .iter()
            .find(|w| w.code == "chain_unknown_issuer")
            .unwrap()
            .message;
        assert!(
            w.contains(&root.cn) && w.contains("certdeck trust add"),
            "{w}"
        );
        // Leaf + root without the intermediate: a gap between given certificates.
        let gap = upload(format!("{}{}", leaf.cert_pem, root.pem()), &[]);
        assert!(
            matches!(gap.chain.end, ChainEnd::Gap { .. }),
            "{:?}",
            gap.chain.end
        );
        assert!(codes(&gap).contains(&"chain_incomplete".to_string()));
        // Leaf alone, its issuer only known through the anchor's child: unknown issuer, allowed.
        let alone = upload(leaf.cert_pem.clone(), &[&root_subject]);
        assert!(matches!(alone.chain.end, ChainEnd::UnknownIssuer { .. }));
    }

    #[test]
    fn rule_u5_combined_bundle_in_cert_field() {
        let (root, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["a.example"], KeyKind::P256);
        let bundle = format!("{}{}{}", leaf.cert_pem, leaf.key_pem, inter.pem());
        let mut i = input(bundle, String::new());
        i.key = None;
        let v = validate_upload(&i, now(), &[]).unwrap();
        assert!(v.warnings.iter().any(|w| w.code == "key_from_bundle"));
        let _ = root;
    }

    #[test]
    fn rule_u7_key_in_cert_field_and_cert_in_key_field() {
        let (_, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["a.example"], KeyKind::P256);
        let e = validate_upload(
            &input(leaf.key_pem.clone(), leaf.key_pem.clone()),
            now(),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            (e.rule.as_str(), e.field, e.line),
            ("U-7", Field::Cert, Some(1))
        );
        assert!(e.message.contains("private key"));
        let e = validate_upload(
            &input(leaf.cert_pem.clone(), leaf.cert_pem.clone()),
            now(),
            &[],
        )
        .unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("U-7", Field::Key));
    }

    /// Every 16-character run of the key's base64 body: none may appear in a message.
    fn key_fragments(key_pem: &str) -> Vec<String> {
        let body: String = key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        body.as_bytes()
            .chunks(16)
            .filter(|c| c.len() == 16)
            .map(|c| String::from_utf8_lossy(c).into_owned())
            .collect()
    }

    fn assert_no_key_in(message: &str, key_pem: &str) {
        for f in key_fragments(key_pem) {
            assert!(!message.contains(&f), "key material in: {message}");
        }
    }

    #[test]
    fn rule_u5_cr_only_line_endings_are_read() {
        let (_, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["mac.example"], KeyKind::P256);
        let cr = |s: &str| s.replace('\n', "\r");
        let v = validate_upload(&input(cr(&leaf.cert_pem), cr(&leaf.key_pem)), now(), &[])
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(v.name, "mac.example");
        // A combined cert+key file with CR endings, given as the certificate alone.
        let mut combined = input(
            cr(&format!("{}{}", leaf.cert_pem, leaf.key_pem)),
            String::new(),
        );
        combined.key = None;
        assert!(validate_upload(&combined, now(), &[]).is_ok());
    }

    #[test]
    fn rule_u7_literal_backslash_n_is_explained_and_never_quotes_the_key() {
        let (_, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["json.example"], KeyKind::P256);
        let escaped = |s: &str| s.replace('\n', "\\n");
        let e = validate_upload(
            &input(leaf.cert_pem.clone(), escaped(&leaf.key_pem)),
            now(),
            &[],
        )
        .unwrap_err();
        assert_eq!(
            (e.rule.as_str(), e.field, e.line),
            ("U-7", Field::Key, Some(1))
        );
        assert!(e.message.contains("literal \\n"), "{e}");
        assert_no_key_in(&e.to_string(), &leaf.key_pem);
        let mut combined = input(
            escaped(&format!("{}{}", leaf.cert_pem, leaf.key_pem)),
            String::new(),
        );
        combined.key = None;
        let e = validate_upload(&combined, now(), &[]).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("U-7", Field::Cert));
        assert_no_key_in(&e.to_string(), &leaf.key_pem);
    }

    #[test]
    fn rule_u7_a_line_that_swallowed_a_key_is_never_quoted() {
        let (_, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["tab.example"], KeyKind::P256);
        // Line breaks lost another way (tabs, form feeds): one long "BEGIN" line.
        for sep in ["\t", "\x0c", " "] {
            let flat = leaf.key_pem.replace('\n', sep);
            let e = validate_upload(&input(leaf.cert_pem.clone(), flat), now(), &[]).unwrap_err();
            assert_eq!((e.rule.as_str(), e.field), ("U-7", Field::Key), "{e}");
            assert!(e.message.contains("malformed BEGIN line"), "{e}");
            assert_no_key_in(&e.to_string(), &leaf.key_pem);
        }
    }

    #[test]
    fn rule_u7_bom_is_accepted_and_key_field_names_a_key() {
        let (_, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["bom.example"], KeyKind::P256);
        let bom = |s: &str| format!("\u{FEFF}{s}");
        assert!(
            validate_upload(&input(bom(&leaf.cert_pem), bom(&leaf.key_pem)), now(), &[]).is_ok()
        );
        let e = validate_upload(
            &input(leaf.cert_pem.clone(), "not a key".into()),
            now(),
            &[],
        )
        .unwrap_err();
        assert_eq!(e.field, Field::Key);
        assert!(e.message.contains("BEGIN PRIVATE KEY"), "{e}");
        assert!(!e.message.contains("BEGIN CERTIFICATE"), "{e}");
    }

    #[test]
    fn rule_u5_a_repeated_certificate_is_kept_once_with_a_warning() {
        let (root, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["twice.example"], KeyKind::P256);
        let chain = format!(
            "{}{}{}{}",
            leaf.cert_pem,
            inter.pem(),
            inter.pem(),
            root.pem()
        );
        let v = validate_upload(&input(chain, leaf.key_pem), now(), &[]).unwrap();
        assert_eq!(v.chain.certs.len(), 3);
        assert!(v.warnings.iter().any(|w| w.code == "chain_repeated"));
    }

    #[test]
    fn rule_u7_a_chain_of_ten_is_accepted_and_eleven_refused() {
        let (root, inter) = ca(KeyKind::P256);
        let leaf = leaf(&inter, &["long.example"], KeyKind::P256);
        let others: Vec<String> = (0..9)
            .map(|i| {
                Authority::root(
                    &format!("Stray {i}"),
                    "x",
                    KeyKind::P256,
                    now(),
                    now() + Duration::days(9),
                )
                .pem()
            })
            .collect();
        let ten = format!("{}{}", leaf.cert_pem, others.concat());
        assert!(validate_upload(&input(ten.clone(), leaf.key_pem.clone()), now(), &[]).is_ok());
        let eleven = format!("{ten}{}", root.pem());
        let e = validate_upload(&input(eleven, leaf.key_pem), now(), &[]).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("U-7", Field::Cert));
        assert!(e.message.contains("11 different certificates"), "{e}");
        let _ = inter;
    }

    #[test]
    fn rule_u3_sm2_needs_four_parts_and_one_key_file_may_hold_both() {
        let (root, inter) = ca(KeyKind::Sm2);
        let sign = leaf(&inter, &["sm2.example"], KeyKind::Sm2);
        let enc = leaf(&inter, &["sm2.example"], KeyKind::Sm2);
        let chain = format!("{}{}{}", sign.cert_pem, inter.pem(), root.pem());

        let e =
            validate_upload(&input(chain.clone(), sign.key_pem.clone()), now(), &[]).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("U-3", Field::EncCert));

        let mut full = input(chain.clone(), sign.key_pem.clone());
        full.enc_cert = Some(enc.cert_pem.clone().into_bytes());
        full.enc_key = Some(enc.key_pem.clone().into_bytes());
        let v = validate_upload(&full, now(), &[]).unwrap();
        assert_eq!(v.standard, Standard::Sm2);
        assert_eq!(v.leaf().facts.key_algorithm, KeyAlgorithm::Sm2);
        assert_eq!(v.leaf().facts.signature_algorithm, "SM2-with-SM3");
        assert!(v.chain.complete);

        let mut one_file = input(chain.clone(), format!("{}{}", enc.key_pem, sign.key_pem));
        one_file.enc_cert = Some(enc.cert_pem.clone().into_bytes());
        assert!(validate_upload(&one_file, now(), &[]).is_ok());

        let mut wrong = full.clone();
        wrong.enc_key = Some(sign.key_pem.clone().into_bytes());
        let e = validate_upload(&wrong, now(), &[]).unwrap_err();
        assert_eq!((e.rule.as_str(), e.field), ("U-3", Field::EncKey));

        let mut intl = full.clone();
        intl.standard = Some(Standard::International);
        assert_eq!(validate_upload(&intl, now(), &[]).unwrap_err().rule, "U-3");
    }
}
