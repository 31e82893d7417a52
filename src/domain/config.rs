//! The configuration file (`config.toml`): what would otherwise need a flag or an environment
//! variable on every call. Pure: parsing, checking (a bad file names its line and key) and the
//! precedence flag > environment > file > default.
use serde::Deserialize;
use std::net::SocketAddr;
use std::path::PathBuf;

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    /// The database file.
    pub db: Option<PathBuf>,
    /// The DNS resolver for validation checks, HOST:PORT.
    pub resolver: Option<String>,
    /// The socket commands go through (SV-1).
    pub socket: Option<PathBuf>,
    #[serde(default)]
    pub tick: TickSection,
    #[serde(default)]
    pub serve: ServeSection,
    #[serde(default)]
    pub scan: ScanSection,
    #[serde(default)]
    pub smtp: SmtpSection,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TickSection {
    /// The timer's period in seconds (`certdeck tick --period`).
    pub period: Option<u64>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServeSection {
    /// Where `serve` answers /metrics and /healthz, HOST:PORT.
    pub metrics: Option<String>,
    /// Seconds between the service's ticks.
    pub period: Option<u64>,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScanSection {
    /// What `scan` (and the TUI's `S`) reads when no path is given (DS-1).
    pub roots: Option<Vec<PathBuf>>,
}

/// Defaults for the email channels of alarm recipients (AL-1).
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSection {
    pub server: Option<String>,
    pub security: Option<String>,
    pub from: Option<String>,
    pub user: Option<String>,
    pub password_file: Option<PathBuf>,
    pub ca: Option<PathBuf>,
}

/// What is wrong with a file, where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    pub line: Option<usize>,
    pub key: Option<String>,
    pub message: String,
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(l) = self.line {
            write!(f, "line {l}: ")?;
        }
        if let Some(k) = &self.key {
            write!(f, "{k}: ")?;
        }
        write!(f, "{}", self.message)
    }
}

/// The dotted key written on 1-based `line` (its table header and its own name).
fn key_at(text: &str, line: usize) -> Option<String> {
    let mut table = String::new();
    for (i, l) in text.lines().enumerate() {
        let t = l.trim();
        if let Some(h) = t.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
            table = h.trim().to_string();
        }
        if i + 1 == line {
            if t.starts_with('[') {
                return Some(table);
            }
            let name = t.split('=').next()?.trim().trim_matches('"');
            if name.is_empty() {
                return None;
            }
            return Some(if table.is_empty() {
                name.to_string()
            } else {
                format!("{table}.{name}")
            });
        }
    }
    None
}

/// The 1-based line where `key` (dotted) is set, for checks made after parsing.
fn line_of(text: &str, key: &str) -> Option<usize> {
    (1..=text.lines().count()).find(|&l| key_at(text, l).as_deref() == Some(key))
}

/// Reads and checks a file's text.
pub fn parse(text: &str) -> Result<FileConfig, ConfigError> {
    let config: FileConfig = toml::from_str(text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1);
        ConfigError {
            line,
            key: line.and_then(|l| key_at(text, l)),
            message: e.message().trim().to_string(),
        }
    })?;
    let bad = |key: &str, message: String| ConfigError {
        line: line_of(text, key),
        key: Some(key.to_string()),
        message,
    };
    if let Some(r) = &config.resolver {
        r.parse::<SocketAddr>().map_err(|_| {
            bad(
                "resolver",
                format!("\"{r}\" is not HOST:PORT (an IP address and a port)"),
            )
        })?;
    }
    if let Some(m) = &config.serve.metrics {
        m.parse::<SocketAddr>().map_err(|_| {
            bad(
                "serve.metrics",
                format!("\"{m}\" is not HOST:PORT (an IP address and a port)"),
            )
        })?;
    }
    if let Some(p) = config.tick.period.filter(|p| !(1..=86_400).contains(p)) {
        return Err(bad("tick.period", format!("{p} seconds: from 1 to 86400")));
    }
    if let Some(p) = config.serve.period.filter(|p| !(1..=3600).contains(p)) {
        return Err(bad("serve.period", format!("{p} seconds: from 1 to 3600")));
    }
    if let Some(s) = config.smtp.security.as_deref() {
        if !matches!(s, "none" | "starttls" | "tls") {
            return Err(bad(
                "smtp.security",
                format!("\"{s}\": none, starttls or tls"),
            ));
        }
    }
    if config.scan.roots.as_ref().is_some_and(Vec::is_empty) {
        return Err(bad(
            "scan.roots",
            "an empty list would scan nothing; leave it out for the defaults".into(),
        ));
    }
    Ok(config)
}

/// Where an effective setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    Flag(&'static str),
    Env(&'static str),
    File,
    Default,
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::Flag(f) => format!("flag {f}"),
            Source::Env(v) => format!("environment ${v}"),
            Source::File => "configuration file".into(),
            Source::Default => "default".into(),
        }
    }
}

/// flag > environment > file > default.
pub fn pick<T>(
    flag: (Option<T>, &'static str),
    env: (Option<T>, &'static str),
    file: Option<T>,
    default: T,
) -> (T, Source) {
    if let Some(v) = flag.0 {
        (v, Source::Flag(flag.1))
    } else if let Some(v) = env.0 {
        (v, Source::Env(env.1))
    } else if let Some(v) = file {
        (v, Source::File)
    } else {
        (default, Source::Default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_file_is_read() {
        let c = parse(
            "db = \"/srv/certdeck.redb\"\nresolver = \"127.0.0.1:53\"\n\n[tick]\nperiod = 300\n\n[serve]\nmetrics = \"127.0.0.1:9898\"\n\n[scan]\nroots = [\"/etc/nginx\", \"/srv/tls\"]\n\n[smtp]\nserver = \"mail.example:587\"\nsecurity = \"starttls\"\nfrom = \"certdeck@example\"\n",
        )
        .unwrap();
        assert_eq!(c.db, Some(PathBuf::from("/srv/certdeck.redb")));
        assert_eq!(c.tick.period, Some(300));
        assert_eq!(c.scan.roots.as_ref().map(Vec::len), Some(2));
        assert_eq!(c.smtp.from.as_deref(), Some("certdeck@example"));
        assert_eq!(parse("").unwrap(), FileConfig::default());
    }

    #[test]
    fn a_bad_file_names_its_line_and_key() {
        let e = parse("db = \"/x\"\n[tick]\nperiod = \"often\"\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(3), Some("tick.period")),
            "{e}"
        );
        let e = parse("[serve]\nmetrcs = \"127.0.0.1:1\"\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(2), Some("serve.metrcs")),
            "{e}"
        );
        assert!(e.message.contains("unknown field"), "{e}");
        let e = parse("resolver = \"dns.example\"\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(1), Some("resolver")),
            "{e}"
        );
        let e = parse("\n[tick]\nperiod = 0\n").unwrap_err();
        assert_eq!(
            (e.line, e.key.as_deref()),
            (Some(3), Some("tick.period")),
            "{e}"
        );
        let e = parse("[smtp]\nsecurity = \"ssl\"\n").unwrap_err();
        assert_eq!(e.key.as_deref(), Some("smtp.security"));
        let e = parse("db = \n").unwrap_err();
        assert_eq!(e.line, Some(1), "{e}");
    }

    #[test]
    fn flag_beats_environment_beats_file_beats_default() {
        let all = pick((Some(1), "--x"), (Some(2), "X"), Some(3), 4);
        assert_eq!(all, (1, Source::Flag("--x")));
        assert_eq!(
            pick((None, "--x"), (Some(2), "X"), Some(3), 4),
            (2, Source::Env("X"))
        );
        assert_eq!(
            pick((None, "--x"), (None, "X"), Some(3), 4),
            (3, Source::File)
        );
        assert_eq!(
            pick::<i32>((None, "--x"), (None, "X"), None, 4),
            (4, Source::Default)
        );
    }
}
