//! `scan` (DS-1, DS-3, DS-4, DS-6): walks the given roots (symlinks followed, loops caught),
//! reads only files whose stamp changed since the last scan, and keeps one watched record per
//! distinct certificate with every path holding it. Keys are noted by path, never read into
//! the store.
use super::Engine;
use crate::domain::discovery::{
    parse_file, FileRecord, FileStamp, Reason, ScanError, ScanPhase, ScanPlan, ScanProgress,
    ScanReport, Watched,
};
use crate::store::discovery::ScanChange;
use crate::store::{NewRecord, StoreError};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// DS-1's default roots.
pub const DEFAULT_ROOTS: [&str; 8] = [
    "/etc/ssl",
    "/etc/pki",
    "/etc/letsencrypt",
    "/etc/nginx",
    "/etc/apache2",
    "/etc/httpd",
    "/etc/haproxy",
    "/usr/local/etc",
];

/// What a scan without paths reads: the configuration file's `[scan] roots`, else DS-1's.
pub fn default_roots() -> Vec<PathBuf> {
    match &crate::config::file().scan.roots {
        Some(roots) => roots.clone(),
        None => DEFAULT_ROOTS.iter().map(PathBuf::from).collect(),
    }
}

/// A walk stops at this depth and this many files (a runaway tree, a mount loop).
const MAX_DEPTH: usize = 40;
const MAX_FILES: usize = 1_000_000;

fn stamp(meta: &std::fs::Metadata) -> FileStamp {
    use std::os::unix::fs::MetadataExt;
    FileStamp {
        dev: meta.dev(),
        ino: meta.ino(),
        size: meta.size(),
        mtime_ns: meta.mtime() * 1_000_000_000 + meta.mtime_nsec(),
    }
}

fn io_reason(e: &std::io::Error) -> Reason {
    match e.kind() {
        std::io::ErrorKind::PermissionDenied => Reason::PermissionDenied,
        _ if e.raw_os_error() == Some(libc::ELOOP) => Reason::SymlinkLoop,
        std::io::ErrorKind::NotFound => Reason::BrokenSymlink,
        _ => Reason::ReadFailed,
    }
}

/// A file the walk found, with its stamp once known: plain files in directory listings are
/// stamped only when a scan stored them before (`stamp_stored`), and otherwise as they are
/// read (from the open file: #15, no second lookup of the path).
type Listed = (String, Option<FileStamp>);

/// Every regular file under `roots`, following symlinks, in path order; directories already
/// entered (by device and inode) are not entered again, so a symlink loop ends.
fn walk(roots: &[PathBuf], errors: &mut Vec<ScanError>) -> Vec<Listed> {
    let mut out = Vec::new();
    // Plain files seen in directory listings (not stat'ed here).
    let mut plain: Vec<String> = Vec::new();
    let mut seen_dirs: HashSet<(u64, u64)> = HashSet::new();
    let mut stack: Vec<(PathBuf, usize)> = roots.iter().map(|r| (r.clone(), 0)).collect();
    let mut err = |p: &Path, reason| {
        errors.push(ScanError {
            path: p.display().to_string(),
            reason,
        })
    };
    while let Some((path, depth)) = stack.pop() {
        if out.len() + plain.len() >= MAX_FILES {
            break;
        }
        let meta = match std::fs::metadata(&path) {
            Ok(m) => m,
            Err(e) => {
                // A root that does not exist is no error (most machines lack some roots).
                if depth > 0 || std::fs::symlink_metadata(&path).is_ok() {
                    err(&path, io_reason(&e));
                }
                continue;
            }
        };
        if meta.is_dir() {
            use std::os::unix::fs::MetadataExt;
            if !seen_dirs.insert((meta.dev(), meta.ino())) {
                if std::fs::symlink_metadata(&path).is_ok_and(|m| m.file_type().is_symlink()) {
                    err(&path, Reason::SymlinkLoop);
                }
                continue;
            }
            if depth >= MAX_DEPTH {
                err(&path, Reason::SymlinkLoop);
                continue;
            }
            match std::fs::read_dir(&path) {
                Ok(entries) => {
                    let mut children: Vec<PathBuf> = Vec::new();
                    for e in entries.flatten() {
                        // certdeck's own rollback copies and half-written files are not what
                        // a server loads.
                        if e.file_name()
                            .to_str()
                            .is_some_and(crate::domain::resource::is_deploy_scratch)
                        {
                            continue;
                        }
                        let kind = e.file_type();
                        let p = e.path();
                        // The system trust store, directly or through /etc/ssl/certs links.
                        let trust_store = |real: &Path| {
                            crate::domain::discovery::is_system_trust_store(&real.to_string_lossy())
                        };
                        let trusted = match kind.as_ref().is_ok_and(|t| t.is_symlink()) {
                            true => trust_store(
                                &std::fs::canonicalize(&p).unwrap_or_else(|_| p.clone()),
                            ),
                            false => trust_store(&p),
                        };
                        if trusted {
                            continue;
                        }
                        if kind.is_ok_and(|t| t.is_file()) {
                            // One string per file, moved, not formatted (#15: 100,000 of them).
                            plain.push(
                                p.into_os_string()
                                    .into_string()
                                    .unwrap_or_else(|p| p.to_string_lossy().into_owned()),
                            );
                        } else {
                            children.push(p);
                        }
                    }
                    children.sort();
                    for c in children.into_iter().rev() {
                        stack.push((c, depth + 1));
                    }
                }
                Err(e) => err(&path, io_reason(&e)),
            }
        } else if meta.is_file() {
            out.push((path.display().to_string(), Some(stamp(&meta))));
        }
    }
    plain.truncate(MAX_FILES.saturating_sub(out.len()));
    out.extend(plain.into_iter().map(|p| (p, None)));
    out.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    out
}

/// Stamps the files of `files` that `stored` marks (a scan stored them before: their stamp
/// tells whether they changed), on both cores. One that can no longer be stat'ed is left out,
/// with why.
fn stamp_stored(files: Vec<Listed>, stored: &[bool], errors: &mut Vec<ScanError>) -> Vec<Listed> {
    let todo: Vec<usize> = (0..files.len())
        .filter(|&i| stored[i] && files[i].1.is_none())
        .collect();
    if todo.is_empty() {
        return files;
    }
    let stamped = on_both_cores(&todo, |&i| {
        std::fs::metadata(&files[i].0)
            .map(|m| stamp(&m))
            .map_err(|e| io_reason(&e))
    });
    let mut files = files;
    let mut gone = vec![false; files.len()];
    for (i, r) in todo.into_iter().zip(stamped) {
        match r {
            Ok(st) => files[i].1 = Some(st),
            Err(reason) => {
                gone[i] = true;
                errors.push(ScanError {
                    path: files[i].0.clone(),
                    reason,
                });
            }
        }
    }
    let mut i = 0;
    files.retain(|_| {
        i += 1;
        !gone[i - 1]
    });
    files
}

/// One certificate as this scan saw it: the files holding it and the one holding its key, as
/// indices into the walk's list (#15: a path is not copied for every certificate it holds).
#[derive(Default)]
struct Seen {
    first: u32,
    /// Further files holding it, in the order found (most certificates are in one file).
    more: Vec<u32>,
    key: Option<u32>,
    /// The id of the record this scan made of it from its id run, when it did: where that
    /// record is was written by this scan (`first_seen`), so it is neither looked up by
    /// fingerprint nor read back (#15: an empty store's scan reads none of them again).
    made: Option<[u8; 8]>,
}

impl Seen {
    fn paths(&self) -> impl Iterator<Item = u32> + '_ {
        std::iter::once(self.first).chain(self.more.iter().copied())
    }

    /// The whereabouts this scan wrote for the record it made: its first file, with the key
    /// when that file held it (`read_one`).
    fn made_where(&self, files: &[Listed]) -> Watched {
        first_seen(&files[self.first as usize].0, self.key == Some(self.first))
    }

    /// The id of the record this scan made of it, when it did.
    fn made_id(&self) -> Option<String> {
        self.made.and_then(|id| String::from_utf8(id.to_vec()).ok())
    }
}

/// Notes that file `path` holds the certificate of SHA-256 `fp` (hex), with its key when
/// `key`; returns its entry the first time this scan sees it (a fingerprint that is not one,
/// which only damage could store, is passed over).
fn note<'f>(
    found: &'f mut BTreeMap<[u8; 32], Seen>,
    fp: &str,
    path: u32,
    key: bool,
) -> Option<&'f mut Seen> {
    let key = key.then_some(path);
    let fp = crate::domain::cert::sha256_from_hex(fp)?;
    match found.entry(fp) {
        std::collections::btree_map::Entry::Vacant(v) => Some(v.insert(Seen {
            first: path,
            more: Vec::new(),
            key,
            made: None,
        })),
        std::collections::btree_map::Entry::Occupied(mut o) => {
            let e = o.get_mut();
            if e.more.last().copied().unwrap_or(e.first) != path {
                e.more.push(path);
            }
            if e.key.is_none() {
                e.key = key;
            }
            None
        }
    }
}

/// Files read and parsed a chunk at a time (bounded memory on a large tree).
const CHUNK: usize = 512;

/// How far a scan's resident set may grow before the memory its chunks freed goes back to the
/// system (`crate::memory::reuse_or_give_back`).
const SCAN_MEMORY_GROWTH: u64 = 48 << 20;

/// Reads, parses and encodes `files`.
fn read_all(
    files: &[(u32, &Listed)],
    password: Option<&str>,
    ids: IdRun<'_>,
    snapshot: &crate::store::discovery::ScanSnapshot,
    now: crate::domain::time::Timestamp,
) -> Result<Vec<Read>, StoreError> {
    files
        .iter()
        .map(|&(index, (p, st))| {
            read_one(p, *st, password, (ids, ids.first_of(index)), snapshot, now)
        })
        .collect()
}

/// Ids for the certificates a scan reads, given on the reading threads: file number `i` of the
/// walk gets the numbers `start + i × SLOTS` onwards (#15: consecutive, so new records are
/// written at one place of every table). A file holding more certificates than `SLOTS` has the
/// rest numbered by the writer.
#[derive(Clone, Copy)]
struct IdRun<'s> {
    start: u64,
    store: &'s crate::store::Store,
}

const SLOTS: u64 = 64;

impl IdRun<'_> {
    /// The number of the first id of file `index`'s share.
    fn first_of(self, index: u32) -> u64 {
        self.start + u64::from(index) * SLOTS
    }
}

/// `f` over `items`, each half on its own thread, results in order.
fn on_both_cores<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let half = items.len().div_ceil(2).max(1);
    let f = &f;
    std::thread::scope(|s| {
        let parts: Vec<_> = items
            .chunks(half)
            .map(|part| s.spawn(move || part.iter().map(f).collect::<Vec<_>>()))
            .collect();
        parts
            .into_iter()
            .flat_map(|h| h.join().unwrap_or_default())
            .collect()
    })
}

/// A certificate read from a file: its fingerprint and, when no record held it as the scan
/// began, its record-to-be. Stored when it is new to this scan too.
struct Parsed {
    fp: String,
    fresh: Option<Fresh>,
}

enum Fresh {
    /// Encoded under the id its file's share gave it (free as the scan began).
    Prepared(crate::store::Prepared),
    /// For the writer to number: past its file's share, or its id taken (rare: boxed).
    Unnumbered(Box<NewRecord>),
}

/// What reading one changed file gave.
enum Read {
    Found {
        record: FileRecord,
        certs: Vec<Parsed>,
    },
    /// Not read as certificates, as stamped then; `true` when the file holds a private key (a
    /// key file).
    Skipped(FileStamp, Reason, bool),
    /// No longer there to stamp (deleted since the walk): not a file of this scan.
    Vanished(Reason),
}

/// Reads one file and makes records of the certificates in it no record held as the scan
/// began (`snapshot`), under the ids from `first_id` on.
fn read_one(
    path: &str,
    listed: Option<FileStamp>,
    password: Option<&str>,
    (ids, first_id): (IdRun<'_>, u64),
    snapshot: &crate::store::discovery::ScanSnapshot,
    now: crate::domain::time::Timestamp,
) -> Result<Read, StoreError> {
    let (read_stamp, content) = read_stamped(path);
    // A file that cannot be opened (unreadable to this user) is stamped by its path.
    let Some(st) = read_stamp
        .or(listed)
        .or_else(|| std::fs::metadata(path).ok().map(|m| stamp(&m)))
    else {
        return Ok(Read::Vanished(content.err().unwrap_or(Reason::ReadFailed)));
    };
    let bytes = match content {
        Ok(b) => b,
        Err(reason) => return Ok(Read::Skipped(st, reason, false)),
    };
    Ok(match parse_file(path, &bytes, password) {
        Ok(found) => {
            let mut certs = Vec::with_capacity(found.certs.len());
            for (i, der) in found.certs.iter().enumerate() {
                let fp = crate::domain::cert::sha256_hex(der);
                // Held already: parsed when it was stored (a rescan reads it no further).
                if snapshot.holds(&fp)? {
                    certs.push(Parsed { fp, fresh: None });
                    continue;
                }
                let share = (i as u64) < SLOTS;
                let free = match share {
                    true => snapshot.free(&crate::domain::id::id_numbered(first_id + i as u64))?,
                    false => None,
                };
                let watched = first_seen(path, found.holds_key && i == 0);
                let fresh = match free {
                    Some(free) => ids
                        .store
                        .prepare_found(der, free, path, now, &watched)
                        .map(Fresh::Prepared),
                    None => crate::domain::discovery::discovered_certificate(
                        der,
                        String::new(),
                        path,
                        now,
                    )
                    .map(|(cert, event)| {
                        Fresh::Unnumbered(Box::new(NewRecord {
                            cert,
                            secrets: Default::default(),
                            event,
                        }))
                    }),
                };
                match fresh {
                    Ok(fresh) => certs.push(Parsed {
                        fp,
                        fresh: Some(fresh),
                    }),
                    Err(_) => return Ok(Read::Skipped(st, Reason::BadPem, false)),
                }
            }
            Read::Found {
                record: FileRecord {
                    stamp: st,
                    fingerprints: certs.iter().map(|c| c.fp.clone()).collect(),
                    holds_key: found.holds_key,
                    skipped: None,
                },
                certs,
            }
        }
        // A key file (DS-3's key "beside" a certificate) is noted as one, never kept.
        Err(r) => Read::Skipped(
            st,
            r,
            r == Reason::NotACertificate
                && memchr::memmem::find(&bytes, b"PRIVATE KEY-----").is_some(),
        ),
    })
}

/// Where a certificate first found now is: the file it was read from, which holds its key
/// when a combined file's first certificate is it (the leaf's).
fn first_seen(path: &str, key: bool) -> Watched {
    Watched {
        paths: vec![path.to_string()],
        key_path: key.then(|| path.to_string()),
        ..Default::default()
    }
}

/// What taking over one site did (`scan --adopt-resources`, the More menu's `o`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SiteAdoption {
    pub name: String,
    pub cert_path: String,
    /// The resource added (`None`: not added).
    pub id: Option<String>,
    /// Why it was not added (`None` with no id: a resource of that name exists already).
    pub refusal: Option<String>,
}

impl SiteAdoption {
    pub fn line(&self) -> String {
        match (&self.id, &self.refusal) {
            (Some(id), _) => format!("resource {} ({id}) added for {}", self.name, self.cert_path),
            (None, Some(why)) => format!("resource {} not added: {why}", self.name),
            (None, None) => format!("resource {} exists already", self.name),
        }
    }
}

impl Engine {
    /// DS-2, H-2: the resources proposed for sites, each added unless one of its name exists.
    pub fn adopt_sites(
        &self,
        proposed: &[crate::domain::webconf::Proposal],
    ) -> Result<Vec<SiteAdoption>, StoreError> {
        let mut names: HashSet<String> = self
            .store
            .resources()?
            .into_iter()
            .map(|r| r.name)
            .collect();
        let mut out = Vec::new();
        for p in proposed {
            let mut row = SiteAdoption {
                name: p.name.clone(),
                cert_path: p.cert_path.clone(),
                id: None,
                refusal: None,
            };
            if !names.contains(&p.name) {
                match self.adopt_site(p)? {
                    Ok(r) => {
                        names.insert(r.name);
                        row.id = Some(r.id);
                    }
                    Err(r) => row.refusal = Some(r.to_string()),
                }
            }
            out.push(row);
        }
        Ok(out)
    }

    /// The More menu's "take over its sites": the sites a discovered certificate was last found
    /// serving, as resources.
    pub(super) fn adopt_sites_of(&self, id: &str) -> Result<crate::app::Action, StoreError> {
        let sites = self.store.watched(id)?.map(|w| w.sites).unwrap_or_default();
        if sites.is_empty() {
            return Ok(crate::app::Action::Refused(crate::domain::refusal::Refusal::new(
                "DS-2",
                crate::domain::refusal::Field::Id,
                "no site's configuration loads this certificate (scan the web server's configuration first) (DS-2)",
            )));
        }
        let proposed: Vec<_> = sites.iter().map(crate::domain::webconf::propose).collect();
        Ok(crate::app::Action::SitesAdopted(
            self.adopt_sites(&proposed)?
                .iter()
                .map(SiteAdoption::line)
                .collect(),
        ))
    }

    /// DS-2, H-2: adds the resource proposed for a site, holding the certificate its file holds
    /// now (the leaf, the file's first certificate), so a hosting with a specified certificate
    /// can replace it: the way a hand-managed site moves under certdeck's care.
    pub fn adopt_site(
        &self,
        p: &crate::domain::webconf::Proposal,
    ) -> Result<
        Result<crate::domain::resource::Resource, crate::domain::refusal::Refusal>,
        StoreError,
    > {
        let input = match p.resource_input() {
            Ok(i) => i,
            Err(r) => return Ok(Err(r)),
        };
        let r = match self.add_resource(&input)? {
            crate::app::Action::ResourceAdded(r) => *r,
            crate::app::Action::Refused(r) => return Ok(Err(r)),
            _ => {
                return Ok(Err(crate::domain::refusal::Refusal::new(
                    "RESOURCE",
                    crate::domain::refusal::Field::Name,
                    format!("resource {} was not added", p.name),
                )))
            }
        };
        if let Some(fp) = self.store.leaf_in_file(&p.cert_path)? {
            if let Some(id) = self.store.find_by_fingerprint(&fp)? {
                let event = crate::domain::model::TimelineEvent {
                    at: self.clock.now(),
                    kind: "resource".into(),
                    message: format!(
                        "found serving resource {} ({}) from {}; a hosting with a specified certificate can replace it (H-2)",
                        r.name, r.id, p.cert_path
                    ),
                };
                self.store.hold_found(&r.id, &id, &event)?;
            }
        }
        Ok(Ok(r))
    }
}

/// Reads a file the walk found in one allocation, stamped from the open file (the stamp is
/// the very file read, and its path is looked up once); one past DS-1's cap is not read.
/// The stamp is `None` when the file could not be opened.
fn read_stamped(
    path: &str,
) -> (
    Option<FileStamp>,
    Result<zeroize::Zeroizing<Vec<u8>>, Reason>,
) {
    use std::io::Read as _;
    let cap = crate::domain::discovery::MAX_FILE_BYTES;
    let opened = std::fs::File::open(path).and_then(|f| Ok((f.metadata()?, f)));
    let (meta, file) = match opened {
        Ok(o) => o,
        Err(e) => return (None, Err(io_reason(&e))),
    };
    let st = stamp(&meta);
    if st.size > cap {
        return (Some(st), Err(Reason::TooLarge));
    }
    let mut bytes = zeroize::Zeroizing::new(Vec::with_capacity(st.size as usize + 1));
    if let Err(e) = file.take(cap + 1).read_to_end(&mut bytes) {
        return (Some(st), Err(io_reason(&e)));
    }
    // Grown past the cap since it was stamped.
    if bytes.len() as u64 > cap {
        return (Some(st), Err(Reason::TooLarge));
    }
    (Some(st), Ok(bytes))
}

/// Reads a whole file (a key beside a certificate) in one allocation; one past DS-1's cap is
/// refused as too large.
fn read_file(path: &str) -> std::io::Result<Vec<u8>> {
    use std::io::Read as _;
    let cap = crate::domain::discovery::MAX_FILE_BYTES;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?
        .take(cap + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() as u64 > cap {
        return Err(std::io::Error::from(std::io::ErrorKind::InvalidData));
    }
    Ok(bytes)
}

impl Engine {
    /// DS-1, DS-3, DS-4: scans `roots` (DS-1's defaults when empty).
    pub fn scan(
        &self,
        roots: &[PathBuf],
        password: Option<&str>,
    ) -> Result<ScanReport, StoreError> {
        self.scan_with(roots, password, &|_| {})
    }

    /// `scan`, telling `progress` how far it is (after the walk, after each chunk read, before
    /// the probes).
    pub fn scan_with(
        &self,
        roots: &[PathBuf],
        password: Option<&str>,
        progress: &(dyn Fn(ScanProgress) + Sync),
    ) -> Result<ScanReport, StoreError> {
        let report = self.scan_roots(roots, password, progress)?;
        // DS-4: the tick scans these roots again, hourly.
        let roots: Vec<String> = if roots.is_empty() {
            default_roots()
                .iter()
                .map(|r| r.display().to_string())
                .collect()
        } else {
            roots.iter().map(|r| r.display().to_string()).collect()
        };
        let plan = ScanPlan::after_scan(self.store.scan_plan()?.as_ref(), &roots, self.clock.now());
        self.store.set_scan_plan(&plan)?;
        Ok(report)
    }

    /// DS-5: after a deployment, the scanned roots that hold its files are scanned again, so
    /// the certificates watched there and their sites' probes (drift) show what is served now.
    /// The hourly plan is left as it is.
    pub(super) fn rescan_after_deploy(
        &self,
        resource: &crate::domain::resource::Resource,
    ) -> Result<(), StoreError> {
        let Some(plan) = self.store.scan_plan()? else {
            return Ok(());
        };
        let roots: Vec<PathBuf> = plan
            .roots
            .iter()
            .map(PathBuf::from)
            .filter(|r| resource.targets.iter().any(|(_, t)| t.starts_with(r)))
            .collect();
        if !roots.is_empty() {
            self.scan_roots(&roots, None, &|_| {})?;
        }
        Ok(())
    }

    /// What "scan this machine" (`S`, `:scan` with no path) covers: DS-1's default roots and
    /// every root scanned before (the hourly plan's), so a directory scanned once from the CLI
    /// is rescanned on demand too (DS-4), not left to the next hour.
    pub fn machine_roots(&self) -> Result<Vec<PathBuf>, StoreError> {
        let mut roots = default_roots();
        for root in self.store.scan_plan()?.map(|p| p.roots).unwrap_or_default() {
            let root = PathBuf::from(root);
            if !roots.contains(&root) {
                roots.push(root);
            }
        }
        Ok(roots)
    }

    /// DS-4: the tick's rescan of the roots scanned before, when an hour has passed since the
    /// last scan. Says what changed, if anything did.
    pub fn rescan_if_due(&self) -> Result<Option<String>, StoreError> {
        let Some(plan) = self.store.scan_plan()? else {
            return Ok(None);
        };
        if !plan.is_due(self.clock.now()) {
            return Ok(None);
        }
        let roots: Vec<PathBuf> = plan.roots.iter().map(PathBuf::from).collect();
        let r = self.scan_with(&roots, None, &|_| {})?;
        let drift = r.probes.iter().filter(|p| p.drift).count();
        Ok(
            (r.new > 0 || r.changed > 0 || r.gone > 0 || drift > 0).then(|| {
                format!(
                    "rescan (DS-4): {} new, {} file(s) changed, {} gone, {} site(s) drifting",
                    r.new, r.changed, r.gone, drift
                )
            }),
        )
    }

    fn scan_roots(
        &self,
        roots: &[PathBuf],
        password: Option<&str>,
        progress: &(dyn Fn(ScanProgress) + Sync),
    ) -> Result<ScanReport, StoreError> {
        let report = self.scan_roots_once(roots, password, progress);
        // A scan's working memory goes back to the system once it is done (#15: a service
        // that rescans hourly does not keep a large tree's worth of freed pages).
        crate::memory::give_back();
        report
    }

    fn scan_roots_once(
        &self,
        roots: &[PathBuf],
        password: Option<&str>,
        progress: &(dyn Fn(ScanProgress) + Sync),
    ) -> Result<ScanReport, StoreError> {
        let now = self.clock.now();
        let roots: Vec<PathBuf> = if roots.is_empty() {
            default_roots()
        } else {
            roots.to_vec()
        };
        let mut report = ScanReport::default();
        progress(ScanProgress::default());
        let files = walk(&roots, &mut report.errors);
        // The files a scan stored before are stamped now, to tell the changed ones (both in
        // path order).
        let mut stored = vec![false; files.len()];
        let mut walked = files.iter().enumerate().peekable();
        self.store.each_discovered_path(|path| {
            while walked.next_if(|(_, (p, _))| p.as_str() < path).is_some() {}
            if let Some(&(i, _)) = walked.peek().filter(|(_, (p, _))| p == path) {
                stored[i] = true;
            }
        })?;
        let files = stamp_stored(files, &stored, &mut report.errors);
        drop(stored);
        report.files = files.len();
        // Sites are probed every scan (drift comes and goes without a file changing).
        let sites_now = read_sites(&files);
        // What each file read now holds (by fingerprint), for linking sites below.
        // Only the files sites load are kept (a scan of a large tree holds no second map of
        // every file).
        let site_files: HashSet<String> = sites_now.iter().map(|s| s.cert_path.clone()).collect();
        let mut change = ScanChange::default();
        let in_roots = |p: &str| roots.iter().any(|r| Path::new(p).starts_with(r));
        // Every certificate this scan sees, by its SHA-256 (as bytes: #15, a rescan of 100,000
        // files holds one of these each, half the size of the hex and compared in one go).
        let mut found: BTreeMap<[u8; 32], Seen> = BTreeMap::new();
        // What the scans before stored of these files, read in one pass beside the walk (both
        // in path order; #15: no map of every stored file): an unchanged file counts as read,
        // a changed one is read again, and a stored one under these roots that the walk did
        // not find is gone.
        let mut unchanged = vec![false; files.len()];
        // The fingerprints a changed file held before (when it was stored), by its index.
        let mut held_before: std::collections::HashMap<u32, Vec<String>> = Default::default();
        // What the files sites load held, as stored.
        let mut site_known: BTreeMap<String, Vec<String>> = BTreeMap::new();
        // Files holding only a private key, by path (never their content).
        let mut key_files: Vec<String> = Vec::new();
        let mut walked = files.iter().enumerate().peekable();
        self.store.each_discovered_file(|path, rec| {
            while walked.next_if(|(_, (p, _))| p.as_str() < path).is_some() {}
            match walked.peek() {
                Some(&(i, (p, st))) if p == path => {
                    if site_files.contains(path) {
                        site_known.insert(path.to_string(), rec.fingerprints.clone());
                    }
                    if Some(rec.stamp) != *st {
                        held_before.insert(i as u32, rec.fingerprints);
                        return;
                    }
                    unchanged[i] = true;
                    if rec.holds_key && rec.fingerprints.is_empty() {
                        key_files.push(path.to_string());
                    }
                    if let Some(reason) = rec.skipped {
                        report.errors.push(ScanError {
                            path: path.to_string(),
                            reason,
                        });
                    }
                    for (k, fp) in rec.fingerprints.iter().enumerate() {
                        note(&mut found, fp, i as u32, rec.holds_key && k == 0);
                    }
                }
                _ => {
                    if in_roots(path) {
                        change.files_removed.push(path.to_string());
                    }
                }
            }
        })?;
        // By index into `files`: what this scan holds of a path is its index.
        let changed: Vec<(u32, &Listed)> = files
            .iter()
            .enumerate()
            .filter(|(i, _)| !unchanged[*i])
            .map(|(i, f)| (i as u32, f))
            .collect();
        drop(unchanged);
        // Nothing changed, nothing gone: the counts come from what is stored, nothing is
        // written (a rescan every tick period stays cheap, DS-4).
        if changed.is_empty() && change.files_removed.is_empty() && sites_now.is_empty() {
            report.certificates = found.len();
            report.unchanged = found.len();
            report.sites = sites_now;
            report.proposed = report
                .sites
                .iter()
                .map(crate::domain::webconf::propose)
                .collect();
            return Ok(report);
        }
        let mut changed_paths = BTreeMap::new();
        let mut read_now: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let memory_bound = crate::memory::resident_bytes().unwrap_or(0) + SCAN_MEMORY_GROWTH;
        let txn = self.store.scan_txn()?;
        // Files are read and parsed on other threads while this one stores the chunk before:
        // the reading keeps both cores busy and the store's writes overlap with it.
        std::thread::scope(|s| -> Result<(), StoreError> {
            let changed = &changed;
            let ids = IdRun {
                start: txn.id_run(changed.len() as u64 * SLOTS),
                store: &self.store,
            };
            // Two readers for the whole scan, each reading its half of every chunk and at most
            // one chunk ahead of this thread (memory stays bounded).
            let readers: Vec<_> = (0..2)
                .map(|half| {
                    let (tx, rx) =
                        std::sync::mpsc::sync_channel::<Result<Vec<Read>, StoreError>>(1);
                    let snapshot = self.store.scan_snapshot();
                    s.spawn(move || {
                        let snapshot = match snapshot {
                            Ok(snapshot) => snapshot,
                            Err(e) => return drop(tx.send(Err(e))),
                        };
                        for chunk in changed.chunks(CHUNK) {
                            let split = chunk.len().div_ceil(2);
                            let part = if half == 0 {
                                &chunk[..split]
                            } else {
                                &chunk[split..]
                            };
                            let read = read_all(part, password, ids, &snapshot, now);
                            let failed = read.is_err();
                            if tx.send(read).is_err() || failed {
                                break;
                            }
                        }
                    });
                    rx
                })
                .collect();
            let stopped = || StoreError::Db("a thread reading the files stopped".into());
            let rx = changed
                .chunks(CHUNK)
                .map(|_| -> Result<[Vec<Read>; 2], StoreError> {
                    // The halves stay apart: joining them would copy the chunk's reads.
                    Ok([
                        readers[0].recv().map_err(|_| stopped())??,
                        readers[1].recv().map_err(|_| stopped())??,
                    ])
                });
            let reading = |done| ScanProgress {
                phase: ScanPhase::Reading,
                done,
                total: changed.len(),
            };
            progress(reading(0));
            for (n, (chunk, reads)) in changed.chunks(CHUNK).zip(rx).enumerate() {
                let reads = reads?;
                // Sized for the chunk up front: grown by doubling, these cost the writer (the
                // scan's slowest thread) copies and page faults.
                let mut chunk_change = ScanChange {
                    files_put: Vec::with_capacity(chunk.len()),
                    ..Default::default()
                };
                // New records: encoded ahead (most), or still to be given an id here.
                let mut prepared = Vec::with_capacity(chunk.len());
                let mut unprepared = Vec::new();
                for (&(index, (path, _)), read) in chunk.iter().zip(reads.into_iter().flatten()) {
                    match read {
                        Read::Found { record, certs } => {
                            for (i, c) in certs.into_iter().enumerate() {
                                // A combined file's key is the first certificate's (the leaf's).
                                let key = record.holds_key && i == 0;
                                // Stored when no record held it and this scan has not yet.
                                let first = note(&mut found, &c.fp, index, key);
                                match (c.fresh, first) {
                                    (Some(Fresh::Prepared(p)), Some(seen)) => {
                                        seen.made = p.id.as_bytes().try_into().ok();
                                        prepared.push(p)
                                    }
                                    (Some(Fresh::Unnumbered(rec)), Some(_)) => {
                                        unprepared.push((*rec, first_seen(path, key)))
                                    }
                                    _ => {}
                                }
                            }
                            if let Some(old) = held_before.get(&index) {
                                if *old != record.fingerprints {
                                    report.changed += 1;
                                    changed_paths.insert(path.clone(), old.clone());
                                }
                            }
                            chunk_change.files_put.push((path.clone(), record));
                        }
                        Read::Vanished(reason) => {
                            // Deleted since the walk (a stored file is stamped, never this).
                            report.files = report.files.saturating_sub(1);
                            report.errors.push(ScanError {
                                path: path.clone(),
                                reason,
                            });
                        }
                        Read::Skipped(st, reason, key_file) => {
                            if key_file {
                                key_files.push(path.clone());
                            }
                            report.errors.push(ScanError {
                                path: path.clone(),
                                reason,
                            });
                            if let Some(old) = held_before.get(&index) {
                                if !old.is_empty() {
                                    report.changed += 1;
                                    changed_paths.insert(path.clone(), old.clone());
                                }
                            }
                            // Kept with its reason, so a rescan reads it again only when it changes.
                            chunk_change.files_put.push((
                                path.clone(),
                                FileRecord {
                                    stamp: st,
                                    fingerprints: Vec::new(),
                                    holds_key: key_file,
                                    skipped: Some(reason),
                                },
                            ));
                        }
                    }
                }
                report.new += prepared.len();
                let fresh = txn.new_ids(unprepared.len())?;
                report.new += unprepared.len();
                for ((mut rec, seen), id) in unprepared.into_iter().zip(fresh) {
                    rec.cert.id = id;
                    chunk_change.new.push((rec, seen));
                }
                // In id order: B-tree inserts in key order stay in the pages just touched.
                chunk_change
                    .new
                    .sort_unstable_by(|a, b| a.0.cert.id.cmp(&b.0.cert.id));
                for (p, r) in &chunk_change.files_put {
                    if site_files.contains(p.as_str()) {
                        read_now.insert(p.clone(), r.fingerprints.clone());
                    }
                }
                // The chunk's file records go with its prepared records (off this thread).
                let files = std::mem::take(&mut chunk_change.files_put);
                txn.insert_prepared(&prepared, &files)?;
                drop((prepared, files));
                txn.apply(&chunk_change)?;
                drop(chunk_change);
                // #15: what the chunk freed is reused by the next one; past the bound it goes
                // back to the system (a scan of 100,000 files stays under 100 MB, one of 10,000
                // does not fault its pages in again).
                crate::memory::reuse_or_give_back(memory_bound);
                progress(reading((n * CHUNK + chunk.len()).min(changed.len())));
            }
            Ok(())
        })?;
        report.certificates = found.len();
        let sites = sites_now;
        // Every certificate seen now, by the id of its record: the ones a record held before
        // this scan (the unchanged ones) and the few it numbered past its run, looked up by
        // fingerprint; apart from them, the records it made from its run.
        // The records made stay where they are in `found` (#15: a scan of 100,000 new files
        // holds no second list of them).
        let mut seen_by_id: BTreeMap<String, ([u8; 32], Seen)> = BTreeMap::new();
        {
            let id_of = txn.fingerprint_lookup()?;
            let mut failed = None;
            found.retain(|fp, seen| {
                if seen.made.is_some() || failed.is_some() {
                    return true;
                }
                match id_of(&crate::domain::cert::lower_hex(fp)) {
                    Ok(Some(id)) => drop(seen_by_id.insert(id, (*fp, std::mem::take(seen)))),
                    Ok(None) => {}
                    Err(e) => failed = Some(e),
                }
                false
            });
            if let Some(e) = failed {
                return Err(e);
            }
        }
        let made = found;
        report.unchanged = (seen_by_id.len() + made.len()).saturating_sub(report.new);
        let key_dirs: HashSet<&Path> = key_files
            .iter()
            .filter_map(|k| Path::new(k).parent())
            .collect();
        // What changes of a watched record's whereabouts, `seen` where this scan saw it; `true`
        // keeps it (below).
        let mut look = |id: &str, old: &Watched, seen: Option<&Seen>| {
            let mut touched = false;
            if let Some(seen) = seen {
                let path_of = |i: u32| files[i as usize].0.clone();
                // Paths outside these roots stay (a scan of one directory does not forget the
                // others).
                let mut all: BTreeSet<String> =
                    old.paths.iter().filter(|p| !in_roots(p)).cloned().collect();
                all.extend(seen.paths().map(path_of));
                let w = Watched {
                    paths: all.into_iter().collect(),
                    key_path: seen.key.map(path_of).or_else(|| old.key_path.clone()),
                    gone_at: None,
                    sites: old.sites.clone(),
                    drift: old.drift.clone(),
                };
                if &w != old {
                    let event = old.gone_at.map(|_| crate::domain::model::TimelineEvent {
                        at: now,
                        kind: "discovered".into(),
                        message: format!("found again in {} (DS-4)", w.paths.join(", ")),
                    });
                    change.watched.push((id.to_string(), w, event));
                    touched = true;
                }
            }
            let live = old.gone_at.is_none();
            // DS-4: one no file under these roots holds any more is gone (below).
            let gone = live && seen.is_none() && old.paths.iter().all(|p| in_roots(p));
            // DS-2: its sites are linked again.
            let linked = live
                && (!sites.is_empty() || !old.sites.is_empty())
                && old.paths.iter().any(|p| in_roots(p));
            // DS-3: a key file lies beside it.
            let keyed = live
                && old.key_path.is_none()
                && old
                    .paths
                    .iter()
                    .any(|p| Path::new(p).parent().is_some_and(|d| key_dirs.contains(d)));
            touched || gone || linked || keyed
        };
        // One pass over the watched records, none of them held in memory but the few the
        // sites, the keys beside and the gone ones concern (#15: a scan of 100,000 files keeps
        // no second copy of every record).
        let mut watched_all =
            txn.watched_where(|id, old| look(id, old, seen_by_id.get(id).map(|(_, s)| s)))?;
        // The records this scan made from its run are not read back: where each is is what
        // this scan wrote (`Seen::made_where`).
        for seen in made.values() {
            // One no other file holds, with no site to link and no key file to look for,
            // stays as written (most of an empty store's scan: `look` is not asked).
            if seen.more.is_empty() && sites.is_empty() && key_dirs.is_empty() {
                debug_assert!(!look(
                    &seen.made_id().unwrap_or_default(),
                    &seen.made_where(&files),
                    Some(seen)
                ));
                continue;
            }
            let Some(id) = seen.made_id() else { continue };
            let old = seen.made_where(&files);
            if look(&id, &old, Some(seen)) {
                watched_all.insert(id, old);
            }
        }
        // Fingerprints by id: with sites to probe, every one seen now (the probes name what is
        // served); otherwise only the records kept above need theirs.
        let fp_of: BTreeMap<String, String> = seen_by_id
            .into_iter()
            .map(|(id, (fp, _))| (id, fp))
            .chain(
                made.into_iter()
                    .filter_map(|(fp, seen)| Some((seen.made_id()?, fp))),
            )
            .filter(|(id, _)| !sites.is_empty() || watched_all.contains_key(id))
            .map(|(id, fp)| (id, crate::domain::cert::lower_hex(&fp)))
            .collect();
        // DS-4: a watched certificate no file under these roots holds any more is gone, not
        // deleted; one whose file now holds another says so.
        for (id, w) in &watched_all {
            if fp_of.contains_key(id) || w.gone_at.is_some() {
                continue;
            }
            if !w.paths.iter().all(|p| in_roots(p)) {
                continue;
            }
            report.gone += 1;
            let replaced: Vec<&String> = w
                .paths
                .iter()
                .filter(|p| changed_paths.contains_key(*p))
                .collect();
            let message = if replaced.is_empty() {
                format!(
                    "gone: no file holds it any more (was {}) (DS-4)",
                    w.paths.join(", ")
                )
            } else {
                format!(
                    "replaced on disk: {} now holds another certificate (renewed by another tool?) (DS-4)",
                    replaced
                        .iter()
                        .map(|p| p.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            };
            change.watched.push((
                id.clone(),
                Watched {
                    gone_at: Some(now),
                    ..w.clone()
                },
                Some(crate::domain::model::TimelineEvent {
                    at: now,
                    kind: "gone".into(),
                    message,
                }),
            ));
        }
        // DS-2: the sites the configurations under these roots load, linked to what they load.
        let mut file_fps = site_known;
        file_fps.extend(read_now);
        link_sites(&mut change, &watched_all, &sites, &file_fps, &roots, &fp_of);
        keys_beside(&mut change, &watched_all, &key_files, &fp_of);
        progress(ScanProgress {
            phase: ScanPhase::Probing,
            done: 0,
            total: sites.len(),
        });
        let warned = self.store.expiring_intermediates()?;
        report.probes = probe_sites(
            &sites,
            &file_fps,
            &mut change,
            &watched_all,
            &fp_of,
            &warned,
            now,
        );
        report.proposed = sites.iter().map(crate::domain::webconf::propose).collect();
        report.sites = sites;
        txn.apply(&change)?;
        txn.commit()?;
        Ok(report)
    }
}

/// DS-3: a certificate with no key yet gets the key file in a directory holding it whose
/// public key matches (Let's Encrypt's `privkey.pem` beside `fullchain.pem`, `/etc/ssl/private`
/// pairs named alike). Keys are read to compare, dropped (zeroized) after, and only their path
/// is kept. Encrypted keys cannot be compared without their password and are passed over.
fn keys_beside(
    change: &mut ScanChange,
    watched_all: &BTreeMap<String, Watched>,
    key_files: &[String],
    fp_of: &BTreeMap<String, String>,
) {
    use std::collections::HashMap;
    if key_files.is_empty() {
        return;
    }
    let mut by_dir: HashMap<&Path, Vec<&str>> = HashMap::new();
    for k in key_files {
        if let Some(dir) = Path::new(k).parent() {
            by_dir.entry(dir).or_default().push(k);
        }
    }
    // Each key file read at most once per scan.
    let mut keys: HashMap<String, Vec<crate::domain::key::PrivateKey>> = HashMap::new();
    let mut key_of = |path: &str, public: &crate::domain::key::PublicKey| -> bool {
        let parsed = keys.entry(path.to_string()).or_insert_with(|| {
            let Ok(bytes) = read_file(path).map(zeroize::Zeroizing::new) else {
                return Vec::new();
            };
            let Ok(text) = std::str::from_utf8(&bytes) else {
                return Vec::new();
            };
            crate::domain::pem::scan_expecting(text, "PRIVATE KEY")
                .unwrap_or_default()
                .into_iter()
                .filter(|b| crate::domain::key::is_private_key_label(&b.label))
                .filter_map(|b| {
                    crate::domain::key::parse_private_key(&b.label, &b.der, &b.headers, None).ok()
                })
                .collect()
        });
        parsed.iter().any(|k| k.belongs_to(public))
    };
    let pending: Vec<(String, Watched)> = {
        let touched: HashMap<&str, &Watched> = change
            .watched
            .iter()
            .map(|(id, w, _)| (id.as_str(), w))
            .collect();
        watched_all
            .iter()
            .map(|(id, w)| (id, touched.get(id.as_str()).copied().unwrap_or(w)))
            .filter(|(_, w)| w.key_path.is_none() && w.gone_at.is_none())
            .filter(|(_, w)| {
                w.paths.iter().any(|p| {
                    Path::new(p)
                        .parent()
                        .is_some_and(|d| by_dir.contains_key(d))
                })
            })
            .map(|(id, w)| (id.clone(), w.clone()))
            .collect()
    };
    for (id, mut w) in pending {
        let Some(fp) = fp_of.get(&id) else { continue };
        let Some(public) = public_key_of(&w.paths, fp) else {
            continue;
        };
        let found = w.paths.iter().find_map(|p| {
            let dir = Path::new(p).parent()?;
            by_dir
                .get(dir)?
                .iter()
                .find(|k| key_of(k, &public))
                .map(|k| k.to_string())
        });
        let Some(key_path) = found else { continue };
        w.key_path = Some(key_path);
        match change.watched.iter_mut().find(|(i, _, _)| *i == id) {
            Some(entry) => entry.1 = w,
            None => change.watched.push((id, w, None)),
        }
    }
}

/// The public key of the certificate `fp` in one of `paths`.
fn public_key_of(paths: &[String], fp: &str) -> Option<crate::domain::key::PublicKey> {
    paths.iter().find_map(|p| {
        let bytes = read_file(p).ok()?;
        let found = parse_file(p, &bytes, None).ok()?;
        found.certs.iter().find_map(|der| {
            let parsed = crate::domain::cert::parse_certificate(der).ok()?;
            (parsed.facts.fingerprint_sha256 == fp)
                .then_some(parsed.public_key)
                .flatten()
        })
    })
}

/// Configuration entry points a scan reads (DS-2).
const CONFIGS: [(&str, crate::domain::webconf::Server); 4] = [
    ("nginx.conf", crate::domain::webconf::Server::Nginx),
    ("apache2.conf", crate::domain::webconf::Server::Apache),
    ("httpd.conf", crate::domain::webconf::Server::Apache),
    ("haproxy.cfg", crate::domain::webconf::Server::Haproxy),
];

/// Reads a configuration file (at most 1 MiB) as text.
fn read_text(path: &Path) -> Option<String> {
    crate::sidefile::read_capped(path, crate::domain::discovery::MAX_FILE_BYTES)
        .ok()
        .map(|b| String::from_utf8_lossy(&b).into_owned())
}

/// The files an include pattern names, relative to `base`: `*` and `?` in the last component
/// only (as `sites-enabled/*` and `conf.d/*.conf` are), at most 1,000 files.
fn include(base: &Path, pattern: &str) -> Vec<(String, String)> {
    let full = if Path::new(pattern).is_absolute() {
        PathBuf::from(pattern)
    } else {
        base.join(pattern)
    };
    let (dir, name) = match (full.parent(), full.file_name().and_then(|n| n.to_str())) {
        (Some(d), Some(n)) => (d.to_path_buf(), n.to_string()),
        _ => return Vec::new(),
    };
    if !name.contains(['*', '?']) {
        return read_text(&full)
            .map(|t| vec![(full.display().to_string(), t)])
            .unwrap_or_default();
    }
    let Ok(entries) = std::fs::read_dir(&dir) else {
        return Vec::new();
    };
    let mut names: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| crate::domain::webconf::glob_match(&name, n))
        })
        .filter(|p| p.is_file())
        .take(1000)
        .collect();
    names.sort();
    names
        .into_iter()
        .filter_map(|p| read_text(&p).map(|t| (p.display().to_string(), t)))
        .collect()
}

/// Every site the configuration files among `files` describe.
fn read_sites(files: &[Listed]) -> Vec<crate::domain::webconf::Site> {
    use crate::domain::webconf::{apache_sites, haproxy_sites, nginx_sites, Server};
    let mut sites = Vec::new();
    for (path, _) in files {
        let p = Path::new(path);
        let Some(name) = p.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Some((_, server)) = CONFIGS.iter().find(|(n, _)| *n == name) else {
            continue;
        };
        let base = p.parent().unwrap_or(Path::new("/")).to_path_buf();
        // nginx's own view of its configuration, when the binary is here and accepts it.
        let dumped = match server {
            Server::Nginx => nginx_dump(p),
            _ => None,
        };
        let found = match (server, dumped) {
            (Server::Nginx, Some(files)) => {
                let load = |pattern: &str| {
                    crate::domain::webconf::dump_include(
                        &files,
                        &base.display().to_string(),
                        pattern,
                    )
                };
                nginx_sites(&files[0].0, &files[0].1, &load)
            }
            _ => {
                let Some(text) = read_text(p) else { continue };
                let load = |pattern: &str| include(&base, pattern);
                match server {
                    Server::Nginx => nginx_sites(path, &text, &load),
                    Server::Apache => apache_sites(path, &text, &load),
                    Server::Haproxy => haproxy_sites(path, &text),
                }
            }
        };
        // Relative certificate paths are relative to the main configuration's directory
        // (nginx's prefix, Apache's ServerRoot as Debian and Red Hat lay them out).
        sites.extend(found.into_iter().map(|mut s| {
            s.main = path.clone();
            absolute_paths(s, &base)
        }));
    }
    sites
}

/// `nginx -T -c CONF`: the configuration as nginx itself reads it (every include resolved the
/// way nginx does), or `None` when there is no nginx binary or it refuses the file (then the
/// files are read and parsed directly). Bounded: 5 s, 8 MiB.
fn nginx_dump(conf: &Path) -> Option<Vec<(String, String)>> {
    let binary = ["/usr/sbin/nginx", "/usr/bin/nginx", "/usr/local/sbin/nginx"]
        .iter()
        .map(PathBuf::from)
        .find(|p| p.is_file())?;
    let out = crate::deploy::command::capture_stdout(
        &binary,
        &[
            "-T".as_ref(),
            "-q".as_ref(),
            "-c".as_ref(),
            conf.as_os_str(),
        ],
        std::time::Duration::from_secs(5),
        8 << 20,
    )
    .ok()?;
    let files = crate::domain::webconf::split_nginx_dump(&String::from_utf8_lossy(&out));
    // The dump must be of this file (nginx names its main file first).
    (files.first()?.0 == conf.display().to_string()).then_some(files)
}

fn absolute_paths(
    mut s: crate::domain::webconf::Site,
    base: &Path,
) -> crate::domain::webconf::Site {
    if !Path::new(&s.cert_path).is_absolute() {
        s.cert_path = base.join(&s.cert_path).display().to_string();
    }
    if let Some(k) = s
        .key_path
        .as_mut()
        .filter(|k| !Path::new(k.as_str()).is_absolute())
    {
        *k = base.join(&*k).display().to_string();
    }
    s
}

/// DS-2, DS-3: each watched certificate gets the sites that load a file holding it; a site
/// naming its key gives the leaf of its certificate file that key path.
fn link_sites(
    change: &mut ScanChange,
    watched_all: &BTreeMap<String, Watched>,
    sites: &[crate::domain::webconf::Site],
    file_fps: &BTreeMap<String, Vec<String>>,
    roots: &[PathBuf],
    fp_of: &BTreeMap<String, String>,
) {
    let loads = |site: &crate::domain::webconf::Site, path: &str| {
        site.cert_path == path
            || (site.cert_path.ends_with('/') && path.starts_with(&site.cert_path))
            || Path::new(path).parent() == Some(Path::new(site.cert_path.trim_end_matches('/')))
    };
    // A site's key is the key of the leaf (the first certificate) of the file it loads.
    let is_leaf = |site: &crate::domain::webconf::Site, fp: Option<&str>| {
        fp.is_some_and(|fp| {
            file_fps
                .get(&site.cert_path)
                .and_then(|fps| fps.first())
                .is_some_and(|first| first == fp)
        })
    };
    let apply = |w: &mut Watched, fp: Option<&str>| {
        let mine: Vec<crate::domain::webconf::Site> = sites
            .iter()
            .filter(|s| w.paths.iter().any(|p| loads(s, p)))
            .cloned()
            .collect();
        if w.key_path.is_none() {
            w.key_path = mine
                .iter()
                .filter(|s| is_leaf(s, fp))
                .find_map(|s| s.key_path.clone());
        }
        w.sites = mine;
    };
    let new_fps: BTreeMap<String, String> = change
        .new
        .iter()
        .filter_map(|(r, _)| {
            r.cert
                .x509
                .as_ref()
                .map(|x| (r.cert.id.clone(), x.fingerprint_sha256.clone()))
        })
        .collect();
    for (rec, w) in change.new.iter_mut() {
        apply(w, new_fps.get(&rec.cert.id).map(String::as_str));
    }
    for (id, w, _) in change.watched.iter_mut() {
        apply(w, fp_of.get(id).map(String::as_str));
    }
    let touched: HashSet<String> = change.watched.iter().map(|(id, _, _)| id.clone()).collect();
    for (id, old) in watched_all {
        if touched.contains(id) || old.gone_at.is_some() {
            continue;
        }
        if !old
            .paths
            .iter()
            .any(|p| roots.iter().any(|r| Path::new(p).starts_with(r)))
        {
            continue;
        }
        let mut w = old.clone();
        apply(&mut w, fp_of.get(id).map(String::as_str));
        if &w != old {
            change.watched.push((id.clone(), w, None));
        }
    }
}

impl Engine {
    /// DS-5: the file a scanned site configures for `port` and `sni` and the fingerprint of the
    /// certificate it holds (its first), to judge a probe's drift.
    pub fn configured_for(
        &self,
        port: u16,
        sni: &str,
    ) -> Result<Option<(String, String)>, StoreError> {
        for w in self.store.watched_all()?.values() {
            for site in &w.sites {
                let listens = site.listen.iter().any(|l| {
                    l.rsplit(':')
                        .next()
                        .and_then(|p| p.split_whitespace().next())
                        == Some(&port.to_string())
                });
                let named = site.names.iter().any(|n| {
                    n.eq_ignore_ascii_case(sni)
                        || n.strip_prefix("*.").is_some_and(|base| {
                            sni.split_once('.')
                                .is_some_and(|(_, rest)| rest.eq_ignore_ascii_case(base))
                        })
                });
                if listens && named {
                    if let Some(fp) = self.store.leaf_in_file(&site.cert_path)? {
                        return Ok(Some((site.cert_path.clone(), fp)));
                    }
                }
            }
        }
        Ok(None)
    }
}

impl Engine {
    /// DS-3: `adopt ID`: the key found beside a discovered certificate is read (as an upload
    /// reads it) and the certificate becomes `uploaded`, its key sealed.
    pub fn adopt(
        &self,
        id: &str,
        key_password: Option<Vec<u8>>,
    ) -> Result<crate::app::Action, StoreError> {
        use crate::app::Action;
        use crate::domain::refusal::{Field, Refusal};
        let refuse = |m: String| Ok(Action::Refused(Refusal::new("DS-3", Field::Id, m)));
        let (Some(cert), Some(w)) = (self.store.get(id)?, self.store.watched(id)?) else {
            return refuse(format!("{id} is not a discovered certificate"));
        };
        let Some(key_path) = &w.key_path else {
            return refuse(format!(
                "no key was found for {id}: it stays watched without one (import it with its key instead)"
            ));
        };
        let Some(cert_path) = w.paths.first() else {
            return refuse(format!("{id}: no file holds it any more"));
        };
        let read = |p: &str| {
            crate::sidefile::read_capped(Path::new(p), crate::domain::discovery::MAX_FILE_BYTES)
                .map_err(|e| format!("{p}: {e}"))
        };
        let (cert_bytes, key_bytes) = match (read(cert_path), read(key_path)) {
            (Ok(c), Ok(k)) => (c, zeroize::Zeroizing::new(k)),
            (Err(e), _) | (_, Err(e)) => return Ok(Action::Failed(e)),
        };
        let upload = crate::domain::rules::upload::UploadInput {
            cert: cert_bytes,
            key: Some(key_bytes.to_vec()),
            key_password,
            ..Default::default()
        };
        let now = self.clock.now();
        let v = match self.validate_with_anchors(&upload)? {
            Ok(v) => v,
            Err(r) => return Ok(Action::Refused(r)),
        };
        let (updated, event) = match crate::domain::discovery::adopted(&cert, &v, now) {
            Ok(x) => x,
            Err(r) => return Ok(Action::Refused(r)),
        };
        let fired = crate::domain::schedule::Fired {
            event,
            updated: Some(updated),
            new_key_pem: Some(v.key.to_pem().to_string()),
            ..Default::default()
        };
        self.store.apply_effect(id, &fired)?;
        self.store.forget_watched(id)?;
        Ok(match self.store.get(id)? {
            Some(c) => Action::RecordSaved(Box::new(c.summary()), fired.event.message.clone()),
            None => Action::Failed(format!("{id} is no longer in the store")),
        })
    }
}

/// Probes run at once with each scan, and each one's deadline (DS-5).
const PROBES_AT_ONCE: usize = 8;
const PROBE_DEADLINE: std::time::Duration = std::time::Duration::from_secs(3);
/// At most this many listeners are probed per scan.
const MAX_PROBES: usize = 256;

/// DS-5: every listener the sites name is probed (bounded in number, in parallel, each within
/// its deadline); a site serving another certificate than its file's is drift, recorded on the
/// file's certificate with a timeline event and a message.
fn probe_sites(
    sites: &[crate::domain::webconf::Site],
    file_fps: &BTreeMap<String, Vec<String>>,
    change: &mut ScanChange,
    watched_all: &BTreeMap<String, Watched>,
    fp_of: &BTreeMap<String, String>,
    warned: &BTreeMap<String, crate::domain::discovery::ExpiringIntermediate>,
    now: crate::domain::time::Timestamp,
) -> Vec<crate::domain::discovery::SiteProbe> {
    use crate::domain::discovery::{probe_targets, Drift, ExpiringIntermediate, SiteProbe};
    let mut targets: Vec<(String, String, String)> = Vec::new();
    for s in sites {
        for (addr, sni) in probe_targets(s) {
            if !targets.iter().any(|t| t.0 == addr && t.1 == sni) && targets.len() < MAX_PROBES {
                targets.push((addr, sni, s.cert_path.clone()));
            }
        }
    }
    let mut results = Vec::new();
    for chunk in targets.chunks(PROBES_AT_ONCE) {
        let got: Vec<_> = std::thread::scope(|sc| {
            let hs: Vec<_> = chunk
                .iter()
                .map(|(a, n, _)| {
                    sc.spawn(move || crate::deploy::probe::probe(a, n, None, PROBE_DEADLINE))
                })
                .collect();
            hs.into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|_| Err("the probe stopped unexpectedly".into()))
                })
                .collect()
        });
        results.extend(chunk.iter().cloned().zip(got));
    }
    let id_of: BTreeMap<&str, &str> = fp_of
        .iter()
        .map(|(id, fp)| (fp.as_str(), id.as_str()))
        .collect();
    let mut out = Vec::new();
    for ((address, sni, path), r) in results {
        let configured = file_fps.get(&path).and_then(|f| f.first()).cloned();
        let (served, earliest, error, intermediate) =
            match r {
                Ok(p) => {
                    let s = crate::domain::probe::summarize(&p.chain);
                    let intermediate = crate::domain::probe::expiring_intermediate(&s.chain, now)
                        .map(|c| ExpiringIntermediate {
                            address: address.clone(),
                            subject: c.subject.clone(),
                            fingerprint_sha256: c.fingerprint_sha256.clone(),
                            not_after: c.not_after,
                        });
                    (
                        s.chain.first().map(|c| c.fingerprint_sha256.clone()),
                        s.earliest_expiry,
                        None,
                        intermediate,
                    )
                }
                Err(e) => (None, None, Some(e), None),
            };
        // DS-5: the served leaf's record (or the configured one's) learns of an intermediate
        // ending soon; the message is raised once per intermediate.
        if error.is_none() {
            let holder = served
                .as_deref()
                .and_then(|s| id_of.get(s))
                .or_else(|| configured.as_deref().and_then(|c| id_of.get(c)));
            if let Some(id) = holder {
                let before = warned.get(*id);
                let already = change.intermediates.iter().any(|(i, _, _)| i == id);
                if !already && before != intermediate.as_ref() {
                    let event = intermediate
                        .as_ref()
                        .filter(|i| {
                            before.map(|b| &b.fingerprint_sha256) != Some(&i.fingerprint_sha256)
                        })
                        .map(|i| crate::domain::model::TimelineEvent {
                            at: now,
                            kind: "intermediate_expiring".into(),
                            message: format!(
                                "{address} ({sni}) serves the intermediate {} ending {}, before this certificate: clients will fail then; serve its successor (DS-5)",
                                i.subject,
                                i.not_after.format("%Y-%m-%d %H:%M UTC")
                            ),
                        });
                    change
                        .intermediates
                        .push((id.to_string(), intermediate.clone(), event));
                }
            }
        }
        let drift = crate::domain::probe::is_drift(configured.as_deref(), served.as_deref());
        // The same certificate served again: a drift seen before is over.
        if let (false, Some(c), Some(_)) = (drift, &configured, &served) {
            if let Some(id) = id_of.get(c.as_str()) {
                match change.watched.iter_mut().find(|(i, _, _)| i == id) {
                    Some((_, w, _)) => w.drift = None,
                    None => {
                        if let Some(old) = watched_all.get(*id).filter(|w| w.drift.is_some()) {
                            let mut w = old.clone();
                            w.drift = None;
                            change.watched.push((id.to_string(), w, None));
                        }
                    }
                }
            }
        }
        if let (true, Some(c), Some(s)) = (drift, &configured, &served) {
            let event = crate::domain::model::TimelineEvent {
                at: now,
                kind: "drift".into(),
                message: format!(
                    "drift: {address} ({sni}) serves {}…, but {path} holds this certificate: renewed on disk, not reloaded? (DS-5)",
                    &s[..16.min(s.len())]
                ),
            };
            if let Some(id) = id_of.get(c.as_str()) {
                let d = Drift {
                    address: address.clone(),
                    sni: sni.clone(),
                    path: path.clone(),
                    configured_fingerprint_sha256: c.clone(),
                    served_fingerprint_sha256: s.clone(),
                    seen_at: now,
                };
                match change.watched.iter_mut().find(|(i, _, _)| i == id) {
                    Some((_, w, ev)) => {
                        let first =
                            w.drift.as_ref().map(|x| &x.served_fingerprint_sha256) != Some(s);
                        w.drift = Some(d);
                        if first && ev.is_none() {
                            *ev = Some(event);
                        }
                    }
                    None => {
                        if let Some(old) = watched_all.get(*id) {
                            let first =
                                old.drift.as_ref().map(|x| &x.served_fingerprint_sha256) != Some(s);
                            let mut w = old.clone();
                            w.drift = Some(d);
                            change
                                .watched
                                .push((id.to_string(), w, first.then_some(event)));
                        }
                    }
                }
            }
        }
        out.push(SiteProbe {
            address,
            sni,
            served_fingerprint_sha256: served,
            earliest_expiry: earliest,
            error,
            drift,
            expiring_intermediate: intermediate,
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::discovery::MAX_FILE_BYTES;

    fn stamp_of(path: &Path) -> FileStamp {
        stamp(&std::fs::metadata(path).unwrap())
    }

    #[test]
    fn rule_ds1_a_file_is_stamped_from_the_very_file_read_and_one_too_large_is_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let small = dir.path().join("a.pem");
        std::fs::write(&small, b"hello").unwrap();
        let (st, content) = read_stamped(small.to_str().unwrap());
        assert_eq!(st, Some(stamp_of(&small)));
        assert_eq!(content.unwrap().as_slice(), b"hello");
        // Exactly the cap is read; one byte more is not (the stamp says so before reading).
        let at_cap = dir.path().join("at-cap.pem");
        let past = dir.path().join("past.pem");
        std::fs::File::create(&at_cap)
            .unwrap()
            .set_len(MAX_FILE_BYTES)
            .unwrap();
        std::fs::File::create(&past)
            .unwrap()
            .set_len(MAX_FILE_BYTES + 1)
            .unwrap();
        let (_, content) = read_stamped(at_cap.to_str().unwrap());
        assert_eq!(content.unwrap().len() as u64, MAX_FILE_BYTES);
        let (st, content) = read_stamped(past.to_str().unwrap());
        assert_eq!(st, Some(stamp_of(&past)));
        assert_eq!(content.err(), Some(Reason::TooLarge));
        // Gone since the walk: no stamp, and why.
        let (st, content) = read_stamped(dir.path().join("gone.pem").to_str().unwrap());
        assert_eq!((st, content.err()), (None, Some(Reason::BrokenSymlink)));
    }

    #[test]
    fn rule_ds4_only_files_stored_before_are_stamped_ahead_and_one_gone_since_is_left_out_with_why()
    {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, c) = (
            dir.path().join("a.pem"),
            dir.path().join("b.pem"),
            dir.path().join("c.pem"),
        );
        std::fs::write(&a, b"a").unwrap();
        std::fs::write(&c, b"c").unwrap();
        let listed: Vec<Listed> = [&a, &b, &c]
            .iter()
            .map(|p| (p.display().to_string(), None))
            .collect();
        let mut errors = Vec::new();
        // a and b were stored before (b deleted since); c is new to the store.
        let files = stamp_stored(listed, &[true, true, false], &mut errors);
        assert_eq!(
            files,
            vec![
                (a.display().to_string(), Some(stamp_of(&a))),
                (c.display().to_string(), None),
            ]
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].path, b.display().to_string());
        assert_eq!(errors[0].reason, Reason::BrokenSymlink);
    }

    #[test]
    fn rule_ds1_a_file_that_cannot_be_opened_is_kept_as_stamped_by_its_path_and_one_gone_is_no_file(
    ) {
        let dir = tempfile::tempdir().unwrap();
        let store = crate::store::Store::open(
            &dir.path().join("db.redb"),
            &dir.path().join("store.key"),
            "test",
        )
        .unwrap();
        let snapshot = store.scan_snapshot().unwrap();
        let ids = IdRun {
            start: 0,
            store: &store,
        };
        let now = chrono::Utc::now();
        // A socket is stat'ed by its path but cannot be opened (as an unreadable file is to a
        // user other than root).
        let socket = dir.path().join("s.pem");
        let _listener = std::os::unix::net::UnixListener::bind(&socket).unwrap();
        match read_one(
            socket.to_str().unwrap(),
            None,
            None,
            (ids, 0),
            &snapshot,
            now,
        )
        .unwrap()
        {
            Read::Skipped(st, reason, key_file) => {
                assert_eq!(st, stamp_of(&socket));
                assert_eq!((reason, key_file), (Reason::ReadFailed, false));
            }
            _ => panic!("a file that cannot be opened is skipped"),
        }
        let gone = dir.path().join("gone.pem");
        assert!(matches!(
            read_one(gone.to_str().unwrap(), None, None, (ids, 0), &snapshot, now).unwrap(),
            Read::Vanished(Reason::BrokenSymlink)
        ));
    }
}
