//! Effects of resources and deployment (issue #5): the rules decide, `deploy` does the I/O,
//! the store records the result with the certificate's timeline.
use super::Engine;
use crate::app::Action;
use crate::domain::model::TimelineEvent;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::resource::{check_deploy, target_files, ResourceInput};
use crate::store::StoreError;

impl Engine {
    pub(super) fn load_resources(&self) -> Result<Action, StoreError> {
        let resources = self.store.resources()?;
        let holders = resources
            .iter()
            .map(|r| self.store.deployed_cert(&r.id))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Action::ResourcesLoaded(crate::app::hosting::rows(
            resources, holders,
        )))
    }

    pub(super) fn add_resource(&self, input: &ResourceInput) -> Result<Action, StoreError> {
        let id = self.store.new_id()?;
        let r = match crate::domain::resource::validate_resource(input, id, self.clock.now()) {
            Ok(r) => r,
            Err(refusal) => return Ok(Action::Refused(refusal)),
        };
        Ok(match self.store.insert_resource(&r)? {
            Ok(()) => Action::ResourceAdded(Box::new(r)),
            Err(refusal) => Action::Refused(refusal),
        })
    }

    pub(super) fn remove_resource(&self, id_or_name: &str) -> Result<Action, StoreError> {
        Ok(match self.store.resource(id_or_name)? {
            Some(r) if self.store.remove_resource(&r.id)? => Action::ResourceRemoved(r.id),
            _ => Action::Refused(Refusal::new(
                "RESOURCE",
                Field::Id,
                format!("no resource called {id_or_name}"),
            )),
        })
    }

    /// Deploys `cert_id` to a resource (id or name): checked, carried out, recorded.
    pub(super) fn deploy(
        &self,
        cert_id: &str,
        resource: &str,
        allow_expired: bool,
    ) -> Result<Action, StoreError> {
        let refuse = |m: String| Ok(Action::Refused(Refusal::new("DEPLOY", Field::Id, m)));
        let Some(cert) = self.store.get(cert_id)? else {
            return refuse(format!("no certificate with id {cert_id}"));
        };
        let Some(resource) = self.store.resource(resource)? else {
            return refuse(format!("no resource called {resource}"));
        };
        let now = self.clock.now();
        let key = self.store.private_key_pem(&cert.id)?;
        if let Err(r) = check_deploy(&cert, key.as_deref(), allow_expired, now) {
            return Ok(Action::Refused(r));
        }
        let key = key.expect("checked");
        let files = target_files(&cert, &key, &resource);
        let expected = cert
            .x509
            .as_ref()
            .map(|x| x.fingerprint_sha256.clone())
            .unwrap_or_default();
        let previous = match self.store.deployed_cert(&resource.id)? {
            Some(id) => self
                .store
                .get(&id)?
                .and_then(|c| c.x509.map(|x| x.fingerprint_sha256)),
            None => None,
        };
        let record = crate::deploy::deploy(
            &resource,
            &cert.id,
            &files,
            &expected,
            previous.as_deref(),
            now,
        );
        let event = TimelineEvent {
            at: now,
            kind: "deploy".into(),
            message: record.summary(&resource.name),
        };
        self.store.record_deploy(&record, &event)?;
        Ok(Action::Deployed(Box::new((record, resource.name))))
    }
}
