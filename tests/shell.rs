//! `certdeck completions` and `certdeck man` (#17): generated from the commands, checked by the
//! shell and by man themselves; neither needs a database.
mod common;
use common::Env;
use std::io::Write;
use std::process::{Command, Stdio};

/// Runs `program args` with `input` on stdin: its exit status, stdout and stderr.
fn feed(program: &str, args: &[&str], input: &[u8]) -> (bool, String, String) {
    let mut child = Command::new(program)
        .args(args)
        .env("MANWIDTH", "100")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{program} is installed by scripts/test: {e}"));
    child.stdin.take().unwrap().write_all(input).unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn completions_are_valid_shell_for_every_command() {
    let env = Env::new();
    let bash = env.run(&["completions", "bash"]);
    assert!(bash.status.success());
    let (ok, _, err) = feed("bash", &["-n"], &bash.stdout);
    assert!(ok, "bash -n: {err}");
    let text = String::from_utf8_lossy(&bash.stdout);
    for command in ["import", "trust", "hosting", "completions", "man"] {
        assert!(text.contains(command), "{command} is completed");
    }
    let zsh = String::from_utf8_lossy(&env.run(&["completions", "zsh"]).stdout).into_owned();
    assert!(zsh.starts_with("#compdef certdeck"), "{zsh}");
    let fish = String::from_utf8_lossy(&env.run(&["completions", "fish"]).stdout).into_owned();
    assert!(fish.contains("complete -c certdeck"), "{fish}");
    let bad = env.run(&["completions", "tcsh"]);
    assert_eq!(
        bad.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
    assert!(
        !env.path("certdeck.redb").exists(),
        "no database was created"
    );
}

#[test]
fn the_man_page_renders_with_every_command_and_its_options() {
    let env = Env::new();
    let page = env.run(&["man"]);
    assert!(page.status.success());
    let (ok, text, err) = feed("man", &["-l", "-"], &page.stdout);
    assert!(ok, "man -l -: {err}");
    assert!(err.trim().is_empty(), "man warns: {err}");
    for wanted in [
        "NAME",
        "certdeck - ",
        "COMMANDS",
        "certdeck trust add",
        "certdeck hosting edit",
        "--group GROUP",
        "--key-password-file FILE",
    ] {
        assert!(text.contains(wanted), "{wanted} in\n{text}");
    }
}

#[test]
fn plain_certdeck_without_a_terminal_names_the_cli() {
    let env = Env::new();
    let out = env.run(&[]);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("the TUI needs a terminal") && err.contains("certdeck list"),
        "{err}"
    );
}

#[test]
fn an_unreadable_input_file_is_the_same_usage_error_for_every_command() {
    let env = Env::new();
    let missing = env.path("missing.pem");
    let m = missing.to_str().unwrap();
    let out = env.path("out");
    let o = out.to_str().unwrap();
    for args in [
        vec!["import", "--cert", m],
        vec!["trust", "add", m],
        vec!["letter", "id000001", m],
        vec!["reissue", "id000001", "--csr", m],
        vec!["reissue", "id000001", "--key-password-file", m],
        vec!["export", "id000001", "--out", o, "--password-file", m],
        vec!["scan", "--pkcs12-password-file", m],
        vec!["adopt", "id000001", "--key-password-file", m],
        vec![
            "alarm",
            "group",
            "add",
            "g",
            "--recipient",
            "a",
            "--webhook",
            "http://127.0.0.1:9/",
            "--secret-file",
            m,
        ],
    ] {
        let (code, e) = env.json(&args);
        assert_eq!(code, 2, "{args:?}: {e}");
        assert!(
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("missing.pem"),
            "{args:?}: {e}"
        );
    }
}
