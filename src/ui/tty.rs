//! Guarding against a terminal that disappears (SSH drop). crossterm can loop forever inside
//! `event::poll` when reading the tty fails with EIO (crossterm#793, seen with 0.28; the guard
//! stays whatever the version, the tty-loss test proves it), so certdeck waits on the
//! tty itself with poll(2), asks crossterm for events only when the tty is alive, and runs a
//! watchdog that ends the process if the loop ever stops answering after a hang-up or signal.
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The fd crossterm reads: stdin when it is a terminal, else /dev/tty.
pub struct Tty {
    fd: RawFd,
    owned: bool,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Readiness {
    Readable,
    Timeout,
    HungUp,
}

impl Tty {
    pub fn open() -> std::io::Result<Tty> {
        // SAFETY: isatty only inspects the descriptor.
        if unsafe { libc::isatty(libc::STDIN_FILENO) } == 1 {
            return Ok(Tty {
                fd: libc::STDIN_FILENO,
                owned: false,
            });
        }
        let path = c"/dev/tty";
        // SAFETY: a valid NUL-terminated path; the fd is closed in Drop.
        let fd = unsafe { libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC) };
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(Tty { fd, owned: true })
    }

    pub fn fd(&self) -> RawFd {
        self.fd
    }

    /// Waits up to `timeout` for input; reports a hung-up or invalid tty at once.
    pub fn wait(&self, timeout: Duration) -> Readiness {
        wait_fd(self.fd, timeout)
    }
}

impl Drop for Tty {
    fn drop(&mut self) {
        if self.owned {
            // SAFETY: we opened this fd and nobody else closes it.
            unsafe { libc::close(self.fd) };
        }
    }
}

pub fn wait_fd(fd: RawFd, timeout: Duration) -> Readiness {
    let mut pfd = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd for the duration of the call.
    let n = unsafe {
        libc::poll(
            &mut pfd,
            1,
            timeout.as_millis().min(i32::MAX as u128) as i32,
        )
    };
    if n < 0 {
        let err = std::io::Error::last_os_error();
        return if err.kind() == std::io::ErrorKind::Interrupted {
            Readiness::Timeout
        } else {
            Readiness::HungUp
        };
    }
    if pfd.revents & (libc::POLLHUP | libc::POLLERR | libc::POLLNVAL) != 0 {
        Readiness::HungUp
    } else if pfd.revents & libc::POLLIN != 0 {
        Readiness::Readable
    } else {
        Readiness::Timeout
    }
}

/// Ends the process if, after a stop request or a hang-up, the UI loop has not finished in time.
pub fn spawn_watchdog(fd: RawFd, stop: Arc<AtomicBool>, done: Arc<AtomicBool>, grace: Duration) {
    std::thread::Builder::new()
        .name("tty-watchdog".into())
        .spawn(move || {
            let mut stop_seen: Option<Instant> = None;
            while !done.load(Ordering::Relaxed) {
                if wait_fd(fd, Duration::ZERO) == Readiness::HungUp {
                    stop.store(true, Ordering::Relaxed);
                }
                if stop.load(Ordering::Relaxed) {
                    let since = *stop_seen.get_or_insert_with(Instant::now);
                    if since.elapsed() >= grace {
                        // The loop is stuck (the tty is gone); nothing can be restored on it.
                        std::process::exit(129);
                    }
                }
                std::thread::sleep(Duration::from_millis(100));
            }
        })
        .expect("spawn the tty watchdog");
}
