//! Deployment (issue #5): put a certificate's files on a resource safely. Back up, write each
//! file whole, check, reload, prove with a TLS probe that the new leaf is served; on any failure
//! put the previous files back, reload again and check the old leaf is served.
pub mod command;
pub mod files;
pub mod probe;

use crate::domain::resource::{DeployOutcome, DeployRecord, DeployStep, Resource, TargetFile};
use crate::domain::time::Timestamp;
use std::time::Duration;

/// Probe attempts after a reload, and the pause between them: at most ~6 s of waiting.
const PROBE_ATTEMPTS: u32 = 30;
const PROBE_PAUSE: Duration = Duration::from_millis(200);

struct Run {
    steps: Vec<DeployStep>,
}

impl Run {
    fn step(&mut self, step: impl Into<String>, ok: bool, detail: impl Into<String>) -> bool {
        self.steps.push(DeployStep {
            step: step.into(),
            ok,
            detail: detail.into(),
        });
        ok
    }

    fn command(
        &mut self,
        what: &str,
        command: &Option<String>,
        timeout: Duration,
    ) -> Result<(), String> {
        let Some(cmd) = command else { return Ok(()) };
        let r = command::run(cmd, timeout);
        let detail = format!("$ {cmd}\n{}\n{}", r.status, r.output.trim_end());
        if self.step(what, r.ok, detail) {
            Ok(())
        } else {
            Err(format!("{what} failed ({})", r.status))
        }
    }
}

/// Fault injection for the crash tests: with `CERTDECK_DEPLOY_PAUSE=<point>` a deployment stops
/// at that point for a minute (after touching `CERTDECK_DEPLOY_PAUSE_MARK`, if set) so a test
/// can kill it there. Points: `backed-up`, `journal`, `wrote-<part>`, `checked`, `reloaded`.
fn pause_point(point: &str) {
    if std::env::var("CERTDECK_DEPLOY_PAUSE").as_deref() == Ok(point) {
        if let Ok(mark) = std::env::var("CERTDECK_DEPLOY_PAUSE_MARK") {
            let _ = std::fs::write(mark, point);
        }
        std::thread::sleep(Duration::from_secs(60));
    }
}

/// Deploys `files` to `resource`. `expected` is the new leaf's fingerprint, `previous` the one
/// served before (checked again after a rollback). `journal` is told which targets existed
/// once they are backed up, before the first live file changes; if it fails nothing is touched.
pub fn deploy(
    resource: &Resource,
    cert_id: &str,
    files: &[TargetFile],
    expected: &str,
    previous: Option<&str>,
    at: Timestamp,
    journal: &dyn Fn(&[files::Before]) -> Result<(), String>,
) -> DeployRecord {
    let mut run = Run { steps: Vec::new() };
    let timeout = Duration::from_secs(resource.command_timeout as u64);
    let record = |run: Run, outcome, served| DeployRecord {
        cert_id: cert_id.to_string(),
        resource_id: resource.id.clone(),
        at,
        steps: run.steps,
        outcome,
        served,
    };
    let (uid, gid) = match files::ids(resource.owner.as_deref(), resource.group.as_deref()) {
        Ok(ids) => ids,
        Err(e) => {
            run.step("owner", false, e.clone());
            return record(run, DeployOutcome::Refused { reason: e }, None);
        }
    };
    if let Some((a, b)) = files::same_file_twice(files) {
        let reason = format!(
            "{} and {} are the same file: one would overwrite the other",
            a.display(),
            b.display()
        );
        run.step("targets", false, reason.clone());
        return record(run, DeployOutcome::Refused { reason }, None);
    }
    let before = match files::back_up(files) {
        Ok(b) => {
            let kept: Vec<String> = b
                .iter()
                .filter(|b| b.existed)
                .map(|b| files::backup_path(&b.path).display().to_string())
                .collect();
            run.step(
                "backup",
                true,
                if kept.is_empty() {
                    "no previous files".into()
                } else {
                    kept.join("\n")
                },
            );
            b
        }
        Err(e) => {
            let reason = format!("backing up the current files: {e}");
            run.step("backup", false, reason.clone());
            return record(run, DeployOutcome::Refused { reason }, None);
        }
    };
    pause_point("backed-up");
    if let Err(e) = journal(&before) {
        let reason = format!("recording the deployment: {e}");
        run.step("journal", false, reason.clone());
        return record(run, DeployOutcome::Refused { reason }, None);
    }
    pause_point("journal");
    // How many targets were written (in order): a rollback restores only those.
    let mut written = 0;
    let outcome = (|| -> Result<Option<String>, String> {
        for f in files {
            let what = format!("write {}", f.part.as_str());
            match files::write_whole(f, uid, gid) {
                Ok(()) => {
                    written += 1;
                    run.step(what, true, format!("{} ({:04o})", f.path.display(), f.mode));
                    pause_point(&format!("wrote-{}", f.part.as_str()));
                }
                Err(e) => {
                    run.step(what, false, format!("{}: {e}", f.path.display()));
                    return Err(format!("writing {}: {e}", f.path.display()));
                }
            }
        }
        run.command("check", &resource.check_command, timeout)?;
        pause_point("checked");
        run.command("reload", &resource.reload_command, timeout)?;
        pause_point("reloaded");
        let Some(ep) = &resource.endpoint else {
            return Ok(None);
        };
        let seen = probe::wait_for(&ep.address, &ep.sni, expected, PROBE_ATTEMPTS, PROBE_PAUSE);
        match seen {
            Ok(fp) if fp.eq_ignore_ascii_case(expected) => {
                run.step("probe", true, format!("{} serves {fp}", ep.address));
                Ok(Some(fp))
            }
            Ok(fp) => {
                run.step(
                    "probe",
                    false,
                    format!("{} still serves {fp}, not {expected}", ep.address),
                );
                Err(format!("{} does not serve the new certificate", ep.address))
            }
            Err(e) => {
                run.step("probe", false, e.clone());
                Err(format!("probing {}: {e}", ep.address))
            }
        }
    })();
    match outcome {
        Ok(served) => record(run, DeployOutcome::Deployed, served),
        Err(reason) if written == 0 => {
            // Nothing live was changed: nothing to roll back, nothing to reload.
            let _ = files::restore_written(&before, 0);
            run.step(
                "restore previous files",
                true,
                "nothing was written; the live files are as they were",
            );
            record(run, DeployOutcome::RolledBack { reason }, None)
        }
        Err(reason) => {
            let rollback = files::restore_written(&before, written);
            run.step(
                "restore previous files",
                rollback.is_ok(),
                rollback.clone().err().unwrap_or_else(|| "done".into()),
            );
            let reloaded = run.command("reload after rollback", &resource.reload_command, timeout);
            let mut served = None;
            if let (Some(ep), Some(old)) = (&resource.endpoint, previous) {
                let seen = probe::wait_for(&ep.address, &ep.sni, old, PROBE_ATTEMPTS, PROBE_PAUSE);
                let ok = matches!(&seen, Ok(fp) if fp.eq_ignore_ascii_case(old));
                run.step(
                    "probe after rollback",
                    ok,
                    match &seen {
                        Ok(fp) => format!("{} serves {fp}", ep.address),
                        Err(e) => e.clone(),
                    },
                );
                served = seen.ok();
            }
            let outcome = match (rollback, reloaded) {
                (Ok(()), Ok(())) => DeployOutcome::RolledBack { reason },
                (Err(e), _) | (_, Err(e)) => DeployOutcome::RollbackFailed {
                    reason,
                    rollback: e,
                },
            };
            record(run, outcome, served)
        }
    }
}

/// Puts back the previous files of a deployment that certdeck did not finish (it was killed),
/// reloads, and says what it did.
pub fn recover(
    resource: Option<&Resource>,
    journal: &crate::domain::resource::DeployJournal,
    resource_id: &str,
    previous: Option<&str>,
    at: Timestamp,
) -> DeployRecord {
    let mut run = Run { steps: Vec::new() };
    let before: Vec<files::Before> = journal
        .targets
        .iter()
        .map(|(path, existed)| files::Before {
            path: path.clone(),
            existed: *existed,
        })
        .collect();
    let restored = files::restore(&before);
    run.step(
        "restore previous files",
        restored.is_ok(),
        restored.clone().err().unwrap_or_else(|| "done".into()),
    );
    let reloaded = match resource {
        Some(r) => run.command(
            "reload after recovery",
            &r.reload_command,
            Duration::from_secs(r.command_timeout as u64),
        ),
        None => Ok(()),
    };
    let mut served = None;
    if let (Some(ep), Some(old)) = (resource.and_then(|r| r.endpoint.as_ref()), previous) {
        let seen = probe::wait_for(&ep.address, &ep.sni, old, PROBE_ATTEMPTS, PROBE_PAUSE);
        run.step(
            "probe after recovery",
            matches!(&seen, Ok(fp) if fp.eq_ignore_ascii_case(old)),
            match &seen {
                Ok(fp) => format!("{} serves {fp}", ep.address),
                Err(e) => e.clone(),
            },
        );
        served = seen.ok();
    }
    let reason = format!(
        "interrupted: certdeck stopped during the deployment started {}",
        journal.started_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let outcome = match (restored, reloaded) {
        (Ok(()), Ok(())) => DeployOutcome::RolledBack { reason },
        (Err(e), _) | (_, Err(e)) => DeployOutcome::RollbackFailed {
            reason,
            rollback: e,
        },
    };
    DeployRecord {
        cert_id: journal.cert_id.clone(),
        resource_id: resource_id.to_string(),
        at,
        steps: run.steps,
        outcome,
        served,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::resource::{validate_resource, DeployOutcome, Part, ResourceInput};

    fn resource(dir: &std::path::Path, key_dir: &std::path::Path) -> Resource {
        let input = ResourceInput {
            name: "site".into(),
            targets: vec![
                (Part::Fullchain, dir.join("fullchain.pem")),
                (Part::Key, key_dir.join("privkey.pem")),
            ],
            reload_command: Some("true".into()),
            ..Default::default()
        };
        validate_resource(&input, "r1".into(), chrono::Utc::now()).unwrap()
    }

    fn deploy_now(r: &Resource) -> crate::domain::resource::DeployRecord {
        deploy(r, "c1", &files(r), "fp", None, chrono::Utc::now(), &|_| {
            Ok(())
        })
    }

    fn files(r: &Resource) -> Vec<TargetFile> {
        r.targets
            .iter()
            .map(|(part, path)| TargetFile {
                part: *part,
                path: path.clone(),
                contents: format!("new {}", part.as_str()).into_bytes(),
                mode: 0o600,
            })
            .collect()
    }

    #[test]
    fn a_symlinked_target_is_rolled_back_to_the_same_link() {
        let dir = tempfile::tempdir().unwrap();
        let archive = dir.path().join("archive");
        std::fs::create_dir(&archive).unwrap();
        std::fs::write(archive.join("fullchain1.pem"), "old chain").unwrap();
        std::fs::write(archive.join("privkey1.pem"), "old key").unwrap();
        let live = dir.path().join("live");
        std::fs::create_dir(&live).unwrap();
        std::os::unix::fs::symlink("../archive/fullchain1.pem", live.join("fullchain.pem"))
            .unwrap();
        std::os::unix::fs::symlink("../archive/privkey1.pem", live.join("privkey.pem")).unwrap();
        let mut r = resource(&live, &live);
        r.check_command = Some("exit 1".into());
        let rec = deploy_now(&r);
        assert!(
            matches!(rec.outcome, DeployOutcome::RolledBack { .. }),
            "{:?}",
            rec.outcome
        );
        for (name, target) in [
            ("fullchain.pem", "../archive/fullchain1.pem"),
            ("privkey.pem", "../archive/privkey1.pem"),
        ] {
            assert_eq!(
                std::fs::read_link(live.join(name)).unwrap(),
                std::path::PathBuf::from(target),
                "{name} is the same link again"
            );
        }
        assert_eq!(
            std::fs::read_to_string(archive.join("fullchain1.pem")).unwrap(),
            "old chain"
        );
    }

    #[test]
    fn a_target_that_could_not_be_written_is_not_a_failed_rollback() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fullchain.pem"), "old chain").unwrap();
        // The key's directory does not exist: the second write fails, the first is restored.
        let r = resource(dir.path(), &dir.path().join("missing"));
        let rec = deploy_now(&r);
        assert!(
            matches!(rec.outcome, DeployOutcome::RolledBack { .. }),
            "{:?}",
            rec.outcome
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("fullchain.pem")).unwrap(),
            "old chain"
        );
        // Nothing written at all: nothing restored, nothing reloaded, still not a failure.
        let r = resource(&dir.path().join("gone"), &dir.path().join("missing"));
        let rec = deploy_now(&r);
        assert!(
            matches!(rec.outcome, DeployOutcome::RolledBack { .. }),
            "{:?}",
            rec.outcome
        );
        assert!(
            rec.steps.iter().all(|s| !s.step.contains("reload")),
            "{:?}",
            rec.steps
        );
        assert!(!dir.path().join("fullchain.pem.certdeck-prev").exists());
    }

    #[test]
    fn two_targets_that_are_one_file_are_refused_before_anything_is_written() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let mut r = resource(dir.path(), dir.path());
        r.targets = vec![
            (Part::Fullchain, dir.path().join("sub/../same.pem")),
            (Part::Key, dir.path().join("same.pem")),
        ];
        let rec = deploy_now(&r);
        assert!(
            matches!(rec.outcome, DeployOutcome::Refused { .. }),
            "{:?}",
            rec.outcome
        );
        assert!(!dir.path().join("same.pem").exists());
    }
}
