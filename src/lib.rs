//! certdeck: the whole life of TLS certificates, from a terminal.
pub mod app;
pub mod ca;
pub mod cli;
pub mod config;
pub mod demo;
pub mod deploy;
pub mod domain;
pub mod engine;
pub mod memory;
pub mod net;
pub mod notify;
pub mod service;
pub mod sidefile;
pub mod store;
pub mod ui;
pub mod validate;
pub mod web;
