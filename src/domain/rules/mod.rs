//! One module per SPEC section. Each rule is a function; refusals quote the rule ID.
pub mod alarm;
pub mod apply;
pub mod cancel;
pub mod deadline;
pub mod delete;
pub mod export;
pub mod hosting;
pub mod ignore;
pub mod reissue;
pub mod reminder;
pub mod renewal;
pub mod revoke;
pub mod upload;

#[cfg(test)]
mod day_counts;
