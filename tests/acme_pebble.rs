//! ACME against a real pebble on loopback (AC-1, AC-2, AC-3, AC-5): accounts with terms agreed, the
//! account key sealed, External Account Binding, http-01 orders validated by pebble for real, the
//! CA's problems shown with type and detail.
mod common;
use common::pebble::{self, Pebble};
use common::Env;

macro_rules! need_pebble {
    () => {
        if !pebble::installed() {
            eprintln!("skipped: pebble is not installed (scripts/test installs it)");
            return;
        }
    };
}

fn add(env: &Env, p: &Pebble, name: &str, extra: &[&str]) -> (i32, serde_json::Value) {
    common::acme_account_add(env, p, name, extra)
}

#[test]
fn rule_ac1_terms_are_shown_and_must_be_agreed_then_the_key_is_sealed() {
    need_pebble!();
    let p = Pebble::start(Default::default());
    let env = Env::new();
    let (code, e) = add(&env, &p, "test", &["--contact", "ops@example.com"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-1")),
        "{e}"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("--agree-tos")
            && e["error"]["message"].as_str().unwrap().contains("data:"),
        "pebble's terms URL is shown: {e}"
    );
    assert_eq!(
        env.json(&["acme", "account", "list"]).1,
        serde_json::json!([])
    );

    let (code, a) = add(
        &env,
        &p,
        "test",
        &["--contact", "ops@example.com", "--agree-tos"],
    );
    assert_eq!(code, 0, "{a}");
    assert_eq!(a["contacts"], serde_json::json!(["mailto:ops@example.com"]));
    assert!(
        a["account_url"].as_str().unwrap().contains("/my-account/"),
        "{a}"
    );
    assert_eq!(a["private_root"], true);
    let (_, list) = env.json(&["acme", "account", "list"]);
    assert_eq!(list[0]["name"], "test");
    // The key is in the store, sealed: the credentials never appear in the file in clear.
    let store = env.open_store("test");
    let creds = store.acme_credentials("test").unwrap().expect("stored");
    let creds: serde_json::Value = serde_json::from_slice(&creds).unwrap();
    let key = creds["key_pkcs8"]
        .as_str()
        .expect("a PKCS#8 key")
        .to_string();
    drop(store);
    let file = std::fs::read(env.db()).unwrap();
    assert!(!file.windows(24).any(|w| w == &key.as_bytes()[..24]));
    // A second account of the same name is refused; rm forgets it.
    let (code, e) = add(&env, &p, "test", &["--agree-tos"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-1")),
        "{e}"
    );
    assert_eq!(env.json(&["acme", "account", "rm", "test"]).0, 0);
    assert_eq!(
        env.json(&["acme", "account", "list"]).1,
        serde_json::json!([])
    );
}

#[test]
fn rule_ac1_external_account_binding_when_the_directory_requires_it() {
    need_pebble!();
    // 32 bytes, unpadded base64url (pebble refuses padding).
    let hmac = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W";
    let p = Pebble::start(pebble::Options {
        eab: vec![("kid-1".into(), hmac.into())],
        ..Default::default()
    });
    let env = Env::new();
    let (code, e) = add(&env, &p, "eab", &["--agree-tos"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-1")),
        "{e}"
    );
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("requires External Account Binding"));
    let file = env.write("hmac", hmac);
    let (code, a) = add(
        &env,
        &p,
        "eab",
        &[
            "--agree-tos",
            "--eab-kid",
            "kid-1",
            "--eab-hmac-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{a}");
    assert_eq!(a["eab_kid"], "kid-1");
    // A key id the CA does not know: its problem, with type and detail (AC-5).
    let (code, e) = add(
        &env,
        &p,
        "eab2",
        &[
            "--agree-tos",
            "--eab-kid",
            "kid-9",
            "--eab-hmac-file",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-5")),
        "{e}"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unauthorized")
            || e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("malformed"),
        "{e}"
    );
}

#[test]
fn rule_ac5_an_unreachable_directory_is_said_and_nothing_is_stored() {
    let env = Env::new();
    // A port nobody listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("https://127.0.0.1:{port}/dir");
    let (code, e) = env.json(&[
        "acme",
        "account",
        "add",
        "x",
        "--directory",
        &url,
        "--agree-tos",
    ]);
    assert_eq!(code, 3, "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains(&url),
        "{e}"
    );
    assert_eq!(
        env.json(&["acme", "account", "list"]).1,
        serde_json::json!([])
    );
}

/// An account on a pebble that validates for real.
fn validating_pebble(env: &Env) -> Pebble {
    let p = Pebble::start(pebble::Options {
        validate: true,
        ..Default::default()
    });
    let (code, a) = add(env, &p, "test", &["--agree-tos"]);
    assert_eq!(code, 0, "{a}");
    p
}

fn apply(env: &Env, p: &Pebble, extra: &[&str]) -> (i32, serde_json::Value) {
    let mut args = vec!["apply", "--ca", "test"];
    args.extend_from_slice(extra);
    args.push("--json");
    let out = env
        .command()
        .args(&args)
        // certdeck's own check of the token (AC-3) goes where pebble's VA goes.
        .env(
            "CERTDECK_VALIDATION_HTTP",
            format!("127.0.0.1:{}", p.http_port),
        )
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        )
    });
    (out.status.code().unwrap(), v)
}

#[test]
fn rule_ac3_http01_through_the_built_in_listener_is_validated_by_pebble_and_issued() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let listen = format!("127.0.0.1:{}", p.http_port);
    let (code, c) = apply(
        &env,
        &p,
        &[
            "--domain",
            "shop.example.test",
            "--san",
            "www.example.test",
            "--http-listen",
            &listen,
            "--tag",
            "env=prod",
            "--project",
            "shop",
        ],
    );
    assert_eq!(code, 0, "{c}");
    assert_eq!(c["tags"], serde_json::json!({"env": "prod"}), "{c}");
    // Renewed by hand: ordered again from its CA the same way, no fee (AC-4).
    let out = env
        .command()
        .args(["renew", c["id"].as_str().unwrap(), "--json"])
        .env(
            "CERTDECK_VALIDATION_HTTP",
            format!("127.0.0.1:{}", p.http_port),
        )
        .output()
        .unwrap();
    let r: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{r}");
    assert_eq!(r["renewed_from"], c["id"], "{r}");
    assert_eq!(r["status"], "issued", "{r}");
    assert_eq!(r["domains"], c["domains"], "{r}");
    assert_ne!(r["id"], c["id"]);
    // It has handed its renewal on: a second one is refused.
    let (code, e) = env.json(&["renew", c["id"].as_str().unwrap()]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-4")),
        "{e}"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("renewed already"),
        "{e}"
    );
    assert_eq!(env.json(&["account"]).1["balance"], "0.00", "no fee taken");
    assert_eq!(c["project"], "shop");
    assert_eq!(c["source"], "issued");
    assert_eq!(c["status"], "issued");
    assert_eq!(c["ca"], "test");
    assert_eq!(
        c["brand"],
        format!(
            "localhost:{}",
            p.directory
                .split(':')
                .nth(2)
                .unwrap()
                .split('/')
                .next()
                .unwrap()
        )
    );
    assert_eq!(
        c["domains"],
        serde_json::json!(["shop.example.test", "www.example.test"])
    );
    let id = c["id"].as_str().unwrap();
    let (_, shown) = env.json(&["show", id]);
    assert_eq!(shown["ca"], "test", "{shown}");
    assert!(shown["timeline"][0]["message"]
        .as_str()
        .unwrap()
        .contains("through ACME account test"));
    // The key is stored sealed and belongs to the certificate: export writes a matching pair.
    let (code, e) = common::export_pem(&env, id);
    assert_eq!(code, 0, "{e}");
}

#[test]
fn rule_ac3_http01_through_a_webroot_and_the_files_are_removed_afterwards() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let webroot = env.path("www");
    std::fs::create_dir_all(&webroot).unwrap();
    // A real nginx serves the webroot on pebble's http port.
    let server = common::nginx::Nginx::serve_webroot(&env.path("nginx"), &webroot, p.http_port);
    let (code, c) = apply(
        &env,
        &p,
        &[
            "--domain",
            "files.example.test",
            "--webroot",
            webroot.to_str().unwrap(),
        ],
    );
    assert_eq!(code, 0, "{c}");
    let left: Vec<_> = std::fs::read_dir(webroot.join(".well-known/acme-challenge"))
        .unwrap()
        .collect();
    assert!(left.is_empty(), "token files are removed: {left:?}");
    drop(server);
}

#[test]
fn rule_ac3_a_token_certdeck_cannot_see_is_never_sent_to_the_ca() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    // Tokens go into a webroot nothing serves: the own check fails and the CA is not asked.
    let webroot = env.path("unserved");
    std::fs::create_dir_all(&webroot).unwrap();
    let (code, e) = apply(
        &env,
        &p,
        &[
            "--domain",
            "dark.example.test",
            "--webroot",
            webroot.to_str().unwrap(),
        ],
    );
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-3")),
        "{e}"
    );
    assert!(
        e["error"]["message"].as_str().unwrap().contains("AC-3"),
        "{e}"
    );
    assert_eq!(
        env.json(&["list"]).1,
        serde_json::json!([]),
        "nothing stored"
    );
}

#[test]
fn rule_ac2_wildcards_need_dns01_and_an_unknown_account_is_named() {
    let env = Env::new();
    let (code, e) = env.json(&[
        "apply",
        "--ca",
        "nobody",
        "--domain",
        "a.example.test",
        "--http-listen",
        "127.0.0.1:1",
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-2")),
        "{e}"
    );
    assert!(e["error"]["message"]
        .as_str()
        .unwrap()
        .contains("no ACME account named nobody"));
    let (code, e) = env.json(&[
        "apply",
        "--ca",
        "nobody",
        "--domain",
        "*.example.test",
        "--http-listen",
        "127.0.0.1:1",
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-2")),
        "{e}"
    );
    assert!(e["error"]["message"].as_str().unwrap().contains("dns-01"));
}

#[test]
fn rule_ac6_revocation_asks_the_ca_and_the_record_follows() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let listen = format!("127.0.0.1:{}", p.http_port);
    let (code, c) = apply(
        &env,
        &p,
        &["--domain", "gone.example.test", "--http-listen", &listen],
    );
    assert_eq!(code, 0, "{c}");
    let id = c["id"].as_str().unwrap().to_string();
    let serial = c["serial"]
        .as_str()
        .unwrap()
        .replace(':', "")
        .to_lowercase();
    // RV-2: confirmation first.
    let (code, e) = env.json(&["revoke", &id, "--reason", "superseded"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-2")),
        "{e}"
    );
    let (code, r) = env.json(&["revoke", &id, "--reason", "superseded", "--yes"]);
    assert_eq!(code, 0, "{r}");
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["status"], "revoked", "{shown}");
    // The CA says so too: pebble's management interface.
    let status = certdeck::ca::acme::get_json(
        &format!("{}/cert-status-by-serial/{serial}", p.management),
        Some(&std::fs::read_to_string(&p.root_pem).unwrap()),
    )
    .unwrap()
    .0;
    assert_eq!(status["Status"], "Revoked", "{status}");
    assert_eq!(status["Reason"], 4, "superseded");
    // RV-2: no second revocation, no download; RV-7: it can be deleted.
    let (code, e) = env.json(&["revoke", &id, "--reason", "superseded", "--yes"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-2")),
        "{e}"
    );
    let out = env.path("out");
    let (code, e) = env.json(&["export", &id, "--out", out.to_str().unwrap()]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-2")),
        "{e}"
    );
    // The account that issued a stored certificate is not forgotten without --force.
    let (code, e) = env.json(&["acme", "account", "rm", "test"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("AC-6")),
        "{e}"
    );
    assert!(e["error"]["message"].as_str().unwrap().contains(&id), "{e}");
    assert_eq!(env.json(&["delete", &id, "--yes"]).0, 0);
    assert_eq!(
        env.json(&["acme", "account", "rm", "test"]).0,
        0,
        "free once deleted"
    );
}

#[test]
fn rule_ac5_a_dry_run_validates_and_issues_but_stores_nothing() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let listen = format!("127.0.0.1:{}", p.http_port);
    let (code, d) = apply(
        &env,
        &p,
        &[
            "--domain",
            "try.example.test",
            "--http-listen",
            &listen,
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "{d}");
    assert_eq!(
        (d["dry_run"].as_bool(), d["stored"].as_bool()),
        (Some(true), Some(false))
    );
    assert_eq!(
        d["directory"],
        p.directory.as_str(),
        "pebble has no staging twin"
    );
    assert_eq!(d["domains"], serde_json::json!(["try.example.test"]));
    assert_eq!(
        env.json(&["list"]).1,
        serde_json::json!([]),
        "nothing stored"
    );
}

/// A DNS hook that sets and clears TXT records in pebble-challtestsrv (what a real hook does with
/// a DNS provider's API), logging each call's environment.
fn dns_hook(env: &Env, p: &Pebble) -> (String, std::path::PathBuf) {
    let log = env.path("hook.log");
    let script = env.write(
        "hook.py",
        format!(
            r#"import json, os, urllib.request
action = os.environ["CERTDECK_DNS_ACTION"]
name = os.environ["CERTDECK_DNS_NAME"]
with open({log:?}, "a") as f:
    f.write("%s %s %s %s\n" % (action, name, os.environ["CERTDECK_DNS_VALUE"], os.environ["CERTDECK_DNS_DOMAIN"]))
body = {{"host": name + "."}}
if action == "add":
    body["value"] = os.environ["CERTDECK_DNS_VALUE"]
path = "/set-txt" if action == "add" else "/clear-txt"
urllib.request.urlopen(urllib.request.Request("{mgmt}" + path, data=json.dumps(body).encode()), timeout=5)
"#,
            log = log.to_str().unwrap(),
            mgmt = p.dns_management.as_ref().unwrap(),
        ),
    );
    (format!("python3 {}", script.display()), log)
}

#[test]
fn rule_ac3_dns01_through_a_hook_with_a_wildcard_and_the_records_are_removed() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let (hook, log) = dns_hook(&env, &p);
    let out = env
        .command()
        .args([
            "apply",
            "--ca",
            "test",
            "--domain",
            "*.wild.example.test",
            "--san",
            "wild.example.test",
            "--challenge",
            "dns-01",
            "--dns-hook",
            &hook,
            "--json",
        ])
        .env("CERTDECK_RESOLVER", p.dns_addr.as_ref().unwrap())
        .output()
        .unwrap();
    let c: serde_json::Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(out.status.code(), Some(0), "{c}");
    assert_eq!(
        c["domains"],
        serde_json::json!(["*.wild.example.test", "wild.example.test"])
    );
    let calls = std::fs::read_to_string(&log).unwrap();
    let adds = calls
        .lines()
        .filter(|l| l.starts_with("add _acme-challenge.wild.example.test "))
        .count();
    let removes = calls
        .lines()
        .filter(|l| l.starts_with("remove _acme-challenge.wild.example.test "))
        .count();
    // Two authorizations (the wildcard and the name) share one record name, each with its value.
    assert_eq!((adds, removes), (2, 2), "{calls}");
    assert!(
        calls.lines().all(|l| l.ends_with(" wild.example.test")),
        "{calls}"
    );
}

#[test]
fn rule_ac3_a_txt_record_certdeck_cannot_see_is_never_sent_to_the_ca() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    // A hook that says yes but adds nothing: certdeck looks for the record (2 s here) and never
    // tells the CA.
    let e = env
        .command()
        .args([
            "apply",
            "--ca",
            "test",
            "--domain",
            "quiet.example.test",
            "--challenge",
            "dns-01",
            "--dns-hook",
            "true",
            "--dns-wait",
            "2",
            "--json",
        ])
        .env("CERTDECK_RESOLVER", p.dns_addr.as_ref().unwrap())
        .output()
        .unwrap();
    let e: serde_json::Value = serde_json::from_slice(&e.stdout).unwrap();
    assert_eq!(e["error"]["rule"], "AC-3", "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("dns-01 TXT record"),
        "{e}"
    );
}
