//! `--demo`: a fresh temporary database seeded with about 50 real certificates generated at
//! start — every status the store knows, several brands and types, days left spread over
//! expired, 3, 12, 29, 45, 200 and 700, some SM2, with tags and projects.
use crate::ca::pki::{Authority, Issued, KeyKind};
use crate::domain::account::{LedgerEntry, LedgerKind};
use crate::domain::cert::mozilla_anchor_subjects;
use crate::domain::model::{CertType, Source, Status};
use crate::domain::order::{OrderInfo, ValidationMethod};
use crate::domain::rules::apply::{new_order, validate_apply, ApplyRequest};
use crate::domain::rules::upload::{
    new_uploaded_certificate, validate_upload, NewSecrets, UploadInput,
};
use crate::domain::time::Timestamp;
use crate::store::{NewRecord, Store};
use chrono::Duration;

pub const DAYS_SPREAD: [i64; 7] = [-5, 3, 12, 29, 45, 200, 700];

pub fn open_demo(now: Timestamp) -> Result<(Store, tempfile::TempDir), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Store::open(
        &dir.path().join("demo.redb"),
        &dir.path().join("demo.key"),
        "tui --demo",
    )
    .map_err(|e| e.to_string())?;
    let opening = crate::domain::account::topup(
        crate::domain::account::Money(100_000_000),
        now - Duration::days(400),
    )?;
    store.post(&opening).map_err(|e| e.to_string())?;
    store
        .set_managed_zones(&[MANAGED_ZONE.to_string()])
        .map_err(|e| e.to_string())?;
    let plan = demo_plan(now);
    store.insert_many(&plan.plain).map_err(|e| e.to_string())?;
    for (rec, order, payment) in &plan.ordered {
        if !store
            .place_order(rec, order, payment)
            .map_err(|e| e.to_string())?
        {
            return Err("the demo balance does not cover the demo orders".into());
        }
    }
    // Leave a demo-sized balance after the demo's own purchases.
    let spent = store.balance().map_err(|e| e.to_string())?.0 - 200_000;
    let adjust = crate::domain::account::LedgerEntry {
        at: now,
        kind: crate::domain::account::LedgerKind::Deduction,
        amount: crate::domain::account::Money(spent),
        cert_id: None,
        note: "demo: balance set to 2000.00".into(),
    };
    store.post(&adjust).map_err(|e| e.to_string())?;
    Ok((store, dir))
}

/// The demo's DNS: the first pending DNS order has its record in place (`c` passes), the second
/// a wrong value, the rest none — so each check result can be seen.
pub fn demo_dns(challenges: &[crate::domain::order::Challenge]) -> crate::demo::dns::TxtTable {
    let mut table = std::collections::HashMap::new();
    let dns = challenges.iter().filter_map(|c| match c {
        crate::domain::order::Challenge::DnsTxt { name, value, .. } => Some((name, value)),
        _ => None,
    });
    for (i, (name, value)) in dns.enumerate() {
        match i {
            0 => table.insert(name.clone(), vec![value.clone()]),
            1 => table.insert(name.clone(), vec!["an-old-value".to_string()]),
            _ => None,
        };
    }
    std::sync::Arc::new(std::sync::Mutex::new(table))
}

/// The demo's DNS zone that certdeck manages (AR-6).
pub const MANAGED_ZONE: &str = "dnspod-shop.cn";

/// What the demo stores: plain records, and records that come with an order and its payment.
pub struct DemoPlan {
    pub plain: Vec<NewRecord>,
    pub ordered: Vec<(NewRecord, OrderInfo, LedgerEntry)>,
}

/// The demo's records, with orders for every issued certificate whose product is in the
/// catalogue (so auto-renewal works on them) and open orders in every state.
pub fn demo_plan(now: Timestamp) -> DemoPlan {
    let mut plain = Vec::new();
    let mut ordered = Vec::new();
    for rec in demo_records(now) {
        let product = (rec.cert.source == Source::Issued)
            .then(|| {
                rec.cert.cert_type.and_then(|t| {
                    crate::domain::catalogue::find(&rec.cert.brand, t, rec.cert.domain_kind)
                })
            })
            .flatten();
        match (product, rec.cert.not_after()) {
            (Some(p), Some(end)) => {
                let issued_at = end - Duration::days(365);
                let order = OrderInfo {
                    product: p.code.to_string(),
                    years: 1,
                    validation: ValidationMethod::DnsAuto,
                    challenges: Vec::new(),
                    price: p.price,
                    submitted_at: issued_at - Duration::days(1),
                    validated_at: Some(issued_at - Duration::days(1)),
                    review_due: None,
                    deadline: None,
                    valid_until: None,
                    letter_uploaded_at: None,
                    last_reminder_at: None,
                };
                let payment = LedgerEntry {
                    at: order.submitted_at,
                    kind: LedgerKind::Deduction,
                    amount: p.price,
                    cert_id: Some(rec.cert.id.clone()),
                    note: format!("order {}", p.code),
                };
                ordered.push((rec, order, payment));
            }
            _ => plain.push(rec),
        }
    }
    // Open orders: manual DNS (5 days left), file (20 hours left), managed zone (in review),
    // OV/EV waiting for letters; and orders that were cancelled or failed.
    let zones = vec![MANAGED_ZONE.to_string()];
    // (domain, product, validation, submitted hours ago, end state)
    type Opened<'a> = (
        &'a str,
        &'a str,
        Option<ValidationMethod>,
        i64,
        Option<Status>,
    );
    let opened: [Opened; 7] = [
        (
            "new.dnspod-shop.cn",
            "dnspod-dv",
            Some(ValidationMethod::Dns),
            2 * 24,
            None,
        ),
        (
            "files.asia-shop.com",
            "trustasia-dv",
            Some(ValidationMethod::File),
            6 * 24 + 4,
            None,
        ),
        ("api.dnspod-shop.cn", "dnspod-dv", None, 1, None),
        (
            "secure.example.org",
            "geotrust-ev",
            Some(ValidationMethod::Dns),
            26,
            None,
        ),
        (
            "hr.example.net",
            "globalsign-ov",
            Some(ValidationMethod::Dns),
            50,
            None,
        ),
        (
            "shop.example.io",
            "securesite-ov",
            Some(ValidationMethod::Dns),
            24 * 20,
            Some(Status::Cancelled),
        ),
        (
            "lapsed.dnspod-shop.cn",
            "dnspod-dv",
            Some(ValidationMethod::Dns),
            24 * 9,
            Some(Status::Failed),
        ),
    ];
    for (i, (domain, code, validation, hours_ago, end_state)) in opened.into_iter().enumerate() {
        let req = ApplyRequest {
            domain: domain.into(),
            product: code.into(),
            validation,
            years: 1,
            tags: vec!["env=prod".into()],
            project: Some("web".into()),
            ..Default::default()
        };
        let v = validate_apply(&req, &zones).expect("demo orders are valid");
        let submitted = now - Duration::hours(hours_ago);
        let seq = 900 + i;
        let tokens = [demo_id(seq * 7) + &demo_id(seq * 7 + 1)];
        let (mut cert, mut order, event, payment) = new_order(&v, demo_id(seq), &tokens, submitted);
        if let Some(status) = end_state {
            cert.status = status;
            order.deadline = None;
            order.review_due = None;
        }
        ordered.push((
            NewRecord {
                cert,
                secrets: NewSecrets::default(),
                event,
            },
            order,
            payment,
        ));
    }
    DemoPlan { plain, ordered }
}

struct Brand {
    name: &'static str,
    root: Authority,
    ca: Authority,
}

fn brand(name: &'static str, kind: KeyKind, now: Timestamp) -> Brand {
    let root = Authority::root(
        &format!("{name} Root CA"),
        name,
        kind,
        now - Duration::days(3000),
        now + Duration::days(5000),
    );
    let ca = root.intermediate(
        &format!("{name} Server CA"),
        name,
        now - Duration::days(1500),
        now + Duration::days(3000),
    );
    Brand { name, root, ca }
}

/// One issued certificate: valid for a year, ending `days` days from now (plus a few hours,
/// so the count shown is exactly `days`).
fn issue(b: &Brand, domains: &[&str], kind: KeyKind, days: i64, now: Timestamp) -> Issued {
    let not_after = now + Duration::days(days) + Duration::hours(6);
    b.ca.issue(domains, kind, not_after - Duration::days(365), not_after)
}

struct Spec<'a> {
    name: String,
    source: Source,
    status: Status,
    cert_type: CertType,
    auto_renew: bool,
    tags: &'a [&'a str],
    project: Option<&'a str>,
}

fn record(
    b: &Brand,
    leaf: &Issued,
    enc: Option<&Issued>,
    spec: Spec,
    seq: usize,
    now: Timestamp,
) -> NewRecord {
    let input = UploadInput {
        name: Some(spec.name),
        standard: None,
        // Every fourth one lacks its root, so the demo shows incomplete chains too.
        cert: if seq % 4 == 0 {
            format!("{}{}", leaf.cert_pem, b.ca.pem())
        } else {
            format!("{}{}{}", leaf.cert_pem, b.ca.pem(), b.root.pem())
        }
        .into_bytes(),
        key: Some(leaf.key_pem.clone().into_bytes()),
        enc_cert: enc.map(|e| e.cert_pem.clone().into_bytes()),
        enc_key: enc.map(|e| e.key_pem.clone().into_bytes()),
        tags: spec.tags.iter().map(|t| t.to_string()).collect(),
        project: spec.project.map(str::to_string),
        ..Default::default()
    };
    let v = validate_upload(&input, now, &mozilla_anchor_subjects())
        .expect("demo certificates are valid");
    let (mut cert, secrets, mut event) = new_uploaded_certificate(&v, demo_id(seq), now);
    cert.source = spec.source;
    cert.status = spec.status;
    cert.cert_type = Some(spec.cert_type);
    cert.auto_renew = spec.auto_renew;
    if spec.source == Source::Issued {
        cert.brand = b.name.to_string();
        event.kind = "issued".into();
        event.message = format!("issued by {} (demo)", b.name);
    }
    NewRecord {
        cert,
        secrets,
        event,
    }
}

/// Deterministic 8-character ids, so demo sessions look alike.
fn demo_id(seq: usize) -> String {
    let digest = ring::digest::digest(
        &ring::digest::SHA256,
        format!("certdeck demo {seq}").as_bytes(),
    );
    let mut b = [0u8; 8];
    b.copy_from_slice(&digest.as_ref()[..8]);
    crate::domain::id::short_id(b)
}

pub fn demo_records(now: Timestamp) -> Vec<NewRecord> {
    let public = brand("Example Public CA", KeyKind::P256, now);
    let internal = brand("Internal Ops CA", KeyKind::P256, now);
    let dnspod = brand("DNSPod", KeyKind::P256, now);
    let trustasia = brand("TrustAsia", KeyKind::P256, now);
    let wotrus = brand("WoTrus", KeyKind::P256, now);
    let geotrust = brand("GeoTrust", KeyKind::P256, now);
    let globalsign = brand("GlobalSign", KeyKind::P256, now);
    let dnspod_sm2 = brand("DNSPod SM2", KeyKind::Sm2, now);
    let projects = ["retail", "payments", "internal", "web"];
    let envs = ["env=prod", "env=staging", "env=prod", "env=dev"];
    let kinds = [
        KeyKind::P256,
        KeyKind::Rsa2048,
        KeyKind::P384,
        KeyKind::Ed25519,
        KeyKind::Rsa3072,
    ];
    let mut out = Vec::new();
    let mut seq = 0;
    let mut next = || {
        seq += 1;
        seq
    };

    // Uploaded third-party certificates: 21, three per point of the days spread.
    let apps = ["shop", "api", "mail", "vpn", "grafana", "git", "cdn"];
    for (i, days) in DAYS_SPREAD.iter().enumerate() {
        for j in 0..3 {
            let app = apps[(i + j) % apps.len()];
            let domain = format!("{app}{j}.example.com");
            let www = format!("www.{domain}");
            let issuer = if j == 2 { &internal } else { &public };
            let domains: Vec<&str> = if j == 1 {
                vec![&domain, &www]
            } else {
                vec![&domain]
            };
            let leaf = issue(issuer, &domains, kinds[(i + j) % kinds.len()], *days, now);
            let tags = [
                envs[(i + j) % envs.len()],
                if j == 2 { "team=ops" } else { "team=web" },
            ];
            let spec = Spec {
                name: format!("{app} {}", ["prod", "edge", "internal"][j]),
                source: Source::Uploaded,
                status: Status::Issued,
                cert_type: if j == 2 { CertType::Ov } else { CertType::Dv },
                auto_renew: false,
                tags: &tags,
                project: Some(projects[(i + j) % projects.len()]),
            };
            out.push(record(issuer, &leaf, None, spec, next(), now));
        }
    }

    // Certificates issued through certdeck, in every status a certificate can be in.
    let issued: [(&Brand, &str, CertType, Status, i64, bool); 18] = [
        (
            &dnspod,
            "*.dnspod-shop.cn",
            CertType::Dv,
            Status::Issued,
            200,
            true,
        ),
        (
            &dnspod,
            "pay.dnspod-shop.cn",
            CertType::Dv,
            Status::ToBeRenewed,
            12,
            true,
        ),
        (
            &dnspod,
            "m.dnspod-shop.cn",
            CertType::Dv,
            Status::ToBeRenewed,
            29,
            true,
        ),
        (
            &dnspod,
            "old.dnspod-shop.cn",
            CertType::Dv,
            Status::Issued,
            -5,
            false,
        ),
        (
            &trustasia,
            "*.asia-portal.com",
            CertType::Dv,
            Status::Issued,
            45,
            true,
        ),
        (
            &trustasia,
            "login.asia-portal.com",
            CertType::Ov,
            Status::Issued,
            700,
            false,
        ),
        (
            &trustasia,
            "legacy.asia-portal.com",
            CertType::FreeDv,
            Status::Revoking,
            200,
            false,
        ),
        (
            &wotrus,
            "*.wotrus-files.net",
            CertType::Dv,
            Status::Issued,
            3,
            false,
        ),
        (
            &wotrus,
            "dl.wotrus-files.net",
            CertType::Dv,
            Status::Revoked,
            200,
            false,
        ),
        (
            &geotrust,
            "bank.example.org",
            CertType::Ev,
            Status::Issued,
            45,
            false,
        ),
        (
            &geotrust,
            "corp.example.org",
            CertType::Ov,
            Status::Reissuing,
            200,
            false,
        ),
        (
            &geotrust,
            "intranet.example.org",
            CertType::OvPro,
            Status::Issued,
            12,
            false,
        ),
        (
            &globalsign,
            "store.example.net",
            CertType::Ev,
            Status::Issued,
            700,
            false,
        ),
        (
            &globalsign,
            "old-store.example.net",
            CertType::EvPro,
            Status::Issued,
            -5,
            false,
        ),
        (
            &globalsign,
            "partner.example.net",
            CertType::Ov,
            Status::Issued,
            29,
            false,
        ),
        (
            &dnspod,
            "free.dnspod-shop.cn",
            CertType::FreeDv,
            Status::Issued,
            3,
            false,
        ),
        (
            &trustasia,
            "status.asia-portal.com",
            CertType::Dv,
            Status::Issued,
            45,
            false,
        ),
        (
            &wotrus,
            "api.wotrus-files.net",
            CertType::Dv,
            Status::Issued,
            700,
            false,
        ),
    ];
    for (i, (b, domain, cert_type, status, days, auto_renew)) in issued.into_iter().enumerate() {
        let leaf = issue(b, &[domain], kinds[i % kinds.len()], days, now);
        let tags = [envs[i % envs.len()], "team=platform"];
        let spec = Spec {
            name: domain.trim_start_matches("*.").to_string(),
            source: Source::Issued,
            status,
            cert_type,
            auto_renew,
            tags: &tags,
            project: Some(projects[i % projects.len()]),
        };
        out.push(record(b, &leaf, None, spec, next(), now));
    }

    // SM2 (national standard) certificates with their encryption pair.
    for (i, days) in [45i64, 12, 200, -5].into_iter().enumerate() {
        let domain = format!("gm{i}.gov-portal.cn");
        let sign = issue(&dnspod_sm2, &[&domain], KeyKind::Sm2, days, now);
        let enc = issue(&dnspod_sm2, &[&domain], KeyKind::Sm2, days, now);
        let spec = Spec {
            name: format!("{domain} (SM2)"),
            source: Source::Issued,
            status: Status::Issued,
            cert_type: if i == 1 { CertType::Ov } else { CertType::Dv },
            auto_renew: false,
            tags: &["env=prod", "standard=gm"],
            project: Some("gov"),
        };
        out.push(record(&dnspod_sm2, &sign, Some(&enc), spec, next(), now));
    }

    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn the_demo_store_opens_with_orders_a_zone_and_a_balance() {
        let now = chrono::Utc::now();
        let (store, _dir) = open_demo(now).unwrap();
        assert_eq!(
            store.balance().unwrap(),
            crate::domain::account::Money(200_000)
        );
        assert_eq!(
            store.managed_zones().unwrap(),
            vec![MANAGED_ZONE.to_string()]
        );
        let open = store.open_orders().unwrap();
        assert!(open.len() >= 5, "{}", open.len());
        assert!(!store
            .upcoming(now, now + Duration::days(8), 100)
            .unwrap()
            .is_empty());
    }

    #[test]
    fn demo_covers_every_status_brand_spread_and_sm2() {
        let now = chrono::Utc::now();
        let plan = demo_plan(now);
        let recs: Vec<&NewRecord> = plan
            .plain
            .iter()
            .chain(plan.ordered.iter().map(|(r, _, _)| r))
            .collect();
        assert!(
            plan.ordered
                .iter()
                .any(|(r, _, _)| r.cert.status == Status::Issued
                    && crate::domain::rules::renewal::check_eligible(
                        &r.cert,
                        plan.ordered
                            .iter()
                            .find(|(x, _, _)| x.cert.id == r.cert.id)
                            .map(|(_, o, _)| o)
                    )
                    .is_ok()),
            "some certificates can auto-renew"
        );
        assert!((45..=60).contains(&recs.len()), "{}", recs.len());
        let statuses: HashSet<Status> = recs.iter().map(|r| r.cert.status_at(now)).collect();
        for s in Status::ALL {
            assert!(statuses.contains(&s), "demo lacks status {s:?}");
        }
        let days: HashSet<i64> = recs.iter().filter_map(|r| r.cert.days_left(now)).collect();
        for d in DAYS_SPREAD {
            assert!(days.contains(&d), "demo lacks {d} days left");
        }
        assert!(recs
            .iter()
            .any(|r| r.cert.standard == crate::domain::model::Standard::Sm2));
        let brands: HashSet<&str> = recs.iter().map(|r| r.cert.brand.as_str()).collect();
        assert!(brands.len() >= 6);
        let ids: HashSet<&str> = recs.iter().map(|r| r.cert.id.as_str()).collect();
        assert_eq!(ids.len(), recs.len());
    }
}
