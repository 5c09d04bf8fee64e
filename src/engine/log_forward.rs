//! What the engine is asked for a workspace's log forwarder (`domain::log_forward`):
//! where a container's log file is, and the forwarder sidecar itself.
use super::Bind;
use std::collections::BTreeMap;
use std::path::PathBuf;

/// A container's log file as the engine writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogFile {
    /// The container's full id.
    pub id: String,
    /// The container's logging driver (`json-file`, `local`, `journald`, ...).
    pub driver: String,
    /// The file on the engine's host (json-file: `<root>/containers/<id>/<id>-json.log`).
    pub path: PathBuf,
}

impl LogFile {
    /// The directory holding the file (and its rotated copies).
    pub fn dir(&self) -> PathBuf {
        self.path
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| self.path.clone())
    }
}

/// The forwarder sidecar to create. Its hardening is fixed (capabilities all
/// dropped, no-new-privileges, a read-only root filesystem, `/tmp` a tmpfs, the
/// limits of `domain::log_forward`); what varies is given here.
#[derive(Debug, Clone)]
pub struct LogForwarderSpec {
    pub container: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// The entrypoint's arguments (`domain::log_forward::forwarder_args`).
    pub args: Vec<String>,
    /// `UID:GID` it runs as.
    pub user: String,
    /// Supplementary groups (`0`: to read the engine's log files).
    pub group_add: Vec<String>,
    /// Host paths it sees; each must exist (a missing one is an error, never made).
    pub binds: Vec<Bind>,
    /// Its volume (the cursors), at `domain::log_forward::STATE_DIR`.
    pub volume: String,
    /// The host's network (to reach a syslog endpoint on 127.0.0.1); else none.
    pub host_network: bool,
}
