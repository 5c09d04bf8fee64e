//! What snapshots need from the engine: pause and resume, commit a container to an
//! image, copy a volume, and list or remove images and volumes by label. A
//! supertrait of [`super::Engine`], so every engine has it and `dyn Engine` calls it.
use super::EngineResult;
use async_trait::async_trait;
use std::collections::BTreeMap;

/// An image as listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageSummary {
    pub id: String,
    pub tags: Vec<String>,
    pub labels: BTreeMap<String, String>,
    /// Seconds since the epoch.
    pub created: i64,
    /// Bytes of its own layers (what it adds over its parent image), when known.
    pub own_bytes: Option<u64>,
}

/// A volume as listed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeSummary {
    pub name: String,
    pub labels: BTreeMap<String, String>,
}

/// A volume copied into another by a short-lived helper container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VolumeCopy {
    pub from: String,
    pub to: String,
    /// Runs the copy (it needs a shell, `cp`, `rm` and `du`): the workspace's image.
    pub image: String,
    /// The helper's name (see `domain::snapshot::helper_name`), so a cancelled
    /// operation can remove it.
    pub helper: String,
    pub labels: BTreeMap<String, String>,
    /// Paths relative to the volume's root left out of the copy.
    pub skip: Vec<String>,
}

#[async_trait]
pub trait SnapshotEngine: Send + Sync {
    /// Freezes every process of a running container.
    async fn pause_container(&self, container: &str) -> EngineResult<()>;
    async fn unpause_container(&self, container: &str) -> EngineResult<()>;
    /// Commits the container's filesystem (not its volumes) as image `tag` with
    /// `labels`, without pausing it (the caller pauses). Returns the image id.
    async fn commit_container(
        &self,
        container: &str,
        tag: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<String>;
    /// Starts the copy's helper container (idle, root, four capabilities, no network),
    /// `from` mounted read-only and `to` (which exists) writable. The caller removes
    /// it (`remove_container(copy.helper)`) when done, on every path.
    async fn start_copy_helper(&self, copy: &VolumeCopy) -> EngineResult<()>;
    /// Copies everything in `from` into `to` (owners, modes, times and links kept) in
    /// the started helper, leaving out `skip`; returns the bytes now in `to`.
    async fn copy_volume(&self, copy: &VolumeCopy) -> EngineResult<u64>;
    /// Images whose labels hold every `label=value`.
    async fn images_by_label(&self, labels: &[(&str, &str)]) -> EngineResult<Vec<ImageSummary>>;
    /// Volumes whose labels hold every `label=value`.
    async fn volumes_by_label(&self, labels: &[(&str, &str)]) -> EngineResult<Vec<VolumeSummary>>;
    /// Removes the tag `image` even while containers run on it (their layers stay
    /// until the last of them is gone). Absent is fine.
    async fn untag_image(&self, image: &str) -> EngineResult<()>;
}
