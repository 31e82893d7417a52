//! ACME accounts against a real pebble on loopback (AC-1, AC-5): terms agreed explicitly, the
//! account key sealed, External Account Binding, the CA's problems shown with type and detail.
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
    let mut args = vec![
        "acme",
        "account",
        "add",
        name,
        "--directory",
        &p.directory,
        "--root",
        p.root_pem.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    env.json(&args)
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
    let store = certdeck::store::Store::open(&env.db(), &env.key_file(), "test").unwrap();
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
