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

impl Engine {
    /// Forgets an account and its key (AC-1), not while certificates it issued are stored unless
    /// `force` (AC-6).
    pub fn remove_acme_account(&self, name: &str, force: bool) -> Result<(), AcmeError> {
        let exists = self.store.acme_account(name)?.is_some();
        let issued = self.store.acme_certs_of(name)?;
        crate::domain::acme::check_account_removable(name, exists, &issued, force)?;
        self.store.remove_acme_account(name)?;
        Ok(())
    }
}

/// A CA's problem is a refusal naming AC-5 (type and detail); no answer is "could not run".
fn failure(f: Failure) -> AcmeError {
    match f {
        Failure::Ca(m) => AcmeError::Refused(Refusal::new("AC-5", Field::Domain, m)),
        Failure::Unreachable(m) => AcmeError::Unreachable(m),
    }
}

/// What `apply --ca ACCOUNT` asks for.
pub struct OrderRequest {
    pub account: String,
    pub domain: String,
    pub sans: Vec<String>,
    pub key: crate::domain::reissue::KeyChoice,
    pub solver: crate::ca::acme::order::Solver,
    pub profile: Option<String>,
    pub name: Option<String>,
    pub tags: Vec<String>,
    pub project: Option<String>,
    /// AC-5: the whole order against the staging twin (or the directory itself), nothing stored.
    pub dry_run: bool,
    /// How long certdeck's own lookup waits for a new TXT record to show (AC-3).
    pub dns_wait: std::time::Duration,
}

/// What an order ended with.
pub enum Ordered {
    Stored(Box<crate::domain::model::Certificate>),
    /// A dry run: what would have been stored.
    DryRun {
        directory: String,
        issuer: String,
        not_after: crate::domain::time::Timestamp,
        domains: Vec<String>,
    },
}

impl Engine {
    /// AC-2, AC-3: orders from the account's CA, sees the order through (http-01) and stores the
    /// certificate with its sealed key as `issued`, its brand the directory's name.
    pub fn acme_order(&self, req: &OrderRequest) -> Result<Ordered, AcmeError> {
        use crate::ca::acme::order::{obtain, OrderSpec, Published};
        use crate::domain::rules::upload::{
            new_uploaded_certificate, validate_upload, UploadInput,
        };
        let http01 = !matches!(req.solver, crate::ca::acme::order::Solver::DnsHook(_));
        let names = crate::domain::acme::order_names(&req.domain, &req.sans, http01)?;
        crate::domain::acme::check_key_type(req.key)?;
        let Some(account) = self.store.acme_account(&req.account)? else {
            return Err(Refusal::new(
                "AC-2",
                Field::Name,
                format!(
                    "no ACME account named {} (certdeck acme account add {} --directory …)",
                    req.account, req.account
                ),
            )
            .into());
        };
        let credentials = self.store.acme_credentials(&account.name)?.ok_or_else(|| {
            AcmeError::Refused(Refusal::new(
                "AC-1",
                Field::Name,
                format!("the key of ACME account {} is missing", account.name),
            ))
        })?;
        let http_override = crate::validate::http_override();
        // AC-3: certdeck's own lookup of what was published, through the same paths (and the
        // same --resolver / CERTDECK_VALIDATION_HTTP settings) as validation checks.
        let dns_wait = req.dns_wait;
        let own_check = move |p: &Published| match p {
            Published::Http {
                domain,
                token,
                key_authorization,
            } => {
                let url = format!("http://{domain}/.well-known/acme-challenge/{token}");
                match crate::validate::fetch(&url, http_override) {
                    crate::domain::validation::Fetched::Body { status: 200, body }
                        if body.trim() == key_authorization =>
                    {
                        Ok(())
                    }
                    crate::domain::validation::Fetched::Body { status, .. } => {
                        Err(format!("{url} answered HTTP {status} without the token"))
                    }
                    crate::domain::validation::Fetched::Failed(m) => Err(m),
                }
            }
            Published::Dns { name, value, .. } => {
                // A new record takes a moment to reach the resolver: look again, bounded.
                let resolver = crate::validate::dns::resolver()?;
                let deadline = std::time::Instant::now() + dns_wait;
                loop {
                    let seen = crate::validate::dns::lookup_txt(name, resolver);
                    if matches!(&seen, Ok(values) if values.iter().any(|v| v == value)) {
                        return Ok(());
                    }
                    if std::time::Instant::now() >= deadline {
                        return Err(match seen {
                            Ok(values) => format!(
                                "{resolver} does not show TXT {name} = {value} after {} s (it has {values:?})",
                                dns_wait.as_secs()
                            ),
                            Err(e) => e,
                        });
                    }
                    std::thread::sleep(std::time::Duration::from_secs(1));
                }
            }
        };
        // AC-5: a dry run of a production directory goes to its staging twin, with a throwaway
        // account there (the terms were agreed for the production twin).
        let dry_directory = crate::domain::acme::dry_run_directory(&account.directory_url);
        let credentials = if req.dry_run && dry_directory != account.directory_url {
            let twin = crate::domain::acme::AccountRequest {
                name: format!("{}-dry-run", account.name),
                directory_url: dry_directory.to_string(),
                directory_name: account.directory_name.clone(),
                contacts: account.contacts.clone(),
            };
            acme::create_account(&twin, account.root_pem.as_deref(), None)
                .map_err(failure)?
                .1
        } else {
            credentials
        };
        let key = super::keygen::generate(req.key)
            .map_err(|m| AcmeError::Unreachable(format!("generating the key: {m}")))?;
        let obtained = obtain(
            &OrderSpec {
                credentials: &credentials,
                key_pem: &key.pkcs8_pem,
                root_pem: account.root_pem.as_deref(),
                domains: &names,
                key: req.key,
                solver: &req.solver,
                profile: req.profile.as_deref(),
            },
            &own_check,
        )
        .map_err(failure)?;
        // The chain and key are read by the same rules as an upload; then the record says where
        // it came from.
        let now = self.clock.now();
        let upload = UploadInput {
            name: req.name.clone(),
            cert: obtained.chain_pem.clone().into_bytes(),
            key: Some(obtained.key_pem.as_bytes().to_vec()),
            tags: req.tags.clone(),
            project: req.project.clone(),
            ..Default::default()
        };
        // A public CA's chain ends at a Mozilla root: complete (U-2), no warning.
        let anchors = crate::domain::cert::mozilla_anchor_subjects();
        let v = validate_upload(&upload, now, &anchors)?;
        if req.dry_run {
            let leaf = &v.leaf().facts;
            return Ok(Ordered::DryRun {
                directory: dry_directory.to_string(),
                issuer: leaf.issuer.clone(),
                not_after: leaf.not_after,
                domains: leaf.sans.clone(),
            });
        }
        let id = self.store.new_id()?;
        let (mut cert, secrets, mut event) = new_uploaded_certificate(&v, id, now);
        cert.source = crate::domain::model::Source::Issued;
        cert.brand = account.directory_name.clone();
        event.kind = "issued".into();
        event.message = format!(
            "issued by {} through ACME account {} (order {})",
            account.directory_name, account.name, obtained.order_url
        );
        let origin = crate::domain::acme::AcmeOrigin {
            account: account.name.clone(),
            order_url: obtained.order_url.clone(),
        };
        let rec = crate::store::NewRecord {
            cert,
            secrets,
            event,
        };
        self.store.insert_acme(&rec, &origin)??;
        Ok(Ordered::Stored(Box::new(rec.cert)))
    }
}
