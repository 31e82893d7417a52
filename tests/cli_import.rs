//! The CLI contract of `import`, `list`, `show` and `delete`, on certificates the tests generate,
//! covering every case of U-5 and U-7.
mod common;
use certdeck::ca::pki::KeyKind;
use common::{openssl, Env, Pki};

fn assert_refused(out: &(i32, serde_json::Value), rule: &str, field: &str) {
    assert_eq!(out.0, 1, "{}", out.1);
    assert_eq!(out.1["error"]["rule"], rule, "{}", out.1);
    assert_eq!(out.1["error"]["field"], field, "{}", out.1);
}

#[test]
fn rule_u1_imports_a_full_chain_with_the_contract_fields() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["shop.example", "www.shop.example"], 45);
    let cert = env.write("chain.pem", pki.full_chain(&leaf));
    let key = env.write("key.pem", &leaf.key_pem);
    let (code, v) = env.import(
        &cert,
        Some(&key),
        &[
            "--name",
            "Shop",
            "--tag",
            "env=prod",
            "--tag",
            "team=web",
            "--project",
            "retail",
        ],
    );
    assert_eq!(code, 0, "{v}");
    for field in [
        "id",
        "name",
        "source",
        "status",
        "brand",
        "cert_type",
        "standard",
        "subject_cn",
        "domains",
        "issuer",
        "serial",
        "not_before",
        "not_after",
        "days_left",
        "fingerprint_sha256",
        "key_algorithm",
        "key_bits",
        "chain_len",
        "chain_complete",
        "auto_renew",
        "ignored",
        "tags",
        "project",
        "warnings",
    ] {
        assert!(v.get(field).is_some(), "missing {field} in {v}");
    }
    assert_eq!(v["id"].as_str().unwrap().len(), 8);
    assert_eq!(v["name"], "Shop");
    assert_eq!(v["source"], "uploaded");
    assert_eq!(v["status"], "issued");
    assert_eq!(v["standard"], "international");
    assert_eq!(v["subject_cn"], "shop.example");
    assert_eq!(
        v["domains"],
        serde_json::json!(["shop.example", "www.shop.example"])
    );
    assert_eq!(v["issuer"], "Test Intermediate");
    assert_eq!(v["key_algorithm"], "ecdsa");
    assert_eq!(v["key_bits"], 256);
    assert_eq!(v["chain_len"], 3);
    assert_eq!(v["chain_complete"], true);
    assert_eq!(v["days_left"], 44, "floor of 45 days minus a few seconds");
    assert_eq!(v["tags"]["env"], "prod");
    assert_eq!(v["project"], "retail");
    assert_eq!(v["warnings"], serde_json::json!([]));
    let fp = v["fingerprint_sha256"].as_str().unwrap();
    assert_eq!(fp.len(), 64);
    assert!(fp
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
    let text = String::from_utf8_lossy(
        &env.run(&["show", v["id"].as_str().unwrap(), "--json"])
            .stdout,
    )
    .to_string();
    assert!(!text.contains("PRIVATE KEY"), "show never prints a key");
    assert!(
        !std::fs::read(env.db())
            .unwrap()
            .windows(11)
            .any(|w| w == b"PRIVATE KEY"),
        "keys are encrypted at rest"
    );
}

#[test]
fn rule_u1_pkcs1_sec1_and_ed25519_keys_are_accepted() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    // PKCS#1 (BEGIN RSA PRIVATE KEY), as `openssl genrsa -traditional` writes it.
    let rsa = pki.leaf_kind(&["rsa.example"], KeyKind::Rsa2048, 90);
    let pkcs1 = openssl(&["pkey", "-traditional"], rsa.key_pem.as_bytes());
    assert!(String::from_utf8_lossy(&pkcs1).contains("BEGIN RSA PRIVATE KEY"));
    let (code, v) = env.import(
        &env.write("rsa.pem", &rsa.cert_pem),
        Some(&env.write("rsa.key", pkcs1)),
        &[],
    );
    assert_eq!(
        (code, v["key_algorithm"].as_str(), v["key_bits"].as_u64()),
        (0, Some("rsa"), Some(2048)),
        "{v}"
    );
    // SEC1 (BEGIN EC PRIVATE KEY) on P-384.
    let ec = pki.leaf_kind(&["ec.example"], KeyKind::P384, 90);
    let sec1 = openssl(&["ec"], ec.key_pem.as_bytes());
    assert!(String::from_utf8_lossy(&sec1).contains("BEGIN EC PRIVATE KEY"));
    let (code, v) = env.import(
        &env.write("ec.pem", &ec.cert_pem),
        Some(&env.write("ec.key", sec1)),
        &[],
    );
    assert_eq!((code, v["key_bits"].as_u64()), (0, Some(384)), "{v}");
    let ed = pki.leaf_kind(&["ed.example"], KeyKind::Ed25519, 90);
    let (code, v) = env.import(
        &env.write("ed.pem", &ed.cert_pem),
        Some(&env.write("ed.key", &ed.key_pem)),
        &[],
    );
    assert_eq!(
        (code, v["key_algorithm"].as_str()),
        (0, Some("ed25519")),
        "{v}"
    );
}

#[test]
fn rule_u3_sm2_upload_with_both_pairs() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::Sm2);
    let sign = pki.leaf_kind(&["sm2.example"], KeyKind::Sm2, 90);
    let enc = pki.leaf_kind(&["sm2.example"], KeyKind::Sm2, 90);
    let enc_cert = env.write("enc.pem", &enc.cert_pem);
    let enc_key = env.write("enc.key", &enc.key_pem);
    let args = [
        "--enc-cert",
        enc_cert.to_str().unwrap(),
        "--enc-key",
        enc_key.to_str().unwrap(),
    ];
    let (code, v) = env.import(
        &env.write("sign.pem", pki.full_chain(&sign)),
        Some(&env.write("sign.key", &sign.key_pem)),
        &args,
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["standard"], "sm2");
    assert_eq!(v["key_algorithm"], "sm2");
    let (code, v) = env.import(
        &env.write(
            "sign2.pem",
            pki.full_chain(&pki.leaf_kind(&["b.example"], KeyKind::Sm2, 9)),
        ),
        Some(&env.write("sign2.key", &sign.key_pem)),
        &[],
    );
    assert_eq!(code, 1, "{v}");
}

#[test]
fn rule_u5_crlf_and_text_around_blocks() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["crlf.example"], 90);
    let crlf = pki.full_chain(&leaf).replace('\n', "\r\n");
    let (code, v) = env.import(
        &env.write("crlf.pem", crlf),
        Some(&env.write("crlf.key", leaf.key_pem.replace('\n', "\r\n"))),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    let leaf = pki.leaf(&["bag.example"], 90);
    let bag = format!(
        "Bag Attributes\n    localKeyID: 01 00 00 00\n    friendlyName: bag\nsubject=/CN=bag.example\nissuer=/CN=Test Intermediate\n{}\nBag Attributes\n    friendlyName: ca\n{}",
        leaf.cert_pem,
        pki.inter.pem()
    );
    let key = format!(
        "Bag Attributes\n    localKeyID: 01 00 00 00\nKey Attributes: <No Attributes>\n{}",
        leaf.key_pem
    );
    let (code, v) = env.import(
        &env.write("bag.pem", bag),
        Some(&env.write("bag.key", key)),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["chain_len"], 2);
}

#[test]
fn rule_u5_der_certificate_file() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["der.example"], 90);
    let (code, v) = env.import(
        &env.write("leaf.der", &leaf.der),
        Some(&env.write("leaf.key", &leaf.key_pem)),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["chain_len"], 1);
    assert_eq!(v["chain_complete"], false);
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "chain_unknown_issuer"));
}

#[test]
fn rule_u5_combined_bundle_given_as_the_certificate_alone() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["haproxy.example"], 90);
    let bundle = format!("{}{}{}", leaf.cert_pem, pki.inter.pem(), leaf.key_pem);
    let (code, v) = env.import(&env.write("bundle.pem", bundle), None, &[]);
    assert_eq!(code, 0, "{v}");
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "key_from_bundle"));
}

#[test]
fn rule_u5_out_of_order_chain_is_stored_leaf_first() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["order.example"], 90);
    let shuffled = format!("{}{}{}", pki.root.pem(), pki.inter.pem(), leaf.cert_pem);
    let (code, v) = env.import(
        &env.write("c.pem", shuffled),
        Some(&env.write("k.pem", &leaf.key_pem)),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["subject_cn"], "order.example");
    assert!(v["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .any(|w| w["code"] == "chain_reordered"));
    let (_, shown) = env.json(&["show", v["id"].as_str().unwrap()]);
    let chain = shown["chain"].as_array().unwrap();
    assert!(chain[0]["subject"]
        .as_str()
        .unwrap()
        .contains("order.example"));
    assert!(chain[1]["subject"]
        .as_str()
        .unwrap()
        .contains("Test Intermediate"));
    assert!(chain[2]["subject"].as_str().unwrap().contains("Test Root"));
}

#[test]
fn rule_u2_incomplete_chain_is_allowed_with_a_warning() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["partial.example"], 90);
    let (code, v) = env.import(
        &env.write("c.pem", &leaf.cert_pem),
        Some(&env.write("k.pem", &leaf.key_pem)),
        &[],
    );
    assert_eq!(code, 0);
    assert_eq!(v["chain_complete"], false);
}

#[test]
fn rule_u2_mismatched_key_is_refused_and_nothing_stored() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let a = pki.leaf(&["a.example"], 90);
    let b = pki.leaf(&["b.example"], 90);
    let out = env.import(
        &env.write("a.pem", &a.cert_pem),
        Some(&env.write("b.key", &b.key_pem)),
        &[],
    );
    assert_refused(&out, "U-2", "key");
    assert_eq!(out.1["error"]["line"], 1);
    let (_, list) = env.json(&["list"]);
    assert_eq!(list, serde_json::json!([]));
}

#[test]
fn rule_u7_key_in_the_certificate_field() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let a = pki.leaf(&["a.example"], 90);
    let key = env.write("a.key", &a.key_pem);
    let out = env.import(&key, Some(&key), &[]);
    assert_refused(&out, "U-7", "cert");
    assert_eq!(out.1["error"]["line"], 1);
    assert!(out.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("key field"));
}

#[test]
fn rule_u7_truncated_pem_names_the_line() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let a = pki.leaf(&["a.example"], 90);
    let chain = pki.full_chain(&a);
    let cut = &chain[..chain.len() - 200];
    let out = env.import(
        &env.write("cut.pem", cut),
        Some(&env.write("a.key", &a.key_pem)),
        &[],
    );
    assert_refused(&out, "U-7", "cert");
    assert!(out.1["error"]["line"].as_u64().is_some());
    assert!(
        out.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("truncated"),
        "{}",
        out.1
    );
}

#[test]
fn rule_u7_garbage_and_binary() {
    let env = Env::new();
    let key = env.write("k.pem", "whatever");
    let out = env.import(
        &env.write("garbage.txt", "hello, this is not a certificate\n"),
        Some(&key),
        &[],
    );
    assert_refused(&out, "U-7", "cert");
    let out = env.import(
        &env.write("random.bin", [0x00u8, 0xff, 0x13, 0x37, 0x80, 0x81]),
        Some(&key),
        &[],
    );
    assert_refused(&out, "U-7", "cert");
    assert!(out.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("binary"));
    let out = env.import(&env.write("empty.pem", ""), Some(&key), &[]);
    assert_refused(&out, "U-7", "cert");
}

#[test]
fn rule_u7_encrypted_key_with_and_without_password() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["enc.example"], 90);
    let encrypted = openssl(
        &[
            "pkcs8",
            "-topk8",
            "-v2",
            "aes-256-cbc",
            "-passout",
            "pass:s3cret",
        ],
        leaf.key_pem.as_bytes(),
    );
    assert!(String::from_utf8_lossy(&encrypted).contains("BEGIN ENCRYPTED PRIVATE KEY"));
    let cert = env.write("c.pem", &leaf.cert_pem);
    let key = env.write("enc.key", encrypted);
    let out = env.import(&cert, Some(&key), &[]);
    assert_refused(&out, "U-7", "key");
    assert!(
        out.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("encrypted"),
        "{}",
        out.1
    );
    let wrong = env.write("wrong.txt", "nope\n");
    let out = env.import(
        &cert,
        Some(&key),
        &["--key-password-file", wrong.to_str().unwrap()],
    );
    assert_refused(&out, "U-7", "key");
    assert!(out.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("password"));
    let right = env.write("pw.txt", "s3cret\n");
    let (code, v) = env.import(
        &cert,
        Some(&key),
        &["--key-password-file", right.to_str().unwrap()],
    );
    assert_eq!(code, 0, "{v}");
}

#[test]
fn rule_u7_input_over_one_mebibyte_is_refused() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["big.example"], 90);
    let mut exactly = pki.full_chain(&leaf).into_bytes();
    exactly.resize(1024 * 1024, b'\n');
    let key = env.write("k.pem", &leaf.key_pem);
    let (code, v) = env.import(&env.write("exact.pem", &exactly), Some(&key), &[]);
    assert_eq!(code, 0, "exactly 1 MiB is accepted: {v}");
    exactly.push(b'\n');
    let out = env.import(&env.write("over.pem", &exactly), Some(&key), &[]);
    assert_refused(&out, "U-7", "cert");
    assert!(out.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("1 MiB"));
}

#[test]
fn rule_u6_duplicate_upload_names_the_existing_id() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["dup.example"], 90);
    let cert = env.write("c.pem", pki.full_chain(&leaf));
    let key = env.write("k.pem", &leaf.key_pem);
    let (code, first) = env.import(&cert, Some(&key), &[]);
    assert_eq!(code, 0);
    let out = env.import(&cert, Some(&key), &["--name", "again"]);
    assert_refused(&out, "U-6", "cert");
    assert!(out.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains(first["id"].as_str().unwrap()));
}

#[test]
fn bad_tags_and_usage_errors() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["t.example"], 90);
    let cert = env.write("c.pem", &leaf.cert_pem);
    let key = env.write("k.pem", &leaf.key_pem);
    assert_refused(
        &env.import(&cert, Some(&key), &["--tag", "novalue"]),
        "U-1",
        "tag",
    );
    let out = env.run(&["import", "--key", "x"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "missing --cert is a usage error"
    );
    let out = env.run(&["import", "--cert", "/nonexistent/file.pem"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn list_filters_and_delete_contract() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let mut ids = Vec::new();
    for (d, days) in [("soon.example", 10), ("later.example", 200)] {
        let leaf = pki.leaf(&[d], days);
        let (code, v) = env.import(
            &env.write(&format!("{d}.pem"), &leaf.cert_pem),
            Some(&env.write(&format!("{d}.key"), &leaf.key_pem)),
            &[],
        );
        assert_eq!(code, 0);
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (_, all) = env.json(&["list"]);
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_eq!(all[0]["domains"][0], "soon.example", "soonest expiry first");
    let (_, soon) = env.json(&["list", "--expiring", "30"]);
    assert_eq!(soon.as_array().unwrap().len(), 1);
    let (_, issued) = env.json(&["list", "--status", "issued"]);
    assert_eq!(issued.as_array().unwrap().len(), 2);
    let (_, expired) = env.json(&["list", "--status", "expired"]);
    assert_eq!(expired.as_array().unwrap().len(), 0);

    let out = env.json(&["delete", &ids[0]]);
    assert_eq!(
        out.0, 1,
        "no --yes and no terminal: refused, nothing deleted"
    );
    assert!(out.1["error"]["message"]
        .as_str()
        .unwrap()
        .contains("--yes"));
    let (code, v) = env.json(&["delete", &ids[0], "--yes"]);
    assert_eq!((code, v["deleted"].as_str()), (0, Some(ids[0].as_str())));
    let (code, _) = env.json(&["show", &ids[0]]);
    assert_eq!(code, 1);
    let (_, all) = env.json(&["list"]);
    assert_eq!(all.as_array().unwrap().len(), 1);
}

#[test]
fn a_second_process_is_told_who_holds_the_database() {
    let env = Env::new();
    let store = env.open_store("test holder");
    let out = env.run(&["list", "--json"]);
    assert_eq!(out.status.code(), Some(3));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let msg = v["error"]["message"].as_str().unwrap();
    assert!(
        msg.contains(&format!("pid {}", std::process::id())),
        "{msg}"
    );
    assert!(msg.contains("test holder"), "{msg}");
    drop(store);
    assert_eq!(env.run(&["list"]).status.code(), Some(0));
}

#[test]
fn rule_ig1_ignore_only_within_thirty_days_and_unignore_any_time() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let mut ids = Vec::new();
    for (d, days) in [("soon.example", 30), ("later.example", 90)] {
        let leaf = pki.leaf(&[d], days);
        let (_, v) = env.import(
            &env.write(&format!("{d}.pem"), &leaf.cert_pem),
            Some(&env.write(&format!("{d}.key"), &leaf.key_pem)),
            &[],
        );
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    let (code, v) = env.json(&["ignore", &ids[0]]);
    assert_eq!((code, v["ignored"].as_bool()), (0, Some(true)), "{v}");
    let (code, v) = env.json(&["ignore", &ids[1]]);
    assert_eq!(
        (code, v["error"]["rule"].as_str()),
        (1, Some("IG-1")),
        "{v}"
    );
    let (code, v) = env.json(&["unignore", &ids[0]]);
    assert_eq!((code, v["ignored"].as_bool()), (0, Some(false)), "{v}");
}

#[test]
fn export_writes_server_files_with_private_keys_0600() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["export.example"], 90);
    let (_, v) = env.import(
        &env.write("c.pem", pki.full_chain(&leaf)),
        Some(&env.write("k.pem", &leaf.key_pem)),
        &[],
    );
    let id = v["id"].as_str().unwrap().to_string();
    let out = env.path("nginx");
    let (code, r) = env.json(&[
        "export",
        &id,
        "--format",
        "nginx",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{r}");
    let crt = std::fs::read_to_string(out.join("export.example.crt")).unwrap();
    assert_eq!(
        crt.matches("BEGIN CERTIFICATE").count(),
        2,
        "leaf and intermediate, no root"
    );
    let key = out.join("export.example.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // openssl agrees the key is the certificate's.
    let cert_pub = openssl(&["x509", "-noout", "-pubkey"], crt.as_bytes());
    let key_pub = openssl(&["pkey", "-pubout"], &std::fs::read(&key).unwrap());
    assert_eq!(cert_pub, key_pub);
    // Existing files are not replaced without --force; other formats work.
    let (code, _) = env.json(&[
        "export",
        &id,
        "--format",
        "nginx",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(code, 1);
    assert_eq!(
        env.json(&[
            "export",
            &id,
            "--format",
            "nginx",
            "--out",
            out.to_str().unwrap(),
            "--force"
        ])
        .0,
        0
    );
    let hap = env.path("haproxy");
    assert_eq!(
        env.json(&[
            "export",
            &id,
            "--format",
            "haproxy",
            "--out",
            hap.to_str().unwrap()
        ])
        .0,
        0
    );
    let combined = std::fs::read_to_string(hap.join("export.example.pem")).unwrap();
    assert!(combined.contains("BEGIN CERTIFICATE") && combined.contains("PRIVATE KEY"));
    assert_eq!(
        std::fs::metadata(hap.join("export.example.pem"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
    let pem = env.path("pem");
    assert_eq!(
        env.json(&["export", &id, "--out", pem.to_str().unwrap()]).0,
        0
    );
    for f in ["cert.pem", "chain.pem", "fullchain.pem", "privkey.pem"] {
        assert!(pem.join(f).exists(), "{f}");
    }
}

#[test]
fn orders_without_a_certificate_cannot_be_exported() {
    let env = Env::new();
    env.json(&["account", "topup", "500"]);
    let (_, v) = env.json(&[
        "apply",
        "--domain",
        "pending.example.com",
        "--product",
        "dnspod-dv",
    ]);
    let (code, r) = env.json(&[
        "export",
        v["id"].as_str().unwrap(),
        "--out",
        env.path("x").to_str().unwrap(),
    ]);
    assert_eq!(
        (code, r["error"]["rule"].as_str()),
        (1, None),
        "no SPEC rule names this: the rule is null, not an internal tag: {r}"
    );
    assert!(!env.path("x").join("privkey.pem").exists());
}

#[test]
fn export_pkcs12_wraps_a_sec1_key_and_openssl_opens_it_with_the_password() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["p12.example"], 90);
    // The key as a traditional SEC1 "EC PRIVATE KEY": stored as given, wrapped into PKCS#8.
    let sec1 = openssl(&["ec"], leaf.key_pem.as_bytes());
    assert!(String::from_utf8_lossy(&sec1).contains("BEGIN EC PRIVATE KEY"));
    let (code, v) = env.import(
        &env.write("c.pem", pki.full_chain(&leaf)),
        Some(&env.write("k.pem", &sec1)),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    let id = v["id"].as_str().unwrap().to_string();
    let out = env.path("p12");
    let (code, r) = env.json(&[
        "export",
        &id,
        "--format",
        "pkcs12",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert_eq!(
        (code, r["error"]["field"].as_str()),
        (1, Some("password")),
        "a PKCS#12 file needs a password: {r}"
    );
    let pw = env.write("pw", "p12 secret\n");
    let (code, r) = env.json(&[
        "export",
        &id,
        "--format",
        "pkcs12",
        "--out",
        out.to_str().unwrap(),
        "--password-file",
        pw.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{r}");
    let file = out.join("p12.example.p12");
    assert_eq!(
        std::fs::metadata(&file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let opened = std::process::Command::new("openssl")
        .args(["pkcs12", "-nodes", "-passin", "pass:p12 secret", "-in"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        opened.status.success(),
        "{}",
        String::from_utf8_lossy(&opened.stderr)
    );
    let text = String::from_utf8_lossy(&opened.stdout).to_string();
    assert_eq!(
        text.matches("BEGIN CERTIFICATE").count(),
        2,
        "leaf and intermediate: {text}"
    );
    let key_start = text
        .find("-----BEGIN PRIVATE KEY-----")
        .expect("the key is in the bundle");
    let key_pub = openssl(&["pkey", "-pubout"], &text.as_bytes()[key_start..]);
    let cert_pub = openssl(
        &["x509", "-noout", "-pubkey"],
        pki.full_chain(&leaf).as_bytes(),
    );
    assert_eq!(key_pub, cert_pub);
    let wrong = std::process::Command::new("openssl")
        .args(["pkcs12", "-nodes", "-passin", "pass:wrong", "-in"])
        .arg(&file)
        .output()
        .unwrap();
    assert!(!wrong.status.success());
}

/// The chain warnings' codes of an import's answer.
fn chain_codes(v: &serde_json::Value) -> Vec<String> {
    v["warnings"]
        .as_array()
        .map(|w| {
            w.iter()
                .filter_map(|w| w["code"].as_str())
                .filter(|c| c.starts_with("chain_"))
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn rule_u2_trusting_a_private_root_completes_its_chains_and_a_missing_public_intermediate_is_named()
{
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let served = |name: &str| {
        let leaf = pki.leaf(&[&format!("{name}.example")], 90);
        let chain = format!("{}{}", leaf.cert_pem, pki.inter.pem());
        env.import(
            &env.write(&format!("{name}.pem"), chain),
            Some(&env.write(&format!("{name}.key"), &leaf.key_pem)),
            &[],
        )
    };
    // Leaf + intermediate of a private CA: the issuer at its end is named, with the way out.
    let (code, v) = served("before");
    assert_eq!(code, 0, "{v}");
    assert_eq!(chain_codes(&v), ["chain_unknown_issuer"], "{v}");
    let text = v["warnings"].to_string();
    assert!(
        text.contains("Test Root") && text.contains("certdeck trust add"),
        "{text}"
    );

    // Only CA certificates are trusted, never with a key (and the key is not echoed).
    let leaf = pki.leaf(&["leaf.example"], 90);
    let (code, e) = env.json(&[
        "trust",
        "add",
        env.write("leaf.pem", &leaf.cert_pem).to_str().unwrap(),
    ]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("U-2")), "{e}");
    let with_key = env.write(
        "rootkey.pem",
        format!("{}{}", pki.root.pem(), pki.root.key_pem()),
    );
    let (code, e) = env.json(&["trust", "add", with_key.to_str().unwrap()]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("U-2")), "{e}");
    assert!(!e.to_string().contains("PRIVATE KEY-----\n"), "{e}");

    // Trusted: the same shape of chain is complete and earns no warning.
    let root = env.write("root.pem", pki.root.pem());
    let (code, t) = env.json(&["trust", "add", root.to_str().unwrap()]);
    assert_eq!((code, t["added"].as_u64()), (0, Some(1)), "{t}");
    let (code, t) = env.json(&["trust", "add", root.to_str().unwrap()]);
    assert_eq!(
        (code, t["added"].as_u64()),
        (0, Some(0)),
        "adding twice keeps one: {t}"
    );
    let (code, v) = served("after");
    assert_eq!(code, 0, "{v}");
    assert_eq!(
        (v["chain_complete"].as_bool(), chain_codes(&v)),
        (Some(true), vec![]),
        "{v}"
    );
    let (_, l) = env.json(&["trust", "list"]);
    let fp = l["roots"][0]["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        l["roots"][0]["subject"]
            .as_str()
            .unwrap()
            .contains("Test Root"),
        "{l}"
    );
    assert!(l["built_in"].as_u64().unwrap() > 100, "{l}");

    // A leaf whose intermediate is public (its AIA names where): "incomplete", with the URL.
    let dir = env.path("aia");
    std::fs::create_dir_all(&dir).unwrap();
    let p = |n: &str| dir.join(n).to_str().unwrap().to_string();
    std::fs::write(p("inter.pem"), pki.inter.pem()).unwrap();
    std::fs::write(p("inter.key"), pki.inter.key_pem()).unwrap();
    std::fs::write(
        p("ext.cnf"),
        "subjectAltName=DNS:aia.example\nauthorityInfoAccess=caIssuers;URI:http://ca.example/inter.der\n",
    )
    .unwrap();
    openssl(
        &[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            &p("leaf.key"),
        ],
        b"",
    );
    openssl(
        &[
            "req",
            "-new",
            "-key",
            &p("leaf.key"),
            "-subj",
            "/CN=aia.example",
            "-out",
            &p("leaf.csr"),
        ],
        b"",
    );
    openssl(
        &[
            "x509",
            "-req",
            "-in",
            &p("leaf.csr"),
            "-CA",
            &p("inter.pem"),
            "-CAkey",
            &p("inter.key"),
            "-CAcreateserial",
            "-days",
            "90",
            "-extfile",
            &p("ext.cnf"),
            "-out",
            &p("leaf.pem"),
        ],
        b"",
    );
    let (code, v) = env.import(
        dir.join("leaf.pem").as_path(),
        Some(dir.join("leaf.key").as_path()),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    assert_eq!(chain_codes(&v), ["chain_incomplete"], "{v}");
    assert!(
        v["warnings"]
            .to_string()
            .contains("http://ca.example/inter.der"),
        "{v}"
    );

    // No longer trusted: back to the unknown issuer.
    let (code, r) = env.json(&["trust", "rm", &fp[..12]]);
    assert_eq!(code, 0, "{r}");
    let (_, v) = served("again");
    assert_eq!(chain_codes(&v), ["chain_unknown_issuer"], "{v}");
    let (code, r) = env.json(&["trust", "rm", &fp[..12]]);
    assert_eq!((code, r["error"]["rule"].as_str()), (1, Some("U-2")), "{r}");
}
