//! Containing a dependency's panic on hostile input (a KDF parameter it did not expect, a
//! malformed structure) so that it becomes a refusal instead of the end of the process. The
//! panic message is kept off the terminal while contained: the TUI owns the screen.
use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static CONTAINING: Cell<u32> = const { Cell::new(0) };
}

static QUIET_HOOK: Once = Once::new();

/// Runs `work`; a panic inside it comes back as `Err` with the panic's text.
pub fn contained<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    QUIET_HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if CONTAINING.with(Cell::get) == 0 {
                previous(info);
            }
        }));
    });
    CONTAINING.with(|c| c.set(c.get() + 1));
    let result = panic::catch_unwind(AssertUnwindSafe(work));
    CONTAINING.with(|c| c.set(c.get() - 1));
    result.map_err(|p| {
        p.downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "panic".into())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_an_error_and_work_goes_on() {
        assert_eq!(contained(|| 2 + 2), Ok(4));
        let e = contained(|| -> u32 { panic!("hostile {}", 1) }).unwrap_err();
        assert_eq!(e, "hostile 1");
        assert_eq!(contained(|| 5), Ok(5));
    }
}
