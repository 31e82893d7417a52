//! AC-4 and AC-7 against a real pebble that validates for real: a short-lived ACME certificate
//! renews by itself at the lifetime point when a tick comes, its hosting puts the renewal on a
//! real nginx, and a failed attempt backs off and says so.
mod common;
use common::nginx::Nginx;
use common::pebble::{self, Pebble};
use common::{days_from_now as at, Env, Pki};

macro_rules! need_pebble {
    () => {
        if !pebble::installed() {
            eprintln!("skipped: pebble is not installed (scripts/test installs it)");
            return;
        }
    };
}

/// A validating pebble issuing certificates valid 7 days (short-lived: they renew at half).
fn short_lived_pebble(env: &Env) -> Pebble {
    let p = Pebble::start(pebble::Options {
        validate: true,
        validity_secs: Some(7 * 86_400),
        ..Default::default()
    });
    common::add_acme_account(env, &p, "test");
    p
}

/// certdeck with its own token check pointed where pebble's VA goes (AC-3).
fn run(env: &Env, p: &Pebble, args: &[&str]) -> (i32, serde_json::Value) {
    let http = format!("127.0.0.1:{}", p.http_port);
    env.json_with(args, &[("CERTDECK_VALIDATION_HTTP", &http)])
}

fn order(env: &Env, p: &Pebble) -> String {
    let listen = format!("127.0.0.1:{}", p.http_port);
    let (code, c) = run(
        env,
        p,
        &[
            "apply",
            "--ca",
            "test",
            "--domain",
            "shop.example.test",
            "--http-listen",
            &listen,
        ],
    );
    assert_eq!(code, 0, "{c}");
    c["id"].as_str().unwrap().to_string()
}

#[test]
fn rule_ac7_a_short_lived_acme_certificate_renews_at_half_its_lifetime_and_only_its_hosting_deploys_the_renewal(
) {
    need_pebble!();
    let env = Env::new();
    let p = short_lived_pebble(&env);
    let old = order(&env, &p);
    let (_, shown) = env.json(&["show", &old]);
    let renewal = &shown["renewal"];
    assert_eq!(
        renewal["auto"], true,
        "auto-renewal is on by default: {shown}"
    );
    assert_eq!(renewal["reason"], "½ lifetime left", "{shown}");
    assert_eq!(renewal["failures"], 0);
    assert_eq!(
        renewal["ari_window"],
        serde_json::Value::Null,
        "pebble 2.4 has no ARI"
    );
    let next = chrono::DateTime::parse_from_rfc3339(renewal["next_at"].as_str().unwrap()).unwrap();
    let nb = chrono::DateTime::parse_from_rfc3339(shown["not_before"].as_str().unwrap()).unwrap();
    let na = chrono::DateTime::parse_from_rfc3339(shown["not_after"].as_str().unwrap()).unwrap();
    assert!(
        (next - (nb + (na - nb) / 2)).num_seconds().abs() <= 1,
        "half of the lifetime: {shown}"
    );
    assert!(shown["auto_renew"] == true, "{shown}");
    let (_, fc) = env.json(&["forecast", "--days", "10"]);
    assert!(
        fc.to_string().contains("ACME renewal (½ lifetime left)"),
        "{fc}"
    );
    assert!(
        !fc.to_string().contains("renewal_fee"),
        "no sandbox fee: {fc}"
    );

    // The certificate is deployed on nginx and hosted 3 days before expiry (AC-7).
    let pki = Pki::new(certdeck::ca::pki::KeyKind::P256);
    let placeholder = pki.leaf(&["shop.example.test"], 30);
    let nginx = Nginx::start(
        &env.path("nginx"),
        &pki.full_chain(&placeholder),
        &placeholder.key_pem,
    );
    nginx.add_resource(&env, "shop", "shop.example.test");
    let (code, d) = env.json(&["deploy", &old, "shop"]);
    assert_eq!(code, 0, "{d}");
    let (code, h) = env.json(&["hosting", "add", &old, "--days", "3"]);
    assert_eq!(code, 0, "{h}");

    // Before the lifetime point a tick renews nothing.
    let (_, t) = run(&env, &p, &["tick", "--now", &at(2.0)]);
    assert_eq!(t["fired"], serde_json::json!([]), "{t}");
    assert_eq!(env.json(&["list"]).1.as_array().unwrap().len(), 1);

    // After it, the tick orders the renewal from pebble (validated for real) and stores it.
    let (_, t) = run(&env, &p, &["tick", "--now", &at(3.6)]);
    assert_eq!(t["failed"], serde_json::json!([]), "{t}");
    assert!(t["fired"].to_string().contains("renewed by"), "{t}");
    let (_, list) = env.json(&["list"]);
    let new = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] != old.as_str())
        .expect("the renewal is stored")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, renewed) = env.json(&["show", &new]);
    assert_eq!(renewed["renewed_from"], old.as_str(), "{renewed}");
    assert_eq!(renewed["ca"], "test");
    assert_eq!(renewed["status"], "issued");
    assert_eq!(
        renewed["renewal"]["auto"], true,
        "the renewal renews in turn"
    );
    assert_ne!(renewed["fingerprint_sha256"], shown["fingerprint_sha256"]);
    let (_, old_now) = env.json(&["show", &old]);
    assert!(
        old_now["timeline"]
            .to_string()
            .contains(&format!("renewed by {new}")),
        "{old_now}"
    );
    assert_eq!(
        old_now["renewal"],
        serde_json::Value::Null,
        "the old certificate renews no more: {old_now}"
    );
    // A second tick at the same moment does not renew again.
    let (_, t) = run(&env, &p, &["tick", "--now", &at(3.6)]);
    assert_eq!(t["fired"], serde_json::json!([]), "{t}");
    // AR-8: nothing was deployed by the renewal itself; the hosting does it at its time.
    assert_eq!(
        nginx.served(),
        shown["fingerprint_sha256"].as_str().unwrap()
    );
    let (_, t) = run(&env, &p, &["tick", "--now", &at(4.1)]);
    assert!(t.to_string().contains("hosting_replace"), "{t}");
    assert_eq!(
        nginx.served(),
        renewed["fingerprint_sha256"].as_str().unwrap(),
        "nginx serves the renewal: {t}"
    );
}

#[test]
fn rule_ac4_a_failed_renewal_backs_off_from_an_hour_and_says_why_and_auto_renewal_can_be_switched()
{
    need_pebble!();
    let env = Env::new();
    let p = short_lived_pebble(&env);
    let id = order(&env, &p);
    // The account goes (the user forces it): the renewal cannot be signed.
    let (code, r) = env.json(&["acme", "account", "rm", "test", "--force"]);
    assert_eq!(code, 0, "{r}");
    let first = at(3.6);
    let (_, t) = run(&env, &p, &["tick", "--now", &first]);
    let failed = t["failed"].to_string();
    assert!(failed.contains("no ACME account named test"), "{t}");
    assert!(failed.contains("attempt 1 failed"), "{t}");
    let (_, shown) = env.json(&["show", &id]);
    let r = &shown["renewal"];
    assert_eq!(r["failures"], 1, "{shown}");
    assert_eq!(r["reason"], "retry after a failed attempt");
    assert!(
        r["last_error"].as_str().unwrap().contains("AC-4"),
        "{shown}"
    );
    let next = chrono::DateTime::parse_from_rfc3339(r["next_at"].as_str().unwrap()).unwrap();
    let first_t = chrono::DateTime::parse_from_rfc3339(&first).unwrap();
    assert!(
        (3599..=3600).contains(&(next - first_t).num_seconds()),
        "one hour: {shown}"
    );
    // Each failure is a message.
    let (_, m) = env.json(&["messages"]);
    assert!(m.to_string().contains("renewal_failed"), "{m}");
    // Half an hour later nothing is tried; after the hour, the second attempt waits two hours.
    let (_, t) = run(&env, &p, &["tick", "--now", &at(3.6 + 0.5 / 24.0)]);
    assert_eq!(t["failed"], serde_json::json!([]), "no retry loop: {t}");
    let second = at(3.6 + 1.01 / 24.0);
    let (_, t) = run(&env, &p, &["tick", "--now", &second]);
    assert!(t["failed"].to_string().contains("attempt 2 failed"), "{t}");
    let (_, shown) = env.json(&["show", &id]);
    let next = chrono::DateTime::parse_from_rfc3339(shown["renewal"]["next_at"].as_str().unwrap())
        .unwrap();
    let second_t = chrono::DateTime::parse_from_rfc3339(&second).unwrap();
    assert!(
        (7199..=7200).contains(&(next - second_t).num_seconds()),
        "doubled: {shown}"
    );

    // Off: nothing is scheduled; on again: failures forgotten, renewal due at once.
    let (code, c) = env.json(&["renew", &id, "--auto", "off"]);
    assert_eq!(code, 0, "{c}");
    let (_, fc) = env.json(&["forecast", "--days", "10"]);
    assert!(!fc.to_string().contains("acme_renew"), "{fc}");
    let (_, t) = run(&env, &p, &["tick", "--now", &at(4.0)]);
    assert_eq!(t["failed"], serde_json::json!([]), "off: no attempt {t}");
    let (code, c) = env.json(&["renew", &id, "--auto", "on"]);
    assert_eq!(code, 0, "{c}");
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["renewal"]["failures"], 0, "{shown}");
    assert_eq!(shown["renewal"]["auto"], true, "{shown}");
    let (_, fc) = env.json(&["forecast", "--days", "10"]);
    assert!(fc.to_string().contains("acme_renew"), "{fc}");
}
