//! Confirmation letters for OV/EV orders (AR-7; the same kinds and limit as RV-6 (d)): JPG, PNG
//! or PDF, recognised by their magic bytes (never by name), at most 1.4 MB.
use crate::domain::refusal::{Field, Refusal};
use serde::{Deserialize, Serialize};

/// 1.4 MB, decimal, as the console states it: 1,400,000 bytes exactly is accepted.
pub const MAX_LETTER_BYTES: usize = 1_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FileKind {
    Jpg,
    Png,
    Gif,
    Pdf,
}

/// What the bytes are, by their magic numbers.
pub fn sniff(bytes: &[u8]) -> Option<FileKind> {
    match bytes {
        [0xFF, 0xD8, 0xFF, ..] => Some(FileKind::Jpg),
        [0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, ..] => Some(FileKind::Png),
        [b'G', b'I', b'F', b'8', b'7' | b'9', b'a', ..] => Some(FileKind::Gif),
        [b'%', b'P', b'D', b'F', b'-', ..] => Some(FileKind::Pdf),
        _ => None,
    }
}

/// AR-7: a confirmation letter is a JPG, PNG or PDF of at most 1.4 MB.
pub fn check_confirmation_letter(bytes: &[u8]) -> Result<FileKind, Refusal> {
    let refuse = |m: String| Err(Refusal::new("AR-7", Field::Id, m));
    if bytes.len() > MAX_LETTER_BYTES {
        return refuse(format!(
            "the letter is {} bytes; the limit is 1.4 MB ({MAX_LETTER_BYTES} bytes)",
            bytes.len()
        ));
    }
    match sniff(bytes) {
        Some(k @ (FileKind::Jpg | FileKind::Png | FileKind::Pdf)) => Ok(k),
        Some(FileKind::Gif) => {
            refuse("a confirmation letter must be JPG, PNG or PDF; this is a GIF".into())
        }
        None => refuse(
            "a confirmation letter must be JPG, PNG or PDF (checked by content, not name)".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pdf(len: usize) -> Vec<u8> {
        let mut v = b"%PDF-1.7\n".to_vec();
        v.resize(len, b' ');
        v
    }

    #[test]
    fn rule_ar7_kinds_by_magic_bytes() {
        assert_eq!(
            check_confirmation_letter(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]).unwrap(),
            FileKind::Jpg
        );
        assert_eq!(
            check_confirmation_letter(b"\x89PNG\r\n\x1a\n....").unwrap(),
            FileKind::Png
        );
        assert_eq!(check_confirmation_letter(&pdf(100)).unwrap(), FileKind::Pdf);
        assert!(check_confirmation_letter(b"GIF89a....")
            .unwrap_err()
            .message
            .contains("GIF"));
        assert!(check_confirmation_letter(b"PK\x03\x04 a zip named letter.pdf").is_err());
        assert!(check_confirmation_letter(b"").is_err());
    }

    #[test]
    fn rule_ar7_size_limit_is_1_4_mb_exactly() {
        assert!(check_confirmation_letter(&pdf(MAX_LETTER_BYTES)).is_ok());
        let e = check_confirmation_letter(&pdf(MAX_LETTER_BYTES + 1)).unwrap_err();
        assert_eq!(e.rule, "AR-7");
        assert!(e.message.contains("1.4 MB"));
    }
}
