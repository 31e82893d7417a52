//! The TLS probe: connect to an endpoint with rustls, complete a handshake (which proves the
//! server holds the key of the certificate it sends) and report the served leaf's SHA-256
//! fingerprint. The chain is not judged here: the question is only "which certificate is served".
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, ClientConnection, DigitallySignedStruct, SignatureScheme};
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}

/// One handshake with `address` sending `sni`: the served leaf's SHA-256 fingerprint (hex).
pub fn served_fingerprint(address: &str, sni: &str, timeout: Duration) -> Result<String, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
        .with_no_client_auth();
    let name = ServerName::try_from(sni.to_string()).map_err(|e| format!("SNI {sni}: {e}"))?;
    let mut conn = ClientConnection::new(Arc::new(config), name).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let (host, port) = address
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h, p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("{address}: not HOST:PORT"))?;
    let mut sock =
        crate::net::connect(host, port, deadline).map_err(|e| format!("{address}: {e}"))?;
    while conn.is_handshaking() {
        // Every read and write of `sock` is bounded by the deadline, so this loop ends by then.
        conn.complete_io(&mut sock).map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                format!("{address}: the TLS handshake took longer than {timeout:?}")
            } else {
                format!("{address}: TLS handshake: {e}")
            }
        })?;
    }
    let leaf = conn
        .peer_certificates()
        .and_then(|c| c.first())
        .ok_or_else(|| format!("{address}: the server sent no certificate"))?;
    let digest = ring::digest::digest(&ring::digest::SHA256, leaf.as_ref());
    Ok(digest.as_ref().iter().map(|b| format!("{b:02x}")).collect())
}

/// Handshakes in a row that must see `expected` before it counts as served: right after a
/// reload the old worker processes may still take a connection or two.
const STABLE: u32 = 3;

/// Probes until `expected` is served on `STABLE` handshakes in a row, or `attempts` run out.
/// Returns what was last seen.
pub fn wait_for(
    address: &str,
    sni: &str,
    expected: &str,
    attempts: u32,
    pause: Duration,
) -> Result<String, String> {
    let mut last = Err(String::from("not probed"));
    let mut in_a_row = 0;
    for i in 0..attempts.max(STABLE) {
        if i > 0 {
            std::thread::sleep(pause);
        }
        last = served_fingerprint(address, sni, Duration::from_secs(3));
        if matches!(&last, Ok(fp) if fp.eq_ignore_ascii_case(expected)) {
            in_a_row += 1;
            if in_a_row >= STABLE {
                break;
            }
        } else {
            in_a_row = 0;
        }
    }
    last
}

/// Protocols that speak plain text before TLS (DS-5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Starttls {
    Smtp,
    Imap,
    Pop3,
    Ftp,
    Postgres,
}

impl Starttls {
    pub fn parse(s: &str) -> Result<Starttls, String> {
        Ok(match s {
            "smtp" => Starttls::Smtp,
            "imap" => Starttls::Imap,
            "pop3" => Starttls::Pop3,
            "ftp" => Starttls::Ftp,
            "postgres" => Starttls::Postgres,
            other => {
                return Err(format!(
                    "\"{other}\": --starttls is smtp, imap, pop3, ftp or postgres"
                ))
            }
        })
    }

    /// The protocol a well-known port speaks, when it starts in plain text.
    pub fn of_port(port: u16) -> Option<Starttls> {
        Some(match port {
            25 | 587 => Starttls::Smtp,
            143 => Starttls::Imap,
            110 => Starttls::Pop3,
            21 => Starttls::Ftp,
            5432 => Starttls::Postgres,
            _ => return None,
        })
    }
}

/// What a probe saw (DS-5): the served chain (DER, leaf first), the TLS version, and whether
/// the chain verifies for the name against the system trust store (with why not).
#[derive(Debug, Clone)]
pub struct Probed {
    pub chain: Vec<Vec<u8>>,
    pub tls_version: String,
    pub verified: Result<(), String>,
}

/// Reads one line (to `\n`), bounded by the stream's deadline and 4 KiB.
fn line(s: &mut crate::net::DeadlineStream) -> std::io::Result<String> {
    use std::io::Read;
    let mut out = Vec::new();
    let mut b = [0u8; 1];
    while out.len() < 4096 {
        if s.read(&mut b)? == 0 {
            break;
        }
        out.push(b[0]);
        if b[0] == b'\n' {
            break;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Reads lines until one starts with `want` (an SMTP multi-line reply ends with "250 "), at
/// most 50 lines; anything else that is final is a refusal.
fn expect(s: &mut crate::net::DeadlineStream, want: &str) -> Result<(), String> {
    for _ in 0..50 {
        let l = line(s).map_err(|e| e.to_string())?;
        if l.is_empty() {
            return Err("the server closed the connection".into());
        }
        if l.starts_with(want) {
            return Ok(());
        }
        let continued = l.len() > 3 && l.as_bytes()[3] == b'-';
        let untagged = l.starts_with("* ");
        if !continued && !untagged {
            return Err(format!("the server answered {:?}", l.trim_end()));
        }
    }
    Err("the server talked too long".into())
}

/// The plain-text exchange before TLS.
fn upgrade(s: &mut crate::net::DeadlineStream, proto: Starttls) -> Result<(), String> {
    use std::io::{Read, Write};
    let say = |s: &mut crate::net::DeadlineStream, what: &[u8]| {
        s.write_all(what).map_err(|e| e.to_string())
    };
    match proto {
        Starttls::Smtp => {
            expect(s, "220 ")?;
            say(s, b"EHLO certdeck\r\n")?;
            expect(s, "250 ")?;
            say(s, b"STARTTLS\r\n")?;
            expect(s, "220")
        }
        Starttls::Imap => {
            expect(s, "* OK")?;
            say(s, b"a1 STARTTLS\r\n")?;
            expect(s, "a1 OK")
        }
        Starttls::Pop3 => {
            expect(s, "+OK")?;
            say(s, b"STLS\r\n")?;
            expect(s, "+OK")
        }
        Starttls::Ftp => {
            expect(s, "220 ")?;
            say(s, b"AUTH TLS\r\n")?;
            expect(s, "234")
        }
        Starttls::Postgres => {
            // SSLRequest: length 8, code 80877103; the answer is one byte, 'S' for yes.
            say(s, &[0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f])?;
            let mut b = [0u8; 1];
            s.read_exact(&mut b).map_err(|e| e.to_string())?;
            if b[0] == b'S' {
                Ok(())
            } else {
                Err("the server does not offer TLS".into())
            }
        }
    }
}

/// The system trust store: Debian's bundle when present, else the Mozilla roots built in.
fn system_roots() -> rustls::RootCertStore {
    let mut roots = rustls::RootCertStore::empty();
    for bundle in [
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
    ] {
        let Ok(text) = crate::sidefile::read_capped(std::path::Path::new(bundle), 16 << 20) else {
            continue;
        };
        if let Ok(blocks) = crate::domain::pem::scan(&String::from_utf8_lossy(&text)) {
            for b in blocks {
                let _ = roots.add(CertificateDer::from(b.der));
            }
        }
        if !roots.is_empty() {
            return roots;
        }
    }
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

/// DS-5: one handshake with `address` sending `sni` (after a plain-text upgrade when asked),
/// the whole of it within `timeout`.
pub fn probe(
    address: &str,
    sni: &str,
    starttls: Option<Starttls>,
    timeout: Duration,
) -> Result<Probed, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider.clone())))
        .with_no_client_auth();
    let name = ServerName::try_from(sni.to_string()).map_err(|e| format!("SNI {sni}: {e}"))?;
    let mut conn =
        ClientConnection::new(Arc::new(config), name.clone()).map_err(|e| e.to_string())?;
    let deadline = Instant::now() + timeout;
    let (host, port) = address
        .rsplit_once(':')
        .and_then(|(h, p)| Some((h.trim_matches(['[', ']']), p.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("{address}: not HOST:PORT"))?;
    let mut sock =
        crate::net::connect(host, port, deadline).map_err(|e| format!("{address}: {e}"))?;
    if let Some(proto) = starttls {
        upgrade(&mut sock, proto).map_err(|e| format!("{address}: STARTTLS ({proto:?}): {e}"))?;
    }
    while conn.is_handshaking() {
        conn.complete_io(&mut sock).map_err(|e| {
            if e.kind() == std::io::ErrorKind::TimedOut {
                format!("{address}: the TLS handshake took longer than {timeout:?}")
            } else {
                format!("{address}: TLS handshake: {e}")
            }
        })?;
    }
    let chain: Vec<Vec<u8>> = conn
        .peer_certificates()
        .map(|c| c.iter().map(|d| d.as_ref().to_vec()).collect())
        .unwrap_or_default();
    if chain.is_empty() {
        return Err(format!("{address}: the server sent no certificate"));
    }
    let tls_version = match conn.protocol_version() {
        Some(rustls::ProtocolVersion::TLSv1_3) => "TLSv1.3",
        Some(rustls::ProtocolVersion::TLSv1_2) => "TLSv1.2",
        _ => "unknown",
    }
    .to_string();
    let verifier = rustls::client::WebPkiServerVerifier::builder_with_provider(
        Arc::new(system_roots()),
        provider,
    )
    .build()
    .map_err(|e| e.to_string())?;
    let ders: Vec<CertificateDer> = chain
        .iter()
        .map(|d| CertificateDer::from(d.clone()))
        .collect();
    let verified = verifier
        .verify_server_cert(&ders[0], &ders[1..], &name, &[], UnixTime::now())
        .map(|_| ())
        .map_err(|e| e.to_string());
    Ok(Probed {
        chain,
        tls_version,
        verified,
    })
}
