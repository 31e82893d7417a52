//! AC-2, AC-3 dns-01 by hand against a validating pebble: the order stays open with its TXT
//! records and the CA's real deadline (the authorization's `expires`); a check before the
//! records exist tells the CA nothing; once the user adds them, `certdeck validate` (and `c` in
//! the TUI's Validation queue) sees them, tells the CA, and the certificate is issued.
mod common;
use common::pebble::{self, Pebble};
use common::tmux::Tmux;
use common::Env;
use std::io::{Read, Write};

macro_rules! need_pebble {
    () => {
        if !pebble::installed() {
            eprintln!("skipped: pebble is not installed (scripts/test installs it)");
            return;
        }
    };
}

fn validating_pebble(env: &Env) -> Pebble {
    let p = Pebble::start(pebble::Options {
        validate: true,
        ..Default::default()
    });
    common::add_acme_account(env, &p, "test");
    p
}

/// What a user does at their DNS provider: the TXT record, added in challtestsrv.
fn add_txt(p: &Pebble, name: &str, value: &str) {
    let mgmt = p.dns_management.as_ref().unwrap();
    let addr = mgmt.trim_start_matches("http://");
    let body = serde_json::json!({"host": format!("{name}."), "value": value}).to_string();
    let mut s = std::net::TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    write!(
        s,
        "POST /set-txt HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 200"), "{out}");
}

fn run(env: &Env, p: &Pebble, args: &[&str]) -> (i32, serde_json::Value) {
    env.json_with(
        args,
        &[("CERTDECK_RESOLVER", p.dns_addr.as_deref().unwrap())],
    )
}

fn place(
    env: &Env,
    p: &Pebble,
    domain: &str,
) -> (String, Vec<(String, String)>, serde_json::Value) {
    let (code, o) = run(
        env,
        p,
        &[
            "apply",
            "--ca",
            "test",
            "--domain",
            domain,
            "--challenge",
            "dns-01",
            "--manual",
        ],
    );
    assert_eq!(code, 0, "{o}");
    let records = o["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["value"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    (o["id"].as_str().unwrap().to_string(), records, o)
}

#[test]
fn rule_ac3_dns01_by_hand_waits_for_the_records_then_the_check_tells_the_ca_and_it_is_issued() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let (id, records, o) = place(&env, &p, "hand.example.test");
    assert_eq!(o["status"], "validating", "{o}");
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, "_acme-challenge.hand.example.test");
    // AC-2: the deadline is the authorization's own (pebble: an hour from now).
    let deadline = chrono::DateTime::parse_from_rfc3339(o["deadline"].as_str().unwrap()).unwrap();
    let left = deadline.with_timezone(&chrono::Utc) - chrono::Utc::now();
    assert!(
        left > chrono::Duration::minutes(50) && left <= chrono::Duration::minutes(61),
        "{o}"
    );
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["order"]["deadline"], o["deadline"], "{shown}");

    // Not there yet: nothing is asked of the CA.
    let (code, v) = run(&env, &p, &["validate", &id]);
    assert_eq!(code, 1, "{v}");
    assert_eq!(v["validated"], false);
    assert_eq!(v["results"][0]["code"], "record_missing", "{v}");

    add_txt(&p, &records[0].0, &records[0].1);
    let (code, v) = run(&env, &p, &["validate", &id]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["status"], "issued", "{v}");
    assert_eq!(v["validated"], true);
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["ca"], "test");
    assert_eq!(
        shown["renewal"]["challenge"],
        "dns-01, records added by hand"
    );
    assert!(
        shown["timeline"]
            .to_string()
            .contains("every TXT record seen"),
        "{shown}"
    );
    // The key was generated and sealed with it.
    let (code, e) = common::export_pem(&env, &id);
    assert_eq!(code, 0, "{e}");
}

#[test]
fn rule_ac3_the_tui_validation_queue_shows_the_record_and_c_checks_it() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let (id, records, _) = place(&env, &p, "queue.example.test");
    let tmux = Tmux::start_with(
        &env,
        "manual",
        &[("CERTDECK_RESOLVER", p.dns_addr.as_deref().unwrap())],
    );
    tmux.wait_for(&id);
    tmux.keys(&["2"]);
    let screen = tmux.wait_for("_acme-challenge.queue.example.test");
    assert!(screen.contains(&records[0].1[..20]), "{screen}");
    // Checked before the record exists: not yet, and the order stays open.
    tmux.keys(&["c"]);
    tmux.wait_for("RecordMissing");
    add_txt(&p, &records[0].0, &records[0].1);
    tmux.keys(&["c"]);
    tmux.wait_for("every TXT record seen");
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED:0");
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["status"], "issued", "{shown}");
}

#[test]
fn rule_ac4_a_certificate_ordered_by_hand_renews_into_an_open_order_in_the_queue() {
    need_pebble!();
    let env = Env::new();
    let p = Pebble::start(pebble::Options {
        validate: true,
        // Ten minutes: it renews at half (5 min), while the CA's authorizations (an hour, in
        // real time) are still open.
        validity_secs: Some(600),
        ..Default::default()
    });
    common::add_acme_account(&env, &p, "test");
    let (id, records, _) = place(&env, &p, "again.example.test");
    add_txt(&p, &records[0].0, &records[0].1);
    let (code, v) = run(&env, &p, &["validate", &id]);
    assert_eq!(code, 0, "{v}");
    // Six minutes into its life (however long the steps above took), the tick places the
    // renewal order; it waits for its record.
    let (_, issued) = env.json(&["show", &id]);
    let nb = chrono::DateTime::parse_from_rfc3339(issued["not_before"].as_str().unwrap()).unwrap();
    let at = (nb + chrono::Duration::minutes(6)).to_rfc3339();
    let (_, t) = run(&env, &p, &["tick", "--now", &at]);
    if t["fired"].to_string().contains("renewed by") {
        // Pebble (2.4) now and then hands the new order the authorization validated minutes
        // ago, despite PEBBLE_AUTHZREUSE=0: then nothing waits and the renewal completes at
        // once, which is right for such a CA. The queue is not exercised this run.
        eprintln!("the CA reused the valid authorization: renewed at once: {t}");
        return;
    }
    assert!(
        t["fired"]
            .to_string()
            .contains("waiting for its TXT records"),
        "tick at {at}: {t}\nthe certificate then: {}",
        env.json(&["show", &id]).1
    );
    let (_, list) = env.json(&["list"]);
    let new = list
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] != id.as_str())
        .expect("the renewal order")["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, shown) = env.json(&["show", &new]);
    assert_eq!(shown["status"], "validating", "{shown}");
    assert_eq!(shown["renewed_from"], id.as_str());
    let name = shown["order"]["challenges"][0]["name"]
        .as_str()
        .unwrap()
        .to_string();
    let value = shown["order"]["challenges"][0]["value"]
        .as_str()
        .unwrap()
        .to_string();
    add_txt(&p, &name, &value);
    // The next tick sees the record and finishes the order; nobody has to come back (AC-3).
    let (_, t) = run(&env, &p, &["tick", "--now", &at]);
    assert!(
        t["fired"].to_string().contains("every TXT record seen"),
        "{t}"
    );
    let (_, v) = env.json(&["show", &new]);
    assert_eq!(v["status"], "issued", "{v}");
    let (_, old) = env.json(&["show", &id]);
    assert!(
        old["timeline"]
            .to_string()
            .contains(&format!("renewal order {new} placed")),
        "{old}"
    );
    assert_eq!(old["renewal"], serde_json::Value::Null, "{old}");
}

#[test]
fn rule_ac2_the_tui_order_form_offers_the_acme_account_and_the_order_lands_in_the_queue() {
    need_pebble!();
    let env = Env::new();
    let p = validating_pebble(&env);
    let tmux = Tmux::start_with(
        &env,
        "form",
        &[("CERTDECK_RESOLVER", p.dns_addr.as_deref().unwrap())],
    );
    tmux.wait_for("1 Certificates");
    tmux.keys(&["a"]);
    tmux.wait_for("Order a certificate");
    tmux.keys(&["form.example.test", "Tab", "Tab", "Left"]);
    // The product list ends with the ACME accounts.
    tmux.wait_for("ACME: test");
    tmux.wait_for("no fee");
    tmux.keys(&["C-s"]);
    let screen = tmux.wait_for("ordered \"form.example.test\"");
    assert!(screen.contains("validating"), "{screen}");
    tmux.keys(&["2"]);
    tmux.wait_for("_acme-challenge.form.example.test");
    tmux.keys(&["q"]);
    tmux.wait_for("EXITED:0");
    let (_, list) = env.json(&["list"]);
    assert_eq!(list[0]["status"], "validating", "{list}");
    assert_eq!(list[0]["source"], "issued", "{list}");
}
