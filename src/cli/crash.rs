//! The last line of defence: a panic that reaches `main`. A closed pipe (`certdeck list | head`)
//! ends the program quietly; a panic of the storage library on a damaged page becomes "database
//! damaged" with exit 3; anything else is reported as the bug it is.
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;

/// The last panic's message.
static LAST: Mutex<Option<String>> = Mutex::new(None);
/// Whether the storage library panicked on any thread: a TUI worker that dies of it is re-raised
/// on the main thread with another location.
static STORAGE_PANICKED: AtomicBool = AtomicBool::new(false);

fn is_broken_pipe(message: &str) -> bool {
    message.contains("failed printing to std") && message.contains("Broken pipe")
}

fn is_storage(file: &str) -> bool {
    file.contains("/redb-")
}

/// Keeps the default report for real bugs, and silences the two cases `exit_code` explains.
pub fn install_hook() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let file = info
            .location()
            .map(|l| l.file().to_string())
            .unwrap_or_default();
        let message = info
            .payload()
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| info.payload().downcast_ref::<String>().cloned())
            .unwrap_or_default();
        // After the storage library panicked, other panics are its consequences (a TUI worker
        // re-raised on the main thread): one clear message is said at the end instead.
        let quiet = is_broken_pipe(&message)
            || is_storage(&file)
            || STORAGE_PANICKED.load(Ordering::SeqCst);
        if is_storage(&file) {
            STORAGE_PANICKED.store(true, Ordering::SeqCst);
        }
        if let Ok(mut last) = LAST.lock() {
            *last = Some(message);
        }
        if !quiet {
            default(info);
        }
    }));
}

/// The exit code for a panic caught in `main`, after saying what it means.
pub fn exit_code() -> i32 {
    let last = LAST.lock().ok().and_then(|l| l.clone());
    match last {
        Some(message) if is_broken_pipe(&message) => 0,
        _ if STORAGE_PANICKED.load(Ordering::SeqCst) => {
            eprintln!("certdeck: database damaged: the storage library failed on a damaged page; restore from backup (certdeck db check lists what it can read)");
            super::EXIT_UNAVAILABLE
        }
        _ => 101,
    }
}
