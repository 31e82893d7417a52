//! Demo data: certificates generated at start (rcgen, and a small SM2 builder) for `--demo`,
//! and for the tests and benchmarks that need real certificates.
pub mod alarms;
pub mod dns;
pub mod hosting;
pub mod http;
pub mod pki;
pub mod seed;
mod sm2cert;
