//! A CLI command sent to the process that owns the database (SV-1, SV-2): the service, or a
//! TUI. The command runs there with this terminal: its output is written here as it comes,
//! a confirmation it asks for is read here, and its exit code is this process's.
use super::protocol::{self, FromService, Identity, RunRequest, ToService};
use std::io::{BufRead, IsTerminal, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::{Duration, Instant};

/// The longest one command may run through the socket; the service's own deadlines end every
/// network step long before.
const OVERALL_DEADLINE: Duration = Duration::from_secs(3600);
/// The service sends nothing for this long: it is taken as stuck.
const SILENCE: Duration = Duration::from_secs(900);
/// A confirmation line longer than this is cut.
const MAX_LINE: u64 = 4096;

/// Runs `argv` through the socket at `path` and returns its exit code, or `None` when nobody
/// serves that socket (or serves another database): then the caller runs it by itself.
pub fn forward(path: &Path, identity: Identity, argv: Vec<String>) -> Option<i32> {
    let mut stream = UnixStream::connect(path).ok()?;
    let request = RunRequest {
        identity,
        argv,
        cwd: std::env::current_dir().unwrap_or_else(|_| "/".into()),
        stdin_is_terminal: std::io::stdin().is_terminal(),
        stderr_is_terminal: std::io::stderr().is_terminal(),
    };
    let _ = stream.set_write_timeout(Some(Duration::from_secs(10)));
    let sent = protocol::write_frame(&mut stream, &protocol::Hello::ours())
        .and_then(|_| protocol::write_frame(&mut stream, &ToService::Run(request)));
    if sent.is_err() {
        // The service refused before reading (another user: it wrote why and closed).
        return read_refusal(&mut stream);
    }
    let started = Instant::now();
    let mut said_anything = false;
    loop {
        let left = OVERALL_DEADLINE.saturating_sub(started.elapsed());
        if left.is_zero() {
            eprintln!(
                "certdeck: the service has run this command for {} s; stopped waiting (it may still end it)",
                OVERALL_DEADLINE.as_secs()
            );
            return Some(crate::cli::EXIT_UNAVAILABLE);
        }
        let _ = stream.set_read_timeout(Some(SILENCE.min(left)));
        let message = match protocol::read_frame::<FromService>(&mut stream, protocol::MAX_REPLY) {
            Ok(Some(m)) => m,
            Ok(None) if !said_anything => return None,
            Ok(None) | Err(_) => {
                eprintln!("certdeck: the service stopped before the command ended; what it finished is in the database");
                return Some(crate::cli::EXIT_UNAVAILABLE);
            }
        };
        said_anything = true;
        match message {
            FromService::NotMine(_) => return None,
            FromService::Refused(why) => {
                eprintln!("certdeck: {}: {why}", path.display());
                return Some(crate::cli::EXIT_UNAVAILABLE);
            }
            FromService::Out(bytes) => {
                let mut out = std::io::stdout().lock();
                if out.write_all(&bytes).and_then(|_| out.flush()).is_err() {
                    // A closed pipe (`| head`): the reader has what it wanted.
                    return Some(0);
                }
            }
            FromService::Err(bytes) => {
                let mut err = std::io::stderr().lock();
                let _ = err.write_all(&bytes).and_then(|_| err.flush());
            }
            FromService::ReadLine => {
                let line = read_line();
                if protocol::write_frame(&mut stream, &ToService::Line(line)).is_err() {
                    eprintln!("certdeck: the service stopped before the command ended");
                    return Some(crate::cli::EXIT_UNAVAILABLE);
                }
            }
            FromService::Exit(code) => return Some(code),
            // Only for attached TUIs: a service does not send them here.
            FromService::Attached { .. }
            | FromService::Action(_)
            | FromService::Changed
            | FromService::ScanProgress(_) => {
                eprintln!("certdeck: the service answered out of turn");
                return Some(crate::cli::EXIT_UNAVAILABLE);
            }
        }
    }
}

fn read_refusal(stream: &mut UnixStream) -> Option<i32> {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    match protocol::read_frame::<FromService>(stream, protocol::MAX_REPLY) {
        Ok(Some(FromService::Refused(why))) => {
            eprintln!("certdeck: {why}");
            Some(crate::cli::EXIT_UNAVAILABLE)
        }
        _ => None,
    }
}

fn read_line() -> Option<String> {
    let mut line = String::new();
    match std::io::stdin().lock().take(MAX_LINE).read_line(&mut line) {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}
