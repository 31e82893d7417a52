//! The TUI's background threads: the effect runner, the ticker and the outbox sender. Each loops
//! until told to stop, and stopping waits a bounded time for the work in hand. The state stays on
//! the TUI's thread: threads get effects and give back actions.
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
    /// Runs `step` on `context` until stopped; `step` says how long to pause before the next
    /// round, or `None` when its work is over.
    fn spawn<C: Send + 'static>(
        name: &str,
        context: C,
        mut step: impl FnMut(&C) -> Option<Duration> + Send + 'static,
    ) -> std::io::Result<Worker> {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, finished) = mpsc::channel();
        let thread_stop = Arc::clone(&stop);
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                while !thread_stop.load(Ordering::SeqCst) {
                    match step(&context) {
                        Some(pause) => sleep_unless(&thread_stop, pause),
                        None => break,
                    }
                }
                drop(context);
                let _ = tx.send(());
            })?;
        Ok(Worker { stop, finished })
    }

    /// Asks the thread to end and waits up to `wait` for it; `false` when it was still busy.
    pub fn stop(self, wait: Duration) -> bool {
        self.stop.store(true, Ordering::SeqCst);
        self.finished.recv_timeout(wait).is_ok()
    }

    /// Waits up to `wait` for the thread to end by itself.
    fn join(self, wait: Duration) -> bool {
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
    Worker::spawn("certdeck-outbox", engine, |engine: &Arc<Engine>| {
        Some(match engine.send_deliveries() {
            Ok(0) => Duration::from_millis(500),
            Ok(n) => {
                engine.sender.settled.fetch_add(n, Ordering::SeqCst);
                Duration::ZERO
            }
            // The store is busy or failing: the TUI shows store errors itself; try later.
            Err(_) => Duration::from_secs(5),
        })
    })
}

/// Runs the tick (SPEC §11) every `every` on a thread of its own, so timed work that waits on
/// the network (a hosting's deployment and probes, a validation check) never freezes the
/// screen; each report goes to `reports`. The thread holds the engine while it ticks, so effects
/// the user asks for meanwhile wait their turn. Watchers other than `origin` (the TUI, which
/// gets the reports) hear of what a tick changed.
pub fn spawn_ticker(
    engine: Arc<Engine>,
    origin: Option<u64>,
    every: Duration,
    reports: mpsc::Sender<Result<crate::domain::schedule::TickReport, String>>,
) -> std::io::Result<Worker> {
    Worker::spawn("certdeck-ticker", engine, move |engine: &Arc<Engine>| {
        let _ = reports.send(engine.tick_exclusive(origin).map_err(|e| e.to_string()));
        Some(every)
    })
}

/// Sends an empty tick report every `every`, for a TUI whose ticks run in another process (the
/// service): days left still count down on screen.
pub fn spawn_clock(
    every: Duration,
    reports: mpsc::Sender<Result<crate::domain::schedule::TickReport, String>>,
) -> std::io::Result<Worker> {
    Worker::spawn("certdeck-clock", (), move |_| {
        let _ = reports.send(Ok(crate::domain::schedule::TickReport::default()));
        Some(every)
    })
}

/// The effect runner (DESIGN: "an effect runner performs it and feeds the outcome back as an
/// Action"): effects go in, in order, and their actions come back, so a deployment or a
/// validation check started from a key never freezes the screen.
pub struct EffectRunner {
    worker: Worker,
    effects: mpsc::Sender<crate::app::Effect>,
    actions: mpsc::Receiver<crate::app::Action>,
    in_flight: usize,
    died: bool,
}

impl EffectRunner {
    /// Runs effects on `host`: this process's engine, or the service's through its socket.
    pub fn spawn<H: super::host::Host + ?Sized + 'static>(
        host: Arc<H>,
    ) -> std::io::Result<EffectRunner> {
        let (effects, inbox) = mpsc::channel::<crate::app::Effect>();
        let (outbox, actions) = mpsc::channel();
        let worker = Worker::spawn("certdeck-effects", host, move |host: &Arc<H>| {
            match inbox.recv_timeout(Duration::from_millis(100)) {
                Ok(effect) => {
                    let _ = outbox.send(host.run(effect));
                    Some(Duration::ZERO)
                }
                Err(mpsc::RecvTimeoutError::Timeout) => Some(Duration::ZERO),
                // Stopped: every effect sent before has run.
                Err(mpsc::RecvTimeoutError::Disconnected) => None,
            }
        })?;
        Ok(EffectRunner {
            worker,
            effects,
            actions,
            in_flight: 0,
            died: false,
        })
    }

    pub fn send(&mut self, effect: crate::app::Effect) {
        if self.effects.send(effect).is_ok() {
            self.in_flight += 1;
        }
    }

    /// The actions of finished effects, in the order the effects were sent.
    pub fn finished(&mut self) -> Vec<crate::app::Action> {
        let mut done = Vec::new();
        loop {
            match self.actions.try_recv() {
                Ok(action) => done.push(action),
                Err(mpsc::TryRecvError::Empty) => break,
                Err(mpsc::TryRecvError::Disconnected) => {
                    self.died = true;
                    break;
                }
            }
        }
        self.in_flight -= done.len().min(self.in_flight);
        done
    }

    /// Whether the thread is gone (it panicked): nothing sent will come back.
    pub fn died(&self) -> bool {
        self.died
    }

    /// Effects sent and not finished yet.
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// Ends the thread once the effects already sent have run (an import submitted just before
    /// quitting is stored, not dropped), waiting up to `wait`.
    pub fn stop(self, wait: Duration) -> bool {
        drop(self.effects);
        self.worker.join(wait)
    }
}
