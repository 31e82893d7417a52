//! TSIG keys (RFC 8945) as BIND writes them (`tsig-keygen`, `ddns-confgen`), for the RFC 2136
//! updates of ACME dns-01 records (AC-3). Pure: the file's text in, the key out. The secret is
//! never shown, in errors or in Debug.
use zeroize::Zeroizing;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TsigAlgorithm {
    HmacSha256,
    HmacSha384,
    HmacSha512,
}

impl TsigAlgorithm {
    fn parse(s: &str) -> Option<TsigAlgorithm> {
        match s.trim_end_matches('.').to_ascii_lowercase().as_str() {
            "hmac-sha256" => Some(TsigAlgorithm::HmacSha256),
            "hmac-sha384" => Some(TsigAlgorithm::HmacSha384),
            "hmac-sha512" => Some(TsigAlgorithm::HmacSha512),
            _ => None,
        }
    }
}

pub struct TsigKey {
    pub name: String,
    pub algorithm: TsigAlgorithm,
    pub secret: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for TsigKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TsigKey")
            .field("name", &self.name)
            .field("algorithm", &self.algorithm)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// The first `key "NAME" { algorithm ALG; secret "BASE64"; };` of a BIND key file. Errors name
/// the file's line and field, never the secret.
pub fn parse_key_file(text: &str) -> Result<TsigKey, String> {
    // Tokens with their line: words, quoted strings, and the punctuation `{ } ;`.
    let mut tokens: Vec<(usize, String)> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.split("//").next().unwrap_or("");
        let line = line.split('#').next().unwrap_or("");
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                c if c.is_whitespace() => {}
                '{' | '}' | ';' => tokens.push((n + 1, c.to_string())),
                '"' => {
                    let s: String = chars.by_ref().take_while(|c| *c != '"').collect();
                    tokens.push((n + 1, s));
                }
                c => {
                    let mut w = c.to_string();
                    while let Some(&d) = chars.peek() {
                        if d.is_whitespace() || matches!(d, '{' | '}' | ';' | '"') {
                            break;
                        }
                        w.push(d);
                        chars.next();
                    }
                    tokens.push((n + 1, w));
                }
            }
        }
    }
    let mut it = tokens.into_iter();
    let at = |t: Option<&(usize, String)>| t.map(|(l, _)| *l).unwrap_or(0);
    let Some((_, kw)) = it.next() else {
        return Err("no key in it (expected: key \"NAME\" { algorithm hmac-sha256; secret \"…\"; };, as tsig-keygen writes)".into());
    };
    if kw != "key" {
        return Err("line 1: expected `key \"NAME\" {`, as tsig-keygen writes".into());
    }
    let name = match it.next() {
        Some((_, n)) if !n.is_empty() && n != "{" => n,
        t => {
            return Err(format!(
                "line {}: the key's name is missing",
                at(t.as_ref())
            ))
        }
    };
    match it.next() {
        Some((_, b)) if b == "{" => {}
        t => {
            return Err(format!(
                "line {}: expected `{{` after the key's name",
                at(t.as_ref())
            ))
        }
    }
    let (mut algorithm, mut secret) = (None, None);
    loop {
        let Some((line, field)) = it.next() else {
            return Err("the key's `}` is missing".into());
        };
        match field.as_str() {
            "}" => break,
            "algorithm" => {
                let v = it.next();
                algorithm = Some(
                    v.as_ref()
                        .and_then(|(_, a)| TsigAlgorithm::parse(a))
                        .ok_or_else(|| {
                            format!(
                                "line {line}: algorithm: hmac-sha256, hmac-sha384 or hmac-sha512"
                            )
                        })?,
                );
            }
            "secret" => {
                use base64::Engine;
                let v = it.next().map(|(_, s)| s).unwrap_or_default();
                let bytes = base64::engine::general_purpose::STANDARD
                    .decode(v.trim())
                    .map_err(|_| format!("line {line}: secret: not base64"))?;
                if bytes.len() < 16 {
                    return Err(format!(
                        "line {line}: secret: {} bytes is too short for an HMAC key (16 at least)",
                        bytes.len()
                    ));
                }
                secret = Some(Zeroizing::new(bytes));
            }
            other => {
                return Err(format!(
                    "line {line}: unknown field `{}` (a key has `algorithm` and `secret`)",
                    other.chars().take(24).collect::<String>()
                ))
            }
        }
        match it.next() {
            Some((_, s)) if s == ";" => {}
            t => {
                return Err(format!(
                    "line {}: `;` expected after {field}",
                    at(t.as_ref())
                ))
            }
        }
    }
    Ok(TsigKey {
        name,
        algorithm: algorithm.ok_or("the key has no `algorithm`")?,
        secret: secret.ok_or("the key has no `secret`")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTMyYg==";

    #[test]
    fn rule_ac3_a_key_as_tsig_keygen_writes_it_is_read() {
        let text = format!(
            "key \"certdeck-acme\" {{\n\talgorithm hmac-sha256;\n\tsecret \"{SECRET}\";\n}};\n"
        );
        let k = parse_key_file(&text).unwrap();
        assert_eq!(k.name, "certdeck-acme");
        assert_eq!(k.algorithm, TsigAlgorithm::HmacSha256);
        assert_eq!(k.secret.len(), 31);
        assert!(!format!("{k:?}").contains(SECRET));
        // On one line, with comments, another algorithm.
        let k = parse_key_file(&format!(
            "# made by hand\nkey acme {{ algorithm HMAC-SHA512.; secret \"{SECRET}\"; }}; // end"
        ))
        .unwrap();
        assert_eq!(
            (k.name.as_str(), k.algorithm),
            ("acme", TsigAlgorithm::HmacSha512)
        );
    }

    #[test]
    fn rule_ac3_a_bad_key_file_names_line_and_field_and_never_the_secret() {
        let cases = [
            ("", "no key"),
            ("zone \"x\" {};", "line 1"),
            ("key \"k\" {\n algorithm hmac-md5;\n};", "line 2: algorithm"),
            (
                "key \"k\" {\n algorithm hmac-sha256;\n secret \"!!notbase64!!\";\n};",
                "line 3: secret: not base64",
            ),
            ("key \"k\" {\n secret \"c2hvcnQ=\";\n};", "too short"),
            (
                &*format!("key \"k\" {{\n secret \"{SECRET}\";\n}};"),
                "no `algorithm`",
            ),
            (
                &*format!("key \"k\" {{\n algorithm hmac-sha256\n secret \"{SECRET}\";\n}};"),
                "line 3: `;` expected",
            ),
            ("key \"k\" {\n algorithm hmac-sha256;", "`}` is missing"),
        ];
        for (text, want) in cases {
            let e = parse_key_file(text).unwrap_err();
            assert!(e.contains(want), "{text:?}: {e}");
            assert!(!e.contains(SECRET) && !e.contains("notbase64"), "{e}");
        }
    }
}
