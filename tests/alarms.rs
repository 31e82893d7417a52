//! Expiry alarms end to end through the CLI with `--now`: AL-1 policies, AL-2 evaluation every
//! period, IG-2, deliveries through a real loopback webhook that fails twice (signature checked,
//! delivered once by idempotency key), a command channel fired every N periods, and a delivery
//! that survives `kill -9` between the firing and the send.
mod common;
use certdeck::ca::pki::KeyKind;
use common::smtp::Smtpd;
use common::{Env, Pki};
use std::io::{BufRead, BufReader, Read, Write};
use std::sync::{Arc, Mutex};

fn at(secs: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds(secs)).to_rfc3339()
}

fn import(env: &Env, pki: &Pki, name: &str, days: i64) -> String {
    let leaf = pki.leaf(&[&format!("{name}.example.com")], days);
    let (code, v) = env.import(
        &env.write(&format!("{name}.pem"), pki.full_chain(&leaf)),
        Some(&env.write(&format!("{name}.key"), &leaf.key_pem)),
        &["--name", name],
    );
    assert_eq!(code, 0, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[derive(Default)]
struct Seen {
    requests: Vec<(String, String, bool)>,
    accepted: Vec<String>,
}

/// A webhook receiver on loopback: answers 500 to the first `fail` requests, then 200, checking
/// each signature and keeping each accepted idempotency key once.
fn receiver(secret: &'static str, fail: usize, max: usize) -> (u16, Arc<Mutex<Seen>>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Seen::default()));
    let s = seen.clone();
    std::thread::spawn(move || {
        for (n, stream) in listener.incoming().take(max).enumerate() {
            let mut stream = stream.unwrap();
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let (mut len, mut key, mut sig) = (0usize, String::new(), String::new());
            loop {
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let line = line.trim_end();
                if line.is_empty() {
                    break;
                }
                if let Some((k, v)) = line.split_once(": ") {
                    match k.to_ascii_lowercase().as_str() {
                        "content-length" => len = v.parse().unwrap(),
                        "idempotency-key" => key = v.to_string(),
                        "x-certdeck-signature" => sig = v.to_string(),
                        _ => {}
                    }
                }
            }
            let mut body = vec![0; len];
            reader.read_exact(&mut body).unwrap();
            let good = sig == format!("sha256={}", certdeck::notify::signature(secret, &body));
            let mut seen = s.lock().unwrap();
            seen.requests
                .push((key.clone(), String::from_utf8_lossy(&body).into(), good));
            let status = if n < fail {
                "500 Internal Server Error"
            } else {
                "200 OK"
            };
            if n >= fail && good && !seen.accepted.contains(&key) {
                seen.accepted.push(key);
            }
            drop(seen);
            let _ = stream
                .write_all(format!("HTTP/1.1 {status}\r\nContent-Length: 0\r\n\r\n").as_bytes());
        }
    });
    (port, seen)
}

#[test]
fn rule_al2_a_webhook_that_fails_twice_is_retried_and_delivered_once_signed() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let soon = import(&env, &pki, "soon", 10);
    let quiet = import(&env, &pki, "quiet", 5);
    import(&env, &pki, "later", 40);
    assert_eq!(env.json(&["ignore", &quiet]).0, 0);
    let (port, seen) = receiver("hook-secret", 2, 3);
    let secret = env.write("secret", "hook-secret\n");
    let (code, p) = env.json(&[
        "alarm",
        "add",
        "expiring",
        "--webhook",
        &format!("http://127.0.0.1:{port}/hook"),
        "--secret-file",
        secret.to_str().unwrap(),
        "--now",
        &at(0),
    ]);
    assert_eq!(code, 0, "{p}");
    assert_eq!(
        (p["threshold_days"].as_i64(), p["period_secs"].as_i64()),
        (Some(30), Some(60)),
        "AL-1 defaults"
    );
    // Which certificates would fire: not the ignored one (IG-2), not the one 40 days out.
    let (_, t) = env.json(&["alarm", "test", "expiring", "--now", &at(0)]);
    let ids: Vec<&str> = t["certificates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [soon.as_str()], "{t}");
    // The firing and its first try; then retries after the backoff.
    let (_, r) = env.json(&["tick", "--now", &at(1)]);
    assert!(r.to_string().contains("fired for 1 certificate"), "{r}");
    let (_, o) = env.json(&["outbox"]);
    assert_eq!(
        (
            o["deliveries"][0]["state"].as_str(),
            o["deliveries"][0]["attempts"].as_u64()
        ),
        (Some("pending"), Some(1)),
        "{o}"
    );
    assert!(
        o["deliveries"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("HTTP 500"),
        "{o}"
    );
    env.json(&["tick", "--now", &at(40)]);
    env.json(&["tick", "--now", &at(110)]);
    let (_, o) = env.json(&["outbox"]);
    assert_eq!(
        (
            o["deliveries"][0]["state"].as_str(),
            o["deliveries"][0]["attempts"].as_u64()
        ),
        (Some("delivered"), Some(3)),
        "{o}"
    );
    // More ticks send nothing more, and the policy fires once per certificate.
    env.json(&["tick", "--now", &at(400)]);
    let seen = seen.lock().unwrap();
    assert_eq!(seen.requests.len(), 3, "three tries");
    assert!(
        seen.requests.iter().all(|(_, _, good)| *good),
        "every try was signed"
    );
    let keys: Vec<&String> = seen.requests.iter().map(|(k, _, _)| k).collect();
    assert!(
        keys.iter().all(|k| *k == keys[0]),
        "one idempotency key for the retries"
    );
    assert_eq!(seen.accepted.len(), 1, "the receiver saw it once");
    let body: serde_json::Value = serde_json::from_str(&seen.requests[2].1).unwrap();
    assert_eq!(body["cert_id"], soon.as_str());
    assert_eq!(body["days_left"], 9);
    let (_, m) = env.json(&["messages"]);
    assert!(m.to_string().contains("alarm \\\"expiring\\\""), "{m}");
    // The policy counts its firings; an edit keeps its recipients and changes what was given.
    let (_, l) = env.json(&["alarm", "list"]);
    assert_eq!(l["policies"][0]["firings"], 1, "{l}");
    assert!(l["policies"][0]["last_evaluated"].is_string(), "{l}");
    let (code, e) = env.json(&[
        "alarm",
        "edit",
        "expiring",
        "--threshold",
        "5",
        "--now",
        &at(500),
    ]);
    assert_eq!(code, 0, "{e}");
    assert_eq!(
        (
            e["threshold_days"].as_i64(),
            e["recipients"].as_array().unwrap().len()
        ),
        (Some(5), 1),
        "{e}"
    );
    let (_, t) = env.json(&["alarm", "test", "expiring", "--now", &at(500)]);
    assert_eq!(
        t["certificates"].as_array().unwrap().len(),
        0,
        "9 days left > 5: {t}"
    );
}

#[test]
fn rule_al1_every_n_periods_through_a_command_channel_and_a_kill_between_firing_and_sending() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let id = import(&env, &pki, "soon", 30);
    let out = env.path("events.jsonl");
    let cmd = format!(
        "printf '%s ' \"$CERTDECK_CERT_ID\" >> {0}.ids; cat >> {0}; echo >> {0}",
        out.display()
    );
    let (code, p) = env.json(&[
        "alarm",
        "add",
        "every-two",
        "--every",
        "2",
        "--command",
        &cmd,
        "--now",
        &at(0),
    ]);
    assert_eq!(code, 0, "{p}");
    // The first evaluation fires; certdeck is killed before it sends.
    let mark = env.path("mark");
    let mut child = env
        .command()
        .args(["tick", "--now", &at(1)])
        .env("CERTDECK_DELIVERY_PAUSE", "1")
        .env("CERTDECK_DELIVERY_PAUSE_MARK", &mark)
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while !mark.exists() {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "the send was reached"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.kill().unwrap();
    child.wait().unwrap();
    assert!(!out.exists(), "nothing was sent before the kill");
    // The next run delivers what the killed one recorded.
    env.json(&["tick", "--now", &at(2)]);
    let lines = |p: &std::path::Path| {
        std::fs::read_to_string(p)
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert_eq!(lines(&out), 1);
    // Every 2 periods of 60 s: not at the next minute, again at the one after.
    env.json(&["tick", "--now", &at(62)]);
    assert_eq!(lines(&out), 1, "one period later: not yet");
    env.json(&["tick", "--now", &at(122)]);
    assert_eq!(lines(&out), 2, "two periods later: again");
    let event: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&out)
            .unwrap()
            .lines()
            .next()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(event["cert_id"], id.as_str());
    // A disabled policy is not evaluated; enabled again, it is, from then on.
    let (code, d) = env.json(&["alarm", "disable", "every-two", "--now", &at(125)]);
    assert_eq!((code, d["enabled"].as_bool()), (0, Some(false)), "{d}");
    env.json(&["tick", "--now", &at(250)]);
    assert_eq!(lines(&out), 2, "disabled: nothing");
    assert_eq!(
        env.json(&["alarm", "enable", "every-two", "--now", &at(250)])
            .0,
        0
    );
    env.json(&["tick", "--now", &at(251)]);
    assert_eq!(lines(&out), 3, "enabled again: fires");
    assert!(
        std::fs::read_to_string(format!("{}.ids", out.display()))
            .unwrap()
            .contains(&id),
        "CERTDECK_CERT_ID was set"
    );
    // A policy with a threshold below the days left does not fire (threshold exactly does).
    let (_, t) = env.json(&[
        "alarm",
        "add",
        "tight",
        "--threshold",
        "28",
        "--now",
        &at(0),
    ]);
    assert_eq!(t["threshold_days"], 28);
    let (_, t) = env.json(&["alarm", "test", "tight", "--now", &at(0)]);
    assert_eq!(
        t["certificates"].as_array().unwrap().len(),
        0,
        "29 days left > 28: {t}"
    );
    let (_, t) = env.json(&[
        "alarm",
        "add",
        "exact",
        "--threshold",
        "29",
        "--now",
        &at(0),
    ]);
    assert_eq!(t["threshold_days"], 29);
    let (_, t) = env.json(&["alarm", "test", "exact", "--now", &at(0)]);
    assert_eq!(
        t["certificates"].as_array().unwrap().len(),
        1,
        "29 days left <= 29: {t}"
    );
}

#[test]
fn rule_al2_email_reaches_a_real_smtp_server_on_loopback() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let id = import(&env, &pki, "mailme", 12);
    let maildir = env.path("mail");
    let smtpd = Smtpd::start(&maildir);
    let (code, p) = env.json(&[
        "alarm",
        "add",
        "by-mail",
        "--email",
        "ops@example.com",
        "--smtp",
        &format!("127.0.0.1:{}", smtpd.port),
        "--smtp-security",
        "none",
        "--smtp-from",
        "certdeck@example.com",
        "--now",
        &at(0),
    ]);
    assert_eq!(code, 0, "{p}");
    env.json(&["tick", "--now", &at(1)]);
    let (_, o) = env.json(&["outbox"]);
    assert_eq!(o["deliveries"][0]["state"], "delivered", "{o}");
    let mails: Vec<_> = std::fs::read_dir(maildir.join("new"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(mails.len(), 1, "one mail");
    let mail = std::fs::read_to_string(&mails[0]).unwrap();
    assert!(mail.contains("To: ops@example.com"), "{mail}");
    assert!(
        mail.contains("Subject: [certdeck] alarm \"by-mail\""),
        "{mail}"
    );
    assert!(mail.contains(&id), "{mail}");
    let key = o["deliveries"][0]["idempotency_key"].as_str().unwrap();
    assert!(
        mail.contains(&format!("<{key}@certdeck>")),
        "the Message-ID carries the key: {mail}"
    );
    // A server that is gone: the delivery waits with the error, it is not lost.
    drop(smtpd);
    let (code, p) = env.json(&[
        "alarm",
        "add",
        "by-mail-2",
        "--email",
        "ops@example.com",
        "--smtp",
        "127.0.0.1:1",
        "--smtp-security",
        "none",
        "--now",
        &at(0),
    ]);
    assert_eq!(code, 0, "{p}");
    env.json(&["tick", "--now", &at(70)]);
    let (_, o) = env.json(&["outbox"]);
    assert_eq!(o["deliveries"][0]["state"], "pending", "{o}");
    assert!(
        o["deliveries"][0]["last_error"]
            .as_str()
            .unwrap()
            .contains("SMTP 127.0.0.1:1"),
        "{o}"
    );
}

#[test]
fn rule_al2_email_over_starttls_and_tls_trusts_the_given_ca_and_refuses_an_unknown_one() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    import(&env, &pki, "mailme", 12);
    let relay = pki.leaf(&["127.0.0.1", "localhost"], 30);
    let chain = env.write(
        "relay.pem",
        format!("{}{}", relay.cert_pem, pki.inter.pem()),
    );
    let key = env.write("relay.key", &relay.key_pem);
    let ca = env.write("ca.pem", pki.root.pem());
    let (chain, key, ca) = (
        chain.to_str().unwrap(),
        key.to_str().unwrap(),
        ca.to_str().unwrap(),
    );
    let starttls = Smtpd::start_with(
        &env.path("mail-starttls"),
        &["--tlscert", chain, "--tlskey", key],
    );
    let smtps = Smtpd::start_with(
        &env.path("mail-tls"),
        &["--smtpscert", chain, "--smtpskey", key],
    );
    let add = |name: &str, port: u16, security: &str, ca: Option<&str>| {
        let smtp = format!("127.0.0.1:{port}");
        let mut args = vec![
            "alarm",
            "add",
            name,
            "--email",
            "ops@example.com",
            "--smtp",
            &smtp,
            "--smtp-security",
            security,
        ];
        if let Some(ca) = ca {
            args.extend(["--smtp-ca", ca]);
        }
        let at0 = at(0);
        args.extend(["--now", &at0]);
        let (code, p) = env.json(&args);
        assert_eq!(code, 0, "{p}");
    };
    add("starttls", starttls.port, "starttls", Some(ca));
    add("tls", smtps.port, "tls", Some(ca));
    add("unknown-ca", starttls.port, "starttls", None);
    env.json(&["tick", "--now", &at(1)]);
    let (_, o) = env.json(&["outbox"]);
    let by_policy = |name: &str| {
        let (_, l) = env.json(&["alarm", "list"]);
        let id = l["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()["id"]
            .clone();
        o["deliveries"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["policy"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(by_policy("starttls")["state"], "delivered", "{o}");
    assert_eq!(by_policy("tls")["state"], "delivered", "{o}");
    let refused = by_policy("unknown-ca");
    assert_eq!(refused["state"], "pending", "{o}");
    let error = refused["last_error"].as_str().unwrap().to_lowercase();
    assert!(
        error.contains("certificate") || error.contains("issuer"),
        "{error}"
    );
    for dir in ["mail-starttls", "mail-tls"] {
        let mails = std::fs::read_dir(env.path(dir).join("new"))
            .unwrap()
            .count();
        assert_eq!(mails, 1, "{dir}: one mail");
    }
    // A CA file with a plain connection is refused: it would protect nothing.
    let (code, r) = env.json(&[
        "alarm",
        "add",
        "plain-ca",
        "--email",
        "ops@example.com",
        "--smtp-security",
        "none",
        "--smtp-ca",
        ca,
    ]);
    assert_eq!(
        (code, r["error"]["field"].as_str()),
        (1, Some("recipient")),
        "{r}"
    );
}

/// A webhook endpoint that takes connections and never answers.
fn stalled_endpoint() -> (u16, std::net::TcpListener) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    (listener.local_addr().unwrap().port(), listener)
}

#[test]
fn rule_al2_the_tui_sender_thread_delivers_while_a_dead_endpoint_times_out_beside_the_tick() {
    use certdeck::app::{Action, State};
    use certdeck::domain::delivery::DeliveryState;
    use certdeck::domain::rules::alarm::{
        AlarmInput, Channel, Frequency, Objects, Recipient, WebhookStyle,
    };
    use certdeck::domain::rules::upload::UploadInput;
    use certdeck::engine::{clock::ManualClock, Engine};
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let clock = Arc::new(ManualClock::new(chrono::Utc::now()));
    let engine = Arc::new(Engine::new(env.open_store("test"), clock.clone()));
    let mut state = State::default();
    let leaf = pki.leaf(&["soon.example.com"], 5);
    engine.dispatch(
        &mut state,
        Action::SubmitUpload(Box::new(UploadInput {
            cert: leaf.cert_pem.into_bytes(),
            key: Some(leaf.key_pem.into_bytes()),
            ..Default::default()
        })),
    );
    let (good_port, seen) = receiver("s", 0, 10);
    let (dead_port, _held) = stalled_endpoint();
    let hook = |port: u16, name: &str| Recipient {
        name: name.into(),
        group: None,
        channel: Channel::Webhook {
            url: format!("http://127.0.0.1:{port}/hook"),
            secret: Some("s".into()),
            style: WebhookStyle::Json,
        },
    };
    engine.dispatch(
        &mut state,
        Action::AddAlarm(Box::new(AlarmInput {
            name: "soon".into(),
            remarks: String::new(),
            project: None,
            objects: Objects::All,
            threshold_days: None,
            period_secs: None,
            frequency: Frequency::Once,
            // The dead endpoint comes first: inline, it would hold everything behind it.
            recipients: vec![hook(dead_port, "dead"), hook(good_port, "ops")],
            groups: vec![],
        })),
    );
    let sender = certdeck::engine::worker::spawn_sender(engine.clone()).unwrap();
    let report = engine.tick().unwrap();
    assert_eq!(report.fired.len(), 1, "{report:?}");
    assert_eq!(
        report.deliveries_tried, 0,
        "the tick leaves sending to the thread"
    );

    let settled = |name: &str| {
        engine
            .store()
            .deliveries(10)
            .unwrap()
            .into_iter()
            .find(|d| d.recipient == name && d.attempts > 0)
    };
    let mut waited = 0;
    while settled("ops").is_none() && waited < 300 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        waited += 1;
    }
    assert!(
        settled("dead").is_none(),
        "the good endpoint is not queued behind the dead one's 5 s timeout"
    );
    while settled("dead").is_none() && waited < 1000 {
        std::thread::sleep(std::time::Duration::from_millis(20));
        waited += 1;
    }
    let ops = settled("ops").expect("the good endpoint got its delivery");
    assert_eq!(ops.state, DeliveryState::Delivered);
    assert_eq!(seen.lock().unwrap().accepted.len(), 1);
    let dead = settled("dead").expect("the dead endpoint's try ended");
    assert_eq!(dead.state, DeliveryState::Pending, "retried later");
    assert!(dead.last_error.is_some(), "{dead:?}");

    // A manual retry with the thread running only makes the delivery due; the thread sends it.
    engine.dispatch(&mut state, Action::RetryDelivery(dead.id));
    let queued = engine.store().delivery(dead.id).unwrap().unwrap();
    assert_eq!((queued.state, queued.attempts), (DeliveryState::Pending, 0));
    assert!(
        sender.stop(std::time::Duration::from_secs(10)),
        "the thread ends when asked"
    );
    assert!(
        engine.tick().unwrap().deliveries_tried >= 2,
        "the next tick hears what the thread settled"
    );
}

#[test]
fn rule_al1_recipient_groups_reach_webhook_and_sms_gateway_members_and_cannot_vanish_under_a_policy(
) {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let soon = import(&env, &pki, "soon", 10);
    let (hook_port, hook_seen) = receiver("group-secret", 0, 5);
    let (sms_port, sms_seen) = receiver("group-secret", 0, 5);
    let secret = env.write("secret", "group-secret\n");
    let secret = secret.to_str().unwrap();
    let hook = format!("http://127.0.0.1:{hook_port}/hook");
    let gateway = format!("http://127.0.0.1:{sms_port}/sms");
    let (code, g) = env.json(&[
        "alarm",
        "group",
        "add",
        "oncall",
        "--recipient",
        "ann",
        "--webhook",
        &hook,
        "--style",
        "teams",
        "--secret-file",
        secret,
    ]);
    assert_eq!(code, 0, "{g}");
    let (code, g) = env.json(&[
        "alarm",
        "group",
        "add",
        "oncall",
        "--recipient",
        "bob",
        "--sms",
        "+8613800000000",
        "--sms-gateway",
        &gateway,
        "--secret-file",
        secret,
    ]);
    assert_eq!(code, 0, "{g}");
    assert_eq!(g["recipients"].as_array().unwrap().len(), 2, "{g}");
    // Refusals name the rule and the field.
    let (code, r) = env.json(&[
        "alarm",
        "group",
        "add",
        "oncall",
        "--recipient",
        "eve",
        "--sms",
        "12",
        "--sms-gateway",
        &gateway,
    ]);
    let e = &r["error"];
    assert_eq!(
        (code, e["rule"].as_str(), e["field"].as_str()),
        (1, Some("AL-1"), Some("recipient")),
        "{r}"
    );
    let (code, r) = env.json(&[
        "alarm",
        "add",
        "expiring",
        "--group",
        "nobody",
        "--now",
        &at(0),
    ]);
    assert_eq!(
        (code, r["error"]["field"].as_str()),
        (1, Some("group")),
        "{r}"
    );

    let (code, p) = env.json(&[
        "alarm",
        "add",
        "expiring",
        "--group",
        "oncall",
        "--now",
        &at(0),
    ]);
    assert_eq!(code, 0, "{p}");
    assert_eq!(p["groups"], serde_json::json!(["oncall"]), "{p}");
    let (code, r) = env.json(&["alarm", "group", "rm", "oncall"]);
    assert_eq!(code, 1, "a group a policy names stays: {r}");
    assert!(
        r["error"]["message"].as_str().unwrap().contains("expiring"),
        "{r}"
    );

    // One firing reaches both members, each signed, each in its channel's shape.
    let (_, t) = env.json(&["tick", "--now", &at(1)]);
    assert!(t.to_string().contains("fired for 1 certificate"), "{t}");
    let (_, o) = env.json(&["outbox"]);
    let states: Vec<(&str, &str)> = o["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["recipient"].as_str().unwrap(),
                d["state"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(states.len(), 2, "{o}");
    assert!(states.contains(&("ann (oncall)", "delivered")), "{o}");
    assert!(states.contains(&("bob (oncall)", "delivered")), "{o}");
    let hook_seen = hook_seen.lock().unwrap();
    assert!(hook_seen.requests[0].2, "signed");
    let card: serde_json::Value = serde_json::from_str(&hook_seen.requests[0].1).unwrap();
    let text = card["attachments"][0]["content"]["body"][0]["text"]
        .as_str()
        .unwrap();
    assert!(
        text.contains(&soon) && text.contains("expires in 9 days"),
        "{card}"
    );
    let sms_seen = sms_seen.lock().unwrap();
    assert!(sms_seen.requests[0].2, "signed");
    let sms: serde_json::Value = serde_json::from_str(&sms_seen.requests[0].1).unwrap();
    assert_eq!(sms["to"], "+8613800000000");
    assert!(sms["text"].as_str().unwrap().contains(&soon), "{sms}");

    // Members go one by one; the policy must let go of the group before it goes.
    let (code, g) = env.json(&["alarm", "group", "rm", "oncall", "--recipient", "bob"]);
    assert_eq!(
        (code, g["recipients"].as_array().unwrap().len()),
        (0, 1),
        "{g}"
    );
    assert_eq!(
        env.json(&["alarm", "edit", "expiring", "--groups", ""]).0,
        0
    );
    let (code, r) = env.json(&["alarm", "group", "rm", "oncall"]);
    assert_eq!(code, 0, "{r}");
    let (_, l) = env.json(&["alarm", "group", "list"]);
    assert_eq!(l["groups"], serde_json::json!([]), "{l}");
}

#[test]
fn side_files_are_refused_as_directories_or_oversized_when_given() {
    let env = Env::new();
    let dir = env.path("a-directory");
    std::fs::create_dir_all(&dir).unwrap();
    let (code, e) = env.json(&[
        "alarm",
        "add",
        "by-mail",
        "--email",
        "ops@example.com",
        "--smtp",
        "127.0.0.1:25",
        "--smtp-ca",
        dir.to_str().unwrap(),
    ]);
    // An unusable file named by an option is a usage error, exit 2, as for every command.
    assert_eq!(code, 2, "{e}");
    let m = e["error"]["message"].as_str().unwrap();
    assert!(m.contains("--smtp-ca") && m.contains("directory"), "{m}");
    let big = env.write("secret", vec![b'x'; 5000]);
    let (code, e) = env.json(&[
        "alarm",
        "add",
        "hook",
        "--webhook",
        "http://127.0.0.1:9/x",
        "--secret-file",
        big.to_str().unwrap(),
    ]);
    assert_eq!(code, 2, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("larger than 4096 bytes"),
        "{e}"
    );
}
