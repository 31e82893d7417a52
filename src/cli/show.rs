use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use clap::Args;

#[derive(Args, Debug)]
pub struct ShowArgs {
    /// The certificate's id (certdeck list)
    pub id: String,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

pub fn run(cli: &Cli, a: &ShowArgs) -> Exit {
    let engine = match open_engine(cli, "cli show", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let now = engine.clock().now();
    let (cert, timeline) = match (
        engine.store().get(&a.id),
        engine.store().timeline_entries(&a.id),
    ) {
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
        if let Ok(Some(plan)) = engine.store().acme_renewal(&a.id) {
            obj["renewal"] = renewal_json(&plan, cert.auto_renew);
        }
        super::json::add_watched(&mut obj, engine.store(), &a.id);
        crate::outln!("{obj}");
    } else {
        let detail = crate::app::state::Detail {
            acme: engine.acme_detail(&a.id).ok().flatten(),
            watched: engine.store().watched(&a.id).ok().flatten(),
            intermediate: engine.store().expiring_intermediate(&a.id).ok().flatten(),
            cert,
            order,
            timeline,
            resources: Vec::new(),
            scroll: 0,
        };
        for line in crate::ui::detail::detail_text(&detail, now) {
            crate::outln!("{line}");
        }
    }
    0
}

/// AC-4: when and why the certificate renews next, for `show --json`.
fn renewal_json(plan: &crate::domain::acme_renewal::AcmeRenewal, on: bool) -> serde_json::Value {
    let at =
        |t: &crate::domain::time::Timestamp| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    serde_json::json!({
        "auto": on,
        "next_at": on.then(|| at(&plan.at)),
        "reason": plan.reason.as_str(),
        "failures": plan.failures,
        "last_error": plan.last_error,
        "ari_window": plan.ari_window.map(|w| serde_json::json!({"start": at(&w.start), "end": at(&w.end)})),
        "ari_next_fetch": plan.ari_fetch_at.as_ref().map(at),
        "challenge": plan.ordered.solver.describe(),
        "key_type": plan.ordered.key,
        "domains": plan.ordered.domains,
    })
}
