//! AC-4 through the tick: each ACME certificate's schedule entry fetches the CA's renewal window
//! (RFC 9773) when due, renews when its time has come, and backs off after a failure; every
//! failure is a timeline event and a message.
use super::acme::{AcmeError, RENEWAL_DNS_WAIT};
use super::Engine;
use crate::domain::acme_renewal::{after_failure, parse_retry_after, step, with_ari, Step};
use crate::domain::model::{Certificate, TimelineEvent};
use crate::domain::schedule::DueEntry;
use crate::store::StoreError;

/// What firing an ACME entry did.
pub(super) enum Outcome {
    /// Renewed: the new certificate's id and what was said.
    Renewed(String),
    /// Rescheduled without an attempt (the window is not open yet).
    Waiting,
    /// The attempt failed; the next one is planned (or none is left).
    Failed(String),
    /// The certificate no longer renews by itself; the entry is gone.
    Dropped,
}

/// A uniform draw in 0..1 for the moment in an ARI window (RFC 9773 asks clients to spread out).
pub(super) fn draw() -> f64 {
    use ring::rand::SecureRandom;
    let mut b = [0u8; 4];
    match ring::rand::SystemRandom::new().fill(&mut b) {
        Ok(()) => u32::from_le_bytes(b) as f64 / u32::MAX as f64,
        Err(_) => 0.5,
    }
}

/// Renewals in flight at once: a fleet's certificates falling in one ARI window renew together,
/// their requests to one CA paced (ca/acme/http.rs), so the wall time follows the pacing.
pub const IN_FLIGHT: usize = 100;

impl Engine {
    /// Fires due ACME entries, up to `IN_FLIGHT` at once, each on its own thread.
    pub(super) fn fire_acme_renewals<'e>(
        &self,
        entries: &'e [DueEntry],
    ) -> Vec<(&'e DueEntry, Result<Outcome, StoreError>)> {
        let mut out = Vec::with_capacity(entries.len());
        for chunk in entries.chunks(IN_FLIGHT) {
            std::thread::scope(|s| {
                let running: Vec<_> = chunk
                    .iter()
                    .map(|e| (e, s.spawn(move || self.fire_acme_renewal(e))))
                    .collect();
                for (e, h) in running {
                    let outcome = h.join().unwrap_or_else(|_| {
                        Err(StoreError::Db(format!(
                            "the renewal of {} stopped unexpectedly",
                            e.cert_id
                        )))
                    });
                    out.push((e, outcome));
                }
            });
        }
        out
    }

    pub(super) fn fire_acme_renewal(&self, entry: &DueEntry) -> Result<Outcome, StoreError> {
        let now = self.clock.now();
        let (cert, plan) = match (
            self.store.get(&entry.cert_id)?,
            self.store.acme_renewal(&entry.cert_id)?,
        ) {
            (Some(c), Some(p)) => (c, p),
            _ => {
                self.store.apply_fired(&[(entry.clone(), None)])?;
                return Ok(Outcome::Dropped);
            }
        };
        let mut plan = plan;
        // At most an ARI fetch and then an attempt: never a loop.
        for _ in 0..2 {
            match step(&plan, &cert, now) {
                Step::Stop(_) => {
                    self.store.park_acme_renewal(&cert.id)?;
                    return Ok(Outcome::Dropped);
                }
                Step::Wait(_) => {
                    self.store.save_acme_renewal(&cert, Some(&plan), None)?;
                    return Ok(Outcome::Waiting);
                }
                Step::FetchAri => plan = self.fetch_ari(&cert, &plan)?,
                Step::Renew => return self.renew_acme(&cert, &plan),
            }
        }
        self.store.save_acme_renewal(&cert, Some(&plan), None)?;
        Ok(Outcome::Waiting)
    }

    /// The CA's window for `cert`, folded into its plan; a CA that cannot say leaves the lifetime
    /// point in force and is asked again later.
    fn fetch_ari(
        &self,
        cert: &Certificate,
        plan: &crate::domain::acme_renewal::AcmeRenewal,
    ) -> Result<crate::domain::acme_renewal::AcmeRenewal, StoreError> {
        let now = self.clock.now();
        let Some(origin) = self.store.acme_origin(&cert.id)? else {
            return Ok(with_ari(plan, cert, None, None, now));
        };
        let (Some(account), Some(ari_id)) =
            (self.store.acme_account(&origin.account)?, &plan.ari_id)
        else {
            return Ok(with_ari(plan, cert, None, None, now));
        };
        Ok(
            match crate::ca::acme::renewal_info(
                &account.directory_url,
                account.root_pem.as_deref(),
                ari_id,
            ) {
                Ok(Some((window, retry_after))) => with_ari(
                    plan,
                    cert,
                    Some(window),
                    retry_after.and_then(|h| parse_retry_after(&h, now)),
                    now,
                ),
                Ok(None) | Err(_) => with_ari(plan, cert, None, None, now),
            },
        )
    }

    /// One renewal attempt: the same names, key type and challenge as the first order, naming
    /// the certificate it replaces when the CA offers ARI.
    fn renew_acme(
        &self,
        cert: &Certificate,
        plan: &crate::domain::acme_renewal::AcmeRenewal,
    ) -> Result<Outcome, StoreError> {
        let now = self.clock.now();
        let attempt = self.attempt_renewal(cert, plan);
        self.after_attempt(cert, plan, attempt, now)
    }

    /// One order for the renewal of `cert`, stored when issued (or left open, by hand).
    fn attempt_renewal(
        &self,
        cert: &Certificate,
        plan: &crate::domain::acme_renewal::AcmeRenewal,
    ) -> Result<Certificate, AcmeError> {
        (|| {
            let origin = self
                .store
                .acme_origin(&cert.id)?
                .ok_or_else(|| AcmeError::Unreachable(format!("{} has no ACME origin", cert.id)))?;
            let signer = self.signer(&origin.account, "AC-4")?;
            if plan.ordered.solver == crate::domain::acme_renewal::Solver::Manual {
                // By hand: the renewal order waits in the Validation queue for its records.
                return match self.place_acme_manual(
                    &signer,
                    plan.ordered.clone(),
                    None,
                    &[],
                    None,
                    Some(cert),
                )? {
                    super::acme::Ordered::Pending { cert: new, .. }
                    | super::acme::Ordered::Stored(new) => Ok(*new),
                    super::acme::Ordered::DryRun { .. } => Err(AcmeError::Unreachable(
                        "a renewal is never a dry run".into(),
                    )),
                };
            }
            let upload = crate::domain::rules::upload::UploadInput {
                name: Some(cert.name.clone()),
                ..Default::default()
            };
            let issued = self.obtain_acme(
                &signer,
                &plan.ordered,
                plan.ari_id.as_deref(),
                RENEWAL_DNS_WAIT,
                upload,
            )?;
            self.store_acme(&signer, &issued, plan.ordered.clone(), true, Some(cert))
        })()
    }

    fn after_attempt(
        &self,
        cert: &Certificate,
        plan: &crate::domain::acme_renewal::AcmeRenewal,
        attempt: Result<Certificate, AcmeError>,
        now: crate::domain::time::Timestamp,
    ) -> Result<Outcome, StoreError> {
        match attempt {
            Ok(new) if new.status == crate::domain::model::Status::Validating => {
                Ok(Outcome::Renewed(format!(
                    "renewal order {} placed ({}, AC-4): waiting for its TXT records (AC-3)",
                    new.id,
                    plan.reason.as_str()
                )))
            }
            Ok(new) => Ok(Outcome::Renewed(format!(
                "renewed by {} ({}, AC-4)",
                new.id,
                plan.reason.as_str()
            ))),
            Err(AcmeError::Store(e)) => Err(e),
            Err(e) => {
                let (why, retry_after) = match e {
                    AcmeError::Refused(r) => (r.to_string(), None),
                    AcmeError::RateLimited {
                        refusal,
                        retry_after,
                    } => (refusal.to_string(), retry_after),
                    AcmeError::Unreachable(m) => (m, None),
                    AcmeError::Store(_) => unreachable!("returned above"),
                };
                let retry_after = retry_after.and_then(|h| parse_retry_after(&h, now));
                let not_after = cert.not_after().unwrap_or(now);
                let (next, event) = match after_failure(plan, not_after, &why, retry_after, now) {
                    Ok(next) => {
                        let message = format!(
                            "ACME renewal attempt {} failed: {why}; next attempt {} ({})",
                            next.failures,
                            next.at.format("%Y-%m-%d %H:%M UTC"),
                            next.reason.as_str()
                        );
                        (Some(next), event(now, "renewal_failed", message))
                    }
                    Err(end) => (
                        None,
                        event(
                            now,
                            "auto_renew_terminated",
                            format!("ACME renewal failed: {why}; {end}"),
                        ),
                    ),
                };
                let said = event.message.clone();
                self.store
                    .save_acme_renewal(cert, next.as_ref(), Some(&event))?;
                Ok(Outcome::Failed(said))
            }
        }
    }
}

fn event(at: crate::domain::time::Timestamp, kind: &str, message: String) -> TimelineEvent {
    TimelineEvent {
        at,
        kind: kind.into(),
        message,
    }
}

impl Engine {
    /// AC-4: auto-renewal of an ACME certificate on or off (`None`: toggled). Switching on puts
    /// its plan back on the schedule first, so a crash between the two writes leaves it parked
    /// (the step sees the switch off), never renewing against the user's choice.
    pub(super) fn switch_acme_auto_renew(
        &self,
        cert: &Certificate,
        on: Option<bool>,
    ) -> Result<crate::app::Action, StoreError> {
        let now = self.clock.now();
        let on = on.unwrap_or(!cert.auto_renew);
        let plan = self.store.acme_renewal(&cert.id)?;
        match crate::domain::acme_renewal::switch_auto_renew(cert, plan.as_ref(), on, now) {
            Ok((updated, event)) => {
                if let (true, Some(p)) = (on, &plan) {
                    let p = crate::domain::acme_renewal::replan(p, cert, now);
                    self.store.save_acme_renewal(cert, Some(&p), None)?;
                }
                let fired = crate::domain::schedule::Fired {
                    event,
                    updated: Some(updated),
                    ..Default::default()
                };
                let action = self.record(&cert.id, Ok(fired))?;
                if !on {
                    self.store.park_acme_renewal(&cert.id)?;
                }
                Ok(action)
            }
            Err(r) => Ok(crate::app::Action::Refused(r)),
        }
    }
}

impl Engine {
    /// `renew ID` (and the More menu's renew) on an ACME certificate: the renewal ordered now,
    /// the same way it would be by itself, no fee (AC-4). A failure here is said, and the
    /// automatic plan is left as it was.
    pub(super) fn renew_acme_now(
        &self,
        cert: &Certificate,
    ) -> Result<crate::app::Action, StoreError> {
        use crate::app::Action;
        let now = self.clock.now();
        let plan = self.store.acme_renewal(&cert.id)?;
        if let Err(r) = crate::domain::acme_renewal::check_renew_now(cert, plan.is_some(), now) {
            return Ok(Action::Refused(r));
        }
        let plan = plan.expect("checked");
        Ok(match self.attempt_renewal(cert, &plan) {
            Ok(new) => match self.store.get(&cert.id)? {
                Some(old) => Action::Renewed {
                    old: Box::new(old.summary()),
                    new: Box::new(new.summary()),
                },
                None => Action::Failed(format!("{} is no longer in the store", cert.id)),
            },
            Err(AcmeError::Store(e)) => return Err(e),
            Err(AcmeError::Refused(r)) | Err(AcmeError::RateLimited { refusal: r, .. }) => {
                Action::Refused(r)
            }
            Err(AcmeError::Unreachable(m)) => Action::Failed(m),
        })
    }
}

impl Engine {
    /// The account, order and renewal plan of an ACME certificate (`None`: not one).
    pub fn acme_detail(
        &self,
        id: &str,
    ) -> Result<Option<crate::app::state::AcmeDetail>, StoreError> {
        Ok(match self.store.acme_origin(id)? {
            Some(o) => Some(crate::app::state::AcmeDetail {
                account: o.account,
                order_url: o.order_url,
                renewal: self.store.acme_renewal(id)?,
            }),
            None => None,
        })
    }
}
