//! Reading what people paste or hand over: PEM (CRLF, text around blocks, headers) or DER.
//! Every error names the 1-based line where it can. Unknown labels are reported, never skipped
//! silently (some parsers drop `ENCRYPTED PRIVATE KEY` blocks without a word).

/// The largest input accepted in any PEM field (U-7): 1 MiB exactly is still accepted.
pub const MAX_INPUT_BYTES: usize = 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemBlock {
    pub label: String,
    pub der: Vec<u8>,
    /// Line of the BEGIN marker.
    pub line: usize,
    /// RFC 1421 headers (e.g. `Proc-Type: 4,ENCRYPTED` of legacy OpenSSL encrypted keys).
    pub headers: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PemError {
    pub line: Option<usize>,
    pub message: String,
}

impl PemError {
    fn at(line: usize, message: impl Into<String>) -> Self {
        PemError {
            line: Some(line),
            message: message.into(),
        }
    }
}

/// What a field held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawInput {
    Pem(Vec<PemBlock>),
    /// Binary input; the caller decides whether it is a DER certificate.
    Der(Vec<u8>),
}

/// Classifies and decodes raw field input. Binary data is returned as DER for the caller to check.
/// `expected` is the label the field takes (`CERTIFICATE`, `PRIVATE KEY`), named when no block is
/// found.
pub fn read_input(bytes: &[u8], expected: &str) -> Result<RawInput, PemError> {
    if bytes.len() > MAX_INPUT_BYTES {
        return Err(PemError {
            line: None,
            message: format!(
                "input is {} bytes; the limit is 1 MiB ({} bytes)",
                bytes.len(),
                MAX_INPUT_BYTES
            ),
        });
    }
    // Windows editors start UTF-8 files with a byte order mark; it is not part of the PEM.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    if bytes.iter().all(|b| b.is_ascii_whitespace()) {
        return Err(PemError {
            line: None,
            message: "empty".into(),
        });
    }
    let text = match std::str::from_utf8(bytes) {
        Ok(t) if !t.contains('\0') => t,
        _ => return Ok(RawInput::Der(bytes.to_vec())),
    };
    scan_expecting(text, expected).map(RawInput::Pem)
}

/// A block whose END line has not been seen yet: label, BEGIN line, headers, body so far.
type OpenBlock = (String, usize, Vec<(String, String)>, Base64Decoder);

/// The longest label accepted on a BEGIN/END line. Real labels are short
/// (`ENCRYPTED PRIVATE KEY` is 21); a longer "label" is a line that swallowed a block body.
const MAX_LABEL: usize = 40;

/// Lines ended by LF, CRLF or a lone CR (old Mac exports), numbered from 1.
fn lines(text: &str) -> impl Iterator<Item = (usize, &str)> {
    let mut rest = Some(text);
    std::iter::from_fn(move || {
        let t = rest?;
        match memchr::memchr2(b'\n', b'\r', t.as_bytes()) {
            Some(i) => {
                let skip = if t[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = Some(&t[i + skip..]);
                Some(&t[..i])
            }
            None => {
                rest = None;
                Some(t)
            }
        }
    })
    .enumerate()
    .map(|(i, l)| (i + 1, l))
}

/// Finds every PEM block in `text`, whatever surrounds it.
pub fn scan(text: &str) -> Result<Vec<PemBlock>, PemError> {
    scan_expecting(text, "CERTIFICATE")
}

/// `scan`, naming `expected` when the text holds no block at all.
pub fn scan_expecting(text: &str, expected: &str) -> Result<Vec<PemBlock>, PemError> {
    let text = text.strip_prefix('\u{FEFF}').unwrap_or(text);
    let mut blocks = Vec::new();
    let mut open: Option<OpenBlock> = None;
    let mut last_line = 0;
    for (line_no, raw) in lines(text) {
        last_line = line_no;
        let line = raw.trim_ascii();
        let begin = marker(line, "-----BEGIN ", line_no)?;
        let end = marker(line, "-----END ", line_no)?;
        if let Some((label, begin_line, headers, decoder)) = open.as_mut() {
            if let Some(end_label) = end {
                if end_label != label.as_str() {
                    return Err(PemError::at(
                        line_no,
                        format!(
                            "END {end_label} does not close BEGIN {label} of line {begin_line}"
                        ),
                    ));
                }
                let (label, begin_line, headers, decoder) = open.take().expect("block is open");
                let der = decoder.finish().map_err(|_| {
                    PemError::at(
                        line_no,
                        format!(
                            "BEGIN {label} of line {begin_line}: base64 ends mid-way (truncated?)"
                        ),
                    )
                })?;
                if der.is_empty() {
                    return Err(PemError::at(
                        begin_line,
                        format!("BEGIN {label} block is empty"),
                    ));
                }
                blocks.push(PemBlock {
                    label,
                    der,
                    line: begin_line,
                    headers,
                });
                continue;
            }
            if begin.is_some() {
                return Err(PemError::at(
                    line_no,
                    format!("BEGIN {label} of line {begin_line} has no END line before the next BEGIN (truncated?)"),
                ));
            }
            if line.is_empty() {
                continue;
            }
            if decoder.is_empty() {
                if let Some((k, v)) = line.split_once(':') {
                    headers.push((k.trim().to_string(), v.trim().to_string()));
                    continue;
                }
            }
            if let Err(col) = decoder.feed(line) {
                return Err(PemError::at(
                    line_no,
                    format!("invalid base64 character at column {col} inside BEGIN {label}"),
                ));
            }
        } else if let Some(label) = begin {
            open = Some((
                label.to_string(),
                line_no,
                Vec::new(),
                Base64Decoder::default(),
            ));
        } else if let Some(label) = end {
            return Err(PemError::at(
                line_no,
                format!("END {label} without a BEGIN line"),
            ));
        }
    }
    if let Some((label, begin_line, _, _)) = open {
        return Err(PemError::at(
            last_line,
            format!("BEGIN {label} of line {begin_line} has no END line (truncated?)"),
        ));
    }
    if blocks.is_empty() {
        return Err(PemError {
            line: None,
            message: format!("no PEM block found (expected a line -----BEGIN {expected}-----)"),
        });
    }
    Ok(blocks)
}

/// The label of a `-----BEGIN LABEL-----` / `-----END LABEL-----` line, `None` for other lines.
/// A line that starts like a marker but is not one is an error that never quotes the line: it may
/// hold a whole key body (a file with literal `\n` sequences is one long line).
fn marker<'a>(line: &'a str, prefix: &str, line_no: usize) -> Result<Option<&'a str>, PemError> {
    let Some(rest) = line.strip_prefix(prefix) else {
        return Ok(None);
    };
    let word = prefix.trim_matches(['-', ' ']);
    if line.contains("\\n") || line.contains("\\r") {
        return Err(PemError::at(
            line_no,
            format!(
                "the {word} line holds literal \\n sequences (a backslash and an n) instead of line breaks: \
                 this is PEM escaped as in JSON or an environment variable; turn them back into line \
                 breaks (e.g. `printf '%b' \"$VAR\"` or `jq -r`) and give it again"
            ),
        ));
    }
    match rest.strip_suffix("-----").filter(|l| is_label(l)) {
        Some(label) => Ok(Some(label)),
        None => Err(PemError::at(
            line_no,
            format!(
                "malformed {word} line ({} characters): expected -----{word} LABEL----- with a label of words of capital letters and digits (at most {MAX_LABEL_WORD} each) and single spaces, at most {MAX_LABEL} characters",
                line.len()
            ),
        )),
    }
}

/// The longest word of a label (`CERTIFICATE` is 11): a label quoted in a message can then never
/// hold a long unbroken run that could be a piece of base64.
const MAX_LABEL_WORD: usize = 16;

/// RFC 7468 labels as they occur in practice: words of capitals, digits and `#`, each at most
/// 16 characters, with single inner spaces or hyphens, bounded in length.
fn is_label(label: &str) -> bool {
    label.len() <= MAX_LABEL
        && label.split([' ', '-']).all(|w| w.len() <= MAX_LABEL_WORD)
        && !label.starts_with([' ', '-'])
        && !label.ends_with([' ', '-'])
        && !label.contains("  ")
        && !label.contains("--")
        && label
            .bytes()
            .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || b" -#".contains(&b))
}

/// Standard base64 with padding, on one line.
/// The PEM blocks of `text` as written (BEGIN line to END line, headers included), with their
/// labels, in order; text around them is left out. For routing a paste, not for parsing.
pub fn raw_blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut current: Option<(String, Vec<&str>)> = None;
    for line in text.lines() {
        let t = line.trim();
        if let Some(label) = t
            .strip_prefix("-----BEGIN ")
            .and_then(|l| l.strip_suffix("-----"))
        {
            current = Some((label.to_string(), vec![t]));
            continue;
        }
        if let Some((label, lines)) = current.as_mut() {
            lines.push(t);
            if t.strip_prefix("-----END ")
                .and_then(|l| l.strip_suffix("-----"))
                .is_some_and(|l| l == label)
            {
                let (label, lines) = current.take().expect("in a block");
                out.push((label, lines.join("\n") + "\n"));
            }
        }
    }
    out
}

pub fn base64(bytes: &[u8]) -> String {
    String::from_utf8(base64_bytes(bytes)).expect("base64 is ASCII")
}

/// Encodes DER as PEM with 64-column lines and LF endings.
pub fn encode(label: &str, der: &[u8]) -> String {
    let b64 = base64_bytes(der);
    pem_lines(label, &b64)
}

fn base64_bytes(der: &[u8]) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut b64 = Vec::with_capacity(der.len().div_ceil(3) * 4);
    for chunk in der.chunks(3) {
        let n = (chunk[0] as u32) << 16
            | (*chunk.get(1).unwrap_or(&0) as u32) << 8
            | *chunk.get(2).unwrap_or(&0) as u32;
        let quad = [
            ALPHABET[(n >> 18 & 63) as usize],
            ALPHABET[(n >> 12 & 63) as usize],
            if chunk.len() > 1 {
                ALPHABET[(n >> 6 & 63) as usize]
            } else {
                b'='
            },
            if chunk.len() > 2 {
                ALPHABET[(n & 63) as usize]
            } else {
                b'='
            },
        ];
        b64.extend_from_slice(&quad);
    }
    b64
}

fn pem_lines(label: &str, b64: &[u8]) -> String {
    let mut out = Vec::with_capacity(b64.len() + b64.len() / 64 + 2 * label.len() + 40);
    out.extend_from_slice(b"-----BEGIN ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    for line in b64.chunks(64) {
        out.extend_from_slice(line);
        out.push(b'\n');
    }
    out.extend_from_slice(b"-----END ");
    out.extend_from_slice(label.as_bytes());
    out.extend_from_slice(b"-----\n");
    String::from_utf8(out).expect("PEM is ASCII")
}

const PAD: u8 = 0xFE;
const SPACE: u8 = 0xFD;
const INVALID: u8 = 0xFF;

/// Base64 value of each byte; PAD for '=', SPACE for blanks, INVALID otherwise.
static DECODE: [u8; 256] = {
    let mut t = [INVALID; 256];
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut i = 0;
    while i < 64 {
        t[alphabet[i] as usize] = i as u8;
        i += 1;
    }
    t[b'=' as usize] = PAD;
    t[b' ' as usize] = SPACE;
    t[b'\t' as usize] = SPACE;
    t
};

/// Streaming base64 decoder that tolerates any line wrapping and reports the bad column.
#[derive(Default)]
struct Base64Decoder {
    out: Vec<u8>,
    acc: u32,
    bits: u32,
    padding: usize,
    seen: usize,
}

impl Base64Decoder {
    fn is_empty(&self) -> bool {
        self.seen == 0
    }

    fn feed(&mut self, line: &str) -> Result<(), usize> {
        for (col, &c) in line.as_bytes().iter().enumerate() {
            let v = DECODE[c as usize];
            if v < 64 {
                if self.padding > 0 {
                    return Err(col + 1);
                }
                self.seen += 1;
                self.acc = (self.acc << 6) | v as u32;
                self.bits += 6;
                if self.bits >= 8 {
                    self.bits -= 8;
                    self.out.push((self.acc >> self.bits) as u8);
                    self.acc &= (1 << self.bits) - 1;
                }
            } else if v == PAD {
                self.padding += 1;
                self.seen += 1;
            } else if v != SPACE {
                return Err(col + 1);
            }
        }
        Ok(())
    }

    fn finish(self) -> Result<Vec<u8>, ()> {
        if self.seen % 4 != 0 || self.padding > 2 {
            return Err(());
        }
        Ok(self.out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_tolerates_crlf_and_surrounding_text() {
        let der: Vec<u8> = (0..=200u8).collect();
        let pem = encode("CERTIFICATE", &der);
        let messy = format!(
            "Bag Attributes\r\n    localKeyID: 01\r\n{}trailing\r\n",
            pem.replace('\n', "\r\n")
        );
        let blocks = scan(&messy).unwrap();
        assert_eq!(blocks.len(), 1);
        assert_eq!(blocks[0].der, der);
        assert_eq!(blocks[0].line, 3);
        assert_eq!(blocks[0].label, "CERTIFICATE");
    }

    #[test]
    fn all_lengths_round_trip() {
        for n in 1..10 {
            let der: Vec<u8> = (0..n as u8).collect();
            assert_eq!(scan(&encode("X", &der)).unwrap()[0].der, der);
        }
    }

    #[test]
    fn truncated_block_names_its_begin_line() {
        let pem = encode("CERTIFICATE", &[1, 2, 3, 4, 5, 6]);
        let cut = &pem[..pem.len() - 30];
        let err = scan(&format!("\n{cut}")).unwrap_err();
        assert!(err.message.contains("line 2"), "{err:?}");
        assert!(err.message.contains("truncated"));
    }

    #[test]
    fn bad_base64_points_at_line_and_column() {
        let err = scan("-----BEGIN CERTIFICATE-----\nAAAA\nAA*A\n-----END CERTIFICATE-----\n")
            .unwrap_err();
        assert_eq!(err.line, Some(3));
        assert!(err.message.contains("column 3"));
    }

    #[test]
    fn a_label_with_a_long_word_is_malformed_and_never_quoted() {
        // Found by AFL: a mangled label of 24 capitals was quoted back.
        let text = "-----BEGIN CERTIFFFFFFFFFFFFFFFFFFFFFFFFFFICATE-----\nAAAA\n";
        let e = scan(text).unwrap_err();
        assert!(e.message.contains("malformed BEGIN line"), "{e:?}");
        assert!(!e.message.contains("FFFFFFFF"), "{e:?}");
        assert!(scan("-----BEGIN NEW CERTIFICATE REQUEST-----\nAAAA\n-----END NEW CERTIFICATE REQUEST-----\n").is_ok());
    }

    #[test]
    fn legacy_encrypted_headers_are_kept() {
        let text = "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,00\n\nAAAA\n-----END RSA PRIVATE KEY-----\n";
        let b = &scan(text).unwrap()[0];
        assert_eq!(b.headers[0], ("Proc-Type".into(), "4,ENCRYPTED".into()));
    }

    #[test]
    fn rule_u7_size_limit_is_one_mebibyte_exactly() {
        let mut exactly = encode("CERTIFICATE", &[7; 16]).into_bytes();
        exactly.resize(MAX_INPUT_BYTES, b' ');
        assert!(read_input(&exactly, "CERTIFICATE").is_ok());
        exactly.push(b' ');
        let err = read_input(&exactly, "CERTIFICATE").unwrap_err();
        assert!(err.message.contains("1 MiB"));
    }

    #[test]
    fn binary_is_handed_back_as_der_and_text_without_blocks_is_refused() {
        assert!(matches!(
            read_input(&[0x30, 0x82, 0x00, 0x00], "CERTIFICATE"),
            Ok(RawInput::Der(_))
        ));
        assert!(read_input(b"hello world", "CERTIFICATE")
            .unwrap_err()
            .message
            .contains("no PEM block"));
        assert!(read_input(b"   \n", "CERTIFICATE")
            .unwrap_err()
            .message
            .contains("empty"));
    }
}
