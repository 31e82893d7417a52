//! The real binary in tmux, driven as a person would (send-keys, paste-buffer, capture-pane).
use super::Env;
use std::process::Command;
use std::time::{Duration, Instant};

pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn start(env: &Env, tag: &str) -> Tmux {
        Tmux::start_with(env, tag, &[])
    }

    /// `start`, with more environment for certdeck (e.g. `CERTDECK_RESOLVER`).
    pub fn start_with(env: &Env, tag: &str, vars: &[(&str, &str)]) -> Tmux {
        // The TUI holds the database itself (a test's service, if any, makes way).
        env.stop_service();
        let socket = format!("certdeck-test-{}-{tag}", std::process::id());
        let exports: String = vars
            .iter()
            .map(|(k, v)| format!("export {k}='{v}'\n"))
            .collect();
        let script = env.write(
            &format!("run-{tag}.sh"),
            format!(
                "#!/bin/sh\nexport XDG_CONFIG_HOME='{}'\nexport XDG_RUNTIME_DIR='{}'\nexport LANG=C.UTF-8\n{exports}'{}' --db '{}'\necho \"EXITED:$?\"\nstty -a | tr ' ' '\\n' | grep -x -e icanon -e -icanon -e echo -e -echo | tr '\\n' ' '\necho\necho MODES-DONE\nsleep 60\n",
                env.path("config").display(),
                env.path("run").display(),
                env!("CARGO_BIN_EXE_certdeck"),
                env.db().display()
            ),
        );
        let t = Tmux { socket };
        t.cmd(&[
            "new-session",
            "-d",
            "-s",
            "main",
            "-x",
            "140",
            "-y",
            "45",
            "sh",
            script.to_str().unwrap(),
        ]);
        t
    }

    pub fn cmd(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux is installed by .ci/run");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    pub fn screen(&self) -> String {
        self.cmd(&["capture-pane", "-p", "-t", "main"])
    }

    pub fn keys(&self, keys: &[&str]) {
        for k in keys {
            self.cmd(&["send-keys", "-t", "main", k]);
            // Esc must stand alone, or the next key reads as Alt+key.
            std::thread::sleep(Duration::from_millis(if *k == "Escape" { 150 } else { 30 }));
        }
    }

    pub fn paste_file(&self, path: &std::path::Path) {
        self.cmd(&["load-buffer", path.to_str().unwrap()]);
        self.cmd(&["paste-buffer", "-p", "-t", "main"]);
    }

    /// Waits (bounded) until the screen contains `text`.
    pub fn wait_for(&self, text: &str) -> String {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            let s = self.screen();
            if s.contains(text) {
                return s;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {text:?}; screen:\n{s}"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn certdeck_pid(&self, env: &Env) -> Option<u32> {
        let out = Command::new("pgrep")
            .arg("-f")
            .arg(format!("certdeck --db {}", env.db().display()))
            .output()
            .ok()?;
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}
