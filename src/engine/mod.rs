//! The container engine behind a trait that speaks domain types only.
//! `docker.rs` is the bollard implementation; SDK types never leave it.
//! `memory.rs` is an in-memory engine for tests and benchmarks.
pub mod contexts;
pub mod docker;
mod docker_connect;
mod docker_convert;
mod docker_copy;
mod docker_create;
mod docker_dind;
mod docker_exec;
mod docker_export;
mod docker_files;
mod docker_image;
mod docker_labelled;
mod docker_lifecycle;
mod docker_logfwd;
mod docker_network;
mod docker_platform;
mod docker_proxy;
mod docker_reader;
mod docker_remove_guard;
mod docker_runtime;
mod docker_snapshot;
mod docker_volume;
mod docker_watch;
pub mod log_forward;
pub mod memory;
pub mod network;
pub mod probe;
pub mod proxy;
pub mod reader;
pub mod snapshot;
pub mod ssh_dial;
mod unix_pooled;
pub mod vm;

pub use log_forward::{LogFile, LogForwarderSpec};
pub use probe::{ProbeLeft, ProbeOutcome, ProbeSpec};
pub use reader::VolumeReader;
pub use snapshot::{ImageSummary, SnapshotEngine, VolumeCopy, VolumeSummary};

use crate::domain::create_options::PortMap;
use crate::domain::observe::{EngineEvent, Sidecar, Stats};
use crate::domain::platform::{Arch, Emulation};
use crate::domain::resources::Resources;
use crate::domain::workspace::Workspace;
use async_trait::async_trait;
use futures_util::stream::BoxStream;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::time::Duration;
use tokio::sync::mpsc;

pub use network::{NetworkEngine, NetworkInfo, NetworkSpec, ServiceInfo, ServiceSpec};
pub use proxy::ProxySidecarSpec;

#[derive(Debug, Clone, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot reach the container engine at {endpoint} ({reason}). {}",
        unreachable_hint(endpoint)
    )]
    Unreachable { endpoint: String, reason: String },
    #[error("permission denied on the engine socket {endpoint}. Add yourself to the docker group (`sudo usermod -aG docker $USER`, then log in again) or run as root")]
    PermissionDenied { endpoint: String },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("{0}")]
    Conflict(String),
    /// 409 "removal of container ... is already in progress": another removal of it
    /// runs; it will be gone (a cleanup counts it as done). Other 409s are [`Self::Conflict`].
    #[error("{0}")]
    RemovalInProgress(String),
    #[error("host port taken: {0}")]
    PortTaken(String),
    #[error("engine error: {0}")]
    Api(String),
}

impl EngineError {
    pub fn is_not_found(&self) -> bool {
        matches!(self, EngineError::NotFound { .. })
    }
    pub fn is_removal_in_progress(&self) -> bool {
        matches!(self, EngineError::RemovalInProgress(_))
    }
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            EngineError::Unreachable { .. } | EngineError::PermissionDenied { .. }
        )
    }
}

/// What to do about an engine that does not answer: start the local one, or
/// check the remote host (whose own engine berth cannot start from here).
fn unreachable_hint(endpoint: &str) -> &'static str {
    if endpoint.starts_with("ssh://") || endpoint.starts_with("tcp://") {
        "Check the host, the network and the engine there, or use one that answers with --engine or DOCKER_HOST (`berth engines` lists every engine)"
    } else {
        "Start it (`sudo systemctl start docker`, or `sudo scripts/engine.sh ensure` in berth's checkout) or point DOCKER_HOST at a running engine"
    }
}

pub type EngineResult<T> = Result<T, EngineError>;

/// What the engine says about itself.
#[derive(Debug, Clone, Default)]
pub struct EngineInfo {
    pub endpoint: String,
    pub version: String,
    pub api_version: String,
    pub os: String,
    /// The engine's own platform as it says it (`linux/amd64`).
    pub platform: String,
    /// The kernel release the engine runs on (`uname -r`).
    pub kernel: String,
    pub root_dir: String,
    pub runtimes: Vec<String>,
    pub default_runtime: String,
    pub containers: i64,
    /// The host's CPUs as the engine sees them (0: it does not say).
    pub ncpu: u32,
    /// The host's memory in bytes (0: it does not say).
    pub mem_total: u64,
    /// Docker, or podman through its Docker-compatible socket (`domain::podman`).
    pub flavor: crate::domain::podman::Flavor,
}

/// A workspace container to create.
#[derive(Debug, Clone)]
pub struct ContainerSpec {
    pub container: String,
    pub hostname: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// `NAME=VALUE` (public values only: they show in `docker inspect`).
    pub env: Vec<String>,
    /// tmpfs mounts: (path, mount options).
    pub tmpfs: Vec<(String, String)>,
    pub volume: String,
    pub mount_point: String,
    pub ssh_container_port: u16,
    /// The SSH port published on `bind_address`; none for a workspace without a
    /// network (ssh then goes through the engine).
    pub ssh_host_port: Option<u16>,
    /// The network it is created on: a network's name, or `none` for no network at
    /// all (only `lo`); the engine's default bridge when `None`.
    pub network: Option<String>,
    pub bind_address: IpAddr,
    pub resources: Resources,
    pub runtime: Option<String>,
    pub platform: Option<String>,
    /// Host paths bind-mounted inside (`--mount`, and forwarding that needs one).
    pub binds: Vec<Bind>,
    /// Extra ports published on `bind_address` (`--port`).
    pub ports: Vec<PortMap>,
    /// The container's working directory (`--workdir`); the image's when `None`.
    pub workdir: Option<String>,
    /// An init process as PID 1 (reaps zombies); off only when the engine's
    /// definition says `init = false` (`domain::podman::wants_init`).
    pub init: bool,
    /// A VM instead of a container (`--provider vm`): what it is given. The
    /// engine layer for VMs (`engine::vm`) makes it; a plain engine refuses it.
    pub vm: Option<crate::domain::vm::VmShape>,
}

/// A workspace's Docker engine sidecar to create: what it is given besides the
/// fixed privileges of `domain::dind` (which say why it needs them).
#[derive(Debug, Clone)]
pub struct DockerSidecarSpec {
    pub container: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// The workspace container whose network namespace it joins.
    pub workspace: String,
    /// Its data volume, mounted at `domain::dind::DATA_DIR`.
    pub volume: String,
    /// The entrypoint's arguments (extra dockerd flags).
    pub args: Vec<String>,
    /// Memory and CPU as the workspace's (they bound the inner containers too).
    pub resources: Resources,
}

/// A host path bind-mounted into a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Bind {
    pub host: std::path::PathBuf,
    /// The absolute path inside the container.
    pub path: String,
    pub read_only: bool,
}

impl Bind {
    /// In the engine's `HOST:PATH[:ro]` spelling.
    pub fn spec(&self) -> String {
        let ro = if self.read_only { ":ro" } else { "" };
        format!("{}:{}{ro}", self.host.display(), self.path)
    }
}

/// A command run inside a container.
#[derive(Default)]
pub struct ExecRequest {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub workdir: Option<String>,
    pub user: Option<String>,
    pub stdin: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>,
    pub timeout: Option<Duration>,
    /// Raised (true) to stop the command early: its process tree is killed as on
    /// a timeout and the exec ends with [`EXEC_CANCELLED`].
    pub cancel: Option<tokio::sync::watch::Receiver<bool>>,
}

/// The error of an exec whose `cancel` was raised.
pub const EXEC_CANCELLED: &str = "the command was cancelled and its processes killed";

/// Resolves once `cancel` is raised; never when there is none or its sender is
/// dropped without raising it.
pub async fn exec_cancelled(cancel: Option<tokio::sync::watch::Receiver<bool>>) {
    if let Some(mut c) = cancel {
        if c.wait_for(|v| *v).await.is_ok() {
            return;
        }
    }
    std::future::pending::<()>().await
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout(Vec<u8>),
    Stderr(Vec<u8>),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExecOutcome {
    pub exit_code: i64,
    pub timed_out: bool,
}

/// An image to build from a tar context holding a Dockerfile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageBuild {
    pub tag: String,
    /// Build arguments (the Dockerfile's `ARG`s), e.g. `BASE`.
    pub args: BTreeMap<String, String>,
    /// Labels put on the image.
    pub labels: BTreeMap<String, String>,
    /// The platform to build for (`linux/arm64`); the engine's own when `None`.
    /// A base image the engine pulls is pulled for it.
    pub platform: Option<String>,
}

/// What the engine says about an image.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageInfo {
    /// The image's id (`sha256:...`).
    pub id: String,
    pub labels: BTreeMap<String, String>,
    /// The image's OS and architecture as the engine says them (`linux`, `arm64`);
    /// empty when it does not say.
    pub os: String,
    pub architecture: String,
    /// The image's filesystem layers, bottom first (`RootFS.Layers`): an image
    /// built over another starts with that one's layers. Empty when not known.
    pub layers: Vec<String>,
}

/// What the engine says about a path inside a container (its archive stat; a
/// symlink is not followed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathStat {
    pub kind: crate::domain::copy::Kind,
    pub size: u64,
    /// Permission bits (0o7777).
    pub mode: u32,
    /// Where a symlink points (empty otherwise).
    pub link_target: String,
}

/// Tar bytes on their way into a container (an error ends the upload).
pub type TarUpload = BoxStream<'static, std::io::Result<bytes::Bytes>>;
/// Tar bytes on their way out of a container.
pub type TarDownload = BoxStream<'static, EngineResult<bytes::Bytes>>;

#[derive(Debug, Clone, Copy)]
pub struct LogOptions {
    pub follow: bool,
    pub tail: Option<usize>,
    pub timestamps: bool,
}

/// Networks and service containers are [`NetworkEngine`]'s part of it.
#[async_trait]
pub trait Engine: NetworkEngine + SnapshotEngine + Send + Sync {
    /// Endpoint description (for messages and the status bar).
    fn endpoint(&self) -> String;
    /// berth's name for this engine (`domain::engines`): every workspace it
    /// reports carries it in `Workspace::engine`.
    fn name(&self) -> String {
        crate::domain::engines::DEFAULT_ENGINE.to_string()
    }
    async fn info(&self) -> EngineResult<EngineInfo>;

    async fn list_workspaces(&self) -> EngineResult<Vec<Workspace>>;
    /// A workspace by container name; `Ok(None)` when it does not exist.
    async fn inspect_workspace(&self, container: &str) -> EngineResult<Option<Workspace>>;

    /// Creates the volume; `Ok(false)` when it already existed (and was left
    /// untouched), even if it appeared between a check and the creation.
    async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<bool>;
    async fn volume_exists(&self, name: &str) -> EngineResult<bool>;
    async fn remove_volume(&self, name: &str) -> EngineResult<()>;
    /// Names of the volumes carrying every `key=value` label in `want`.
    async fn volumes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>>;

    async fn create_container(&self, spec: &ContainerSpec) -> EngineResult<String>;
    async fn start_container(&self, container: &str) -> EngineResult<()>;
    async fn stop_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()>;
    async fn restart_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()>;
    async fn remove_container(&self, container: &str) -> EngineResult<()>;
    /// Renames a container (running or not); atomic in the engine: `Conflict` when
    /// `new_name` is taken, `NotFound` when `container` is gone (so of two claimers
    /// of one warm pool slot exactly one wins).
    async fn rename_container(&self, container: &str, new_name: &str) -> EngineResult<()>;
    /// Writes a small file into the container's filesystem through the engine (not
    /// through a process inside, so any runtime and a stopped container work).
    /// It lands in the container's layer on the host's disk: never use it for secrets.
    async fn write_file(
        &self,
        container: &str,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> EngineResult<()>;
    /// Reads a small file (at most `limit` bytes) from the container's filesystem
    /// through the engine; `Ok(None)` when it does not exist.
    async fn read_file(
        &self,
        container: &str,
        path: &str,
        limit: usize,
    ) -> EngineResult<Option<Vec<u8>>>;

    /// Stats a path in the container's filesystem through the archive API (works on
    /// a stopped container); `Ok(None)` when it does not exist.
    async fn stat_path(&self, container: &str, path: &str) -> EngineResult<Option<PathStat>>;
    /// Extracts a tar, streamed, into the existing directory `dir` (as root: entries
    /// keep the owners and modes their headers carry). Works on a stopped container.
    async fn upload_archive(&self, container: &str, dir: &str, tar: TarUpload) -> EngineResult<()>;
    /// A tar of `path` (its entries named after its last component), streamed.
    fn download_archive(&self, container: &str, path: &str) -> TarDownload;

    /// Runs a command; output chunks go to `out` as they arrive.
    async fn exec(
        &self,
        container: &str,
        req: ExecRequest,
        out: mpsc::Sender<Output>,
    ) -> EngineResult<ExecOutcome>;

    fn logs(&self, container: &str, opts: LogOptions) -> BoxStream<'static, EngineResult<Output>>;

    /// Container events for berth's objects (workspaces and sidecars), as they happen.
    fn events(&self) -> BoxStream<'static, EngineResult<EngineEvent>>;
    /// Resource samples for one container (about one a second).
    fn stats(&self, container: &str) -> BoxStream<'static, EngineResult<Stats>>;
    /// The sidecars of workspace `name`.
    async fn sidecars(&self, name: &str) -> EngineResult<Vec<Sidecar>>;

    async fn image_present(&self, image: &str) -> EngineResult<bool>;
    /// Tags of the images whose labels hold every `label=value` in `labels`.
    /// (Engines that keep no labels answer with none.)
    async fn images_labelled(&self, labels: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        let _ = labels;
        Ok(Vec::new())
    }
    /// Removes the tag `image` unless a container uses it; `Ok(false)` when kept.
    async fn remove_image(&self, image: &str) -> EngineResult<bool> {
        let _ = image;
        Ok(false)
    }
    /// The image's id and labels; `Ok(None)` when absent. (Engines that keep no
    /// labels answer with the name as id and no labels.)
    async fn image_info(&self, image: &str) -> EngineResult<Option<ImageInfo>> {
        Ok(self.image_present(image).await?.then(|| ImageInfo {
            id: image.to_string(),
            ..Default::default()
        }))
    }
    /// What can be seen of an emulator for `arch` where the engine runs (binfmt_misc
    /// on its kernel). Engines that cannot look answer `Unknown`.
    async fn emulation(&self, arch: Arch) -> EngineResult<Emulation> {
        let _ = arch;
        Ok(Emulation::Unknown)
    }
    /// Builds `context` (a tar archive) as `build.tag`; progress lines go to `progress`.
    async fn build_image(
        &self,
        context: Vec<u8>,
        build: &ImageBuild,
        progress: mpsc::Sender<String>,
    ) -> EngineResult<()>;

    // Docker inside a workspace (`domain::dind`).

    /// Creates a workspace's Docker engine sidecar, privileged as `domain::dind`
    /// says, in the workspace's network namespace (so it starts only while the
    /// workspace runs).
    async fn create_docker_sidecar(&self, spec: &DockerSidecarSpec) -> EngineResult<String>;
    /// The image's filesystem as one tar stream (`docker export` of a container
    /// made from it, never started, removed after), for VM base disks. Engines
    /// that cannot answer with an error saying so.
    fn export_filesystem(&self, image: &str) -> TarDownload {
        let msg = format!(
            "the engine at {} cannot export the filesystem of image {image}, which a VM workspace needs; \
             make VMs with the local Docker engine",
            self.endpoint()
        );
        futures_util::StreamExt::boxed(futures_util::stream::once(async move {
            Err(EngineError::Api(msg))
        }))
    }
    /// The image as a `docker save` archive, streamed as the engine writes it.
    fn export_image(&self, image: &str) -> BoxStream<'static, EngineResult<bytes::Bytes>>;
    /// Creates a `proxy` workspace's egress proxy sidecar (`domain::proxy`).
    async fn create_proxy_sidecar(&self, spec: &ProxySidecarSpec) -> EngineResult<String>;
    /// Copies `path` (a file or directory) of container `from` into directory `dir`
    /// of container `to`, streamed through the engine's archive API (so it lands in
    /// the container's layer on the host's disk: never for secrets).
    async fn copy_between(&self, from: &str, path: &str, to: &str, dir: &str) -> EngineResult<()>;

    // Log forwarding (`domain::log_forward`).

    /// Where the engine writes the container's log, and with which driver.
    async fn log_file(&self, container: &str) -> EngineResult<LogFile>;
    /// Creates a workspace's log forwarder sidecar, hardened (see [`LogForwarderSpec`]).
    async fn create_log_forwarder(&self, spec: &LogForwarderSpec) -> EngineResult<String>;
    /// Runs a runtime's probe container (`probe::ProbeSpec`) and removes it, pass or
    /// fail, also when this future is dropped. `Err` when the engine refused to
    /// create or start it (an unknown runtime, a runtime that cannot start).
    async fn probe_runtime(&self, spec: &ProbeSpec) -> EngineResult<ProbeOutcome>;
    /// Probe containers (role=probe) that exist now, of any berth.
    async fn probes_left(&self) -> EngineResult<Vec<ProbeLeft>>;
    /// Starts a volume reader ([`VolumeReader`]), replacing one of that name left
    /// behind. The caller removes it on every path.
    async fn start_volume_reader(&self, spec: &VolumeReader) -> EngineResult<()>;
}

/// Runs a command and collects its output (for short internal commands).
pub async fn exec_collect(
    engine: &dyn Engine,
    container: &str,
    req: ExecRequest,
) -> EngineResult<(ExecOutcome, Vec<u8>, Vec<u8>)> {
    let (tx, mut rx) = mpsc::channel(64);
    let collect = async {
        let (mut o, mut e) = (Vec::new(), Vec::new());
        while let Some(chunk) = rx.recv().await {
            match chunk {
                Output::Stdout(b) => o.extend_from_slice(&b),
                Output::Stderr(b) => e.extend_from_slice(&b),
            }
        }
        (o, e)
    };
    let (outcome, (o, e)) = tokio::join!(engine.exec(container, req, tx), collect);
    Ok((outcome?, o, e))
}
