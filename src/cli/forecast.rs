use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use clap::Args;

#[derive(Args, Debug)]
pub struct ForecastArgs {
    /// How far ahead to look
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3650))]
    pub days: u32,
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
}

/// Every timed rule that will fire in the window, in time order, read from the schedule.
pub fn run(cli: &Cli, a: &ForecastArgs) -> Exit {
    let engine = match open_engine(cli, "cli forecast", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let now = engine.clock().now();
    let until = now + chrono::Duration::days(a.days as i64);
    // Overdue work (due before now, not run yet: no tick ran) comes first (#12).
    let entries =
        match engine
            .store()
            .upcoming(chrono::DateTime::<chrono::Utc>::MIN_UTC, until, 100_000)
        {
            Ok(e) => e,
            Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
        };
    let certs = match engine
        .store()
        .get_many(entries.iter().map(|e| e.cert_id.as_str()))
    {
        Ok(c) => c,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    // AC-4: an ACME entry says why it is due then.
    let what: Vec<String> = entries
        .iter()
        .map(|e| match e.kind {
            crate::domain::schedule::DueKind::AcmeRenew => {
                match engine.store().acme_renewal(&e.cert_id) {
                    Ok(Some(p)) if p.at.timestamp() <= e.due.timestamp() => {
                        format!("ACME renewal ({})", p.reason.as_str())
                    }
                    Ok(Some(_)) => "ACME renewal information fetched (RFC 9773)".into(),
                    _ => e.kind.describe().into(),
                }
            }
            _ => e.kind.describe().into(),
        })
        .collect();
    let rows: Vec<serde_json::Value> = entries
        .iter()
        .zip(&certs)
        .zip(&what)
        .map(|((e, c), what)| {
            serde_json::json!({
                "at": e.due.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
                "overdue": e.due < now,
                "kind": e.kind.as_str(),
                "what": what,
                "cert_id": e.cert_id,
                "name": c.as_ref().map(|c| c.name.clone()),
            })
        })
        .collect();
    if a.json {
        crate::outln!("{}", serde_json::Value::Array(rows));
    } else {
        let overdue = entries.iter().filter(|e| e.due < now).count();
        crate::outln!(
            "{} in the next {} days{}",
            crate::domain::words::count_of(rows.len() as u64, "timed rule"),
            a.days,
            if overdue > 0 {
                format!(
                    ", {} overdue (no tick ran: certdeck tick)",
                    crate::domain::words::count_of(overdue as u64, "rule")
                )
            } else {
                String::new()
            }
        );
        for ((e, c), what) in entries.iter().zip(&certs).zip(&what) {
            crate::outln!(
                "{}  {:<8}  {:<8}  {:<24}  {}",
                e.due.format("%Y-%m-%d %H:%M"),
                e.kind.as_str(),
                e.cert_id,
                what,
                c.as_ref().map(|c| c.name.as_str()).unwrap_or("")
            );
        }
    }
    0
}
