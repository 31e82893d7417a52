//! CA backends: the embedded sandbox CA now, ACME next. The engine asks a backend to issue once
//! an order's review ends (RM-3).
pub mod acme;
/// Certificate and key building (rcgen, and a small SM2 builder): the sandbox CA, key
/// generation, the demo and the tests.
pub mod pki;
pub mod sandbox;
mod sm2cert;

use crate::domain::time::Timestamp;

pub struct IssueRequest {
    pub domains: Vec<String>,
    /// SM2 certificates come from the SM2 hierarchy.
    pub standard: crate::domain::model::Standard,
    /// The SubjectPublicKeyInfo (DER) to certify; `None`: the backend makes a new key.
    pub spki_der: Option<Vec<u8>>,
    pub not_before: Timestamp,
    pub not_after: Timestamp,
}

/// What a backend hands back: the chain, leaf first, and the leaf's new private key.
pub struct IssuedChain {
    pub chain_der: Vec<Vec<u8>>,
    /// The new key, when the backend made one.
    pub key_pem: Option<String>,
}

pub trait CaBackend {
    fn name(&self) -> &str;
    fn issue(&self, req: &IssueRequest) -> Result<IssuedChain, String>;
}
