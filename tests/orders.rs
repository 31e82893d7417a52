//! Ordering from the sandbox CA: payment, managed-zone validation, review in business days, real
//! issuance on tick (checked with openssl), and the validation deadline (AR-6).
mod common;
use common::{openssl, Env};
use serde_json::Value;

fn later(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).to_rfc3339()
}

#[test]
fn rule_ar4_an_order_the_balance_does_not_cover_writes_nothing() {
    let env = Env::new();
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "shop.example.com",
        "--product",
        "dnspod-dv",
    ]);
    assert_eq!(code, 1);
    assert_eq!(v["error"]["field"], "amount");
    assert_eq!(env.json(&["list"]).1, serde_json::json!([]));
    assert_eq!(env.json(&["account"]).1["ledger"], serde_json::json!([]));
}

#[test]
fn managed_zone_order_is_issued_by_the_sandbox_ca_after_review() {
    let env = Env::new();
    assert_eq!(env.json(&["account", "topup", "500"]).0, 0);
    assert_eq!(
        env.json(&["zones", "add", "Example.com"]).1["managed_zones"],
        serde_json::json!(["example.com"])
    );
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "shop.example.com",
        "--product",
        "dnspod-dv",
        "--tag",
        "env=prod",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "validating");
    assert_eq!(v["source"], "issued");
    assert_eq!(v["brand"], "DNSPod");
    assert_eq!(v["order"]["validation"], "dns_auto");
    assert_eq!(
        v["order"]["challenges"][0]["name"],
        "_dnsauth.shop.example.com"
    );
    assert_eq!(v["order"]["price"], "199.00");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(env.json(&["account"]).1["balance"], "301.00");
    let (_, forecast) = env.json(&["forecast", "--days", "10"]);
    assert_eq!(forecast[0]["kind"], "review_done");

    // The review takes one business day: nothing before, issuance after.
    let (_, early) = env.json(&["tick", "--now", &chrono::Utc::now().to_rfc3339()]);
    assert_eq!(early["fired"], serde_json::json!([]));
    let (_, done) = env.json(&["tick", "--now", &later(4)]);
    assert_eq!(done["fired"][0]["kind"], "review_done", "{done}");
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["status"], "issued");
    assert_eq!(shown["chain_len"], 3);
    assert_eq!(shown["chain_complete"], true);
    assert_eq!(shown["domains"], serde_json::json!(["shop.example.com"]));
    assert!(shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["kind"] == "issued"));

    // The certificate is real: openssl verifies it against the sandbox root, and the sealed key
    // is the leaf's.
    let store = env.open_store("test");
    let cert = store.get(&id).unwrap().unwrap();
    let pem = |d: &Vec<u8>| certdeck::domain::pem::encode("CERTIFICATE", d);
    let root = env.write("root.pem", pem(&cert.chain_der[2]));
    let inter = env.write("inter.pem", pem(&cert.chain_der[1]));
    let leaf = env.write("leaf.pem", pem(&cert.chain_der[0]));
    // Issued at the simulated tick time, four days from now: verify at that time.
    let at = (chrono::Utc::now() + chrono::Duration::days(5))
        .timestamp()
        .to_string();
    let out = openssl(
        &[
            "verify",
            "-attime",
            &at,
            "-CAfile",
            root.to_str().unwrap(),
            "-untrusted",
            inter.to_str().unwrap(),
            leaf.to_str().unwrap(),
        ],
        b"",
    );
    assert!(String::from_utf8_lossy(&out).contains(": OK"));
    let key = store
        .private_key_pem(&id)
        .unwrap()
        .expect("the key is sealed in the store");
    let input = certdeck::domain::rules::upload::UploadInput {
        cert: cert.chain_pem().into_bytes(),
        key: Some(key.into_bytes()),
        ..Default::default()
    };
    let checked = certdeck::domain::rules::upload::validate_upload(&input, chrono::Utc::now(), &[]);
    assert!(checked.is_ok(), "key matches leaf: {checked:?}");
}

#[test]
fn rule_ar6_an_unvalidated_order_fails_at_its_seven_day_deadline() {
    let env = Env::new();
    env.json(&["account", "topup", "500"]);
    let v = common::dv_order(&env, "manual.example.org", "file");
    let id = v["id"].as_str().unwrap().to_string();
    let challenge: &Value = &v["order"]["challenges"][0];
    assert_eq!(
        challenge["url"],
        "http://manual.example.org/.well-known/pki-validation/fileauth.txt"
    );
    assert_eq!(challenge["content"].as_str().unwrap().len(), 16);
    let deadline =
        chrono::DateTime::parse_from_rfc3339(v["order"]["deadline"].as_str().unwrap()).unwrap();
    let just_before = (deadline - chrono::Duration::seconds(1)).to_rfc3339();
    // A day before, the "deadline near" reminder (a warning in the message center); at the
    // deadline itself, the failure.
    let (_, t) = env.json(&["tick", "--now", &just_before]);
    let kinds: Vec<&str> = t["fired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["validation_due"], "{t}");
    let (_, m) = env.json(&["messages"]);
    assert_eq!(
        (
            m["messages"][0]["kind"].as_str(),
            m["messages"][0]["severity"].as_str()
        ),
        (Some("validation_due"), Some("warning")),
        "{m}"
    );
    let (_, t) = env.json(&["tick", "--now", &deadline.to_rfc3339()]);
    assert_eq!(t["fired"][0]["kind"], "validation_deadline", "{t}");
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["status"], "failed");
    assert!(shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["message"].as_str().unwrap().contains("(AR-6)")));
    assert_eq!(
        env.json(&["forecast", "--days", "30"]).1,
        serde_json::json!([]),
        "nothing left scheduled"
    );
}

#[test]
fn bad_orders_are_refused_with_their_field() {
    let env = Env::new();
    env.json(&["account", "topup", "5000"]);
    let cases: [(&[&str], &str); 4] = [
        (
            &["--domain", "example.com", "--product", "dnspod-dv-wildcard"],
            "domain",
        ),
        (
            &[
                "--domain",
                "*.example.com",
                "--product",
                "wotrus-dv-wildcard",
                "--validation",
                "file",
            ],
            "validation",
        ),
        (
            &["--domain", "bad_name.example.com", "--product", "dnspod-dv"],
            "domain",
        ),
        (
            &["--domain", "a.example.com", "--product", "no-such-thing"],
            "product",
        ),
    ];
    for (args, field) in cases {
        let mut all = vec!["apply"];
        all.extend_from_slice(args);
        let (code, v) = env.json(&all);
        assert_eq!(
            (code, v["error"]["field"].as_str()),
            (1, Some(field)),
            "{args:?}: {v}"
        );
    }
    assert_eq!(
        env.run(&[
            "apply",
            "--domain",
            "a.example.com",
            "--product",
            "dnspod-dv",
            "--validation",
            "email"
        ])
        .status
        .code(),
        Some(2)
    );
    assert_eq!(
        env.json(&["account"]).1["balance"],
        "5000.00",
        "refused orders cost nothing"
    );
}

#[test]
fn rule_ar7_ov_orders_wait_for_a_letter_checked_by_content_and_size() {
    let env = Env::new();
    env.json(&["account", "topup", "10000"]);
    env.json(&["zones", "add", "example.com"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "corp.example.com",
        "--product",
        "geotrust-ov",
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "awaiting_letter");
    let id = v["id"].as_str().unwrap().to_string();
    let gif = env.write("letter.pdf", b"GIF89a pretending to be a pdf");
    let (code, r) = env.json(&["letter", &id, gif.to_str().unwrap()]);
    assert_eq!(
        (code, r["error"]["rule"].as_str()),
        (1, Some("AR-7")),
        "{r}"
    );
    let mut big = b"%PDF-1.7\n".to_vec();
    big.resize(1_400_001, b' ');
    let (code, r) = env.json(&["letter", &id, env.write("big.pdf", &big).to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(
        r["error"]["message"].as_str().unwrap().contains("1.4 MB"),
        "{r}"
    );
    big.truncate(1_400_000);
    let (code, r) = env.json(&["letter", &id, env.write("ok.pdf", &big).to_str().unwrap()]);
    assert_eq!(code, 0, "exactly 1.4 MB is accepted: {r}");
    assert_eq!(r["status"], "validating");
    assert!(
        r["order"]["review_due"].is_string(),
        "validated by the managed zone, review starts: {r}"
    );
    let (code, r) = env.json(&[
        "letter",
        &id,
        env.write("again.pdf", b"%PDF-1.4 second").to_str().unwrap(),
    ]);
    assert_eq!(
        (code, r["error"]["rule"].as_str()),
        (1, Some("AR-7")),
        "no longer waiting: {r}"
    );
    let (_, t) = env.json(&["tick", "--now", &later(8)]);
    assert_eq!(t["fired"][0]["kind"], "review_done", "{t}");
    assert_eq!(env.json(&["show", &id]).1["status"], "issued");
}

#[test]
fn rule_rm1_rm2_reminders_say_why_not_and_from_when() {
    let env = Env::new();
    env.json(&["account", "topup", "10000"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "a.example.org",
        "--product",
        "trustasia-dv",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    let (code, r) = env.json(&["remind", &id]);
    assert_eq!(
        (code, r["error"]["rule"].as_str()),
        (1, Some("RM-2")),
        "{r}"
    );
    assert!(r["error"]["message"]
        .as_str()
        .unwrap()
        .contains("24 h after submission"));
    let (code, r) = env.json(&["remind", &id, "--now", &later(1)]);
    assert_eq!((code, r["reminded"].as_bool()), (0, Some(true)), "{r}");
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "b.example.org",
        "--product",
        "dnspod-dv",
    ]);
    let (code, r) = env.json(&["remind", v["id"].as_str().unwrap(), "--now", &later(2)]);
    assert_eq!(
        (code, r["error"]["rule"].as_str()),
        (1, Some("RM-1")),
        "DNSPod takes no reminders: {r}"
    );
}

#[test]
fn prices_come_from_the_price_table_when_set() {
    let env = Env::new();
    let (_, list) = env.json(&["products"]);
    let dv = list
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "dnspod-dv")
        .unwrap()
        .clone();
    assert_eq!(dv["price"], "199.00");
    let (code, list) = env.json(&["products", "--set-price", "dnspod-dv", "149.5"]);
    assert_eq!(code, 0);
    assert_eq!(
        list.as_array()
            .unwrap()
            .iter()
            .find(|p| p["code"] == "dnspod-dv")
            .unwrap()["price"],
        "149.50"
    );
    assert_eq!(
        env.run(&["products", "--set-price", "no-such", "1"])
            .status
            .code(),
        Some(2)
    );
    env.json(&["account", "topup", "200"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "priced.example.com",
        "--product",
        "dnspod-dv",
    ]);
    assert_eq!(
        (code, v["order"]["price"].as_str()),
        (0, Some("149.50")),
        "{v}"
    );
    assert_eq!(env.json(&["account"]).1["balance"], "50.50");
}

#[test]
fn a_tick_far_in_the_future_with_an_order_due_reports_instead_of_panicking() {
    let env = Env::new();
    env.json(&["account", "topup", "500"]);
    env.json(&["zones", "add", "example.com"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "far.example.com",
        "--product",
        "dnspod-dv",
    ]);
    assert_eq!(code, 0, "{v}");
    let out = env.run(&["tick", "--now", "9999-06-01T00:00:00Z", "--json"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let t: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    // T-1: the late tick does the review when it was due (the certificate is issued for a
    // year from then) and then, in the same tick, that certificate's expiry.
    let kinds: Vec<&str> = t["fired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["review_done", "expiry"], "{t}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
    // An order placed in year 9999 cannot be issued for a year: said, not a panic.
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "far.example.com",
        "--product",
        "dnspod-dv",
        "--now",
        "9999-06-01T00:00:00Z",
    ]);
    assert_eq!(code, 0, "{v}");
    let out = env.run(&["tick", "--now", "9999-06-10T00:00:00Z", "--json"]);
    assert_eq!(out.status.code(), Some(0));
    let failed = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(failed.contains("after 9999-12-31"), "{failed}");
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn rule_d1_an_order_in_review_is_cancelled_with_its_fee_refunded_then_deleted() {
    let env = Env::new();
    env.json(&["account", "topup", "500"]);
    let v = common::dns_order(&env, "cancel.example.net");
    let id = v["id"].as_str().unwrap().to_string();
    assert_eq!(env.json(&["account"]).1["balance"], "301.00");
    // In review it cannot be deleted; the refusal says how to get there.
    let (code, e) = env.json(&["delete", &id, "--yes"]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("D-1")), "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("certdeck cancel"));
    // Without --yes (and no terminal to ask on), nothing happens; the refusal says what would.
    let (code, e) = env.json(&["cancel", &id]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("D-1")), "{e}");
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("199.00 CNY"));
    assert_eq!(env.json(&["show", &id]).1["status"], "validating");
    let (code, c) = env.json(&["cancel", &id, "--yes"]);
    assert_eq!(code, 0, "{c}");
    assert_eq!(
        (c["status"].as_str(), c["refunded"].as_str()),
        (Some("cancelled"), Some("199.00"))
    );
    let account = env.json(&["account"]).1;
    assert_eq!(account["balance"], "500.00", "{account}");
    assert_eq!(account["ledger"][0]["kind"], "refund");
    // Cancelled once only; nothing more is due for it.
    let (code, e) = env.json(&["cancel", &id, "--yes"]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("D-1")), "{e}");
    let (_, t) = env.json(&[
        "tick",
        "--now",
        &(chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339(),
    ]);
    assert_eq!(t["fired"].as_array().unwrap().len(), 0, "{t}");
    let (code, d) = env.json(&["delete", &id, "--yes"]);
    assert_eq!((code, d["deleted"].as_str()), (0, Some(id.as_str())), "{d}");
}

#[test]
fn rule_d1_a_failed_order_can_be_deleted() {
    let env = Env::new();
    env.json(&["account", "topup", "500"]);
    let v = common::dns_order(&env, "failed.example.net");
    let id = v["id"].as_str().unwrap().to_string();
    let later = (chrono::Utc::now() + chrono::Duration::days(8)).to_rfc3339();
    env.json(&["tick", "--now", &later]);
    assert_eq!(
        env.json(&["show", &id, "--now", &later]).1["status"],
        "failed"
    );
    let (code, d) = env.json(&["delete", &id, "--yes", "--now", &later]);
    assert_eq!(code, 0, "{d}");
}
