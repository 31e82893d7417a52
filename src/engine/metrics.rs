//! SV-3: the Prometheus exposition of what certdeck knows. Per certificate the series
//! x509-certificate-exporter has (`x509_cert_not_after`, `x509_cert_not_before`,
//! `x509_cert_expired`, labelled `subject_CN`, `issuer_CN`, `serial_number`, `filepath`), so its
//! dashboards and alerts work unchanged, and certdeck's own `certdeck_…` series: status and
//! source, next renewal, ARI window, hostings, last deployments, drift, dead deliveries,
//! validation deadlines and the last tick. Encoded by prometheus-client (no hand formatting).
use super::Engine;
use crate::store::StoreError;
use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

type Labels = Vec<(&'static str, String)>;
type FloatGauge = Gauge<f64, AtomicU64>;

/// One gauge family, registered under `name`.
struct Series {
    family: Family<Labels, FloatGauge>,
}

impl Series {
    fn new(registry: &mut Registry, name: &str, help: &str) -> Series {
        let family = Family::<Labels, FloatGauge>::default();
        registry.register(name, help, family.clone());
        Series { family }
    }

    fn set(&self, labels: Labels, value: f64) {
        self.family.get_or_create(&labels).set(value);
    }
}

fn secs(t: crate::domain::time::Timestamp) -> f64 {
    t.timestamp() as f64
}

impl Engine {
    /// SV-3: every series, in the text format Prometheus and node_exporter's textfile collector
    /// read.
    pub fn metrics_text(&self) -> Result<String, StoreError> {
        let now = self.clock.now();
        let mut registry = Registry::default();
        let not_after = Series::new(
            &mut registry,
            "x509_cert_not_after",
            "The certificate's notAfter, in seconds since the epoch",
        );
        let not_before = Series::new(
            &mut registry,
            "x509_cert_not_before",
            "The certificate's notBefore, in seconds since the epoch",
        );
        let expired = Series::new(
            &mut registry,
            "x509_cert_expired",
            "1 when the certificate has expired",
        );
        let info = Series::new(
            &mut registry,
            "certdeck_certificate_info",
            "Each certificate certdeck keeps, with its status and source (always 1)",
        );
        let renewal = Series::new(
            &mut registry,
            "certdeck_renewal_next_timestamp_seconds",
            "When certdeck next tries to renew the certificate (AC-4)",
        );
        let renewal_failures = Series::new(
            &mut registry,
            "certdeck_renewal_failures",
            "Failed renewal attempts in a row",
        );
        let ari_start = Series::new(
            &mut registry,
            "certdeck_ari_window_start_timestamp_seconds",
            "The start of the CA's suggested renewal window (RFC 9773)",
        );
        let ari_end = Series::new(
            &mut registry,
            "certdeck_ari_window_end_timestamp_seconds",
            "The end of the CA's suggested renewal window (RFC 9773)",
        );
        let hosting = Series::new(
            &mut registry,
            "certdeck_hosting_info",
            "Each hosting with its state (always 1)",
        );
        let hosting_at = Series::new(
            &mut registry,
            "certdeck_hosting_replace_timestamp_seconds",
            "When a hosting replaces its old certificate",
        );
        let deployed_ok = Series::new(
            &mut registry,
            "certdeck_deployment_last_success",
            "1 when the resource's last deployment succeeded, 0 when it failed",
        );
        let deployed_at = Series::new(
            &mut registry,
            "certdeck_deployment_last_timestamp_seconds",
            "When the resource's last deployment ran",
        );
        let drift = Series::new(
            &mut registry,
            "certdeck_drift",
            "1 when a site serves another certificate than its file holds (DS-5)",
        );
        let intermediate = Series::new(
            &mut registry,
            "certdeck_served_intermediate_not_after",
            "A served intermediate ending within 30 days, before the leaf (DS-5)",
        );
        let dead = Series::new(
            &mut registry,
            "certdeck_deliveries_dead",
            "Alarm deliveries that gave up after their last retry",
        );
        let deadline = Series::new(
            &mut registry,
            "certdeck_validation_deadline_timestamp_seconds",
            "When an order that is not validated yet fails",
        );
        let last_tick = Series::new(
            &mut registry,
            "certdeck_last_tick_timestamp_seconds",
            "When the timed rules last ran (a heartbeat)",
        );

        let watched = self.store.watched_all()?;
        for c in self.store.certificates()? {
            let status = c.status_at(now);
            info.set(
                vec![
                    ("id", c.id.clone()),
                    ("name", c.name.clone()),
                    ("status", status.as_str().to_string()),
                    ("source", c.source.as_str().to_string()),
                ],
                1.0,
            );
            let Some(x) = &c.x509 else { continue };
            // A discovered certificate is one series per file holding it (as the exporter
            // has it); the others have none.
            let files: Vec<String> = match watched.get(&c.id) {
                Some(w) if w.gone_at.is_none() && !w.paths.is_empty() => w.paths.clone(),
                _ => vec![String::new()],
            };
            for filepath in files {
                let labels = vec![
                    ("subject_CN", x.subject_cn.clone().unwrap_or_default()),
                    ("issuer_CN", x.issuer_cn.clone().unwrap_or_default()),
                    (
                        "serial_number",
                        crate::domain::cert::serial_decimal(&x.serial)
                            .unwrap_or_else(|| x.serial.clone()),
                    ),
                    ("filepath", filepath),
                    ("id", c.id.clone()),
                ];
                not_after.set(labels.clone(), secs(x.not_after));
                not_before.set(labels.clone(), secs(x.not_before));
                expired.set(labels, if x.not_after <= now { 1.0 } else { 0.0 });
            }
        }
        for (id, plan) in self.store.acme_renewals()? {
            let labels = vec![("id", id)];
            renewal.set(
                vec![
                    ("id", labels[0].1.clone()),
                    ("reason", plan.reason.as_str().to_string()),
                ],
                secs(plan.at),
            );
            renewal_failures.set(labels.clone(), plan.failures as f64);
            if let Some(w) = plan.ari_window {
                ari_start.set(labels.clone(), secs(w.start));
                ari_end.set(labels, secs(w.end));
            }
        }
        for h in self.store.hostings()? {
            hosting.set(
                vec![
                    ("id", h.id.clone()),
                    ("old_certificate", h.old_cert.clone()),
                    ("state", h.status.as_str().to_string()),
                ],
                1.0,
            );
            hosting_at.set(vec![("id", h.id.clone())], secs(h.replace_at));
        }
        for r in self.store.resources()? {
            if let Some(last) = self.store.deploy_log(&r.id, 1)?.into_iter().next() {
                let labels = vec![("resource", r.name.clone()), ("id", r.id.clone())];
                deployed_ok.set(labels.clone(), if last.succeeded() { 1.0 } else { 0.0 });
                deployed_at.set(labels, secs(last.at));
            }
        }
        for (id, w) in &watched {
            if let Some(d) = &w.drift {
                drift.set(
                    vec![
                        ("id", id.clone()),
                        ("address", d.address.clone()),
                        ("sni", d.sni.clone()),
                    ],
                    1.0,
                );
            }
        }
        for (id, i) in self.store.expiring_intermediates()? {
            intermediate.set(
                vec![("id", id), ("address", i.address), ("subject", i.subject)],
                secs(i.not_after),
            );
        }
        let dead_count = self
            .store
            .deliveries(usize::MAX)?
            .iter()
            .filter(|d| d.state == crate::domain::delivery::DeliveryState::Dead)
            .count();
        dead.set(Vec::new(), dead_count as f64);
        for (c, o) in self.store.open_orders()? {
            if o.validated_at.is_none() {
                if let Some(d) = o.deadline {
                    deadline.set(vec![("id", c.id.clone())], secs(d));
                }
            }
        }
        let ticked = [self.last_tick(), self.store.last_tick_at()?]
            .into_iter()
            .flatten()
            .max();
        if let Some(t) = ticked {
            last_tick.set(Vec::new(), secs(t));
        }
        let mut out = String::new();
        encode(&mut out, &registry).map_err(|e| StoreError::Db(format!("metrics: {e}")))?;
        Ok(out)
    }
}
