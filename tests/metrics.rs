//! SV-3, SV-4: `certdeck metrics` checked by promtool against openssl's facts, the shipped alert
//! rules under `promtool test rules`, and `certdeck serve --metrics` scraped by a real
//! Prometheus on loopback, with `/healthz` going 503 while a tick is held up.
mod common;
use certdeck::ca::pki::KeyKind;
use common::prometheus::{bin, free_port, get};
use common::{openssl, Child, Env, Pki};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The decimal serial and the notAfter (epoch seconds) of a PEM certificate, as openssl and
/// python3 give them (not certdeck's own conversion).
fn openssl_facts(pem: &str) -> (String, i64) {
    let hex = String::from_utf8(openssl(&["x509", "-noout", "-serial"], pem.as_bytes())).unwrap();
    let hex = hex.trim().trim_start_matches("serial=").to_string();
    let dec = Command::new("python3")
        .args(["-c", &format!("print(int('{hex}', 16))")])
        .output()
        .unwrap();
    let end = String::from_utf8(openssl(&["x509", "-noout", "-enddate"], pem.as_bytes())).unwrap();
    let end = end.trim().trim_start_matches("notAfter=");
    let t = chrono::NaiveDateTime::parse_and_remainder(end, "%b %e %H:%M:%S %Y")
        .unwrap()
        .0
        .and_utc()
        .timestamp();
    (String::from_utf8(dec.stdout).unwrap().trim().to_string(), t)
}

fn promtool_check_metrics(text: &str) {
    let mut c = Command::new(bin("promtool"))
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    c.stdin.take().unwrap().write_all(text.as_bytes()).unwrap();
    let out = c.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The value of the first line of `name` whose labels contain every one of `labels`.
fn value(text: &str, name: &str, labels: &[&str]) -> Option<f64> {
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")) || l.starts_with(&format!("{name} ")))
        .find(|l| labels.iter().all(|x| l.contains(x)))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
}

#[test]
fn rule_sv3_metrics_name_each_certificate_as_the_x509_exporter_does_and_pass_promtool() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["shop.example.com"], 45);
    let cert = env.write("shop.pem", pki.full_chain(&leaf));
    let key = env.write("shop.key", &leaf.key_pem);
    let (code, imported) = env.import(&cert, Some(&key), &[]);
    assert_eq!(code, 0, "{imported}");
    // A discovered one: labelled with its file.
    let found = pki.leaf(&["found.example.com"], 10);
    let dir = env.path("etc/ssl");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("found.pem"), &found.cert_pem).unwrap();
    let (code, _) = env.json(&["scan", dir.to_str().unwrap()]);
    assert_eq!(code, 0);
    env.run(&["tick"]);
    let out = env.run(&["metrics"]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    promtool_check_metrics(&text);
    let (serial, not_after) = openssl_facts(&leaf.cert_pem);
    let labels = [
        "subject_CN=\"shop.example.com\"",
        "issuer_CN=\"Test Intermediate\"",
    ];
    let serial_label = format!("serial_number=\"{serial}\"");
    assert_eq!(
        value(
            &text,
            "x509_cert_not_after",
            &[labels[0], labels[1], &serial_label]
        ),
        Some(not_after as f64),
        "{text}"
    );
    assert_eq!(value(&text, "x509_cert_expired", &[labels[0]]), Some(0.0));
    assert!(value(&text, "x509_cert_not_before", &[labels[0]]).is_some());
    let file = format!("filepath=\"{}\"", dir.join("found.pem").display());
    assert!(
        value(&text, "x509_cert_not_after", &["found.example.com", &file]).is_some(),
        "{text}"
    );
    assert!(
        value(
            &text,
            "certdeck_certificate_info",
            &["source=\"discovered\"", "status=\"issued\""]
        ) == Some(1.0),
        "{text}"
    );
    let tick = value(&text, "certdeck_last_tick_timestamp_seconds", &[]).unwrap();
    assert!(
        (chrono::Utc::now().timestamp() as f64 - tick).abs() < 120.0,
        "{text}"
    );
    // --textfile: written whole, readable by node_exporter, nothing left beside it.
    let prom = env.path("textfile/certdeck.prom");
    std::fs::create_dir_all(prom.parent().unwrap()).unwrap();
    let out = env.run(&["metrics", "--textfile", prom.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&prom).unwrap();
    promtool_check_metrics(&written);
    assert!(written.contains("shop.example.com"));
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&prom).unwrap().permissions().mode() & 0o777,
        0o644
    );
    assert_eq!(
        std::fs::read_dir(prom.parent().unwrap()).unwrap().count(),
        1
    );
    // No key in the metrics.
    let body: String = leaf
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!text.contains(&body[..20]));
}

#[test]
fn rule_sv3_the_shipped_alert_rules_pass_promtool_check_and_their_unit_tests() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("demo/prometheus");
    for args in [
        vec!["check", "rules", "alerts.yml"],
        vec!["test", "rules", "alerts_test.yml"],
    ] {
        let out = Command::new(bin("promtool"))
            .args(&args)
            .current_dir(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "promtool {args:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn rule_sv4_serve_answers_metrics_and_healthz_and_a_real_prometheus_scrapes_it() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["scraped.example.com"], 20);
    let cert = env.write("c.pem", pki.full_chain(&leaf));
    let key = env.write("k.pem", &leaf.key_pem);
    assert_eq!(env.import(&cert, Some(&key), &[]).0, 0);
    // An alarm whose command takes 4 s, its first evaluation due 4 s from now (a few seconds
    // after the service started ticking): that tick is held up.
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(4)).to_rfc3339();
    let (code, a) = env.json(&[
        "--now",
        &soon,
        "alarm",
        "add",
        "slow",
        "--threshold",
        "30",
        "--command",
        "sleep 4",
    ]);
    assert_eq!(code, 0, "{a}");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let serve = Child(
        env.command()
            .args(["serve", "--metrics", &addr])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    let (code, body) = loop {
        if let Some(r) = get(&addr, "/healthz") {
            break r;
        }
        assert!(Instant::now() < deadline, "serve answers within 10 s");
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(code == 200 || code == 503, "{code} {body}");
    let (code, text) = get(&addr, "/metrics").unwrap();
    assert_eq!(code, 200);
    promtool_check_metrics(&text);
    assert!(text.contains("scraped.example.com"), "{text}");
    assert_eq!(get(&addr, "/nothing").unwrap().0, 404);
    // SV-4: while the slow delivery holds the tick, health says 503; after, 200 again.
    let mut seen: Vec<(u16, String)> = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(25);
    let done = |seen: &[(u16, String)]| {
        let first_503 = seen.iter().position(|(c, _)| *c == 503);
        first_503.is_some_and(|i| seen[..i].iter().any(|(c, _)| *c == 200))
            && seen.last().is_some_and(|(c, _)| *c == 200)
    };
    while Instant::now() < deadline && !done(&seen) {
        if let Some(r) = get(&addr, "/healthz") {
            seen.push(r);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(
        done(&seen),
        "healthy, then 503 while a tick is held up, then healthy: {seen:?}"
    );
    let stale = seen.iter().find(|(c, _)| *c == 503).unwrap();
    assert!(stale.1.contains("the last tick was"), "{stale:?}");

    // A real Prometheus scrapes it and answers a query for the certificate's expiry.
    let prom_port = free_port();
    let conf = env.write(
        "prometheus.yml",
        format!(
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: certdeck\n    static_configs:\n      - targets: ['{addr}']\n"
        ),
    );
    let prom_addr = format!("127.0.0.1:{prom_port}");
    let _prom = Child(
        Command::new(bin("prometheus"))
            .arg(format!("--config.file={}", conf.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                env.path("tsdb").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = Instant::now() + Duration::from_secs(60);
    let answer = loop {
        if let Some((200, body)) = get(&prom_addr, "/api/v1/query?query=x509_cert_not_after") {
            if body.contains("scraped.example.com") {
                break body;
            }
        }
        assert!(
            Instant::now() < deadline,
            "Prometheus scraped certdeck within 60 s"
        );
        std::thread::sleep(Duration::from_millis(500));
    };
    let (_, not_after) = openssl_facts(&leaf.cert_pem);
    assert!(answer.contains(&format!("\"{not_after}\"")), "{answer}");
    // SIGTERM: the service ends cleanly.
    let mut serve = serve;
    let status = serve.terminate();
    assert!(status.success(), "{status:?}");
}
