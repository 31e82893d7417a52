//! Demo data for `--demo`: seeded certificates, alarms, hostings and the loopback DNS and web
//! servers it validates against. Only the CLI and the TUI use it.
pub mod alarms;
pub mod dns;
pub mod hosting;
pub mod http;
pub mod seed;
