//! The in-memory engine's state: containers, volumes, images, logs and the test
//! controls (outage, injected failures, call counts). Plain data behind one mutex,
//! never held across an await.
use super::{ExecHandler, ExecReply, Op};
use crate::domain::labels;
use crate::domain::observe::{EngineEvent, Stats};
use crate::domain::provision::Provision;
use crate::domain::workspace::{Workspace, WorkspaceState};
use crate::engine::EngineError;
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::Arc;

/// 2026-01-01T00:00:00Z: the fake wall clock starts here, so runs are reproducible.
const EPOCH_BASE_SECS: i64 = 1_767_225_600;

/// Wall-clock time for timestamps and events, driven by tokio's clock (so a test
/// with paused time sees it advance with `tokio::time::advance` or auto-advance).
pub(super) struct Clock {
    start: tokio::time::Instant,
    last_nanos: i64,
}

impl Clock {
    fn new() -> Self {
        Self {
            start: tokio::time::Instant::now(),
            last_nanos: 0,
        }
    }

    /// Nanoseconds since the epoch, strictly increasing from call to call (two log
    /// lines never share a timestamp, as with a real engine's nanosecond clock).
    pub fn now_nanos(&mut self) -> i64 {
        let elapsed = i64::try_from(self.start.elapsed().as_nanos()).unwrap_or(i64::MAX / 2);
        let now = (EPOCH_BASE_SECS * 1_000_000_000).saturating_add(elapsed);
        self.last_nanos = now.max(self.last_nanos + 1);
        self.last_nanos
    }

    pub fn now_secs(&mut self) -> i64 {
        self.now_nanos() / 1_000_000_000
    }
}

/// RFC 3339 with nanoseconds, the engine's log timestamp format (fixed width, so
/// timestamps compare as strings).
pub(super) fn rfc3339_nanos(nanos: i64) -> String {
    chrono::DateTime::from_timestamp(
        nanos.div_euclid(1_000_000_000),
        nanos.rem_euclid(1_000_000_000) as u32,
    )
    .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.9fZ").to_string())
    .unwrap_or_default()
}

pub(super) struct LogLine {
    /// The run (start count) of the container that wrote it.
    pub run: u64,
    pub ts_nanos: i64,
    pub stderr: bool,
    pub text: String,
    /// False for a last line the process wrote without a newline.
    pub newline: bool,
}

pub(super) struct Container {
    pub id: String,
    pub name: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    pub state: WorkspaceState,
    pub host_port: Option<u16>,
    pub volume: String,
    /// Files written through the engine (`write_file`), by absolute path.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The filesystem the archive API works on (`stat_path`, uploads, downloads).
    pub fs: super::MemFs,
    pub created: i64,
    pub started_at: Option<i64>,
    pub memory_limit: Option<i64>,
    pub pids_limit: Option<i64>,
    pub runtime: Option<String>,
    /// How many times it was started; a followed log stream belongs to one run.
    pub run: u64,
    pub logs: Vec<LogLine>,
    /// The sample its stats stream reports while it runs.
    pub stats: Stats,
    /// Binds, extra published ports and working directory, as created.
    pub extras: Extras,
}

/// What a container was created with besides its identity (for tests to read).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extras {
    pub binds: Vec<crate::engine::Bind>,
    pub ports: Vec<crate::domain::create_options::PortMap>,
    pub workdir: Option<String>,
    /// The container whose network namespace it joins (`container:` mode): it
    /// starts only while that one runs.
    pub joins: Option<String>,
    /// Its command's arguments (a Docker sidecar's dockerd flags).
    pub args: Vec<String>,
    /// The network it was created on (`none`: no network); `None` for the
    /// engine's default bridge.
    pub network: Option<String>,
    /// Created without an init process (`ContainerSpec::init` false).
    pub no_init: bool,
    /// Its logging driver when not `json-file` (see `MemoryEngine::set_log_driver`).
    pub log_driver: Option<String>,
    /// Its environment (a proxy sidecar's configuration; a workspace's public
    /// variables).
    pub env: Vec<String>,
    /// The user it runs as, when not the image's.
    pub user: Option<String>,
    /// Its CPU limit as the engine holds it (NanoCpus).
    pub nano_cpus: Option<i64>,
    /// Made as a VM: what it was given (`ContainerSpec::vm`).
    pub vm: Option<crate::domain::vm::VmShape>,
}

impl Container {
    /// A created (not started) container with nothing else set.
    pub fn new(
        id: String,
        name: &str,
        image: &str,
        labels: BTreeMap<String, String>,
        created: i64,
    ) -> Self {
        Self {
            id,
            name: name.to_string(),
            image: image.to_string(),
            labels,
            state: WorkspaceState::Created,
            host_port: None,
            volume: String::new(),
            files: BTreeMap::new(),
            fs: Default::default(),
            created,
            started_at: None,
            memory_limit: None,
            pids_limit: None,
            runtime: None,
            run: 0,
            logs: Vec::new(),
            stats: Stats::default(),
            extras: Extras::default(),
        }
    }

    pub fn running(&self) -> bool {
        self.state == WorkspaceState::Running
    }

    /// The domain view, like the Docker engine's: `None` without berth's name label.
    pub fn to_workspace(&self) -> Option<Workspace> {
        Some(Workspace {
            engine: String::new(),
            name: crate::domain::pool::workspace_name(&self.labels, &self.name)?,
            state: self.state,
            ssh_port: labels::ssh_port(&self.labels),
            image: self.image.clone(),
            container: self.name.clone(),
            container_id: self.id.clone(),
            volume: self.volume.clone(),
            thread: self.labels.get(labels::THREAD).cloned(),
            platform: self.labels.get(labels::PLATFORM).cloned(),
            profile: self.labels.get(labels::PROFILE).cloned(),
            created: self.created,
            started_at: self.started_at.filter(|_| self.running()),
            runtime: self.runtime.clone(),
            memory_limit: self.memory_limit,
            pids_limit: self.pids_limit,
            cpus_limit: self.extras.nano_cpus.map(|n| n as f64 / 1e9),
            // Like the Docker engine: made before markers, or to be checked by one.
            provision: Provision::from_engine(!self.labels.contains_key(labels::PROVISION)),
            labels: self.labels.clone(),
        })
    }
}

pub(super) struct State {
    pub up: bool,
    /// Bumped by every outage: a stream opened in an earlier epoch has lost its link.
    pub outage: u64,
    pub down_reason: String,
    pub containers: BTreeMap<String, Container>,
    pub volumes: BTreeMap<String, BTreeMap<String, String>>,
    pub images: BTreeSet<String>,
    /// Labels and files of committed images (snapshots), by tag.
    pub image_labels: BTreeMap<String, BTreeMap<String, String>>,
    pub image_files: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// What volumes hold, by volume and path (only what tests and copies put there).
    pub volume_files: BTreeMap<String, BTreeMap<String, Vec<u8>>>,
    /// Host ports held by something outside the engine's containers.
    pub occupied_ports: BTreeSet<u16>,
    pub failures: HashMap<Op, VecDeque<EngineError>>,
    pub calls: HashMap<Op, usize>,
    pub clock: Clock,
    pub next_id: u64,
    pub exec: ExecHandler,
    /// Events to publish once the lock is released.
    pub pending_events: Vec<EngineEvent>,
    pub platforms: super::platform::Platforms,
    /// Networks by name (see `networks.rs`).
    pub networks: BTreeMap<String, super::networks::Net>,
    /// Container id -> network id -> DNS aliases there. Keyed by ids, like the
    /// engine: a removed network leaves a stopped member unable to start.
    pub attached: BTreeMap<String, BTreeMap<String, Vec<String>>>,
    /// Registered runtimes and how each behaves (see `runtimes.rs`).
    pub runtimes: super::runtimes::Runtimes,
    /// The host's CPUs and memory in bytes, as `info` says them.
    pub host: (u32, u64),
    /// How long a list of workspaces takes (tokio time), like a real engine's
    /// round trip; none by default.
    pub list_delay: std::time::Duration,
}

impl State {
    /// Creates a workspace container as the engine would (refusing a taken name or
    /// a missing image); its id.
    pub fn create_container(
        &mut self,
        spec: &crate::engine::ContainerSpec,
    ) -> Result<String, EngineError> {
        if self.containers.contains_key(&spec.container) {
            return Err(EngineError::Conflict(format!(
                "Conflict. The container name \"/{}\" is already in use",
                spec.container
            )));
        }
        if !self.images.contains(&spec.image) {
            return Err(EngineError::NotFound {
                what: format!("No such image: {}", spec.image),
            });
        }
        self.platforms
            .check_create(&spec.image, spec.platform.as_deref())?;
        // Like the engine: a named network must exist (`none` always does).
        let network = self.network_at_create(spec.network.as_deref().filter(|n| *n != "none"))?;
        // A VM (`spec.vm`, as `engine::vm` makes it): QEMU is its runtime, and
        // its home disk is made with it, labelled like the workspace.
        let runtime = match &spec.vm {
            Some(_) => crate::domain::vm::VM_RUNTIME.to_string(),
            None => self.runtimes.resolve(spec.runtime.as_deref())?,
        };
        // Like a bind of a named volume: created empty when missing.
        let home_labels = if spec.vm.is_some() {
            spec.labels.clone()
        } else {
            Default::default()
        };
        self.volumes
            .entry(spec.volume.clone())
            .or_insert(home_labels);
        let id = self.new_id();
        let created = self.clock.now_secs();
        self.containers.insert(
            spec.container.clone(),
            Container {
                // Nothing is published without a network, nor from an internal one.
                host_port: spec.ssh_host_port.filter(|_| {
                    spec.network.as_deref() != Some("none")
                        && !network.as_ref().is_some_and(|(_, internal)| *internal)
                }),
                volume: spec.volume.clone(),
                // A container starts with its image's files (a snapshot's).
                files: self
                    .image_files
                    .get(&spec.image)
                    .cloned()
                    .unwrap_or_default(),
                memory_limit: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
                pids_limit: Some(spec.resources.pids).filter(|p| *p > 0),
                // As the engine records it: its default when none was asked for.
                runtime: Some(runtime),
                extras: Extras {
                    binds: spec.binds.clone(),
                    ports: spec.ports.clone(),
                    workdir: spec.workdir.clone(),
                    network: spec.network.clone(),
                    env: spec.env.clone(),
                    nano_cpus: spec.resources.cpus.map(|c| (c * 1e9) as i64),
                    no_init: !spec.init,
                    vm: spec.vm,
                    ..Default::default()
                },
                ..Container::new(
                    id.clone(),
                    &spec.container,
                    &spec.image,
                    spec.labels.clone(),
                    created,
                )
            },
        );
        if let Some((net, _)) = network {
            self.attached
                .entry(id.clone())
                .or_default()
                .insert(net, vec![]);
        }
        self.event(&spec.container, "create");
        Ok(id)
    }

    pub fn new() -> Self {
        Self {
            up: true,
            outage: 0,
            down_reason: String::new(),
            containers: BTreeMap::new(),
            volumes: BTreeMap::new(),
            images: BTreeSet::new(),
            image_labels: BTreeMap::new(),
            image_files: BTreeMap::new(),
            volume_files: BTreeMap::new(),
            occupied_ports: BTreeSet::new(),
            failures: HashMap::new(),
            calls: HashMap::new(),
            clock: Clock::new(),
            next_id: 1,
            exec: Arc::new(|_| ExecReply::default()),
            pending_events: Vec::new(),
            platforms: Default::default(),
            networks: BTreeMap::new(),
            attached: BTreeMap::new(),
            runtimes: Default::default(),
            host: (8, 16 << 30),
            list_delay: std::time::Duration::ZERO,
        }
    }

    /// A container by name or id, like the engine's lookups.
    pub fn find(&self, key: &str) -> Option<&Container> {
        let key = key.trim_start_matches('/');
        self.containers
            .get(key)
            .or_else(|| self.containers.values().find(|c| c.id == key))
    }

    pub fn find_mut(&mut self, key: &str) -> Option<&mut Container> {
        let key = key.trim_start_matches('/');
        let name = self.find(key)?.name.clone();
        self.containers.get_mut(&name)
    }

    pub fn new_id(&mut self) -> String {
        let id = format!("{:064x}", self.next_id);
        self.next_id += 1;
        id
    }

    /// Counts a call and applies the outage or an injected failure.
    pub fn enter(&mut self, op: Op) -> Result<(), EngineError> {
        *self.calls.entry(op).or_default() += 1;
        if !self.up {
            return Err(self.unreachable());
        }
        match self.failures.get_mut(&op).and_then(VecDeque::pop_front) {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    pub fn unreachable(&self) -> EngineError {
        EngineError::Unreachable {
            endpoint: super::ENDPOINT.to_string(),
            reason: self.down_reason.clone(),
        }
    }

    /// Records a container event (published when the lock is released), for berth's
    /// objects only, like the Docker engine's label-filtered events stream.
    pub fn event(&mut self, container: &str, action: &str) {
        let Some(name) = self
            .containers
            .get(container)
            .and_then(|c| crate::domain::pool::workspace_name(&c.labels, &c.name))
        else {
            return;
        };
        let time = self.clock.now_secs();
        self.pending_events.push(EngineEvent {
            name,
            container: container.to_string(),
            action: action.to_string(),
            time,
        });
    }

    pub fn not_found(what: &str) -> EngineError {
        EngineError::NotFound {
            what: format!("No such container: {what}"),
        }
    }

    /// Starts a stopped container: refuses a host port that is taken.
    pub fn start(&mut self, key: &str) -> Result<(), EngineError> {
        let c = self.find(key).ok_or_else(|| Self::not_found(key))?;
        if c.running() {
            return Ok(());
        }
        let name = c.name.clone();
        self.check_networks(&c.id)?;
        if let Some(j) = &c.extras.joins {
            if !self.find(j).is_some_and(Container::running) {
                return Err(EngineError::Conflict(format!(
                    "cannot join network of a non running container: {j}"
                )));
            }
        }
        let ports = c
            .host_port
            .into_iter()
            .chain(c.extras.ports.iter().map(|p| p.host));
        for port in ports.collect::<Vec<_>>() {
            let by_other = self.containers.values().any(|o| {
                o.name != name
                    && o.running()
                    && (o.host_port == Some(port) || o.extras.ports.iter().any(|p| p.host == port))
            });
            if by_other || self.occupied_ports.contains(&port) {
                return Err(EngineError::PortTaken(format!(
                    "Bind for 127.0.0.1:{port} failed: port is already allocated"
                )));
            }
        }
        let now = self.clock.now_secs();
        if let Some(c) = self.containers.get_mut(&name) {
            c.state = WorkspaceState::Running;
            c.started_at = Some(now);
            c.run += 1;
        }
        self.event(&name, "start");
        Ok(())
    }

    /// Stops a running container (no-op when already stopped).
    pub fn stop(&mut self, key: &str) -> Result<(), EngineError> {
        let c = self.find_mut(key).ok_or_else(|| Self::not_found(key))?;
        if !c.running() {
            return Ok(());
        }
        c.state = WorkspaceState::Stopped;
        let name = c.name.clone();
        self.event(&name, "kill");
        self.event(&name, "die");
        self.event(&name, "stop");
        Ok(())
    }

    /// Appends one log line per line of `text` (the last without its newline when
    /// `text` does not end with one and `terminated` is false).
    pub fn append_log(
        &mut self,
        key: &str,
        stderr: bool,
        text: &str,
        terminated: bool,
    ) -> Result<(), EngineError> {
        let run = self.find(key).ok_or_else(|| Self::not_found(key))?.run;
        let last = text.lines().count().saturating_sub(1);
        let lines: Vec<LogLine> = text
            .lines()
            .enumerate()
            .map(|(i, l)| LogLine {
                run,
                ts_nanos: self.clock.now_nanos(),
                stderr,
                text: l.to_string(),
                newline: terminated || i < last || text.ends_with('\n'),
            })
            .collect();
        if let Some(c) = self.find_mut(key) {
            c.logs.extend(lines);
        }
        Ok(())
    }
}
