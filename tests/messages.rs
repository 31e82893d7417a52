//! The message center: messages raised in the transaction of the rule that sends them, read and
//! marked read from the CLI; IG-2 keeps an ignored certificate's expiry quiet.
mod common;
use certdeck::ca::pki::KeyKind;
use common::{Env, Pki};

fn at(days: f64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds((days * 86_400.0) as i64)).to_rfc3339()
}

#[test]
fn rule_ig2_expiry_raises_a_message_unless_the_certificate_is_ignored() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let import = |name: &str| {
        let leaf = pki.leaf(&[&format!("{name}.example.com")], 10);
        let (code, v) = env.import(
            &env.write(&format!("{name}.pem"), pki.full_chain(&leaf)),
            Some(&env.write(&format!("{name}.key"), &leaf.key_pem)),
            &["--name", name],
        );
        assert_eq!(code, 0, "{v}");
        v["id"].as_str().unwrap().to_string()
    };
    let loud = import("loud");
    let quiet = import("quiet");
    assert_eq!(env.json(&["ignore", &quiet]).0, 0);
    let (_, t) = env.json(&["tick", "--now", &at(11.0)]);
    assert_eq!(t["fired"].as_array().unwrap().len(), 2, "{t}");
    let (code, m) = env.json(&["messages"]);
    assert_eq!(code, 0, "{m}");
    let list = m["messages"].as_array().unwrap();
    assert_eq!(list.len(), 1, "{m}");
    assert_eq!(list[0]["cert_id"], loud.as_str());
    assert_eq!(
        (list[0]["kind"].as_str(), list[0]["severity"].as_str()),
        (Some("expired"), Some("critical"))
    );
    assert_eq!(m["unread"], 1);
}

#[test]
fn rule_messages_are_raised_by_orders_and_hostings_and_marked_read() {
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    env.json(&["zones", "add", "example.com"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "shop.example.com",
        "--product",
        "dnspod-dv",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    env.json(&["tick", "--now", &at(4.0)]);
    // A hosting that cannot run: its renewal does not exist at the replacement time.
    let dir = env.path("web");
    std::fs::create_dir_all(&dir).unwrap();
    env.json(&[
        "resource",
        "add",
        "web",
        "--preset",
        "nginx",
        "--dir",
        dir.to_str().unwrap(),
        "--check",
        "none",
        "--reload",
        "none",
    ]);
    assert_eq!(env.json(&["deploy", &id, "web", "--now", &at(4.0)]).0, 0);
    let (code, h) = env.json(&["hosting", "add", &id, "--days", "10", "--now", &at(4.0)]);
    assert_eq!(code, 0, "{h}");
    env.json(&["tick", "--now", h["replace_at"].as_str().unwrap()]);
    let (_, m) = env.json(&["messages"]);
    let kinds: Vec<&str> = m["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|x| x["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["hosting_failed", "hosting", "issued"],
        "newest first: {m}"
    );
    assert_eq!(m["unread"], 3);
    let first = m["messages"][0]["id"].as_u64().unwrap();
    let (_, m) = env.json(&["messages", "read", &first.to_string()]);
    assert_eq!(m["unread"], 2, "{m}");
    let (_, m) = env.json(&["messages", "--unread"]);
    assert_eq!(m["messages"].as_array().unwrap().len(), 2, "{m}");
    // Filtered in the store: by kind, by severity, by words of the text, over unread ones too.
    let kinds_of = |args: &[&str]| -> Vec<String> {
        let (_, m) = env.json(args);
        m["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| x["kind"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(
        kinds_of(&["messages", "--matching", "HOSTING"]),
        ["hosting_failed", "hosting"]
    );
    assert_eq!(
        kinds_of(&["messages", "--matching", "critical"]),
        ["hosting_failed"]
    );
    assert_eq!(
        kinds_of(&["messages", "--unread", "--matching", "hosting"]),
        ["hosting"],
        "the read one is left out"
    );
    assert!(kinds_of(&["messages", "--matching", "no such words"]).is_empty());
    let (_, m) = env.json(&["messages", "read", "--all"]);
    assert_eq!(m["unread"], 0, "{m}");
    // H-6: a hosting added with --quiet raises none.
    let (code, h) = env.json(&[
        "hosting",
        "add",
        &id,
        "--days",
        "9",
        "--quiet",
        "--now",
        &at(4.0),
    ]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(env.json(&["messages"]).1["unread"], 0);
}

#[test]
fn rule_ig2_an_expiry_is_raised_once_even_after_ignore_and_unignore() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["once.example.com"], 10);
    let (code, v) = env.import(
        &env.write("once.pem", pki.full_chain(&leaf)),
        Some(&env.write("once.key", &leaf.key_pem)),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let later = at(11.0);
    let (_, t) = env.json(&["tick", "--now", &later]);
    assert_eq!(t["fired"][0]["kind"], "expiry", "{t}");
    // Rewriting the record (ignore, then un-ignore) must not raise its expiry again.
    assert_eq!(env.json(&["ignore", &id, "--now", &later]).0, 0);
    assert_eq!(env.json(&["unignore", &id, "--now", &later]).0, 0);
    let (_, t) = env.json(&["tick", "--now", &at(12.0)]);
    assert!(t["fired"].as_array().unwrap().is_empty(), "{t}");
    let expired_messages = env.json(&["messages", "--now", &at(12.0)]).1["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "expired")
        .count();
    assert_eq!(expired_messages, 1);
    let shown = env.json(&["show", &id, "--now", &at(12.0)]).1;
    let expired_events = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "expired")
        .count();
    assert_eq!(expired_events, 1, "{shown}");
}
