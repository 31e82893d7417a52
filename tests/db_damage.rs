//! A damaged database is refused, never served as the truth and never a crash: one changed byte
//! in a record, a zeroed page, an empty file; `db check` names what is damaged and `db backup`
//! makes a verified copy (SPEC U-7's "nothing is lost or half-written", issue #13 item 5).
mod common;
use certdeck::ca::pki::KeyKind;
use common::{Env, Pki};

/// Stores one certificate named `name`; returns its id.
fn stored(env: &Env, name: &str) -> String {
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&[name], 90);
    let (code, v) = env.import(
        &env.write("c.pem", pki.full_chain(&leaf)),
        Some(&env.write("k.pem", &leaf.key_pem)),
        &[],
    );
    assert_eq!(code, 0, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// Changes one byte in every place the file holds `needle` (records are stored whole).
fn flip_every(env: &Env, needle: &[u8]) -> usize {
    let mut bytes = std::fs::read(env.db()).unwrap();
    let mut hits = 0;
    let mut i = 0;
    while i + needle.len() <= bytes.len() {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i] ^= 0x01;
            hits += 1;
            i += needle.len();
        } else {
            i += 1;
        }
    }
    std::fs::write(env.db(), bytes).unwrap();
    hits
}

#[test]
fn one_changed_byte_is_refused_by_id_and_listed_by_db_check() {
    let env = Env::new();
    let id = stored(&env, "damaged.example");
    let (code, v) = env.json(&["db", "check"]);
    assert_eq!((code, &v["ok"]), (0, &serde_json::json!(true)), "{v}");
    assert!(flip_every(&env, b"damaged.example") > 0);

    let out = env.run(&["show", &id]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("database damaged")
            && err.contains(&id)
            && err.contains("restore from backup"),
        "{err}"
    );
    assert_eq!(env.run(&["list"]).status.code(), Some(3));

    let (code, v) = env.json(&["db", "check"]);
    assert_eq!(code, 3, "{v}");
    let damaged: Vec<String> = serde_json::from_value(v["damaged"].clone()).unwrap();
    assert!(damaged.contains(&format!("certs/{id}")), "{damaged:?}");
    assert!(
        damaged.contains(&format!("cert_summaries/{id}")),
        "{damaged:?}"
    );
}

#[test]
fn a_zeroed_page_ends_with_database_damaged_not_a_panic() {
    let env = Env::new();
    for i in 0..40 {
        let pki = Pki::new(KeyKind::P256);
        let leaf = pki.leaf(&[&format!("host{i}.example")], 90);
        env.import(
            &env.write("c.pem", pki.full_chain(&leaf)),
            Some(&env.write("k.pem", &leaf.key_pem)),
            &[],
        );
    }
    let pristine = std::fs::read(env.db()).unwrap();
    let mut crashes = Vec::new();
    // Zero each 4 KiB page in turn (past redb's header): whatever it hits, certdeck says
    // something and exits 0 (unaffected), 1 or 3 — never a panic's 101, never a signal.
    for page in 1..pristine.len() / 4096 {
        let mut bytes = pristine.clone();
        bytes[page * 4096..(page + 1) * 4096].fill(0);
        std::fs::write(env.db(), &bytes).unwrap();
        for args in [&["list"][..], &["db", "check"][..]] {
            let out = env.run(args);
            match out.status.code() {
                Some(0) | Some(1) | Some(3) => {}
                other => crashes.push(format!(
                    "page {page} {args:?}: {other:?} {}",
                    String::from_utf8_lossy(&out.stderr)
                )),
            }
            let err = String::from_utf8_lossy(&out.stderr);
            assert!(!err.contains("panicked"), "page {page} {args:?}: {err}");
        }
    }
    assert!(crashes.is_empty(), "{crashes:#?}");
}

#[test]
fn an_empty_file_that_exists_is_not_a_new_database() {
    let env = Env::new();
    std::fs::write(env.db(), "").unwrap();
    let out = env.run(&["list"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("empty (0 bytes)"));
    assert_eq!(
        std::fs::metadata(env.db()).unwrap().len(),
        0,
        "left as it was"
    );
}

#[test]
fn db_backup_writes_a_verified_copy_that_opens_and_never_overwrites() {
    let env = Env::new();
    let id = stored(&env, "kept.example");
    let dest = env.path("backup.redb");
    let (code, v) = env.json(&["db", "backup", dest.to_str().unwrap()]);
    assert_eq!(code, 0, "{v}");
    assert_eq!(v["verified"], true);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&dest).unwrap().permissions().mode() & 0o777,
        0o600
    );
    // The copy is a database of its own with the same certificate.
    let (code, shown) = env.json(&["show", &id, "--db", dest.to_str().unwrap()]);
    assert_eq!(
        (code, shown["name"].as_str()),
        (0, Some("kept.example")),
        "{shown}"
    );
    // A second backup to the same path is refused; the first is untouched.
    let before = std::fs::read(&dest).unwrap();
    let (code, v) = env.json(&["db", "backup", dest.to_str().unwrap()]);
    assert_eq!(code, 3, "{v}");
    assert_eq!(std::fs::read(&dest).unwrap(), before);
    // Damage in the original is not copied into a backup that claims to be good.
    flip_every(&env, b"kept.example");
    let (code, v) = env.json(&["db", "backup", env.path("second.redb").to_str().unwrap()]);
    assert_eq!(code, 3, "{v}");
    assert!(!env.path("second.redb").exists());
}

#[test]
fn a_closed_stdout_pipe_ends_quietly() {
    let env = Env::new();
    stored(&env, "piped.example");
    for args in [&["list"][..], &["show", "--help"][..], &["db", "check"][..]] {
        // `certdeck list | head -0`: the reader is gone before the first write.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let out = env
            .command()
            .args(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!err.contains("panicked"), "{args:?}: {err}");
        assert_ne!(out.status.code(), Some(101), "{args:?}: {err}");
    }
}
