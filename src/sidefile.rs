//! Files a user names beside a command (passwords, secrets, CSRs, CA bundles, letters, the key
//! file): read whole but never more than a cap, and a directory is refused when it is given, not
//! found out later. Pipes (`--password-file <(pass show x)`) are read like files.
use std::io::{self, Read};
use std::path::Path;

/// Passwords, webhook secrets, SMTP passwords, the store's key file.
pub const SECRET_CAP: u64 = 4 * 1024;
/// PEM texts: CSRs, CA bundles.
pub const PEM_CAP: u64 = crate::domain::pem::MAX_INPUT_BYTES as u64;

/// Whether `path` can be what an option takes, without reading it (a pipe is not consumed): it
/// exists, is not a directory and, when it is a regular file, is at most `cap` bytes.
pub fn check(path: &Path, cap: u64) -> io::Result<()> {
    let meta = std::fs::metadata(path)?;
    if meta.is_dir() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "is a directory, not a file",
        ));
    }
    if meta.is_file() && meta.len() > cap {
        return Err(too_large(cap));
    }
    Ok(())
}

fn too_large(cap: u64) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("larger than {cap} bytes: not the file this option takes"),
    )
}

/// Reads at most `cap` bytes of `path`; larger, a directory, or unreadable is an error saying so.
pub fn read_capped(path: &Path, cap: u64) -> io::Result<Vec<u8>> {
    check(path, cap)?;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(cap + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(too_large(cap));
    }
    Ok(bytes)
}

/// The first line of a password or secret file, without its line ending.
pub fn read_secret_line(path: &Path) -> io::Result<zeroize::Zeroizing<Vec<u8>>> {
    let bytes = zeroize::Zeroizing::new(read_capped(path, SECRET_CAP)?);
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or(&[]);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Ok(zeroize::Zeroizing::new(line.to_vec()))
}

/// A whole small secret file (a TSIG key file) as text, at most `SECRET_CAP` bytes.
pub fn read_secret_file(path: &Path) -> io::Result<zeroize::Zeroizing<String>> {
    let bytes = zeroize::Zeroizing::new(read_capped(path, SECRET_CAP)?);
    String::from_utf8(bytes.to_vec())
        .map(zeroize::Zeroizing::new)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not UTF-8 text"))
}

/// `read_secret_line` as text.
pub fn read_secret_text(path: &Path) -> io::Result<zeroize::Zeroizing<String>> {
    let line = read_secret_line(path)?;
    String::from_utf8(line.to_vec())
        .map(zeroize::Zeroizing::new)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "is not UTF-8 text"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_directories_and_first_lines() {
        let dir = tempfile::tempdir().unwrap();
        let e = read_capped(dir.path(), 10).unwrap_err();
        assert!(e.to_string().contains("directory"), "{e}");
        let f = dir.path().join("pw");
        std::fs::write(&f, "hunter2\r\nsecond\n").unwrap();
        assert_eq!(read_secret_line(&f).unwrap().as_slice(), b"hunter2");
        std::fs::write(&f, vec![b'x'; SECRET_CAP as usize]).unwrap();
        assert!(read_secret_line(&f).is_ok(), "exactly the cap");
        std::fs::write(&f, vec![b'x'; SECRET_CAP as usize + 1]).unwrap();
        assert!(read_secret_line(&f)
            .unwrap_err()
            .to_string()
            .contains("larger than 4096 bytes"));
    }
}
