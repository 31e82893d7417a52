//! Revocation end to end through the CLI with `--now`, on certificates the sandbox CA really
//! issued: RV-2 confirmation and download refusal, RV-6 (c) validation over real DNS on loopback
//! and its 3-day deadline, RV-6 (d) letters given once, the CA's CRL read by openssl, RV-7.
mod common;
use certdeck::demo::dns::serve_txt;
use common::{openssl, Env};
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

type Zone = Arc<Mutex<HashMap<String, Vec<String>>>>;

fn at(days: f64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds((days * 86_400.0) as i64)).to_rfc3339()
}

/// Runs `args --json` with the loopback resolver.
fn json_dns(env: &Env, dns: std::net::SocketAddr, args: &[&str]) -> (i32, Value) {
    let out = env
        .command()
        .args(args)
        .arg("--json")
        .env("CERTDECK_RESOLVER", dns.to_string())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

/// A DNSPod DV certificate validated by hand over DNS and issued by the sandbox CA at day 4.
fn issued_by_dns(env: &Env, zone: &Zone, dns: std::net::SocketAddr) -> String {
    env.json(&["account", "topup", "1000"]);
    let v = common::dns_order(env, "shop.example.net");
    let id = v["id"].as_str().unwrap().to_string();
    publish(zone, &v["order"]["challenges"]);
    let (code, r) = json_dns(env, dns, &["validate", &id]);
    assert_eq!((code, &r["validated"]), (0, &Value::Bool(true)), "{r}");
    let (_, t) = env.json(&["tick", "--now", &at(4.0)]);
    assert_eq!(t["fired"][0]["kind"], "review_done", "{t}");
    id
}

/// A certificate issued by DNS validation, its revocation (superseded) submitted at day 5:
/// its id, the submission's JSON, and the revocation's validation deadline.
fn revoking_by_dns(
    env: &Env,
    zone: &Zone,
    dns: std::net::SocketAddr,
) -> (String, Value, chrono::DateTime<chrono::FixedOffset>) {
    let id = issued_by_dns(env, zone, dns);
    let (code, v) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "superseded",
        "--yes",
        "--now",
        &at(5.0),
    ]);
    assert_eq!(code, 0, "{v}");
    let deadline =
        chrono::DateTime::parse_from_rfc3339(v["validation"]["deadline"].as_str().unwrap())
            .unwrap();
    (id, v, deadline)
}

#[test]
fn rule_rv6c_revocation_validated_over_dns_then_reviewed_revoked_and_listed_on_the_crl() {
    let env = Env::new();
    let zone: Zone = Arc::new(Mutex::new(HashMap::new()));
    let dns = serve_txt(zone.clone(), 200).unwrap();
    let id = issued_by_dns(&env, &zone, dns);
    let shown = env.json(&["show", &id, "--now", &at(4.0)]).1;
    let serial = shown["serial"].as_str().unwrap().to_string();

    // RV-2: without --yes (and no terminal to ask on) nothing is submitted.
    let (code, v) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "key_compromise",
        "--now",
        &at(4.0),
    ]);
    assert_eq!(
        (code, v["error"]["rule"].as_str()),
        (1, Some("RV-2")),
        "{v}"
    );
    assert!(v["error"]["message"]
        .as_str()
        .unwrap()
        .contains("can no longer be downloaded or deployed"));
    assert_eq!(
        env.json(&["show", &id, "--now", &at(4.0)]).1["status"],
        "issued"
    );

    let (code, v) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "keyCompromise",
        "--yes",
        "--now",
        &at(4.0),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["records"][0]["status"], "revoking");
    assert_eq!(v["revocation"]["flow"], "domain_validation");
    let open_revocations = || -> Vec<String> {
        let store = env.open_store("test");
        store
            .open_revocations()
            .unwrap()
            .into_iter()
            .map(|(c, _)| c.id)
            .collect()
    };
    assert_eq!(
        open_revocations(),
        vec![id.to_string()],
        "the queue shows it"
    );
    let c = &v["validation"]["challenges"][0];
    assert_eq!(c["type"], "TXT");
    let deadline = v["validation"]["deadline"].as_str().unwrap().to_string();
    assert!(v["validation"]["review_due"].is_null());

    // RV-2: no download once submitted, and no second submission.
    let out = env.path("out");
    let (code, e) = env.json(&[
        "export",
        &id,
        "--format",
        "pem",
        "--out",
        out.to_str().unwrap(),
        "--now",
        &at(4.0),
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-2")),
        "{e}"
    );
    let (code, e) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "superseded",
        "--yes",
        "--now",
        &at(4.0),
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-2")),
        "{e}"
    );

    // The revocation's record is checked for real; the order's old record does not count.
    let (code, r) = json_dns(&env, dns, &["validate", &id, "--now", &at(4.1)]);
    assert_eq!(
        (code, r["results"][0]["code"].as_str()),
        (1, Some("value_mismatch")),
        "{r}"
    );
    zone.lock().unwrap().insert(
        c["name"].as_str().unwrap().into(),
        vec![c["value"].as_str().unwrap().into()],
    );
    let (code, r) = json_dns(&env, dns, &["validate", &id, "--now", &at(4.1)]);
    assert_eq!((code, &r["validated"]), (0, &Value::Bool(true)), "{r}");
    // Past the old deadline nothing fails: the review is under way. The review counts business
    // days, so it may end after the deadline (validated on a Friday): tick once it has ended.
    let review_due = env.json(&["show", &id, "--now", &at(4.1)]).1["revocation"]["review_due"]
        .as_str()
        .map(|s| chrono::DateTime::parse_from_rfc3339(s).unwrap())
        .expect("the review is scheduled");
    let later = (chrono::DateTime::parse_from_rfc3339(&deadline).unwrap()
        + chrono::Duration::hours(1))
    .max(review_due)
    .to_rfc3339();
    let (_, t) = env.json(&["tick", "--now", &later]);
    assert_eq!(t["fired"][0]["kind"], "revocation_review", "{t}");
    let shown = env.json(&["show", &id, "--now", &later]).1;
    assert_eq!(shown["status"], "revoked", "{shown}");
    assert!(
        open_revocations().is_empty(),
        "a concluded revocation leaves the queue"
    );
    assert_eq!(shown["revocation"]["reason"], "key_compromise", "{shown}");
    assert!(shown["revocation"]["revoked_at"].is_string(), "{shown}");

    // The sandbox CA's CRL lists the serial with its reason, signed by the issuing CA.
    let crl = env.run(&["ca", "crl", "--now", &later]);
    assert!(
        crl.status.success(),
        "{}",
        String::from_utf8_lossy(&crl.stderr)
    );
    let text = String::from_utf8(openssl(&["crl", "-noout", "-text"], &crl.stdout)).unwrap();
    assert!(
        text.to_lowercase()
            .contains(&serial.trim_start_matches("00").to_lowercase()),
        "{text}\nserial {serial}"
    );
    assert!(text.contains("Key Compromise"), "{text}");
    let certs = env.run(&["ca", "certs"]);
    let ca_file = env.write("ca.pem", &certs.stdout);
    let crl_file = env.write("sandbox.crl", &crl.stdout);
    let verify = std::process::Command::new("openssl")
        .args(["crl", "-noout", "-in"])
        .arg(&crl_file)
        .arg("-CAfile")
        .arg(&ca_file)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&verify.stderr).to_string()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && said.contains("verify OK"),
        "{said}"
    );

    // RV-7: a revoked certificate can be deleted.
    let (code, d) = env.json(&["delete", &id, "--yes", "--now", &later]);
    assert_eq!(code, 0, "{d}");
}

#[test]
fn rule_rv6c_revocation_fails_when_the_domains_are_not_validated_within_3_days() {
    let env = Env::new();
    let zone: Zone = Arc::new(Mutex::new(HashMap::new()));
    let dns = serve_txt(zone.clone(), 50).unwrap();
    let (id, _, deadline) = revoking_by_dns(&env, &zone, dns);
    let before = (deadline - chrono::Duration::seconds(1)).to_rfc3339();
    let (_, t) = env.json(&["tick", "--now", &before]);
    assert_eq!(t["fired"].as_array().unwrap().len(), 0, "{t}");
    let (_, t) = env.json(&["tick", "--now", &deadline.to_rfc3339()]);
    assert_eq!(t["fired"][0]["kind"], "revocation_deadline", "{t}");
    assert!(t["fired"][0]["message"]
        .as_str()
        .unwrap()
        .contains("RV-6 (c)"));
    let shown = env.json(&["show", &id, "--now", &deadline.to_rfc3339()]).1;
    assert_eq!(
        shown["status"], "issued",
        "a failed revocation leaves the certificate valid"
    );
    let crl = env.run(&["ca", "crl"]);
    let text = String::from_utf8(openssl(&["crl", "-noout", "-text"], &crl.stdout)).unwrap();
    assert!(text.contains("No Revoked Certificates"), "{text}");
}

#[test]
fn rule_rv6d_ov_revocation_needs_a_letter_given_once_unless_validated_automatically() {
    let env = Env::new();
    env.json(&["account", "topup", "100000"]);
    env.json(&["zones", "add", "example.com"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "corp.example.org",
        "--product",
        "geotrust-ov",
        "--validation",
        "file",
    ]);
    assert_eq!(code, 0, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    // An OV order issued once its letter is in and its file validated: here the zone route is
    // quicker, so order a second one in the managed zone and use that.
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "shop.example.com",
        "--product",
        "geotrust-ov",
    ]);
    assert_eq!(code, 0, "{v}");
    let managed = v["id"].as_str().unwrap().to_string();
    let pdf = env.write("letter.pdf", b"%PDF-1.7\nsigned letter\n");
    let (code, l) = env.json(&["letter", &managed, pdf.to_str().unwrap()]);
    assert_eq!(code, 0, "{l}");
    let (_, t) = env.json(&["tick", "--now", &at(12.0)]);
    assert!(
        t["fired"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["cert_id"] == managed.as_str()),
        "{t}"
    );
    // The managed zone validates automatically: no letter needed (RV-6 (d)).
    let (code, v) = env.json(&[
        "revoke",
        &managed,
        "--reason",
        "cessation_of_operation",
        "--yes",
        "--now",
        &at(12.0),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["revocation"]["flow"], "letter");
    assert!(v["revocation"]["document"].is_null());
    // A second letter for a revocation is refused: it is given once, with the submission.
    let (code, e) = env.json(&[
        "letter",
        &managed,
        pdf.to_str().unwrap(),
        "--now",
        &at(12.0),
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-6")),
        "{e}"
    );
    // The unissued order cannot be revoked at all.
    let (code, e) = env.json(&["revoke", &id, "--reason", "superseded", "--yes"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-1")),
        "{e}"
    );
}

#[test]
fn rule_rv1_uploaded_certificates_cannot_be_revoked_and_bad_reasons_name_the_field() {
    let env = Env::new();
    let pki = common::Pki::new(certdeck::ca::pki::KeyKind::P256);
    let leaf = pki.leaf(&["up.example.com"], 90);
    let cert = env.write("leaf.pem", pki.full_chain(&leaf));
    let key = env.write("leaf.key", &leaf.key_pem);
    let (code, v) = env.import(&cert, Some(&key), &[]);
    assert_eq!(code, 0, "{v}");
    let id = v["id"].as_str().unwrap();
    let (code, e) = env.json(&["revoke", id, "--reason", "superseded", "--yes"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-1")),
        "{e}"
    );
    let (code, e) = env.json(&["revoke", id, "--reason", "certificateHold", "--yes"]);
    assert_eq!(
        (code, e["error"]["field"].as_str()),
        (1, Some("reason")),
        "{e}"
    );
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("only the CA"));
}

#[test]
fn rule_u4_an_uploaded_certificate_is_deleted_at_any_time_and_never_revoked() {
    let env = Env::new();
    let pki = common::Pki::new(certdeck::ca::pki::KeyKind::P256);
    // Valid for another 300 days, auto-renewal impossible, ignored: none of it stops a delete.
    let leaf = pki.leaf(&["keep.example.com"], 300);
    let cert = env.write("leaf.pem", pki.full_chain(&leaf));
    let key = env.write("leaf.key", &leaf.key_pem);
    let (code, v) = env.import(&cert, Some(&key), &[]);
    assert_eq!(code, 0, "{v}");
    let id = v["id"].as_str().unwrap();
    for reason in ["keyCompromise", "superseded", "unspecified"] {
        let (code, e) = env.json(&["revoke", id, "--reason", reason, "--yes"]);
        assert_eq!(
            (code, e["error"]["rule"].as_str()),
            (1, Some("RV-1")),
            "{e}"
        );
    }
    let (_, shown) = env.json(&["show", id]);
    assert_eq!(
        shown["status"], "issued",
        "a refused revocation changes nothing"
    );
    let (code, d) = env.json(&["delete", id, "--yes"]);
    assert_eq!(code, 0, "{d}");
    let (_, list) = env.json(&["list"]);
    assert_eq!(list.as_array().unwrap().len(), 0, "{list}");
}

#[test]
fn rule_rv6b_sm2_ov_revocation_takes_a_signed_application_file_once() {
    let env = Env::new();
    env.json(&["account", "topup", "100000"]);
    env.json(&["zones", "add", "example.com"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "gov.example.com",
        "--product",
        "dnspod-sm2-ov",
    ]);
    assert_eq!(code, 0, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let pdf = env.write("letter.pdf", b"%PDF-1.7\nconfirmation\n");
    env.json(&["letter", &id, pdf.to_str().unwrap()]);
    env.json(&["tick", "--now", &at(12.0)]);
    assert_eq!(
        env.json(&["show", &id, "--now", &at(12.0)]).1["status"],
        "issued"
    );
    let (code, e) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "superseded",
        "--yes",
        "--now",
        &at(12.0),
    ]);
    assert_eq!(
        (code, e["error"]["field"].as_str()),
        (1, Some("document")),
        "{e}"
    );
    // PNG is a letter kind, not an application-file kind (JPG, GIF or PDF).
    let png = env.write("app.png", b"\x89PNG\r\n\x1a\nxxxx");
    let (code, e) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "superseded",
        "--letter",
        png.to_str().unwrap(),
        "--yes",
        "--now",
        &at(12.0),
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-6")),
        "{e}"
    );
    // 1.4 MB exactly is accepted.
    let mut gif = b"GIF89a".to_vec();
    gif.resize(1_400_000, 0);
    let gif = env.write("app.gif", gif);
    let (code, v) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "superseded",
        "--letter",
        gif.to_str().unwrap(),
        "--yes",
        "--now",
        &at(12.0),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (
            v["revocation"]["flow"].as_str(),
            v["revocation"]["document"].as_str()
        ),
        (Some("application_file"), Some("gif")),
        "{v}"
    );
    let (code, e) = env.json(&["letter", &id, gif.to_str().unwrap(), "--now", &at(12.0)]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-6")),
        "{e}"
    );
}

/// Puts every validation record of `challenges` in the loopback zone.
fn publish(zone: &Zone, challenges: &Value) {
    for c in challenges.as_array().unwrap() {
        zone.lock().unwrap().insert(
            c["name"].as_str().unwrap().into(),
            vec![c["value"].as_str().unwrap().into()],
        );
    }
}

/// Runs `args` at `now` with the loopback resolver and checks it is refused under `rule`.
fn refused_at(env: &Env, dns: std::net::SocketAddr, args: &[&str], now: &str, rule: &str) -> Value {
    let mut all = args.to_vec();
    all.extend(["--now", now]);
    let (code, r) = json_dns(env, dns, &all);
    assert_eq!((code, r["error"]["rule"].as_str()), (1, Some(rule)), "{r}");
    r
}

#[test]
fn rule_t2_an_order_past_its_deadline_is_refused_and_fails_even_when_no_tick_ran() {
    let env = Env::new();
    let zone: Zone = Arc::new(Mutex::new(HashMap::new()));
    let dns = serve_txt(zone.clone(), 50).unwrap();
    env.json(&["account", "topup", "1000"]);
    let v = common::dns_order(&env, "late.example.net");
    let id = v["id"].as_str().unwrap().to_string();
    let deadline =
        chrono::DateTime::parse_from_rfc3339(v["order"]["deadline"].as_str().unwrap()).unwrap();
    // The record is there, but only once the deadline has passed: the clock decides, not
    // whether a tick ran in between (none did).
    publish(&zone, &v["order"]["challenges"]);
    let r = refused_at(
        &env,
        dns,
        &["validate", &id],
        &deadline.to_rfc3339(),
        "AR-6",
    );
    assert!(
        r["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deadline passed"),
        "{r}"
    );
    // It failed as the tick would have, dated at its deadline.
    let shown = env.json(&["show", &id, "--now", &deadline.to_rfc3339()]).1;
    assert_eq!(shown["status"], "failed", "{shown}");
    let r = refused_at(&env, dns, &["remind", &id], &deadline.to_rfc3339(), "AR-6");
    assert!(r["error"]["message"].as_str().unwrap().contains("failed"));
}

#[test]
fn rule_t2_a_revocation_past_its_3_day_deadline_is_refused_even_when_no_tick_ran() {
    let env = Env::new();
    let zone: Zone = Arc::new(Mutex::new(HashMap::new()));
    let dns = serve_txt(zone.clone(), 50).unwrap();
    let (id, v, deadline) = revoking_by_dns(&env, &zone, dns);
    // The revocation's records are in place; validating one second before the deadline would
    // work, at the deadline it is refused.
    publish(&zone, &v["validation"]["challenges"]);
    refused_at(
        &env,
        dns,
        &["validate", &id],
        &deadline.to_rfc3339(),
        "RV-6",
    );
    let shown = env.json(&["show", &id, "--now", &deadline.to_rfc3339()]).1;
    assert_eq!(shown["status"], "issued", "the revocation failed: {shown}");
}
