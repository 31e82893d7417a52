//! A TUI on the engine of the process that holds the database, through its socket (SV-1):
//! effects go out one at a time and their actions come back; a reader thread takes the
//! service's notices (changes, scan progress) as they come.
use super::protocol::{self, AttachRequest, FromService, Identity, ToService};
use crate::app::{update, Action, Effect, State};
use crate::domain::discovery::ScanProgress;
use crate::domain::time::Timestamp;
use crate::engine::clock::Clock;
use crate::engine::host::Host;
use std::collections::VecDeque;
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

/// The longest an effect may take on the service; its own network deadlines end far sooner.
const EFFECT_DEADLINE: Duration = Duration::from_secs(900);
/// The service must answer the attach request within this.
const ATTACH_DEADLINE: Duration = Duration::from_secs(5);

pub struct RemoteHost {
    clock: Arc<dyn Clock>,
    socket: PathBuf,
    label: String,
    writer: Mutex<UnixStream>,
    replies: Mutex<mpsc::Receiver<Action>>,
    changed: Arc<AtomicBool>,
    progress: Arc<Mutex<Option<ScanProgress>>>,
    lost: Arc<Mutex<Option<String>>>,
}

/// Attaches to the service at `path`. `Ok(None)`: nobody serves it (or serves another
/// database): the TUI opens the database itself. `Err`: the service refused.
pub fn attach(
    path: &Path,
    identity: Identity,
    clock: Arc<dyn Clock>,
) -> Result<Option<RemoteHost>, String> {
    let Ok(mut stream) = UnixStream::connect(path) else {
        return Ok(None);
    };
    let request = AttachRequest {
        identity,
        cwd: std::env::current_dir().unwrap_or_else(|_| "/".into()),
    };
    let _ = stream.set_write_timeout(Some(ATTACH_DEADLINE));
    let _ = stream.set_read_timeout(Some(ATTACH_DEADLINE));
    let _ = protocol::write_frame(&mut stream, &protocol::Hello::ours())
        .and_then(|_| protocol::write_frame(&mut stream, &ToService::Attach(request)));
    let label = match protocol::read_frame::<FromService>(&mut stream, protocol::MAX_REPLY) {
        Ok(Some(FromService::Attached { label })) => label,
        Ok(Some(FromService::Refused(why))) => return Err(format!("{}: {why}", path.display())),
        _ => return Ok(None),
    };
    let _ = stream.set_read_timeout(None);
    let reader = stream.try_clone().map_err(|e| e.to_string())?;
    let (replies_tx, replies) = mpsc::channel();
    let host = RemoteHost {
        clock,
        socket: path.to_path_buf(),
        label,
        writer: Mutex::new(stream),
        replies: Mutex::new(replies),
        changed: Arc::new(AtomicBool::new(false)),
        progress: Arc::new(Mutex::new(None)),
        lost: Arc::new(Mutex::new(None)),
    };
    let (changed, progress, lost) = (
        Arc::clone(&host.changed),
        Arc::clone(&host.progress),
        Arc::clone(&host.lost),
    );
    let socket = host.socket.clone();
    std::thread::Builder::new()
        .name("certdeck-service".into())
        .spawn(move || read_notices(reader, &socket, replies_tx, &changed, &progress, &lost))
        .map_err(|e| e.to_string())?;
    Ok(Some(host))
}

fn read_notices(
    mut reader: UnixStream,
    socket: &Path,
    replies: mpsc::Sender<Action>,
    changed: &AtomicBool,
    progress: &Mutex<Option<ScanProgress>>,
    lost: &Mutex<Option<String>>,
) {
    loop {
        match protocol::read_frame::<FromService>(&mut reader, protocol::MAX_REPLY) {
            Ok(Some(FromService::Action(a))) => {
                let _ = replies.send(*a);
            }
            Ok(Some(FromService::Changed)) => changed.store(true, Ordering::SeqCst),
            Ok(Some(FromService::ScanProgress(p))) => {
                *progress.lock().unwrap_or_else(|e| e.into_inner()) = p;
            }
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => break,
        }
    }
    *lost.lock().unwrap_or_else(|e| e.into_inner()) = Some(format!(
        "the certdeck process that holds the database (at {}) stopped; the database is consistent: start certdeck again",
        socket.display()
    ));
}

impl RemoteHost {
    /// The database, as the service names it (for the status bar).
    pub fn label(&self) -> String {
        format!("{} (through {})", self.label, self.socket.display())
    }
}

impl Host for RemoteHost {
    fn now(&self) -> Timestamp {
        self.clock.now()
    }

    fn try_run(&self, state: &mut State, pending: &mut VecDeque<Effect>) -> bool {
        while let Some(effect) = pending.pop_front() {
            let action = self.run(effect);
            pending.extend(update(state, action, self.now()));
        }
        true
    }

    fn run(&self, effect: Effect) -> Action {
        if let Some(why) = self.lost() {
            return Action::Failed(why);
        }
        // One effect at a time: the reply that comes next is this one's.
        let replies = self.replies.lock().unwrap_or_else(|e| e.into_inner());
        {
            let mut w = self.writer.lock().unwrap_or_else(|e| e.into_inner());
            if protocol::write_frame(&mut *w, &ToService::Effect(Box::new(effect))).is_err() {
                return Action::Failed(self.lost().unwrap_or_else(|| {
                    "the certdeck service did not take the request".to_string()
                }));
            }
        }
        match replies.recv_timeout(EFFECT_DEADLINE) {
            Ok(action) => action,
            Err(mpsc::RecvTimeoutError::Timeout) => Action::Failed(format!(
                "the certdeck service did not answer within {} s",
                EFFECT_DEADLINE.as_secs()
            )),
            Err(mpsc::RecvTimeoutError::Disconnected) => Action::Failed(
                self.lost()
                    .unwrap_or_else(|| "the certdeck service stopped".to_string()),
            ),
        }
    }

    fn scan_progress(&self) -> Option<ScanProgress> {
        *self.progress.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn take_changed(&self) -> bool {
        self.changed.swap(false, Ordering::SeqCst)
    }

    fn lost(&self) -> Option<String> {
        self.lost.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}
