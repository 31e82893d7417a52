//! SV-1: who may use the service's socket, and whether a client's command is the service's to
//! run. Pure.
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The service's own user and root; nobody else, whatever the socket file's mode says.
pub fn may_connect(peer_uid: u32, owner_uid: u32) -> bool {
    peer_uid == owner_uid || peer_uid == 0
}

/// What must match for a service to run a client's command as the client would run it itself:
/// the same database, the same pretend time, the same DNS resolver.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Identity {
    pub db: PathBuf,
    pub now: Option<String>,
    pub resolver: Option<String>,
}

impl Identity {
    /// Why a client's command is not this service's to run (then the client runs it itself);
    /// `None` when it is.
    pub fn mismatch(&self, client: &Identity) -> Option<String> {
        if self.db != client.db {
            return Some(format!(
                "this service owns {}, not {}",
                self.db.display(),
                client.db.display()
            ));
        }
        if self.now != client.now {
            return Some("the service runs on another clock (--now)".into());
        }
        if self.resolver != client.resolver {
            return Some("the service uses another DNS resolver (--resolver)".into());
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rule_sv1_only_the_owner_and_root_may_connect() {
        assert!(may_connect(1000, 1000));
        assert!(may_connect(0, 1000));
        assert!(may_connect(0, 0));
        assert!(!may_connect(1001, 1000));
        assert!(!may_connect(999, 1000));
        assert!(!may_connect(65534, 0));
    }

    #[test]
    fn rule_sv1_a_command_on_another_database_clock_or_resolver_is_not_the_services() {
        let ours = Identity {
            db: "/var/lib/certdeck/certdeck.redb".into(),
            now: None,
            resolver: None,
        };
        assert_eq!(ours.mismatch(&ours.clone()), None);
        let other_db = Identity {
            db: "/tmp/x.redb".into(),
            ..ours.clone()
        };
        assert!(ours.mismatch(&other_db).unwrap().contains("/tmp/x.redb"));
        let what_if = Identity {
            now: Some("2030-01-01T00:00:00Z".into()),
            ..ours.clone()
        };
        assert!(ours.mismatch(&what_if).unwrap().contains("--now"));
        let resolver = Identity {
            resolver: Some("127.0.0.1:53".into()),
            ..ours.clone()
        };
        assert!(ours.mismatch(&resolver).unwrap().contains("--resolver"));
    }
}
