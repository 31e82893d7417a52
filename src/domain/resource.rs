//! Resources (issue #5): the places a certificate is deployed to. Kind `files`: paths for the
//! certificate, chain, full chain, key or a combined PEM, their owner and modes, the commands
//! that check and reload the server, and the TLS endpoint that proves what is served.
use crate::domain::model::Certificate;
use crate::domain::refusal::{Field, Refusal};
use crate::domain::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    Nginx,
    Apache,
    Haproxy,
    Custom,
}

impl Preset {
    pub fn parse(s: &str) -> Result<Preset, String> {
        match s {
            "nginx" => Ok(Preset::Nginx),
            "apache" => Ok(Preset::Apache),
            "haproxy" => Ok(Preset::Haproxy),
            "custom" => Ok(Preset::Custom),
            other => Err(format!(
                "\"{other}\": the preset is nginx, apache, haproxy or custom"
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Preset::Nginx => "nginx",
            Preset::Apache => "apache",
            Preset::Haproxy => "haproxy",
            Preset::Custom => "custom",
        }
    }
}

/// What a target file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord)]
#[serde(rename_all = "snake_case")]
pub enum Part {
    Cert,
    Chain,
    Fullchain,
    Key,
    /// Full chain and key in one file (HAProxy).
    Combined,
}

impl Part {
    pub const ALL: [Part; 5] = [
        Part::Cert,
        Part::Chain,
        Part::Fullchain,
        Part::Key,
        Part::Combined,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Part::Cert => "cert",
            Part::Chain => "chain",
            Part::Fullchain => "fullchain",
            Part::Key => "key",
            Part::Combined => "combined",
        }
    }

    /// Files holding the private key.
    pub fn secret(self) -> bool {
        matches!(self, Part::Key | Part::Combined)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `host:port` to connect to.
    pub address: String,
    /// The name sent in SNI (and the one the served certificate is for).
    pub sni: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    pub id: String,
    pub name: String,
    pub preset: Preset,
    pub targets: Vec<(Part, PathBuf)>,
    pub owner: Option<String>,
    pub group: Option<String>,
    /// Mode of certificate files (keys are `key_mode`).
    pub cert_mode: u32,
    pub key_mode: u32,
    pub check_command: Option<String>,
    pub reload_command: Option<String>,
    pub endpoint: Option<Endpoint>,
    /// Seconds each command may run.
    pub command_timeout: u32,
    pub created_at: Timestamp,
}

/// What the user gives to add a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ResourceInput {
    pub name: String,
    pub preset: Option<Preset>,
    /// For presets: the directory the files go to (named after `name`).
    pub dir: Option<PathBuf>,
    pub targets: Vec<(Part, PathBuf)>,
    pub owner: Option<String>,
    pub group: Option<String>,
    pub cert_mode: Option<u32>,
    pub key_mode: Option<u32>,
    pub check_command: Option<String>,
    pub reload_command: Option<String>,
    pub endpoint: Option<String>,
    pub sni: Option<String>,
    pub command_timeout: Option<u32>,
}

fn refuse(field: Field, message: String) -> Refusal {
    Refusal::new("RESOURCE", field, message)
}

/// The targets and commands a preset puts in `dir` for a resource called `name`.
fn preset_defaults(
    preset: Preset,
    dir: &Path,
    name: &str,
) -> (
    Vec<(Part, PathBuf)>,
    Option<&'static str>,
    Option<&'static str>,
) {
    let f = |ext: &str| dir.join(format!("{name}{ext}"));
    match preset {
        Preset::Nginx => (
            vec![(Part::Fullchain, f(".crt")), (Part::Key, f(".key"))],
            Some("nginx -t"),
            Some("nginx -s reload"),
        ),
        Preset::Apache => (
            vec![
                (Part::Cert, f(".crt")),
                (Part::Chain, f(".chain.crt")),
                (Part::Key, f(".key")),
            ],
            Some("apachectl configtest"),
            Some("apachectl graceful"),
        ),
        Preset::Haproxy => (
            vec![(Part::Combined, f(".pem"))],
            Some("haproxy -c -f /etc/haproxy/haproxy.cfg"),
            Some("systemctl reload haproxy"),
        ),
        Preset::Custom => (Vec::new(), None, None),
    }
}

/// A resource's name, in characters.
pub const MAX_NAME_CHARS: usize = 64;
/// PATH_MAX and NAME_MAX of Linux.
pub const MAX_PATH_BYTES: usize = 4096;
pub const MAX_PATH_COMPONENT_BYTES: usize = 255;

/// `path` with `.` dropped and `..` taking away the name before it, without touching the disk.
/// The suffix of the file a deployment replaced, kept to roll back to.
pub const BACKUP_SUFFIX: &str = ".certdeck-prev";
/// The infix of a target file being written (then renamed into place).
pub const TEMP_INFIX: &str = ".certdeck-tmp-";

/// Whether a file is one of certdeck's own deployment files (a backup or a file being
/// written): a scan does not take them for the certificates a server uses.
pub fn is_deploy_scratch(name: &str) -> bool {
    name.ends_with(BACKUP_SUFFIX) || name.contains(TEMP_INFIX)
}

pub fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Checks a resource as given and fills in what its preset implies.
pub fn validate_resource(
    input: &ResourceInput,
    id: String,
    now: Timestamp,
) -> Result<Resource, Refusal> {
    let name = input.name.trim();
    if name.is_empty() || name.contains('/') || name.chars().any(char::is_control) {
        return Err(refuse(
            Field::Name,
            "a resource needs a name without '/' (it names the preset's files)".into(),
        ));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(refuse(
            Field::Name,
            format!(
                "the name has {} characters; at most {MAX_NAME_CHARS}",
                name.chars().count()
            ),
        ));
    }
    let preset = input.preset.unwrap_or(Preset::Custom);
    let (mut targets, check, reload) = match (&input.dir, preset) {
        (Some(dir), p) if p != Preset::Custom => preset_defaults(p, dir, name),
        (None, p) if p != Preset::Custom && input.targets.is_empty() => {
            return Err(refuse(
                Field::Path,
                format!(
                    "the {} preset needs --dir: the directory its files go to",
                    p.as_str()
                ),
            ))
        }
        _ => (Vec::new(), None, None),
    };
    // Paths given one by one replace the preset's for the same part.
    for (part, path) in &input.targets {
        targets.retain(|(p, _)| p != part);
        targets.push((*part, path.clone()));
    }
    targets.sort();
    if targets.is_empty() {
        return Err(refuse(
            Field::Path,
            "a resource needs at least one target file (--cert, --chain, --fullchain, --key or --combined), or a preset with --dir".into(),
        ));
    }
    for (part, path) in &targets {
        if !path.is_absolute() {
            return Err(refuse(
                Field::Path,
                format!("{} path {} must be absolute", part.as_str(), path.display()),
            ));
        }
        if path.file_name().is_none() {
            return Err(refuse(
                Field::Path,
                format!("{} path {} names no file", part.as_str(), path.display()),
            ));
        }
        let bytes = path.as_os_str().len();
        let longest = path
            .components()
            .map(|c| c.as_os_str().len())
            .max()
            .unwrap_or(0);
        if bytes > MAX_PATH_BYTES || longest > MAX_PATH_COMPONENT_BYTES {
            return Err(refuse(
                Field::Path,
                format!(
                    "{} path is {bytes} bytes with a {longest}-byte name; paths are at most {MAX_PATH_BYTES} bytes and each name at most {MAX_PATH_COMPONENT_BYTES}",
                    part.as_str()
                ),
            ));
        }
    }
    // `a/sub/../b` is `a/b`: compared as the kernel would read them (symbolic links in the
    // directories are resolved when deploying, deploy::files::same_file_twice).
    let normal: Vec<PathBuf> = targets.iter().map(|(_, p)| lexically_normal(p)).collect();
    for (i, (a, pa)) in targets.iter().enumerate() {
        if let Some((b, _)) = targets[i + 1..]
            .iter()
            .zip(&normal[i + 1..])
            .find(|(_, nb)| **nb == normal[i])
            .map(|(t, _)| t)
        {
            return Err(refuse(
                Field::Path,
                format!(
                    "{} and {} both go to {}",
                    a.as_str(),
                    b.as_str(),
                    pa.display()
                ),
            ));
        }
    }
    let serves_cert = targets
        .iter()
        .any(|(p, _)| *p != Part::Key && *p != Part::Chain);
    let has_key = targets.iter().any(|(p, _)| p.secret());
    if serves_cert && !has_key {
        return Err(refuse(
            Field::Key,
            "a server needs the key with its certificate: add --key PATH (or use --combined)"
                .into(),
        ));
    }
    let key_mode = input.key_mode.unwrap_or(0o600);
    if key_mode & 0o027 != 0 || key_mode > 0o777 {
        let what = if key_mode & 0o007 != 0 {
            "read"
        } else {
            "change"
        };
        return Err(refuse(
            Field::Key,
            format!("key mode {key_mode:04o} lets others {what} the key; use 0600 or 0640"),
        ));
    }
    let cert_mode = input.cert_mode.unwrap_or(0o644);
    if cert_mode > 0o777 {
        return Err(refuse(
            Field::Cert,
            format!("mode {cert_mode:o} is not a file mode"),
        ));
    }
    if cert_mode & 0o002 != 0 {
        return Err(refuse(
            Field::Cert,
            format!(
                "certificate mode {cert_mode:04o} lets anyone replace the certificate; use 0644"
            ),
        ));
    }
    let endpoint = match &input.endpoint {
        None => None,
        Some(address) => {
            let (host, port) = address.rsplit_once(':').ok_or_else(|| {
                refuse(
                    Field::Domain,
                    format!("endpoint {address}: expected HOST:PORT"),
                )
            })?;
            if host.is_empty() || port.parse::<u16>().map_or(true, |p| p == 0) {
                return Err(refuse(
                    Field::Domain,
                    format!("endpoint {address}: expected HOST:PORT with a port from 1 to 65535"),
                ));
            }
            let sni = input
                .sni
                .clone()
                .unwrap_or_else(|| host.trim_matches(['[', ']']).to_string());
            Some(Endpoint {
                address: address.clone(),
                sni,
            })
        }
    };
    let timeout = input.command_timeout.unwrap_or(30);
    if !(1..=600).contains(&timeout) {
        return Err(refuse(
            Field::Name,
            format!("command timeout {timeout}s: from 1 to 600 seconds"),
        ));
    }
    let command = |given: &Option<String>, default: Option<&str>| {
        given
            .clone()
            .or(default.map(str::to_string))
            .filter(|c| !c.trim().is_empty() && c.trim() != "none")
    };
    Ok(Resource {
        id,
        name: name.to_string(),
        preset,
        targets,
        owner: input.owner.clone().filter(|s| !s.is_empty()),
        group: input.group.clone().filter(|s| !s.is_empty()),
        cert_mode,
        key_mode,
        check_command: command(&input.check_command, check),
        reload_command: command(&input.reload_command, reload),
        endpoint,
        command_timeout: timeout,
        created_at: now,
    })
}

/// One file a deployment writes.
#[derive(Clone, PartialEq, Eq)]
pub struct TargetFile {
    pub part: Part,
    pub path: PathBuf,
    pub contents: Vec<u8>,
    pub mode: u32,
}

impl std::fmt::Debug for TargetFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetFile")
            .field("part", &self.part)
            .field("path", &self.path)
            .field("mode", &format_args!("{:04o}", self.mode))
            .finish_non_exhaustive()
    }
}

/// RV-2 and the deploy rules: whether `cert` may be deployed now.
pub fn check_deploy(
    cert: &Certificate,
    key: StoredKey,
    allow_expired: bool,
    now: Timestamp,
) -> Result<(), Refusal> {
    use crate::domain::model::Status;
    let status = cert.status_at(now);
    match status {
        Status::Revoking | Status::Revoked => {
            return Err(Refusal::new(
                "RV-2",
                Field::Id,
                format!(
                    "{} is {}: a certificate under revocation can no longer be deployed",
                    cert.id,
                    status.as_str()
                ),
            ))
        }
        Status::Expired if !allow_expired => {
            return Err(Refusal::new(
                "DEPLOY",
                Field::Id,
                format!(
                "{} has expired: clients will refuse it; to deploy it anyway, say so (--allow-expired, or Space in the deploy dialog)",
                cert.id
            ),
            ))
        }
        _ => {}
    }
    if cert.chain_der.is_empty() {
        return Err(Refusal::new(
            "DEPLOY",
            Field::Id,
            format!(
                "{} has no issued certificate yet ({})",
                cert.id,
                status.as_str()
            ),
        ));
    }
    match key {
        StoredKey::Missing => Err(Refusal::new(
            "DEPLOY",
            Field::Key,
            format!(
                "{} has no private key in the store: it cannot be deployed",
                cert.id
            ),
        )),
        StoredKey::PasswordProtected => Err(Refusal::new(
            "RI-6",
            Field::Key,
            format!(
                "{}'s key is password-protected: it cannot be deployed automatically",
                cert.id
            ),
        )),
        StoredKey::Usable => Ok(()),
    }
}

/// What a certificate's stored private key allows a deployment (RI-6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum StoredKey {
    Missing,
    /// An `ENCRYPTED PRIVATE KEY` (a reissue given a password): a human must deploy it.
    PasswordProtected,
    Usable,
}

impl StoredKey {
    pub fn of(key_pem: Option<&str>) -> StoredKey {
        match key_pem {
            None => StoredKey::Missing,
            Some(k) if k.contains("-----BEGIN ENCRYPTED PRIVATE KEY-----") => {
                StoredKey::PasswordProtected
            }
            Some(_) => StoredKey::Usable,
        }
    }
}

/// The files `cert` becomes on `resource`: leaf, chain (no root), full chain, key, combined.
pub fn target_files(cert: &Certificate, key_pem: &str, resource: &Resource) -> Vec<TargetFile> {
    use crate::domain::pem::encode;
    let leaf = cert
        .chain_der
        .first()
        .map(|d| encode("CERTIFICATE", d))
        .unwrap_or_default();
    let chain: String = cert
        .chain
        .iter()
        .zip(&cert.chain_der)
        .skip(1)
        .filter(|(l, _)| l.subject != l.issuer)
        .map(|(_, d)| encode("CERTIFICATE", d))
        .collect();
    resource
        .targets
        .iter()
        .map(|(part, path)| {
            let contents = match part {
                Part::Cert => leaf.clone(),
                Part::Chain => chain.clone(),
                Part::Fullchain => format!("{leaf}{chain}"),
                Part::Key => key_pem.to_string(),
                Part::Combined => format!("{leaf}{chain}{key_pem}"),
            };
            TargetFile {
                part: *part,
                path: path.clone(),
                contents: contents.into_bytes(),
                mode: if part.secret() {
                    resource.key_mode
                } else {
                    resource.cert_mode
                },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Utc;

    fn files_input(targets: Vec<(Part, &str)>) -> ResourceInput {
        ResourceInput {
            name: "web".into(),
            targets: targets
                .into_iter()
                .map(|(p, t)| (p, PathBuf::from(t)))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn resource_limits_names_paths_modes_and_one_file_twice() {
        let ok = files_input(vec![
            (Part::Fullchain, "/etc/a/full.pem"),
            (Part::Key, "/etc/a/key.pem"),
        ]);
        assert!(validate_resource(&ok, "r".into(), Utc::now()).is_ok());
        let mut i = ok.clone();
        i.name = "n".repeat(MAX_NAME_CHARS);
        assert!(validate_resource(&i, "r".into(), Utc::now()).is_ok());
        i.name = "n".repeat(MAX_NAME_CHARS + 1);
        assert_eq!(
            validate_resource(&i, "r".into(), Utc::now())
                .unwrap_err()
                .field,
            Field::Name
        );
        let mut i = ok.clone();
        i.targets[0].1 = PathBuf::from(format!("/etc/{}", "x".repeat(256)));
        assert!(validate_resource(&i, "r".into(), Utc::now())
            .unwrap_err()
            .message
            .contains("256-byte name"));
        let mut i = ok.clone();
        i.cert_mode = Some(0o777);
        assert!(validate_resource(&i, "r".into(), Utc::now())
            .unwrap_err()
            .message
            .contains("lets anyone replace"));
        let mut i = ok.clone();
        i.key_mode = Some(0o660);
        assert_eq!(
            validate_resource(&i, "r".into(), Utc::now())
                .unwrap_err()
                .field,
            Field::Key
        );
        let twice = files_input(vec![
            (Part::Fullchain, "/etc/a/sub/../key.pem"),
            (Part::Key, "/etc/a/./key.pem"),
        ]);
        let e = validate_resource(&twice, "r".into(), Utc::now()).unwrap_err();
        assert!(e.message.contains("both go to"), "{e}");
    }

    fn input() -> ResourceInput {
        ResourceInput {
            name: "shop".into(),
            preset: Some(Preset::Nginx),
            dir: Some("/etc/nginx/certdeck".into()),
            ..Default::default()
        }
    }

    #[test]
    fn nginx_preset_fills_files_and_commands() {
        let r = validate_resource(&input(), "r1".into(), Utc::now()).unwrap();
        assert_eq!(
            r.targets,
            vec![
                (Part::Fullchain, "/etc/nginx/certdeck/shop.crt".into()),
                (Part::Key, "/etc/nginx/certdeck/shop.key".into())
            ]
        );
        assert_eq!(r.check_command.as_deref(), Some("nginx -t"));
        assert_eq!(r.reload_command.as_deref(), Some("nginx -s reload"));
        assert_eq!((r.cert_mode, r.key_mode), (0o644, 0o600));
    }

    #[test]
    fn keys_readable_by_others_relative_paths_and_missing_keys_are_refused() {
        let mut i = input();
        i.key_mode = Some(0o644);
        assert!(validate_resource(&i, "r".into(), Utc::now())
            .unwrap_err()
            .message
            .contains("lets others read the key"));
        let mut i = input();
        i.key_mode = Some(0o640);
        assert!(validate_resource(&i, "r".into(), Utc::now()).is_ok());
        let rel = ResourceInput {
            name: "x".into(),
            targets: vec![(Part::Combined, "relative.pem".into())],
            ..Default::default()
        };
        assert_eq!(
            validate_resource(&rel, "r".into(), Utc::now())
                .unwrap_err()
                .field,
            Field::Path
        );
        let no_key = ResourceInput {
            name: "x".into(),
            targets: vec![(Part::Fullchain, "/a/x.crt".into())],
            ..Default::default()
        };
        assert_eq!(
            validate_resource(&no_key, "r".into(), Utc::now())
                .unwrap_err()
                .field,
            Field::Key
        );
        let same = ResourceInput {
            name: "x".into(),
            targets: vec![(Part::Fullchain, "/a/x".into()), (Part::Key, "/a/x".into())],
            ..Default::default()
        };
        assert!(validate_resource(&same, "r".into(), Utc::now())
            .unwrap_err()
            .message
            .contains("both go to"));
    }

    #[test]
    fn endpoints_need_host_and_port_and_default_sni_to_the_host() {
        let mut i = input();
        i.endpoint = Some("127.0.0.1:8443".into());
        i.sni = Some("shop.example.com".into());
        let r = validate_resource(&i, "r".into(), Utc::now()).unwrap();
        assert_eq!(r.endpoint.unwrap().sni, "shop.example.com");
        i.endpoint = Some("localhost".into());
        assert!(validate_resource(&i, "r".into(), Utc::now()).is_err());
        i.endpoint = Some("localhost:0".into());
        assert!(validate_resource(&i, "r".into(), Utc::now()).is_err());
    }
}

/// One step of a deployment as the history shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployStep {
    pub step: String,
    pub ok: bool,
    pub detail: String,
}

/// Stored with postcard, which cannot read internally tagged enums: the CLI's JSON shape
/// (`{"result": …, "reason": …}`) is built by `DeployOutcome::json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeployOutcome {
    /// The new certificate is in place (and served, when an endpoint is set).
    Deployed,
    /// Something failed; the previous files are back.
    RolledBack { reason: String },
    /// Something failed and putting the previous files back failed too: look now.
    RollbackFailed { reason: String, rollback: String },
    /// Refused before anything was touched.
    Refused { reason: String },
}

impl DeployOutcome {
    pub fn json(&self) -> serde_json::Value {
        match self {
            DeployOutcome::Deployed => serde_json::json!({"result": "deployed"}),
            DeployOutcome::RolledBack { reason } => {
                serde_json::json!({"result": "rolled_back", "reason": reason})
            }
            DeployOutcome::RollbackFailed { reason, rollback } => {
                serde_json::json!({"result": "rollback_failed", "reason": reason, "rollback": rollback})
            }
            DeployOutcome::Refused { reason } => {
                serde_json::json!({"result": "refused", "reason": reason})
            }
        }
    }
}

/// A deployment of a certificate to a resource, with every step's output.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployRecord {
    pub cert_id: String,
    pub resource_id: String,
    pub at: Timestamp,
    pub steps: Vec<DeployStep>,
    pub outcome: DeployOutcome,
    /// The served leaf's fingerprint, when probed.
    pub served: Option<String>,
}

impl DeployRecord {
    /// The timeline's line: the summary, each step's result, and the output of a failed step.
    pub fn timeline_text(&self, resource_name: &str) -> String {
        let mut text = self.summary(resource_name);
        let steps: Vec<String> = self
            .steps
            .iter()
            .map(|s| format!("{} {}", if s.ok { "✓" } else { "✗" }, s.step))
            .collect();
        text.push_str(&format!(" [{}]", steps.join(", ")));
        if let Some(failed) = self.steps.iter().find(|s| !s.ok) {
            let detail: String = failed
                .detail
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            let cut: String = detail.chars().take(400).collect();
            text.push_str(&format!(" — {}: {cut}", failed.step));
        }
        text
    }

    pub fn succeeded(&self) -> bool {
        self.outcome == DeployOutcome::Deployed
    }

    /// One line for the timeline.
    pub fn summary(&self, resource_name: &str) -> String {
        match &self.outcome {
            DeployOutcome::Deployed => format!(
                "deployed to {resource_name}{}",
                if self.served.is_some() { "; the endpoint serves it" } else { "" }
            ),
            DeployOutcome::RolledBack { reason } => {
                format!("deployment to {resource_name} failed ({reason}); the previous files are back")
            }
            DeployOutcome::RollbackFailed { reason, rollback } => format!(
                "deployment to {resource_name} failed ({reason}) and the rollback failed too ({rollback}): check the server now"
            ),
            DeployOutcome::Refused { reason } => {
                format!("deployment to {resource_name} refused: {reason}")
            }
        }
    }
}

#[cfg(test)]
mod deploy_rules {
    use super::*;
    use crate::domain::model::Status;
    use chrono::{Duration, Utc};

    fn cert(status: Status) -> Certificate {
        let now = Utc::now();
        let mut c = crate::domain::rules::revoke::tests::issued(
            "DNSPod",
            crate::domain::model::Standard::International,
            crate::domain::model::CertType::Dv,
            now - Duration::days(10),
            now + Duration::days(100),
        );
        c.status = status;
        c.chain_der = vec![vec![0x30]];
        c
    }

    #[test]
    fn rule_rv2_revoking_and_revoked_certificates_are_not_deployed() {
        for s in [Status::Revoking, Status::Revoked] {
            let r = check_deploy(&cert(s), StoredKey::Usable, false, Utc::now()).unwrap_err();
            assert_eq!(r.rule, "RV-2");
        }
    }

    #[test]
    fn password_protected_keys_and_expired_certificates_need_a_human() {
        let c = cert(Status::Issued);
        let protected = StoredKey::of(Some("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n"));
        assert_eq!(protected, StoredKey::PasswordProtected);
        let r = check_deploy(&c, protected, false, Utc::now()).unwrap_err();
        assert_eq!((r.rule.as_str(), r.field), ("RI-6", Field::Key));
        let plain = StoredKey::of(Some("-----BEGIN PRIVATE KEY-----\nMIIB\n"));
        assert_eq!(plain, StoredKey::Usable);
        let later = Utc::now() + Duration::days(200);
        assert!(check_deploy(&c, plain, false, later).is_err());
        assert!(check_deploy(&c, plain, true, later).is_ok());
        assert!(check_deploy(&c, StoredKey::of(None), false, Utc::now()).is_err());
    }
}

/// A deployment under way, written once the previous files are backed up and removed with the
/// deployment's record: one left behind means certdeck stopped mid-way, and the previous files
/// are put back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeployJournal {
    pub cert_id: String,
    pub started_at: Timestamp,
    /// Each target, and whether a previous file existed (kept at its backup path).
    pub targets: Vec<(PathBuf, bool)>,
}

#[cfg(test)]
mod storage {
    use super::*;

    #[test]
    fn deploy_records_survive_the_store_encoding() {
        for outcome in [
            DeployOutcome::Deployed,
            DeployOutcome::RolledBack { reason: "r".into() },
            DeployOutcome::RollbackFailed {
                reason: "r".into(),
                rollback: "b".into(),
            },
            DeployOutcome::Refused { reason: "r".into() },
        ] {
            let rec = DeployRecord {
                cert_id: "c".into(),
                resource_id: "r".into(),
                at: chrono::Utc::now(),
                steps: vec![DeployStep {
                    step: "s".into(),
                    ok: true,
                    detail: "d".into(),
                }],
                outcome,
                served: None,
            };
            let bytes = postcard::to_allocvec(&rec).unwrap();
            assert_eq!(postcard::from_bytes::<DeployRecord>(&bytes).unwrap(), rec);
        }
    }
}

impl Resource {
    /// The input that makes this resource again (what an edit starts from).
    pub fn as_input(&self) -> ResourceInput {
        ResourceInput {
            name: self.name.clone(),
            preset: Some(self.preset),
            dir: None,
            targets: self.targets.clone(),
            owner: self.owner.clone(),
            group: self.group.clone(),
            cert_mode: Some(self.cert_mode),
            key_mode: Some(self.key_mode),
            check_command: Some(self.check_command.clone().unwrap_or_else(|| "none".into())),
            reload_command: Some(self.reload_command.clone().unwrap_or_else(|| "none".into())),
            endpoint: self.endpoint.as_ref().map(|e| e.address.clone()),
            sni: self.endpoint.as_ref().map(|e| e.sni.clone()),
            command_timeout: Some(self.command_timeout),
        }
    }
}

#[cfg(test)]
mod scratch_tests {
    use super::is_deploy_scratch;

    #[test]
    fn rule_ds1_certdeck_own_deployment_files_are_not_scanned() {
        assert!(is_deploy_scratch("fullchain.pem.certdeck-prev"));
        assert!(is_deploy_scratch(".fullchain.pem.certdeck-tmp-4242"));
        assert!(!is_deploy_scratch("fullchain.pem"));
        assert!(!is_deploy_scratch("certdeck-prev.pem"));
        assert!(!is_deploy_scratch("x.certdeck-prev.pem"));
    }
}
