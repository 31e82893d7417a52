//! DS-5: `probe` against a real nginx on loopback and, through STARTTLS, a real SMTP server
//! (python3-aiosmtpd): the served chain as openssl sees it, the earliest expiry, the TLS
//! version, and trust judged by the system store (a private root is not trusted).
mod common;
use certdeck::ca::pki::KeyKind;
use common::nginx::Nginx;
use common::smtp::Smtpd;
use common::{fingerprint, probe, row_of, Env, Pki};

#[test]
fn rule_ds5_probe_reports_the_served_chain_its_earliest_expiry_and_that_a_private_root_is_not_trusted(
) {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["shop.example.com"], 20);
    let nginx = Nginx::start(&env.path("nginx"), &pki.full_chain(&leaf), &leaf.key_pem);
    let (code, p) = probe(&env, nginx.port, "shop.example.com");
    assert_eq!(code, 0, "{p}");
    assert_eq!(p["sni"], "shop.example.com");
    // What nginx negotiates depends on its build's defaults; either is a TLS version.
    assert!(
        ["TLSv1.2", "TLSv1.3"].contains(&p["tls_version"].as_str().unwrap()),
        "{p}"
    );
    assert_eq!(
        p["verified"], false,
        "a test root is not in the system store: {p}"
    );
    assert!(p["verify_error"].is_string(), "{p}");
    let chain = p["chain"].as_array().unwrap();
    assert_eq!(
        chain.len(),
        3,
        "leaf, intermediate and root as nginx sends them: {p}"
    );
    assert_eq!(
        chain[0]["fingerprint_sha256"],
        fingerprint(&leaf.der, "DER")
    );
    assert_eq!(
        chain[1]["fingerprint_sha256"],
        fingerprint(&pki.inter.der, "DER")
    );
    // The leaf (20 days) ends first.
    assert_eq!(p["earliest_expiry"], chain[0]["not_after"], "{p}");
    assert_eq!(p["drift"], serde_json::Value::Null);
}

#[test]
fn rule_ds5_probe_speaks_starttls_to_a_real_smtp_server() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["mail.example.com"], 40);
    let cert = env.write("mail.crt", &leaf.cert_pem);
    let key = env.write("mail.key", &leaf.key_pem);
    let smtpd = Smtpd::start_with(
        &env.path("mail"),
        &[
            "--tlscert",
            cert.to_str().unwrap(),
            "--tlskey",
            key.to_str().unwrap(),
        ],
    );
    let (code, p) = env.json(&[
        "probe",
        &format!("127.0.0.1:{}", smtpd.port),
        "--sni",
        "mail.example.com",
        "--starttls",
        "smtp",
    ]);
    assert_eq!(code, 0, "{p}");
    assert_eq!(
        p["chain"][0]["fingerprint_sha256"],
        fingerprint(&leaf.der, "DER"),
        "{p}"
    );
    // Without STARTTLS the plain-text greeting is no TLS: a clear error, in time.
    let started = std::time::Instant::now();
    let (code, e) = env.json(&[
        "probe",
        &format!("127.0.0.1:{}", smtpd.port),
        "--timeout",
        "3",
    ]);
    assert_eq!(code, 3, "{e}");
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("127.0.0.1"),
        "{e}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

#[test]
fn rule_ds5_drift_is_the_served_certificate_differing_from_the_scanned_sites_file() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let served = pki.leaf(&["shop.example.com"], 20);
    let nginx = Nginx::start(
        &env.path("nginx"),
        &pki.full_chain(&served),
        &served.key_pem,
    );
    // The site's configuration names a file under the scanned tree.
    let conf = env.path("etc/nginx");
    std::fs::create_dir_all(conf.join("conf.d")).unwrap();
    let cert = conf.join("shop.pem");
    std::fs::write(&cert, pki.full_chain(&served)).unwrap();
    std::fs::write(conf.join("nginx.conf"), "http { include conf.d/*.conf; }\n").unwrap();
    std::fs::write(
        conf.join("conf.d/shop.conf"),
        format!(
            "server {{\n  listen {} ssl;\n  server_name shop.example.com;\n  ssl_certificate {};\n}}\n",
            nginx.port,
            cert.display()
        ),
    )
    .unwrap();
    let (code, r) = env.json(&["scan", conf.to_str().unwrap()]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["sites"][0]["names"][0], "shop.example.com", "{r}");
    assert_eq!(
        r["proposed"][0]["check"],
        format!("nginx -t -c {}", conf.join("nginx.conf").display()),
        "{r}"
    );
    let address = format!("127.0.0.1:{}", nginx.port);
    let (_, p) = env.json(&["probe", &address, "--sni", "shop.example.com"]);
    assert_eq!(
        p["drift"],
        serde_json::Value::Null,
        "the same certificate: {p}"
    );
    // Renewed on disk, not reloaded: drift.
    let renewed = pki.leaf(&["shop.example.com"], 90);
    std::fs::write(&cert, pki.full_chain(&renewed)).unwrap();
    env.json(&["scan", conf.to_str().unwrap()]);
    let (_, p) = env.json(&["probe", &address, "--sni", "shop.example.com"]);
    assert_eq!(
        p["drift"]["served_fingerprint_sha256"],
        fingerprint(&served.der, "DER"),
        "{p}"
    );
    assert_eq!(
        p["drift"]["configured_fingerprint_sha256"],
        fingerprint(&renewed.der, "DER"),
        "{p}"
    );
    assert_eq!(p["drift"]["path"], cert.to_str().unwrap());
    // The scan probes the site itself: the renewed certificate shows the drift, with a message.
    let (_, r) = env.json(&["scan", conf.to_str().unwrap()]);
    assert_eq!(r["probes"][0]["drift"], true, "{r}");
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let row = row_of(&list, &renewed.der);
    assert_eq!(row["drift"]["address"], address.as_str(), "{row}");
    let (_, m) = env.json(&["messages"]);
    assert!(m.to_string().contains("drift"), "{m}");
    // nginx reloaded with the renewal: the drift is over.
    std::fs::write(nginx.dir.join("certs/shop.crt"), pki.full_chain(&renewed)).unwrap();
    std::fs::write(nginx.dir.join("certs/shop.key"), &renewed.key_pem).unwrap();
    let out = std::process::Command::new("/bin/sh")
        .arg("-c")
        .arg(nginx.command("-s reload"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let mut over = false;
    for _ in 0..50 {
        let (_, r) = env.json(&["scan", conf.to_str().unwrap()]);
        if r["probes"][0]["drift"] == false {
            over = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(over, "nginx serves the renewal after its reload");
    let (_, shown) = env.json(&["show", row["id"].as_str().unwrap()]);
    assert_eq!(shown["drift"], serde_json::Value::Null, "{shown}");
}

#[test]
fn rule_h2_a_discovered_site_moves_under_certdeck_care_through_a_hosting_with_a_specified_certificate(
) {
    // A hand-managed nginx: scan finds its site, `--adopt-resources` makes it a resource that
    // holds the certificate found there, and a hosting with a specified certificate replaces
    // it on the real server at its time.
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let old = pki.leaf(&["shop.example.com"], 40);
    let dir = env.path("nginx");
    let nginx = Nginx::start(&dir, &pki.full_chain(&old), &old.key_pem);
    let (code, rep) = env.json(&["scan", dir.to_str().unwrap(), "--adopt-resources"]);
    assert_eq!(code, 0, "{rep}");
    let resource = rep["resources"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{rep}"));
    let (_, list) = env.json(&["resource", "list"]);
    let r = &list[0];
    assert_eq!(r["id"], resource, "{list}");
    assert_eq!(r["name"], "shop.example.com", "{list}");
    let conf = dir.join("nginx.conf");
    assert_eq!(
        r["check"],
        format!("nginx -t -c {}", conf.display()),
        "the server's own command, aimed at the configuration found: {list}"
    );
    assert_eq!(
        r["endpoint"]["address"],
        format!("127.0.0.1:{}", nginx.port)
    );
    let (_, found) = env.json(&["list", "--source", "discovered"]);
    let old_row = row_of(&found, &old.der);
    let old_id = old_row["id"].as_str().unwrap();
    assert_eq!(
        r["certificate"], old_id,
        "the resource holds what nginx serves: {list}"
    );
    // Adopting again adds nothing.
    let (code, again) = env.json(&["scan", dir.to_str().unwrap(), "--adopt-resources"]);
    assert_eq!(code, 0, "{again}");
    assert!(again["resources"][0]["id"].is_null(), "{again}");
    // The replacement, uploaded with its key; the hosting deploys it 30 days before the old one
    // expires.
    let new = pki.leaf(&["shop.example.com"], 90);
    let cert = env.write("new.pem", pki.full_chain(&new));
    let key = env.write("new.key", &new.key_pem);
    let (code, imported) = env.import(&cert, Some(&key), &[]);
    assert_eq!(code, 0, "{imported}");
    let new_id = imported["id"].as_str().unwrap();
    let (code, h) = env.json(&["hosting", "add", old_id, "--new", new_id, "--days", "30"]);
    assert_eq!(code, 0, "{h}");
    let later = (chrono::Utc::now() + chrono::Duration::days(11)).to_rfc3339();
    let (code, tick) = env.json(&["tick", "--now", &later]);
    assert_eq!(code, 0, "{tick}");
    assert!(tick["fired"].to_string().contains("succeeded"), "{tick}");
    let (code, p) = probe(&env, nginx.port, "shop.example.com");
    assert_eq!(code, 0, "{p}");
    assert_eq!(
        p["chain"][0]["fingerprint_sha256"],
        fingerprint(&new.der, "DER"),
        "nginx serves the replacement: {p}"
    );
    // The deployment rescanned the site's root: the file no longer holds the old certificate.
    let (_, shown) = env.json(&["show", old_id]);
    assert!(
        shown["timeline"]
            .to_string()
            .contains("now holds another certificate"),
        "{shown}"
    );
}

#[test]
fn rule_ds5_a_served_intermediate_ending_before_the_leaf_shows_and_raises_one_message() {
    use certdeck::ca::pki::Authority;
    let env = Env::new();
    let now = chrono::Utc::now();
    let d = chrono::Duration::days;
    let root = Authority::root(
        "Test Root",
        "tests",
        KeyKind::P256,
        now - d(30),
        now + d(900),
    );
    // The intermediate ends in 20 days; the leaf it signed in 60.
    let inter = root.intermediate("Short Intermediate", "tests", now - d(30), now + d(20));
    let leaf = inter.issue(
        &["shop.example.com"],
        KeyKind::P256,
        now - d(1),
        now + d(60),
    );
    let chain = format!("{}{}", leaf.cert_pem, inter.pem());
    let nginx = Nginx::start(&env.path("nginx"), &chain, &leaf.key_pem);
    let conf = env.path("etc/nginx");
    std::fs::create_dir_all(&conf).unwrap();
    let cert = conf.join("shop.pem");
    std::fs::write(&cert, &chain).unwrap();
    std::fs::write(
        conf.join("nginx.conf"),
        format!(
            "http {{ server {{\n  listen {} ssl;\n  server_name shop.example.com;\n  ssl_certificate {};\n}} }}\n",
            nginx.port,
            cert.display()
        ),
    )
    .unwrap();
    let (code, r) = env.json(&["scan", conf.to_str().unwrap()]);
    assert_eq!(code, 0, "{r}");
    let i = &r["probes"][0]["expiring_intermediate"];
    assert!(
        i["subject"]
            .as_str()
            .unwrap_or_default()
            .contains("Short Intermediate"),
        "{r}"
    );
    assert_eq!(
        i["fingerprint_sha256"],
        fingerprint(&inter.der, "DER"),
        "{r}"
    );
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let row = row_of(&list, &leaf.der);
    assert!(
        row["expiring_intermediate"]["subject"]
            .as_str()
            .unwrap_or_default()
            .contains("Short Intermediate"),
        "{row}"
    );
    // Scanned again: still shown, but the message is not raised twice.
    env.json(&["scan", conf.to_str().unwrap()]);
    let (_, m) = env.json(&["messages"]);
    let raised = m.to_string().matches("serves the intermediate").count();
    assert_eq!(raised, 1, "{m}");
    let (_, shown) = env.json(&["show", row["id"].as_str().unwrap()]);
    assert!(shown["expiring_intermediate"].is_object(), "{shown}");
    let text = env.run(&["show", row["id"].as_str().unwrap()]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("INTERMEDIATE"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
}
