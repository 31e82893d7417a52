//! AC-3 dns-01 through RFC 2136: certdeck updates a real bind9 with TSIG-signed messages, pebble
//! validates against that bind9 for real (a wildcard included), and the records are gone
//! afterwards; a key the server does not know is refused before anything reaches the CA.
mod common;
use common::bind::{self, Bind};
use common::pebble::{self, Pebble};
use common::Env;

macro_rules! need_servers {
    () => {
        if !pebble::installed() || !bind::installed() {
            eprintln!("skipped: pebble or bind9 is not installed (scripts/test installs them)");
            return;
        }
    };
}

fn pebble_on(env: &Env, bind: &Bind) -> Pebble {
    let p = Pebble::start(pebble::Options {
        validate: true,
        dns_server: Some(bind.addr()),
        ..Default::default()
    });
    common::add_acme_account(env, &p, "test");
    p
}

fn apply(
    env: &Env,
    bind: &Bind,
    key_file: &std::path::Path,
    domains: &[&str],
) -> (i32, serde_json::Value) {
    let mut args = vec!["apply", "--ca", "test", "--domain", domains[0]];
    for d in &domains[1..] {
        args.extend(["--san", d]);
    }
    let server = bind.addr();
    args.extend([
        "--challenge",
        "dns-01",
        "--dns-update",
        &server,
        "--tsig-key-file",
        key_file.to_str().unwrap(),
        "--dns-wait",
        "5",
    ]);
    // certdeck's own lookup asks the same server pebble's VA asks.
    env.json_with(&args, &[("CERTDECK_RESOLVER", &server)])
}

#[test]
fn rule_ac3_dns01_through_rfc2136_to_bind9_with_a_wildcard_is_validated_and_cleaned_up() {
    need_servers!();
    let env = Env::new();
    let bind = Bind::start();
    let _p = pebble_on(&env, &bind);
    let (code, c) = apply(
        &env,
        &bind,
        &bind.key_file,
        &["*.shop.example.test", "shop.example.test"],
    );
    assert_eq!(code, 0, "{c}");
    assert_eq!(
        c["domains"],
        serde_json::json!(["*.shop.example.test", "shop.example.test"])
    );
    // Both values were published under one name, and both are gone now (AC-3).
    assert_eq!(
        bind.txt("_acme-challenge.shop.example.test"),
        Vec::<String>::new()
    );
    let (_, shown) = env.json(&["show", c["id"].as_str().unwrap()]);
    assert!(
        shown["renewal"]["challenge"]
            .as_str()
            .unwrap()
            .contains("RFC 2136"),
        "renewals update the same server: {shown}"
    );
    // The key is never in the store: only its file's path.
    let file = std::fs::read(env.db()).unwrap();
    let key = std::fs::read_to_string(&bind.key_file).unwrap();
    let secret = key.split('"').nth(3).unwrap();
    assert!(
        !file.windows(secret.len()).any(|w| w == secret.as_bytes()),
        "the TSIG secret is not stored"
    );
}

#[test]
fn rule_ac3_a_key_the_server_does_not_know_is_refused_and_the_ca_is_never_asked_to_validate() {
    need_servers!();
    let env = Env::new();
    let bind = Bind::start();
    let _p = pebble_on(&env, &bind);
    let foreign = bind.foreign_key();
    let (code, e) = apply(&env, &bind, &foreign, &["refused.example.test"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-3")),
        "{e}"
    );
    let m = e["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("is key someone-else allowed to update zone example.test"),
        "{m}"
    );
    let secret = std::fs::read_to_string(&foreign).unwrap();
    assert!(!m.contains(secret.split('"').nth(3).unwrap()), "{m}");
    assert_eq!(env.json(&["list"]).1, serde_json::json!([]));
    // A damaged key file names its line and field.
    let bad = env.write("bad.key", "key \"k\" {\n algorithm hmac-md5;\n};\n");
    let (code, e) = apply(&env, &bind, &bad, &["refused.example.test"]);
    assert_eq!(code, 1, "{e}");
    let m = e["error"]["message"].as_str().unwrap();
    assert!(
        m.contains("--tsig-key-file") && m.contains("line 2: algorithm"),
        "{m}"
    );
}

#[test]
fn rule_ac5_an_order_the_ca_refuses_after_certdecks_check_ends_failed_with_the_problem() {
    need_servers!();
    let env = Env::new();
    // certdeck looks records up at a bind9 that has them; pebble's VA asks a DNS server that
    // does not: certdeck's check passes, the CA's validation fails.
    let bind = Bind::start();
    let p = Pebble::start(pebble::Options {
        validate: true,
        ..Default::default()
    });
    common::add_acme_account(&env, &p, "test");
    let resolver = bind.addr();
    let run = |args: &[&str]| env.json_with(args, &[("CERTDECK_RESOLVER", &resolver)]);
    let (code, o) = run(&[
        "apply",
        "--ca",
        "test",
        "--domain",
        "split.example.test",
        "--challenge",
        "dns-01",
        "--manual",
    ]);
    assert_eq!(code, 0, "{o}");
    let id = o["id"].as_str().unwrap().to_string();
    let name = o["records"][0]["name"].as_str().unwrap();
    let value = o["records"][0]["value"].as_str().unwrap();
    let key =
        certdeck::domain::tsig::parse_key_file(&std::fs::read_to_string(&bind.key_file).unwrap())
            .unwrap();
    let server: std::net::SocketAddr = bind.addr().parse().unwrap();
    let zone = certdeck::ca::acme::dns_update::find_zone(server, name).unwrap();
    certdeck::ca::acme::dns_update::update(server, &key, &zone, name, value, true).unwrap();
    let (code, e) = run(&["validate", &id]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-5")),
        "{e}"
    );
    let m = e["error"]["message"].as_str().unwrap();
    assert!(m.contains("the CA refused the order"), "{m}");
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["status"], "failed", "{shown}");
    assert!(
        shown["timeline"]
            .to_string()
            .contains("the CA refused the order"),
        "{shown}"
    );
    // It has left the queue and is no longer checked.
    let (code, e) = run(&["validate", &id]);
    assert_eq!(code, 1, "{e}");
}
