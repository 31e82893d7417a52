//! The engine on a Unix socket (SV-1, SV-2): `serve` and a running TUI listen here, and every
//! CLI command a client sends runs on this process's engine with the client's terminal, working
//! directory and exit code. The socket is created 0600 and each peer's uid is checked (the
//! owner and root only); refusals are logged.
use super::protocol::{self, FromService, Identity, RunRequest, ToService};
use super::{log, Level};
use crate::cli::io::{Console, Remote};
use crate::engine::Engine;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Clients served at once; more are refused (with a reason) until one ends.
const MAX_CLIENTS: usize = 64;
/// A client must send its request within this.
const REQUEST_DEADLINE: Duration = Duration::from_secs(5);
/// A user asked to confirm has this long to answer.
const ANSWER_DEADLINE: Duration = Duration::from_secs(600);
/// A client that reads nothing for this long is dropped (its command still ends normally).
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// Output is sent in frames of about this size (and at once before anything on stderr).
const OUT_CHUNK: usize = 64 * 1024;

/// A listening socket; dropping it stops listening and removes the socket file.
pub struct SocketServer {
    path: PathBuf,
    inode: u64,
    listener: Arc<UnixListener>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl SocketServer {
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// Why the socket could not be served.
#[derive(Debug)]
pub enum BindError {
    /// Another live process answers on it.
    InUse(PathBuf),
    Io(PathBuf, std::io::Error),
}

impl std::fmt::Display for BindError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BindError::InUse(p) => write!(
                f,
                "{}: another certdeck process already serves this socket (SV-1)",
                p.display()
            ),
            BindError::Io(p, e) => write!(f, "{}: {e}", p.display()),
        }
    }
}

/// Listens on `path` and runs clients' commands on `engine`. `identity` says which database,
/// clock and resolver this process runs; a client with others is told to run by itself.
pub fn serve(
    path: &Path,
    engine: Arc<Engine>,
    identity: Identity,
) -> Result<SocketServer, BindError> {
    let listener = Arc::new(bind(path)?);
    let inode = std::fs::metadata(path)
        .map(|m| m.ino())
        .map_err(|e| BindError::Io(path.to_path_buf(), e))?;
    let stop = Arc::new(AtomicBool::new(false));
    let owner = super::peer::own_uid();
    let thread = {
        let (stop, listener) = (Arc::clone(&stop), Arc::clone(&listener));
        let identity = Arc::new(identity);
        std::thread::Builder::new()
            .name("certdeck-socket".into())
            .spawn(move || accept_loop(&listener, engine, identity, owner, &stop))
            .map_err(|e| BindError::Io(path.to_path_buf(), e))?
    };
    Ok(SocketServer {
        path: path.to_path_buf(),
        inode,
        listener,
        stop,
        thread: Some(thread),
    })
}

impl Drop for SocketServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wakes the accept call (Linux: shutting a listening socket down ends a blocked accept
        // with an error), even when the socket file was removed meanwhile; the loop sees
        // `stop` and ends.
        // SAFETY: the descriptor stays open while `self.listener` lives.
        unsafe { libc::shutdown(self.listener.as_raw_fd(), libc::SHUT_RDWR) };
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        // Only our own file: a newer service may have taken the path since.
        if std::fs::metadata(&self.path).is_ok_and(|m| m.ino() == self.inode) {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Creates the socket 0600 in a directory of its own (made 0700 when certdeck creates it). A
/// file left by a process that died is replaced; a live one is not.
fn bind(path: &Path) -> Result<UnixListener, BindError> {
    let io = |e| BindError::Io(path.to_path_buf(), e);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.exists() {
            std::fs::create_dir_all(dir).map_err(io)?;
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).map_err(io)?;
        }
    }
    if std::fs::symlink_metadata(path).is_ok() {
        if UnixStream::connect(path).is_ok() {
            return Err(BindError::InUse(path.to_path_buf()));
        }
        std::fs::remove_file(path).map_err(io)?;
    }
    // The mode is set while the file is created, so it is never reachable by others; the
    // peer check below holds even if the mode is later loosened.
    // SAFETY: umask has no preconditions; the old mask is put back at once.
    let old = unsafe { libc::umask(0o177) };
    let bound = UnixListener::bind(path);
    unsafe { libc::umask(old) };
    let listener = bound.map_err(io)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).map_err(io)?;
    Ok(listener)
}

fn accept_loop(
    listener: &UnixListener,
    engine: Arc<Engine>,
    identity: Arc<Identity>,
    owner: u32,
    stop: &AtomicBool,
) {
    let open = Arc::new(AtomicUsize::new(0));
    for conn in listener.incoming() {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        let Ok(stream) = conn else {
            // Out of descriptors and the like: wait a little rather than spin.
            std::thread::sleep(Duration::from_millis(50));
            continue;
        };
        let peer = match super::peer::of(&stream) {
            Ok(p) => p,
            Err(e) => {
                log(
                    Level::Warning,
                    &format!("socket: peer unknown ({e}); closed"),
                );
                continue;
            }
        };
        if !crate::domain::service::may_connect(peer.uid, owner) {
            log(
                Level::Warning,
                &format!(
                    "socket: refused uid {} (pid {}): only uid {owner} and root may use it (SV-1)",
                    peer.uid, peer.pid
                ),
            );
            refuse(
                stream,
                &format!("refused: only the service's user (uid {owner}) and root may use its socket (SV-1)"),
            );
            continue;
        }
        if open.fetch_add(1, Ordering::SeqCst) >= MAX_CLIENTS {
            open.fetch_sub(1, Ordering::SeqCst);
            refuse(
                stream,
                &format!("the service is serving {MAX_CLIENTS} clients; try again"),
            );
            continue;
        }
        let (engine, identity, count) = (
            Arc::clone(&engine),
            Arc::clone(&identity),
            Arc::clone(&open),
        );
        let spawned = std::thread::Builder::new()
            .name("certdeck-client".into())
            .spawn(move || {
                serve_client(stream, &engine, &identity);
                count.fetch_sub(1, Ordering::SeqCst);
            });
        if spawned.is_err() {
            // The closure went with the error, without ending its count.
            open.fetch_sub(1, Ordering::SeqCst);
        }
    }
}

fn refuse(mut stream: UnixStream, why: &str) {
    let _ = stream.set_write_timeout(Some(Duration::from_secs(1)));
    let _ = protocol::write_frame(&mut stream, &FromService::Refused(why.to_string()));
}

fn serve_client(mut stream: UnixStream, engine: &Arc<Engine>, identity: &Identity) {
    let _ = stream.set_read_timeout(Some(REQUEST_DEADLINE));
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let hello = match protocol::read_frame::<protocol::Hello>(&mut stream, protocol::MAX_REQUEST) {
        Ok(Some(h)) => h,
        Ok(None) => return,
        Err(e) => {
            log(
                Level::Warning,
                &format!("socket: not a certdeck client ({e})"),
            );
            return;
        }
    };
    if hello.program != "certdeck" || hello.version != protocol::VERSION {
        return refuse(
            stream,
            &format!(
                "the service runs certdeck {} (protocol {}), this is protocol {}: restart the service after an upgrade",
                env!("CARGO_PKG_VERSION"),
                protocol::VERSION,
                hello.version
            ),
        );
    }
    let request = match protocol::read_frame::<ToService>(&mut stream, protocol::MAX_REQUEST) {
        Ok(Some(r)) => r,
        Ok(None) => return,
        Err(e) => {
            log(Level::Warning, &format!("socket: a bad request ({e})"));
            return;
        }
    };
    let client = match &request {
        ToService::Run(r) => &r.identity,
        ToService::Attach(a) => &a.identity,
        ToService::Effect(_) | ToService::Line(_) => return,
    };
    if let Some(why) = identity.mismatch(client) {
        let _ = protocol::write_frame(&mut stream, &FromService::NotMine(why));
        return;
    }
    match request {
        ToService::Run(r) => {
            let code = run_request(&stream, engine, r);
            let _ = protocol::write_frame(&mut stream, &FromService::Exit(code));
        }
        ToService::Attach(a) => serve_tui(stream, engine, &a.cwd, &identity.db),
        ToService::Effect(_) | ToService::Line(_) => {}
    }
}

/// How often an attached TUI is told of changes and of a scan's progress.
const NOTICE_EVERY: Duration = Duration::from_millis(200);

/// An attached TUI (SV-1): its effects run on the engine one by one and their actions go back;
/// meanwhile it is told when others change the database and how far a scan is.
fn serve_tui(stream: UnixStream, engine: &Arc<Engine>, cwd: &Path, db: &Path) {
    if enter_clients_directory(cwd).is_err() {
        // Relative paths it types will be taken from the service's directory instead.
        log(
            Level::Warning,
            &format!(
                "socket: a TUI's directory {} cannot be entered",
                cwd.display()
            ),
        );
    }
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let writer = Arc::new(Mutex::new(writer));
    let send = |message: &FromService| {
        let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
        protocol::write_frame(&mut *w, message).is_ok()
    };
    if !send(&FromService::Attached {
        label: db.display().to_string(),
    }) {
        return;
    }
    let watch = engine.watch();
    let origin = watch.id;
    let open = Arc::new(AtomicBool::new(true));
    let notifier = {
        let (engine, writer, open) = (Arc::clone(engine), Arc::clone(&writer), Arc::clone(&open));
        std::thread::Builder::new()
            .name("certdeck-notices".into())
            .spawn(move || {
                let mut last_progress = None;
                while open.load(Ordering::SeqCst) {
                    std::thread::sleep(NOTICE_EVERY);
                    let mut notices = Vec::new();
                    if watch.take_changed() {
                        notices.push(FromService::Changed);
                    }
                    let progress = engine.scan_progress();
                    if progress != last_progress {
                        last_progress = progress;
                        notices.push(FromService::ScanProgress(progress));
                    }
                    for n in notices {
                        let mut w = writer.lock().unwrap_or_else(|p| p.into_inner());
                        if protocol::write_frame(&mut *w, &n).is_err() {
                            return;
                        }
                    }
                }
            })
    };
    let mut reader = stream;
    // An idle TUI is normal: no read deadline; its end closes the connection.
    let _ = reader.set_read_timeout(None);
    loop {
        match protocol::read_frame::<ToService>(&mut reader, protocol::MAX_REPLY) {
            Ok(Some(ToService::Effect(effect))) => {
                let action = engine.run_for(origin, *effect);
                if !send(&FromService::Action(Box::new(action))) {
                    break;
                }
            }
            Ok(Some(_)) => {}
            Ok(None) => break,
            Err(e) => {
                log(
                    Level::Warning,
                    &format!("socket: a TUI sent a bad frame ({e})"),
                );
                break;
            }
        }
    }
    open.store(false, Ordering::SeqCst);
    if let Ok(t) = notifier {
        let _ = t.join();
    }
}

/// Runs one client's command on this process's engine and returns its exit code.
fn run_request(stream: &UnixStream, engine: &Arc<Engine>, request: RunRequest) -> i32 {
    let console = match SocketConsole::new(stream, &request) {
        Ok(c) => Arc::new(c),
        Err(_) => return crate::cli::EXIT_UNAVAILABLE,
    };
    if let Err(e) = enter_clients_directory(&request.cwd) {
        console.err(
            format!(
                "certdeck: the service cannot work in your directory {} ({e}); run from another directory\n",
                request.cwd.display()
            )
            .as_bytes(),
        );
        return crate::cli::EXIT_UNAVAILABLE;
    }
    let remote = Remote {
        console: Arc::clone(&console) as Arc<dyn Console>,
        engine: Arc::clone(engine),
    };
    let argv = request.argv;
    let run = std::panic::AssertUnwindSafe(|| {
        crate::cli::io::with_remote(remote, || crate::cli::run_forwarded(engine, &argv))
    });
    let code = std::panic::catch_unwind(run).unwrap_or_else(|_| {
        console.err(b"certdeck: the command failed inside the service (see its log)\n");
        crate::cli::EXIT_UNAVAILABLE
    });
    console.flush();
    code
}

/// Gives this thread (and the threads it starts) a working directory of its own, the client's,
/// so relative paths in the command mean what they mean to the one who typed them, and every
/// message shows them as typed. Other threads keep theirs (Linux: `unshare(CLONE_FS)`).
fn enter_clients_directory(dir: &Path) -> std::io::Result<()> {
    // SAFETY: unshare(CLONE_FS) only detaches this thread's cwd, root and umask from the
    // process's; it has no memory effects.
    if unsafe { libc::unshare(libc::CLONE_FS) } != 0 {
        return Err(std::io::Error::last_os_error());
    }
    std::env::set_current_dir(dir)
}

/// A client's terminal, through its connection.
struct SocketConsole {
    writer: Mutex<(UnixStream, Vec<u8>)>,
    reader: Mutex<UnixStream>,
    /// The client went away: output is dropped, the command still ends normally.
    gone: AtomicBool,
    stdin_is_terminal: bool,
    stderr_is_terminal: bool,
}

impl SocketConsole {
    fn new(stream: &UnixStream, request: &RunRequest) -> std::io::Result<SocketConsole> {
        Ok(SocketConsole {
            writer: Mutex::new((stream.try_clone()?, Vec::new())),
            reader: Mutex::new(stream.try_clone()?),
            gone: AtomicBool::new(false),
            stdin_is_terminal: request.stdin_is_terminal,
            stderr_is_terminal: request.stderr_is_terminal,
        })
    }

    fn send(&self, stream: &mut UnixStream, message: &FromService) {
        if self.gone.load(Ordering::SeqCst) {
            return;
        }
        if protocol::write_frame(stream, message).is_err() {
            self.gone.store(true, Ordering::SeqCst);
        }
    }

    fn flush(&self) {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let (stream, pending) = &mut *w;
        if !pending.is_empty() {
            let bytes = std::mem::take(pending);
            self.send(stream, &FromService::Out(bytes));
        }
    }
}

impl Console for SocketConsole {
    fn out(&self, bytes: &[u8]) {
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let (stream, pending) = &mut *w;
        if pending.len() + bytes.len() < OUT_CHUNK {
            pending.extend_from_slice(bytes);
            return;
        }
        // Whole frames of OUT_CHUNK bytes (a `list --json` of 100,000 is one 60 MB line),
        // the remainder kept for the next output.
        let fill = OUT_CHUNK - pending.len();
        pending.extend_from_slice(&bytes[..fill]);
        let first = std::mem::take(pending);
        self.send(stream, &FromService::Out(first));
        let mut rest = &bytes[fill..];
        while rest.len() >= OUT_CHUNK {
            self.send(stream, &FromService::Out(rest[..OUT_CHUNK].to_vec()));
            rest = &rest[OUT_CHUNK..];
        }
        pending.extend_from_slice(rest);
    }

    fn err(&self, bytes: &[u8]) {
        self.flush();
        let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        for chunk in bytes.chunks(OUT_CHUNK) {
            self.send(&mut w.0, &FromService::Err(chunk.to_vec()));
        }
    }

    fn read_line(&self) -> Option<String> {
        self.flush();
        {
            let mut w = self.writer.lock().unwrap_or_else(|p| p.into_inner());
            self.send(&mut w.0, &FromService::ReadLine);
        }
        if self.gone.load(Ordering::SeqCst) {
            return None;
        }
        let mut r = self.reader.lock().unwrap_or_else(|p| p.into_inner());
        let _ = r.set_read_timeout(Some(ANSWER_DEADLINE));
        match protocol::read_frame::<ToService>(&mut *r, protocol::MAX_REQUEST) {
            Ok(Some(ToService::Line(line))) => line,
            _ => None,
        }
    }

    fn stdin_is_terminal(&self) -> bool {
        self.stdin_is_terminal
    }

    fn stderr_is_terminal(&self) -> bool {
        self.stderr_is_terminal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_output_goes_in_frames_no_larger_than_a_chunk_and_arrives_whole_in_order() {
        let (server, mut client) = UnixStream::pair().unwrap();
        let request = RunRequest {
            identity: Identity {
                db: "/x".into(),
                now: None,
                resolver: None,
            },
            argv: vec![],
            cwd: "/".into(),
            stdin_is_terminal: false,
            stderr_is_terminal: false,
        };
        let console = SocketConsole::new(&server, &request).unwrap();
        let reader = std::thread::spawn(move || {
            let mut frames = Vec::new();
            while let Ok(Some(m)) = protocol::read_frame::<FromService>(&mut client, OUT_CHUNK * 2)
            {
                frames.push(m);
            }
            frames
        });
        let big: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
        console.out(b"head ");
        console.out(&big);
        console.err(b"a warning\n");
        console.out(b" tail");
        console.flush();
        drop(console);
        drop(server);
        let frames = reader.join().unwrap();
        let mut out = Vec::new();
        let mut err_at = None;
        for f in frames {
            match f {
                FromService::Out(b) => {
                    assert!(b.len() <= OUT_CHUNK);
                    out.extend(b);
                }
                FromService::Err(b) => {
                    assert_eq!(b, b"a warning\n");
                    err_at = Some(out.len());
                }
                other => panic!("{other:?}"),
            }
        }
        let mut expected = b"head ".to_vec();
        expected.extend(&big);
        // stderr comes after everything written to stdout before it.
        assert_eq!(err_at, Some(expected.len()));
        expected.extend(b" tail");
        assert_eq!(out, expected);
    }
}
