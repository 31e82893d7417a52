//! SV-3: the Prometheus exposition of what certdeck knows. Per certificate the series
//! x509-certificate-exporter has (`x509_cert_not_after`, `x509_cert_not_before`,
//! `x509_cert_expired`, labelled `subject_CN`, `issuer_CN`, `serial_number`, `filepath`), so its
//! dashboards and alerts work unchanged, and certdeck's own `certdeck_…` series: status and
//! source, next renewal, ARI window, hostings, last deployments, drift, dead deliveries,
//! validation deadlines and the last tick.
//!
//! prometheus-client encodes them (escaping, number format, the classic text format
//! node_exporter's textfile collector and Prometheus read). The series are gathered first into
//! plain rows and written by one collector, so 100,000 certificates cost no map of metric
//! objects.
use super::Engine;
use crate::store::StoreError;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::DescriptorEncoder;
use prometheus_client::metrics::MetricType;
use prometheus_client::registry::Registry;

/// A label set, shared by the series that carry it (a certificate's three x509 series).
type Labels = std::sync::Arc<[(&'static str, String)]>;

/// One series' samples: label sets (pairs) and values.
#[derive(Debug, Default)]
struct Samples {
    name: &'static str,
    help: &'static str,
    rows: Vec<(Labels, f64)>,
}

impl Samples {
    fn new(name: &'static str, help: &'static str) -> Samples {
        Samples {
            name,
            help,
            rows: Vec::new(),
        }
    }

    fn push(&mut self, labels: impl Into<Labels>, value: f64) {
        self.rows.push((labels.into(), value));
    }
}

/// Every series of one exposition.
#[derive(Debug)]
struct Exposition(Vec<Samples>);

impl Collector for Exposition {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        for s in &self.0 {
            let mut metric = encoder.encode_descriptor(s.name, s.help, None, MetricType::Gauge)?;
            for (labels, value) in &s.rows {
                let labels: Vec<(&str, &str)> =
                    labels.iter().map(|(k, v)| (*k, v.as_str())).collect();
                metric.encode_family(&labels)?.encode_gauge(value)?;
            }
        }
        Ok(())
    }
}

/// What the per-certificate families are written from, read once and shared by the threads
/// that encode them: no label strings are copied per series.
struct Certificates {
    now: crate::domain::time::Timestamp,
    summaries: Vec<crate::domain::model::CertSummary>,
    facts: std::collections::HashMap<String, crate::domain::model::MetricFacts>,
    watched: std::collections::BTreeMap<String, crate::domain::discovery::Watched>,
}

/// The per-certificate families, each written by one collector (two threads write them).
#[derive(Debug, Clone, Copy)]
enum CertFamily {
    NotAfter,
    NotBefore,
    Expired,
    Info,
}

struct CertCollector {
    data: std::sync::Arc<Certificates>,
    families: Vec<CertFamily>,
}

impl std::fmt::Debug for CertCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CertCollector")
            .field("families", &self.families)
            .finish_non_exhaustive()
    }
}

impl Collector for CertCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let d = &*self.data;
        let none = crate::domain::model::MetricFacts::default();
        let no_file = [String::new()];
        for family in &self.families {
            let (name, help) = match family {
                CertFamily::NotAfter => (
                    "x509_cert_not_after",
                    "The certificate's notAfter, in seconds since the epoch",
                ),
                CertFamily::NotBefore => (
                    "x509_cert_not_before",
                    "The certificate's notBefore, in seconds since the epoch",
                ),
                CertFamily::Expired => ("x509_cert_expired", "1 when the certificate has expired"),
                CertFamily::Info => (
                    "certdeck_certificate_info",
                    "Each certificate certdeck keeps, with its status and source (always 1)",
                ),
            };
            let mut metric = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            for c in &d.summaries {
                if let CertFamily::Info = family {
                    let labels = [
                        ("id", c.id.as_str()),
                        ("name", c.name.as_str()),
                        ("status", c.status_at(d.now).as_str()),
                        ("source", c.source.as_str()),
                    ];
                    metric.encode_family(&labels)?.encode_gauge(&1.0)?;
                    continue;
                }
                let Some(end) = c.not_after else { continue };
                let f = d.facts.get(&c.id).unwrap_or(&none);
                let value = match family {
                    CertFamily::NotAfter => secs(end),
                    CertFamily::NotBefore => match f.not_before {
                        Some(start) => secs(start),
                        None => continue,
                    },
                    _ => {
                        if end <= d.now {
                            1.0
                        } else {
                            0.0
                        }
                    }
                };
                // A discovered certificate is one series per file holding it (as the
                // exporter has it); the others have an empty path.
                let files: &[String] = match d.watched.get(&c.id) {
                    Some(w) if w.gone_at.is_none() && !w.paths.is_empty() => &w.paths,
                    _ => &no_file,
                };
                for filepath in files {
                    let labels = [
                        ("subject_CN", f.subject_cn.as_deref().unwrap_or("")),
                        ("issuer_CN", c.issuer.as_str()),
                        ("serial_number", f.serial_decimal.as_str()),
                        ("filepath", filepath.as_str()),
                        ("id", c.id.as_str()),
                    ];
                    metric.encode_family(&labels)?.encode_gauge(&value)?;
                }
            }
        }
        Ok(())
    }
}

fn secs(t: crate::domain::time::Timestamp) -> f64 {
    t.timestamp() as f64
}

impl Engine {
    /// SV-3: every series, in the Prometheus text format.
    pub fn metrics_text(&self) -> Result<String, StoreError> {
        Ok(self.metrics_parts()?.concat())
    }

    /// `metrics_text` in the parts it is built in, to be written one after the other (no copy
    /// of 60 MB into one string for 100,000 certificates).
    pub fn metrics_parts(&self) -> Result<Vec<String>, StoreError> {
        let now = self.clock.now();
        let mut renewal = Samples::new(
            "certdeck_renewal_next_timestamp_seconds",
            "When certdeck next tries to renew the certificate (AC-4)",
        );
        let mut renewal_failures = Samples::new(
            "certdeck_renewal_failures",
            "Failed renewal attempts in a row",
        );
        let mut ari_start = Samples::new(
            "certdeck_ari_window_start_timestamp_seconds",
            "The start of the CA's suggested renewal window (RFC 9773)",
        );
        let mut ari_end = Samples::new(
            "certdeck_ari_window_end_timestamp_seconds",
            "The end of the CA's suggested renewal window (RFC 9773)",
        );
        let mut hosting = Samples::new(
            "certdeck_hosting_info",
            "Each hosting with its state (always 1)",
        );
        let mut hosting_at = Samples::new(
            "certdeck_hosting_replace_timestamp_seconds",
            "When a hosting replaces its old certificate",
        );
        let mut deployed_ok = Samples::new(
            "certdeck_deployment_last_success",
            "1 when the resource's last deployment succeeded, 0 when it failed",
        );
        let mut deployed_at = Samples::new(
            "certdeck_deployment_last_timestamp_seconds",
            "When the resource's last deployment ran",
        );
        let mut drift = Samples::new(
            "certdeck_drift",
            "1 when a site serves another certificate than its file holds (DS-5)",
        );
        let mut intermediate = Samples::new(
            "certdeck_served_intermediate_not_after",
            "A served intermediate ending within 30 days, before the leaf (DS-5)",
        );
        let mut dead = Samples::new(
            "certdeck_deliveries_dead",
            "Alarm deliveries that gave up after their last retry",
        );
        let mut deadline = Samples::new(
            "certdeck_validation_deadline_timestamp_seconds",
            "When an order that is not validated yet fails",
        );
        let mut last_tick = Samples::new(
            "certdeck_last_tick_timestamp_seconds",
            "When the timed rules last ran (a heartbeat)",
        );

        // The big reads on two threads: summaries on one, facts and watched files on the other.
        let (summaries, facts_watched) = std::thread::scope(|scope| {
            let other = scope.spawn(|| -> Result<_, StoreError> {
                Ok((self.store.metric_facts()?, self.store.watched_all()?))
            });
            let summaries = self.store.summaries();
            let other = other
                .join()
                .unwrap_or_else(|_| Err(StoreError::Db("metrics: a reader failed".into())));
            (summaries, other)
        });
        let (facts, watched) = facts_watched?;
        let certificates = std::sync::Arc::new(Certificates {
            now,
            summaries: summaries?,
            facts,
            watched,
        });
        for (id, plan) in self.store.acme_renewals()? {
            renewal.push(
                vec![
                    ("id", id.clone()),
                    ("reason", plan.reason.as_str().to_string()),
                ],
                secs(plan.at),
            );
            renewal_failures.push(vec![("id", id.clone())], plan.failures as f64);
            if let Some(w) = plan.ari_window {
                ari_start.push(vec![("id", id.clone())], secs(w.start));
                ari_end.push(vec![("id", id)], secs(w.end));
            }
        }
        for h in self.store.hostings()? {
            hosting.push(
                vec![
                    ("id", h.id.clone()),
                    ("old_certificate", h.old_cert.clone()),
                    ("state", h.status.as_str().to_string()),
                ],
                1.0,
            );
            hosting_at.push(vec![("id", h.id)], secs(h.replace_at));
        }
        for r in self.store.resources()? {
            if let Some(last) = self.store.deploy_log(&r.id, 1)?.into_iter().next() {
                let labels = Labels::from(vec![("resource", r.name), ("id", r.id)]);
                deployed_ok.push(labels.clone(), if last.succeeded() { 1.0 } else { 0.0 });
                deployed_at.push(labels, secs(last.at));
            }
        }
        for (id, w) in &certificates.watched {
            if let Some(d) = &w.drift {
                drift.push(
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
            intermediate.push(
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
        dead.push(Vec::new(), dead_count as f64);
        for (c, o) in self.store.open_orders()? {
            if let (None, Some(d)) = (o.validated_at, o.deadline) {
                deadline.push(vec![("id", c.id)], secs(d));
            }
        }
        let ticked = [self.last_tick(), self.store.last_tick_at()?]
            .into_iter()
            .flatten()
            .max();
        if let Some(t) = ticked {
            last_tick.push(Vec::new(), t.timestamp_millis() as f64 / 1000.0);
        }
        let others = Exposition(vec![
            renewal,
            renewal_failures,
            ari_start,
            ari_end,
            hosting,
            hosting_at,
            deployed_ok,
            deployed_at,
            drift,
            intermediate,
            dead,
            deadline,
            last_tick,
        ]);
        // The families in two halves, each encoded on its own thread, joined in order.
        let halves = [
            vec![CertFamily::NotAfter, CertFamily::NotBefore],
            vec![CertFamily::Expired, CertFamily::Info],
        ];
        let per_cert = certificates.summaries.len();
        let (first, second) = std::thread::scope(|scope| {
            let encode = |families: Vec<CertFamily>, rest: Option<Exposition>| {
                let mut registry = Registry::default();
                registry.register_collector(Box::new(CertCollector {
                    data: std::sync::Arc::clone(&certificates),
                    families,
                }));
                if let Some(rest) = rest {
                    registry.register_collector(Box::new(rest));
                }
                // Reserved, not touched: the pages become resident only as they are written.
                let mut out = String::with_capacity(per_cert * 450 + 64 * 1024);
                prometheus_client::encoding::prometheus_text::encode(&mut out, &registry)
                    .map(|_| out)
            };
            let [a, b] = halves;
            let second = scope.spawn(move || encode(b, Some(others)));
            let first = encode(a, None);
            (first, second.join())
        });
        let fail = |e: std::fmt::Error| StoreError::Db(format!("metrics: {e}"));
        let first = first.map_err(fail)?;
        let second = second.unwrap_or(Err(std::fmt::Error)).map_err(fail)?;
        Ok(vec![first, second])
    }
}
