//! `certdeck serve` (SV-1, SV-3, SV-4): the engine as a long-lived process, ticking every
//! period, with its metrics and health on HTTP.
pub mod client;
pub mod http;
pub mod peer;
pub mod protocol;
pub mod remote;
pub mod socket;

/// One log line on stderr, with the priority prefix journald reads (`<3>` error, `<4>`
/// warning, `<6>` info) when stderr goes to the journal, plain otherwise.
pub fn log(level: Level, text: &str) {
    use std::io::Write;
    let prefix = if std::env::var_os("JOURNAL_STREAM").is_some() {
        match level {
            Level::Error => "<3>",
            Level::Warning => "<4>",
            Level::Info => "<6>",
        }
    } else {
        ""
    };
    // A closed stderr loses the line, nothing else.
    let _ = writeln!(std::io::stderr().lock(), "{prefix}certdeck serve: {text}");
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    Error,
    Warning,
    Info,
}
