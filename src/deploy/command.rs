//! Check and reload commands: run by `/bin/sh -c` in their own process group, output captured
//! (bounded), killed with the whole group when the timeout passes.
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Output kept per command (the rest is cut, and said so).
const MAX_OUTPUT: usize = 16 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandRun {
    pub ok: bool,
    /// "exit 0", "exit 1", "killed after 30 s", "could not start: …".
    pub status: String,
    pub output: String,
}

pub fn run(command: &str, timeout: Duration) -> CommandRun {
    run_with(command, timeout, &[], None)
}

/// `run` with extra environment variables and `input` written to the command's stdin.
pub fn run_with(
    command: &str,
    timeout: Duration,
    env: &[(String, String)],
    input: Option<&[u8]>,
) -> CommandRun {
    let mut child = match Command::new("/bin/sh")
        .arg("-c")
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
    {
        Ok(c) => c,
        Err(e) => {
            return CommandRun {
                ok: false,
                status: format!("could not start: {e}"),
                output: String::new(),
            }
        }
    };
    let pid = child.id() as i32;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        let bytes = bytes.to_vec();
        // A writer thread, so a command that does not read its input cannot block us.
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&bytes);
        });
    }
    let readers: Vec<_> = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ]
    .into_iter()
    .flatten()
    .map(|mut r| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = (&mut r).take(MAX_OUTPUT as u64 + 1).read_to_end(&mut buf);
            // Drain the rest so the command never blocks on a full pipe.
            let _ = std::io::copy(&mut r, &mut std::io::sink());
            buf
        })
    })
    .collect();
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => break Some(s),
            Ok(None) if started.elapsed() >= timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let killed = status.is_none();
    if killed {
        // SAFETY: signalling the process group we created for this command.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
    }
    let mut output = String::new();
    for r in readers {
        let bytes = r.join().unwrap_or_default();
        let cut = bytes.len() > MAX_OUTPUT;
        output.push_str(&String::from_utf8_lossy(
            &bytes[..bytes.len().min(MAX_OUTPUT)],
        ));
        if cut {
            output.push_str("\n[output cut at 16 KiB]\n");
        }
    }
    match status {
        Some(s) => CommandRun {
            ok: s.success(),
            status: match s.code() {
                Some(c) => format!("exit {c}"),
                None => "killed by a signal".into(),
            },
            output,
        },
        None => CommandRun {
            ok: false,
            status: format!("killed after {} s (timeout)", timeout.as_secs()),
            output,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_output_and_timeouts() {
        let ok = run("echo hello; echo oops >&2", Duration::from_secs(5));
        assert!(ok.ok && ok.output.contains("hello") && ok.output.contains("oops"));
        let bad = run("exit 3", Duration::from_secs(5));
        assert_eq!((bad.ok, bad.status.as_str()), (false, "exit 3"));
        let slow = run("sleep 30 & sleep 30", Duration::from_millis(300));
        assert!(!slow.ok && slow.status.contains("timeout"), "{slow:?}");
    }
}
