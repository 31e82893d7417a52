//! Effects of the More menu and revocation (issue #4): load what the domain rules need, let them
//! decide, record the result.
use super::Engine;
use crate::app::action::{CsrSource, ReissueSpec};
use crate::app::Action;
use crate::domain::model::{Certificate, Status};
use crate::domain::refusal::{Field, Refusal};
use crate::domain::reissue::{CsrChoice, KeyChoice};
use crate::domain::revocation::Reason;
use crate::domain::rules::reissue::ReissueInput;
use crate::domain::rules::revoke::{self, RevokeInput};
use crate::store::StoreError;
use std::path::Path;

impl Engine {
    pub(super) fn revoking(&self, id: &str) -> Result<bool, StoreError> {
        Ok(self
            .store
            .get(id)?
            .is_some_and(|c| c.status == Status::Revoking))
    }

    /// The issued reissues of `original` (RV-4 revokes them with it).
    fn live_reissues(&self, original: &str) -> Result<Vec<Certificate>, StoreError> {
        Ok(self
            .store
            .reissues_of(original)?
            .into_iter()
            .filter(|c| matches!(c.status, Status::Issued | Status::ToBeRenewed))
            .collect())
    }

    pub(super) fn load_more(&self, id: &str) -> Result<Action, StoreError> {
        Ok(match self.store.get(id)? {
            Some(cert) => {
                let order = self.store.order(id)?;
                let key = crate::domain::resource::StoredKey::of(
                    self.store.private_key_pem(id)?.as_deref(),
                );
                let acme = match self.store.acme_origin(id)? {
                    Some(_) => Some(self.store.acme_renewal(id)?.is_some()),
                    None => None,
                };
                Action::MoreLoaded(Box::new((cert, order, key, acme)))
            }
            None => Action::Failed(format!("certificate {id} is no longer in the store")),
        })
    }

    pub(super) fn plan_revocation(&self, id: &str) -> Result<Action, StoreError> {
        let Some(cert) = self.store.get(id)? else {
            return Ok(no_such(id));
        };
        if let Some(origin) = self.store.acme_origin(id)? {
            let Some(account) = self.store.acme_account(&origin.account)? else {
                return Ok(Action::Refused(Refusal::new(
                    "AC-6",
                    Field::Id,
                    format!("{id} was issued through ACME account {}, which certdeck no longer has: add it again with the same key, or revoke it with the CA's own tools", origin.account),
                )));
            };
            return Ok(
                match crate::domain::acme::revocation_plan(&cert, &account, self.clock.now()) {
                    Ok(plan) => Action::RevocationPlanned(Box::new(plan)),
                    Err(r) => Action::Refused(r),
                },
            );
        }
        let order = self.store.order(id)?;
        let family = self.live_reissues(id)?;
        let zones = self.store.managed_zones()?;
        Ok(
            match revoke::plan(&cert, order.as_ref(), &family, &zones, self.clock.now()) {
                Ok(plan) => Action::RevocationPlanned(Box::new(plan)),
                Err(r) => Action::Refused(r),
            },
        )
    }

    pub(super) fn submit_revocation(
        &self,
        id: &str,
        reason: Reason,
        document: Option<&Path>,
    ) -> Result<Action, StoreError> {
        let Some(cert) = self.store.get(id)? else {
            return Ok(no_such(id));
        };
        if let Some(origin) = self.store.acme_origin(id)? {
            return self.revoke_at_acme_ca(&cert, &origin.account, reason);
        }
        let document = match document.map(read_document).transpose() {
            Ok(d) => d,
            Err(msg) => return Ok(Action::Failed(msg)),
        };
        let order = self.store.order(id)?;
        let family = self.live_reissues(id)?;
        let zones = self.store.managed_zones()?;
        let tokens = self.challenge_tokens(cert.domains.len())?;
        let input = RevokeInput { reason, document };
        let now = self.clock.now();
        let fired =
            match revoke::submit(&cert, order.as_ref(), &family, &input, &zones, &tokens, now) {
                Ok(f) => f,
                Err(r) => return Ok(Action::Refused(r)),
            };
        let message = fired.event.message.clone();
        let ids: Vec<String> = std::iter::once(id.to_string())
            .chain(fired.others.iter().map(|c| c.id.clone()))
            .collect();
        self.store.apply_effect(id, &fired)?;
        let records = self
            .store
            .get_many(ids.iter().map(String::as_str))?
            .into_iter()
            .flatten()
            .map(|c| c.summary())
            .collect();
        Ok(Action::RevocationSubmitted { records, message })
    }

    /// AC-6: an ACME certificate is revoked by its CA, the request signed by the account key;
    /// the record follows only once the CA has said yes.
    fn revoke_at_acme_ca(
        &self,
        cert: &crate::domain::model::Certificate,
        account_name: &str,
        reason: Reason,
    ) -> Result<Action, StoreError> {
        let now = self.clock.now();
        if let Err(r) = crate::domain::acme::check_revocable(cert, now) {
            return Ok(Action::Refused(r));
        }
        let (Some(account), Some(credentials)) = (
            self.store.acme_account(account_name)?,
            self.store.acme_credentials(account_name)?,
        ) else {
            return Ok(Action::Refused(Refusal::new(
                "AC-6",
                Field::Id,
                format!("{} was issued through ACME account {account_name}, which certdeck no longer has: add it again with the same key, or revoke it with the CA's own tools", cert.id),
            )));
        };
        let Some(leaf) = cert.chain_der.first() else {
            return Ok(Action::Failed(format!(
                "{} has no certificate to revoke",
                cert.id
            )));
        };
        if let Err(f) =
            crate::ca::acme::revoke(&credentials, account.root_pem.as_deref(), leaf, reason)
        {
            return Ok(match f {
                crate::ca::acme::Failure::Unreachable(m) => Action::Failed(m),
                crate::ca::acme::Failure::Local { rule, message } => {
                    Action::Refused(Refusal::new(rule, Field::Id, message))
                }
                ca => Action::Refused(Refusal::new("AC-5", Field::Id, ca.to_string())),
            });
        }
        let fired = crate::domain::acme::revoked(cert, reason, account_name, now);
        let message = fired.event.message.clone();
        self.store.apply_effect(&cert.id, &fired)?;
        let records = self
            .store
            .get(&cert.id)?
            .map(|c| vec![c.summary()])
            .unwrap_or_default();
        Ok(Action::RevocationSubmitted { records, message })
    }

    /// RV-6 (c): checks a revocation's challenges like an order's.
    /// D-1: what cancelling `id`'s review would do (for the confirmation), with what its
    /// ledger says was paid for it.
    pub fn plan_cancel(
        &self,
        id: &str,
    ) -> Result<Result<crate::domain::rules::cancel::CancelPlan, Refusal>, StoreError> {
        let Some(cert) = self.store.get(id)? else {
            return Ok(Err(Refusal::new(
                "D-1",
                Field::Id,
                format!("no certificate with id {id}"),
            )));
        };
        let paid: i64 = self
            .store
            .ledger(usize::MAX)?
            .iter()
            .filter(|e| e.cert_id.as_deref() == Some(id))
            .map(|e| match e.kind {
                crate::domain::account::LedgerKind::Deduction => e.amount.0,
                crate::domain::account::LedgerKind::Refund => -e.amount.0,
                crate::domain::account::LedgerKind::TopUp => 0,
            })
            .sum();
        Ok(crate::domain::rules::cancel::check_cancel(
            &cert,
            crate::domain::account::Money(paid),
        ))
    }

    /// D-1: cancels `id`'s review (after the confirmation `plan_cancel` gave): `cancelled`, its
    /// fee refunded, in one transaction.
    pub fn cancel_review(&self, id: &str) -> Result<Action, StoreError> {
        let plan = match self.plan_cancel(id)? {
            Ok(p) => p,
            Err(r) => return Ok(Action::Refused(r)),
        };
        let Some(cert) = self.store.get(id)? else {
            return Ok(Action::Failed(format!("{id} is no longer in the store")));
        };
        let fired = crate::domain::rules::cancel::cancelled(&cert, &plan, self.clock.now());
        self.record(id, Ok(fired))
    }

    /// T-2: the refusal for acting on an order or revocation whose validation deadline has
    /// passed. When no tick has failed it yet, a catch-up tick does now, as it would have at the
    /// deadline (work due earlier runs first, dated at its due time).
    pub(super) fn past_deadline(&self, id: &str) -> Result<Option<Action>, StoreError> {
        use crate::domain::rules::deadline::{order_open, revocation_open, Open};
        let now = self.clock.now();
        let Some(cert) = self.store.get(id)? else {
            return Ok(None);
        };
        let open = if self.revoking(id)? {
            match self.store.revocation(id)? {
                Some(r) => revocation_open(&r, now),
                None => Open::Yes,
            }
        } else {
            match self.store.order(id)? {
                Some(o) => order_open(cert.status, &o, now),
                None => Open::Yes,
            }
        };
        Ok(match open {
            Open::Yes => None,
            Open::Failed(r) => Some(Action::Refused(r)),
            Open::FailsNow(r) => {
                self.tick()?;
                Some(Action::Refused(r))
            }
        })
    }

    pub(super) fn check_revocation(&self, id: String) -> Result<Action, StoreError> {
        let (Some(cert), Some(rev)) = (self.store.get(&id)?, self.store.revocation(&id)?) else {
            return Ok(Action::Failed(format!(
                "{id} has no revocation to validate"
            )));
        };
        let results = crate::validate::check_all(&rev.challenges, crate::validate::http_override());
        Ok(Action::ValidationChecked {
            id,
            order: Box::new(rev.as_order_view()),
            results,
            reissue: false,
            revocation: Some(Box::new((rev, cert.cert_type))),
        })
    }

    /// RI-1..RI-7: orders a reissue. The rules run before any key is generated.
    pub(super) fn reissue(&self, spec: ReissueSpec) -> Result<Action, StoreError> {
        use crate::domain::rules::reissue::{check_reissuable, reissue};
        let id = spec.id.as_str();
        let Some(cert) = self.store.get(id)? else {
            return Ok(Action::Refused(Refusal::new(
                "RI-1",
                Field::Id,
                format!("no certificate with id {id}"),
            )));
        };
        let order = self.store.order(id)?;
        let reissues = self.store.reissues_of(id)?;
        let reissuing = self.store.reissuing()?;
        let now = self.clock.now();
        if let Err(r) = check_reissuable(&cert, &reissues, &reissuing, now) {
            return Ok(Action::Refused(r));
        }
        let input = match self.reissue_input(&cert, &spec)? {
            Ok(i) => i,
            Err(r) => return Ok(Action::Refused(r)),
        };
        let new_id = self.store.new_id()?;
        let tokens = self.challenge_tokens(cert.domains.len())?;
        let zones = self.store.managed_zones()?;
        let fired = match reissue(
            &cert,
            order.as_ref(),
            &reissues,
            &reissuing,
            &input,
            new_id.clone(),
            &tokens,
            &zones,
            now,
        ) {
            Ok(f) => f,
            Err(r) => return Ok(Action::Refused(r)),
        };
        let message = fired.event.message.clone();
        self.store.apply_effect(id, &fired)?;
        let records = self
            .store
            .get_many([id, new_id.as_str()].into_iter())?
            .into_iter()
            .flatten()
            .map(|c| c.summary())
            .collect();
        Ok(Action::Reissued { records, message })
    }

    /// RI-6: the public key to certify and the key certdeck keeps, from the user's choice.
    fn reissue_input(
        &self,
        cert: &Certificate,
        spec: &ReissueSpec,
    ) -> Result<Result<ReissueInput, Refusal>, StoreError> {
        let refuse = |m: String| Ok(Err(Refusal::new("RI-6", Field::Cert, m)));
        let mut input = ReissueInput {
            csr: CsrChoice::Original,
            spki_der: Vec::new(),
            key_pem: None,
            key_encrypted: false,
            csr_domains: Vec::new(),
            reason: spec.reason.clone(),
        };
        match &spec.csr {
            CsrSource::Original => {
                let Some(leaf) = cert.chain_der.first() else {
                    return refuse(format!(
                        "{} has no certificate to take the key from",
                        cert.id
                    ));
                };
                match x509_parser::parse_x509_certificate(leaf) {
                    Ok((_, x)) => input.spki_der = x.tbs_certificate.subject_pki.raw.to_vec(),
                    Err(e) => return refuse(format!("the stored certificate does not parse: {e}")),
                }
                input.key_pem = self.store.private_key_pem(&cert.id)?;
            }
            CsrSource::Generate(kind) => {
                let sm2_cert = cert.standard == crate::domain::model::Standard::Sm2;
                if sm2_cert != (*kind == KeyChoice::Sm2) {
                    return refuse(format!(
                        "{} is an {} certificate: its reissue takes {}",
                        cert.id,
                        cert.standard.as_str(),
                        if sm2_cert {
                            "an SM2 key (generate:sm2)"
                        } else {
                            "an RSA or ECDSA key, not SM2"
                        }
                    ));
                }
                let key = match super::keygen::generate(*kind) {
                    Ok(k) => k,
                    Err(e) => return refuse(format!("key generation failed: {e}")),
                };
                input.csr = CsrChoice::Generate(*kind);
                input.spki_der = key.spki_der;
                input.key_pem = Some(key.pkcs8_pem);
            }
            CsrSource::Pasted(text) => {
                let (spki, names) = match crate::domain::reissue::parse_csr(text) {
                    Ok(p) => p,
                    Err(r) => return Ok(Err(r)),
                };
                if spec.key_password.is_some() {
                    return refuse(
                        "the key of a pasted CSR stays with you: a password for it does not apply"
                            .into(),
                    );
                }
                input.csr = CsrChoice::Pasted;
                input.spki_der = spki;
                input.csr_domains = names;
            }
        }
        if let (Some(pw), Some(pem)) = (&spec.key_password, &input.key_pem) {
            if pw.is_empty() {
                return refuse("the key password is empty".into());
            }
            match super::keygen::encrypt_pkcs8(pem, pw) {
                Ok(enc) => {
                    input.key_pem = Some(enc);
                    input.key_encrypted = true;
                }
                Err(e) => return refuse(format!("the key cannot be password-protected: {e}")),
            }
        }
        Ok(Ok(input))
    }

    /// The sandbox CA's current CRL (DER) for one hierarchy, listing every certificate it
    /// revoked.
    pub fn sandbox_crl(&self, standard: crate::domain::model::Standard) -> Result<Vec<u8>, String> {
        let ca = self.sandbox().map_err(|e| e.to_string())?;
        let issuer = ca.issuer_name(standard)?;
        let entries = self.store.crl_entries(&issuer).map_err(|e| e.to_string())?;
        ca.crl(standard, &entries, self.clock.now())
    }
}

fn no_such(id: &str) -> Action {
    Action::Refused(Refusal::new(
        "RV-1",
        Field::Id,
        format!("no certificate with id {id}"),
    ))
}

/// Reads an application file or letter, at most one byte over the 1.4 MB limit (the rule then
/// names the size).
pub(super) fn read_document(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read;
    let limit = crate::domain::letter::MAX_LETTER_BYTES as u64 + 1;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(limit).read_to_end(&mut bytes))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(bytes)
}
