//! DS-1, DS-3, DS-4, DS-6: `scan` over a generated tree of every format certdeck reads, with the
//! files it must skip and say why; rescans after files are changed, replaced and deleted.
mod common;
use certdeck::ca::pki::KeyKind;
use common::{openssl, Env, Pki};

struct Tree {
    pki: Pki,
    leaves: Vec<certdeck::ca::pki::Issued>,
}

/// A tree of certificate files as a server has them.
fn tree(env: &Env) -> (std::path::PathBuf, Tree) {
    let root = env.path("etc");
    let pki = Pki::new(KeyKind::P256);
    let leaves: Vec<_> = (0..6)
        .map(|i| pki.leaf(&[&format!("site{i}.example.test")], 30 + i as i64))
        .collect();
    let w = |rel: &str, bytes: &[u8]| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    };
    // A Let's Encrypt-style lineage: fullchain (leaf, intermediate, root) and the key beside.
    w(
        "letsencrypt/live/site0/fullchain.pem",
        pki.full_chain(&leaves[0]).as_bytes(),
    );
    w(
        "letsencrypt/live/site0/privkey.pem",
        leaves[0].key_pem.as_bytes(),
    );
    // DER.
    w("ssl/certs/site1.der", &leaves[1].der);
    // A combined PEM (certificate and key in one file), with CRLF line ends.
    w(
        "haproxy/certs/site2.pem",
        format!("{}{}", leaves[2].cert_pem, leaves[2].key_pem)
            .replace('\n', "\r\n")
            .as_bytes(),
    );
    // PKCS#7 (certs only), as openssl writes it.
    let p7 = openssl(
        &[
            "crl2pkcs7",
            "-nocrl",
            "-certfile",
            "/dev/stdin",
            "-outform",
            "DER",
        ],
        leaves[3].cert_pem.as_bytes(),
    );
    w("ssl/site3.p7b", &p7);
    // PKCS#12 without a password and with one.
    let p12 = |leaf: &certdeck::ca::pki::Issued, pass: &str| {
        let pem = env.write(
            &format!("p12-{}.pem", leaf.der.len()),
            format!("{}{}", leaf.cert_pem, leaf.key_pem),
        );
        openssl(
            &[
                "pkcs12",
                "-export",
                "-in",
                pem.to_str().unwrap(),
                "-passout",
                &format!("pass:{pass}"),
            ],
            b"",
        )
    };
    w("pki/site4.p12", &p12(&leaves[4], ""));
    w("pki/site5.pfx", &p12(&leaves[5], "s3cret"));
    // What must be skipped, with the reason.
    w("ssl/notes.txt", b"not a certificate");
    w("ssl/big.pem", &vec![b'a'; 1024 * 1024 + 1]);
    std::os::unix::fs::symlink("nowhere.pem", root.join("ssl/dangling.pem")).unwrap();
    std::os::unix::fs::symlink(root.join("ssl"), root.join("ssl/loop")).unwrap();
    (root, Tree { pki, leaves })
}

/// The tree, scanned with the PKCS#12 password.
fn scanned(env: &Env) -> (std::path::PathBuf, Tree, serde_json::Value) {
    let (root, t) = tree(env);
    let pass = env.write("p12.pass", "s3cret\n");
    let (code, r) = env.json(&[
        "scan",
        root.to_str().unwrap(),
        "--pkcs12-password-file",
        pass.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{r}");
    (root, t, r)
}

/// The row of `list` (a `list --json`) for the certificate `der`.
fn row(list: &serde_json::Value, der: &[u8]) -> serde_json::Value {
    common::row_of(list, der)
}

fn fingerprint(der: &[u8]) -> String {
    common::fingerprint(der, "DER")
}

#[test]
fn rule_ds1_every_format_is_read_and_what_is_not_says_why() {
    let env = Env::new();
    let (root, _, r) = scanned(&env);
    // Six leaves, the intermediate and the root (found in the fullchain).
    assert_eq!(r["certificates"], 8, "{r}");
    assert_eq!(r["new"], 8, "{r}");
    let reasons: Vec<(String, String)> = r["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["path"]
                    .as_str()
                    .unwrap()
                    .rsplit('/')
                    .next()
                    .unwrap()
                    .to_string(),
                e["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    for want in [
        ("notes.txt", "not_a_certificate"),
        ("big.pem", "too_large"),
        ("dangling.pem", "broken_symlink"),
        ("privkey.pem", "not_a_certificate"),
    ] {
        assert!(
            reasons.contains(&(want.0.to_string(), want.1.to_string())),
            "{want:?} in {reasons:?}"
        );
    }
    assert!(
        reasons.iter().any(|(_, why)| why == "symlink_loop"),
        "{reasons:?}"
    );
    // Without the password (another store, so the files are read afresh) it is said as such.
    let other = Env::new();
    let (_, r) = other.json(&["scan", root.join("pki").to_str().unwrap()]);
    assert!(r["errors"].to_string().contains("bad_password"), "{r}");
}

#[test]
fn rule_ds4_rescans_read_only_what_changed_and_mark_gone_and_replaced_certificates() {
    let env = Env::new();
    let (root, t) = tree(&env);
    let dir = root.to_str().unwrap();
    let (_, first) = env.json(&["scan", dir]);
    assert_eq!(first["new"], 7, "{first}");
    let (_, again) = env.json(&["scan", dir]);
    assert_eq!(
        (
            again["new"].as_u64(),
            again["changed"].as_u64(),
            again["gone"].as_u64()
        ),
        (Some(0), Some(0), Some(0)),
        "{again}"
    );
    assert_eq!(again["unchanged"], 7, "{again}");
    // site1.der renewed by another tool; site3.p7b deleted.
    let renewed = t.pki.leaf(&["site1.example.test"], 90);
    std::fs::write(root.join("ssl/certs/site1.der"), &renewed.der).unwrap();
    std::fs::remove_file(root.join("ssl/site3.p7b")).unwrap();
    let (_, r) = env.json(&["scan", dir]);
    assert_eq!(r["new"], 1, "{r}");
    assert_eq!(r["changed"], 1, "{r}");
    assert_eq!(r["gone"], 2, "{r}");
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let by_fp = |der: &[u8]| row(&list, der);
    let old1 = by_fp(&t.leaves[1].der);
    assert!(old1["gone_at"].is_string(), "kept, marked gone: {old1}");
    let (_, shown) = env.json(&["show", old1["id"].as_str().unwrap()]);
    assert!(
        shown["timeline"]
            .to_string()
            .contains("now holds another certificate"),
        "{shown}"
    );
    let old3 = by_fp(&t.leaves[3].der);
    let (_, shown) = env.json(&["show", old3["id"].as_str().unwrap()]);
    assert!(
        shown["timeline"]
            .to_string()
            .contains("gone: no file holds it"),
        "{shown}"
    );
    assert!(by_fp(&renewed.der)["gone_at"].is_null());
    // Put back: found again.
    std::fs::write(root.join("ssl/site3.p7b"), b"").unwrap();
    std::fs::remove_file(root.join("ssl/site3.p7b")).unwrap();
}

#[test]
fn rule_ds3_each_distinct_certificate_is_one_watched_record_with_its_paths() {
    let env = Env::new();
    let (_, t, _) = scanned(&env);
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 8);
    for leaf in &t.leaves {
        let fp = fingerprint(&leaf.der);
        let c = list
            .iter()
            .find(|c| c["fingerprint_sha256"] == fp.as_str())
            .unwrap_or_else(|| panic!("{fp} found: {list:?}"));
        assert_eq!(c["source"], "discovered");
        assert_eq!(c["status"], "issued");
    }
    // The intermediate, found in the fullchain, is one certificate with its path.
    let inter = fingerprint(&t.pki.inter.der);
    let c = list
        .iter()
        .find(|c| c["fingerprint_sha256"] == inter.as_str())
        .unwrap();
    assert!(
        c["paths"][0].as_str().unwrap().ends_with("fullchain.pem"),
        "{c}"
    );
}

#[test]
fn rule_ds6_a_key_is_noted_by_path_and_never_copied_into_the_store() {
    let env = Env::new();
    let (_, t, _) = scanned(&env);
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let list = list.as_array().unwrap().clone();
    // A combined file's key path is the file itself; the key is never stored (DS-6).
    let site2 = fingerprint(&t.leaves[2].der);
    let c = list
        .iter()
        .find(|c| c["fingerprint_sha256"] == site2.as_str())
        .unwrap();
    assert!(
        c["key_path"].as_str().unwrap().ends_with("site2.pem"),
        "{c}"
    );
    let file = std::fs::read(env.db()).unwrap();
    for leaf in &t.leaves {
        let body: String = leaf
            .key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .collect();
        assert!(
            !file.windows(24).any(|w| w == &body.as_bytes()[..24]),
            "no key in the store"
        );
    }
}

#[test]
fn rule_ds2_sites_in_nginx_apache_and_haproxy_configuration_link_their_certificates() {
    let env = Env::new();
    let (root, t) = tree(&env);
    let w = |rel: &str, text: String| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    let r = root.display();
    w(
        "nginx/nginx.conf",
        "events {}\nhttp {\n  include sites-enabled/*;\n}\n".into(),
    );
    w(
        "nginx/sites-enabled/shop",
        format!("server {{\n  listen 443 ssl;\n  server_name site0.example.test;\n  ssl_certificate {r}/letsencrypt/live/site0/fullchain.pem;\n  ssl_certificate_key {r}/letsencrypt/live/site0/privkey.pem;\n}}\nserver {{\n  listen 8443 ssl;\n  server_name other.example.test;\n  ssl_certificate {r}/haproxy/certs/site2.pem;\n}}\n"),
    );
    w(
        "apache2/apache2.conf",
        "IncludeOptional sites-enabled/*.conf\n".into(),
    );
    w(
        "apache2/sites-enabled/der.conf",
        format!("<VirtualHost *:443>\n  ServerName site1.example.test\n  SSLCertificateFile {r}/ssl/certs/site1.der\n</VirtualHost>\n"),
    );
    w(
        "haproxy/haproxy.cfg",
        format!("frontend web\n  bind :443 ssl crt {r}/haproxy/certs/\n"),
    );
    let (code, rep) = env.json(&["scan", root.to_str().unwrap()]);
    assert_eq!(code, 0, "{rep}");
    assert_eq!(rep["sites"].as_array().unwrap().len(), 4, "{rep}");
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let by_fp = |der: &[u8]| row(&list, der);
    let site0 = by_fp(&t.leaves[0].der);
    assert_eq!(
        site0["sites"][0]["names"][0], "site0.example.test",
        "{site0}"
    );
    assert_eq!(site0["sites"][0]["server"], "nginx");
    assert!(site0["sites"][0]["config"]
        .as_str()
        .unwrap()
        .ends_with("sites-enabled/shop"));
    // The configuration names its key: the leaf gets that key's path, never the key.
    assert!(
        site0["key_path"].as_str().unwrap().ends_with("privkey.pem"),
        "{site0}"
    );
    let inter = by_fp(&t.pki.inter.der);
    assert_eq!(inter["key_path"], serde_json::Value::Null, "{inter}");
    let site1 = by_fp(&t.leaves[1].der);
    assert_eq!(site1["sites"][0]["server"], "apache", "{site1}");
    // site2.pem is loaded by nginx (by name) and HAProxy (its directory).
    let site2 = by_fp(&t.leaves[2].der);
    let mut servers: Vec<&str> = site2["sites"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["server"].as_str().unwrap())
        .collect();
    servers.sort();
    assert_eq!(servers, vec!["haproxy", "nginx"], "{site2}");
    // Each site is proposed as a resource with its server's commands, aimed at the
    // configuration found (not the server's default one).
    let proposed: Vec<&str> = rep["proposed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reload"].as_str().unwrap())
        .collect();
    let nginx_conf = root.join("nginx/nginx.conf");
    let haproxy_cfg = root.join("haproxy/haproxy.cfg");
    assert!(
        proposed.contains(&format!("nginx -s reload -c {}", nginx_conf.display()).as_str())
            && proposed.contains(&"apachectl graceful"),
        "{rep}"
    );
    let checks = rep["proposed"].to_string();
    assert!(
        checks.contains(&format!("haproxy -c -f {}", haproxy_cfg.display())),
        "{rep}"
    );
}

#[test]
fn rule_ds3_adopt_turns_a_discovered_certificate_with_its_key_into_an_uploaded_one() {
    let env = Env::new();
    let (_, t, _) = scanned(&env);
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let by_fp = |der: &[u8]| row(&list, der);
    // site2.pem holds its key: adopted, uploaded, its key sealed and exportable.
    let site2 = by_fp(&t.leaves[2].der)["id"].as_str().unwrap().to_string();
    let (code, a) = env.json(&["adopt", &site2]);
    assert_eq!(code, 0, "{a}");
    assert_eq!(a["source"], "uploaded", "{a}");
    let (code, e) = common::export_pem(&env, &site2);
    assert_eq!(code, 0, "{e}");
    let (_, still) = env.json(&["list", "--source", "discovered"]);
    assert!(!still.to_string().contains(&site2), "watched no more");
    // No key found: refused under DS-3, nothing changes.
    let site1 = by_fp(&t.leaves[1].der)["id"].as_str().unwrap().to_string();
    let (code, e) = env.json(&["adopt", &site1]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("DS-3")),
        "{e}"
    );
    // The intermediate in a fullchain is not its file's leaf.
    let inter = by_fp(&t.pki.inter.der)["id"].as_str().unwrap().to_string();
    let (code, e) = env.json(&["adopt", &inter]);
    assert_eq!(code, 1, "{e}");
}

#[test]
fn rule_ds1_the_cli_draws_a_progress_bar_on_a_terminal_and_nothing_when_piped() {
    let env = Env::new();
    let (root, _tree) = tree(&env);
    let root = root.to_str().unwrap();
    // On a terminal (`script` gives the command a pseudo-terminal): the bar is drawn in place,
    // then erased before the report.
    let c = env.command();
    let argv: Vec<String> = std::iter::once(c.get_program().to_string_lossy().into_owned())
        .chain(c.get_args().map(|a| a.to_string_lossy().into_owned()))
        .chain(["scan".to_string(), root.to_string()])
        .collect();
    let quoted: Vec<String> = argv.iter().map(|a| format!("'{a}'")).collect();
    let out = std::process::Command::new("script")
        .args(["-qec", &quoted.join(" "), "/dev/null"])
        .envs(c.get_envs().filter_map(|(k, v)| v.map(|v| (k, v))))
        .env_remove("CERTDECK_DB")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let tty = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{tty}");
    assert!(
        tty.contains("\r\x1b[2K[") && tty.contains("scan: listing files"),
        "{tty:?}"
    );
    assert!(tty.contains("100% scan: reading"), "{tty:?}");
    let report = tty.rsplit("\r\x1b[2K").next().unwrap();
    assert!(report.contains("certificate(s)"), "{report:?}");
    // Piped (a rescan now): stdout and stderr carry the report only.
    let out = env.run(&["scan", root]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("scan: reading") && !err.contains('\r'),
        "{err}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains("scan: reading"), "{text}");
}

#[test]
fn rule_ds4_the_tick_rescans_the_scanned_roots_hourly() {
    let env = Env::new();
    let (root, t) = tree(&env);
    let dir = root.to_str().unwrap();
    let t0 = "2026-12-01T09:00:00Z";
    let (_, first) = env.json(&["--now", t0, "scan", dir]);
    assert_eq!(first["new"], 7, "{first}");
    std::fs::remove_file(root.join("ssl/site3.p7b")).unwrap();
    // Within the hour the tick leaves the files alone.
    let (code, tick) = env.json(&["tick", "--now", "2026-12-01T09:59:59Z"]);
    assert_eq!(code, 0, "{tick}");
    assert!(tick["rescan"].is_null(), "{tick}");
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    assert!(row(&list, &t.leaves[3].der)["gone_at"].is_null(), "{list}");
    // An hour after the scan it rescans, and the deleted file's certificate is gone.
    let (_, tick) = env.json(&["tick", "--now", "2026-12-01T10:00:00Z"]);
    assert!(
        tick["rescan"]
            .as_str()
            .unwrap_or_default()
            .contains("1 gone"),
        "{tick}"
    );
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    assert!(
        row(&list, &t.leaves[3].der)["gone_at"].is_string(),
        "{list}"
    );
    // The next rescan is an hour after that one.
    let (_, tick) = env.json(&["tick", "--now", "2026-12-01T10:30:00Z"]);
    assert!(tick["rescan"].is_null(), "{tick}");
}

#[test]
fn rule_ds3_a_matching_key_beside_a_certificate_is_found_by_its_public_key() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let dir = env.path("etc/ssl/pairs");
    std::fs::create_dir_all(&dir).unwrap();
    let a = pki.leaf(&["a.example.test"], 60);
    let b = pki.leaf(&["b.example.test"], 60);
    let c = pki.leaf(&["c.example.test"], 60);
    std::fs::write(dir.join("a.crt"), &a.cert_pem).unwrap();
    std::fs::write(dir.join("b.crt"), &b.cert_pem).unwrap();
    std::fs::write(dir.join("c.crt"), &c.cert_pem).unwrap();
    // Names that do not pair them: only the public key can.
    std::fs::write(dir.join("first.key"), &b.key_pem).unwrap();
    std::fs::write(dir.join("second.key"), &a.key_pem).unwrap();
    // c's key sits in another directory: not "beside".
    std::fs::create_dir_all(env.path("etc/ssl/other")).unwrap();
    std::fs::write(env.path("etc/ssl/other/c.key"), &c.key_pem).unwrap();
    let (_, r) = env.json(&["scan", env.path("etc").to_str().unwrap()]);
    assert_eq!(r["new"], 3, "{r}");
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let key_of = |der: &[u8]| row(&list, der)["key_path"].clone();
    assert!(
        key_of(&a.der)
            .as_str()
            .unwrap()
            .ends_with("pairs/second.key"),
        "{list}"
    );
    assert!(
        key_of(&b.der)
            .as_str()
            .unwrap()
            .ends_with("pairs/first.key"),
        "{list}"
    );
    assert!(key_of(&c.der).is_null(), "{list}");
    // A rescan with nothing changed keeps them; the keys never reach the store (DS-6).
    let (_, again) = env.json(&["scan", env.path("etc").to_str().unwrap()]);
    assert_eq!(again["unchanged"], 3, "{again}");
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    assert!(row(&list, &a.der)["key_path"].is_string(), "{list}");
    let file = std::fs::read(env.db()).unwrap();
    let body: String = a
        .key_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    assert!(!file.windows(24).any(|w| w == &body.as_bytes()[..24]));
}

#[test]
fn rule_ds2_nginx_t_gives_nginx_own_view_of_its_includes() {
    // nginx resolves `include sites-*/site.conf` (a wildcard in a directory) and relative
    // certificate paths against its prefix: `nginx -T` is asked, not guessed.
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["shop.example.test"], 40);
    let conf_dir = env.path("etc/nginx");
    std::fs::create_dir_all(conf_dir.join("sites-a")).unwrap();
    std::fs::create_dir_all(conf_dir.join("certs")).unwrap();
    std::fs::write(conf_dir.join("certs/shop.crt"), &leaf.cert_pem).unwrap();
    std::fs::write(conf_dir.join("certs/shop.key"), &leaf.key_pem).unwrap();
    let d = conf_dir.display();
    std::fs::write(
        conf_dir.join("nginx.conf"),
        format!("pid {d}/nginx.pid;\nerror_log {d}/error.log;\nevents {{ worker_connections 16; }}\nhttp {{\n  access_log off;\n  include sites-*/site.conf;\n}}\n"),
    )
    .unwrap();
    std::fs::write(
        conf_dir.join("sites-a/site.conf"),
        "server {\n  listen 127.0.0.1:9 ssl;\n  server_name shop.example.test;\n  ssl_certificate certs/shop.crt;\n  ssl_certificate_key certs/shop.key;\n}\n",
    )
    .unwrap();
    let (code, rep) = env.json(&["scan", env.path("etc").to_str().unwrap()]);
    assert_eq!(code, 0, "{rep}");
    let sites = rep["sites"].as_array().unwrap();
    assert_eq!(sites.len(), 1, "{rep}");
    assert_eq!(
        sites[0]["config"],
        format!("{d}/sites-a/site.conf"),
        "{rep}"
    );
    assert_eq!(
        sites[0]["cert_path"],
        format!("{d}/certs/shop.crt"),
        "{rep}"
    );
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let c = row(&list, &leaf.der);
    assert_eq!(c["sites"][0]["names"][0], "shop.example.test", "{c}");
    assert_eq!(c["key_path"], format!("{d}/certs/shop.key"), "{c}");
}

#[test]
fn rule_ds2_the_more_menu_takes_a_discovered_certificates_sites_over_with_one_key() {
    use common::tmux::Tmux;
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["shop.example.test"], 40);
    let conf = env.path("etc/nginx");
    std::fs::create_dir_all(conf.join("certs")).unwrap();
    std::fs::write(conf.join("certs/shop.crt"), &leaf.cert_pem).unwrap();
    std::fs::write(conf.join("certs/shop.key"), &leaf.key_pem).unwrap();
    std::fs::write(
        conf.join("nginx.conf"),
        "http {\n  server {\n    listen 127.0.0.1:9 ssl;\n    server_name shop.example.test;\n    ssl_certificate certs/shop.crt;\n    ssl_certificate_key certs/shop.key;\n  }\n}\n",
    )
    .unwrap();
    let (code, r) = env.json(&["scan", env.path("etc").to_str().unwrap()]);
    assert_eq!(code, 0, "{r}");
    let t = Tmux::start(&env, "adopt-sites");
    t.wait_for("1 of 1");
    t.keys(&["."]);
    t.wait_for("take over its sites as resources");
    t.keys(&["o"]);
    let s = t.wait_for("site(s) taken over");
    assert!(s.contains("1 site(s) taken over"), "{s}");
    t.keys(&["q"]);
    t.wait_for("MODES-DONE");
    let (_, list) = env.json(&["resource", "list"]);
    assert_eq!(list[0]["name"], "shop.example.test", "{list}");
    assert_eq!(
        list[0]["targets"][1]["path"],
        conf.join("certs/shop.key").to_str().unwrap(),
        "{list}"
    );
    let (_, found) = env.json(&["list", "--source", "discovered"]);
    assert_eq!(list[0]["certificate"], found[0]["id"], "{list} {found}");
}

#[test]
fn rule_ds3_a_bundle_of_many_certificates_in_two_files_makes_one_record_each() {
    // More certificates in one file than the ids a scan's reading threads give a file (64):
    // the rest are numbered by its writer; the same bundle again under another name adds none.
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let bundle: String = (0..70)
        .map(|i| pki.leaf(&[&format!("b{i}.bundle.test")], 40).cert_pem)
        .collect();
    let root = env.path("bundles");
    std::fs::create_dir_all(&root).unwrap();
    std::fs::write(root.join("a.pem"), &bundle).unwrap();
    std::fs::write(root.join("b.pem"), &bundle).unwrap();
    let dir = root.to_str().unwrap();
    let (code, r) = env.json(&["scan", dir]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        (r["new"].as_u64(), r["certificates"].as_u64()),
        (Some(70), Some(70)),
        "{r}"
    );
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let rows = list.as_array().unwrap();
    let ids: std::collections::BTreeSet<&str> =
        rows.iter().map(|r| r["id"].as_str().unwrap()).collect();
    assert_eq!(
        (rows.len(), ids.len()),
        (70, 70),
        "one record each, ids distinct"
    );
    for row in rows {
        assert_eq!(row["paths"].as_array().unwrap().len(), 2, "{row}");
    }
    let (_, again) = env.json(&["scan", dir]);
    assert_eq!(
        (again["new"].as_u64(), again["unchanged"].as_u64()),
        (Some(0), Some(70)),
        "{again}"
    );
}

#[test]
fn rule_ds4_s_rescans_the_default_roots_and_every_root_scanned_before() {
    use certdeck::app::{action::Action, effect::Effect};
    let env = Env::new();
    let (root, t) = tree(&env);
    let clock = std::sync::Arc::new(certdeck::engine::clock::SystemClock);
    let engine = certdeck::engine::Engine::new(env.open_store("test"), clock);
    // Scanned once, as `certdeck scan DIR` does.
    let first = engine.scan(std::slice::from_ref(&root), None).unwrap();
    assert_eq!(first.new, 7);
    let roots = engine.machine_roots().unwrap();
    assert!(
        roots.contains(&std::path::PathBuf::from("/etc/ssl")),
        "{roots:?}"
    );
    assert_eq!(roots.iter().filter(|r| **r == root).count(), 1, "{roots:?}");
    // `S` (a scan with no path) then sees the file deleted there, without waiting an hour.
    std::fs::remove_file(root.join("ssl/site3.p7b")).unwrap();
    let Action::Scanned(report) = engine.run_exclusive(Effect::Scan(Vec::new())) else {
        panic!("a scan reports");
    };
    assert_eq!(report.gone, 1, "{report:?}");
    // The list marks it, and only it (the Certificates tab shows the mark beside its status).
    let Action::MarksLoaded(marks) = engine.run_exclusive(Effect::LoadMarks) else {
        panic!("marks load");
    };
    drop(engine);
    let (_, list) = env.json(&["list", "--source", "discovered"]);
    let gone = row(&list, &t.leaves[3].der);
    assert!(gone["gone_at"].is_string(), "{list}");
    let id = gone["id"].as_str().unwrap();
    assert_eq!(
        marks.into_iter().collect::<Vec<_>>(),
        [(id.to_string(), certdeck::domain::discovery::WatchMark::Gone)]
    );
}
