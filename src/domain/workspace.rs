//! Domain types for workspaces: what the user asks for and what exists.
use super::naming::WorkspaceName;
use super::provision::Provision;
use super::resources::Resources;
use serde::Serialize;
use std::collections::BTreeMap;

/// The user-facing account inside every workspace image.
pub const WORKSPACE_USER: &str = "workspace";
/// Home directory (the persistent volume's mount point).
pub const WORKSPACE_HOME: &str = "/home/workspace";
/// Where `--clone` puts the repository.
pub const REPO_DIR: &str = "/home/workspace/repo";
/// sshd's port inside the container (unprivileged: sshd runs as the workspace user).
pub const SSHD_CONTAINER_PORT: u16 = 2222;
/// sshd host public key, kept in the volume so it never changes for a workspace.
pub const HOST_KEY_PUB: &str = "/home/workspace/.berth/ssh/ssh_host_ed25519_key.pub";
/// Default profile label when none is chosen.
pub const DEFAULT_PROFILE: &str = "general";

/// Everything needed to create a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkspaceSpec {
    pub name: WorkspaceName,
    pub image: String,
    pub clone_url: Option<String>,
    pub thread: Option<String>,
    pub platform: Option<String>,
    pub profile: String,
    pub post_start: Option<String>,
    pub resources: Resources,
    pub runtime: Option<String>,
    /// Extra labels from the config (`[labels]`), put on every object.
    pub extra_labels: BTreeMap<String, String>,
    /// Environment, forwarding, dotfiles, setup, mounts, ports.
    pub options: super::create_options::Options,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum WorkspaceState {
    Created,
    Running,
    Paused,
    Restarting,
    Stopped,
    Removing,
    Dead,
    /// No container: only what an interrupted create left (its volume).
    Absent,
    Unknown,
}

impl WorkspaceState {
    /// Maps the engine's container state word.
    pub fn from_engine(state: &str) -> Self {
        match state {
            "created" => Self::Created,
            "running" => Self::Running,
            "paused" => Self::Paused,
            "restarting" => Self::Restarting,
            "exited" => Self::Stopped,
            "removing" => Self::Removing,
            "dead" => Self::Dead,
            _ => Self::Unknown,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Created => "created",
            Self::Running => "running",
            Self::Paused => "paused",
            Self::Restarting => "restarting",
            Self::Stopped => "stopped",
            Self::Removing => "removing",
            Self::Dead => "dead",
            Self::Absent => "absent",
            Self::Unknown => "unknown",
        }
    }
}

/// A workspace as the engine reports it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Workspace {
    pub name: String,
    /// The engine it is on (berth's name for it, `domain::engines`); filled in
    /// by the engine that reports it.
    pub engine: String,
    pub state: WorkspaceState,
    pub ssh_port: Option<u16>,
    pub image: String,
    pub container: String,
    pub container_id: String,
    pub volume: String,
    pub thread: Option<String>,
    pub platform: Option<String>,
    pub profile: Option<String>,
    /// Creation time, seconds since the Unix epoch.
    pub created: i64,
    /// Start time of the current run, seconds since the Unix epoch (running workspaces).
    pub started_at: Option<i64>,
    /// Container runtime as the engine recorded it (engines fill in their default
    /// when none was asked for); `None` when it does not say.
    pub runtime: Option<String>,
    /// Memory limit in bytes, if any.
    pub memory_limit: Option<i64>,
    /// Process limit, if any.
    pub pids_limit: Option<i64>,
    /// CPU limit in cores, if any.
    pub cpus_limit: Option<f64>,
    /// Whether provisioning finished (engine and store together; see `provision`).
    pub provision: Provision,
    pub labels: BTreeMap<String, String>,
}

impl Workspace {
    /// The word lists and JSON show: the engine's state, unless provisioning has not
    /// finished, which is never shown as healthy.
    pub fn status_word(&self) -> &'static str {
        match self.provision {
            Provision::Ready => self.state.as_str(),
            _ => self.provision.word(),
        }
    }

    /// Its network profile (its label; none, made before profiles: `open`).
    pub fn net_profile(&self) -> super::net_profile::NetProfile {
        super::net_profile::NetProfile::from_label(
            self.labels
                .get(super::net_profile::LABEL)
                .map(String::as_str),
        )
    }

    /// Its provider (its label; none: a container).
    pub fn provider(&self) -> super::vm::Provider {
        super::vm::Provider::from_label(
            self.labels
                .get(super::vm::PROVIDER_LABEL)
                .map(String::as_str),
        )
    }

    /// Seconds since the current run started, for running workspaces.
    pub fn uptime_secs(&self, now: i64) -> Option<i64> {
        match self.state {
            WorkspaceState::Running => self.started_at.map(|s| (now - s).max(0)),
            _ => None,
        }
    }
}

/// "3d 4h", "5h 12m", "7m 3s", "42s".
pub fn human_duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (d, h, m, s) = (
        secs / 86400,
        secs % 86400 / 3600,
        secs % 3600 / 60,
        secs % 60,
    );
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn engine_states_map() {
        assert_eq!(
            WorkspaceState::from_engine("exited"),
            WorkspaceState::Stopped
        );
        assert_eq!(
            WorkspaceState::from_engine("running"),
            WorkspaceState::Running
        );
        assert_eq!(
            WorkspaceState::from_engine("weird"),
            WorkspaceState::Unknown
        );
    }

    #[test]
    fn durations_read_well() {
        assert_eq!(human_duration(42), "42s");
        assert_eq!(human_duration(7 * 60 + 3), "7m 3s");
        assert_eq!(human_duration(5 * 3600 + 12 * 60), "5h 12m");
        assert_eq!(human_duration(3 * 86400 + 4 * 3600 + 5), "3d 4h");
        assert_eq!(human_duration(-5), "0s");
    }
}
