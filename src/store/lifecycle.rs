//! Reads for revocation and reissue (SPEC §6, §8): revocations, the CA's revocation list,
//! reissues by original, and what an open reissue is to certify.
use super::{
    cert_row, db_err, Store, StoreError, CERTS, CRL, REISSUES, REISSUE_REQUESTS, REVOCATIONS,
    REVOCATIONS_OPEN,
};
use crate::domain::model::Certificate;
use crate::domain::reissue::ReissueRequest;
use crate::domain::revocation::{CrlEntry, Revocation};
use redb::{ReadableDatabase, ReadableTable};

impl Store {
    pub fn revocation(&self, id: &str) -> Result<Option<Revocation>, StoreError> {
        Ok(self.revocations_many(std::iter::once(id))?.remove(0))
    }

    pub fn revocations_many<'a>(
        &self,
        ids: impl Iterator<Item = &'a str>,
    ) -> Result<Vec<Option<Revocation>>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(REVOCATIONS).map_err(db_err)?;
        ids.map(|id| match t.get(id).map_err(db_err)? {
            Some(v) => self.records.decode(v.value()).map(Some),
            None => Ok(None),
        })
        .collect()
    }

    /// Revocations still under way, with their records (the Validation queue shows them).
    pub fn open_revocations(&self) -> Result<Vec<(Certificate, Revocation)>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let open = r.open_table(REVOCATIONS_OPEN).map_err(db_err)?;
        let t = r.open_table(REVOCATIONS).map_err(db_err)?;
        let certs = r.open_table(CERTS).map_err(db_err)?;
        let mut out = Vec::new();
        for row in open.iter().map_err(db_err)? {
            let id = row.map_err(db_err)?.0.value().to_string();
            let Some(v) = t.get(id.as_str()).map_err(db_err)? else {
                continue;
            };
            let rev: Revocation = self.records.decode(v.value())?;
            if let Some(c) = certs.get(id.as_str()).map_err(db_err)? {
                out.push((cert_row::decode(&self.records, &id, c.value())?, rev));
            }
        }
        Ok(out)
    }

    /// Every reissue ordered from `original`, in id order.
    pub fn reissues_of(&self, original: &str) -> Result<Vec<Certificate>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let idx = r.open_table(REISSUES).map_err(db_err)?;
        let certs = r.open_table(CERTS).map_err(db_err)?;
        let mut out = Vec::new();
        for row in idx
            .range((original, "")..=(original, "\u{10ffff}"))
            .map_err(db_err)?
        {
            let (k, _) = row.map_err(db_err)?;
            if let Some(c) = certs.get(k.value().1).map_err(db_err)? {
                out.push(cert_row::decode(&self.records, k.value().1, c.value())?);
            }
        }
        Ok(out)
    }

    /// Records with an open reissue, i.e. `reissuing` (RI-3, RI-4).
    pub fn reissuing(&self) -> Result<Vec<crate::domain::model::CertSummary>, StoreError> {
        // Only an original with a reissue can be reissuing: read those through the reissue
        // index instead of every summary (a reissue is rare; the store may hold a million).
        let originals: Vec<String> = {
            let r = self.db.begin_read().map_err(db_err)?;
            let idx = r.open_table(REISSUES).map_err(db_err)?;
            let mut out: Vec<String> = Vec::new();
            for row in idx.iter().map_err(db_err)? {
                let original = row.map_err(db_err)?.0.value().0.to_string();
                if out.last() != Some(&original) {
                    out.push(original);
                }
            }
            out
        };
        Ok(self
            .get_many(originals.iter().map(String::as_str))?
            .into_iter()
            .flatten()
            .map(|c| c.summary())
            .filter(|s| s.status == crate::domain::model::Status::Reissuing)
            .collect())
    }

    pub fn reissue_request(&self, id: &str) -> Result<Option<ReissueRequest>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(REISSUE_REQUESTS).map_err(db_err)?;
        let v = match t.get(id).map_err(db_err)? {
            Some(v) => Some(self.records.decode(v.value())?),
            None => None,
        };
        Ok(v)
    }

    /// The CRL entries of one issuer, in serial order.
    pub fn crl_entries(&self, issuer: &str) -> Result<Vec<CrlEntry>, StoreError> {
        let r = self.db.begin_read().map_err(db_err)?;
        let t = r.open_table(CRL).map_err(db_err)?;
        let mut out = Vec::new();
        for row in t
            .range((issuer, "")..=(issuer, "\u{10ffff}"))
            .map_err(db_err)?
        {
            out.push(self.records.decode(row.map_err(db_err)?.1.value())?);
        }
        Ok(out)
    }
}
