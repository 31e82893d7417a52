//! Facts of X.509 certificates and chains (x509-parser), and which key belongs to which leaf.
use crate::domain::key::{PublicKey, OID_SM2};
use crate::domain::model::{ChainLink, X509Facts};
use crate::domain::time::Timestamp;
use chrono::DateTime;
use x509_parser::prelude::*;

/// A parsed certificate: its facts, its public key, and the raw parts chain building needs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct ParsedCert {
    pub der: Vec<u8>,
    pub facts: X509Facts,
    pub public_key: Option<PublicKey>,
    pub subject_raw: Vec<u8>,
    pub issuer_raw: Vec<u8>,
    pub subject_key_id: Option<Vec<u8>>,
    pub authority_key_id: Option<Vec<u8>>,
    /// Where its issuer's certificate is published (Authority Information Access, caIssuers).
    pub ca_issuers: Option<String>,
}

impl ParsedCert {
    pub fn is_self_signed(&self) -> bool {
        self.subject_raw == self.issuer_raw
    }

    pub fn link(&self) -> ChainLink {
        ChainLink {
            subject: self.facts.subject.clone(),
            issuer: self.facts.issuer.clone(),
            not_before: self.facts.not_before,
            not_after: self.facts.not_after,
            fingerprint_sha256: self.facts.fingerprint_sha256.clone(),
            is_ca: self.facts.is_ca,
        }
    }

    /// True when `self` names `issuer` as its issuer (by name, and by key id when both have one).
    pub fn is_issued_by(&self, issuer: &ParsedCert) -> bool {
        if self.issuer_raw != issuer.subject_raw {
            return false;
        }
        match (&self.authority_key_id, &issuer.subject_key_id) {
            (Some(a), Some(s)) => a == s,
            _ => true,
        }
    }
}

/// An OID's dotted form (a scan formats several per certificate: the fast path first).
fn oid_string(oid: &x509_parser::der_parser::oid::Oid) -> String {
    crate::domain::der::oid_dotted(oid.as_bytes()).unwrap_or_else(|| oid.to_id_string())
}

pub fn sha256_hex(der: &[u8]) -> String {
    lower_hex(ring::digest::digest(&ring::digest::SHA256, der).as_ref())
}

/// The SHA-256 that `sha256_hex` wrote (`None`: not 64 hex digits).
pub fn sha256_from_hex(hex: &str) -> Option<[u8; 32]> {
    let hex = hex.as_bytes();
    if hex.len() != 64 {
        return None;
    }
    let digit = |c: u8| match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    };
    let mut out = [0u8; 32];
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(out)
}

/// `bytes` in lower-case hex (#15: a scan writes two of these per certificate; `format!` per
/// byte cost more than the hashing).
pub fn lower_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// Parses one DER certificate. The error is a sentence fit for the user.
/// A serial number given in hex as the decimal digits of the same (unsigned) integer, as
/// x509-certificate-exporter's `serial_number` label has it. `None` for a non-hex string.
pub fn serial_decimal(hex: &str) -> Option<String> {
    let mut digits: Vec<u8> = vec![0]; // little-endian base 10
    for c in hex.chars() {
        let mut carry = c.to_digit(16)?;
        for d in digits.iter_mut() {
            let v = u32::from(*d) * 16 + carry;
            *d = (v % 10) as u8;
            carry = v / 10;
        }
        while carry > 0 {
            digits.push((carry % 10) as u8);
            carry /= 10;
        }
    }
    while digits.len() > 1 && digits.last() == Some(&0) {
        digits.pop();
    }
    Some(digits.iter().rev().map(|d| char::from(b'0' + d)).collect())
}

pub fn parse_certificate(der: &[u8]) -> Result<ParsedCert, String> {
    let (rest, cert) = X509Certificate::from_der(der)
        .map_err(|e| format!("not a valid X.509 certificate ({e})"))?;
    if !rest.is_empty() {
        return Err(format!(
            "{} unexpected bytes after the certificate",
            rest.len()
        ));
    }
    let der = der[..der.len() - rest.len()].to_vec();
    let registry = oid_registry();
    let name_of = |oid: &x509_parser::der_parser::oid::Oid| {
        let s = oid_string(oid);
        match s.as_str() {
            "1.2.156.10197.1.501" => "SM2-with-SM3".to_string(),
            OID_SM2 => "SM2".to_string(),
            _ => oid2sn(oid, registry).map(str::to_string).unwrap_or(s),
        }
    };

    let spki = cert.public_key();
    let alg_oid = oid_string(&spki.algorithm.algorithm);
    let curve_oid = spki
        .algorithm
        .parameters
        .as_ref()
        .and_then(|p| p.as_oid().ok())
        .map(|o| oid_string(&o));
    let public_key = PublicKey::from_spki(
        &alg_oid,
        curve_oid.as_deref(),
        &spki.subject_public_key.data,
    )
    .ok();
    // U-5: a key certdeck cannot use for checks (DSA, Ed448, EC with explicit curve parameters,
    // anything unknown) still leaves every fact a lifecycle tool needs; only matching a private
    // key to it is impossible (`public_key` is `None`).
    let (key_algorithm, key_bits) = match &public_key {
        Some(pk) => (pk.algorithm(), pk.bits()),
        None => unusable_key(&alg_oid, &spki.subject_public_key.data),
    };

    let mut sans = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(d) => sans.push(d.to_string()),
                GeneralName::IPAddress(ip) => sans.push(ip_to_string(ip)),
                GeneralName::RFC822Name(m) => sans.push(m.to_string()),
                _ => {}
            }
        }
    }
    let subject_cn = first_attr(
        cert.subject(),
        &x509_parser::oid_registry::OID_X509_COMMON_NAME,
    );
    let subject_org = first_attr(
        cert.subject(),
        &x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME,
    );
    let issuer_cn = first_attr(
        cert.issuer(),
        &x509_parser::oid_registry::OID_X509_COMMON_NAME,
    );
    let issuer_org = first_attr(
        cert.issuer(),
        &x509_parser::oid_registry::OID_X509_ORGANIZATION_NAME,
    );

    let mut key_usage = Vec::new();
    if let Ok(Some(ku)) = cert.key_usage() {
        let ku = ku.value;
        for (on, name) in [
            (ku.digital_signature(), "digitalSignature"),
            (ku.non_repudiation(), "nonRepudiation"),
            (ku.key_encipherment(), "keyEncipherment"),
            (ku.data_encipherment(), "dataEncipherment"),
            (ku.key_agreement(), "keyAgreement"),
            (ku.key_cert_sign(), "keyCertSign"),
            (ku.crl_sign(), "cRLSign"),
        ] {
            if on {
                key_usage.push(name.to_string());
            }
        }
    }
    let mut extended_key_usage = Vec::new();
    if let Ok(Some(eku)) = cert.extended_key_usage() {
        let e = eku.value;
        for (on, name) in [
            (e.server_auth, "serverAuth"),
            (e.client_auth, "clientAuth"),
            (e.code_signing, "codeSigning"),
            (e.email_protection, "emailProtection"),
            (e.ocsp_signing, "ocspSigning"),
        ] {
            if on {
                extended_key_usage.push(name.to_string());
            }
        }
    }
    let mut policies = Vec::new();
    let mut subject_key_id = None;
    let mut authority_key_id = None;
    let mut ca_issuers = None;
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::AuthorityInfoAccess(aia) => {
                ca_issuers = aia
                    .accessdescs
                    .iter()
                    .filter(|d| oid_string(&d.access_method) == "1.3.6.1.5.5.7.48.2")
                    .find_map(|d| match &d.access_location {
                        GeneralName::URI(u) => Some(u.to_string()),
                        _ => None,
                    });
            }
            ParsedExtension::CertificatePolicies(p) => {
                policies.extend(p.iter().map(|pi| oid_string(&pi.policy_id)));
            }
            ParsedExtension::SubjectKeyIdentifier(k) => subject_key_id = Some(k.0.to_vec()),
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                authority_key_id = a.key_identifier.as_ref().map(|k| k.0.to_vec())
            }
            _ => {}
        }
    }

    let facts = X509Facts {
        version: cert.version().0 + 1,
        subject: cert.subject().to_string(),
        subject_cn,
        subject_org,
        sans,
        issuer: cert.issuer().to_string(),
        issuer_cn,
        issuer_org,
        serial: lower_hex(cert.raw_serial()),
        not_before: asn1_time(cert.validity().not_before)?,
        not_after: asn1_time(cert.validity().not_after)?,
        signature_algorithm: name_of(&cert.signature_algorithm.algorithm),
        key_algorithm,
        key_bits,
        fingerprint_sha256: sha256_hex(&der),
        is_ca: cert.is_ca(),
        key_usage,
        extended_key_usage,
        policies,
    };
    Ok(ParsedCert {
        subject_raw: cert.subject().as_raw().to_vec(),
        issuer_raw: cert.issuer().as_raw().to_vec(),
        der,
        facts,
        public_key,
        subject_key_id,
        authority_key_id,
        ca_issuers,
    })
}

/// The algorithm and size of a public key certdeck reads but cannot check keys against.
fn unusable_key(alg_oid: &str, key: &[u8]) -> (crate::domain::model::KeyAlgorithm, u32) {
    use crate::domain::model::KeyAlgorithm;
    let bits = |b: &[u8]| b.iter().skip_while(|&&x| x == 0).count() as u32 * 8;
    match alg_oid {
        // DSA: the public value y is an INTEGER as long as the group's prime.
        "1.2.840.10040.4.1" => (
            KeyAlgorithm::Dsa,
            // 02 LEN [LEN…] y
            key.get(2..).map_or(0, |rest| {
                let skip = if key.get(1).is_some_and(|l| l & 0x80 != 0) {
                    (key[1] & 0x7f) as usize
                } else {
                    0
                };
                rest.get(skip..).map_or(0, bits)
            }),
        ),
        "1.3.101.113" => (KeyAlgorithm::Ed448, 448),
        // id-ecPublicKey whose curve is spelled out instead of named: an uncompressed point.
        crate::domain::key::OID_EC_PUBLIC_KEY => (
            KeyAlgorithm::Ecdsa,
            (key.len().saturating_sub(1) / 2 * 8) as u32,
        ),
        _ => (KeyAlgorithm::Other, bits(key)),
    }
}

fn asn1_time(t: ASN1Time) -> Result<Timestamp, String> {
    DateTime::from_timestamp(t.timestamp(), 0)
        .ok_or_else(|| "validity date out of range".to_string())
}

fn ip_to_string(ip: &[u8]) -> String {
    match ip.len() {
        4 => std::net::Ipv4Addr::from(<[u8; 4]>::try_from(ip).expect("4 bytes")).to_string(),
        16 => std::net::Ipv6Addr::from(<[u8; 16]>::try_from(ip).expect("16 bytes")).to_string(),
        _ => format!("{ip:02x?}"),
    }
}

/// A chain put in order: leaf first, each next link the issuer of the one before.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct OrderedChain {
    pub certs: Vec<ParsedCert>,
    /// The input order was not leaf-first issuer order.
    pub reordered: bool,
    /// The chain ends at a self-signed root or at a certificate issued by a known trust anchor.
    pub complete: bool,
    /// How it ends (U-2).
    pub end: ChainEnd,
    /// Certificates given that are not on the leaf's path (kept at the end).
    pub unrelated: usize,
}

/// U-2: where a chain ends. Only `SelfSigned` and `Trusted` are complete.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ChainEnd {
    /// At a root given in the chain.
    SelfSigned,
    /// At a certificate issued by a trust anchor (servers do not send the root).
    Trusted,
    /// A gap between two given certificates: the issuer of `after` is missing, though other
    /// certificates of a chain were given.
    Gap { after: String, issuer: String },
    /// The last certificate names where its issuer is published: a public intermediate is
    /// missing.
    MissingIntermediate { issuer: String, url: String },
    /// An issuer certdeck does not know (a private root, most often).
    UnknownIssuer { issuer: String },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChainError {
    /// Several end-entity certificates that are not on one path. Holds their subjects.
    SeveralLeaves(Vec<String>),
}

/// Orders certificates given in any order. `anchor_subjects` are the raw subject names of trusted
/// roots (Mozilla's, and later the sandbox CA's) that need not be in the chain for it to be complete.
pub fn order_chain(
    certs: Vec<ParsedCert>,
    anchor_subjects: &[&[u8]],
) -> Result<OrderedChain, ChainError> {
    let n = certs.len();
    let issues_someone = |i: usize| (0..n).any(|j| j != i && certs[j].is_issued_by(&certs[i]));
    let mut leaves: Vec<usize> = (0..n).filter(|&i| !issues_someone(i)).collect();
    if leaves.len() > 1 {
        // Prefer end-entity certificates; a stray CA certificate is tolerated.
        let end_entities: Vec<usize> = leaves
            .iter()
            .copied()
            .filter(|&i| !certs[i].facts.is_ca)
            .collect();
        if end_entities.len() > 1 {
            return Err(ChainError::SeveralLeaves(
                end_entities
                    .iter()
                    .map(|&i| certs[i].facts.subject.clone())
                    .collect(),
            ));
        }
        if let Some(&leaf) = end_entities.first() {
            leaves = vec![leaf];
        }
    }
    let leaf = leaves.first().copied().unwrap_or(0);
    let mut path = vec![leaf];
    let mut used = vec![false; n];
    used[leaf] = true;
    loop {
        let current = &certs[*path.last().expect("path has the leaf")];
        if current.is_self_signed() {
            break;
        }
        match (0..n).find(|&j| !used[j] && current.is_issued_by(&certs[j])) {
            Some(j) => {
                used[j] = true;
                path.push(j);
            }
            None => break,
        }
    }
    let last = &certs[*path.last().expect("path has the leaf")];
    let issuer_inner = sequence_contents(&last.issuer_raw);
    let unrelated = n - path.len();
    let given_cas = (0..n).any(|i| !used[i] && certs[i].facts.is_ca);
    let end = if last.is_self_signed() {
        ChainEnd::SelfSigned
    } else if anchor_subjects
        .iter()
        .any(|s| *s == last.issuer_raw.as_slice() || *s == issuer_inner)
    {
        ChainEnd::Trusted
    } else if given_cas {
        ChainEnd::Gap {
            after: last.facts.subject.clone(),
            issuer: last.facts.issuer.clone(),
        }
    } else if let Some(url) = &last.ca_issuers {
        ChainEnd::MissingIntermediate {
            issuer: last.facts.issuer.clone(),
            url: url.clone(),
        }
    } else {
        ChainEnd::UnknownIssuer {
            issuer: last.facts.issuer.clone(),
        }
    };
    let complete = matches!(end, ChainEnd::SelfSigned | ChainEnd::Trusted);
    let order: Vec<usize> = path
        .iter()
        .copied()
        .chain((0..n).filter(|&i| !used[i]))
        .collect();
    let reordered = order.iter().enumerate().any(|(pos, &i)| pos != i);
    let mut slots: Vec<Option<ParsedCert>> = certs.into_iter().map(Some).collect();
    let certs = order
        .into_iter()
        .map(|i| slots[i].take().expect("each index once"))
        .collect();
    Ok(OrderedChain {
        certs,
        reordered,
        complete,
        end,
        unrelated,
    })
}

/// The raw subject name of a DER certificate, for certificates read only as trust anchors (a
/// system store may hold algorithms `parse_certificate` refuses).
pub fn subject_raw_of(der: &[u8]) -> Option<Vec<u8>> {
    x509_parser::parse_x509_certificate(der)
        .ok()
        .map(|(_, c)| c.subject().as_raw().to_vec())
}

/// Raw subjects of the Mozilla root programme, as trust anchors for chain completeness.
pub fn mozilla_anchor_subjects() -> Vec<&'static [u8]> {
    webpki_roots::TLS_SERVER_ROOTS
        .iter()
        .map(|ta| ta.subject.as_ref())
        .collect()
}

/// The contents of a DER SEQUENCE without its tag and length (trust anchors store names so).
fn sequence_contents(der: &[u8]) -> &[u8] {
    if der.len() < 2 || der[0] != 0x30 {
        return der;
    }
    let (len_bytes, len) = match der[1] {
        l if l < 0x80 => (0, l as usize),
        l => {
            let n = (l & 0x7f) as usize;
            if n == 0 || n > 4 || der.len() < 2 + n {
                return der;
            }
            (
                n,
                der[2..2 + n]
                    .iter()
                    .fold(0usize, |acc, &b| acc << 8 | b as usize),
            )
        }
    };
    der.get(2 + len_bytes..2 + len_bytes + len).unwrap_or(der)
}

fn first_attr(name: &X509Name, oid: &x509_parser::der_parser::oid::Oid) -> Option<String> {
    name.iter_by_oid(oid)
        .next()
        .and_then(|a| a.as_str().ok().map(str::to_string))
}

#[cfg(test)]
mod serial_tests {
    use super::serial_decimal;

    #[test]
    fn hex_is_two_lower_case_digits_a_byte_as_x509_parser_writes_serials() {
        let bytes = [0x00, 0x0f, 0xa0, 0xff, 0x5c];
        assert_eq!(super::lower_hex(&bytes), "000fa0ff5c");
        let theirs = x509_parser::utils::format_serial(&bytes)
            .replace(':', "")
            .to_lowercase();
        assert_eq!(super::lower_hex(&bytes), theirs);
        assert_eq!(super::lower_hex(&[]), "");
        let fp = super::sha256_hex(b"certdeck");
        let bytes = super::sha256_from_hex(&fp).unwrap();
        assert_eq!(super::lower_hex(&bytes), fp, "there and back");
        assert_eq!(super::sha256_from_hex(&fp.to_uppercase()), Some(bytes));
        for bad in ["", &fp[1..], &format!("{fp}0"), &format!("g{}", &fp[1..])] {
            assert_eq!(super::sha256_from_hex(bad), None, "{bad}");
        }
    }

    #[test]
    fn rule_sv3_serial_numbers_are_labelled_in_decimal_like_the_exporter() {
        assert_eq!(serial_decimal("0").as_deref(), Some("0"));
        assert_eq!(serial_decimal("ff").as_deref(), Some("255"));
        assert_eq!(serial_decimal("0100").as_deref(), Some("256"));
        // 20 bytes (the longest RFC 5280 allows): beyond u128, exact.
        assert_eq!(
            serial_decimal("ffffffffffffffffffffffffffffffffffffffff").as_deref(),
            Some("1461501637330902918203684832716283019655932542975")
        );
        assert_eq!(
            serial_decimal("16442f4293239fb77d9ecd26fbf03f0b1e460591").as_deref(),
            Some("127118364563281046631474252381352350073489851793")
        );
        assert!(serial_decimal("xyz").is_none());
    }
}
