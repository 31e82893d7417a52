//! A small PKI for the demo, the tests and the benchmarks: roots, intermediates and leaves with
//! real keys. RSA keys come from `demo/*.pem` (rcgen on ring cannot generate RSA); every other
//! key is generated fresh.
use crate::domain::time::Timestamp;
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use ring::rand::{SecureRandom, SystemRandom};

const RSA_2048: &str = include_str!("../../demo/rsa-2048-demo-only.pem");
const RSA_3072: &str = include_str!("../../demo/rsa-3072-demo-only.pem");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyKind {
    P256,
    P384,
    Ed25519,
    Rsa2048,
    Rsa3072,
    Sm2,
}

pub enum GenKey {
    Rcgen(Box<KeyPair>),
    Sm2(sm2::SecretKey),
}

impl GenKey {
    pub fn generate(kind: KeyKind) -> GenKey {
        match kind {
            KeyKind::P256 => GenKey::Rcgen(Box::new(
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("P-256 keygen"),
            )),
            KeyKind::P384 => GenKey::Rcgen(Box::new(
                KeyPair::generate_for(&rcgen::PKCS_ECDSA_P384_SHA384).expect("P-384 keygen"),
            )),
            KeyKind::Ed25519 => GenKey::Rcgen(Box::new(
                KeyPair::generate_for(&rcgen::PKCS_ED25519).expect("Ed25519 keygen"),
            )),
            KeyKind::Rsa2048 => {
                GenKey::Rcgen(Box::new(KeyPair::from_pem(RSA_2048).expect("demo RSA key")))
            }
            KeyKind::Rsa3072 => {
                GenKey::Rcgen(Box::new(KeyPair::from_pem(RSA_3072).expect("demo RSA key")))
            }
            KeyKind::Sm2 => {
                let rng = SystemRandom::new();
                loop {
                    let mut b = [0u8; 32];
                    rng.fill(&mut b).expect("system randomness");
                    if let Ok(k) = sm2::SecretKey::from_slice(&b) {
                        break GenKey::Sm2(k);
                    }
                }
            }
        }
    }

    /// PKCS#8 PEM of the private key.
    pub fn pkcs8_pem(&self) -> String {
        match self {
            GenKey::Rcgen(k) => k.serialize_pem(),
            GenKey::Sm2(k) => {
                use pkcs8::EncodePrivateKey;
                let doc = k.to_pkcs8_der().expect("SM2 key encodes");
                crate::domain::pem::encode("PRIVATE KEY", doc.as_bytes())
            }
        }
    }
}

/// X.509 times end at 9999-12-31 23:59:59 UTC (RFC 5280 4.1.2.5 names it "no well-defined
/// expiration"); a later instant is given as that one instead of panicking.
fn to_time(t: Timestamp) -> time::OffsetDateTime {
    let last = crate::domain::time::LAST_X509_SECOND;
    time::OffsetDateTime::from_unix_timestamp(t.timestamp().clamp(0, last))
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH)
}

fn dn(cn: &str, org: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::OrganizationName, org);
    d.push(DnType::CommonName, cn);
    d
}

/// A certificate authority that can issue leaves (and intermediates) of its own key family.
pub struct Authority {
    pub cn: String,
    pub org: String,
    key: GenKey,
    params: Option<CertificateParams>,
    pub der: Vec<u8>,
}

/// A leaf certificate and its key.
pub struct Issued {
    pub der: Vec<u8>,
    pub cert_pem: String,
    pub key_pem: String,
}

fn serial() -> u64 {
    let mut b = [0u8; 8];
    SystemRandom::new().fill(&mut b).expect("system randomness");
    u64::from_be_bytes(b) >> 1
}

fn ca_params(cn: &str, org: &str, nb: Timestamp, na: Timestamp) -> CertificateParams {
    let mut p = CertificateParams::default();
    p.distinguished_name = dn(cn, org);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = to_time(nb);
    p.not_after = to_time(na);
    p.use_authority_key_identifier_extension = true;
    p
}

impl Authority {
    pub fn root(cn: &str, org: &str, kind: KeyKind, nb: Timestamp, na: Timestamp) -> Authority {
        let key = GenKey::generate(kind);
        match &key {
            GenKey::Rcgen(kp) => {
                let params = ca_params(cn, org, nb, na);
                let der = params
                    .self_signed(kp.as_ref())
                    .expect("root signs")
                    .der()
                    .to_vec();
                Authority {
                    cn: cn.into(),
                    org: org.into(),
                    key,
                    params: Some(params),
                    der,
                }
            }
            GenKey::Sm2(sk) => {
                let issuer = super::sm2cert::Sm2Issuer { cn, org, key: sk };
                let der = super::sm2cert::build(
                    cn,
                    org,
                    &[],
                    true,
                    serial(),
                    nb,
                    na,
                    &sk.public_key(),
                    &issuer,
                );
                Authority {
                    cn: cn.into(),
                    org: org.into(),
                    key,
                    params: None,
                    der,
                }
            }
        }
    }

    /// An authority saved earlier: its name, its P-256/RSA key (PKCS#8 PEM) and its certificate.
    /// The issuer name and key identifier are rebuilt from these, so what it signs chains to `der`.
    pub fn restore(cn: &str, org: &str, key_pem: &str, der: Vec<u8>) -> Result<Authority, String> {
        if let Ok(sk) = <sm2::SecretKey as pkcs8::DecodePrivateKey>::from_pkcs8_pem(key_pem) {
            return Ok(Authority {
                cn: cn.into(),
                org: org.into(),
                key: GenKey::Sm2(sk),
                params: None,
                der,
            });
        }
        let key = KeyPair::from_pem(key_pem).map_err(|e| format!("CA key: {e}"))?;
        let now = chrono::Utc::now();
        Ok(Authority {
            cn: cn.into(),
            org: org.into(),
            key: GenKey::Rcgen(Box::new(key)),
            params: Some(ca_params(cn, org, now, now)),
            der,
        })
    }

    /// The authority's private key as PKCS#8 PEM (for sealing in the store).
    pub fn key_pem(&self) -> String {
        self.key.pkcs8_pem()
    }

    pub fn intermediate(&self, cn: &str, org: &str, nb: Timestamp, na: Timestamp) -> Authority {
        let kind = match &self.key {
            GenKey::Rcgen(_) => KeyKind::P256,
            GenKey::Sm2(_) => KeyKind::Sm2,
        };
        let key = GenKey::generate(kind);
        let der = self.sign(cn, org, &[], true, nb, na, &key);
        let params = matches!(key, GenKey::Rcgen(_)).then(|| ca_params(cn, org, nb, na));
        Authority {
            cn: cn.into(),
            org: org.into(),
            key,
            params,
            der,
        }
    }

    /// Issues a server certificate for `domains` (first one is the CN). SM2 authorities issue SM2 leaves.
    pub fn issue(&self, domains: &[&str], kind: KeyKind, nb: Timestamp, na: Timestamp) -> Issued {
        let kind = match self.key {
            GenKey::Sm2(_) => KeyKind::Sm2,
            GenKey::Rcgen(_) if kind == KeyKind::Sm2 => KeyKind::P256,
            _ => kind,
        };
        let key = GenKey::generate(kind);
        let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        let der = self.sign(&domains[0], "", &domains, false, nb, na, &key);
        Issued {
            cert_pem: crate::domain::pem::encode("CERTIFICATE", &der),
            key_pem: key.pkcs8_pem(),
            der,
        }
    }

    /// Issues a certificate for an existing PKCS#8 key (P-256, Ed25519 or RSA).
    pub fn issue_with_key_pem(
        &self,
        domains: &[&str],
        key_pem: &str,
        nb: Timestamp,
        na: Timestamp,
    ) -> Issued {
        let key = GenKey::Rcgen(Box::new(
            KeyPair::from_pem(key_pem).expect("a PKCS#8 key rcgen can sign with"),
        ));
        let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        let der = self.sign(&domains[0], "", &domains, false, nb, na, &key);
        Issued {
            cert_pem: crate::domain::pem::encode("CERTIFICATE", &der),
            key_pem: key_pem.to_string(),
            der,
        }
    }

    pub fn pem(&self) -> String {
        crate::domain::pem::encode("CERTIFICATE", &self.der)
    }

    /// Issues a server certificate for a public key given as SubjectPublicKeyInfo DER (a CSR's,
    /// or a reissue's kept key). RSA, P-256, P-384 and Ed25519 keys; not SM2 (rcgen has no SM2).
    pub fn issue_for_spki(
        &self,
        domains: &[&str],
        spki_der: &[u8],
        nb: Timestamp,
        na: Timestamp,
    ) -> Result<Vec<u8>, String> {
        let (GenKey::Rcgen(ca_key), Some(ca_params)) = (&self.key, &self.params) else {
            let subject = <sm2::PublicKey as pkcs8::DecodePublicKey>::from_public_key_der(spki_der)
                .map_err(|_| "an SM2 authority certifies SM2 keys only".to_string())?;
            let GenKey::Sm2(ca_key) = &self.key else {
                return Err("this authority cannot certify the key".into());
            };
            let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
            let issuer = super::sm2cert::Sm2Issuer {
                cn: &self.cn,
                org: &self.org,
                key: ca_key,
            };
            return Ok(super::sm2cert::build(
                domains.first().map_or("", String::as_str),
                "certdeck sandbox",
                &domains,
                false,
                serial(),
                nb,
                na,
                &subject,
                &issuer,
            ));
        };
        let spki = rcgen::SubjectPublicKeyInfo::from_der(spki_der).map_err(|e| {
            format!("the key cannot be certified by this CA ({e}): RSA, P-256, P-384 and Ed25519 keys can")
        })?;
        let domains: Vec<String> = domains.iter().map(|d| d.to_string()).collect();
        let mut p = CertificateParams::new(domains.clone()).map_err(|e| e.to_string())?;
        let mut d = DistinguishedName::new();
        d.push(
            DnType::CommonName,
            domains.first().cloned().unwrap_or_default(),
        );
        p.distinguished_name = d;
        p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        p.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        p.not_before = to_time(nb);
        p.not_after = to_time(na);
        p.use_authority_key_identifier_extension = true;
        p.serial_number = Some(rcgen::SerialNumber::from(serial().to_be_bytes().to_vec()));
        let issuer = Issuer::from_params(ca_params, ca_key.as_ref());
        p.signed_by(&spki, &issuer)
            .map(|c| c.der().to_vec())
            .map_err(|e| format!("signing: {e}"))
    }

    /// Signs a CRL listing `revoked`: `(serial bytes, revocation time, RFC 5280 reason code)`.
    pub fn sign_crl(
        &self,
        revoked: &[(Vec<u8>, Timestamp, u8)],
        crl_number: u64,
        this_update: Timestamp,
        next_update: Timestamp,
    ) -> Result<Vec<u8>, String> {
        use rcgen::{CertificateRevocationListParams, RevocationReason, RevokedCertParams};
        let (GenKey::Rcgen(key), Some(params)) = (&self.key, &self.params) else {
            let GenKey::Sm2(sk) = &self.key else {
                return Err("this authority cannot sign CRLs".into());
            };
            let issuer = super::sm2cert::Sm2Issuer {
                cn: &self.cn,
                org: &self.org,
                key: sk,
            };
            return Ok(super::sm2cert::build_crl(
                &issuer,
                revoked,
                crl_number,
                this_update,
                next_update,
            ));
        };
        let reason = |code: u8| match code {
            1 => RevocationReason::KeyCompromise,
            3 => RevocationReason::AffiliationChanged,
            4 => RevocationReason::Superseded,
            5 => RevocationReason::CessationOfOperation,
            9 => RevocationReason::PrivilegeWithdrawn,
            _ => RevocationReason::Unspecified,
        };
        let crl = CertificateRevocationListParams {
            this_update: to_time(this_update),
            next_update: to_time(next_update),
            crl_number: rcgen::SerialNumber::from(crl_number.to_be_bytes().to_vec()),
            issuing_distribution_point: None,
            revoked_certs: revoked
                .iter()
                .map(|(serial, at, code)| RevokedCertParams {
                    serial_number: rcgen::SerialNumber::from(serial.clone()),
                    revocation_time: to_time(*at),
                    reason_code: Some(reason(*code)),
                    invalidity_date: None,
                })
                .collect(),
            key_identifier_method: params.key_identifier_method.clone(),
        };
        let issuer = Issuer::from_params(params, key.as_ref());
        crl.signed_by(&issuer)
            .map(|c| c.der().to_vec())
            .map_err(|e| format!("signing the CRL: {e}"))
    }

    #[allow(clippy::too_many_arguments)]
    fn sign(
        &self,
        cn: &str,
        org: &str,
        domains: &[String],
        is_ca: bool,
        nb: Timestamp,
        na: Timestamp,
        subject: &GenKey,
    ) -> Vec<u8> {
        match (&self.key, subject) {
            (GenKey::Rcgen(ca_key), GenKey::Rcgen(kp)) => {
                let mut p = if is_ca {
                    ca_params(cn, org, nb, na)
                } else {
                    let mut p =
                        CertificateParams::new(domains.to_vec()).expect("valid domain names");
                    let mut d = DistinguishedName::new();
                    d.push(DnType::CommonName, cn);
                    p.distinguished_name = d;
                    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
                    p.key_usages = vec![
                        KeyUsagePurpose::DigitalSignature,
                        KeyUsagePurpose::KeyEncipherment,
                    ];
                    p.not_before = to_time(nb);
                    p.not_after = to_time(na);
                    p.use_authority_key_identifier_extension = true;
                    p
                };
                p.serial_number = Some(rcgen::SerialNumber::from(serial().to_be_bytes().to_vec()));
                let issuer = Issuer::from_params(
                    self.params.as_ref().expect("rcgen CA has params"),
                    ca_key.as_ref(),
                );
                p.signed_by(kp.as_ref(), &issuer)
                    .expect("certificate signs")
                    .der()
                    .to_vec()
            }
            (GenKey::Sm2(ca_key), GenKey::Sm2(sk)) => {
                let issuer = super::sm2cert::Sm2Issuer {
                    cn: &self.cn,
                    org: &self.org,
                    key: ca_key,
                };
                let org = if org.is_empty() { "certdeck demo" } else { org };
                super::sm2cert::build(
                    cn,
                    org,
                    domains,
                    is_ca,
                    serial(),
                    nb,
                    na,
                    &sk.public_key(),
                    &issuer,
                )
            }
            _ => unreachable!("authorities issue keys of their own family"),
        }
    }
}
