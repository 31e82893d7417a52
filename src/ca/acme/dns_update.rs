//! dns-01 through RFC 2136 dynamic updates signed with TSIG (RFC 8945) to the zone's primary
//! server (AC-3): the zone is found by asking that server for the SOA of each parent of the
//! record's name, the TXT value is added, and deleted (that value only) afterwards. Every
//! exchange is TCP under one deadline.
use crate::domain::tsig::{TsigAlgorithm, TsigKey};
use hickory_proto::op::{update_message, Message, Query, ResponseCode};
use hickory_proto::rr::rdata::tsig::TsigAlgorithm as HickoryAlgorithm;
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{Name, RData, RecordSet, RecordType, TSigner};
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One update or zone lookup, whole.
const EXCHANGE_DEADLINE: Duration = Duration::from_secs(15);
/// A name has at most this many labels to walk up through (RFC 1035 allows 127; real zones are
/// a few deep).
const MAX_LABELS: usize = 16;
/// The challenge record's TTL: short, so a stale value leaves caches quickly.
const TXT_TTL: u32 = 60;

fn fqdn(name: &str) -> Result<Name, String> {
    Name::from_ascii(format!("{}.", name.trim_end_matches('.'))).map_err(|e| format!("{name}: {e}"))
}

fn signer(key: &TsigKey) -> Result<TSigner, String> {
    let algorithm = match key.algorithm {
        TsigAlgorithm::HmacSha256 => HickoryAlgorithm::HmacSha256,
        TsigAlgorithm::HmacSha384 => HickoryAlgorithm::HmacSha384,
        TsigAlgorithm::HmacSha512 => HickoryAlgorithm::HmacSha512,
    };
    TSigner::new(key.secret.to_vec(), algorithm, fqdn(&key.name)?, 300)
        .map_err(|e| format!("TSIG key {}: {e}", key.name))
}

/// The zone `name` belongs to on `server`: the nearest parent the server answers an SOA for
/// with authority.
pub fn find_zone(server: SocketAddr, name: &str) -> Result<Name, String> {
    let deadline = Instant::now() + EXCHANGE_DEADLINE;
    let mut candidate = fqdn(name)?;
    for _ in 0..MAX_LABELS {
        if candidate.is_root() {
            break;
        }
        let mut q = Message::query();
        q.metadata.recursion_desired = false;
        q.add_query(Query::query(candidate.clone(), RecordType::SOA));
        let bytes = q.to_vec().map_err(|e| e.to_string())?;
        let reply = crate::validate::dns::exchange_tcp(server, &bytes, deadline)?;
        let reply = Message::from_vec(&reply).map_err(|e| format!("{server}: {e}"))?;
        let is_zone = reply.metadata.authoritative
            && reply.metadata.response_code == ResponseCode::NoError
            && reply
                .answers
                .iter()
                .any(|r| r.record_type() == RecordType::SOA && r.name == candidate);
        if is_zone {
            return Ok(candidate);
        }
        candidate = candidate.base_name();
    }
    Err(format!(
        "{server} is not the primary server of any zone holding {name} (no authoritative SOA)"
    ))
}

/// Adds (`add`) or deletes the TXT `value` at `name` in `zone` on `server`, signed with `key`;
/// the server's answer must be NOERROR and signed by the same key.
pub fn update(
    server: SocketAddr,
    key: &TsigKey,
    zone: &Name,
    name: &str,
    value: &str,
    add: bool,
) -> Result<(), String> {
    let deadline = Instant::now() + EXCHANGE_DEADLINE;
    let owner = fqdn(name)?;
    if !zone.zone_of(&owner) {
        return Err(format!("{name} is not in zone {zone}"));
    }
    let mut rrset = RecordSet::with_ttl(owner, RecordType::TXT, TXT_TTL);
    rrset.add_rdata(RData::TXT(TXT::new(vec![value.to_string()])));
    let mut message = if add {
        update_message::append(rrset, zone.clone(), false, false)
    } else {
        update_message::delete_by_rdata(rrset, zone.clone(), false)
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let verifier = message
        .finalize(&signer(key)?, now)
        .map_err(|e| format!("signing the update: {e}"))?;
    let bytes = message.to_vec().map_err(|e| e.to_string())?;
    let reply = crate::validate::dns::exchange_tcp(server, &bytes, deadline)?;
    let parsed = Message::from_vec(&reply).map_err(|e| format!("{server}: {e}"))?;
    let what = if add { "adding" } else { "removing" };
    match parsed.metadata.response_code {
        ResponseCode::NoError => {}
        ResponseCode::NotAuth | ResponseCode::Refused => {
            return Err(format!(
                "{server} refused {what} TXT {name} ({}): is key {} allowed to update zone {zone}?",
                parsed.metadata.response_code, key.name
            ))
        }
        other => return Err(format!("{server} answered {other} to {what} TXT {name}")),
    }
    if let Some(mut v) = verifier {
        v.verify(&reply).map_err(|e| {
            format!(
                "{server}: the answer is not signed by key {}: {e}",
                key.name
            )
        })?;
    }
    Ok(())
}
