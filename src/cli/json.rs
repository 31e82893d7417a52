//! The certificate object of the CLI contract. Never holds a private key.
use crate::domain::model::Certificate;
use crate::domain::time::Timestamp;
use serde_json::{json, Value};

fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn certificate(c: &Certificate, now: Timestamp) -> Value {
    let x = c.x509.as_ref();
    json!({
        "id": c.id,
        "name": c.name,
        "source": c.source,
        "status": c.status_at(now).as_str(),
        "brand": c.brand,
        "cert_type": c.cert_type.map(|t| t.as_str()),
        "standard": c.standard.as_str(),
        "domain_kind": c.domain_kind.as_str(),
        "subject_cn": x.and_then(|x| x.subject_cn.clone()),
        "domains": c.domains,
        "issuer": x.map(|x| x.issuer_cn.clone().unwrap_or_else(|| x.issuer.clone())),
        "serial": x.map(|x| x.serial.clone()),
        "not_before": x.map(|x| rfc3339(x.not_before)),
        "not_after": x.map(|x| rfc3339(x.not_after)),
        "days_left": c.days_left(now),
        "fingerprint_sha256": x.map(|x| x.fingerprint_sha256.clone()),
        "key_algorithm": x.map(|x| x.key_algorithm.as_str()),
        "key_bits": x.map(|x| x.key_bits),
        "chain_len": c.chain.len(),
        "chain_complete": c.chain_complete,
        "auto_renew": c.auto_renew,
        "ignored": c.ignored,
        "tags": c.tags,
        "project": c.project,
    })
}

/// The detailed object of `show --json`: the certificate object plus chain, facts and timeline.
pub fn detail(
    c: &Certificate,
    timeline: &[crate::domain::model::TimelineEntry],
    now: Timestamp,
) -> Value {
    let mut v = certificate(c, now);
    let obj = v.as_object_mut().expect("certificate is an object");
    if let Some(x) = &c.x509 {
        obj.insert("subject".into(), json!(x.subject));
        obj.insert("issuer_dn".into(), json!(x.issuer));
        obj.insert("signature_algorithm".into(), json!(x.signature_algorithm));
        obj.insert("key_usage".into(), json!(x.key_usage));
        obj.insert("extended_key_usage".into(), json!(x.extended_key_usage));
    }
    obj.insert(
        "chain".into(),
        c.chain
            .iter()
            .map(|l| {
                json!({"subject": l.subject, "issuer": l.issuer, "not_before": rfc3339(l.not_before),
                       "not_after": rfc3339(l.not_after), "fingerprint_sha256": l.fingerprint_sha256, "is_ca": l.is_ca})
            })
            .collect(),
    );
    obj.insert("renewed_from".into(), json!(c.renewed_from));
    obj.insert("reissued_from".into(), json!(c.reissued_from));
    obj.insert(
        "timeline".into(),
        timeline
            .iter()
            .map(|t| {
                let e = &t.event;
                json!({"at": rfc3339(e.at), "ran_at": t.ran_at.map(rfc3339), "kind": e.kind, "message": e.message})
            })
            .collect(),
    );
    v
}

/// DS-3, DS-5: where a discovered certificate is, its sites, drift and an intermediate ending
/// soon, added to its JSON (`list`, `show`); never its key (DS-6). Nothing for other records.
pub fn add_watched(obj: &mut serde_json::Value, store: &crate::store::Store, id: &str) {
    let Ok(Some(w)) = store.watched(id) else {
        return;
    };
    obj["paths"] = serde_json::json!(w.paths);
    obj["key_path"] = serde_json::json!(w.key_path);
    obj["sites"] = serde_json::json!(w.sites);
    obj["drift"] = serde_json::json!(w.drift);
    obj["expiring_intermediate"] =
        serde_json::json!(store.expiring_intermediate(id).ok().flatten());
    obj["gone_at"] = serde_json::json!(w
        .gone_at
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
}
