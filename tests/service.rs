//! SV-1, SV-2: the engine on a Unix socket. Commands through a running service (or a TUI that
//! holds the database) print exactly what they print on the database directly, with the same
//! exit codes; the socket is the owner's only; a killed service leaves a consistent database.
mod common;
use certdeck::ca::pki::KeyKind;
use common::tmux::Tmux;
use common::{Env, Pki};
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Two certificates, one near its end, a refused upload's worth of state: enough for list,
/// show, forecast and messages to have something to say.
fn seeded() -> (Env, Vec<String>) {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let mut ids = Vec::new();
    for (name, days) in [("soon.example.com", 10), ("later.example.com", 200)] {
        let leaf = pki.leaf(&[name], days);
        let cert = env.write(&format!("{name}.pem"), pki.full_chain(&leaf));
        let key = env.write(&format!("{name}.key"), &leaf.key_pem);
        let (code, v) = env.import(&cert, Some(&key), &[]);
        assert_eq!(code, 0, "{v}");
        ids.push(v["id"].as_str().unwrap().to_string());
    }
    (env, ids)
}

fn shape(out: &Output) -> (Option<i32>, String, String) {
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn rule_sv1_commands_through_the_service_print_byte_for_byte_what_they_print_on_the_database() {
    let (env, ids) = seeded();
    let commands: Vec<Vec<&str>> = vec![
        vec!["list", "--json"],
        vec!["list"],
        vec!["list", "--source", "uploaded", "--json"],
        vec!["show", &ids[0], "--json"],
        vec!["show", &ids[1]],
        vec!["forecast", "--days", "400", "--json"],
        vec!["messages", "--json"],
        vec!["outbox", "--json"],
        vec!["account", "--json"],
        // Refusals and failures keep their exit codes and words.
        vec!["delete", &ids[0], "--json"],
        vec!["delete", &ids[0]],
        vec!["show", "nosuchid", "--json"],
        vec!["export", &ids[1], "--out", "relative-out", "--json"],
    ];
    // From the test's own directory, so relative paths (`--out relative-out`) land there.
    let run = |c: &[&str]| {
        shape(
            &env.command()
                .current_dir(env.dir.path())
                .args(c)
                .output()
                .unwrap(),
        )
    };
    let direct: Vec<_> = commands.iter().map(|c| run(c)).collect();
    // The export is written again through the service, to the same place.
    std::fs::remove_dir_all(env.path("relative-out")).unwrap();
    let _serve = env.serve(&[]);
    let mode = std::fs::metadata(env.socket())
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600, "the socket is the owner's only");
    for (c, expected) in commands.iter().zip(&direct) {
        let through = run(c);
        assert_eq!(&through, expected, "certdeck {c:?} through the service");
    }
    assert!(env.path("relative-out/privkey.pem").exists());
    // The metrics are the service's: they carry its heartbeat, which no direct run had.
    let metrics = env.run(&["metrics"]);
    let text = String::from_utf8_lossy(&metrics.stdout);
    assert!(
        text.contains("certdeck_last_tick_timestamp_seconds 1"),
        "{text}"
    );
    // It really went through the socket: the service holds the database, so opening it here
    // is refused.
    let db = env.command().args(["db", "check"]).output().unwrap();
    assert_eq!(
        db.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&db.stderr)
    );
    assert!(String::from_utf8_lossy(&db.stderr).contains("open in another certdeck process"));
}

#[test]
fn rule_sv1_a_change_through_the_service_uses_the_clients_directory_and_shows_to_the_next_command()
{
    let env = Env::new();
    let _serve = env.serve(&[]);
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["relative.example.com"], 90);
    std::fs::create_dir_all(env.path("work")).unwrap();
    env.write("work/site.pem", pki.full_chain(&leaf));
    env.write("work/site.key", &leaf.key_pem);
    // Relative paths are the client's, not the service's (which runs elsewhere).
    let out = env
        .command()
        .current_dir(env.path("work"))
        .args([
            "import", "--cert", "site.pem", "--key", "site.key", "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let (code, list) = env.json(&["list"]);
    assert_eq!(code, 0);
    assert_eq!(list[0]["name"], "relative.example.com");
    // A confirmation is asked on the client's terminal and answered there.
    let id = list[0]["id"].as_str().unwrap().to_string();
    let out = Command::new("script")
        .args(["-qec"])
        .arg(format!(
            "XDG_CONFIG_HOME='{}' XDG_RUNTIME_DIR='{}' '{}' --db '{}' delete {id}",
            env.path("config").display(),
            env.path("run").display(),
            env!("CARGO_BIN_EXE_certdeck"),
            env.db().display()
        ))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .and_then(|mut c| {
            use std::io::Write;
            std::thread::sleep(Duration::from_millis(700));
            c.stdin.take().unwrap().write_all(b"y\n")?;
            c.wait_with_output()
        })
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Delete? [y/N]"), "{text}");
    assert_eq!(out.status.code(), Some(0), "{text}");
    let (_, list) = env.json(&["list"]);
    assert_eq!(
        list.as_array().unwrap().len(),
        0,
        "deleted through the service: {list}"
    );
}

#[test]
fn rule_sv1_another_user_is_refused_by_the_service_and_the_refusal_is_logged() {
    if unsafe { libc::geteuid() } != 0 || Command::new("setpriv").arg("--version").output().is_err()
    {
        eprintln!("skipped: needs root and setpriv to run a client as another user");
        return;
    }
    let (env, _) = seeded();
    let _serve = env.serve(&[]);
    // Loosen every permission so that only the service's own peer check stands in the way.
    for dir in [env.dir.path().to_path_buf(), env.path("run")] {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    std::fs::set_permissions(env.socket(), std::fs::Permissions::from_mode(0o666)).unwrap();
    let bin = env.path("certdeck-copy");
    std::fs::copy(env!("CARGO_BIN_EXE_certdeck"), &bin).unwrap();
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o755)).unwrap();
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(&bin)
        .arg("--db")
        .arg(env.db())
        .args(["list", "--json"])
        .env("XDG_RUNTIME_DIR", env.path("run"))
        .env("HOME", "/nonexistent")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{err}");
    assert!(err.contains("refused") && err.contains("SV-1"), "{err}");
    assert!(
        out.stdout.is_empty(),
        "nothing of the database reached another user"
    );
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let log = std::fs::read_to_string(env.path("serve.log")).unwrap();
        if log.contains("refused uid 65534") {
            break;
        }
        assert!(Instant::now() < deadline, "the refusal is logged: {log}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn rule_sv1_a_killed_service_leaves_the_database_consistent_and_the_next_one_starts_cleanly() {
    let (env, ids) = seeded();
    let mut serve = env.serve(&[]);
    let (code, _) = env.json(&["ignore", &ids[0]]);
    assert_eq!(code, 0);
    serve.0.kill().unwrap();
    serve.0.wait().unwrap();
    assert!(
        env.socket().exists(),
        "SIGKILL leaves the socket file behind"
    );
    // Without a service the command runs by itself on the database.
    let (code, check) = env.json(&["db", "check"]);
    assert_eq!(code, 0, "{check}");
    assert_eq!(check["ok"], true);
    let _again = env.serve(&[]);
    let (code, shown) = env.json(&["show", &ids[0]]);
    assert_eq!(code, 0, "{shown}");
    assert_eq!(shown["ignored"], true, "the change before the kill is kept");
}

#[test]
fn rule_sv1_a_second_service_on_the_same_socket_is_refused() {
    let env = Env::new();
    let _serve = env.serve(&[]);
    let other = Env::new();
    let out = other
        .command()
        .arg("--socket")
        .arg(env.socket())
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already serves this socket"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn rule_sv2_read_only_commands_work_while_a_tui_holds_the_database_and_changes_show_in_it() {
    let (env, ids) = seeded();
    let tmux = Tmux::start(&env, "sv2");
    tmux.wait_for("soon.example.com");
    for c in [
        vec!["list", "--json"],
        vec!["show", ids[0].as_str(), "--json"],
        vec!["forecast", "--json"],
        vec!["outbox", "--json"],
        vec!["messages", "--json"],
    ] {
        let out = env.run(&c);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{c:?} beside the TUI: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let metrics = env.run(&["metrics"]);
    assert_eq!(metrics.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&metrics.stdout).contains("x509_cert_not_after"));
    // A change made through the TUI's socket shows in the TUI within a second or so.
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["beside.example.com"], 60);
    let cert = env.write("beside.pem", pki.full_chain(&leaf));
    let key = env.write("beside.key", &leaf.key_pem);
    assert_eq!(env.import(&cert, Some(&key), &[]).0, 0);
    let screen = tmux.wait_for("beside.example.com");
    assert!(screen.contains("reloaded"), "{screen}");
}

#[test]
fn rule_sv1_two_tuis_at_once_see_each_others_changes() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    let leaf = pki.leaf(&["pasted.example.com"], 50);
    let cert = env.write("c.pem", pki.full_chain(&leaf));
    let key = env.write("k.pem", &leaf.key_pem);
    let first = Tmux::start(&env, "first");
    first.wait_for("0 of 0");
    let second = Tmux::start(&env, "second");
    second.wait_for("another certdeck holds the database");
    // An upload in the second shows in the first.
    second.keys(&["u"]);
    second.wait_for("Upload a certificate");
    second.keys(&["Tab", "Tab"]);
    second.paste_file(&cert);
    second.wait_for("a private key is required");
    second.keys(&["Tab"]);
    second.paste_file(&key);
    second.wait_for("✓ ready");
    second.keys(&["C-s"]);
    second.wait_for("imported \"pasted.example.com\"");
    let started = Instant::now();
    let s = first.wait_for("pasted.example.com");
    assert!(s.contains("1 of 1"), "{s}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "seen within a second or so"
    );
    // A deletion in the first shows in the second.
    first.keys(&["d"]);
    first.wait_for("Confirm delete");
    first.keys(&["y"]);
    first.wait_for("0 of 0");
    second.wait_for("0 of 0");
    // The first ends: the second says the holder stopped and ends cleanly.
    first.keys(&["q"]);
    let s = second.wait_for("MODES-DONE");
    assert!(s.contains("stopped") && s.contains("EXITED:3"), "{s}");
}

#[test]
fn rule_sv1_a_tui_on_the_service_says_so_and_ends_cleanly_when_the_service_stops() {
    let (env, _) = seeded();
    let serve = env.serve(&[]);
    let tui = Tmux::start(&env, "onservice");
    tui.wait_for("another certdeck holds the database");
    tui.wait_for("soon.example.com");
    unsafe {
        libc::kill(serve.0.id() as i32, libc::SIGTERM);
    }
    let s = tui.wait_for("MODES-DONE");
    assert!(
        s.contains("the certdeck process that holds the database") && s.contains("EXITED:3"),
        "{s}"
    );
    assert!(
        s.contains("icanon") && s.contains("echo") && !s.contains("-icanon"),
        "{s}"
    );
}

/// The same session of commands, on a database opened directly and through a service:
/// identical output and exit codes step by step (ids, which are random, are named).
#[test]
fn rule_sv1_a_session_of_commands_gives_the_same_results_directly_and_through_the_service() {
    const NOW: &str = "2026-12-01T09:00:00Z";
    let pki = Pki::new(KeyKind::P256);
    let a = pki.leaf(&["a.example.com"], 10);
    let b = pki.leaf(&["b.example.com", "www.b.example.com"], 200);
    let steps: Vec<Vec<&str>> = vec![
        vec!["account", "topup", "500", "--json"],
        vec!["import", "--cert", "a.pem", "--key", "a.key", "--json"],
        vec![
            "import", "--cert", "b.pem", "--key", "b.key", "--tag", "team=web", "--json",
        ],
        vec!["import", "--cert", "a.pem", "--key", "a.key", "--json"],
        vec!["list", "--json"],
        vec!["show", "{A}", "--json"],
        vec!["ignore", "{A}", "--json"],
        vec!["ignore", "{B}", "--json"],
        vec!["unignore", "{A}", "--json"],
        vec!["renew", "{B}", "--auto", "on", "--json"],
        vec!["alarm", "add", "ops", "--threshold", "30", "--json"],
        vec!["alarm", "list", "--json"],
        vec!["forecast", "--days", "60", "--json"],
        vec![
            "apply",
            "--domain",
            "order.example.com",
            "--product",
            "dnspod-dv",
            "--json",
        ],
        vec!["list", "--json"],
        vec!["messages", "--json"],
        vec!["account", "--json"],
        vec!["export", "{B}", "--out", "out", "--json"],
        vec!["delete", "{A}", "--json"],
        vec!["delete", "{A}", "--yes", "--json"],
        vec!["list", "--source", "uploaded"],
    ];
    let mut transcripts = Vec::new();
    for through_service in [false, true] {
        let env = Env::new();
        env.write("a.pem", pki.full_chain(&a));
        env.write("a.key", &a.key_pem);
        env.write("b.pem", pki.full_chain(&b));
        env.write("b.key", &b.key_pem);
        // The service ticks once at its start and then not for an hour: both databases see
        // only these commands.
        let _serve = through_service.then(|| env.serve(&["--now", NOW, "--period", "3600"]));
        let mut ids: Vec<(String, String)> = Vec::new();
        let mut transcript = Vec::new();
        for step in &steps {
            let args: Vec<String> = step
                .iter()
                .map(|s| {
                    ids.iter()
                        .fold(s.to_string(), |s, (name, id)| s.replace(name, id))
                })
                .collect();
            let out = env
                .command()
                .current_dir(env.dir.path())
                .arg("--now")
                .arg(NOW)
                .args(&args)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&stdout) {
                let id = v["id"].as_str().or(v["order"]["id"].as_str());
                if let Some(id) = id {
                    let name = ["{A}", "{B}", "{O}"][ids.len().min(2)];
                    if !ids.iter().any(|(_, known)| known == id) {
                        ids.push((name.to_string(), id.to_string()));
                    }
                }
                // Validation tokens are random too.
                for (i, c) in v["order"]["challenges"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .enumerate()
                {
                    if let Some(token) = c["value"].as_str() {
                        ids.push((format!("{{TOKEN{i}}}"), token.to_string()));
                    }
                }
            }
            let named = |text: String| {
                ids.iter()
                    .fold(text, |t, (name, id)| t.replace(id.as_str(), name))
            };
            transcript.push((
                step.join(" "),
                out.status.code(),
                named(stdout),
                named(String::from_utf8_lossy(&out.stderr).into_owned()),
            ));
        }
        transcripts.push(transcript);
    }
    let (direct, through) = (&transcripts[0], &transcripts[1]);
    assert!(
        direct.iter().any(|(_, code, _, _)| *code == Some(1)),
        "refusals are part of it"
    );
    for (d, t) in direct.iter().zip(through) {
        assert_eq!(d, t, "step `{}`", d.0);
    }
}

#[test]
fn rule_sv1_serve_ends_on_sigterm_even_when_its_socket_file_was_removed() {
    let env = Env::new();
    let mut serve = env.serve(&[]);
    std::fs::remove_file(env.socket()).unwrap();
    let status = serve.terminate();
    assert!(status.success(), "{status:?}");
}

#[test]
fn rule_sv1_a_long_answer_reaches_the_client_whole() {
    let env = Env::new();
    let pki = Pki::new(KeyKind::P256);
    // Enough certificates for `list --json` to be one line far longer than a frame.
    let inputs: Vec<(std::path::PathBuf, std::path::PathBuf)> = (0..300)
        .map(|i| {
            let leaf = pki.leaf(&[&format!("host{i}.long-answer.example.com")], 90);
            (
                env.write(&format!("c{i}.pem"), pki.full_chain(&leaf)),
                env.write(&format!("k{i}.pem"), &leaf.key_pem),
            )
        })
        .collect();
    for (cert, key) in &inputs {
        assert_eq!(env.import(cert, Some(key), &[]).0, 0);
    }
    let direct = env.run(&["list", "--json"]);
    assert!(direct.stdout.len() > 64 * 1024, "{}", direct.stdout.len());
    let _serve = env.serve(&[]);
    let through = env.run(&["list", "--json"]);
    assert_eq!(through.status.code(), Some(0));
    assert_eq!(through.stdout, direct.stdout);
}
