//! The socket's framed protocol (SV-1): each message is a 4-byte big-endian length and that
//! many bytes of postcard. A client sends `Hello`, then one `Run`; the service answers with the command's
//! output as it comes, asks for a line of input when the command asks the user, and ends with
//! the exit code.
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::PathBuf;

/// Changed whenever a message changes shape: a client and a service of other versions refuse
/// each other clearly instead of misreading frames.
pub const VERSION: u32 = 1;
/// A request or an answer line larger than this is refused.
pub const MAX_REQUEST: usize = 1 << 20;
/// An output frame larger than this is refused by a client (the service sends ≤ 64 KiB).
pub const MAX_REPLY: usize = 16 << 20;

pub use crate::domain::service::Identity;

/// The first frame of every connection, whose shape never changes: a service of another
/// version says so clearly instead of failing to read what follows.
#[derive(Debug, Serialize, Deserialize)]
pub struct Hello {
    pub program: String,
    pub version: u32,
}

impl Hello {
    pub fn ours() -> Hello {
        Hello {
            program: "certdeck".into(),
            version: VERSION,
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub struct RunRequest {
    pub identity: Identity,
    /// The whole command line, as typed (parsed again by the service).
    pub argv: Vec<String>,
    pub cwd: PathBuf,
    pub stdin_is_terminal: bool,
    pub stderr_is_terminal: bool,
}

/// A TUI that runs on this service's engine (SV-1): it sends effects and gets their actions,
/// and hears when others change the database.
#[derive(Debug, Serialize, Deserialize)]
pub struct AttachRequest {
    pub identity: Identity,
    pub cwd: PathBuf,
}

#[derive(Debug, Serialize, Deserialize)]
pub enum ToService {
    Run(RunRequest),
    Attach(AttachRequest),
    /// An attached TUI's effect, to run on the engine.
    Effect(Box<crate::app::Effect>),
    /// The answer to `ReadLine`; `None` at the end of the client's input.
    Line(Option<String>),
}

#[derive(Debug, Serialize, Deserialize)]
pub enum FromService {
    /// This service runs another database (or time, or resolver): the client runs by itself.
    NotMine(String),
    /// Not served: another user, another protocol version, too many clients.
    Refused(String),
    Out(Vec<u8>),
    Err(Vec<u8>),
    /// The command waits for a line the user types (a confirmation).
    ReadLine,
    Exit(i32),
    /// The TUI is attached; `label` names the database for its status bar.
    Attached {
        label: String,
    },
    /// The outcome of the attached TUI's last effect.
    Action(Box<crate::app::Action>),
    /// Someone else changed the database: reload.
    Changed,
    /// How far the scan under way is (`None`: none).
    ScanProgress(Option<crate::domain::discovery::ScanProgress>),
}

pub fn write_frame<T: Serialize>(w: &mut impl Write, message: &T) -> std::io::Result<()> {
    // Frames can carry a private key (an upload's effect): their buffers are wiped after.
    let body = zeroize::Zeroizing::new(
        postcard::to_stdvec(message)
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?,
    );
    let len = u32::try_from(body.len())
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "frame too large"))?;
    let mut frame = zeroize::Zeroizing::new(Vec::with_capacity(4 + body.len()));
    frame.extend_from_slice(&len.to_be_bytes());
    frame.extend_from_slice(&body);
    w.write_all(&frame)?;
    w.flush()
}

/// The next message; `Ok(None)` when the peer closed the connection between frames.
pub fn read_frame<T: for<'de> Deserialize<'de>>(
    r: &mut impl Read,
    max: usize,
) -> std::io::Result<Option<T>> {
    let mut len = [0u8; 4];
    match r.read_exact(&mut len) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = u32::from_be_bytes(len) as usize;
    if len > max {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("a frame of {len} bytes (at most {max})"),
        ));
    }
    let mut body = zeroize::Zeroizing::new(vec![0u8; len]);
    r.read_exact(&mut body)?;
    postcard::from_bytes(&body)
        .map(Some)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_reads_back_and_an_oversized_one_is_refused_before_it_is_read() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &FromService::Out(b"hello".to_vec())).unwrap();
        write_frame(&mut buf, &FromService::Exit(3)).unwrap();
        let mut r = &buf[..];
        assert!(matches!(
            read_frame::<FromService>(&mut r, 100).unwrap(),
            Some(FromService::Out(b)) if b == b"hello"
        ));
        assert!(matches!(
            read_frame::<FromService>(&mut r, 100).unwrap(),
            Some(FromService::Exit(3))
        ));
        assert!(read_frame::<FromService>(&mut r, 100).unwrap().is_none());
        let huge = (u32::MAX).to_be_bytes();
        let err = read_frame::<FromService>(&mut &huge[..], 100).unwrap_err();
        assert!(err.to_string().contains("at most 100"), "{err}");
    }

    #[test]
    fn a_cut_frame_is_an_error_not_a_message() {
        let mut buf = Vec::new();
        write_frame(&mut buf, &FromService::Out(vec![7; 50])).unwrap();
        buf.truncate(20);
        assert!(read_frame::<FromService>(&mut &buf[..], 100).is_err());
    }
}
