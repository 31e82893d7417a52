use super::{fail, open_engine, Cli, Exit, EXIT_UNAVAILABLE};
use crate::domain::model::Status;
use clap::Args;

#[derive(Args, Debug)]
pub struct ListArgs {
    /// Print JSON instead of text (a refusal as {"error": …})
    #[arg(long)]
    pub json: bool,
    /// Only certificates with at most DAYS days left (expired ones included)
    #[arg(long, value_name = "DAYS")]
    pub expiring: Option<i64>,
    /// Only certificates in this status
    #[arg(long, value_name = "S", value_parser = parse_status)]
    pub status: Option<Status>,
    /// Only certificates of this source: uploaded, issued or discovered
    #[arg(long, value_name = "SOURCE", value_parser = ["uploaded", "issued", "discovered"])]
    pub source: Option<String>,
}

fn parse_status(s: &str) -> Result<Status, String> {
    Status::parse(s).ok_or_else(|| {
        format!(
            "unknown status \"{s}\"; one of: {}",
            Status::ALL
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

pub fn run(cli: &Cli, a: &ListArgs) -> Exit {
    let engine = match open_engine(cli, "cli list", a.json) {
        Ok(e) => e,
        Err(code) => return code,
    };
    let now = engine.clock().now();
    let mut rows = match engine.store().summaries() {
        Ok(r) => r,
        Err(e) => return fail(a.json, EXIT_UNAVAILABLE, &e.to_string()),
    };
    rows.retain(|s| {
        a.status.is_none_or(|st| s.status_at(now) == st)
            && a.source
                .as_deref()
                .is_none_or(|src| format!("{:?}", s.source).eq_ignore_ascii_case(src))
            && a.expiring
                .is_none_or(|d| s.days_left(now).is_some_and(|left| left <= d))
    });
    rows.sort_by(|x, y| match (x.not_after, y.not_after) {
        (Some(p), Some(q)) => p.cmp(&q),
        (a, b) => b.is_none().cmp(&a.is_none()).reverse(),
    });
    if a.json {
        let mut out = Vec::with_capacity(rows.len());
        for s in &rows {
            match engine.store().get(&s.id) {
                Ok(Some(c)) => {
                    let mut obj = super::json::certificate(&c, now);
                    super::json::add_watched(&mut obj, engine.store(), &c.id);
                    out.push(obj);
                }
                Ok(None) => {}
                Err(e) => return fail(true, EXIT_UNAVAILABLE, &e.to_string()),
            }
        }
        crate::outln!("{}", serde_json::Value::Array(out));
    } else {
        crate::outln!(
            "{:<8}  {:<28}  {:<15}  {:>5}  {:<32}  ISSUER",
            "ID",
            "NAME",
            "STATUS",
            "DAYS",
            "DOMAINS"
        );
        for s in &rows {
            let days = s
                .days_left(now)
                .map(|d| d.to_string())
                .unwrap_or_else(|| "-".into());
            crate::outln!(
                "{:<8}  {:<28}  {:<15}  {:>5}  {:<32}  {}",
                s.id,
                crate::ui::text::clip(&s.name, 28),
                s.status_at(now).as_str(),
                days,
                crate::ui::text::clip(&s.domains.join(","), 32),
                s.issuer
            );
        }
    }
    0
}
