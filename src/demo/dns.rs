//! A tiny authoritative DNS responder on 127.0.0.1 (UDP) that answers TXT questions from a
//! table: the demo's stand-in for the user's DNS, and the tests' DNS server. Bounded: it
//! answers at most `max` questions.
use hickory_proto::op::{Message, OpCode, ResponseCode};
use hickory_proto::rr::rdata::TXT;
use hickory_proto::rr::{RData, Record, RecordType};
use std::collections::HashMap;
use std::net::{SocketAddr, UdpSocket};
use std::sync::{Arc, Mutex};

/// TXT records by name (lower case, no trailing dot), shared so callers can change them.
pub type TxtTable = Arc<Mutex<HashMap<String, Vec<String>>>>;

pub fn serve_txt(records: TxtTable, max: usize) -> std::io::Result<SocketAddr> {
    serve_records(records, TxtTable::default(), max)
}

/// Serves TXT records and CNAMEs (name → target) from two tables.
pub fn serve_records(
    records: TxtTable,
    cnames: TxtTable,
    max: usize,
) -> std::io::Result<SocketAddr> {
    let sock = UdpSocket::bind("127.0.0.1:0")?;
    let addr = sock.local_addr()?;
    std::thread::Builder::new()
        .name("demo-dns".into())
        .spawn(move || {
            let mut buf = [0u8; 4096];
            for _ in 0..max {
                let Ok((n, from)) = sock.recv_from(&mut buf) else {
                    break;
                };
                let Ok(q) = Message::from_vec(&buf[..n]) else {
                    continue;
                };
                let mut reply = Message::response(q.metadata.id, OpCode::Query);
                reply.metadata.recursion_desired = q.metadata.recursion_desired;
                reply.metadata.authoritative = true;
                let mut found = false;
                for query in &q.queries {
                    reply.add_query(query.clone());
                    let key = query.name().to_ascii().trim_end_matches('.').to_lowercase();
                    let table = records.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(values) = table.get(&key) {
                        found = true;
                        if query.query_type() == RecordType::TXT {
                            for v in values {
                                reply.add_answer(Record::from_rdata(
                                    query.name().clone(),
                                    60,
                                    RData::TXT(TXT::new(vec![v.clone()])),
                                ));
                            }
                        }
                    }
                    let cname_table = cnames.lock().unwrap_or_else(|e| e.into_inner());
                    if let Some(targets) = cname_table.get(&key) {
                        found = true;
                        for t in targets {
                            let target = format!("{}.", t.trim_end_matches('.'));
                            if let Ok(target) = hickory_proto::rr::Name::from_ascii(target) {
                                let cname = RData::CNAME(hickory_proto::rr::rdata::CNAME(target));
                                reply.add_answer(Record::from_rdata(
                                    query.name().clone(),
                                    60,
                                    cname,
                                ));
                            }
                        }
                    }
                }
                if !found {
                    reply.metadata.response_code = ResponseCode::NXDomain;
                }
                if let Ok(bytes) = reply.to_vec() {
                    let _ = sock.send_to(&bytes, from);
                }
            }
        })?;
    Ok(addr)
}
