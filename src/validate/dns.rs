//! TXT lookups for DNS validation, with hickory-proto over UDP (TCP when the answer is
//! truncated): one question, a few tries, a 3 s timeout each and 8 s for the whole lookup
//! (replies that are not ours count as tries). The resolver is `CERTDECK_RESOLVER=HOST:PORT` (set
//! from `--resolver` too), else the configuration file's `resolver`, else the first `nameserver`
//! of /etc/resolv.conf.
use hickory_proto::op::{Message, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use std::net::{SocketAddr, UdpSocket};
use std::time::Duration;

const TRIES: usize = 3;
const TIMEOUT: Duration = Duration::from_secs(3);
const OVERALL: Duration = Duration::from_secs(8);

pub fn resolver() -> Result<SocketAddr, String> {
    if let Ok(v) = std::env::var("CERTDECK_RESOLVER") {
        return v
            .parse()
            .map_err(|_| format!("CERTDECK_RESOLVER={v} is not HOST:PORT"));
    }
    if let Some(r) = crate::config::file()
        .resolver
        .as_deref()
        .and_then(|r| r.parse().ok())
    {
        return Ok(r);
    }
    let conf = std::fs::read_to_string("/etc/resolv.conf")
        .map_err(|e| format!("/etc/resolv.conf: {e}"))?;
    conf.lines()
        .find_map(|l| l.trim().strip_prefix("nameserver"))
        .and_then(|ip| ip.trim().parse::<std::net::IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .ok_or_else(|| "no nameserver in /etc/resolv.conf (set CERTDECK_RESOLVER)".into())
}

/// The TXT strings at `name` (each record's segments joined). An empty list: no such record.
pub fn lookup_txt(name: &str, server: SocketAddr) -> Result<Vec<String>, String> {
    lookup(name, RecordType::TXT, server)
}

/// The CNAME targets at `name` (without the trailing dot).
pub fn lookup_cname(name: &str, server: SocketAddr) -> Result<Vec<String>, String> {
    lookup(name, RecordType::CNAME, server)
}

fn lookup(name: &str, rtype: RecordType, server: SocketAddr) -> Result<Vec<String>, String> {
    let qname = Name::from_ascii(format!("{}.", name.trim_end_matches('.')))
        .map_err(|e| format!("{name}: {e}"))?;
    let mut query = Message::query();
    query.metadata.recursion_desired = true;
    query.add_query(Query::query(qname, rtype));
    let id = query.metadata.id;
    let bytes = query.to_vec().map_err(|e| e.to_string())?;
    let local = if server.is_ipv6() {
        "[::]:0"
    } else {
        "0.0.0.0:0"
    };
    let sock = UdpSocket::bind(local).map_err(|e| e.to_string())?;
    let deadline = std::time::Instant::now() + OVERALL;
    let mut buf = [0u8; 4096];
    for _ in 0..TRIES {
        let Ok(left) = crate::net::remaining(deadline) else {
            break;
        };
        sock.set_read_timeout(Some(left.min(TIMEOUT)))
            .map_err(|e| e.to_string())?;
        sock.send_to(&bytes, server)
            .map_err(|e| format!("{server}: {e}"))?;
        let Ok((n, from)) = sock.recv_from(&mut buf) else {
            continue;
        };
        if from != server {
            continue;
        }
        let Ok(reply) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        if reply.metadata.id != id {
            continue;
        }
        // Too large for UDP (many TXT values at one name): ask again over TCP.
        let reply = if reply.metadata.truncation {
            let full = exchange_tcp(server, &bytes, deadline)?;
            match Message::from_vec(&full) {
                Ok(m) if m.metadata.id == id => m,
                _ => return Err(format!("{server} answered over TCP with something else")),
            }
        } else {
            reply
        };
        return match reply.metadata.response_code {
            ResponseCode::NoError => Ok(reply
                .answers
                .iter()
                .filter_map(|r| match &r.data {
                    RData::TXT(t) if rtype == RecordType::TXT => Some(
                        t.txt_data
                            .iter()
                            .map(|s| String::from_utf8_lossy(s))
                            .collect::<String>(),
                    ),
                    RData::CNAME(c) if rtype == RecordType::CNAME => {
                        Some(c.0.to_ascii().trim_end_matches('.').to_string())
                    }
                    _ => None,
                })
                .collect()),
            ResponseCode::NXDomain => Ok(Vec::new()),
            other => Err(format!("{server} answered {other}")),
        };
    }
    Err(format!(
        "{server} did not answer in {} s",
        TRIES as u64 * TIMEOUT.as_secs()
    ))
}

/// One DNS exchange over TCP (RFC 1035 4.2.2: a two-byte length before each message), the
/// whole of it (connect, write, read) bounded by `deadline`. For answers too large for UDP and
/// for RFC 2136 updates.
pub fn exchange_tcp(
    server: SocketAddr,
    message: &[u8],
    deadline: std::time::Instant,
) -> Result<Vec<u8>, String> {
    use std::io::{Read, Write};
    let len = u16::try_from(message.len()).map_err(|_| "DNS message too large".to_string())?;
    let mut s = crate::net::connect_addr(server, deadline).map_err(|e| format!("{server}: {e}"))?;
    let mut out = len.to_be_bytes().to_vec();
    out.extend_from_slice(message);
    s.write_all(&out).map_err(|e| format!("{server}: {e}"))?;
    let mut head = [0u8; 2];
    s.read_exact(&mut head)
        .map_err(|e| format!("{server}: {e}"))?;
    let mut reply = vec![0u8; u16::from_be_bytes(head) as usize];
    s.read_exact(&mut reply)
        .map_err(|e| format!("{server}: {e}"))?;
    Ok(reply)
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::rdata::TXT;
    use hickory_proto::rr::Record;

    /// A server whose UDP answers are truncated and whose TCP answers are whole.
    fn truncating_server(values: Vec<String>) -> SocketAddr {
        let tcp = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = tcp.local_addr().unwrap();
        let udp = UdpSocket::bind(addr).unwrap();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            if let Ok((n, from)) = udp.recv_from(&mut buf) {
                let q = Message::from_vec(&buf[..n]).unwrap();
                let mut r = Message::response(q.metadata.id, q.metadata.op_code);
                r.metadata.truncation = true;
                r.add_queries(q.queries.clone());
                let _ = udp.send_to(&r.to_vec().unwrap(), from);
            }
        });
        std::thread::spawn(move || {
            use std::io::{Read, Write};
            if let Ok((mut s, _)) = tcp.accept() {
                let mut len = [0u8; 2];
                s.read_exact(&mut len).unwrap();
                let mut q = vec![0u8; u16::from_be_bytes(len) as usize];
                s.read_exact(&mut q).unwrap();
                let q = Message::from_vec(&q).unwrap();
                let mut r = Message::response(q.metadata.id, q.metadata.op_code);
                let name = q.queries[0].name().clone();
                r.add_queries(q.queries.clone());
                for v in &values {
                    r.add_answer(Record::from_rdata(
                        name.clone(),
                        60,
                        RData::TXT(TXT::new(vec![v.clone()])),
                    ));
                }
                let bytes = r.to_vec().unwrap();
                let mut out = (bytes.len() as u16).to_be_bytes().to_vec();
                out.extend_from_slice(&bytes);
                s.write_all(&out).unwrap();
            }
        });
        addr
    }

    #[test]
    fn rule_ac3_a_truncated_answer_is_asked_again_over_tcp() {
        let values: Vec<String> = (0..40)
            .map(|i| format!("value-{i:02}-{}", "x".repeat(40)))
            .collect();
        let server = truncating_server(values.clone());
        assert_eq!(
            lookup_txt("_acme-challenge.big.test", server).unwrap(),
            values
        );
    }
}
