//! Deployment against a real nginx started on a loopback port with its config in a temp dir:
//! the new certificate is written, checked, reloaded and proved served (by openssl, not only by
//! certdeck's own probe); a failing check or a reload that does not take rolls back, and nginx
//! keeps serving the old certificate. Deploy is refused under revocation (RV-2) and for
//! password-protected keys; D-3 names the resources in the delete confirmation.
mod common;
use certdeck::ca::pki::KeyKind;
use common::nginx::{nginx_binary, Nginx};
use common::{Env, Pki};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn import(env: &Env, pki: &Pki, name: &str) -> (String, String, String, String) {
    let leaf = pki.leaf(&["shop.example.com"], 200);
    let chain = pki.full_chain(&leaf);
    let (code, v) = env.import(
        &env.write(&format!("{name}.pem"), &chain),
        Some(&env.write(&format!("{name}.key"), &leaf.key_pem)),
        &["--name", name],
    );
    assert_eq!(code, 0, "{v}");
    (
        v["id"].as_str().unwrap().to_string(),
        v["fingerprint_sha256"].as_str().unwrap().to_string(),
        chain,
        leaf.key_pem.clone(),
    )
}

#[test]
fn deploy_to_nginx_is_served_and_failures_roll_back_to_the_old_certificate() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (old_id, old_fp, old_chain, old_key) = import(&env, &pki, "old");
    let nginx = Nginx::start(&env.path("nginx"), &old_chain, &old_key);
    assert_eq!(nginx.served(), old_fp);
    let certs = nginx.dir.join("certs");
    nginx.add_resource(&env, "shop", "shop.example.com");
    // certdeck learns that nginx holds the old certificate by deploying it.
    let (code, d) = env.json(&["deploy", &old_id, "shop"]);
    assert_eq!(
        (code, d["outcome"]["result"].as_str()),
        (0, Some("deployed")),
        "{d}"
    );

    let (new_id, new_fp, _, _) = import(&env, &pki, "new");
    let (code, d) = env.json(&["deploy", &new_id, "shop"]);
    assert_eq!(
        (code, d["outcome"]["result"].as_str()),
        (0, Some("deployed")),
        "{d}"
    );
    assert_eq!(d["served"], new_fp.as_str());
    assert_eq!(nginx.served(), new_fp, "openssl sees the new certificate");
    let key = certs.join("shop.key");
    assert_eq!(
        std::fs::metadata(&key).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        certs.join("shop.crt.certdeck-prev").exists(),
        "the previous files are kept"
    );
    let (_, shown) = env.json(&["show", &new_id]);
    assert!(
        shown
            .to_string()
            .contains("deployed to shop; the endpoint serves it"),
        "{shown}"
    );

    // A check that fails (a broken config) rolls back before any reload.
    std::fs::write(
        nginx.dir.join("broken.conf"),
        "events { this is not nginx }",
    )
    .unwrap();
    let (code, r) = env.json(&[
        "resource",
        "add",
        "shop-broken",
        "--preset",
        "nginx",
        "--dir",
        certs.to_str().unwrap(),
        "--check",
        &format!(
            "{} -t -q -p {} -c {}/broken.conf",
            nginx_binary().display(),
            nginx.dir.display(),
            nginx.dir.display()
        ),
        "--reload",
        &nginx.command("-s reload"),
        "--endpoint",
        &format!("127.0.0.1:{}", nginx.port),
        "--sni",
        "shop.example.com",
    ]);
    assert_eq!(code, 0, "{r}");
    let (third_id, third_fp, _, _) = import(&env, &pki, "third");
    let (code, d) = env.json(&["deploy", &third_id, "shop-broken"]);
    assert_eq!(
        (code, d["outcome"]["result"].as_str()),
        (1, Some("rolled_back")),
        "{d}"
    );
    assert!(
        d["outcome"]["reason"]
            .as_str()
            .unwrap()
            .contains("check failed"),
        "{d}"
    );
    assert_eq!(
        nginx.served(),
        new_fp,
        "nginx still serves the certificate before"
    );
    // The check's own output is in the timeline of the certificate that was refused.
    let (_, third_shown) = env.json(&["show", &third_id]);
    assert!(third_shown.to_string().contains("✗ check"), "{third_shown}");
    assert!(
        third_shown.to_string().contains("[emerg]"),
        "nginx's message: {third_shown}"
    );
    let on_disk = std::fs::read_to_string(certs.join("shop.crt")).unwrap();
    assert!(!on_disk.is_empty());
    assert_ne!(
        on_disk,
        std::fs::read_to_string(env.path("third.pem")).unwrap()
    );

    // A reload that does not take: the probe sees the old leaf, so certdeck rolls back.
    let (code, r) = env.json(&[
        "resource",
        "add",
        "shop-noreload",
        "--preset",
        "nginx",
        "--dir",
        certs.to_str().unwrap(),
        "--check",
        &nginx.command("-t -q"),
        "--reload",
        "true",
        "--endpoint",
        &format!("127.0.0.1:{}", nginx.port),
        "--sni",
        "shop.example.com",
    ]);
    assert_eq!(code, 0, "{r}");
    let (code, d) = env.json(&["deploy", &third_id, "shop-noreload"]);
    assert_eq!(
        (code, d["outcome"]["result"].as_str()),
        (1, Some("rolled_back")),
        "{d}"
    );
    assert_ne!(nginx.served(), third_fp);
    assert_eq!(nginx.served(), new_fp);

    // Every deployment to a resource, newest first, with its steps.
    let (code, h) = env.json(&["resource", "history", "shop"]);
    assert_eq!(code, 0, "{h}");
    let deployments = h["deployments"].as_array().unwrap();
    assert_eq!(deployments.len(), 2, "old, then new: {h}");
    assert_eq!(deployments[0]["cert_id"], new_id.as_str());
    assert!(h.to_string().contains("\"probe\""), "{h}");
    // D-3: deleting a certificate that is deployed names its resources.
    let (code, e) = env.json(&["delete", &new_id]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("D-3")), "{e}");
    assert!(
        e["error"]["message"].as_str().unwrap().contains("shop"),
        "{e}"
    );
    let (_, list) = env.json(&["resource", "list"]);
    let shop = list
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "shop")
        .unwrap();
    assert_eq!(shop["certificate"], new_id.as_str());
}

#[test]
fn deploy_is_refused_for_unknown_resources_and_key_modes_readable_by_others() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (id, _, _, _) = import(&env, &pki, "a");
    let dir = env.path("files");
    let (code, e) = env.json(&["deploy", &id, "nowhere"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, None),
        "no SPEC rule names this: the rule is null, not an internal tag: {e}"
    );
    let (code, r) = env.json(&[
        "resource",
        "add",
        "files",
        "--fullchain",
        dir.join("a.crt").to_str().unwrap(),
        "--key",
        dir.join("a.key").to_str().unwrap(),
        "--key-mode",
        "0644",
    ]);
    assert_eq!(
        (code, r["error"]["field"].as_str()),
        (1, Some("key")),
        "keys readable by others are refused: {r}"
    );
    std::fs::create_dir_all(&dir).unwrap();
    let (code, r) = env.json(&[
        "resource",
        "add",
        "files",
        "--fullchain",
        dir.join("a.crt").to_str().unwrap(),
        "--key",
        dir.join("a.key").to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{r}");
    let (code, d) = env.json(&["deploy", &id, "files"]);
    assert_eq!(code, 0, "no commands, no endpoint: the files alone: {d}");
    // Edit: the flags given replace what the resource had; the rules hold as for add.
    let (code, r) = env.json(&["resource", "edit", "files", "--key-mode", "0604"]);
    assert_eq!(
        (code, r["error"]["field"].as_str()),
        (1, Some("key")),
        "{r}"
    );
    let (code, r) = env.json(&[
        "resource",
        "edit",
        "files",
        "--key-mode",
        "0640",
        "--name",
        "files2",
    ]);
    assert_eq!(code, 0, "{r}");
    assert_eq!(
        (r["key_mode"].as_str(), r["name"].as_str()),
        (Some("0640"), Some("files2")),
        "{r}"
    );
    assert_eq!(
        r["targets"].as_array().unwrap().len(),
        2,
        "the files stay: {r}"
    );
    assert_eq!(
        std::fs::metadata(dir.join("a.key"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777,
        0o600
    );
}

fn at(days: f64) -> String {
    (chrono::Utc::now() + chrono::Duration::seconds((days * 86_400.0) as i64)).to_rfc3339()
}

#[test]
fn rule_ar8_a_renewal_reaches_nginx_only_through_its_hosting_at_the_replacement_time() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    // nginx starts on a placeholder; certdeck puts the sandbox-issued certificate on it.
    let placeholder = pki.leaf(&["shop.example.com"], 30);
    let nginx = Nginx::start(
        &env.path("nginx"),
        &pki.full_chain(&placeholder),
        &placeholder.key_pem,
    );
    let old = common::sandbox_order(&env);
    env.json(&["tick", "--now", &at(4.0)]);
    nginx.add_resource(&env, "shop", "shop.example.com");
    let (code, d) = env.json(&["deploy", &old, "shop", "--now", &at(4.0)]);
    assert_eq!(code, 0, "{d}");
    let old_fp = env.json(&["show", &old, "--now", &at(4.0)]).1["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(d["served"], old_fp.as_str(), "{d}");
    assert_eq!(nginx.served(), old_fp, "deploy said {d}");

    // H-4: more days than are left cannot be chosen; 10 days before expiry can.
    let (code, e) = env.json(&["hosting", "add", &old, "--days", "400", "--now", &at(5.0)]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("H-4")), "{e}");
    let (code, h) = env.json(&["hosting", "add", &old, "--days", "10", "--now", &at(5.0)]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(h["status"], "in_progress");
    let replace_at =
        chrono::DateTime::parse_from_rfc3339(h["replace_at"].as_str().unwrap()).unwrap();
    let (code, fc) = env.json(&["forecast", "--days", "400", "--now", &at(5.0)]);
    assert_eq!(code, 0);
    assert!(fc.to_string().contains("hosting_replace"), "{fc}");

    // Auto-renewal: the fee 30 days before expiry places the renewal, issued the next day.
    env.json(&["renew", &old, "--auto", "on", "--now", &at(5.0)]);
    let fee_at = (replace_at - chrono::Duration::days(20)).to_rfc3339();
    let (_, t) = env.json(&["tick", "--now", &fee_at]);
    assert!(t.to_string().contains("renewal_fee"), "{t}");
    let (_, t) = env.json(&[
        "tick",
        "--now",
        &(replace_at - chrono::Duration::days(15)).to_rfc3339(),
    ]);
    assert!(t.to_string().contains("review_done"), "{t}");
    assert_eq!(
        nginx.served(),
        old_fp,
        "nothing is deployed before the replacement time (AR-8)"
    );

    // The replacement time: the renewal replaces the old certificate on nginx.
    let (_, t) = env.json(&["tick", "--now", &replace_at.to_rfc3339()]);
    assert!(t.to_string().contains("hosting_replace"), "{t}");
    let (_, list) = env.json(&["hosting", "list"]);
    let hosting = &list[0];
    assert_eq!(hosting["status"], "succeeded", "{list}");
    let new = hosting["new"].as_str().unwrap();
    let new_fp = env
        .json(&["show", new, "--now", &replace_at.to_rfc3339()])
        .1["fingerprint_sha256"]
        .as_str()
        .unwrap()
        .to_string();
    assert_ne!(new_fp, old_fp);
    assert_eq!(nginx.served(), new_fp, "openssl sees the renewal on nginx");
    // The same tick again changes nothing.
    let (_, t) = env.json(&["tick", "--now", &replace_at.to_rfc3339()]);
    assert_eq!(t["fired"].as_array().unwrap().len(), 0, "{t}");
    // Roll back puts the old certificate back.
    let (code, rb) = env.json(&[
        "hosting",
        "rollback",
        hosting["id"].as_str().unwrap(),
        "--now",
        &replace_at.to_rfc3339(),
    ]);
    assert_eq!(code, 0, "{rb}");
    assert_eq!(nginx.served(), old_fp);
    // H-7: the hosting says it was rolled back, and is not rolled back twice.
    assert_eq!(rb["status"], "rolled_back", "{rb}");
    let id = hosting["id"].as_str().unwrap();
    assert_eq!(hosting_status(&env, id), "rolled_back");
    let (code, again) = env.json(&["hosting", "rollback", id, "--now", &replace_at.to_rfc3339()]);
    assert_eq!(
        (code, again["error"]["rule"].as_str()),
        (1, Some("H-7")),
        "{again}"
    );
}

#[test]
fn rule_h5_a_hosting_whose_renewal_is_not_issued_fails_and_the_old_certificate_stays() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    // An uploaded certificate never renews: its renewal cannot be the replacement (H-1, H-2).
    let (uploaded, _, chain, key) = import(&env, &pki, "old");
    let nginx = Nginx::start(&env.path("nginx"), &chain, &key);
    nginx.add_resource(&env, "shop", "shop.example.com");
    env.json(&["deploy", &uploaded, "shop"]);
    let (code, e) = env.json(&["hosting", "add", &uploaded, "--days", "10"]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("H-1")), "{e}");
    // One issued through certdeck (sandbox CA), auto-renewal off: its renewal never comes.
    let id = common::sandbox_order(&env);
    let (code, e) = env.json(&["hosting", "add", &id, "--days", "10", "--now", &at(4.0)]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("H-1")),
        "not deployed anywhere: {e}"
    );
    env.json(&["tick", "--now", &at(4.0)]);
    let (code, d) = env.json(&["deploy", &id, "shop", "--now", &at(4.0)]);
    assert_eq!(code, 0, "{d}");
    let fp = d["served"].as_str().unwrap().to_string();
    let (code, h) = env.json(&["hosting", "add", &id, "--days", "10", "--now", &at(4.0)]);
    assert_eq!(code, 0, "{h}");
    let first = chrono::DateTime::parse_from_rfc3339(h["replace_at"].as_str().unwrap()).unwrap();
    let (code, h) = env.json(&[
        "hosting",
        "edit",
        h["id"].as_str().unwrap(),
        "--days",
        "5",
        "--now",
        &at(4.0),
    ]);
    assert_eq!(code, 0, "{h}");
    let replace_at = h["replace_at"].as_str().unwrap().to_string();
    assert_eq!(
        chrono::DateTime::parse_from_rfc3339(&replace_at).unwrap() - first,
        chrono::Duration::days(5),
        "5 days before expiry instead of 10"
    );
    let (_, t) = env.json(&["tick", "--now", &replace_at]);
    // T-1: in due order, the uploaded certificate's expiry (due earlier) comes first.
    let hosting = t["fired"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["kind"] == "hosting_replace")
        .unwrap_or_else(|| panic!("{t}"));
    assert!(
        hosting["message"]
            .as_str()
            .unwrap()
            .contains("does not exist"),
        "{t}"
    );
    let (_, list) = env.json(&["hosting", "list"]);
    assert_eq!(list[0]["status"], "failed", "{list}");
    assert_eq!(nginx.served(), fp);
    let (code, r) = env.json(&[
        "hosting",
        "retry",
        list[0]["id"].as_str().unwrap(),
        "--now",
        &replace_at,
    ]);
    assert_eq!(code, 1, "still nothing to deploy: {r}");
}

#[test]
fn sigkill_at_every_step_leaves_each_file_whole_and_the_next_run_puts_the_old_pair_back() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (old, old_fp, chain, key) = import(&env, &pki, "old");
    let nginx = Nginx::start(&env.path("nginx"), &chain, &key);
    let certs = nginx.dir.join("certs");
    env.json(&[
        "resource",
        "add",
        "shop",
        "--preset",
        "nginx",
        "--dir",
        certs.to_str().unwrap(),
        "--check",
        &nginx.command("-t -q"),
        "--reload",
        &nginx.command("-s reload"),
        "--endpoint",
        &format!("127.0.0.1:{}", nginx.port),
        "--sni",
        "shop.example.com",
    ]);
    assert_eq!(env.json(&["deploy", &old, "shop"]).0, 0);
    let (new, _, _, _) = import(&env, &pki, "new");
    // The exact bytes a deployment of each writes, from a plain files resource elsewhere.
    let scratch = env.path("scratch");
    std::fs::create_dir_all(&scratch).unwrap();
    env.json(&[
        "resource",
        "add",
        "scratch",
        "--preset",
        "nginx",
        "--dir",
        scratch.to_str().unwrap(),
        "--check",
        "none",
        "--reload",
        "none",
    ]);
    let read = |dir: &Path, name: &str| std::fs::read(dir.join(name)).unwrap();
    assert_eq!(env.json(&["deploy", &new, "scratch"]).0, 0);
    let new_files = [read(&scratch, "scratch.crt"), read(&scratch, "scratch.key")];
    let old_files = [read(&certs, "shop.crt"), read(&certs, "shop.key")];
    assert_ne!(new_files, old_files);

    for point in [
        "backed-up",
        "journal",
        "wrote-fullchain",
        "wrote-key",
        "checked",
        "reloaded",
    ] {
        let mark = env.path(&format!("mark-{point}"));
        let mut child = env
            .command()
            .args(["deploy", &new, "shop"])
            .env("CERTDECK_DEPLOY_PAUSE", point)
            .env("CERTDECK_DEPLOY_PAUSE_MARK", &mark)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let started = std::time::Instant::now();
        while !mark.exists() {
            assert!(
                started.elapsed() < std::time::Duration::from_secs(20),
                "{point} reached"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        child.kill().unwrap();
        child.wait().unwrap();
        // Every target is wholly the old file or wholly the new one.
        for (i, name) in ["shop.crt", "shop.key"].iter().enumerate() {
            let now = read(&certs, name);
            assert!(
                now == old_files[i] || now == new_files[i],
                "{point}: {name} is torn"
            );
            assert_eq!(
                std::fs::metadata(certs.join(name))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777,
                if i == 1 { 0o600 } else { 0o644 },
                "{point}: {name} mode"
            );
        }
        // The next run (any tick) puts the previous pair back and reloads.
        let (code, t) = env.json(&["tick"]);
        assert_eq!(code, 0, "{t}");
        assert_eq!(
            [read(&certs, "shop.crt"), read(&certs, "shop.key")],
            old_files,
            "{point}: recovered"
        );
        assert_eq!(
            nginx.served(),
            old_fp,
            "{point}: the old certificate is served"
        );
    }
    let (_, shown) = env.json(&["show", &new]);
    assert!(
        shown
            .to_string()
            .contains("interrupted: certdeck stopped during the deployment"),
        "{shown}"
    );
    // And a deployment run to the end still works afterwards.
    let (code, d) = env.json(&["deploy", &new, "shop"]);
    assert_eq!(code, 0, "{d}");
}

/// An nginx serving `old` (uploaded), deployed by certdeck so a hosting can watch it, and a
/// replacement `new` uploaded beside it: (nginx, old id, new id).
fn hosted_pair(env: &Env, pki: &Pki) -> (Nginx, String, String) {
    let (old, old_fp, chain, key) = import(env, pki, "old");
    let nginx = Nginx::start(&env.path("nginx"), &chain, &key);
    nginx.add_resource(env, "shop", "shop.example.com");
    let (code, d) = env.json(&["deploy", &old, "shop"]);
    assert_eq!(code, 0, "{d}");
    assert_eq!(nginx.served(), old_fp);
    let (new, _, _, _) = import(env, pki, "new");
    (nginx, old, new)
}

/// The state `hosting list` gives hosting `id`.
fn hosting_status(env: &Env, id: &str) -> String {
    let (_, list) = env.json(&["hosting", "list"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|h| h["id"] == id)
        .unwrap_or_else(|| panic!("{id} in {list}"))["status"]
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn rule_h7_a_hosting_is_in_progress_then_succeeded_failed_or_cancelled() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (nginx, old, new) = hosted_pair(&env, &pki);
    let (code, h) = env.json(&["hosting", "add", &old, "--new", &new, "--days", "30"]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(h["status"], "in_progress", "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    // Cancelled: stays so; it cannot be retried.
    let (code, c) = env.json(&["hosting", "cancel", &id]);
    assert_eq!(code, 0, "{c}");
    assert_eq!(hosting_status(&env, &id), "cancelled");
    let (code, r) = env.json(&["hosting", "retry", &id]);
    assert_eq!(code, 1, "a cancelled hosting is not retried: {r}");
    // Deleting the replacement cancels the hosting with it (D-3); failing is H-5's test (a
    // renewal not issued at the replacement time).
    let (code, h) = env.json(&["hosting", "add", &old, "--new", &new, "--days", "30"]);
    assert_eq!(code, 0, "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    let replace_at = h["replace_at"].as_str().unwrap().to_string();
    let (code, d) = env.json(&["delete", &new, "--yes"]);
    assert_eq!(code, 0, "{d}");
    env.json(&["tick", "--now", &replace_at]);
    assert_eq!(hosting_status(&env, &id), "cancelled");
    // Succeeded: a replacement that exists at the replacement time is served after it.
    let (fresh, fresh_fp, _, _) = import(&env, &pki, "fresh");
    let (code, h) = env.json(&["hosting", "add", &old, "--new", &fresh, "--days", "30"]);
    assert_eq!(code, 0, "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    // H-2: an edit of the days alone keeps the specified certificate.
    let (code, h) = env.json(&["hosting", "edit", &id, "--days", "25"]);
    assert_eq!(code, 0, "{h}");
    assert!(h["association"].to_string().contains(&fresh), "{h}");
    // H-1: a second hosting of the same certificate on the same resource is refused.
    let (code, e) = env.json(&["hosting", "add", &old, "--new", &fresh, "--days", "20"]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("H-1")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains(&id), "{e}");
    env.json(&["tick", "--now", h["replace_at"].as_str().unwrap()]);
    assert_eq!(hosting_status(&env, &id), "succeeded");
    assert_eq!(nginx.served(), fresh_fp);
}

#[test]
fn rule_h6_a_quiet_hosting_raises_no_message_not_even_its_failed_deployment() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (_nginx, old, new) = hosted_pair(&env, &pki);
    let messages = |env: &Env| {
        let (_, m) = env.json(&["messages"]);
        m["messages"].as_array().unwrap().len()
    };
    let before = messages(&env);
    let (code, h) = env.json(&[
        "hosting", "add", &old, "--new", &new, "--days", "30", "--quiet",
    ]);
    assert_eq!(code, 0, "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    // Its deployment will fail (the resource's check fails): still not a word.
    let (code, r) = env.json(&["resource", "edit", "shop", "--check", "/bin/false"]);
    assert_eq!(code, 0, "{r}");
    env.json(&["tick", "--now", h["replace_at"].as_str().unwrap()]);
    assert_eq!(hosting_status(&env, &id), "failed");
    assert_eq!(
        messages(&env),
        before,
        "neither scheduled, failed nor deploy_failed is raised for a quiet hosting"
    );
    // A finished hosting is not changed; its retry stays quiet.
    let (code, e) = env.json(&["hosting", "edit", &id, "--days", "30", "--loud"]);
    assert_eq!(
        (code, e["error"]["rule"].as_str()),
        (1, Some("H-7")),
        "only in progress: {e}"
    );
    let (code, r) = env.json(&["hosting", "retry", &id]);
    assert_eq!(code, 1, "{r}");
    assert_eq!(
        messages(&env),
        before,
        "a quiet hosting's retry is quiet too"
    );
}

#[test]
fn rule_h6_hosting_messages_reach_the_chosen_group_and_the_group_cannot_vanish_under_it() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (nginx, old, new) = hosted_pair(&env, &pki);
    // The group's channel: a command that keeps each event it gets.
    let inbox = env.path("inbox");
    let script = env.write(
        "receive",
        format!(
            // One write per event: deliveries run side by side.
            "#!/bin/sh\nbody=$(cat)\necho \"$CERTDECK_EVENT $body\" >> {}\n",
            inbox.display()
        ),
    );
    std::fs::set_permissions(&script, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    let (code, e) = env.json(&[
        "hosting", "add", &old, "--new", &new, "--days", "30", "--group", "oncall",
    ]);
    assert_eq!(
        (
            code,
            e["error"]["rule"].as_str(),
            e["error"]["field"].as_str()
        ),
        (1, Some("H-6"), Some("group")),
        "{e}"
    );
    let (code, g) = env.json(&[
        "alarm",
        "group",
        "add",
        "oncall",
        "--recipient",
        "ann",
        "--command",
        script.to_str().unwrap(),
    ]);
    assert_eq!(code, 0, "{g}");
    let (code, h) = env.json(&[
        "hosting", "add", &old, "--new", &new, "--days", "30", "--group", "oncall",
    ]);
    assert_eq!(code, 0, "{h}");
    assert_eq!(h["group"], "oncall", "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    let (code, r) = env.json(&["alarm", "group", "rm", "oncall"]);
    assert_eq!(code, 1, "{r}");
    assert!(r["error"]["message"].as_str().unwrap().contains(&id), "{r}");
    // "scheduled" is queued with the hosting; the tick sends it and then the success.
    let (_, o) = env.json(&["outbox"]);
    assert!(o.to_string().contains(&id), "{o}");
    env.json(&["tick", "--now", h["replace_at"].as_str().unwrap()]);
    assert_eq!(
        nginx.served(),
        env.json(&["show", &new]).1["fingerprint_sha256"]
            .as_str()
            .unwrap()
    );
    env.json(&["tick", "--now", h["replace_at"].as_str().unwrap()]);
    let got = std::fs::read_to_string(&inbox).unwrap();
    let mut events: Vec<&str> = got.lines().map(|l| l.split(' ').next().unwrap()).collect();
    events.sort();
    assert_eq!(events, ["hosting", "hosting_succeeded"], "{got}");
    assert!(got.contains(&format!("\"id\":\"{id}\"")), "{got}");
    // Over: the group can go.
    let (code, r) = env.json(&["alarm", "group", "rm", "oncall"]);
    assert_eq!(code, 0, "{r}");
}

#[test]
fn rule_d3_deleting_a_hosted_certificate_names_its_hosting_and_cancels_it() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let (_nginx, old, new) = hosted_pair(&env, &pki);
    let (code, h) = env.json(&["hosting", "add", &old, "--new", &new, "--days", "30"]);
    assert_eq!(code, 0, "{h}");
    let id = h["id"].as_str().unwrap().to_string();
    // Asked first (no terminal here): the refusal names the hosting that would be cancelled.
    let (code, e) = env.json(&["delete", &new]);
    assert_eq!((code, e["error"]["rule"].as_str()), (1, Some("D-3")), "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains(&id), "{e}");
    let (code, d) = env.json(&["delete", &new, "--yes"]);
    assert_eq!(code, 0, "{d}");
    assert_eq!(hosting_status(&env, &id), "cancelled");
}
