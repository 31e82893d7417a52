//! `certdeck acme account add|list|rm` (AC-1).
use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE, EXIT_USAGE};
use crate::domain::acme::{eab_hmac_key, AcmeAccount};
use crate::engine::acme::{AccountSpec, AcmeError};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct AcmeArgs {
    #[command(subcommand)]
    pub command: AcmeCommand,
}

#[derive(Subcommand, Debug)]
pub enum AcmeCommand {
    /// ACME accounts: add, list, rm
    Account {
        #[command(subcommand)]
        command: AccountCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum AccountCommand {
    /// Create an account at an ACME directory (its key is generated and sealed in the store)
    Add {
        /// The account's name in certdeck
        name: String,
        /// letsencrypt, letsencrypt-staging, zerossl, google, google-staging, or an https:// URL
        #[arg(long)]
        directory: String,
        /// PEM root(s) of a private CA (step-ca), trusted for this directory besides the public roots
        #[arg(long, value_name = "PEM")]
        root: Option<PathBuf>,
        /// mailto:address (repeatable)
        #[arg(long)]
        contact: Vec<String>,
        /// External Account Binding key id (ZeroSSL, Google, some private CAs)
        #[arg(long, value_name = "KID")]
        eab_kid: Option<String>,
        /// File holding the EAB HMAC key (base64url, as the CA shows it)
        #[arg(long, value_name = "FILE")]
        eab_hmac_file: Option<PathBuf>,
        /// Agree to the directory's terms of service (printed when missing)
        #[arg(long)]
        agree_tos: bool,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// List the accounts
    List {
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Forget an account (its key is deleted from the store; the CA keeps the account)
    Rm {
        /// The account's name in certdeck
        name: String,
        /// Remove it even though certificates it issued are stored (they can then no longer be
        /// revoked through certdeck)
        #[arg(long)]
        force: bool,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
}

fn account_json(a: &AcmeAccount) -> serde_json::Value {
    serde_json::json!({
        "name": a.name,
        "directory": a.directory_url,
        "directory_name": a.directory_name,
        "contacts": a.contacts,
        "account_url": a.account_url,
        "terms_agreed": a.terms_agreed,
        "eab_kid": a.eab_kid,
        "private_root": a.root_pem.is_some(),
        "created_at": a.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    })
}

pub fn run(cli: &Cli, a: &AcmeArgs) -> Exit {
    let AcmeCommand::Account { command } = &a.command;
    match command {
        AccountCommand::Add {
            name,
            directory,
            root,
            contact,
            eab_kid,
            eab_hmac_file,
            agree_tos,
            json,
        } => {
            let json = *json;
            let root_pem = match root {
                Some(p) => match crate::sidefile::read_capped(p, crate::sidefile::PEM_CAP) {
                    Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
                    Err(e) => {
                        return fail(json, EXIT_USAGE, &format!("--root {}: {e}", p.display()))
                    }
                },
                None => None,
            };
            let eab_key = match eab_hmac_file {
                Some(p) => match crate::sidefile::read_secret_text(p) {
                    Ok(text) => match eab_hmac_key(&text) {
                        Ok(k) => Some(zeroize::Zeroizing::new(k)),
                        Err(r) => return refused(json, &r),
                    },
                    Err(e) => {
                        return fail(
                            json,
                            EXIT_USAGE,
                            &format!("--eab-hmac-file {}: {e}", p.display()),
                        )
                    }
                },
                None => None,
            };
            let engine = match open_engine(cli, "cli acme", json) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let spec = AccountSpec {
                name: name.clone(),
                directory: directory.clone(),
                contacts: contact.clone(),
                root_pem,
                eab_kid: eab_kid.clone(),
                eab_key,
                agree_tos: *agree_tos,
            };
            match engine.add_acme_account(&spec) {
                Ok(account) => {
                    if json {
                        crate::outln!("{}", account_json(&account));
                    } else {
                        crate::outln!(
                            "account {} created at {} ({})",
                            account.name,
                            account.directory_name,
                            account.account_url
                        );
                    }
                    0
                }
                Err(e) => failed(json, e),
            }
        }
        AccountCommand::List { json } => {
            let engine = match open_engine(cli, "cli acme", *json) {
                Ok(e) => e,
                Err(code) => return code,
            };
            let accounts = match engine.store().acme_accounts() {
                Ok(a) => a,
                Err(e) => return fail(*json, EXIT_UNAVAILABLE, &e.to_string()),
            };
            if *json {
                let list: Vec<_> = accounts.iter().map(account_json).collect();
                crate::outln!("{}", serde_json::Value::Array(list));
            } else if accounts.is_empty() {
                crate::outln!("no ACME accounts (certdeck acme account add NAME --directory letsencrypt-staging --agree-tos)");
            } else {
                for a in &accounts {
                    crate::outln!(
                        "{:<16} {:<32} {}",
                        a.name,
                        a.directory_name,
                        a.contacts.join(", ")
                    );
                }
            }
            0
        }
        AccountCommand::Rm { name, force, json } => {
            let engine = match open_engine(cli, "cli acme", *json) {
                Ok(e) => e,
                Err(code) => return code,
            };
            match engine.remove_acme_account(name, *force) {
                Ok(()) => {
                    if *json {
                        crate::outln!("{}", serde_json::json!({"removed": name}));
                    } else {
                        crate::outln!(
                            "account {name} removed from certdeck (it still exists at the CA)"
                        );
                    }
                    0
                }
                Err(e) => failed(*json, e),
            }
        }
    }
}

/// Says why an ACME command did not happen: a refusal (exit 1) or a CA or store that could not
/// be used (exit 3).
pub fn failed(json: bool, e: AcmeError) -> Exit {
    match e {
        AcmeError::Refused(r) | AcmeError::RateLimited { refusal: r, .. } => refused(json, &r),
        AcmeError::Unreachable(m) => fail(json, EXIT_UNAVAILABLE, &m),
        AcmeError::Store(e) => fail(json, EXIT_UNAVAILABLE, &e.to_string()),
    }
}
