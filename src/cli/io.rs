//! Where a subcommand's output goes and where its input comes from: this process's own
//! stdout, stderr and stdin, or, for a command a client sent through the service's socket
//! (SV-1, SV-2), that client's, carried by the socket's frames. Subcommands print with
//! `outln!`/`errln!` (never `println!`) so they behave the same either way.
use crate::engine::Engine;
use std::cell::RefCell;
use std::io::{IsTerminal, Write};
use std::sync::Arc;

/// A command's terminal: its two output streams, a line of input, and whether each is a tty.
pub trait Console: Send + Sync {
    fn out(&self, bytes: &[u8]);
    fn err(&self, bytes: &[u8]);
    /// One line the user typed (a confirmation); `None` at end of input.
    fn read_line(&self) -> Option<String>;
    fn stdin_is_terminal(&self) -> bool;
    fn stderr_is_terminal(&self) -> bool;
}

/// This process's own streams.
struct Local;

impl Console for Local {
    fn out(&self, bytes: &[u8]) {
        // A closed pipe (`certdeck list | head`) panics here as `println!` does; the crash hook
        // turns that panic into a quiet exit 0.
        let mut out = std::io::stdout().lock();
        if let Err(e) = out.write_all(bytes).and_then(|_| out.flush()) {
            panic!("failed printing to stdout: {e}");
        }
    }

    fn err(&self, bytes: &[u8]) {
        let mut err = std::io::stderr().lock();
        let _ = err.write_all(bytes).and_then(|_| err.flush());
    }

    fn read_line(&self) -> Option<String> {
        use std::io::BufRead;
        let mut line = String::new();
        match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) | Err(_) => None,
            Ok(_) => Some(line),
        }
    }

    fn stdin_is_terminal(&self) -> bool {
        std::io::stdin().is_terminal()
    }

    fn stderr_is_terminal(&self) -> bool {
        std::io::stderr().is_terminal()
    }
}

/// What a command sent through the socket runs with, on the thread that runs it.
pub struct Remote {
    pub console: Arc<dyn Console>,
    /// The engine of the process that owns the database; `open_engine` hands it out.
    pub engine: Arc<Engine>,
}

thread_local! {
    static REMOTE: RefCell<Option<Arc<Remote>>> = const { RefCell::new(None) };
}

/// Runs `f` with `remote` as this thread's console, engine and working directory.
pub fn with_remote<T>(remote: Remote, f: impl FnOnce() -> T) -> T {
    struct Reset;
    impl Drop for Reset {
        fn drop(&mut self) {
            REMOTE.with(|r| r.borrow_mut().take());
        }
    }
    REMOTE.with(|r| *r.borrow_mut() = Some(Arc::new(remote)));
    let _reset = Reset;
    f()
}

fn remote() -> Option<Arc<Remote>> {
    REMOTE.with(|r| r.borrow().clone())
}

/// The console of the command running on this thread (to hand to other threads it starts).
pub fn console() -> Arc<dyn Console> {
    match remote() {
        Some(r) => Arc::clone(&r.console),
        None => Arc::new(Local),
    }
}

/// The engine a client's command runs on, when this thread runs one.
pub fn shared_engine() -> Option<Arc<Engine>> {
    remote().map(|r| Arc::clone(&r.engine))
}

#[doc(hidden)]
pub fn write_out(args: std::fmt::Arguments) {
    console().out(args.to_string().as_bytes());
}

#[doc(hidden)]
pub fn write_err(args: std::fmt::Arguments) {
    console().err(args.to_string().as_bytes());
}

/// `println!` to the command's stdout.
#[macro_export]
macro_rules! outln {
    () => { $crate::cli::io::write_out(format_args!("\n")) };
    ($($t:tt)*) => { $crate::cli::io::write_out(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprintln!` to the command's stderr.
#[macro_export]
macro_rules! errln {
    () => { $crate::cli::io::write_err(format_args!("\n")) };
    ($($t:tt)*) => { $crate::cli::io::write_err(format_args!("{}\n", format_args!($($t)*))) };
}

/// `eprint!` to the command's stderr.
#[macro_export]
macro_rules! err {
    ($($t:tt)*) => { $crate::cli::io::write_err(format_args!($($t)*)) };
}
