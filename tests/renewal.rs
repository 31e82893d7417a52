//! Auto-renewal end to end through the CLI with `--now`: AR-1..AR-6 at their edges, and the
//! renewal lineage and validity of AR-5, on certificates the sandbox CA really issues.
mod common;
use common::Env;
use serde_json::Value;

fn at(days: f64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds((days * 86_400.0) as i64)).to_rfc3339()
}

/// A DNSPod DV certificate issued by the sandbox CA (managed zone), and the time of issue.
fn issued_cert(env: &Env) -> (String, chrono::DateTime<chrono::FixedOffset>) {
    let id = common::sandbox_order(env);
    let (_, t) = env.json(&["tick", "--now", &at(4.0)]);
    assert_eq!(t["fired"][0]["kind"], "review_done", "{t}");
    let shown = env.json(&["show", &id, "--now", &at(4.0)]).1;
    let not_after =
        chrono::DateTime::parse_from_rfc3339(shown["not_after"].as_str().unwrap()).unwrap();
    (id, not_after)
}

fn days_before(t: chrono::DateTime<chrono::FixedOffset>, days: i64) -> String {
    (t - chrono::Duration::days(days)).to_rfc3339()
}

#[test]
fn rule_ar1_uploaded_and_ineligible_certificates_cannot_auto_renew() {
    let env = Env::new();
    env.json(&["account", "topup", "10000"]);
    env.json(&["zones", "add", "example.com"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "corp.example.com",
        "--product",
        "trustasia-dv",
    ]);
    let id = v["id"].as_str().unwrap();
    env.json(&["tick", "--now", &at(4.0)]);
    let (code, v) = env.json(&["renew", id, "--auto", "on", "--now", &at(4.0)]);
    assert_eq!(
        (code, v["error"]["rule"].as_str()),
        (1, Some("AR-1")),
        "{v}"
    );
}

#[test]
fn rule_ar2_fourteen_days_exactly_is_enough_and_less_is_refused() {
    let env = Env::new();
    let (id, end) = issued_cert(&env);
    let (code, v) = env.json(&[
        "renew",
        &id,
        "--auto",
        "on",
        "--now",
        &(end - chrono::Duration::days(14) + chrono::Duration::seconds(1)).to_rfc3339(),
    ]);
    assert_eq!(
        (code, v["error"]["rule"].as_str()),
        (1, Some("AR-2")),
        "{v}"
    );
    let (code, v) = env.json(&["renew", &id, "--auto", "on", "--now", &days_before(end, 14)]);
    assert_eq!((code, v["auto_renew"].as_bool()), (0, Some(true)), "{v}");
}

#[test]
fn rule_ar3_to_ar5_fee_at_thirty_days_then_a_renewal_issued_to_old_expiry_plus_a_year() {
    let env = Env::new();
    let (id, end) = issued_cert(&env);
    let (code, _) = env.json(&["renew", &id, "--auto", "on", "--now", &days_before(end, 60)]);
    assert_eq!(code, 0);
    assert_eq!(
        env.json(&["account"]).1["balance"],
        "801.00",
        "switching on charges nothing (AR-3)"
    );
    let (_, early) = env.json(&[
        "tick",
        "--now",
        &(end - chrono::Duration::days(30) - chrono::Duration::seconds(1)).to_rfc3339(),
    ]);
    assert_eq!(early["fired"], serde_json::json!([]));
    let (_, fee) = env.json(&["tick", "--now", &days_before(end, 30)]);
    assert_eq!(fee["fired"][0]["kind"], "renewal_fee", "{fee}");
    assert_eq!(env.json(&["account"]).1["balance"], "602.00");
    let (_, old) = env.json(&["show", &id, "--now", &days_before(end, 30)]);
    assert_eq!(old["status"], "to_be_renewed");
    let (_, list) = env.json(&[
        "list",
        "--status",
        "validating",
        "--now",
        &days_before(end, 30),
    ]);
    let renewal = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["domains"][0] == "shop.example.com")
        .expect("renewal order")
        .clone();
    let new_id = renewal["id"].as_str().unwrap().to_string();
    // Managed zone: validated at once, reviewed in a business day (AR-6), then issued (AR-5).
    let (_, issued) = env.json(&["tick", "--now", &days_before(end, 25)]);
    assert!(
        issued["fired"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["kind"] == "review_done"),
        "{issued}"
    );
    let (_, new) = env.json(&["show", &new_id, "--now", &days_before(end, 25)]);
    assert_eq!(new["status"], "issued");
    assert_eq!(new["renewed_from"], id.as_str());
    assert_eq!(new["auto_renew"], true, "the renewal keeps renewing");
    let new_end = chrono::DateTime::parse_from_rfc3339(new["not_after"].as_str().unwrap()).unwrap();
    let expected = end.checked_add_months(chrono::Months::new(12)).unwrap();
    assert!(
        (new_end - expected).num_seconds().abs() <= 1,
        "AR-5: {new_end} vs {expected}"
    );
}

#[test]
fn rule_ar3_switched_on_at_twenty_days_is_charged_on_the_next_tick() {
    let env = Env::new();
    let (id, end) = issued_cert(&env);
    env.json(&["renew", &id, "--auto", "on", "--now", &days_before(end, 20)]);
    let (_, t) = env.json(&["tick", "--now", &days_before(end, 20)]);
    assert_eq!(t["fired"][0]["kind"], "renewal_fee", "{t}");
}

#[test]
fn rule_ar4_an_uncovered_fee_switches_auto_renewal_off() {
    let env = Env::new();
    env.json(&["zones", "add", "example.com"]);
    env.json(&["account", "topup", "199"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "shop.example.com",
        "--product",
        "dnspod-dv",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    env.json(&["tick", "--now", &at(4.0)]);
    let end = chrono::DateTime::parse_from_rfc3339(
        env.json(&["show", &id, "--now", &at(4.0)]).1["not_after"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    env.json(&["renew", &id, "--auto", "on", "--now", &days_before(end, 40)]);
    let (_, t) = env.json(&["tick", "--now", &days_before(end, 30)]);
    assert_eq!(t["fired"][0]["kind"], "renewal_fee");
    let (_, shown) = env.json(&["show", &id, "--now", &days_before(end, 30)]);
    assert_eq!(shown["auto_renew"], false);
    assert_eq!(shown["status"], "issued");
    let last: &Value = shown["timeline"].as_array().unwrap().last().unwrap();
    assert!(
        last["message"]
            .as_str()
            .unwrap()
            .contains("renew by hand (AR-4)"),
        "{last}"
    );
    assert_eq!(env.json(&["account"]).1["balance"], "0.00");
}

#[test]
fn rule_ar6_manual_dns_renewal_fails_after_seven_days_and_manual_renewal_works() {
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "shop.example.org",
        "--product",
        "dnspod-dv",
        "--validation",
        "dns",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    // No managed zone and no validation: this order fails at its deadline; renewing it is refused.
    env.json(&["tick", "--now", &at(8.0)]);
    let (code, r) = env.json(&["renew", &id, "--now", &at(8.0)]);
    assert_eq!(
        (code, r["error"]["rule"].as_str()),
        (1, None),
        "no SPEC rule names this: the rule is null, not an internal tag: {r}"
    );

    let (id, end) = issued_cert(&env);
    env.json(&["zones", "rm", "example.com"]);
    let (code, r) = env.json(&["renew", &id, "--now", &days_before(end, 50)]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["status"], "validating");
    assert_eq!(r["order"]["validation"], "dns");
    let new_id = r["id"].as_str().unwrap().to_string();
    // 50 days left: `to_be_renewed` is for the last 30 days; the original stays issued.
    assert_eq!(
        env.json(&["show", &id, "--now", &days_before(end, 50)]).1["status"],
        "issued"
    );
    let balance_after_fee = env.json(&["account"]).1["balance"].clone();
    let deadline =
        chrono::DateTime::parse_from_rfc3339(r["order"]["deadline"].as_str().unwrap()).unwrap();
    assert_eq!(
        (deadline - (end - chrono::Duration::days(50))).num_days(),
        7
    );
    env.json(&["tick", "--now", &deadline.to_rfc3339()]);
    assert_eq!(
        env.json(&["show", &new_id, "--now", &deadline.to_rfc3339()])
            .1["status"],
        "failed"
    );
    // AR-6: the failed renewal gives its original back, says why, and refunds its fee.
    let original = env.json(&["show", &id, "--now", &deadline.to_rfc3339()]).1;
    assert_eq!(original["status"], "issued", "{original}");
    assert!(
        original["timeline"].to_string().contains("the renewal of"),
        "{original}"
    );
    let account = env.json(&["account"]).1;
    assert_ne!(account["balance"], balance_after_fee, "{account}");
    assert_eq!(account["ledger"][0]["kind"], "refund", "{account}");
    assert_eq!(account["ledger"][0]["cert_id"], new_id.as_str());
    // And it can be renewed by hand again.
    let (code, r) = env.json(&["renew", &id, "--now", &deadline.to_rfc3339()]);
    assert_eq!(code, 0, "{r}");
}

#[test]
fn rule_ar6_an_automatic_renewal_that_fails_puts_the_original_back_to_issued_with_its_fee() {
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    let (id, end) = issued_cert(&env);
    env.json(&["zones", "rm", "example.com"]);
    let (code, r) = env.json(&["renew", &id, "--auto", "on", "--now", &days_before(end, 40)]);
    assert_eq!(code, 0, "{r}");
    // The fee falls due at 30 days: the renewal order waits for a DNS record nobody adds.
    let (_, t) = env.json(&["tick", "--now", &days_before(end, 30)]);
    assert_eq!(t["fired"][0]["kind"], "renewal_fee", "{t}");
    assert_eq!(
        env.json(&["show", &id, "--now", &days_before(end, 30)]).1["status"],
        "to_be_renewed"
    );
    let (_, t) = env.json(&["tick", "--now", &days_before(end, 22)]);
    let failed = t["fired"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "validation_deadline")
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        failed["message"].as_str().unwrap().contains("refunded"),
        "{t}"
    );
    let original = env.json(&["show", &id, "--now", &days_before(end, 22)]).1;
    assert_eq!(original["status"], "issued", "{original}");
    assert_eq!(
        original["auto_renew"], false,
        "not charged again behind the user's back"
    );
    let (_, t) = env.json(&["tick", "--now", &days_before(end, 21)]);
    assert!(t["fired"].as_array().unwrap().is_empty(), "{t}");
}
