//! The real binary in tmux, used as a person would: upload by pasting, see it listed, filter,
//! quit — and the terminal restored after quitting, SIGTERM, SIGHUP and a dropped terminal.
mod common;
use certdeck::ca::pki::KeyKind;
use common::tmux::Tmux;
use common::{Env, Pki};
use std::process::Command;
use std::time::{Duration, Instant};

fn pid_gone_within(pid: u32, limit: Duration) -> Duration {
    let started = Instant::now();
    while std::path::Path::new(&format!("/proc/{pid}")).exists() {
        let zombie = std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .map(|s| s.contains(") Z "))
            .unwrap_or(true);
        if zombie {
            break;
        }
        assert!(
            started.elapsed() < limit,
            "certdeck (pid {pid}) still running after {limit:?}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    started.elapsed()
}

fn assert_restored(screen: &str) {
    assert!(screen.contains("EXITED:"), "{screen}");
    assert!(
        !screen.contains("Certificates │"),
        "alternate screen left: {screen}"
    );
    let modes = screen
        .lines()
        .find(|l| l.contains("icanon"))
        .unwrap_or_default();
    assert!(
        modes.split_whitespace().any(|m| m == "icanon"),
        "raw mode left on: {modes:?}"
    );
    assert!(
        modes.split_whitespace().any(|m| m == "echo"),
        "echo left off: {modes:?}"
    );
}

#[test]
fn upload_by_paste_list_filter_quit() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["pasted.example.com"], 50);
    let other = pki.leaf(&["other.example.com"], 80);
    let cert = env.write("c.pem", pki.full_chain(&leaf));
    let key = env.write("k.pem", &leaf.key_pem);
    // One certificate is there already, through the CLI.
    let out = env.run(&[
        "import",
        "--cert",
        env.write("o.pem", &other.cert_pem).to_str().unwrap(),
        "--key",
        env.write("o.key", &other.key_pem).to_str().unwrap(),
    ]);
    assert!(out.status.success());

    let t = Tmux::start(&env, "upload");
    t.wait_for("1 of 1");
    t.keys(&["u"]);
    t.wait_for("Upload a certificate");
    // The form opens on the certificate field; Tab twice comes round to the name. A paste of
    // the chain and the key together, the focus on the name, fills the right fields (#12).
    t.keys(&["Tab", "Tab"]);
    t.wait_for("▶ Name");
    let both = env.write(
        "both.pem",
        format!(
            "{}{}",
            std::fs::read_to_string(&cert).unwrap(),
            std::fs::read_to_string(&key).unwrap()
        ),
    );
    t.paste_file(&both);
    let s = t.wait_for("✓ ready");
    assert!(s.contains("▶ Name"), "the focus stays where it was: {s}");
    t.keys(&["C-s"]);
    let s = t.wait_for("imported \"pasted.example.com\"");
    assert!(s.contains("2 of 2"), "{s}");
    assert!(s.contains("pasted.example.com"));
    t.keys(&["/", "p", "a", "s", "t"]);
    let s = t.wait_for("1 of 2");
    assert!(
        s.contains("pasted.example.com") && !s.contains("other.example.com"),
        "{s}"
    );
    t.keys(&["Enter", "q"]);
    let s = t.wait_for("MODES-DONE");
    assert!(s.contains("EXITED:0"), "{s}");
    assert_restored(&s);
}

#[test]
fn sigterm_and_sighup_restore_the_terminal_within_two_seconds() {
    for (tag, signal) in [("term", "TERM"), ("hup", "HUP")] {
        let env = Env::new();
        let t = Tmux::start(&env, tag);
        t.wait_for("Certificates");
        let pid = t.certdeck_pid(&env).expect("certdeck is running");
        Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(pid.to_string())
            .status()
            .unwrap();
        pid_gone_within(pid, Duration::from_secs(2));
        // The terminal modes are printed after the exit line: wait for both.
        assert_restored(&t.wait_for("MODES-DONE"));
    }
}

#[test]
fn a_dropped_terminal_ends_the_process_without_spinning() {
    let env = Env::new();
    let t = Tmux::start(&env, "drop");
    t.wait_for("Certificates");
    let pid = t.certdeck_pid(&env).expect("certdeck is running");
    // Killing the server closes the pty under certdeck, as an SSH drop does.
    t.cmd(&["kill-server"]);
    pid_gone_within(pid, Duration::from_secs(2));
}

#[test]
fn rule_rv2_the_tui_revokes_only_after_a_reason_and_the_name_typed() {
    let env = Env::new();
    let id = common::sandbox_order(&env);
    let later = (chrono::Utc::now() + chrono::Duration::days(4)).to_rfc3339();
    let (_, t) = env.json(&["tick", "--now", &later]);
    assert_eq!(t["fired"][0]["kind"], "review_done", "{t}");

    let t = Tmux::start(&env, "revoke");
    t.wait_for("1 of 1");
    t.keys(&[".", "x"]);
    t.wait_for("Revoke ");
    // Enter alone: no reason yet.
    t.keys(&["Enter"]);
    t.wait_for("choose the reason first");
    t.keys(&["Down", "Down", "Enter"]);
    t.wait_for("to confirm: a revocation cannot be undone");
    for c in id.chars() {
        t.keys(&[&c.to_string()]);
    }
    t.wait_for("✓");
    // Until now nothing was submitted.
    let (_, shown) = env.json(&["show", &id]);
    assert_eq!(shown["status"], "issued", "{shown}");
    t.keys(&["Enter"]);
    let started = Instant::now();
    let shown = loop {
        let (_, shown) = env.json(&["show", &id]);
        if shown["status"] != "issued" || started.elapsed() > Duration::from_secs(10) {
            break shown;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    t.keys(&["q"]);
    t.wait_for("MODES-DONE");
    let status = shown["status"].as_str().unwrap().to_string();
    assert!(status == "revoking" || status == "revoked", "{shown}");
}

#[test]
fn esc_on_a_form_with_content_asks_before_discarding_it() {
    let env = Env::new();
    let t = Tmux::start(&env, "discard");
    t.wait_for("Certificates");
    t.keys(&["u"]);
    t.wait_for("Upload a certificate");
    t.keys(&["Tab", "Tab", "s", "h", "o", "p"]);
    t.keys(&["Escape"]);
    t.wait_for("discard what you typed?");
    assert!(t.screen().contains("Upload a certificate"), "still open");
    // Any other key goes on editing; then Esc, Esc discards.
    t.keys(&["x", "Escape"]);
    t.wait_for("discard what you typed?");
    t.keys(&["Escape"]);
    let s = t.wait_for("sorted by");
    assert!(!s.contains("Upload a certificate"), "{s}");
    t.keys(&["q"]);
    t.wait_for("MODES-DONE");
}
