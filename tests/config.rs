//! The configuration file (#17): flag > environment > file > default, shown by `config show`
//! and obeyed by the commands; a bad file stops every command with its path, line and key.
mod common;
use common::Env;

/// certdeck with this test's own directories and no `--db`, so the file can choose.
fn certdeck(env: &Env, args: &[&str], vars: &[(&str, &str)]) -> std::process::Output {
    let mut c = env.bare_command();
    c.args(args);
    for (k, v) in vars {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn settings(env: &Env, flags: &[&str], vars: &[(&str, &str)]) -> serde_json::Value {
    let mut args = flags.to_vec();
    args.extend(["config", "show", "--json"]);
    let out = certdeck(env, &args, vars);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn write_config(env: &Env, text: &str) -> std::path::PathBuf {
    let dir = env.path("config/certdeck");
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("config.toml");
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn flag_beats_environment_beats_file_beats_default_and_commands_obey() {
    let env = Env::new();
    let s = settings(&env, &[], &[]);
    assert_eq!(s["file_exists"], false, "{s}");
    assert_eq!(s["settings"]["db"]["source"], "default", "{s}");
    assert_eq!(s["settings"]["tick.period"]["value"], "60", "{s}");

    let from_file = env.path("from-file.redb");
    write_config(
        &env,
        &format!(
            "db = \"{}\"\nresolver = \"127.0.0.1:5353\"\n\n[tick]\nperiod = 300\n\n[scan]\nroots = [\"{}\"]\n\n[smtp]\nserver = \"mail.example:587\"\nfrom = \"pki@example.com\"\n",
            from_file.display(),
            env.path("tls").display()
        ),
    );
    let s = settings(&env, &[], &[]);
    assert_eq!(s["file_exists"], true, "{s}");
    for (key, value) in [
        ("db", from_file.display().to_string()),
        ("resolver", "127.0.0.1:5353".into()),
        ("tick.period", "300".into()),
        ("scan.roots", env.path("tls").display().to_string()),
        ("smtp.server", "mail.example:587".into()),
    ] {
        assert_eq!(s["settings"][key]["value"], value.as_str(), "{key}: {s}");
        assert_eq!(
            s["settings"][key]["source"], "configuration file",
            "{key}: {s}"
        );
    }
    let from_env = env.path("from-env.redb");
    let s = settings(&env, &[], &[("CERTDECK_DB", from_env.to_str().unwrap())]);
    assert_eq!(
        s["settings"]["db"]["source"], "environment $CERTDECK_DB",
        "{s}"
    );
    let from_flag = env.path("from-flag.redb");
    let s = settings(
        &env,
        &[
            "--db",
            from_flag.to_str().unwrap(),
            "--resolver",
            "127.0.0.1:53",
        ],
        &[("CERTDECK_DB", from_env.to_str().unwrap())],
    );
    assert_eq!(
        (
            &s["settings"]["db"]["source"],
            &s["settings"]["db"]["value"]
        ),
        (
            &serde_json::json!("flag --db"),
            &serde_json::json!(from_flag.display().to_string())
        ),
        "{s}"
    );
    assert_eq!(
        s["settings"]["resolver"]["source"], "flag --resolver",
        "{s}"
    );

    // The commands obey: the database is the file's, and an email recipient gets its SMTP.
    let out = certdeck(&env, &["account", "--json"], &[]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(from_file.exists(), "the file's database was opened");
    let out = certdeck(
        &env,
        &[
            "alarm",
            "group",
            "add",
            "ops",
            "--recipient",
            "ann",
            "--email",
            "ann@example.com",
            "--json",
        ],
        &[],
    );
    let g: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(g.to_string().contains("mail.example:587"), "{g}");
}

#[test]
fn a_bad_file_stops_every_command_naming_the_file_line_and_key() {
    let env = Env::new();
    let path = write_config(&env, "db = \"/tmp/x.redb\"\n\n[tick]\nperiod = \"often\"\n");
    for args in [&["list"][..], &["config", "show"][..], &["tick"][..]] {
        let out = certdeck(&env, args, &[]);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&path.display().to_string())
                && err.contains("line 4")
                && err.contains("tick.period"),
            "{args:?}: {err}"
        );
    }
    write_config(&env, "[serve]\nmetrcs = \"127.0.0.1:9\"\n");
    let err = String::from_utf8_lossy(&certdeck(&env, &["list"], &[]).stderr).into_owned();
    assert!(
        err.contains("line 2") && err.contains("serve.metrcs") && err.contains("unknown field"),
        "{err}"
    );
    // $CERTDECK_CONFIG names another file.
    let other = env.write("other.toml", "[tick]\nperiod = 120\n");
    let s = settings(&env, &[], &[("CERTDECK_CONFIG", other.to_str().unwrap())]);
    assert_eq!(s["settings"]["tick.period"]["value"], "120", "{s}");
}
