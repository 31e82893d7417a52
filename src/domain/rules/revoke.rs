//! SPEC §6, revocation (RV-1..RV-7): who may revoke, which flow applies, what the submission
//! changes, and how a revocation ends. Pure: the engine reads the documents and the store.
use crate::domain::catalogue::add_business_days;
use crate::domain::letter::{sniff, FileKind, MAX_LETTER_BYTES};
use crate::domain::model::{
    CertType, Certificate, DomainKind, Source, Standard, Status, TimelineEvent,
};
use crate::domain::order::{dns_challenge, Challenge, OrderInfo, ValidationMethod};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::revocation::{CrlEntry, Flow, Reason, Revocation};
use crate::domain::rules::apply::in_managed_zone;
use crate::domain::schedule::{DueKind, Fired};
use crate::domain::time::Timestamp;
use chrono::{Duration, TimeZone, Utc};

/// RV-6 (c): days the domains have to be validated.
pub const VALIDATION_DAYS: i64 = 3;
/// RV-3: "expires within 30 days".
pub const RENEWAL_WINDOW_DAYS: i64 = 30;

/// RV-5: certificates issued before this instant cannot be revoked here.
pub fn rv5_cutoff() -> Timestamp {
    Utc.with_ymd_and_hms(2020, 3, 25, 0, 0, 0)
        .single()
        .expect("valid date")
}

/// WoTrus international and DNSPod SM2 certificates, which RV-3 leaves out and RV-6 (a)/(b) cover.
fn is_wotrus_international(cert: &Certificate) -> bool {
    cert.brand.starts_with("WoTrus") && cert.standard == Standard::International
}

fn is_dnspod_sm2(cert: &Certificate) -> bool {
    // The brand may carry the standard in its name ("DNSPod SM2").
    cert.brand.starts_with("DNSPod") && cert.standard == Standard::Sm2
}

fn is_ov_ev(t: Option<CertType>) -> bool {
    matches!(
        t,
        Some(CertType::Ov | CertType::OvPro | CertType::Ev | CertType::EvPro)
    )
}

/// RV-6: the flow a certificate's revocation takes.
pub fn flow_for(cert: &Certificate) -> Flow {
    if is_dnspod_sm2(cert) {
        if is_ov_ev(cert.cert_type) {
            Flow::ApplicationFile
        } else {
            Flow::ReviewOnly
        }
    } else if cert.brand.starts_with("WoTrus") {
        Flow::ReviewOnly
    } else if is_ov_ev(cert.cert_type) {
        Flow::Letter
    } else {
        Flow::DomainValidation
    }
}

/// RM-3's typical review times, which the CA's review of a revocation takes too.
fn review_days(t: Option<CertType>) -> u32 {
    match t {
        Some(CertType::Ov | CertType::OvPro) => 3,
        Some(CertType::Ev | CertType::EvPro) => 5,
        _ => 1,
    }
}

fn refuse(rule: &str, message: String) -> Refusal {
    Refusal::new(rule, Field::Id, message)
}

/// RV-1..RV-5: whether `cert` may be revoked now, and by which flow.
pub fn check_revocable(cert: &Certificate, now: Timestamp) -> Result<Flow, Refusal> {
    let id = &cert.id;
    if cert.source != Source::Issued {
        return Err(refuse(
            "RV-1",
            format!(
                "cannot revoke {id}: only certificates issued through certdeck can be revoked; this one was {}",
                cert.source.as_str()
            ),
        ));
    }
    if let Some(original) = &cert.reissued_from {
        return Err(refuse(
            "RV-4",
            format!("cannot revoke {id}: it is a reissue; revoke its original {original}, and every reissue of it is revoked with it"),
        ));
    }
    let status = cert.status_at(now);
    match status {
        Status::Revoking | Status::Revoked => {
            return Err(refuse(
                "RV-2",
                format!("{id} is already {}: a revocation cannot be submitted twice or cancelled", status.as_str()),
            ))
        }
        Status::Reissuing => {
            return Err(refuse(
                "RV-4",
                format!("cannot revoke {id} while its reissue order is open: wait until it is issued or fails, then revoke the original with its reissues"),
            ))
        }
        Status::Expired => {
            return Err(refuse(
                "REVOKE",
                format!("{id} has expired: there is nothing left to revoke"),
            ))
        }
        Status::Issued | Status::ToBeRenewed => {}
        other => {
            return Err(refuse(
                "RV-1",
                format!("cannot revoke {id}: it is {} and has no issued certificate", other.as_str()),
            ))
        }
    }
    let x = cert.x509.as_ref().ok_or_else(|| {
        refuse(
            "RV-1",
            format!("cannot revoke {id}: no issued certificate is stored"),
        )
    })?;
    if x.not_before < rv5_cutoff() {
        return Err(refuse(
            "RV-5",
            format!(
                "cannot revoke {id}: it was issued on {}, before 2020-03-25; certificates that old cannot be revoked here",
                x.not_before.format("%Y-%m-%d")
            ),
        ));
    }
    let exempt = is_wotrus_international(cert) || is_dnspod_sm2(cert);
    if !exempt
        && status == Status::ToBeRenewed
        && crate::domain::time::within_days(x.not_after, now, RENEWAL_WINDOW_DAYS)
    {
        return Err(refuse(
            "RV-3",
            format!("cannot revoke {id}: expires within {RENEWAL_WINDOW_DAYS} days and is awaiting renewal"),
        ));
    }
    Ok(flow_for(cert))
}

/// What the revocation will ask for and do, for the confirmation before submission (RV-2).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RevokePlan {
    pub id: String,
    pub name: String,
    pub flow: Flow,
    /// The document the flow needs: `Some("application file")` or `Some("confirmation letter")`.
    #[serde(with = "crate::domain::wire::opt_static_str")]
    pub document: Option<crate::domain::wire::FixedText>,
    /// The accepted document kinds, for the prompt.
    #[serde(with = "crate::domain::wire::static_str")]
    pub document_kinds: crate::domain::wire::FixedText,
    /// The reissues revoked with it (RV-4).
    pub family: Vec<String>,
    pub steps: Vec<String>,
}

impl RevokePlan {
    /// RV-2: what the user must know before confirming.
    pub fn warning(&self) -> String {
        let mut s = format!(
            "Once submitted, {} can no longer be downloaded or deployed, and the revocation cannot be cancelled (RV-2).",
            self.id
        );
        if !self.family.is_empty() {
            s.push_str(&format!(
                " Its reissues {} are revoked with it (RV-4).",
                self.family.join(", ")
            ));
        }
        s
    }
}

/// How the domains of a flow (c) revocation are proved, decided at submission.
enum Proof {
    /// TrustAsia 2/3-year wildcard with automatic validation: no validation step.
    Skipped,
    /// Every domain is in a managed zone: certdeck adds the records itself.
    Automatic,
    /// The user adds records (or serves files) within 3 days.
    Manual(ValidationMethod),
}

fn proof(cert: &Certificate, order: Option<&OrderInfo>, zones: &[String]) -> Proof {
    let automatic =
        !cert.domains.is_empty() && cert.domains.iter().all(|d| in_managed_zone(d, zones));
    let years = order.map_or(1, |o| o.years);
    if automatic
        && cert.brand == "TrustAsia"
        && cert.domain_kind == DomainKind::Wildcard
        && (2..=3).contains(&years)
    {
        Proof::Skipped
    } else if automatic {
        Proof::Automatic
    } else if order.is_some_and(|o| o.validation == ValidationMethod::File)
        && cert.domain_kind != DomainKind::Wildcard
    {
        Proof::Manual(ValidationMethod::File)
    } else {
        // RV-6 (c): automatic DNS falls back to manual when it is not possible.
        Proof::Manual(ValidationMethod::Dns)
    }
}

/// RV-1..RV-6: the plan for revoking `cert`, whose issued reissues are `family`.
pub fn plan(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    family: &[Certificate],
    zones: &[String],
    now: Timestamp,
) -> Result<RevokePlan, Refusal> {
    let flow = check_revocable(cert, now)?;
    let automatic = cert.domains.iter().all(|d| in_managed_zone(d, zones));
    let review = format!(
        "the CA reviews it (about {} business day(s)), then {} is revoked and listed on the CA's CRL",
        review_days(cert.cert_type),
        cert.id
    );
    let (document, kinds, mut steps) = match flow {
        Flow::ReviewOnly => (None, "", vec![]),
        Flow::ApplicationFile => (
            Some("application file"),
            "JPG, GIF or PDF, at most 1.4 MB",
            vec!["give the signed revocation application file (JPG, GIF or PDF, at most 1.4 MB; it can be given once)".to_string()],
        ),
        Flow::Letter if automatic => (
            None,
            "",
            vec!["no letter needed: the domains are validated automatically (managed zone)".to_string()],
        ),
        Flow::Letter => (
            Some("confirmation letter"),
            "JPG, PNG or PDF, at most 1.4 MB",
            vec!["give the signed confirmation letter (JPG, PNG or PDF, at most 1.4 MB)".to_string()],
        ),
        Flow::DomainValidation => {
            let step = match proof(cert, order, zones) {
                Proof::Skipped => "domain validation skipped: TrustAsia 2- or 3-year wildcard with automatic validation".to_string(),
                Proof::Automatic => "the domains are validated automatically (managed zone DNS)".to_string(),
                Proof::Manual(m) => format!(
                    "validate the domains by {} within {VALIDATION_DAYS} days (Validation queue), or the revocation fails",
                    if m == ValidationMethod::File { "file" } else { "DNS" }
                ),
            };
            (None, "", vec![step])
        }
        // check_revocable never gives it: an ACME certificate's plan is domain::acme's.
        Flow::AcmeCa => (None, "", vec![]),
    };
    steps.push(review);
    Ok(RevokePlan {
        id: cert.id.clone(),
        name: cert.name.clone(),
        flow,
        document,
        document_kinds: kinds,
        family: family.iter().map(|c| c.id.clone()).collect(),
        steps,
    })
}

/// RV-6 (b): a signed application file is a JPG, GIF or PDF of at most 1.4 MB.
pub fn check_application_file(bytes: &[u8]) -> Result<FileKind, Refusal> {
    check_document(
        bytes,
        "application file",
        &[FileKind::Jpg, FileKind::Gif, FileKind::Pdf],
        "JPG, GIF or PDF",
    )
}

/// RV-6 (d): a confirmation letter is a JPG, PNG or PDF of at most 1.4 MB.
pub fn check_revocation_letter(bytes: &[u8]) -> Result<FileKind, Refusal> {
    check_document(
        bytes,
        "confirmation letter",
        &[FileKind::Jpg, FileKind::Png, FileKind::Pdf],
        "JPG, PNG or PDF",
    )
}

fn check_document(
    bytes: &[u8],
    what: &str,
    kinds: &[FileKind],
    names: &str,
) -> Result<FileKind, Refusal> {
    if bytes.len() > MAX_LETTER_BYTES {
        return Err(Refusal::new(
            "RV-6",
            Field::Document,
            format!(
                "the {what} is {} bytes; the limit is 1.4 MB ({MAX_LETTER_BYTES} bytes)",
                bytes.len()
            ),
        ));
    }
    match sniff(bytes) {
        Some(k) if kinds.contains(&k) => Ok(k),
        Some(k) => Err(Refusal::new(
            "RV-6",
            Field::Document,
            format!(
                "the {what} must be {names}; this is a {}",
                format!("{k:?}").to_uppercase()
            ),
        )),
        None => Err(Refusal::new(
            "RV-6",
            Field::Document,
            format!("the {what} must be {names} (checked by content, not name)"),
        )),
    }
}

/// What the user gives with a revocation.
#[derive(Clone, PartialEq, Eq)]
pub struct RevokeInput {
    pub reason: Reason,
    pub document: Option<Vec<u8>>,
}

impl std::fmt::Debug for RevokeInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RevokeInput")
            .field("reason", &self.reason)
            .field("document_bytes", &self.document.as_ref().map(Vec::len))
            .finish()
    }
}

/// Submits a revocation (RV-2: from here it cannot be cancelled). `tokens` give one random
/// token per domain for manual validation.
/// RV-6 (b)/(d): the refusal for a revocation that needs a signed document and got none (the
/// CLI and the dialog both say it).
pub fn missing_document(plan: &RevokePlan) -> Refusal {
    Refusal::new(
        "RV-6",
        Field::Document,
        format!(
            "revoking {} needs the signed {} ({}): give its path (--letter FILE)",
            plan.id,
            plan.document.unwrap_or("document"),
            plan.document_kinds
        ),
    )
}

pub fn submit(
    cert: &Certificate,
    order: Option<&OrderInfo>,
    family: &[Certificate],
    input: &RevokeInput,
    zones: &[String],
    tokens: &[String],
    now: Timestamp,
) -> Result<Fired, Refusal> {
    let plan = plan(cert, order, family, zones, now)?;
    let document = match (plan.document, &input.document) {
        (Some(_), None) => return Err(missing_document(&plan)),
        (Some("application file"), Some(bytes)) => Some(check_application_file(bytes)?),
        (Some(_), Some(bytes)) => Some(check_revocation_letter(bytes)?),
        (None, _) => None,
    };
    let mut validation = None;
    let mut challenges = Vec::new();
    let mut validated_at = Some(now);
    let mut deadline = None;
    if plan.flow == Flow::DomainValidation {
        match proof(cert, order, zones) {
            Proof::Skipped => {}
            Proof::Automatic => validation = Some(ValidationMethod::DnsAuto),
            Proof::Manual(method) => {
                validation = Some(method);
                challenges = cert
                    .domains
                    .iter()
                    .zip(tokens)
                    .map(|(d, t)| match method {
                        ValidationMethod::File => Challenge::File {
                            domain: d.clone(),
                            url: format!("http://{d}/.well-known/pki-validation/fileauth.txt"),
                            content: t.clone(),
                        },
                        _ => dns_challenge(&cert.brand, d, t),
                    })
                    .collect();
                validated_at = None;
                deadline = Some(now + Duration::days(VALIDATION_DAYS));
            }
        }
    }
    let review_due = validated_at.map(|_| add_business_days(now, review_days(cert.cert_type)));
    let mut prior = vec![(cert.id.clone(), cert.status)];
    prior.extend(family.iter().map(|c| (c.id.clone(), c.status)));
    let revocation = Revocation {
        reason: input.reason,
        flow: plan.flow,
        submitted_at: now,
        prior,
        document,
        validation,
        challenges,
        validated_at,
        deadline,
        review_due,
        revoked_at: None,
        failed_at: None,
    };
    let next = match (review_due, deadline) {
        (Some(t), _) => format!("CA review ends {}", t.format("%Y-%m-%d %H:%M UTC")),
        (None, Some(d)) => format!(
            "validate the domains by {} or the revocation fails (RV-6)",
            d.format("%Y-%m-%d %H:%M UTC")
        ),
        _ => String::new(),
    };
    let mut updated = cert.clone();
    updated.status = Status::Revoking;
    updated.auto_renew = false;
    let others = family
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c.status = Status::Revoking;
            c.auto_renew = false;
            c
        })
        .collect();
    let with = if family.is_empty() {
        String::new()
    } else {
        format!(" with its reissues {}", plan.family.join(", "))
    };
    Ok(Fired {
        event: TimelineEvent {
            at: now,
            kind: "revocation".into(),
            message: format!(
                "revocation submitted{with} ({}: {}); {}; download and deploy are refused from now on (RV-2); {next}",
                input.reason.as_str(),
                input.reason.describe(),
                plan.flow.label(),
            ),
        },
        updated: Some(updated),
        others,
        revocation: Some(revocation),
        revocation_document: input.document.clone().filter(|_| document.is_some()),
        ..Default::default()
    })
}

/// How a revocation ends when its schedule entry fires: revoked at the review's end (every
/// record of `family` with it, listed on the CRL), or failed at the validation deadline (every
/// record back to its status before).
pub fn concluded(
    kind: DueKind,
    cert: &Certificate,
    family: &[Certificate],
    revocation: &Revocation,
    now: Timestamp,
) -> Fired {
    let mut rev = revocation.clone();
    let prior_of = |id: &str| {
        revocation
            .prior
            .iter()
            .find(|(p, _)| p == id)
            .map_or(Status::Issued, |(_, s)| *s)
    };
    if kind == DueKind::RevocationDeadline {
        rev.failed_at = Some(now);
        rev.deadline = None;
        let restore = |c: &Certificate| {
            let mut c = c.clone();
            c.status = prior_of(&c.id);
            c
        };
        return Fired {
            event: TimelineEvent {
                at: now,
                kind: "revocation_failed".into(),
                message: format!(
                    "revocation failed: the domains were not validated within {VALIDATION_DAYS} days (RV-6 (c)); the certificate stays valid"
                ),
            },
            updated: Some(restore(cert)),
            others: family.iter().map(restore).collect(),
            revocation: Some(rev),
            ..Default::default()
        };
    }
    rev.revoked_at = Some(now);
    rev.review_due = None;
    let mut crl = Vec::new();
    let mut revoke = |c: &Certificate| {
        let mut c = c.clone();
        c.status = Status::Revoked;
        c.auto_renew = false;
        if let Some(x) = &c.x509 {
            crl.push(CrlEntry {
                issuer: x.issuer.clone(),
                serial: x.serial.clone(),
                revoked_at: now,
                reason: revocation.reason,
                cert_id: c.id.clone(),
            });
        }
        c
    };
    let updated = revoke(cert);
    let others: Vec<Certificate> = family.iter().map(&mut revoke).collect();
    let serials: Vec<String> = crl.iter().map(|e| e.serial.clone()).collect();
    Fired {
        event: TimelineEvent {
            at: now,
            kind: "revoked".into(),
            message: format!(
                "revoked by the CA ({}); serial(s) {} listed on its CRL",
                revocation.reason.as_str(),
                serials.join(", ")
            ),
        },
        updated: Some(updated),
        others,
        revocation: Some(rev),
        crl,
        ..Default::default()
    }
}

/// The domains of a flow (c) revocation passed their checks: review starts.
pub fn validated(
    revocation: &Revocation,
    cert_type: Option<CertType>,
    now: Timestamp,
) -> Option<Revocation> {
    if revocation.validated_at.is_some() || !revocation.is_open() {
        return None;
    }
    let mut r = revocation.clone();
    r.validated_at = Some(now);
    r.deadline = None;
    r.review_due = Some(add_business_days(now, review_days(cert_type)));
    Some(r)
}

/// RV-6 (b): the application file was given with the submission and cannot be replaced.
pub fn refuse_second_document(cert: &Certificate) -> Refusal {
    refuse(
        "RV-6",
        format!(
            "{} is {}: the revocation's document was given with its submission and can be uploaded only once",
            cert.id,
            cert.status.as_str()
        ),
    )
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::domain::model::{KeyAlgorithm, X509Facts};

    fn now() -> Timestamp {
        Utc.with_ymd_and_hms(2026, 11, 27, 12, 0, 0).unwrap()
    }

    pub fn issued(
        brand: &str,
        standard: Standard,
        t: CertType,
        not_before: Timestamp,
        not_after: Timestamp,
    ) -> Certificate {
        Certificate {
            id: "orig0001".into(),
            name: "shop".into(),
            source: Source::Issued,
            status: Status::Issued,
            brand: brand.into(),
            cert_type: Some(t),
            standard,
            domain_kind: DomainKind::Single,
            domains: vec!["shop.example.com".into()],
            x509: Some(X509Facts {
                version: 3,
                subject: "CN=shop.example.com".into(),
                subject_cn: Some("shop.example.com".into()),
                subject_org: None,
                sans: vec!["shop.example.com".into()],
                issuer: "CN=ca".into(),
                issuer_cn: Some("ca".into()),
                issuer_org: None,
                serial: "0a1b".into(),
                not_before,
                not_after,
                signature_algorithm: "ecdsa-with-SHA256".into(),
                key_algorithm: KeyAlgorithm::Ecdsa,
                key_bits: 256,
                fingerprint_sha256: "00".repeat(32),
                is_ca: false,
                key_usage: vec![],
                extended_key_usage: vec![],
                policies: vec![],
            }),
            chain: vec![],
            chain_der: vec![],
            chain_complete: true,
            enc_cert_pem: None,
            has_key: true,
            auto_renew: false,
            ignored: false,
            tags: Default::default(),
            project: None,
            renewed_from: None,
            reissued_from: None,
            created_at: not_before,
        }
    }

    fn dv() -> Certificate {
        issued(
            "DNSPod",
            Standard::International,
            CertType::Dv,
            now() - Duration::days(30),
            now() + Duration::days(200),
        )
    }

    fn pdf(len: usize) -> Vec<u8> {
        let mut v = b"%PDF-1.7\n".to_vec();
        v.resize(len, b' ');
        v
    }

    fn gif() -> Vec<u8> {
        b"GIF89a....".to_vec()
    }

    fn input(document: Option<Vec<u8>>) -> RevokeInput {
        RevokeInput {
            reason: Reason::KeyCompromise,
            document,
        }
    }

    #[test]
    fn rule_rv1_uploaded_certificates_are_refused() {
        let mut c = dv();
        c.source = Source::Uploaded;
        assert_eq!(check_revocable(&c, now()).unwrap_err().rule, "RV-1");
        // The refusal says what the certificate is.
        c.source = Source::Discovered;
        let e = check_revocable(&c, now()).unwrap_err();
        assert_eq!(e.rule, "RV-1");
        assert!(
            e.message.ends_with("this one was discovered"),
            "{}",
            e.message
        );
        let mut o = dv();
        o.status = Status::Validating;
        assert_eq!(check_revocable(&o, now()).unwrap_err().rule, "RV-1");
    }

    #[test]
    fn rule_rv2_a_submitted_revocation_cannot_be_submitted_again() {
        for s in [Status::Revoking, Status::Revoked] {
            let mut c = dv();
            c.status = s;
            let r = check_revocable(&c, now()).unwrap_err();
            assert_eq!(r.rule, "RV-2");
            assert!(r.message.contains("cannot be submitted twice or cancelled"));
        }
    }

    #[test]
    fn rule_rv2_submission_warns_and_marks_revoking() {
        let c = dv();
        let p = plan(&c, None, &[], &[], now()).unwrap();
        assert!(p
            .warning()
            .contains("can no longer be downloaded or deployed"));
        assert!(p.warning().contains("cannot be cancelled (RV-2)"));
        let f = submit(&c, None, &[], &input(None), &[], &["tok".into()], now()).unwrap();
        assert_eq!(f.updated.unwrap().status, Status::Revoking);
    }

    #[test]
    fn rule_rv3_refused_within_30_days_when_to_be_renewed() {
        let mut c = dv();
        c.status = Status::ToBeRenewed;
        c.x509.as_mut().unwrap().not_after = now() + Duration::days(30);
        let r = check_revocable(&c, now()).unwrap_err();
        assert_eq!(r.rule, "RV-3");
        assert_eq!(
            r.message,
            "cannot revoke orig0001: expires within 30 days and is awaiting renewal"
        );
        // 31 days left: outside the window.
        c.x509.as_mut().unwrap().not_after = now() + Duration::days(31);
        assert!(check_revocable(&c, now()).is_ok());
        // Within 30 days but not awaiting renewal: allowed.
        let mut d = dv();
        d.x509.as_mut().unwrap().not_after = now() + Duration::days(10);
        assert!(check_revocable(&d, now()).is_ok());
    }

    #[test]
    fn rule_rv3_wotrus_international_and_dnspod_sm2_are_exempt() {
        for (brand, std) in [
            ("WoTrus", Standard::International),
            ("DNSPod", Standard::Sm2),
        ] {
            let mut c = issued(
                brand,
                std,
                CertType::Dv,
                now() - Duration::days(300),
                now() + Duration::days(5),
            );
            c.status = Status::ToBeRenewed;
            assert!(check_revocable(&c, now()).is_ok(), "{brand}");
        }
    }

    #[test]
    fn rule_rv4_reissues_are_revoked_through_their_original() {
        let mut r = dv();
        r.id = "reis0001".into();
        r.reissued_from = Some("orig0001".into());
        let refusal = check_revocable(&r, now()).unwrap_err();
        assert_eq!(refusal.rule, "RV-4");
        assert!(refusal.message.contains("revoke its original orig0001"));
        let f = submit(
            &dv(),
            None,
            &[r.clone()],
            &input(None),
            &[],
            &["t".into()],
            now(),
        )
        .unwrap();
        assert_eq!(f.others.len(), 1);
        assert_eq!(f.others[0].status, Status::Revoking);
        let rev = f.revocation.unwrap();
        assert_eq!(
            rev.prior,
            vec![
                ("orig0001".into(), Status::Issued),
                ("reis0001".into(), Status::Issued)
            ]
        );
        let mut revoking = dv();
        revoking.status = Status::Revoking;
        let mut r2 = r.clone();
        r2.status = Status::Revoking;
        let done = concluded(DueKind::RevocationReview, &revoking, &[r2], &rev, now());
        assert_eq!(done.updated.unwrap().status, Status::Revoked);
        assert_eq!(done.others[0].status, Status::Revoked);
        assert_eq!(done.crl.len(), 2);
    }

    #[test]
    fn rule_rv5_issued_before_2020_03_25_is_refused_on_the_day_allowed() {
        let at = |nb: Timestamp| {
            issued(
                "DNSPod",
                Standard::International,
                CertType::Dv,
                nb,
                now() + Duration::days(100),
            )
        };
        let r = check_revocable(&at(rv5_cutoff() - Duration::seconds(1)), now()).unwrap_err();
        assert_eq!(r.rule, "RV-5");
        assert!(r.message.contains("2020-03-24"));
        assert!(check_revocable(&at(rv5_cutoff()), now()).is_ok());
    }

    #[test]
    fn rule_rv6_flows_by_brand_standard_and_type() {
        let f = |brand, std, t| flow_for(&issued(brand, std, t, now(), now()));
        assert_eq!(f("DNSPod", Standard::Sm2, CertType::Dv), Flow::ReviewOnly);
        assert_eq!(
            f("DNSPod SM2", Standard::Sm2, CertType::Dv),
            Flow::ReviewOnly
        );
        assert_eq!(
            f("WoTrus", Standard::International, CertType::Dv),
            Flow::ReviewOnly
        );
        assert_eq!(
            f("DNSPod", Standard::Sm2, CertType::Ov),
            Flow::ApplicationFile
        );
        assert_eq!(
            f("DNSPod", Standard::Sm2, CertType::Ev),
            Flow::ApplicationFile
        );
        assert_eq!(
            f("TrustAsia", Standard::International, CertType::Dv),
            Flow::DomainValidation
        );
        assert_eq!(
            f("SecureSite", Standard::International, CertType::FreeDv),
            Flow::DomainValidation
        );
        assert_eq!(
            f("GeoTrust", Standard::International, CertType::Ov),
            Flow::Letter
        );
        assert_eq!(
            f("GlobalSign", Standard::International, CertType::EvPro),
            Flow::Letter
        );
    }

    #[test]
    fn rule_rv6a_review_only_goes_straight_to_review() {
        let c = issued(
            "WoTrus",
            Standard::International,
            CertType::Dv,
            now() - Duration::days(9),
            now() + Duration::days(300),
        );
        let f = submit(&c, None, &[], &input(None), &[], &[], now()).unwrap();
        let r = f.revocation.unwrap();
        assert_eq!(r.flow, Flow::ReviewOnly);
        assert!(r.review_due.is_some() && r.challenges.is_empty());
    }

    #[test]
    fn rule_rv6b_application_file_kinds_and_1_4_mb_exactly() {
        assert_eq!(
            check_application_file(&pdf(MAX_LETTER_BYTES)).unwrap(),
            FileKind::Pdf
        );
        assert_eq!(
            check_application_file(&pdf(MAX_LETTER_BYTES + 1))
                .unwrap_err()
                .rule,
            "RV-6"
        );
        assert_eq!(check_application_file(&gif()).unwrap(), FileKind::Gif);
        let png = b"\x89PNG\r\n\x1a\n....".to_vec();
        let r = check_application_file(&png).unwrap_err();
        assert!(
            r.message.contains("must be JPG, GIF or PDF; this is a PNG"),
            "{}",
            r.message
        );
        let c = issued(
            "DNSPod",
            Standard::Sm2,
            CertType::Ov,
            now() - Duration::days(9),
            now() + Duration::days(300),
        );
        let missing = submit(&c, None, &[], &input(None), &[], &[], now()).unwrap_err();
        assert!(missing
            .message
            .contains("needs the signed application file"));
        let f = submit(&c, None, &[], &input(Some(gif())), &[], &[], now()).unwrap();
        assert_eq!(f.revocation.unwrap().document, Some(FileKind::Gif));
        assert!(f.revocation_document.is_some());
        let mut revoking = c.clone();
        revoking.status = Status::Revoking;
        assert!(refuse_second_document(&revoking)
            .message
            .contains("only once"));
    }

    #[test]
    fn rule_rv6c_manual_validation_within_3_days_or_it_fails() {
        let c = dv();
        let f = submit(&c, None, &[], &input(None), &[], &["tok1".into()], now()).unwrap();
        let r = f.revocation.clone().unwrap();
        assert_eq!(r.validation, Some(ValidationMethod::Dns));
        assert_eq!(r.deadline, Some(now() + Duration::days(3)));
        assert_eq!(r.review_due, None);
        assert_eq!(r.entries("orig0001")[0].kind, DueKind::RevocationDeadline);
        let mut revoking = c.clone();
        revoking.status = Status::Revoking;
        let failed = concluded(
            DueKind::RevocationDeadline,
            &revoking,
            &[],
            &r,
            now() + Duration::days(3),
        );
        assert_eq!(failed.updated.unwrap().status, Status::Issued);
        assert!(failed.revocation.unwrap().failed_at.is_some());
        let v = validated(&r, c.cert_type, now() + Duration::days(1)).unwrap();
        assert!(v.review_due.is_some() && v.deadline.is_none());
        assert_eq!(v.entries("orig0001")[0].kind, DueKind::RevocationReview);
    }

    #[test]
    fn rule_rv6c_managed_zone_validates_automatically_trustasia_multi_year_wildcard_skips() {
        let zones = vec!["example.com".to_string()];
        let f = submit(&dv(), None, &[], &input(None), &zones, &["t".into()], now()).unwrap();
        let r = f.revocation.unwrap();
        assert_eq!(r.validation, Some(ValidationMethod::DnsAuto));
        assert!(r.review_due.is_some());
        let mut ta = issued(
            "TrustAsia",
            Standard::International,
            CertType::Dv,
            now() - Duration::days(9),
            now() + Duration::days(700),
        );
        ta.domains = vec!["*.example.com".into()];
        ta.domain_kind = DomainKind::Wildcard;
        let order = OrderInfo {
            product: "trustasia-dv-wildcard".into(),
            years: 2,
            validation: ValidationMethod::DnsAuto,
            challenges: vec![],
            price: crate::domain::account::Money(0),
            submitted_at: now(),
            validated_at: Some(now()),
            review_due: None,
            deadline: None,
            valid_until: None,
            letter_uploaded_at: None,
            last_reminder_at: None,
        };
        let p = plan(&ta, Some(&order), &[], &zones, now()).unwrap();
        assert!(p.steps[0].contains("skipped"));
        let f = submit(
            &ta,
            Some(&order),
            &[],
            &input(None),
            &zones,
            &["t".into()],
            now(),
        )
        .unwrap();
        assert_eq!(f.revocation.unwrap().validation, None);
        // Not in a managed zone: falls back to manual DNS.
        let f = submit(
            &ta,
            Some(&order),
            &[],
            &input(None),
            &[],
            &["t".into()],
            now(),
        )
        .unwrap();
        assert_eq!(
            f.revocation.unwrap().validation,
            Some(ValidationMethod::Dns)
        );
    }

    #[test]
    fn rule_rv6d_letter_unless_automatic_validation() {
        let c = issued(
            "GeoTrust",
            Standard::International,
            CertType::Ov,
            now() - Duration::days(9),
            now() + Duration::days(300),
        );
        assert_eq!(
            submit(&c, None, &[], &input(None), &[], &[], now())
                .unwrap_err()
                .rule,
            "RV-6"
        );
        let gif_refused = submit(&c, None, &[], &input(Some(gif())), &[], &[], now()).unwrap_err();
        assert!(gif_refused
            .message
            .contains("JPG, PNG or PDF; this is a GIF"));
        assert_eq!(
            check_revocation_letter(&pdf(MAX_LETTER_BYTES)).unwrap(),
            FileKind::Pdf
        );
        assert!(check_revocation_letter(&pdf(MAX_LETTER_BYTES + 1)).is_err());
        let f = submit(&c, None, &[], &input(Some(pdf(100))), &[], &[], now()).unwrap();
        assert_eq!(f.revocation.unwrap().document, Some(FileKind::Pdf));
        let zones = vec!["example.com".to_string()];
        let p = plan(&c, None, &[], &zones, now()).unwrap();
        assert_eq!(p.document, None);
        assert!(submit(&c, None, &[], &input(None), &zones, &[], now()).is_ok());
    }

    #[test]
    fn rule_rv7_revoked_certificates_can_be_deleted() {
        let mut c = dv();
        c.status = Status::Revoked;
        assert!(crate::domain::rules::delete::check_delete(&c.summary(), vec![], now()).is_ok());
    }

    #[test]
    fn reasons_parse_by_name_or_code_and_refuse_ca_only_codes() {
        assert_eq!(
            Reason::parse("keyCompromise").unwrap(),
            Reason::KeyCompromise
        );
        assert_eq!(
            Reason::parse("key_compromise").unwrap(),
            Reason::KeyCompromise
        );
        assert_eq!(Reason::parse("4").unwrap(), Reason::Superseded);
        assert!(Reason::parse("certificateHold")
            .unwrap_err()
            .contains("only the CA"));
        assert!(Reason::parse("bored")
            .unwrap_err()
            .contains("one of unspecified"));
    }
}
