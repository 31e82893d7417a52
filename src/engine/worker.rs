//! The TUI's background threads: the outbox sender and the ticker. Each loops until told to
//! stop, and stopping waits a bounded time for the work in hand.
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

/// A running background thread; `stop` ends it.
pub struct Worker {
    stop: Arc<AtomicBool>,
    finished: mpsc::Receiver<()>,
}

impl Worker {
    /// Runs `step` until stopped; `step` says how long to pause before the next round.
    fn spawn(
        name: &str,
        engine: Arc<Engine>,
        mut step: impl FnMut(&Engine) -> Duration + Send + 'static,
    ) -> std::io::Result<Worker> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, finished) = mpsc::channel();
        let thread_stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while !thread_stop.load(Ordering::SeqCst) {
                    let pause = step(&engine);
                    sleep_unless(&thread_stop, pause);
                }
                drop(engine);
                let _ = tx.send(());
            })?;
        Ok(Worker { stop, finished })
    }

    /// Asks the thread to end and waits up to `wait` for it; `false` when it was still busy.
    pub fn stop(self, wait: Duration) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        self.finished.recv_timeout(wait).is_ok()
    }
}

fn sleep_unless(stop: &AtomicBool, total: Duration) {
    let step = Duration::from_millis(50);
    let mut slept = Duration::ZERO;
    while slept < total && !stop.load(Ordering::SeqCst) {
        std::thread::sleep(step);
        slept += step;
    }
}

/// Sends `engine`'s due deliveries on a thread of its own, so a dead endpoint (a 5 s connect
/// timeout, a 10 s SMTP one) never freezes the screen. A send still in flight when the thread is
/// stopped stays pending in the store and goes out after the next start (at least once; the
/// idempotency key lets the receiver drop the repeat).
pub fn spawn_sender(engine: Arc<Engine>) -> std::io::Result<Worker> {
    engine.sender.background.store(true, Ordering::SeqCst);
    Worker::spawn("certdeck-outbox", engine, |engine| {
        match engine.send_deliveries() {
            Ok(0) => Duration::from_millis(500),
            Ok(n) => {
                engine.sender.settled.fetch_add(n, Ordering::SeqCst);
                Duration::ZERO
            }
            // The store is busy or failing: the TUI shows store errors itself; try later.
            Err(_) => Duration::from_secs(5),
        }
    })
}

/// Runs the tick (SPEC §11) every `every` on a thread of its own, so timed work that waits on
/// the network (a hosting's deployment and probes, a validation check) never freezes the
/// screen; each report goes to `reports`. The thread holds the engine while it ticks, so effects
/// the user asks for meanwhile wait their turn.
pub fn spawn_ticker(
    engine: Arc<Engine>,
    every: Duration,
    reports: mpsc::Sender<Result<crate::domain::schedule::TickReport, String>>,
) -> std::io::Result<Worker> {
    Worker::spawn("certdeck-ticker", engine, move |engine| {
        let _ = reports.send(engine.tick_exclusive().map_err(|e| e.to_string()));
        every
    })
}
