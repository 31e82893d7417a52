use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::resource::{Part, Preset, Resource, ResourceInput};
use clap::{Args, Subcommand};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ResourceArgs {
    #[command(subcommand)]
    pub command: ResourceCommand,
}

#[derive(Subcommand, Debug)]
pub enum ResourceCommand {
    /// Add a place certificates are deployed to (files, a check and reload command, an endpoint)
    Add(Box<AddArgs>),
    /// Change a resource: the flags given replace what it had
    Edit(Box<EditArgs>),
    /// List resources with the certificate each holds
    List {
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Every deployment to a resource, with each step's output
    History {
        /// The resource's id or name
        id: String,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
    /// Forget a resource (its files are left as they are)
    Rm {
        /// The resource's id or name
        id: String,
        /// Print JSON instead of text (a refusal as {"error": …})
        #[arg(long)]
        json: bool,
    },
}

#[derive(Args, Debug)]
pub struct AddArgs {
    /// The resource's name (unique)
    pub name: String,
    #[command(flatten)]
    pub flags: ResourceFlags,
}

#[derive(Args, Debug)]
pub struct EditArgs {
    /// The resource's id or name
    pub id: String,
    /// A new name
    #[arg(long)]
    pub name: Option<String>,
    #[command(flatten)]
    pub flags: ResourceFlags,
}

/// What `add` sets and `edit` changes.
#[derive(Args, Debug)]
pub struct ResourceFlags {
    /// nginx (NAME.crt full chain + NAME.key), apache, haproxy (NAME.pem) or custom
    #[arg(long, value_parser = Preset::parse)]
    pub preset: Option<Preset>,
    /// The directory a preset's files go to
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// File for the leaf certificate alone
    #[arg(long)]
    pub cert: Option<PathBuf>,
    /// File for the intermediates
    #[arg(long)]
    pub chain: Option<PathBuf>,
    /// File for the leaf and intermediates
    #[arg(long)]
    pub fullchain: Option<PathBuf>,
    /// File for the private key
    #[arg(long)]
    pub key: Option<PathBuf>,
    /// Full chain and key in one file
    #[arg(long)]
    pub combined: Option<PathBuf>,
    /// Owner of the written files (user name)
    #[arg(long)]
    pub owner: Option<String>,
    /// Group of the written files
    #[arg(long)]
    pub group: Option<String>,
    /// Octal, e.g. 0644
    #[arg(long, value_parser = octal)]
    pub cert_mode: Option<u32>,
    /// Octal, e.g. 0600 or 0640 (never readable by others)
    #[arg(long, value_parser = octal)]
    pub key_mode: Option<u32>,
    /// Run before reloading (e.g. "nginx -t"); "none" for no check
    #[arg(long)]
    pub check: Option<String>,
    /// Run to load the new files (e.g. "nginx -s reload"); "none" for no reload
    #[arg(long)]
    pub reload: Option<String>,
    /// HOST:PORT to probe with TLS after a deployment
    #[arg(long)]
    pub endpoint: Option<String>,
    /// The SNI name to send to the endpoint (default: its host)
    #[arg(long)]
    pub sni: Option<String>,
    /// Seconds each command may run (default 30)
    #[arg(long)]
    pub timeout: Option<u32>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

impl ResourceFlags {
    /// Lays these flags over `input`: what is given replaces what was there.
    fn apply(&self, mut input: ResourceInput) -> ResourceInput {
        for (part, path) in [
            (Part::Cert, &self.cert),
            (Part::Chain, &self.chain),
            (Part::Fullchain, &self.fullchain),
            (Part::Key, &self.key),
            (Part::Combined, &self.combined),
        ] {
            if let Some(path) = path {
                input.targets.retain(|(p, _)| *p != part);
                input.targets.push((part, path.clone()));
            }
        }
        if self.dir.is_some() {
            // A preset's directory replaces every file it names.
            input.targets.clear();
            input.dir = self.dir.clone();
        }
        macro_rules! set {
            ($field:ident, $value:expr) => {
                if let Some(v) = $value {
                    input.$field = Some(v);
                }
            };
        }
        set!(preset, self.preset);
        set!(owner, self.owner.clone());
        set!(group, self.group.clone());
        set!(cert_mode, self.cert_mode);
        set!(key_mode, self.key_mode);
        set!(check_command, self.check.clone());
        set!(reload_command, self.reload.clone());
        set!(endpoint, self.endpoint.clone());
        set!(sni, self.sni.clone());
        set!(command_timeout, self.timeout);
        input
    }
}

fn octal(s: &str) -> Result<u32, String> {
    u32::from_str_radix(s.trim_start_matches("0o"), 8)
        .map_err(|_| format!("{s}: not an octal mode"))
}

pub fn resource_json(r: &Resource, holder: Option<&str>) -> serde_json::Value {
    serde_json::json!({
        "id": r.id,
        "name": r.name,
        "preset": r.preset.as_str(),
        "targets": r.targets.iter().map(|(p, path)| serde_json::json!({"part": p.as_str(), "path": path})).collect::<Vec<_>>(),
        "owner": r.owner,
        "group": r.group,
        "cert_mode": format!("{:04o}", r.cert_mode),
        "key_mode": format!("{:04o}", r.key_mode),
        "check": r.check_command,
        "reload": r.reload_command,
        "endpoint": r.endpoint.as_ref().map(|e| serde_json::json!({"address": e.address, "sni": e.sni})),
        "timeout": r.command_timeout,
        "certificate": holder,
    })
}

pub fn run(cli: &Cli, a: &ResourceArgs) -> Exit {
    let json = match &a.command {
        ResourceCommand::Add(x) => x.flags.json,
        ResourceCommand::Edit(x) => x.flags.json,
        ResourceCommand::List { json }
        | ResourceCommand::Rm { json, .. }
        | ResourceCommand::History { json, .. } => *json,
    };
    let engine = match open_engine(cli, "cli resource", json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    match &a.command {
        ResourceCommand::Add(x) => {
            let input = x.flags.apply(ResourceInput {
                name: x.name.clone(),
                ..Default::default()
            });
            engine.dispatch(&mut state, Action::AddResource(Box::new(input)));
            saved(json, &state)
        }
        ResourceCommand::Edit(x) => {
            let current = match engine.store().resource(&x.id) {
                Ok(Some(r)) => r,
                Ok(None) => {
                    let r = Refusal::new(
                        "RESOURCE",
                        Field::Id,
                        format!("no resource called {}", x.id),
                    );
                    return refused(json, &r);
                }
                Err(e) => return fail(json, EXIT_UNAVAILABLE, &e.to_string()),
            };
            let mut input = x.flags.apply(current.as_input());
            if let Some(n) = &x.name {
                input.name = n.clone();
            }
            engine.dispatch(
                &mut state,
                Action::UpdateResource {
                    id: current.id.clone(),
                    input: Box::new(input),
                },
            );
            saved(json, &state)
        }
        ResourceCommand::List { .. } => {
            engine.dispatch(&mut state, Action::ListResources);
            if json {
                let rows: Vec<_> = state
                    .resources
                    .iter()
                    .map(|r| resource_json(&r.resource, r.holder.as_deref()))
                    .collect();
                crate::outln!("{}", serde_json::json!(rows));
            } else if state.resources.is_empty() {
                crate::outln!("no resources (add one with `certdeck resource add NAME --preset nginx --dir DIR`)");
            } else {
                for r in &state.resources {
                    crate::outln!(
                        "{}  {:<20} {:<8} {}",
                        r.resource.id,
                        r.resource.name,
                        r.resource.preset.as_str(),
                        r.holder.as_deref().unwrap_or("(no certificate yet)")
                    );
                }
            }
            0
        }
        ResourceCommand::History { id, .. } => {
            engine.dispatch(&mut state, Action::ResourceHistory(id.clone()));
            match (&state.overlay, &state.outcome) {
                (crate::app::state::Overlay::HostingHistory(h), _) => {
                    if json {
                        let records: Vec<_> = h
                            .records
                            .iter()
                            .map(|(_, r)| {
                                let mut obj = serde_json::json!(r);
                                obj["outcome"] = r.outcome.json();
                                obj
                            })
                            .collect();
                        crate::outln!(
                            "{}",
                            serde_json::json!({"resource": id, "deployments": records})
                        );
                    } else {
                        crate::outln!("{}\n{}", h.heading, h.summary);
                        for (name, r) in &h.records {
                            crate::outln!(
                                "\n{} {}",
                                r.at.format("%Y-%m-%d %H:%M:%S"),
                                r.summary(name)
                            );
                            for s in &r.steps {
                                crate::outln!("  {} {}", if s.ok { "✓" } else { "✗" }, s.step);
                                for line in s.detail.lines() {
                                    crate::outln!("      {line}");
                                }
                            }
                        }
                    }
                    0
                }
                (_, Some(Outcome::Refused(r))) => refused(json, r),
                _ => fail(json, EXIT_UNAVAILABLE, "history ended without an outcome"),
            }
        }
        ResourceCommand::Rm { id, .. } => {
            engine.dispatch(&mut state, Action::RemoveResource(id.clone()));
            match &state.outcome {
                Some(Outcome::ResourceRemoved(id)) => {
                    if json {
                        crate::outln!("{}", serde_json::json!({"removed": id}));
                    } else {
                        crate::outln!("removed resource {id}; its files were left as they are");
                    }
                    0
                }
                Some(Outcome::Refused(r)) => refused(json, r),
                Some(Outcome::Failed(m)) => fail(json, EXIT_UNAVAILABLE, m),
                _ => refused(
                    json,
                    &Refusal::new("RESOURCE", Field::Id, format!("no resource called {id}")),
                ),
            }
        }
    }
}

/// What `resource add` and `resource edit` print: the saved resource and its files, or why not.
fn saved(json: bool, state: &crate::app::State) -> Exit {
    match &state.outcome {
        Some(Outcome::ResourceAdded(r)) => {
            if json {
                crate::outln!("{}", resource_json(r, None));
            } else {
                crate::outln!("saved resource {} ({})", r.name, r.id);
                for (p, path) in &r.targets {
                    crate::outln!("  {:<9} {}", p.as_str(), path.display());
                }
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(json, r),
        Some(Outcome::Failed(m)) => fail(json, EXIT_UNAVAILABLE, m),
        _ => fail(json, EXIT_UNAVAILABLE, "resource ended without an outcome"),
    }
}
