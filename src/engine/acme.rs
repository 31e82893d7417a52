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
    /// The CA's `rateLimited` (AC-5), with its Retry-After header as sent.
    RateLimited {
        refusal: Refusal,
        retry_after: Option<String>,
    },
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

/// A CA's problem is a refusal naming AC-5 (type and detail, and when a rate limit allows the
/// next attempt); no answer is "could not run".
pub(super) fn failure(f: Failure) -> AcmeError {
    match f {
        Failure::Unreachable(m) => AcmeError::Unreachable(m),
        Failure::RateLimited {
            message,
            retry_after,
        } => AcmeError::RateLimited {
            refusal: Refusal::new(
                "AC-5",
                Field::Domain,
                Failure::RateLimited {
                    message,
                    retry_after: retry_after.clone(),
                }
                .to_string(),
            ),
            retry_after,
        },
        Failure::Local { rule, message } => {
            AcmeError::Refused(Refusal::new(rule, Field::Domain, message))
        }
        ca => AcmeError::Refused(Refusal::new("AC-5", Field::Domain, ca.to_string())),
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
    /// dns-01 by hand: the order is open, waiting for these records (AC-3).
    Pending {
        cert: Box<crate::domain::model::Certificate>,
        records: Vec<crate::domain::acme::TxtRecord>,
        deadline: Option<crate::domain::time::Timestamp>,
    },
    /// A dry run: what would have been stored.
    DryRun {
        directory: String,
        issuer: String,
        not_after: crate::domain::time::Timestamp,
        domains: Vec<String>,
    },
}

/// How long certdeck's own lookup waits for a TXT record during a renewal (no one is watching).
pub(super) const RENEWAL_DNS_WAIT: std::time::Duration = std::time::Duration::from_secs(120);

/// AC-3: certdeck's own lookup of what was published, through the same paths (and the same
/// --resolver / CERTDECK_VALIDATION_HTTP settings) as validation checks.
fn own_check(
    dns_wait: std::time::Duration,
) -> impl Fn(&crate::ca::acme::order::Published) -> Result<(), String> + Sync {
    use crate::ca::acme::order::Published;
    let http_override = crate::validate::http_override();
    move |p: &Published| match p {
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
    }
}

/// An account with its opened credentials.
pub(super) struct Signer {
    pub account: AcmeAccount,
    pub credentials: zeroize::Zeroizing<Vec<u8>>,
}

/// A certificate the CA issued, read by the upload rules, not stored yet.
pub(super) struct Issued {
    pub upload: crate::domain::rules::upload::ValidatedUpload,
    pub order_url: String,
}

impl Engine {
    /// The account named `name` with its key, or the AC-1/AC-2 refusal.
    pub(super) fn signer(&self, name: &str, rule: &'static str) -> Result<Signer, AcmeError> {
        let Some(account) = self.store.acme_account(name)? else {
            return Err(Refusal::new(
                rule,
                Field::Name,
                format!(
                    "no ACME account named {name} (certdeck acme account add {name} --directory …)"
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
        Ok(Signer {
            account,
            credentials,
        })
    }

    /// AC-2, AC-3: one order seen through with a key the engine generates, the chain read by the
    /// same rules as an upload (a public CA's chain ends at a Mozilla root: complete, U-2).
    pub(super) fn obtain_acme(
        &self,
        signer: &Signer,
        ordered: &crate::domain::acme_renewal::OrderedAs,
        replaces: Option<&str>,
        dns_wait: std::time::Duration,
        upload: crate::domain::rules::upload::UploadInput,
    ) -> Result<Issued, AcmeError> {
        use crate::ca::acme::order::{obtain, OrderSpec};
        let key = super::keygen::generate(ordered.key)
            .map_err(|m| AcmeError::Unreachable(format!("generating the key: {m}")))?;
        let obtained = obtain(
            &OrderSpec {
                credentials: &signer.credentials,
                key_pem: &key.pkcs8_pem,
                root_pem: signer.account.root_pem.as_deref(),
                domains: &ordered.domains,
                key: ordered.key,
                solver: &ordered.solver,
                profile: ordered.profile.as_deref(),
                replaces,
            },
            &own_check(dns_wait),
        )
        .map_err(failure)?;
        let upload = crate::domain::rules::upload::UploadInput {
            cert: obtained.chain_pem.clone().into_bytes(),
            key: Some(obtained.key_pem.as_bytes().to_vec()),
            ..upload
        };
        let v = self.validate_with_anchors(&upload)??;
        Ok(Issued {
            upload: v,
            order_url: obtained.order_url,
        })
    }

    /// Stores what the CA issued as `issued`, its brand the directory's name, with its renewal
    /// plan (AC-4; ARI asked at once when the directory offers it). `renewed`: the certificate
    /// it renews, which stops renewing by itself (its hostings take the new one, AC-7).
    pub(super) fn store_acme(
        &self,
        signer: &Signer,
        issued: &Issued,
        ordered: crate::domain::acme_renewal::OrderedAs,
        auto_renew: bool,
        renewed: Option<&crate::domain::model::Certificate>,
    ) -> Result<crate::domain::model::Certificate, AcmeError> {
        use crate::domain::rules::upload::new_uploaded_certificate;
        let now = self.clock.now();
        let account = &signer.account;
        let id = self.store.new_id()?;
        let (mut cert, secrets, mut event) = new_uploaded_certificate(&issued.upload, id, now);
        cert.source = crate::domain::model::Source::Issued;
        cert.brand = account.directory_name.clone();
        cert.auto_renew = auto_renew;
        event.kind = "issued".into();
        event.message = format!(
            "issued by {} through ACME account {} (order {})",
            account.directory_name, account.name, issued.order_url
        );
        if let Some(old) = renewed {
            cert.renewed_from = Some(old.id.clone());
            cert.name = old.name.clone();
            cert.tags = old.tags.clone();
            cert.project = old.project.clone();
            event.message = format!("{} renews {} (AC-4)", event.message, old.id);
        }
        let ari_id = self
            .ari_offered(account)
            .then(|| {
                cert.chain_der
                    .first()
                    .and_then(|d| crate::domain::acme_renewal::ari_cert_id(d))
            })
            .flatten();
        let plan = crate::domain::acme_renewal::first_plan(
            &cert,
            ordered,
            ari_id,
            super::acme_renewal::draw(),
            now,
        );
        let origin = crate::domain::acme::AcmeOrigin {
            account: account.name.clone(),
            order_url: issued.order_url.clone(),
        };
        let renewed_event = renewed.map(|old| {
            (
                old.id.clone(),
                crate::domain::model::TimelineEvent {
                    at: now,
                    kind: "renewal".into(),
                    message: format!(
                        "renewed by {} from {} (AC-4); a hosting of this certificate deploys the new one (AC-7)",
                        cert.id, account.directory_name
                    ),
                },
            )
        });
        let rec = crate::store::NewRecord {
            cert,
            secrets,
            event,
        };
        let plan = plan.filter(|_| auto_renew);
        self.store
            .insert_acme(&rec, &origin, plan.as_ref(), renewed_event.as_ref())??;
        Ok(rec.cert)
    }

    /// Whether the account's directory offers renewal information (RFC 9773); a directory that
    /// cannot be read now counts as not offering it (the lifetime point still holds).
    /// Remembered for an hour per directory: a fleet's renewals ask once, not once each.
    fn ari_offered(&self, account: &AcmeAccount) -> bool {
        use std::collections::HashMap;
        use std::sync::Mutex;
        use std::time::{Duration, Instant};
        static SEEN: Mutex<Option<HashMap<String, (Instant, bool)>>> = Mutex::new(None);
        let url = &account.directory_url;
        if let Ok(seen) = SEEN.lock() {
            if let Some((at, offered)) = seen.as_ref().and_then(|m| m.get(url)) {
                if at.elapsed() < Duration::from_secs(3600) {
                    return *offered;
                }
            }
        }
        let offered = crate::ca::acme::directory_info(url, account.root_pem.as_deref())
            .map(|d| d.renewal_info);
        if let (Ok(offered), Ok(mut seen)) = (&offered, SEEN.lock()) {
            seen.get_or_insert_with(HashMap::new)
                .insert(url.clone(), (Instant::now(), *offered));
        }
        offered.unwrap_or(false)
    }
}

impl Engine {
    /// AC-2, AC-3: orders from the account's CA, sees the order through and stores the
    /// certificate with its sealed key as `issued`; auto-renewal is on (AC-4).
    pub fn acme_order(&self, req: &OrderRequest) -> Result<Ordered, AcmeError> {
        let names =
            crate::domain::acme::order_names(&req.domain, &req.sans, req.solver.is_http01())?;
        crate::domain::acme::check_key_type(req.key)?;
        let mut signer = self.signer(&req.account, "AC-2")?;
        // AC-5: a dry run of a production directory goes to its staging twin, with a throwaway
        // account there (the terms were agreed for the production twin).
        let dry_directory =
            crate::domain::acme::dry_run_directory(&signer.account.directory_url).to_string();
        if req.dry_run && dry_directory != signer.account.directory_url {
            let twin = crate::domain::acme::AccountRequest {
                name: format!("{}-dry-run", signer.account.name),
                directory_url: dry_directory.clone(),
                directory_name: signer.account.directory_name.clone(),
                contacts: signer.account.contacts.clone(),
            };
            signer.credentials =
                acme::create_account(&twin, signer.account.root_pem.as_deref(), None)
                    .map_err(failure)?
                    .1;
        }
        let ordered = crate::domain::acme_renewal::OrderedAs {
            domains: names,
            solver: req.solver.clone(),
            key: req.key,
            profile: req.profile.clone(),
        };
        if ordered.solver == crate::domain::acme_renewal::Solver::Manual {
            if req.dry_run {
                return Err(Refusal::new(
                    "AC-5",
                    Field::Domain,
                    "--dry-run runs the whole order at once: it needs records certdeck publishes itself (--dns-update, --dns-hook or http-01), not --manual",
                )
                .into());
            }
            return self.place_acme_manual(
                &signer,
                ordered,
                req.name.clone(),
                &req.tags,
                req.project.clone(),
                None,
            );
        }
        let upload = crate::domain::rules::upload::UploadInput {
            name: req.name.clone(),
            tags: req.tags.clone(),
            project: req.project.clone(),
            ..Default::default()
        };
        let issued = self.obtain_acme(&signer, &ordered, None, req.dns_wait, upload)?;
        if req.dry_run {
            let leaf = &issued.upload.leaf().facts;
            return Ok(Ordered::DryRun {
                directory: dry_directory,
                issuer: leaf.issuer.clone(),
                not_after: leaf.not_after,
                domains: leaf.sans.clone(),
            });
        }
        let cert = self.store_acme(&signer, &issued, ordered, true, None)?;
        Ok(Ordered::Stored(Box::new(cert)))
    }
}
