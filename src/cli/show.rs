use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use clap::Args;

#[derive(Args, Debug)]
pub struct ShowArgs {
    pub id: String,
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &ShowArgs) -> Exit {
    let engine = match open_engine(cli, "cli show", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let now = engine.clock().now();
    let (cert, timeline) = match (engine.store().get(&a.id), engine.store().timeline(&a.id)) {
        (Ok(Some(c)), Ok(t)) => (c, t),
        (Ok(None), _) => {
            return fail(
                a.json,
                super::EXIT_REFUSED,
                &format!("no certificate with id {}", a.id),
            )
        }
        (Err(e), _) | (_, Err(e)) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    let order = match engine.store().order(&a.id) {
        Ok(o) => o,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    if a.json {
        let mut obj = super::json::detail(&cert, &timeline, now);
        if let Some(o) = &order {
            obj["order"] = super::apply::order_json(o);
        }
        if let Ok(Some(r)) = engine.store().revocation(&a.id) {
            let mut rev = serde_json::json!(r);
            rev["steps"] = super::apply::order_json(&r.as_order_view());
            obj["revocation"] = rev;
        }
        if let Ok(Some(origin)) = engine.store().acme_origin(&a.id) {
            obj["ca"] = serde_json::json!(origin.account);
            obj["acme_order"] = serde_json::json!(origin.order_url);
        }
        println!("{obj}");
    } else {
        for line in crate::ui::detail::detail_text(&cert, order.as_ref(), &timeline, &[], now) {
            println!("{line}");
        }
        if let Ok(Some(origin)) = engine.store().acme_origin(&a.id) {
            println!(
                "ACME: account {}, order {}",
                origin.account, origin.order_url
            );
        }
    }
    0
}
