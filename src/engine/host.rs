//! What the TUI runs on: the engine in this process, or the engine of the process that holds
//! the database, through its socket (SV-1). The TUI reduces actions itself and hands effects
//! to its host; the host tells it when someone else changed the database.
use super::{Engine, Watch};
use crate::app::{update, Action, Effect, State};
use crate::domain::discovery::ScanProgress;
use crate::domain::time::Timestamp;
use std::collections::VecDeque;
use std::sync::Arc;

pub trait Host: Send + Sync {
    fn now(&self) -> Timestamp;

    /// Applies `action` to `state` now; the effects it asks for wait in `pending`.
    fn reduce(&self, state: &mut State, action: Action, pending: &mut VecDeque<Effect>) {
        pending.extend(update(state, action, self.now()));
    }

    /// Runs `pending` effects on this thread and what they lead to, unless the engine is busy
    /// (then `false`: try again). Tests without an effect runner use it.
    fn try_run(&self, state: &mut State, pending: &mut VecDeque<Effect>) -> bool;

    /// Runs one effect (the effect runner's thread) and gives its outcome.
    fn run(&self, effect: Effect) -> Action;

    /// How far a scan is, for the gauge.
    fn scan_progress(&self) -> Option<ScanProgress>;

    /// Whether someone else changed the database since the last call.
    fn take_changed(&self) -> bool {
        false
    }

    /// Why the TUI cannot go on (the service it ran through stopped).
    fn lost(&self) -> Option<String> {
        None
    }
}

impl Host for Engine {
    fn now(&self) -> Timestamp {
        self.clock().now()
    }

    fn try_run(&self, state: &mut State, pending: &mut VecDeque<Effect>) -> bool {
        Engine::try_run(self, state, pending)
    }

    fn run(&self, effect: Effect) -> Action {
        self.run_exclusive(effect)
    }

    fn scan_progress(&self) -> Option<ScanProgress> {
        Engine::scan_progress(self)
    }
}

/// This process's engine, for a TUI that holds the database and hears of the changes that
/// commands and other TUIs make through its socket.
pub struct LocalHost {
    pub engine: Arc<Engine>,
    pub watch: Watch,
}

impl LocalHost {
    pub fn new(engine: Arc<Engine>) -> LocalHost {
        let watch = engine.watch();
        LocalHost { engine, watch }
    }
}

impl Host for LocalHost {
    fn now(&self) -> Timestamp {
        self.engine.clock().now()
    }

    fn try_run(&self, state: &mut State, pending: &mut VecDeque<Effect>) -> bool {
        self.engine.try_run(state, pending)
    }

    fn run(&self, effect: Effect) -> Action {
        self.engine.run_for(self.watch.id, effect)
    }

    fn scan_progress(&self) -> Option<ScanProgress> {
        self.engine.scan_progress()
    }

    fn take_changed(&self) -> bool {
        self.watch.take_changed()
    }
}
