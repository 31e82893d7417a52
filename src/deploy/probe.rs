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
