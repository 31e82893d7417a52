//! Check and reload commands: run by `/bin/sh -c` in their own process group, output captured
//! (bounded), killed with the whole group when the timeout passes.
use std::io::Read;
use std::os::fd::AsRawFd;
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Output kept per command (the rest is cut, and said so).
const MAX_OUTPUT: usize = 16 * 1024;
/// How long output is still read after the command exited (from children it left behind).
const AFTER_EXIT: Duration = Duration::from_millis(200);
/// How often a running command is checked for its exit.
const POLL: Duration = Duration::from_millis(20);

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
    let mut c = Command::new("/bin/sh");
    c.arg("-c")
        .arg(command)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stderr(Stdio::piped());
    let (status, pipes) = match wait_bounded(c, timeout, input, MAX_OUTPUT) {
        Ok(r) => r,
        Err(e) => {
            return CommandRun {
                ok: false,
                status: format!("could not start: {e}"),
                output: String::new(),
            }
        }
    };
    let output = pipes.into_output();
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

/// Runs `program ARGS` (no shell) and returns its standard output when it exits with 0 within
/// `timeout` and writes at most `cap` bytes; stderr is ignored.
pub fn capture_stdout(
    program: &std::path::Path,
    args: &[&std::ffi::OsStr],
    timeout: Duration,
    cap: usize,
) -> Result<Vec<u8>, String> {
    let mut c = Command::new(program);
    c.args(args).stderr(Stdio::null());
    let (status, pipes) =
        wait_bounded(c, timeout, None, cap).map_err(|e| format!("could not start: {e}"))?;
    let bytes = pipes.into_bytes().into_iter().next().unwrap_or_default();
    match status {
        Some(s) if s.success() && bytes.len() <= cap => Ok(bytes),
        Some(s) if s.success() => Err(format!("output over {cap} bytes")),
        Some(s) => Err(format!("exit {}", s.code().unwrap_or(-1))),
        None => Err(format!("killed after {} s (timeout)", timeout.as_secs())),
    }
}

/// Starts `c` in its own process group with stdout piped, feeds it `input`, and waits up to
/// `timeout` for its exit (then kills the whole group). `None`: it was killed.
fn wait_bounded(
    mut c: Command,
    timeout: Duration,
    input: Option<&[u8]>,
    cap: usize,
) -> std::io::Result<(Option<std::process::ExitStatus>, Pipes)> {
    let mut child = c
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let pid = child.id() as i32;
    if let (Some(bytes), Some(mut stdin)) = (input, child.stdin.take()) {
        let bytes = bytes.to_vec();
        // A writer thread, so a command that does not read its input cannot block us.
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&bytes);
        });
    }
    let deadline = Instant::now() + timeout;
    let mut pipes = Pipes::new(child.stdout.take(), child.stderr.take(), cap);
    let status = loop {
        match child.try_wait() {
            Ok(Some(s)) => {
                // The command is over; a background child it left (`daemon &`) may hold the
                // pipes open for ever. Take what is already written, then stop listening.
                pipes.read_until((Instant::now() + AFTER_EXIT).min(deadline));
                break Some(s);
            }
            Ok(None) if Instant::now() >= deadline => break None,
            Ok(None) => {
                if pipes.read_until((Instant::now() + POLL).min(deadline)) {
                    // Both pipes closed and the command still runs: wait for its exit.
                    std::thread::sleep(POLL);
                }
            }
            Err(_) => break None,
        }
    };
    if status.is_none() {
        // SAFETY: signalling the process group we created for this command.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
        pipes.read_until(Instant::now() + POLL);
    }
    Ok((status, pipes))
}

/// The command's stdout and stderr, read without blocking so that a deadline always holds:
/// the runner waits for the command's exit, never for the end of its output.
struct Pipes {
    open: Vec<(Box<dyn ReadFd>, Vec<u8>, bool)>,
    /// Bytes kept per pipe (one more is kept, so a cut can be told).
    cap: usize,
}

trait ReadFd: Read + AsRawFd {}
impl<T: Read + AsRawFd> ReadFd for T {}

impl Pipes {
    fn new(
        stdout: Option<std::process::ChildStdout>,
        stderr: Option<std::process::ChildStderr>,
        cap: usize,
    ) -> Pipes {
        let mut open: Vec<(Box<dyn ReadFd>, Vec<u8>, bool)> = Vec::new();
        if let Some(s) = stdout {
            open.push((Box::new(s), Vec::new(), false));
        }
        if let Some(s) = stderr {
            open.push((Box::new(s), Vec::new(), false));
        }
        for (p, _, _) in &open {
            // SAFETY: fcntl on a pipe descriptor we own.
            unsafe {
                let fd = p.as_raw_fd();
                let flags = libc::fcntl(fd, libc::F_GETFL);
                libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK);
            }
        }
        Pipes { open, cap }
    }

    /// Reads whatever arrives until every pipe is at its end (true) or `until` passes (false).
    fn read_until(&mut self, until: Instant) -> bool {
        loop {
            let mut fds: Vec<libc::pollfd> = self
                .open
                .iter()
                .filter(|(_, _, eof)| !eof)
                .map(|(p, _, _)| libc::pollfd {
                    fd: p.as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                })
                .collect();
            if fds.is_empty() {
                return true;
            }
            let left = until.saturating_duration_since(Instant::now());
            // SAFETY: fds is a valid array of pollfd for its length.
            let n = unsafe {
                libc::poll(
                    fds.as_mut_ptr(),
                    fds.len() as libc::nfds_t,
                    left.as_millis().min(i32::MAX as u128) as i32,
                )
            };
            if n <= 0 {
                if n < 0
                    && std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted
                {
                    continue;
                }
                return false;
            }
            let cap = self.cap;
            for (pipe, kept, eof) in self.open.iter_mut().filter(|(_, _, eof)| !eof) {
                let mut buf = [0u8; 8192];
                loop {
                    match pipe.read(&mut buf) {
                        Ok(0) => {
                            *eof = true;
                            break;
                        }
                        Ok(n) => {
                            // Keep one byte past the cap so the cut can be reported.
                            let room = (cap + 1).saturating_sub(kept.len());
                            kept.extend_from_slice(&buf[..n.min(room)]);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                        Err(_) => {
                            *eof = true;
                            break;
                        }
                    }
                }
            }
            if Instant::now() >= until {
                return self.open.iter().all(|(_, _, eof)| *eof);
            }
        }
    }

    /// What each pipe gave, stdout first.
    fn into_bytes(self) -> Vec<Vec<u8>> {
        self.open.into_iter().map(|(_, b, _)| b).collect()
    }

    fn into_output(self) -> String {
        let mut output = String::new();
        for (_, bytes, _) in self.open {
            let cut = bytes.len() > MAX_OUTPUT;
            output.push_str(&String::from_utf8_lossy(
                &bytes[..bytes.len().min(MAX_OUTPUT)],
            ));
            if cut {
                output.push_str("\n[output cut at 16 KiB]\n");
            }
        }
        output
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

    #[test]
    fn a_background_child_holding_the_output_does_not_hold_the_runner() {
        let started = Instant::now();
        let r = run("sleep 15 & echo ok", Duration::from_secs(10));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        assert!(r.ok && r.output.contains("ok"), "{r:?}");
    }

    #[test]
    fn the_deadline_holds_for_a_command_that_ignores_signals_and_keeps_writing() {
        let started = Instant::now();
        let r = run(
            "trap '' TERM HUP; while :; do echo line; sleep 0.01; done",
            Duration::from_millis(500),
        );
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "{:?}",
            started.elapsed()
        );
        assert!(
            !r.ok && r.status.contains("timeout") && r.output.contains("line"),
            "{r:?}"
        );
    }

    #[test]
    fn output_is_cut_at_the_cap_and_said_so() {
        let r = run(
            "head -c 100000 /dev/zero | tr '\\0' x",
            Duration::from_secs(10),
        );
        assert!(r.ok, "{r:?}");
        assert!(r.output.contains("[output cut at 16 KiB]"));
        assert!(r.output.len() < MAX_OUTPUT + 100);
    }
}
