//! ACME accounts (AC-1) through the engine: the rules (domain::acme), the CA (ca::acme), the
//! store, in that order, so nothing is stored for an account the CA did not create.
use super::Engine;
use crate::ca::acme::{self, Failure};
use crate::domain::acme::{account_request, check_eab, check_terms, AcmeAccount};
use crate::domain::refusal::{Field, Refusal};
use crate::store::StoreError;

/// What `acme account add` asks for.
pub struct AccountSpec {
    pub name: String,
    pub directory: String,
    pub contacts: Vec<String>,
    pub root_pem: Option<String>,
    /// External Account Binding: key id and HMAC key (decoded); one without the other is
    /// refused by the rule.
    pub eab_kid: Option<String>,
    pub eab_key: Option<zeroize::Zeroizing<Vec<u8>>>,
    pub agree_tos: bool,
}

#[derive(Debug)]
pub enum AcmeError {
    Refused(Refusal),
    Unreachable(String),
    Store(StoreError),
}

impl From<StoreError> for AcmeError {
    fn from(e: StoreError) -> Self {
        AcmeError::Store(e)
    }
}

impl From<Refusal> for AcmeError {
    fn from(r: Refusal) -> Self {
        AcmeError::Refused(r)
    }
}

impl Engine {
    pub fn add_acme_account(&self, spec: &AccountSpec) -> Result<AcmeAccount, AcmeError> {
        let req = account_request(&spec.name, &spec.directory, &spec.contacts)?;
        if self.store.acme_account(&req.name)?.is_some() {
            return Err(Refusal::new(
                "AC-1",
                Field::Name,
                format!("an ACME account named {} exists", req.name),
            )
            .into());
        }
        let info =
            acme::directory_info(&req.directory_url, spec.root_pem.as_deref()).map_err(failure)?;
        check_terms(info.terms_of_service.as_deref(), spec.agree_tos)?;
        check_eab(
            info.external_account_required,
            spec.eab_kid.as_deref(),
            spec.eab_key.is_some(),
        )?;
        let eab = spec
            .eab_kid
            .as_deref()
            .zip(spec.eab_key.as_deref().map(Vec::as_slice));
        let (account_url, credentials) =
            acme::create_account(&req, spec.root_pem.as_deref(), eab).map_err(failure)?;
        let account = AcmeAccount {
            name: req.name,
            directory_url: req.directory_url,
            directory_name: req.directory_name,
            contacts: req.contacts,
            root_pem: spec.root_pem.clone(),
            eab_kid: spec.eab_kid.clone(),
            terms_agreed: info.terms_of_service,
            account_url,
            created_at: self.clock.now(),
        };
        self.store.add_acme_account(&account, &credentials)??;
        Ok(account)
    }
}

/// A CA's problem is a refusal naming AC-5 (type and detail); no answer is "could not run".
fn failure(f: Failure) -> AcmeError {
    match f {
        Failure::Ca(m) => AcmeError::Refused(Refusal::new("AC-5", Field::Domain, m)),
        Failure::Unreachable(m) => AcmeError::Unreachable(m),
    }
}
