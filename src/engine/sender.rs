//! The outbox sender thread the TUI runs (issue #6): deliveries go out beside the event loop, so
//! a dead endpoint (a 5 s connect timeout, a 10 s SMTP one) never freezes the screen. Without
//! it — the CLI's `tick` from cron — the tick sends inline.
use super::Engine;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;

/// What the engine and its sender thread share.
#[derive(Default)]
pub struct SenderShared {
    /// A sender thread owns delivery: the tick does not send, a manual retry only makes due.
    pub background: AtomicBool,
    /// Deliveries the thread tried since the tick last asked (the TUI reloads the outbox then).
    pub settled: AtomicUsize,
}

/// The running sender; `stop` ends it.
pub struct Sender {
    stop: Arc<AtomicBool>,
    finished: mpsc::Receiver<()>,
}

/// How long the thread sleeps when nothing is due.
const IDLE: Duration = Duration::from_millis(500);

/// Starts sending `engine`'s due deliveries on a thread of its own.
pub fn spawn(engine: Arc<Engine>) -> std::io::Result<Sender> {
    engine.sender.background.store(true, Ordering::SeqCst);
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, finished) = mpsc::channel();
    let thread_stop = Arc::clone(&stop);
    std::thread::Builder::new()
        .name("certdeck-outbox".into())
        .spawn(move || {
            while !thread_stop.load(Ordering::SeqCst) {
                let pause = match engine.send_deliveries() {
                    Ok(n) => {
                        engine.sender.settled.fetch_add(n, Ordering::SeqCst);
                        if n == 0 {
                            IDLE
                        } else {
                            Duration::ZERO
                        }
                    }
                    // The store is busy or failing: the TUI shows store errors itself; try later.
                    Err(_) => Duration::from_secs(5),
                };
                sleep_unless(&thread_stop, pause);
            }
            drop(engine);
            let _ = tx.send(());
        })?;
    Ok(Sender { stop, finished })
}

fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < total && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(step);
        slept += step;
    }
}

impl Sender {
    /// Asks the thread to end and waits up to `wait` for it. A send still in flight after that
    /// is abandoned: its delivery stays pending in the store and goes out after the next start
    /// (at least once; the idempotency key lets the receiver drop the repeat).
    pub fn stop(self, wait: Duration) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        self.finished.recv_timeout(wait).is_ok()
    }
}
