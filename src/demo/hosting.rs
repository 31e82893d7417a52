//! The demo's hosting: a resource in the demo's temp directory holding a certificate with 12
//! days left, and a hosting that replaces it by the shop's wildcard a day or two into the demo
//! clock (press `+` twice on the Hosting tab and watch it succeed).
use crate::app::state::Outcome;
use crate::app::{Action, State};
use crate::domain::resource::{Part, ResourceInput};
use crate::domain::rules::hosting::{Association, HostingRequest};
use crate::engine::Engine;
use std::path::Path;

pub fn seed(engine: &Engine, dir: &Path) -> Result<(), String> {
    let web = dir.join("demo-web");
    std::fs::create_dir_all(&web).map_err(|e| e.to_string())?;
    let mut state = State::default();
    engine.dispatch(
        &mut state,
        Action::AddResource(Box::new(ResourceInput {
            name: "demo-web".into(),
            targets: vec![
                (Part::Fullchain, web.join("site.crt")),
                (Part::Key, web.join("site.key")),
            ],
            check_command: Some("none".into()),
            reload_command: Some("none".into()),
            ..Default::default()
        })),
    );
    let summaries = engine.store().summaries().map_err(|e| e.to_string())?;
    let find = |name: &str| {
        summaries
            .iter()
            .find(|s| s.name == name)
            .map(|s| s.id.clone())
    };
    let (Some(old), Some(new)) = (find("pay.dnspod-shop.cn"), find("dnspod-shop.cn")) else {
        return Err("the demo certificates for the hosting are missing".into());
    };
    engine.dispatch(
        &mut state,
        Action::Deploy {
            cert: old.clone(),
            resource: "demo-web".into(),
            allow_expired: false,
        },
    );
    if !matches!(&state.outcome, Some(Outcome::Deployed(r)) if r.succeeded()) {
        return Err(format!("demo deployment: {:?}", state.outcome));
    }
    let left = summaries
        .iter()
        .find(|s| s.id == old)
        .and_then(|s| s.days_left(engine.clock().now()))
        .unwrap_or(2);
    engine.dispatch(
        &mut state,
        Action::AddHosting(Box::new(HostingRequest {
            old_cert: old,
            association: Association::Specified(new),
            resources: Vec::new(),
            days_before: (left - 1).max(1) as u32,
            confirm_partial: false,
            notify: true,
            group: None,
        })),
    );
    match &state.outcome {
        Some(Outcome::HostingSaved { .. }) => Ok(()),
        other => Err(format!("demo hosting: {other:?}")),
    }
}
