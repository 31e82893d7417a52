//! Pure domain logic: parsing, facts and the SPEC rules. No I/O, no clock reads.
pub mod account;
pub mod catalogue;
pub mod cert;
pub mod id;
pub mod key;
pub mod letter;
pub mod model;
pub mod order;
pub mod pem;
pub mod refusal;
pub mod reissue;
pub mod resource;
pub mod revocation;
pub mod rules;
pub mod schedule;
pub mod time;
pub mod validation;
