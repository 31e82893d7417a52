//! SM2 certificates. rcgen has no SM2 signature algorithm, so the TBSCertificate is written with
//! a few lines of DER and signed with RustCrypto's `sm2` (SM2-with-SM3, default distinguishing id).
use sm2::dsa::signature::Signer;

const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_SM2_CURVE: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x82, 0x2d];
const OID_SM2_WITH_SM3: &[u8] = &[0x2a, 0x81, 0x1c, 0xcf, 0x55, 0x01, 0x83, 0x75];
const OID_CN: &[u8] = &[0x55, 0x04, 0x03];
const OID_O: &[u8] = &[0x55, 0x04, 0x0a];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
/// GM/T 0009 default user id.
pub use crate::domain::key::SM2_DEFAULT_ID as DIST_ID;

fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes: Vec<u8> = n
            .to_be_bytes()
            .iter()
            .copied()
            .skip_while(|&b| b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out.extend_from_slice(content);
    out
}

fn seq(parts: &[Vec<u8>]) -> Vec<u8> {
    tlv(0x30, &parts.concat())
}

fn name(cn: &str, org: &str) -> Vec<u8> {
    let rdn = |oid: &[u8], v: &str| tlv(0x31, &seq(&[tlv(0x06, oid), tlv(0x0c, v.as_bytes())]));
    seq(&[rdn(OID_O, org), rdn(OID_CN, cn)])
}

fn time(t: chrono::DateTime<chrono::Utc>) -> Vec<u8> {
    use chrono::Datelike;
    if (1950..2050).contains(&t.year()) {
        tlv(0x17, t.format("%y%m%d%H%M%SZ").to_string().as_bytes())
    } else {
        tlv(0x18, t.format("%Y%m%d%H%M%SZ").to_string().as_bytes())
    }
}

pub struct Sm2Issuer<'a> {
    pub cn: &'a str,
    pub org: &'a str,
    pub key: &'a sm2::SecretKey,
}

/// Builds and signs one SM2 certificate.
#[allow(clippy::too_many_arguments)]
pub fn build(
    subject_cn: &str,
    subject_org: &str,
    domains: &[String],
    is_ca: bool,
    serial: u64,
    not_before: chrono::DateTime<chrono::Utc>,
    not_after: chrono::DateTime<chrono::Utc>,
    subject_key: &sm2::PublicKey,
    issuer: &Sm2Issuer,
) -> Vec<u8> {
    use sm2::elliptic_curve::sec1::ToSec1Point;
    let alg = seq(&[tlv(0x06, OID_SM2_WITH_SM3)]);
    let point = subject_key.to_sec1_point(false);
    let mut bits = vec![0u8];
    bits.extend_from_slice(point.as_bytes());
    let spki = seq(&[
        seq(&[tlv(0x06, OID_EC_PUBLIC_KEY), tlv(0x06, OID_SM2_CURVE)]),
        tlv(0x03, &bits),
    ]);
    let mut exts = Vec::new();
    if !domains.is_empty() {
        let names: Vec<u8> = domains
            .iter()
            .flat_map(|d| tlv(0x82, d.as_bytes()))
            .collect();
        exts.push(seq(&[tlv(0x06, OID_SAN), tlv(0x04, &tlv(0x30, &names))]));
    }
    let bc = if is_ca {
        seq(&[tlv(0x01, &[0xff])])
    } else {
        seq(&[])
    };
    exts.push(seq(&[
        tlv(0x06, OID_BASIC_CONSTRAINTS),
        tlv(0x01, &[0xff]),
        tlv(0x04, &bc),
    ]));
    // Minimal and positive: a needless leading zero is invalid DER (OpenSSL refuses it).
    let serial_bytes = uint(&serial.to_be_bytes());
    let tbs = seq(&[
        tlv(0xa0, &tlv(0x02, &[2])),
        tlv(0x02, &serial_bytes),
        alg.clone(),
        name(issuer.cn, issuer.org),
        seq(&[time(not_before), time(not_after)]),
        name(subject_cn, subject_org),
        spki,
        tlv(0xa3, &seq(&exts)),
    ]);
    let signing = sm2::dsa::SigningKey::new(DIST_ID, issuer.key).expect("valid SM2 key");
    let sig: sm2::dsa::Signature = signing.sign(&tbs);
    let mut sig_bits = vec![0u8];
    sig_bits.extend_from_slice(&sig.to_der().to_bytes());
    seq(&[tbs, alg, tlv(0x03, &sig_bits)])
}

const OID_REASON_CODE: &[u8] = &[0x55, 0x1d, 0x15];
const OID_CRL_NUMBER: &[u8] = &[0x55, 0x1d, 0x14];

/// A positive DER INTEGER body from big-endian bytes.
fn uint(bytes: &[u8]) -> Vec<u8> {
    let trimmed: Vec<u8> = bytes.iter().copied().skip_while(|b| *b == 0).collect();
    match trimmed.first() {
        None => vec![0],
        Some(b) if b & 0x80 != 0 => [&[0u8][..], &trimmed].concat(),
        Some(_) => trimmed,
    }
}

/// Builds and signs an SM2 CRL (v2) of `issuer`: `(serial, revocation time, reason code)`.
pub fn build_crl(
    issuer: &Sm2Issuer,
    revoked: &[(Vec<u8>, chrono::DateTime<chrono::Utc>, u8)],
    crl_number: u64,
    this_update: chrono::DateTime<chrono::Utc>,
    next_update: chrono::DateTime<chrono::Utc>,
) -> Vec<u8> {
    let alg = seq(&[tlv(0x06, OID_SM2_WITH_SM3)]);
    let mut parts = vec![
        tlv(0x02, &[1]),
        alg.clone(),
        name(issuer.cn, issuer.org),
        time(this_update),
        time(next_update),
    ];
    if !revoked.is_empty() {
        let entries: Vec<Vec<u8>> = revoked
            .iter()
            .map(|(serial, at, reason)| {
                let ext = seq(&[
                    tlv(0x06, OID_REASON_CODE),
                    tlv(0x04, &tlv(0x0a, &[*reason])),
                ]);
                seq(&[tlv(0x02, &uint(serial)), time(*at), seq(&[ext])])
            })
            .collect();
        parts.push(seq(&entries));
    }
    let number = seq(&[
        tlv(0x06, OID_CRL_NUMBER),
        tlv(0x04, &tlv(0x02, &uint(&crl_number.to_be_bytes()))),
    ]);
    parts.push(tlv(0xa0, &seq(&[number])));
    let tbs = seq(&parts);
    let signing = sm2::dsa::SigningKey::new(DIST_ID, issuer.key).expect("valid SM2 key");
    let sig: sm2::dsa::Signature = signing.sign(&tbs);
    let mut sig_bits = vec![0u8];
    sig_bits.extend_from_slice(&sig.to_der().to_bytes());
    seq(&[tbs, alg, tlv(0x03, &sig_bits)])
}
