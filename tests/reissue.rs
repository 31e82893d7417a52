//! Reissue end to end through the CLI with `--now`, on certificates the sandbox CA really issues:
//! RI-4 while open, RI-5 validity kept, the same key for `--csr original`, a pasted CSR verified
//! and certified, the original released, and RV-4 revoking an original with its reissues.
mod common;
use common::{openssl, Env};

fn at(days: f64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds((days * 86_400.0) as i64)).to_rfc3339()
}

/// A DNSPod DV certificate in a managed zone, issued by the sandbox CA at day 4.
fn issued(env: &Env) -> String {
    let id = common::sandbox_order(env);
    let (_, t) = env.json(&["tick", "--now", &at(4.0)]);
    assert_eq!(t["fired"][0]["kind"], "review_done", "{t}");
    id
}

/// Orders a reissue of `id` on day 10 with `args` and lets the CA issue it (day 14): the new
/// record as `show` gives it then.
fn reissued(env: &Env, id: &str, args: &[&str]) -> serde_json::Value {
    let ten = at(10.0);
    let mut all = vec!["reissue", id];
    all.extend_from_slice(args);
    all.extend(["--now", ten.as_str()]);
    let (code, r) = env.json(&all);
    assert_eq!(code, 0, "{r}");
    let new_id = r["id"].as_str().unwrap().to_string();
    env.json(&["tick", "--now", &at(14.0)]);
    env.json(&["show", &new_id, "--now", &at(14.0)]).1
}

fn spki_of(pem: &str) -> Vec<u8> {
    openssl(&["x509", "-noout", "-pubkey"], pem.as_bytes())
}

#[test]
fn rule_ri5_reissue_with_the_original_csr_keeps_key_and_validity_and_rv4_revokes_both() {
    let env = Env::new();
    let id = issued(&env);
    let original = env.json(&["show", &id, "--now", &at(4.0)]).1;
    let (code, r) = env.json(&[
        "reissue",
        &id,
        "--csr",
        "original",
        "--reason",
        "moved hosts",
        "--now",
        &at(10.0),
    ]);
    assert_eq!(code, 0, "{r}");
    let new_id = r["id"].as_str().unwrap().to_string();
    assert!(
        r["order"]["review_due"].is_string(),
        "unchanged CSR: no validation (RI-7) {r}"
    );
    assert_eq!(r["records"][0]["status"], "reissuing");
    // RI-4: one open reissue at a time.
    let (code, e) = env.json(&["reissue", &id, "--now", &at(10.0)]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RI-4")),
        "{e}"
    );
    let (_, t) = env.json(&["tick", "--now", &at(14.0)]);
    assert!(
        t["fired"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["cert_id"] == new_id.as_str()),
        "{t}"
    );
    let re = env.json(&["show", &new_id, "--now", &at(14.0)]).1;
    assert_eq!(re["status"], "issued", "{re}");
    assert_eq!(
        re["not_after"], original["not_after"],
        "RI-5: the original validity"
    );
    assert_eq!(re["reissued_from"], id.as_str(), "{re}");
    assert_eq!(
        env.json(&["show", &id, "--now", &at(14.0)]).1["status"],
        "issued"
    );
    // The same key: the exported certificates carry the same public key.
    let dir = env.path("a");
    let dir2 = env.path("b");
    for (i, d) in [(&id, &dir), (&new_id, &dir2)] {
        let (code, x) = env.json(&[
            "export",
            i,
            "--format",
            "pem",
            "--out",
            d.to_str().unwrap(),
            "--now",
            &at(14.0),
        ]);
        assert_eq!(code, 0, "{x}");
    }
    let read = |d: &std::path::Path| {
        let f = std::fs::read_dir(d)
            .unwrap()
            .map(|e| e.unwrap().path())
            .find(|p| {
                p.to_string_lossy().ends_with(".crt") || p.to_string_lossy().ends_with("cert.pem")
            })
            .unwrap();
        std::fs::read_to_string(f).unwrap()
    };
    assert_eq!(spki_of(&read(&dir)), spki_of(&read(&dir2)));
    // RV-4: the reissue is revoked through its original, with it.
    let (code, e) = env.json(&[
        "revoke",
        &new_id,
        "--reason",
        "superseded",
        "--yes",
        "--now",
        &at(15.0),
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RV-4")),
        "{e}"
    );
    let (code, v) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "superseded",
        "--yes",
        "--now",
        &at(15.0),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["records"].as_array().unwrap().len(), 2, "{v}");
    env.json(&["tick", "--now", &at(20.0)]);
    for i in [&id, &new_id] {
        assert_eq!(
            env.json(&["show", i, "--now", &at(20.0)]).1["status"],
            "revoked"
        );
    }
    let crl = env.run(&["ca", "crl", "--now", &at(20.0)]);
    let text = String::from_utf8(openssl(&["crl", "-noout", "-text"], &crl.stdout)).unwrap();
    assert_eq!(text.matches("Serial Number").count(), 2, "{text}");
}

#[test]
fn rule_ri6_pasted_csr_is_verified_and_certified_and_names_are_checked() {
    let env = Env::new();
    let id = issued(&env);
    let key = env.path("csr.key");
    let csr = env.path("csr.pem");
    let made = std::process::Command::new("openssl")
        .args([
            "req",
            "-new",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
            "-subj",
            "/CN=shop.example.com",
            "-keyout",
        ])
        .arg(&key)
        .arg("-out")
        .arg(&csr)
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    // A CSR whose body was altered does not verify.
    let text = std::fs::read_to_string(&csr).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut bad_line = lines[3].to_string();
    let c = if bad_line.starts_with('A') { "B" } else { "A" };
    bad_line.replace_range(0..1, c);
    let mut bad = lines.clone();
    bad[3] = &bad_line;
    let bad_file = env.write("bad.csr", bad.join("\n") + "\n");
    let (code, e) = env.json(&[
        "reissue",
        &id,
        "--csr",
        bad_file.to_str().unwrap(),
        "--now",
        &at(10.0),
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RI-6")),
        "{e}"
    );
    // A CSR for another name is refused.
    let other = env.path("other.csr");
    std::process::Command::new("openssl")
        .args(["req", "-new", "-key"])
        .arg(&key)
        .args(["-subj", "/CN=evil.example.org", "-out"])
        .arg(&other)
        .output()
        .unwrap();
    let (code, e) = env.json(&[
        "reissue",
        &id,
        "--csr",
        other.to_str().unwrap(),
        "--now",
        &at(10.0),
    ]);
    assert_eq!(
        (code, e["error"]["field"].as_str()),
        (1, Some("domain")),
        "{e}"
    );
    // The right CSR: validation is required again (the CSR differs), automatic in the zone.
    let shown = reissued(&env, &id, &["--csr", csr.to_str().unwrap()]);
    let new_id = shown["id"].as_str().unwrap().to_string();
    assert_eq!(shown["status"], "issued", "{shown}");
    // The CA certified the CSR's key: it matches the key that stayed with the user.
    let out = env.path("out");
    let export = |format: &str| {
        env.json(&[
            "export",
            &new_id,
            "--format",
            format,
            "--out",
            out.to_str().unwrap(),
            "--now",
            &at(14.0),
        ])
    };
    // No key is kept for a pasted CSR: the certificate and chain are exported without one, and
    // a format that bundles the key is refused.
    let (code, x) = export("haproxy");
    assert_eq!(
        (code, x["error"]["rule"].as_str()),
        (1, Some("RI-6")),
        "{x}"
    );
    let (code, x) = export("pem");
    assert_eq!(code, 0, "{x}");
    let mut names: Vec<String> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["cert.pem", "chain.pem", "fullchain.pem"]);
    let key_pub = openssl(&["pkey", "-pubout"], &std::fs::read(&key).unwrap());
    let csr_pub = openssl(&["req", "-noout", "-pubkey"], &std::fs::read(&csr).unwrap());
    assert_eq!(key_pub, csr_pub);
    let cert_pub = openssl(
        &["x509", "-noout", "-pubkey"],
        &std::fs::read(out.join("cert.pem")).unwrap(),
    );
    assert_eq!(
        cert_pub, key_pub,
        "the exported certificate is the CSR key's"
    );
}

#[test]
fn rule_ri1_thirty_days_exactly_is_refused() {
    let env = Env::new();
    let id = issued(&env);
    let end = chrono::DateTime::parse_from_rfc3339(
        env.json(&["show", &id, "--now", &at(4.0)]).1["not_after"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    let (code, e) = env.json(&[
        "reissue",
        &id,
        "--now",
        &(end - chrono::Duration::days(30)).to_rfc3339(),
    ]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RI-1")),
        "{e}"
    );
    let (code, e) = env.json(&["reissue", &id, "--csr", "generate:sm2", "--now", &at(10.0)]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RI-6")),
        "{e}"
    );
    let (code, r) = env.json(&["reissue", &id, "--csr", "generate:p384", "--now", &at(10.0)]);
    assert_eq!(code, 0, "{r}");
}

#[test]
fn rule_ri6_generated_rsa_key_with_a_password_is_encrypted_pkcs8_that_openssl_opens() {
    let env = Env::new();
    let id = issued(&env);
    let pw = env.write("pw.txt", "correct horse\n");
    let shown = reissued(
        &env,
        &id,
        &[
            "--csr",
            "generate:rsa2048",
            "--key-password-file",
            pw.to_str().unwrap(),
        ],
    );
    let new_id = shown["id"].as_str().unwrap().to_string();
    assert_eq!(
        (shown["status"].as_str(), shown["key_algorithm"].as_str()),
        (Some("issued"), Some("rsa")),
        "{shown}"
    );
    let (_, orig) = env.json(&["show", &id, "--now", &at(14.0)]);
    assert!(
        orig.to_string()
            .contains("cannot be deployed automatically (RI-6)"),
        "the deploy warning is in the original's timeline: {orig}"
    );
    let out = env.path("out");
    let (code, x) = env.json(&[
        "export",
        &new_id,
        "--format",
        "nginx",
        "--out",
        out.to_str().unwrap(),
        "--now",
        &at(14.0),
    ]);
    assert_eq!(code, 0, "{x}");
    let files: Vec<_> = std::fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    let key = files
        .iter()
        .find(|p| p.to_string_lossy().ends_with(".key"))
        .expect("a key file");
    let crt = files
        .iter()
        .find(|p| !p.to_string_lossy().ends_with(".key"))
        .unwrap();
    assert!(std::fs::read_to_string(key)
        .unwrap()
        .contains("BEGIN ENCRYPTED PRIVATE KEY"));
    let opened = std::process::Command::new("openssl")
        .args(["pkey", "-pubout", "-passin"])
        .arg(format!("file:{}", pw.display()))
        .arg("-in")
        .arg(key)
        .output()
        .unwrap();
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let cert_pub = openssl(&["x509", "-noout", "-pubkey"], &std::fs::read(crt).unwrap());
    assert_eq!(
        opened.stdout, cert_pub,
        "the encrypted key belongs to the reissued certificate"
    );
    let wrong = env.write("wrong.txt", "nope");
    let refused = std::process::Command::new("openssl")
        .args(["pkey", "-noout", "-passin"])
        .arg(format!("file:{}", wrong.display()))
        .arg("-in")
        .arg(key)
        .output()
        .unwrap();
    assert!(!refused.status.success());
}

#[test]
fn sm2_orders_come_from_the_sm2_hierarchy_and_reissue_with_sm2_keys_only() {
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    env.json(&["zones", "add", "example.com"]);
    let (code, v) = env.json(&[
        "apply",
        "--domain",
        "gm.example.com",
        "--product",
        "dnspod-sm2-dv",
    ]);
    assert_eq!(code, 0, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    env.json(&["tick", "--now", &at(4.0)]);
    let shown = env.json(&["show", &id, "--now", &at(4.0)]).1;
    assert_eq!(
        (
            shown["status"].as_str(),
            shown["key_algorithm"].as_str(),
            shown["standard"].as_str()
        ),
        (Some("issued"), Some("sm2"), Some("sm2")),
        "{shown}"
    );
    let (code, e) = env.json(&["reissue", &id, "--csr", "generate:p256", "--now", &at(10.0)]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RI-6")),
        "{e}"
    );
    let (code, r) = env.json(&["reissue", &id, "--csr", "generate:sm2", "--now", &at(10.0)]);
    assert_eq!(code, 0, "{r}");
    let new_id = r["id"].as_str().unwrap().to_string();
    env.json(&["tick", "--now", &at(14.0)]);
    let re = env.json(&["show", &new_id, "--now", &at(14.0)]).1;
    assert_eq!(
        (re["status"].as_str(), re["key_algorithm"].as_str()),
        (Some("issued"), Some("sm2")),
        "{re}"
    );
    assert_eq!(re["not_after"], shown["not_after"]);
    // RV-6 (a): an SM2 DV revocation goes straight to review, no validation.
    let (code, v) = env.json(&[
        "revoke",
        &id,
        "--reason",
        "superseded",
        "--yes",
        "--now",
        &at(15.0),
    ]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["revocation"]["flow"], "review_only");
    assert_eq!(
        v["records"].as_array().unwrap().len(),
        2,
        "its reissue goes with it (RV-4)"
    );
    env.json(&["tick", "--now", &at(20.0)]);
    assert_eq!(
        env.json(&["show", &id, "--now", &at(20.0)]).1["status"],
        "revoked"
    );
    // The SM2 hierarchy's CRL lists the serial with its reason, signed SM2-with-SM3 with the
    // GM/T 0009 default id. OpenSSL 3.0 checks CRL signatures with an empty SM2 id, so the
    // signature is checked with `openssl pkeyutl` given that id instead.
    let crl = env.run(&["ca", "crl", "--sm2", "--der", "--now", &at(20.0)]);
    assert!(
        crl.status.success(),
        "{}",
        String::from_utf8_lossy(&crl.stderr)
    );
    let text = String::from_utf8(openssl(
        &["crl", "-inform", "DER", "-noout", "-text"],
        &crl.stdout,
    ))
    .unwrap();
    assert!(
        text.contains("SM2-with-SM3") && text.contains("Superseded"),
        "{text}"
    );
    assert_eq!(text.matches("Serial Number").count(), 2, "{text}");
    let (_, parsed) = x509_parser::parse_x509_crl(&crl.stdout).unwrap();
    let tbs = env.write("tbs.der", parsed.tbs_cert_list.as_ref());
    let sig = env.write("sig.der", &*parsed.signature_value.data);
    let certs = env.run(&["ca", "certs", "--sm2"]).stdout;
    let issuing = String::from_utf8(certs).unwrap();
    let first = &issuing[..issuing.find("-----END CERTIFICATE-----").unwrap() + 25];
    let public = env.write(
        "sm2ca.pub",
        openssl(&["x509", "-noout", "-pubkey"], first.as_bytes()),
    );
    let checked = std::process::Command::new("openssl")
        .args([
            "pkeyutl",
            "-verify",
            "-rawin",
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
            "-pubin",
            "-inkey",
        ])
        .arg(&public)
        .arg("-in")
        .arg(&tbs)
        .arg("-sigfile")
        .arg(&sig)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&checked.stdout).to_string()
        + &String::from_utf8_lossy(&checked.stderr);
    assert!(said.contains("Signature Verified Successfully"), "{said}");
}

#[test]
fn rule_ri6_an_sm2_csr_made_by_openssl_is_verified_with_sm3_and_certified() {
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    env.json(&["zones", "add", "example.com"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "gm.example.com",
        "--product",
        "dnspod-sm2-dv",
    ]);
    let id = v["id"].as_str().unwrap().to_string();
    env.json(&["tick", "--now", &at(4.0)]);
    let key = env.path("sm2.key");
    let csr = env.path("sm2.csr");
    let ok = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "EC",
            "-pkeyopt",
            "ec_paramgen_curve:SM2",
            "-out",
        ])
        .arg(&key)
        .status()
        .unwrap()
        .success()
        && std::process::Command::new("openssl")
            .args([
                "req",
                "-new",
                "-sm3",
                "-sigopt",
                "distid:1234567812345678",
                "-subj",
                "/CN=gm.example.com",
                "-key",
            ])
            .arg(&key)
            .arg("-out")
            .arg(&csr)
            .status()
            .unwrap()
            .success();
    assert!(ok, "openssl makes SM2 CSRs");
    let re = reissued(&env, &id, &["--csr", csr.to_str().unwrap()]);
    assert_eq!(
        (re["status"].as_str(), re["key_algorithm"].as_str()),
        (Some("issued"), Some("sm2")),
        "{re}"
    );
}

#[test]
fn rule_ri2_and_ri3_through_the_engine_free_dv_once_and_one_reissue_per_registrable_domain() {
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    env.json(&["zones", "add", "example.com"]);
    let order = |domain: &str, product: &str| {
        let (code, v) = env.json(&["apply", "--domain", domain, "--product", product]);
        assert_eq!(code, 0, "{v}");
        v["id"].as_str().unwrap().to_string()
    };
    let free = order("free.example.com", "securesite-free-dv");
    let paid = order("shop.example.com", "dnspod-dv");
    env.json(&["tick", "--now", &at(4.0)]);
    // RI-3: while free.example.com's reissue is open, shop.example.com (same registrable
    // domain, example.com) cannot start one.
    let (code, r) = env.json(&["reissue", &free, "--now", &at(10.0)]);
    assert_eq!(code, 0, "{r}");
    let (code, e) = env.json(&["reissue", &paid, "--now", &at(10.0)]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RI-3")),
        "{e}"
    );
    assert!(
        e["error"]["message"]
            .as_str()
            .unwrap()
            .contains("under example.com"),
        "{e}"
    );
    env.json(&["tick", "--now", &at(14.0)]);
    // Once it is issued, the lock is gone; and a free DV certificate is reissued only once.
    let (code, r) = env.json(&["reissue", &paid, "--now", &at(15.0)]);
    assert_eq!(code, 0, "{r}");
    env.json(&["tick", "--now", &at(19.0)]);
    let (code, e) = env.json(&["reissue", &free, "--now", &at(20.0)]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("RI-2")),
        "{e}"
    );
}

#[test]
fn rule_ri7_free_dv_is_validated_again_and_a_paid_dv_reissue_has_no_review_day() {
    let env = Env::new();
    env.json(&["account", "topup", "1000"]);
    let order = |domain: &str, product: &str| {
        let (code, v) = env.json(&["apply", "--domain", domain, "--product", product]);
        assert_eq!(code, 0, "{v}");
        v["id"].as_str().unwrap().to_string()
    };
    // Outside a managed zone, so validation is visible as challenges to answer.
    env.json(&["zones", "add", "paid.test"]);
    let paid = order("shop.paid.test", "dnspod-dv");
    env.json(&["tick", "--now", &at(4.0)]);
    // A free DV order validated by hand (a zone of its own, removed once it is issued).
    env.json(&["zones", "add", "free.test"]);
    let free = order("www.free.test", "securesite-free-dv");
    env.json(&["tick", "--now", &at(4.0)]);
    env.json(&["zones", "rm", "free.test"]);
    // Free DV with the original CSR: validated again, by hand as the first time had no zone now.
    let (code, r) = env.json(&["reissue", &free, "--csr", "original", "--now", &at(10.0)]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(r["order"]["challenges"].as_array().unwrap().len(), 1, "{r}");
    assert!(r["order"]["validated_at"].is_null(), "{r}");
    // Paid DV with the original CSR: validation skipped, and no review day: issued at the next tick.
    let (code, r) = env.json(&["reissue", &paid, "--csr", "original", "--now", &at(10.0)]);
    assert_eq!(code, 0, "{r}");
    let new_id = r["id"].as_str().unwrap().to_string();
    assert_eq!(r["order"]["review_due"], r["order"]["submitted_at"], "{r}");
    env.json(&["tick", "--now", &at(10.0)]);
    let shown = env.json(&["show", &new_id, "--now", &at(10.0)]).1;
    assert_eq!(shown["status"], "issued", "{shown}");
}
