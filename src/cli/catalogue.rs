//! `certdeck products` and `certdeck zones`: what can be ordered, and which DNS zones certdeck
//! manages (their validation records are added automatically, AR-6).
use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE, EXIT_USAGE};
use crate::domain::catalogue::CATALOGUE;
use crate::domain::rules::apply::normalise_domain;
use clap::{Args, Subcommand};

#[derive(Args, Debug)]
pub struct ProductsArgs {
    /// Set a product's one-year price in the store's price table: CODE AMOUNT
    #[arg(long, num_args = 2, value_names = ["CODE", "AMOUNT"])]
    pub set_price: Option<Vec<String>>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn products(cli: &Cli, a: &ProductsArgs) -> Exit {
    let engine = match open_engine(cli, "cli products", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    if let Some([code, amount]) = a.set_price.as_deref() {
        let Some(p) = crate::domain::catalogue::product(code) else {
            return fail(a.json, EXIT_USAGE, &format!("unknown product \"{code}\""));
        };
        let price = match crate::domain::account::Money::parse(amount) {
            Ok(m) => m,
            Err(e) => return fail(a.json, EXIT_USAGE, &e),
        };
        if let Err(e) = engine.store().set_price(p.code, price) {
            return fail(a.json, EXIT_UNAVAILABLE, &e.to_string());
        }
    }
    let prices = match engine.store().prices() {
        Ok(p) => p,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    let price =
        |p: &crate::domain::catalogue::Product| crate::domain::catalogue::price_of(p, &prices);
    if a.json {
        let rows: Vec<_> = CATALOGUE
            .iter()
            .map(|p| {
                serde_json::json!({"code": p.code, "brand": p.brand, "cert_type": p.cert_type.as_str(), "domain_kind": p.domain_kind.as_str(),
                    "price": price(p).to_string(), "currency": crate::domain::account::CURRENCY, "review_business_days": p.review_days,
                    "auto_renewable": p.auto_renewable()})
            })
            .collect();
        crate::outln!("{}", serde_json::Value::Array(rows));
    } else {
        crate::outln!(
            "{:<24} {:<11} {:<7} {:<9} {:>10}  REVIEW  AUTO-RENEW",
            "PRODUCT",
            "BRAND",
            "TYPE",
            "DOMAINS",
            "PRICE"
        );
        for p in CATALOGUE {
            crate::outln!(
                "{:<24} {:<11} {:<7} {:<9} {:>10}  {}d      {}",
                p.code,
                p.brand,
                p.cert_type.as_str(),
                p.domain_kind.as_str(),
                price(p),
                p.review_days,
                if p.auto_renewable() { "yes" } else { "no" }
            );
        }
    }
    0
}

#[derive(Args, Debug)]
pub struct ZonesArgs {
    #[command(subcommand)]
    pub action: Option<ZoneAction>,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum ZoneAction {
    /// Manage this zone's DNS: validation records under it are added automatically
    Add {
        /// The DNS zone (e.g. example.com)
        zone: String,
    },
    /// Stop managing this zone
    Rm {
        /// The DNS zone (e.g. example.com)
        zone: String,
    },
}

pub fn zones(cli: &Cli, a: &ZonesArgs) -> Exit {
    let engine = match open_engine(cli, "cli zones", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let mut zones = match engine.store().managed_zones() {
        Ok(z) => z,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    match &a.action {
        Some(ZoneAction::Add { zone }) => match normalise_domain(zone, false) {
            Ok(z) if !zones.contains(&z) => zones.push(z),
            Ok(_) => {}
            Err(m) => return fail(a.json, EXIT_USAGE, &m),
        },
        Some(ZoneAction::Rm { zone }) => zones.retain(|z| z != &zone.to_ascii_lowercase()),
        None => {}
    }
    zones.sort();
    if a.action.is_some() {
        if let Err(e) = engine.store().set_managed_zones(&zones) {
            return fail(a.json, EXIT_UNAVAILABLE, &e.to_string());
        }
    }
    if a.json {
        crate::outln!("{}", serde_json::json!({"managed_zones": zones}));
    } else {
        for z in &zones {
            crate::outln!("{z}");
        }
    }
    0
}
