use super::{fail, open_engine, refused, Cli, Exit, EXIT_UNAVAILABLE};
use crate::app::state::Outcome;
use crate::app::Action;
use crate::domain::order::{Challenge, OrderInfo, ValidationMethod};
use crate::domain::rules::apply::ApplyRequest;
use clap::Args;

#[derive(Args, Debug)]
pub struct ApplyArgs {
    #[command(flatten)]
    pub dns: crate::cli::ResolverArg,
    /// The main domain (`*.example.com` for wildcard products)
    #[arg(long)]
    pub domain: String,
    /// A further domain (repeatable, multi-domain products only)
    #[arg(long = "san", value_name = "DOMAIN")]
    pub sans: Vec<String>,
    /// Product code of the sandbox CA (see `certdeck products`)
    #[arg(long, required_unless_present = "ca")]
    pub product: Option<String>,
    /// Order from this ACME account's CA instead of the sandbox (see `certdeck acme account`)
    #[arg(long, value_name = "ACCOUNT", conflicts_with_all = ["product", "validation", "years"])]
    pub ca: Option<String>,
    /// ACME challenge: http-01 (--http-listen or --webroot) or dns-01 (--dns-update or --dns-hook)
    #[arg(long, default_value = "http-01", requires = "ca")]
    pub challenge: String,
    /// ACME dns-01: a command that adds and removes the TXT record; it gets CERTDECK_DNS_ACTION
    /// (add|remove), CERTDECK_DNS_NAME, CERTDECK_DNS_VALUE and CERTDECK_DNS_DOMAIN
    #[arg(long, value_name = "CMD", requires = "ca")]
    pub dns_hook: Option<String>,
    /// ACME dns-01: send RFC 2136 updates, signed with --tsig-key-file, to this primary server
    /// (HOST or HOST:PORT) of the domain's zone
    #[arg(long, value_name = "SERVER", requires_all = ["ca", "tsig_key_file"], conflicts_with = "dns_hook")]
    pub dns_update: Option<String>,
    /// ACME dns-01: the TSIG key for --dns-update, in BIND's format (as tsig-keygen writes it);
    /// read at every order, never stored
    #[arg(long, value_name = "FILE", requires = "dns_update")]
    pub tsig_key_file: Option<std::path::PathBuf>,
    /// ACME dns-01 by hand: certdeck prints the TXT records (and the Validation queue shows
    /// them); `certdeck validate ID` or `c` tells the CA once certdeck sees them
    #[arg(long, requires = "ca", conflicts_with_all = ["dns_hook", "dns_update"])]
    pub manual: bool,
    /// ACME dns-01: how long certdeck looks for the new TXT record before giving up (AC-3)
    #[arg(long, value_name = "SECONDS", default_value_t = 120,
          value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub dns_wait: u64,
    /// ACME http-01: answer the CA on this address while the order is open (e.g. 0.0.0.0:80)
    #[arg(long, value_name = "ADDR", requires = "ca", conflicts_with = "webroot")]
    pub http_listen: Option<std::net::SocketAddr>,
    /// ACME http-01: write the token under DIR/.well-known/acme-challenge/ (the site's web root)
    #[arg(long, value_name = "DIR", requires = "ca")]
    pub webroot: Option<std::path::PathBuf>,
    /// ACME: the new key (p256 by default, p384, rsa2048, rsa3072, rsa4096)
    #[arg(long, value_name = "TYPE", requires = "ca", value_parser = crate::domain::reissue::KeyChoice::parse)]
    pub key_type: Option<crate::domain::reissue::KeyChoice>,
    /// ACME: the directory's certificate profile
    #[arg(long, requires = "ca")]
    pub profile: Option<String>,
    /// ACME: run the whole order against the CA's staging directory (or the directory itself
    /// when it has none) and store nothing (AC-5)
    #[arg(long, requires = "ca")]
    pub dry_run: bool,
    /// How the domains are validated (default: dns_auto in a managed zone, else dns)
    #[arg(long, value_parser = ValidationMethod::parse)]
    pub validation: Option<ValidationMethod>,
    /// Validity in years
    #[arg(long, default_value_t = 1)]
    pub years: u32,
    /// Name shown in lists (default: the domain)
    #[arg(long)]
    pub name: Option<String>,
    /// Tag as KEY=VALUE (repeatable)
    #[arg(long = "tag", value_name = "K=V")]
    pub tags: Vec<String>,
    /// Project the certificate belongs to
    #[arg(long)]
    pub project: Option<String>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn order_json(o: &OrderInfo) -> serde_json::Value {
    let ts = |t: Option<crate::domain::time::Timestamp>| {
        t.map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
    };
    serde_json::json!({
        "product": o.product,
        "years": o.years,
        "validation": o.validation,
        "price": o.price.to_string(),
        "submitted_at": ts(Some(o.submitted_at)),
        "validated_at": ts(o.validated_at),
        "review_due": ts(o.review_due),
        "deadline": ts(o.deadline),
        "challenges": o.challenges.iter().map(|c| match c {
            Challenge::DnsTxt { domain, name, value } => serde_json::json!({"domain": domain, "type": "TXT", "name": name, "value": value}),
            Challenge::DnsCname { domain, name, target } => serde_json::json!({"domain": domain, "type": "CNAME", "name": name, "value": target}),
            Challenge::File { domain, url, content } => serde_json::json!({"domain": domain, "type": "file", "url": url, "content": content}),
        }).collect::<Vec<_>>(),
    })
}

pub fn run(cli: &Cli, a: &ApplyArgs) -> Exit {
    if let Some(account) = &a.ca {
        return acme(cli, a, account);
    }
    let engine = match open_engine(cli, "cli apply", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut state = super::new_state(&engine, "");
    match (engine.store().managed_zones(), engine.store().prices()) {
        (Ok(z), Ok(p)) => {
            state.managed_zones = z;
            state.prices = p;
        }
        (Err(e), _) | (_, Err(e)) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    }
    let req = ApplyRequest {
        domain: a.domain.clone(),
        sans: a.sans.clone(),
        product: a.product.clone().unwrap_or_default(),
        validation: a.validation,
        years: a.years,
        name: a.name.clone(),
        tags: a.tags.clone(),
        project: a.project.clone(),
    };
    engine.dispatch(&mut state, Action::Apply(Box::new(req)));
    match state.outcome {
        Some(Outcome::Ordered { summary, warnings }) => {
            let (cert, order) = match (
                engine.store().get(&summary.id),
                engine.store().order(&summary.id),
            ) {
                (Ok(Some(c)), Ok(Some(o))) => (c, o),
                _ => {
                    return fail(
                        a.json,
                        EXIT_UNAVAILABLE,
                        "ordered, but the order could not be read back",
                    )
                }
            };
            if a.json {
                let mut obj = super::json::certificate(&cert, state.now);
                obj["order"] = order_json(&order);
                obj["warnings"] = serde_json::to_value(&warnings).expect("warnings serialise");
                crate::outln!("{obj}");
            } else {
                crate::outln!(
                    "ordered {} \"{}\": {} ({} {} paid)",
                    cert.id,
                    cert.name,
                    cert.status.as_str(),
                    order.price,
                    crate::domain::account::CURRENCY
                );
                for c in &order.challenges {
                    match c {
                        Challenge::DnsTxt { name, value, .. } => {
                            crate::outln!("  DNS TXT {name} = {value}")
                        }
                        Challenge::DnsCname { name, target, .. } => {
                            crate::outln!("  DNS CNAME {name} -> {target}")
                        }
                        Challenge::File { url, content, .. } => {
                            crate::outln!("  file {url} containing {content}")
                        }
                    }
                }
                if let Some(t) = order.review_due {
                    crate::outln!("  review ends {}", t.format("%Y-%m-%d %H:%M UTC"));
                }
                if let Some(t) = order.deadline {
                    crate::outln!("  validate before {}", t.format("%Y-%m-%d %H:%M UTC"));
                }
                for w in &warnings {
                    crate::outln!("warning: {} [{}]", w.message, w.code);
                }
            }
            0
        }
        Some(Outcome::Refused(r)) => refused(a.json, &r),
        Some(Outcome::Failed(m)) => fail(a.json, EXIT_UNAVAILABLE, &m),
        _ => fail(a.json, EXIT_UNAVAILABLE, "apply ended without an outcome"),
    }
}

/// `apply --ca ACCOUNT`: an ACME order seen through now (AC-2, AC-3).
fn acme(cli: &Cli, a: &ApplyArgs, account: &str) -> Exit {
    use crate::ca::acme::order::Solver;
    use crate::engine::acme::{OrderRequest, Ordered};
    let dns_update = a.dns_update.clone().zip(a.tsig_key_file.clone());
    let solver = match (
        a.challenge.as_str(),
        &a.http_listen,
        &a.webroot,
        &a.dns_hook,
        dns_update,
    ) {
        ("http-01", Some(addr), None, None, None) => Solver::Listen(*addr),
        ("http-01", None, Some(dir), None, None) => Solver::Webroot(dir.clone()),
        ("dns-01", None, None, Some(hook), None) => Solver::DnsHook(hook.clone()),
        ("dns-01", None, None, None, None) if a.manual => Solver::Manual,
        ("dns-01", None, None, None, Some((server, key_file))) => {
            // A relative key file is kept as the absolute path: renewals run from anywhere.
            let key_file = std::path::absolute(&key_file).unwrap_or(key_file);
            Solver::DnsUpdate { server, key_file }
        }
        ("http-01", ..) => {
            return fail(
                a.json,
                super::EXIT_USAGE,
                "--challenge http-01 takes one of --http-listen ADDR or --webroot DIR",
            )
        }
        ("dns-01", ..) => {
            return fail(
                a.json,
                super::EXIT_USAGE,
                "--challenge dns-01 takes one of --dns-update SERVER --tsig-key-file FILE, --dns-hook CMD or --manual",
            )
        }
        (other, ..) => {
            return fail(
                a.json,
                super::EXIT_USAGE,
                &format!("--challenge {other}: http-01 or dns-01"),
            )
        }
    };
    let engine = match open_engine(cli, "cli apply", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let req = OrderRequest {
        account: account.to_string(),
        domain: a.domain.clone(),
        sans: a.sans.clone(),
        key: a
            .key_type
            .unwrap_or(crate::domain::reissue::KeyChoice::P256),
        solver,
        profile: a.profile.clone(),
        name: a.name.clone(),
        tags: a.tags.clone(),
        project: a.project.clone(),
        dry_run: a.dry_run,
        dns_wait: std::time::Duration::from_secs(a.dns_wait),
    };
    match engine.acme_order(&req) {
        Ok(Ordered::DryRun {
            directory,
            issuer,
            not_after,
            domains,
        }) => {
            let not_after = not_after.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
            if a.json {
                crate::outln!(
                    "{}",
                    serde_json::json!({"dry_run": true, "directory": directory, "issuer": issuer, "not_after": not_after, "domains": domains, "stored": false})
                );
            } else {
                crate::outln!("dry run against {directory}: validated and issued by {issuer} until {not_after} for {}; nothing was stored", domains.join(", "));
            }
            0
        }
        Ok(Ordered::Stored(cert)) => {
            let now = engine.clock().now();
            if a.json {
                let mut obj = super::json::certificate(&cert, now);
                obj["ca"] = serde_json::json!(account);
                crate::outln!("{obj}");
            } else {
                crate::outln!(
                    "issued {} \"{}\" by {} ({} days left)",
                    cert.id,
                    cert.name,
                    cert.brand,
                    cert.days_left(now).unwrap_or(0)
                );
            }
            0
        }
        Ok(Ordered::Pending {
            cert,
            records,
            deadline,
        }) => {
            let deadline = deadline.map(|d| d.to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
            if a.json {
                let now = engine.clock().now();
                let mut obj = super::json::certificate(&cert, now);
                obj["ca"] = serde_json::json!(account);
                obj["records"] = records
                    .iter()
                    .map(|r| serde_json::json!({"domain": r.domain, "type": "TXT", "name": r.name, "value": r.value}))
                    .collect();
                obj["deadline"] = serde_json::json!(deadline);
                crate::outln!("{obj}");
            } else {
                crate::outln!("{} is ordered; add these TXT records:", cert.id);
                for r in &records {
                    crate::outln!("  {}  TXT  \"{}\"", r.name, r.value);
                }
                if let Some(d) = deadline {
                    crate::outln!("by {d} (the CA's deadline),");
                }
                crate::outln!(
                    "then run `certdeck validate {}` (or press c in the Validation queue): certdeck tells the CA once it sees every record.",
                    cert.id
                );
            }
            0
        }
        Err(e) => super::acme::failed(a.json, e),
    }
}
