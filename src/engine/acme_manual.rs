//! dns-01 by hand (AC-3): the order is placed and left open with its TXT records in the
//! Validation queue; a check (`c`, `certdeck validate ID`) looks them up with certdeck's own
//! resolver and, once every one shows, tells the CA, finalizes with a new key and stores the
//! certificate in the same record.
use super::acme::{failure, AcmeError, Ordered, Signer};
use super::Engine;
use crate::app::Action;
use crate::domain::acme::TxtRecord;
use crate::domain::acme_renewal::OrderedAs;
use crate::domain::refusal::{Field, Refusal};
use crate::store::{NewRecord, StoreError};

impl Engine {
    /// Step one: the order placed; nothing is told to the CA until the records show.
    pub(super) fn place_acme_manual(
        &self,
        signer: &Signer,
        ordered: OrderedAs,
        name: Option<String>,
        tags: &[String],
        project: Option<String>,
        renews: Option<&crate::domain::model::Certificate>,
    ) -> Result<Ordered, AcmeError> {
        let mut tags = crate::domain::rules::upload::parse_tags(tags)?;
        let (mut name, mut project) = (name, project);
        if let Some(old) = renews {
            name = Some(old.name.clone());
            tags = old.tags.clone();
            project = old.project.clone();
        }
        let account = &signer.account;
        let placed = crate::ca::acme::order::place_manual(
            &signer.credentials,
            account.root_pem.as_deref(),
            &account.directory_url,
            &ordered.domains,
            ordered.profile.as_deref(),
        )
        .map_err(failure)?;
        let records: Vec<TxtRecord> = placed
            .records
            .iter()
            .map(|r| TxtRecord {
                domain: r.domain.clone(),
                name: r.name.clone(),
                value: r.value.clone(),
            })
            .collect();
        let deadline = placed.records.iter().filter_map(|r| r.expires).min();
        let now = self.clock.now();
        let id = self.store.new_id()?;
        let (mut cert, order, event) = crate::domain::acme::pending_order(
            id,
            account,
            &ordered.domains,
            &records,
            deadline,
            name,
            tags,
            project,
            now,
        );
        let origin = crate::domain::acme::AcmeOrigin {
            account: account.name.clone(),
            order_url: placed.order_url.clone(),
        };
        cert.renewed_from = renews.map(|o| o.id.clone());
        let renewed_event = renews.map(|old| {
            (
                old.id.clone(),
                crate::domain::model::TimelineEvent {
                    at: now,
                    kind: "renewal".into(),
                    message: format!(
                        "renewal order {} placed with {} (AC-4): add its TXT record(s){}, then check it (c / certdeck validate {})",
                        cert.id,
                        account.directory_name,
                        deadline
                            .map(|d| format!(" by {}", d.format("%Y-%m-%d %H:%M UTC")))
                            .unwrap_or_default(),
                        cert.id
                    ),
                },
            )
        });
        let rec = NewRecord {
            cert,
            secrets: Default::default(),
            event,
        };
        self.store
            .place_acme_manual(&rec, &order, &origin, &ordered, renewed_event.as_ref())?;
        let id = rec.cert.id.clone();
        if records.is_empty() {
            // Every authorization was valid already (the CA reuses recent ones): finish now.
            return match self.complete_acme_manual(&id)? {
                Action::Refused(r) => Err(AcmeError::Refused(r)),
                Action::Failed(m) => Err(AcmeError::Unreachable(m)),
                _ => Ok(Ordered::Stored(Box::new(
                    self.store.get(&id)?.unwrap_or(rec.cert),
                ))),
            };
        }
        Ok(Ordered::Pending {
            cert: Box::new(rec.cert),
            records,
            deadline,
        })
    }

    /// Step two, on a check: certdeck's own lookup first; the CA only when every record shows.
    pub(super) fn check_acme_manual(&self, id: &str) -> Result<Action, StoreError> {
        let Some(order) = self.store.order(id)? else {
            return Ok(Action::Failed(format!("{id} has no order to validate")));
        };
        let results =
            crate::validate::check_all(&order.challenges, crate::validate::http_override());
        if results
            .iter()
            .any(|r| r.code != crate::domain::validation::CheckCode::Ok)
        {
            return Ok(Action::ValidationChecked {
                id: id.to_string(),
                order: Box::new(order),
                results,
                reissue: false,
                revocation: None,
            });
        }
        self.complete_acme_manual(id)
    }

    fn complete_acme_manual(&self, id: &str) -> Result<Action, StoreError> {
        let now = self.clock.now();
        let (Some(cert), Some(order), Some(ordered), Some(origin)) = (
            self.store.get(id)?,
            self.store.order(id)?,
            self.store.acme_pending(id)?,
            self.store.acme_origin(id)?,
        ) else {
            return Ok(Action::Failed(format!("{id} is not an open ACME order")));
        };
        if let Some(deadline) = order.deadline.filter(|d| *d <= now) {
            return Ok(Action::Refused(Refusal::new(
                "AC-2",
                Field::Id,
                format!(
                    "the CA's authorizations of {id} expired at {}: order again (certdeck apply --ca {} …)",
                    deadline.format("%Y-%m-%d %H:%M UTC"),
                    origin.account
                ),
            )));
        }
        let signer = match self.signer(&origin.account, "AC-3") {
            Ok(s) => s,
            Err(AcmeError::Store(e)) => return Err(e),
            Err(AcmeError::Refused(r)) | Err(AcmeError::RateLimited { refusal: r, .. }) => {
                return Ok(Action::Refused(r))
            }
            Err(AcmeError::Unreachable(m)) => return Ok(Action::Failed(m)),
        };
        let key = match super::keygen::generate(ordered.key) {
            Ok(k) => k,
            Err(m) => return Ok(Action::Failed(format!("generating the key: {m}"))),
        };
        let chain = match crate::ca::acme::order::complete_manual(
            &signer.credentials,
            signer.account.root_pem.as_deref(),
            &origin.order_url,
            &ordered.domains,
            &key.pkcs8_pem,
            ordered.key,
        ) {
            Ok(c) => c,
            Err(crate::ca::acme::Failure::Unreachable(m)) => return Ok(Action::Failed(m)),
            // The CA said no (its validation failed, the order is invalid): the order has ended,
            // and the record says why, with the problem's type and detail (AC-5).
            Err(crate::ca::acme::Failure::Ca(problem)) => {
                let fired = crate::domain::acme::order_refused(&cert, &order, &problem, now);
                let refusal = Refusal::new("AC-5", Field::Domain, fired.event.message.clone());
                self.store.apply_effect(id, &fired)?;
                self.store.close_acme_pending(id, None)?;
                return Ok(Action::Refused(refusal));
            }
            Err(f) => {
                return Ok(match failure(f) {
                    AcmeError::Refused(r) | AcmeError::RateLimited { refusal: r, .. } => {
                        Action::Refused(r)
                    }
                    AcmeError::Unreachable(m) => Action::Failed(m),
                    AcmeError::Store(e) => return Err(e),
                })
            }
        };
        let chain_der: Vec<Vec<u8>> = match crate::domain::pem::scan(&chain) {
            Ok(blocks) => blocks.into_iter().map(|b| b.der).collect(),
            Err(e) => return Ok(Action::Failed(format!("the CA's chain: {}", e.message))),
        };
        let mut fired = match crate::domain::order::issued(
            &cert,
            &order,
            &chain_der,
            Some(key.pkcs8_pem.to_string()),
            &signer.account.directory_name,
            now,
        ) {
            Ok(f) => f,
            Err(m) => return Ok(Action::Failed(format!("the CA's certificate: {m}"))),
        };
        fired.event.message = format!(
            "every TXT record seen; issued by {} through ACME account {} (order {})",
            signer.account.directory_name, signer.account.name, origin.order_url
        );
        let message = fired.event.message.clone();
        self.store.apply_effect(id, &fired)?;
        let issued = self.store.get(id)?;
        let plan = issued.as_ref().and_then(|c| {
            crate::domain::acme_renewal::first_plan(
                c,
                ordered.clone(),
                None,
                super::acme_renewal::draw(),
                now,
            )
        });
        self.store.close_acme_pending(id, plan.as_ref())?;
        Ok(match issued {
            Some(c) => Action::RecordSaved(Box::new(c.summary()), message),
            None => Action::Failed(format!("{id} is no longer in the store")),
        })
    }
}

impl Engine {
    /// The TUI's ACME order: dns-01 by hand, a P-256 key, auto-renewal on; the records wait in
    /// the Validation queue.
    pub(super) fn acme_order_by_hand(
        &self,
        account: String,
        domain: String,
        sans: Vec<String>,
    ) -> Result<Action, StoreError> {
        let req = super::acme::OrderRequest {
            account,
            domain,
            sans,
            key: crate::domain::reissue::KeyChoice::P256,
            solver: crate::domain::acme_renewal::Solver::Manual,
            profile: None,
            name: None,
            tags: Vec::new(),
            project: None,
            dry_run: false,
            dns_wait: super::acme::RENEWAL_DNS_WAIT,
        };
        Ok(match self.acme_order(&req) {
            Ok(Ordered::Pending { cert, .. }) | Ok(Ordered::Stored(cert)) => Action::OrderPlaced {
                summary: Box::new(cert.summary()),
                warnings: Vec::new(),
            },
            Ok(Ordered::DryRun { .. }) => Action::Failed("a dry run stores nothing".into()),
            Err(AcmeError::Store(e)) => return Err(e),
            Err(AcmeError::Refused(r)) | Err(AcmeError::RateLimited { refusal: r, .. }) => {
                Action::Refused(r)
            }
            Err(AcmeError::Unreachable(m)) => Action::Failed(m),
        })
    }
}

impl Engine {
    /// Each tick looks for the records of every open ACME order (certdeck's own lookup) and,
    /// once they all show, has the CA validate and issue (AC-3): the user adds the records and
    /// need not come back. Orders that ended (failed at their deadline, deleted) are forgotten.
    pub(super) fn advance_acme_pending(
        &self,
        report: &mut crate::domain::schedule::TickReport,
    ) -> Result<(), StoreError> {
        let now = self.clock.now();
        for id in self.store.acme_pending_ids()? {
            let cert = self.store.get(&id)?;
            if cert.as_ref().map(|c| c.status) != Some(crate::domain::model::Status::Validating) {
                self.store.close_acme_pending(&id, None)?;
                continue;
            }
            let note = |message: String| crate::domain::schedule::FiredNote {
                cert_id: id.clone(),
                kind: crate::domain::schedule::DueKind::AcmeRenew,
                due: now,
                message,
            };
            match self.check_acme_manual(&id)? {
                Action::RecordSaved(_, m) => report.fired.push(note(m)),
                Action::Refused(r) => report.failed.push(note(r.to_string())),
                Action::Failed(m) => report.failed.push(note(m)),
                // Not every record shows yet: nothing was asked of the CA.
                _ => {}
            }
        }
        Ok(())
    }
}
