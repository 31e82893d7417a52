//! Discovery (SPEC §13): what one file found on the machine holds, and why a file could not be
//! read. Pure: the walk and the reads are the engine's.
use crate::domain::der::tlv;
use serde::{Deserialize, Serialize};

/// A file over this size is reported, not read (DS-1).
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Why a file was skipped (DS-1), from a fixed list (`scan --json` names them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    PermissionDenied,
    TooLarge,
    NotACertificate,
    BadPem,
    BadPkcs12,
    BadPassword,
    BrokenSymlink,
    SymlinkLoop,
    ReadFailed,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::PermissionDenied => "permission_denied",
            Reason::TooLarge => "too_large",
            Reason::NotACertificate => "not_a_certificate",
            Reason::BadPem => "bad_pem",
            Reason::BadPkcs12 => "bad_pkcs12",
            Reason::BadPassword => "bad_password",
            Reason::BrokenSymlink => "broken_symlink",
            Reason::SymlinkLoop => "symlink_loop",
            Reason::ReadFailed => "read_failed",
        }
    }
}

/// What a file holds: certificates (DER, in file order) and whether a private key is in it too
/// (a combined PEM or a PKCS#12; the key itself is never kept, DS-6).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Found {
    pub certs: Vec<Vec<u8>>,
    pub holds_key: bool,
}

/// Reads one file's bytes: PEM (certificates, PKCS#7, and keys noted), DER certificate, DER
/// PKCS#7, or PKCS#12 (with `password`, else empty). `name` hints at PKCS#12 (`.p12`, `.pfx`).
pub fn parse_file(name: &str, bytes: &[u8], password: Option<&str>) -> Result<Found, Reason> {
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(Reason::TooLarge);
    }
    let lower = name.to_ascii_lowercase();
    let pkcs12_name = lower.ends_with(".p12") || lower.ends_with(".pfx");
    if memchr::memmem::find(bytes, b"-----BEGIN ").is_some() {
        return parse_pem(bytes);
    }
    if bytes.first() != Some(&0x30) {
        return Err(Reason::NotACertificate);
    }
    if !pkcs12_name {
        if x509_parser::parse_x509_certificate(bytes).is_ok_and(|(rest, _)| rest.is_empty()) {
            return Ok(Found {
                certs: vec![bytes.to_vec()],
                holds_key: false,
            });
        }
        if let Some(certs) = pkcs7_certificates(bytes) {
            return Ok(Found {
                certs,
                holds_key: false,
            });
        }
    }
    parse_pkcs12(bytes, password, pkcs12_name)
}

fn parse_pem(bytes: &[u8]) -> Result<Found, Reason> {
    let text = std::str::from_utf8(bytes).map_err(|_| Reason::BadPem)?;
    let blocks =
        crate::domain::pem::scan_expecting(text, "CERTIFICATE").map_err(|_| Reason::BadPem)?;
    let mut found = Found::default();
    for b in blocks {
        match b.label.as_str() {
            // Each certificate is parsed once, by the caller (discovered_certificate); a
            // block that is not one is then `bad_pem`.
            "CERTIFICATE" | "X509 CERTIFICATE" | "TRUSTED CERTIFICATE" => found.certs.push(b.der),
            "PKCS7" | "CMS" => found
                .certs
                .extend(pkcs7_certificates(&b.der).ok_or(Reason::BadPem)?),
            l if l.ends_with("PRIVATE KEY") => found.holds_key = true,
            _ => {}
        }
    }
    if found.certs.is_empty() {
        return Err(Reason::NotACertificate);
    }
    Ok(found)
}

fn parse_pkcs12(bytes: &[u8], password: Option<&str>, named: bool) -> Result<Found, Reason> {
    use p12_keystore::{KeyStore, KeyStoreEntry, Pkcs12ImportPolicy};
    // The password given, then none (a scan meets files with and without one).
    let open = |p: &str| KeyStore::from_pkcs12(bytes, p, Pkcs12ImportPolicy::Relaxed);
    let opened = match password {
        Some(p) if !p.is_empty() => match open(p) {
            Err(p12_keystore::error::Error::MacError(_)) => open(""),
            other => other,
        },
        _ => open(""),
    };
    let store = match opened {
        Ok(s) => s,
        Err(p12_keystore::error::Error::MacError(_)) => return Err(Reason::BadPassword),
        Err(_) if named => return Err(Reason::BadPkcs12),
        Err(_) => return Err(Reason::NotACertificate),
    };
    let mut found = Found::default();
    for (_, entry) in store.entries() {
        match entry {
            KeyStoreEntry::PrivateKeyChain(chain) => {
                found.holds_key = true;
                found
                    .certs
                    .extend(chain.certs().iter().map(|c| c.as_der().to_vec()));
            }
            KeyStoreEntry::Certificate(c) => found.certs.push(c.as_der().to_vec()),
            KeyStoreEntry::Secret(_) => {}
        }
    }
    if found.certs.is_empty() {
        return Err(Reason::NotACertificate);
    }
    Ok(found)
}

/// The certificates of a PKCS#7 / CMS SignedData (a "certs-only" .p7b), or `None` when `der`
/// is not one.
pub fn pkcs7_certificates(der: &[u8]) -> Option<Vec<Vec<u8>>> {
    const SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
    let (0x30, content_info, _) = tlv(der)? else {
        return None;
    };
    let (0x06, oid, rest) = tlv(content_info)? else {
        return None;
    };
    if oid != SIGNED_DATA {
        return None;
    }
    let (0xa0, explicit, _) = tlv(rest)? else {
        return None;
    };
    let (0x30, mut signed, _) = tlv(explicit)? else {
        return None;
    };
    // version, digestAlgorithms, encapContentInfo, then [0] certificates.
    for _ in 0..3 {
        signed = tlv(signed)?.2;
    }
    let (0xa0, mut certs_field, _) = tlv(signed)? else {
        return Some(Vec::new());
    };
    let mut certs = Vec::new();
    while !certs_field.is_empty() && certs.len() < 1000 {
        let (tag, _, rest) = tlv(certs_field)?;
        let whole = &certs_field[..certs_field.len() - rest.len()];
        if tag == 0x30 && x509_parser::parse_x509_certificate(whole).is_ok() {
            certs.push(whole.to_vec());
        }
        certs_field = rest;
    }
    Some(certs)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ca::pki::{Authority, KeyKind};

    #[test]
    fn rule_ds4_rule_ds5_the_list_marks_the_gravest_of_gone_drift_and_an_ending_chain() {
        let at = chrono::Utc::now();
        let drift = Drift {
            address: "127.0.0.1:443".into(),
            sni: "a.example".into(),
            path: "/etc/ssl/a.pem".into(),
            configured_fingerprint_sha256: "a".repeat(64),
            served_fingerprint_sha256: "b".repeat(64),
            seen_at: at,
        };
        let mut w = Watched::default();
        assert_eq!(WatchMark::of(&w, false), None);
        assert_eq!(WatchMark::of(&w, true), Some(WatchMark::ChainEnds));
        w.drift = Some(drift);
        assert_eq!(WatchMark::of(&w, true), Some(WatchMark::Drift));
        w.gone_at = Some(at);
        assert_eq!(WatchMark::of(&w, true), Some(WatchMark::Gone));
        // Each fits the status column (15) after the longest status a discovered one has.
        for m in [WatchMark::Gone, WatchMark::Drift, WatchMark::ChainEnds] {
            assert!(
                "expired · ".chars().count() + m.label().len() <= 15,
                "{m:?}"
            );
        }
    }

    fn pki() -> (Authority, crate::ca::pki::Issued) {
        let now = chrono::Utc::now();
        let d = chrono::Duration::days;
        let root = Authority::root("r", "o", KeyKind::P256, now - d(1), now + d(90));
        let leaf = root.issue(&["a.test"], KeyKind::P256, now - d(1), now + d(30));
        (root, leaf)
    }

    #[test]
    fn rule_ds1_pem_bundles_der_and_combined_files_are_read() {
        let (root, leaf) = pki();
        let bundle = format!("{}{}", leaf.cert_pem, root.pem());
        let f = parse_file("fullchain.pem", bundle.as_bytes(), None).unwrap();
        assert_eq!(f.certs, vec![leaf.der.clone(), root.der.clone()]);
        assert!(!f.holds_key);
        let crlf = bundle.replace('\n', "\r\n");
        assert_eq!(
            parse_file("x.crt", crlf.as_bytes(), None)
                .unwrap()
                .certs
                .len(),
            2
        );
        let combined = format!("{}{}", leaf.cert_pem, leaf.key_pem);
        let f = parse_file("site.pem", combined.as_bytes(), None).unwrap();
        assert!(f.holds_key, "a combined PEM holds its key");
        assert_eq!(
            parse_file("a.der", &leaf.der, None).unwrap().certs,
            vec![leaf.der.clone()]
        );
    }

    #[test]
    fn rule_ds1_what_is_not_a_certificate_says_why() {
        let (_, leaf) = pki();
        assert_eq!(
            parse_file("key.pem", leaf.key_pem.as_bytes(), None),
            Err(Reason::NotACertificate)
        );
        assert_eq!(
            parse_file("notes.txt", b"hello", None),
            Err(Reason::NotACertificate)
        );
        let broken = leaf.cert_pem.replace("-----END CERTIFICATE-----", "");
        assert_eq!(
            parse_file("b.pem", broken.as_bytes(), None),
            Err(Reason::BadPem)
        );
        let big = vec![b'a'; MAX_FILE_BYTES as usize + 1];
        assert_eq!(parse_file("big.pem", &big, None), Err(Reason::TooLarge));
        let exactly = vec![b'a'; MAX_FILE_BYTES as usize];
        assert_eq!(
            parse_file("ok.txt", &exactly, None),
            Err(Reason::NotACertificate)
        );
        assert_eq!(
            parse_file("x.p12", &[0x30, 0x03, 1, 2, 3], None),
            Err(Reason::BadPkcs12)
        );
    }

    #[test]
    fn rule_ds1_pkcs7_certificates_are_read_and_junk_is_not_one() {
        let (root, leaf) = pki();
        // ContentInfo { signedData, [0] SignedData { 1, {}, {data}, [0] { leaf, root } } }
        let der = |tag: u8, content: &[u8]| {
            let mut out = vec![tag];
            let n = content.len();
            if n < 0x80 {
                out.push(n as u8);
            } else if n < 0x100 {
                out.extend([0x81, n as u8]);
            } else {
                out.extend([0x82, (n >> 8) as u8, n as u8]);
            }
            out.extend_from_slice(content);
            out
        };
        let certs = [leaf.der.clone(), root.der.clone()].concat();
        let data_oid = der(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01],
        );
        let signed = der(
            0x30,
            &[
                der(0x02, &[1]),
                der(0x31, &[]),
                der(0x30, &data_oid),
                der(0xa0, &certs),
                der(0x31, &[]),
            ]
            .concat(),
        );
        let oid = der(
            0x06,
            &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02],
        );
        let p7 = der(0x30, &[oid, der(0xa0, &signed)].concat());
        assert_eq!(
            pkcs7_certificates(&p7),
            Some(vec![leaf.der.clone(), root.der.clone()])
        );
        assert_eq!(parse_file("chain.p7b", &p7, None).unwrap().certs.len(), 2);
        let pem = crate::domain::pem::encode("PKCS7", &p7);
        assert_eq!(
            parse_file("chain.p7c", pem.as_bytes(), None)
                .unwrap()
                .certs
                .len(),
            2
        );
        assert_eq!(pkcs7_certificates(&leaf.der), None);
        assert_eq!(pkcs7_certificates(&[0x30, 0x82, 0xff]), None);
    }
}

/// What one scan found (`scan --json`).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq, serde::Deserialize)]
pub struct ScanReport {
    pub files: usize,
    /// Distinct certificates found (an intermediate in ten files counts once).
    pub certificates: usize,
    /// Certificates seen for the first time.
    pub new: usize,
    /// Files whose certificates changed since the last scan (renewed by another tool).
    pub changed: usize,
    /// Watched certificates no file holds any more.
    pub gone: usize,
    /// Certificates already known, found again.
    pub unchanged: usize,
    pub errors: Vec<ScanError>,
    /// The sites the web server configurations under the roots serve with TLS (DS-2).
    pub sites: Vec<crate::domain::webconf::Site>,
    /// A resource proposed for each site, with its server's check and reload commands.
    pub proposed: Vec<crate::domain::webconf::Proposal>,
    /// The probes of the sites' listeners (DS-5).
    pub probes: Vec<SiteProbe>,
}

/// Where the system's trust store keeps the public CA roots (Debian, Red Hat, Alpine, SUSE).
const TRUST_STORE: [&str; 6] = [
    "/usr/share/ca-certificates/",
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/ca-trust/",
    "/etc/pki/tls/certs/ca-bundle",
    "/etc/ssl/ca-bundle.pem",
    "/var/lib/ca-certificates/",
];

/// DS-1: a file of the system trust store (the public CA roots every machine carries, reached
/// directly or through `/etc/ssl/certs` links) is not one of the server's certificates: a
/// scan of `/etc/ssl` would otherwise watch a hundred-odd roots nobody manages here.
pub fn is_system_trust_store(real_path: &str) -> bool {
    TRUST_STORE.iter().any(|p| real_path.starts_with(p))
}

/// DS-4: how often the roots scanned are scanned again by the tick ("hourly by default").
pub const RESCAN_EVERY_SECS: i64 = 3600;
/// The roots a plan keeps (the latest ones win).
pub const MAX_PLAN_ROOTS: usize = 64;

/// DS-4: the roots scans have covered, and when the tick scans them again.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScanPlan {
    pub roots: Vec<String>,
    /// Seconds between rescans; 0: the tick does not rescan.
    pub every_secs: i64,
    pub last_at: crate::domain::time::Timestamp,
}

impl ScanPlan {
    /// The plan after a scan of `roots` at `now`: those roots join the ones scanned before.
    pub fn after_scan(
        old: Option<&ScanPlan>,
        roots: &[String],
        now: crate::domain::time::Timestamp,
    ) -> ScanPlan {
        let mut all: Vec<String> = old.map(|p| p.roots.clone()).unwrap_or_default();
        for r in roots {
            all.retain(|x| x != r);
            all.push(r.clone());
        }
        let excess = all.len().saturating_sub(MAX_PLAN_ROOTS);
        all.drain(..excess);
        ScanPlan {
            roots: all,
            every_secs: old.map_or(RESCAN_EVERY_SECS, |p| p.every_secs),
            last_at: now,
        }
    }

    /// When the tick rescans next (`None`: never).
    pub fn next_at(&self) -> Option<crate::domain::time::Timestamp> {
        (self.every_secs > 0).then(|| self.last_at + chrono::Duration::seconds(self.every_secs))
    }

    pub fn is_due(&self, now: crate::domain::time::Timestamp) -> bool {
        self.next_at().is_some_and(|at| now >= at)
    }
}

/// The part of a scan under way (DS-1), for a progress bar.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum ScanPhase {
    /// Listing the tree: how many files there are is not known yet.
    #[default]
    Walking,
    /// Reading the files whose stamp changed.
    Reading,
    /// Handshakes with the sites' listeners (DS-5).
    Probing,
}

/// How far a scan is: `done` of `total` in its phase.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ScanProgress {
    pub phase: ScanPhase,
    pub done: usize,
    pub total: usize,
}

impl ScanProgress {
    /// The share done, 0.0 to 1.0 (walking counts as nothing done).
    pub fn ratio(&self) -> f64 {
        if self.total == 0 || self.phase == ScanPhase::Walking {
            0.0
        } else {
            (self.done.min(self.total) as f64) / self.total as f64
        }
    }

    /// What is happening, in words: "reading 1024 of 10000 files".
    pub fn label(&self) -> String {
        match self.phase {
            ScanPhase::Walking => "scan: listing files…".to_string(),
            ScanPhase::Reading => format!("scan: reading {} of {} files", self.done, self.total),
            ScanPhase::Probing => format!("scan: probing {} site listener(s)", self.total),
        }
    }

    /// A text bar `width` characters wide, then the label: `[#####·····]  50% scan: …`.
    pub fn bar(&self, width: usize) -> String {
        let filled = ((self.ratio() * width as f64).round() as usize).min(width);
        format!(
            "[{}{}] {:>3}% {}",
            "#".repeat(filled),
            "·".repeat(width - filled),
            (self.ratio() * 100.0).round() as u32,
            self.label()
        )
    }
}

#[derive(Debug, Clone, Serialize, PartialEq, Eq, serde::Deserialize)]
pub struct ScanError {
    pub path: String,
    pub reason: Reason,
}

/// What identifies a file's content without reading it (DS-4: device, inode, size, mtime).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileStamp {
    pub dev: u64,
    pub ino: u64,
    pub size: u64,
    pub mtime_ns: i64,
}

/// A file a scan read: when, what it held (by SHA-256 fingerprint), whether a key was in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileRecord {
    pub stamp: FileStamp,
    pub fingerprints: Vec<String>,
    pub holds_key: bool,
    /// Why it holds no certificate (kept so a rescan need not read it again).
    pub skipped: Option<Reason>,
}

/// What the Certificates tab marks a discovered certificate with (DS-4, DS-5), the gravest
/// first: no file holds it any more; a site serves another certificate than its file; a site
/// serves it with an intermediate that ends before it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub enum WatchMark {
    Gone,
    Drift,
    ChainEnds,
}

impl WatchMark {
    /// The mark of a certificate watched as `w`, whose served intermediate ends before it
    /// when `chain_ends`.
    pub fn of(w: &Watched, chain_ends: bool) -> Option<WatchMark> {
        if w.gone_at.is_some() {
            Some(WatchMark::Gone)
        } else if w.drift.is_some() {
            Some(WatchMark::Drift)
        } else if chain_ends {
            Some(WatchMark::ChainEnds)
        } else {
            None
        }
    }

    /// As the list shows it, after the status (its column is 15 wide).
    pub fn label(self) -> &'static str {
        match self {
            WatchMark::Gone => "gone",
            WatchMark::Drift => "drift",
            WatchMark::ChainEnds => "chain",
        }
    }
}

/// Where a discovered certificate is (DS-3): every file holding it, the file holding its key
/// (never the key, DS-6), and since when no file holds it any more (DS-4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Watched {
    pub paths: Vec<String>,
    pub key_path: Option<String>,
    pub gone_at: Option<crate::domain::time::Timestamp>,
    /// The sites whose configuration loads it (DS-2).
    pub sites: Vec<crate::domain::webconf::Site>,
    /// What the last scan's probe of its sites saw served instead of it (DS-5).
    pub drift: Option<Drift>,
}

/// DS-5: a site serves another certificate than the file it is configured with ("renewed on
/// disk, not reloaded").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Drift {
    pub address: String,
    pub sni: String,
    pub path: String,
    pub configured_fingerprint_sha256: String,
    pub served_fingerprint_sha256: String,
    pub seen_at: crate::domain::time::Timestamp,
}

/// DS-5: an intermediate a site serves that ends soon, before the leaf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExpiringIntermediate {
    pub address: String,
    pub subject: String,
    pub fingerprint_sha256: String,
    pub not_after: crate::domain::time::Timestamp,
}

/// One probe a scan made of a site it found (DS-5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SiteProbe {
    pub address: String,
    pub sni: String,
    pub served_fingerprint_sha256: Option<String>,
    pub earliest_expiry: Option<crate::domain::time::Timestamp>,
    pub error: Option<String>,
    pub drift: bool,
    /// An intermediate served that ends within 30 days, before the leaf.
    #[serde(default)]
    pub expiring_intermediate: Option<ExpiringIntermediate>,
}

/// Where a site is probed: loopback on each port it listens on (this machine's sites), with
/// its first name as SNI.
pub fn probe_targets(site: &crate::domain::webconf::Site) -> Vec<(String, String)> {
    let sni = site
        .names
        .iter()
        .find(|n| !n.starts_with('*'))
        .cloned()
        .unwrap_or_else(|| "localhost".into());
    let mut out: Vec<(String, String)> = site
        .listen
        .iter()
        .filter_map(|l| {
            let port = l
                .rsplit(':')
                .next()
                .unwrap_or(l)
                .split_whitespace()
                .next()?;
            let port: u16 = port.parse().ok()?;
            let host = if l.starts_with('[') {
                "[::1]"
            } else {
                "127.0.0.1"
            };
            Some((format!("{host}:{port}"), sni.clone()))
        })
        .collect();
    out.dedup();
    out
}

/// DS-3: the record of a certificate a scan found: `discovered`, watched, no key, with the
/// timeline event that says where.
pub fn discovered_certificate(
    der: &[u8],
    id: String,
    path: &str,
    now: crate::domain::time::Timestamp,
) -> Result<
    (
        crate::domain::model::Certificate,
        crate::domain::model::TimelineEvent,
    ),
    String,
> {
    let cert = discovered_record(der, id, now)?;
    let event = crate::domain::model::TimelineEvent {
        at: now,
        kind: "discovered".into(),
        message: format!("found by a scan in {path} (DS-1); watched, its key not copied (DS-6)"),
    };
    Ok((cert, event))
}

/// DS-3: a discovered certificate's record as a scan makes it, from its DER, its id and when it
/// was found alone. The store keeps an unchanged discovered record as just those (#15) and
/// derives the rest with this, so this must stay a function of its arguments.
pub fn discovered_record(
    der: &[u8],
    id: String,
    created_at: crate::domain::time::Timestamp,
) -> Result<crate::domain::model::Certificate, String> {
    use crate::domain::model::{Certificate, DomainKind, Source, Standard, Status};
    let leaf = crate::domain::cert::parse_certificate(der)?;
    let domains: Vec<String> = if leaf.facts.sans.is_empty() {
        leaf.facts.subject_cn.iter().cloned().collect()
    } else {
        leaf.facts.sans.clone()
    };
    let name = leaf
        .facts
        .subject_cn
        .clone()
        .or_else(|| domains.first().cloned())
        .unwrap_or_else(|| leaf.facts.subject.clone());
    let standard = if leaf.facts.key_algorithm == crate::domain::model::KeyAlgorithm::Sm2 {
        Standard::Sm2
    } else {
        Standard::International
    };
    Ok(Certificate {
        id,
        name,
        source: Source::Discovered,
        status: Status::Issued,
        brand: crate::domain::rules::upload::brand_of(&leaf),
        cert_type: Some(crate::domain::rules::upload::cert_type_of(&leaf)),
        standard,
        domain_kind: DomainKind::of(&domains),
        domains,
        chain: vec![leaf.link()],
        chain_der: vec![der.to_vec()],
        chain_complete: leaf.is_self_signed(),
        x509: Some(leaf.facts),
        enc_cert_pem: None,
        has_key: false,
        auto_renew: false,
        ignored: false,
        tags: Default::default(),
        project: None,
        renewed_from: None,
        reissued_from: None,
        created_at,
    })
}

/// DS-3: a discovered certificate adopted with its key becomes `uploaded` under the U rules:
/// the same id, the chain and key the upload rules read from its files. Refused unless the
/// file's leaf is this certificate.
pub fn adopted(
    cert: &crate::domain::model::Certificate,
    v: &crate::domain::rules::upload::ValidatedUpload,
    now: crate::domain::time::Timestamp,
) -> Result<
    (
        crate::domain::model::Certificate,
        crate::domain::model::TimelineEvent,
    ),
    crate::domain::refusal::Refusal,
> {
    use crate::domain::refusal::{Field, Refusal};
    let leaf_fp = &v.leaf().facts.fingerprint_sha256;
    let mine = cert.x509.as_ref().map(|x| &x.fingerprint_sha256);
    if mine != Some(leaf_fp) {
        return Err(Refusal::new(
            "DS-3",
            Field::Id,
            format!(
                "{} is not the leaf of its file (the file's leaf is {}): adopt the leaf instead",
                cert.id,
                &leaf_fp[..16.min(leaf_fp.len())]
            ),
        ));
    }
    let (mut updated, _, mut event) =
        crate::domain::rules::upload::new_uploaded_certificate(v, cert.id.clone(), now);
    updated.name = cert.name.clone();
    updated.tags = cert.tags.clone();
    updated.project = cert.project.clone();
    updated.ignored = cert.ignored;
    updated.created_at = cert.created_at;
    event.kind = "adopted".into();
    event.message = format!(
        "adopted: now uploaded, its key sealed in the store (DS-3); {}",
        event.message
    );
    Ok((updated, event))
}

#[cfg(test)]
mod progress_tests {
    use super::*;

    #[test]
    fn rule_ds1_the_system_trust_store_is_not_watched() {
        assert!(is_system_trust_store(
            "/usr/share/ca-certificates/mozilla/ISRG_Root_X1.crt"
        ));
        assert!(is_system_trust_store("/etc/ssl/certs/ca-certificates.crt"));
        assert!(is_system_trust_store(
            "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem"
        ));
        assert!(is_system_trust_store("/etc/pki/tls/certs/ca-bundle.crt"));
        assert!(!is_system_trust_store(
            "/etc/ssl/certs/ssl-cert-snakeoil.pem"
        ));
        assert!(!is_system_trust_store(
            "/etc/letsencrypt/live/a/fullchain.pem"
        ));
        assert!(!is_system_trust_store(
            "/srv/usr/share/ca-certificates/x.crt"
        ));
    }

    #[test]
    fn rule_ds4_the_tick_rescans_an_hour_after_the_last_scan_exactly() {
        use chrono::TimeZone;
        let t0 = chrono::Utc.with_ymd_and_hms(2026, 11, 30, 9, 0, 0).unwrap();
        let plan = ScanPlan::after_scan(None, &["/etc/ssl".into()], t0);
        assert_eq!(plan.every_secs, 3600);
        assert!(!plan.is_due(t0 + chrono::Duration::seconds(3599)));
        assert!(plan.is_due(t0 + chrono::Duration::seconds(3600)));
        // A later scan of other roots adds them and starts the hour again.
        let t1 = t0 + chrono::Duration::minutes(30);
        let plan = ScanPlan::after_scan(Some(&plan), &["/srv/certs".into(), "/etc/ssl".into()], t1);
        assert_eq!(plan.roots, ["/srv/certs", "/etc/ssl"]);
        assert!(!plan.is_due(t0 + chrono::Duration::seconds(3600)));
        assert!(plan.is_due(t1 + chrono::Duration::hours(1)));
        // Off: never due.
        let off = ScanPlan {
            every_secs: 0,
            ..plan.clone()
        };
        assert!(!off.is_due(t1 + chrono::Duration::days(365)));
        // At most 64 roots, the latest kept.
        let many: Vec<String> = (0..70).map(|i| format!("/r{i}")).collect();
        let plan = ScanPlan::after_scan(Some(&plan), &many, t1);
        assert_eq!(plan.roots.len(), MAX_PLAN_ROOTS);
        assert_eq!(plan.roots.last().unwrap(), "/r69");
        assert_eq!(plan.roots.first().unwrap(), "/r6");
    }

    #[test]
    fn rule_ds1_progress_bar_fills_with_the_files_read() {
        let p = |phase, done, total| ScanProgress { phase, done, total };
        assert_eq!(p(ScanPhase::Walking, 0, 0).ratio(), 0.0);
        assert_eq!(p(ScanPhase::Reading, 0, 0).ratio(), 0.0);
        assert_eq!(
            p(ScanPhase::Reading, 5, 10).bar(10),
            "[#####·····]  50% scan: reading 5 of 10 files"
        );
        assert_eq!(
            p(ScanPhase::Reading, 10, 10).bar(4),
            "[####] 100% scan: reading 10 of 10 files"
        );
        // More done than announced (a file appeared meanwhile) never overflows the bar.
        assert_eq!(
            p(ScanPhase::Reading, 12, 10).bar(4),
            "[####] 100% scan: reading 12 of 10 files"
        );
        assert!(p(ScanPhase::Walking, 0, 0)
            .bar(3)
            .starts_with("[···]   0% scan: listing"));
        assert_eq!(
            p(ScanPhase::Probing, 0, 3).label(),
            "scan: probing 3 site listener(s)"
        );
    }
}
