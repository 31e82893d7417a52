//! `db check` and `db backup`: the database file itself.
use super::{fail, warn_about_files, Cli, Exit, EXIT_UNAVAILABLE};
use crate::store::{paths, Store};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DbArgs {
    #[command(subcommand)]
    pub command: DbCommand,
}

#[derive(Subcommand, Debug)]
pub enum DbCommand {
    /// Verify every record (each carries a tag made with the key file) and the file's structure;
    /// exit 3 and list the damaged records if any
    Check {
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Write a consistent, verified copy of the database to PATH (0600; never over a file)
    Backup {
        /// Where the copy goes (a new file)
        path: PathBuf,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
}

pub fn run(cli: &Cli, a: &DbArgs) -> Exit {
    let json = match &a.command {
        DbCommand::Check { json } | DbCommand::Backup { json, .. } => *json,
    };
    let path = paths::resolve_db_path(cli.db.clone());
    let mut store = match Store::open(&path, &paths::key_file_path(), "cli db") {
        Ok(s) => s,
        Err(e) => return fail(json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    warn_about_files(&store);
    match &a.command {
        DbCommand::Check { .. } => {
            let report = match store.check() {
                Ok(r) => r,
                Err(e) => return fail(json, EXIT_UNAVAILABLE, &e.to_string()),
            };
            if json {
                crate::outln!(
                    "{}",
                    serde_json::json!({"ok": report.is_clean(), "structure": report.structure, "tables": report.tables, "records": report.records, "damaged": report.damaged})
                );
            } else {
                crate::outln!(
                    "{}: structure {}; {} record(s) in {} table(s) verified, {} damaged",
                    path.display(),
                    report.structure,
                    report.records,
                    report.tables,
                    report.damaged.len()
                );
                for d in &report.damaged {
                    crate::outln!("damaged: {d}");
                }
            }
            if report.is_clean() {
                0
            } else {
                if !json {
                    crate::errln!("certdeck: database damaged: restore from backup (certdeck db backup makes one; keep it with the key file)");
                }
                EXIT_UNAVAILABLE
            }
        }
        DbCommand::Backup { path: dest, .. } => match store.backup(dest) {
            Ok(bytes) => {
                if json {
                    crate::outln!(
                        "{}",
                        serde_json::json!({"backup": dest, "bytes": bytes, "verified": true})
                    );
                } else {
                    crate::outln!(
                        "backed up {} to {} ({bytes} bytes, verified); it opens only with the key file {}",
                        path.display(),
                        dest.display(),
                        store.key_path().display()
                    );
                }
                0
            }
            Err(e) => fail(json, EXIT_UNAVAILABLE, &e.to_string()),
        },
    }
}
