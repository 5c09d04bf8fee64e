//! A short-lived container that reads a volume: the cleanup job looks for unsaved
//! work in a stopped workspace's home through one (the workspace is not started).
use std::collections::BTreeMap;
use std::time::Duration;

/// An idle helper with `volume` mounted READ-ONLY at `mount`: no network, no
/// capabilities, no new privileges, small limits, running as `user`. It removes
/// itself once `lifetime` is over (so one left by a killed berth goes too); the
/// caller runs `exec` in it and removes it (`remove_container(name)`) when done.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeReader {
    /// Its container name (one reader per volume at a time).
    pub name: String,
    pub volume: String,
    pub mount: String,
    /// An image present in the engine with a shell, find, stat and git.
    pub image: String,
    /// `uid:gid`.
    pub user: String,
    pub labels: BTreeMap<String, String>,
    pub lifetime: Duration,
}
