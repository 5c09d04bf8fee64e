//! Snapshots: names, the engine objects they are (an image and a volume, labelled),
//! and the labels that let a snapshot be restored into a new workspace.
//!
//! A snapshot is never a workspace: its image and volume carry `dev.berth.role =
//! snapshot` and none of a workspace's identity labels, so no list of workspaces
//! can take it for one.
use super::create_options::{Forward, Options};
use super::labels;
use super::naming::WorkspaceName;
use super::resources::Resources;
use super::workspace::{Workspace, WorkspaceSpec, DEFAULT_PROFILE};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::fmt;

/// Role of a snapshot's image and volume.
pub const ROLE_SNAPSHOT: &str = "snapshot";
/// Role of the short-lived container that copies a volume.
pub const ROLE_HELPER: &str = "helper";
/// The snapshot's name (on its image, its volume and its helper).
pub const SNAPSHOT: &str = "dev.berth.snapshot";
/// The workspace it was taken of.
pub const SNAPSHOT_OF: &str = "dev.berth.snapshot-of";
/// When it was taken (RFC 3339, UTC).
pub const SNAPSHOT_CREATED: &str = "dev.berth.snapshot-created";
/// Bytes in the home volume when it was taken (on the image, which is made last).
pub const SNAPSHOT_HOME_BYTES: &str = "dev.berth.snapshot-home-bytes";
/// The container runtime of the workspace (absent: the engine's default).
pub const RUNTIME: &str = "dev.berth.runtime";
/// On a workspace made by `restore` or `fork`: the snapshot it came from.
pub const RESTORED_FROM: &str = "dev.berth.restored-from";

/// Prefix of a snapshot's image repository (`berth/snapshot:SNAP`).
pub const IMAGE_REPO: &str = "berth/snapshot";
/// Prefix of a snapshot's volume (`berth-snapshot-SNAP`; never `workspace-...`).
pub const VOLUME_PREFIX: &str = "berth-snapshot-";
/// The sshd host key files in the home: a restore leaves them out, so the new
/// workspace makes its own key on first start and never shares the original's.
pub const HOST_KEY_FILES: [&str; 2] = [
    ".berth/ssh/ssh_host_ed25519_key",
    ".berth/ssh/ssh_host_ed25519_key.pub",
];

/// The workspace labels a snapshot keeps so a restore gets the same spec.
const KEPT: [&str; 9] = [
    labels::PROFILE,
    super::log_forward::LABEL,
    labels::SECRET_FILES,
    labels::FORWARD,
    labels::WORKDIR,
    labels::SECRETS,
    labels::PLATFORM,
    super::net_profile::LABEL,
    super::proxy::ALLOW_LABEL,
];

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{raw:?} is not a valid snapshot name: use lowercase letters (a-z), digits and hyphens, starting with a letter, at most 63 characters (like a workspace name)")]
pub struct SnapshotNameError {
    pub raw: String,
}

/// A validated snapshot name (the rules of a workspace name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SnapshotName(String);

impl SnapshotName {
    pub fn parse(raw: &str) -> Result<Self, SnapshotNameError> {
        WorkspaceName::parse(raw)
            .map(|n| Self(n.as_str().to_string()))
            .map_err(|_| SnapshotNameError {
                raw: raw.to_string(),
            })
    }

    /// `NAME-YYYYMMDD-HHMMSS` (UTC), the workspace part cut so it stays valid.
    pub fn default_for(workspace: &WorkspaceName, now: DateTime<Utc>) -> Self {
        Self::stamped(workspace.as_str(), "", now)
    }

    /// The snapshot `fork` makes for `new`: `NEW-fork-YYYYMMDD-HHMMSS`.
    pub fn for_fork(new: &WorkspaceName, now: DateTime<Utc>) -> Self {
        Self::stamped(new.as_str(), "-fork", now)
    }

    /// The snapshot the cleanup job takes before deleting a workspace with unsaved
    /// work: `NAME-gc-YYYYMMDD-HHMMSS`.
    pub fn for_gc(workspace: &WorkspaceName, now: DateTime<Utc>) -> Self {
        Self::stamped(workspace.as_str(), "-gc", now)
    }

    fn stamped(base: &str, tag: &str, now: DateTime<Utc>) -> Self {
        let suffix = format!("{tag}-{}", now.format("%Y%m%d-%H%M%S"));
        let room = super::naming::MAX_NAME_LEN - suffix.len();
        let cut: String = base.chars().take(room).collect();
        Self(format!("{}{suffix}", cut.trim_end_matches('-')))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The image: `berth/snapshot:SNAP`.
    pub fn image(&self) -> String {
        format!("{IMAGE_REPO}:{}", self.0)
    }

    /// The home volume's copy: `berth-snapshot-SNAP`.
    pub fn volume(&self) -> String {
        format!("{VOLUME_PREFIX}{}", self.0)
    }
}

impl fmt::Display for SnapshotName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// The helper container that fills volume `to` (one copy into a volume at a time).
pub fn helper_name(to: &str) -> String {
    format!("berth-copy-{to}")
}

/// Labels of a volume-copy helper (so a cleanup by label finds one left behind).
pub fn helper_labels(extra: &BTreeMap<String, String>, snapshot: &str) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    l.insert(labels::ROLE.into(), ROLE_HELPER.into());
    l.insert(SNAPSHOT.into(), snapshot.into());
    l
}

/// Labels of a snapshot's volume and image: the config's extra labels, the role,
/// the snapshot's own, and the workspace's spec labels a restore needs (never its
/// name, port or the create that made it).
pub fn snapshot_labels(
    w: &Workspace,
    snap: &SnapshotName,
    created: DateTime<Utc>,
    extra: &BTreeMap<String, String>,
    version: &str,
) -> BTreeMap<String, String> {
    let mut l = extra.clone();
    for k in KEPT {
        if let Some(v) = w.labels.get(k).filter(|v| !v.is_empty()) {
            l.insert(k.to_string(), v.clone());
        }
    }
    if let Some(r) = &w.runtime {
        l.insert(RUNTIME.into(), r.clone());
    }
    l.insert(labels::ROLE.into(), ROLE_SNAPSHOT.into());
    l.insert(labels::VERSION.into(), version.into());
    l.insert(SNAPSHOT.into(), snap.to_string());
    l.insert(SNAPSHOT_OF.into(), w.name.clone());
    l.insert(
        SNAPSHOT_CREATED.into(),
        created.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    );
    l
}

/// The image's labels: the volume's plus the home's size. Every other berth label
/// the committed container had (its name, port, thread, create token) is set empty
/// here, because an image keeps its container's labels and cannot drop one; berth
/// reads an empty label of its own as absent.
pub fn image_labels(
    volume_labels: &BTreeMap<String, String>,
    container_labels: &BTreeMap<String, String>,
    home_bytes: u64,
) -> BTreeMap<String, String> {
    let mut l = volume_labels.clone();
    l.insert(SNAPSHOT_HOME_BYTES.into(), home_bytes.to_string());
    for k in container_labels.keys() {
        if labels::is_berth_key(k) && !l.contains_key(k) {
            l.insert(k.clone(), String::new());
        }
    }
    l
}

/// A restored container's labels: its own, its origin, and every other berth label
/// of the snapshot's image set empty (a container inherits its image's labels).
pub fn restored_labels(
    mut own: BTreeMap<String, String>,
    snapshot: &str,
    image: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    own.insert(RESTORED_FROM.into(), snapshot.into());
    for k in image.keys() {
        if labels::is_berth_key(k) && !own.contains_key(k) {
            own.insert(k.clone(), String::new());
        }
    }
    own
}

/// The spec of a workspace restored from a snapshot with labels `l`: the snapshot's
/// image, profile, forwarding, passed-through names, default directory, platform
/// and runtime; limits and extra labels from the config (as for a create). Nothing
/// runs that a create would (clone, dotfiles, setup, post-start): the files are there.
pub fn restore_spec(
    name: WorkspaceName,
    snap: &SnapshotName,
    l: &BTreeMap<String, String>,
    resources: Resources,
    runtime: Option<String>,
    extra_labels: BTreeMap<String, String>,
) -> WorkspaceSpec {
    let get = |k: &str| l.get(k).filter(|v| !v.is_empty()).cloned();
    let options = Options {
        secrets: get(labels::SECRETS)
            .map(|s| super::env::names_from_label(&s))
            .unwrap_or_default(),
        forward: get(labels::FORWARD).map_or(Forward::NONE, |f| Forward::from_label(&f)),
        workdir: get(labels::WORKDIR),
        // A snapshot of a workspace made before profiles has no label: it was open.
        net_profile: super::net_profile::NetProfile::from_label(
            get(super::net_profile::LABEL).as_deref(),
        ),
        // A label berth wrote parses; one that does not is dropped, not fatal.
        forward_logs: get(super::log_forward::LABEL)
            .and_then(|t| super::log_forward::Target::parse(&t).ok().flatten()),
        secret_files: get(labels::SECRET_FILES)
            .map(|s| super::secrets::names_from_label(&s))
            .unwrap_or_default(),
        allow_domains: super::proxy::allow_from_label(get(super::proxy::ALLOW_LABEL).as_deref()),
        ..Default::default()
    };
    WorkspaceSpec {
        name,
        image: snap.image(),
        clone_url: None,
        thread: None,
        platform: get(labels::PLATFORM),
        profile: get(labels::PROFILE).unwrap_or_else(|| DEFAULT_PROFILE.into()),
        post_start: None,
        resources,
        runtime: get(RUNTIME).or(runtime),
        extra_labels,
        options,
    }
}

/// A snapshot as listed: its parts and what its labels say.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotInfo {
    pub name: String,
    /// The workspace it was taken of.
    pub workspace: String,
    /// RFC 3339, UTC.
    pub created: String,
    pub image: Option<String>,
    pub volume: Option<String>,
    /// Bytes in the home volume.
    pub home_bytes: Option<u64>,
    /// Bytes of the container's filesystem layer (what the commit added).
    pub image_bytes: Option<u64>,
    /// Both parts exist (a snapshot killed midway has only some; `snapshot rm`
    /// removes what there is).
    pub complete: bool,
}

impl SnapshotInfo {
    /// Home plus layer, when known.
    pub fn size(&self) -> Option<u64> {
        match (self.home_bytes, self.image_bytes) {
            (None, None) => None,
            (h, i) => Some(h.unwrap_or(0) + i.unwrap_or(0)),
        }
    }
}

/// "12 KB", "3.4 MB", "1.2 GB" (powers of 1000, like the engine's own sizes).
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut u = 0;
    while v >= 1000.0 && u < UNITS.len() - 1 {
        v /= 1000.0;
        u += 1;
    }
    if u == 0 {
        format!("{n} B")
    } else if v < 10.0 {
        format!("{v:.1} {}", UNITS[u])
    } else {
        format!("{v:.0} {}", UNITS[u])
    }
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
