//! The in-memory engine's test controls: seed workspaces and sidecars, write logs,
//! take the engine down and back, inject failures, and count what is open.
use super::state::{Container, State};
use super::{ExecCall, ExecReply, MemoryEngine, Op, OpenStreams, IMAGE};
use crate::domain::labels;
use crate::domain::observe::Stats;
use crate::domain::workspace::WorkspaceState;
use crate::engine::{EngineError, EngineResult};
use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::Arc;

impl MemoryEngine {
    /// A running workspace `name` (container and volume `workspace-<name>`) with
    /// berth's labels and SSH port `ssh_port`. Returns the container name.
    pub fn add_workspace(&self, name: &str, ssh_port: u16) -> String {
        let container = format!("{}{name}", crate::domain::naming::OBJECT_PREFIX);
        let labels = BTreeMap::from([
            (labels::ROLE.to_string(), labels::ROLE_WORKSPACE.to_string()),
            (labels::NAME.to_string(), name.to_string()),
            (labels::SSH_PORT.to_string(), ssh_port.to_string()),
            (
                labels::PROFILE.to_string(),
                crate::domain::workspace::DEFAULT_PROFILE.to_string(),
            ),
            (
                labels::VERSION.to_string(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
        ]);
        self.add_running(&container, labels, Some(ssh_port), true);
        container
    }

    /// A running sidecar `kind` of workspace `workspace` (role=sidecar labels).
    /// Returns its container name.
    pub fn add_sidecar(&self, workspace: &str, kind: &str) -> String {
        self.add_sidecar_with(workspace, kind, false)
    }

    /// A running sidecar that joins its workspace's network namespace.
    pub fn add_joined_sidecar(&self, workspace: &str, kind: &str) -> String {
        self.add_sidecar_with(workspace, kind, true)
    }

    fn add_sidecar_with(&self, workspace: &str, kind: &str, joins: bool) -> String {
        let container = format!("{}{workspace}.{kind}", crate::domain::naming::OBJECT_PREFIX);
        let labels = labels::sidecar_labels(&BTreeMap::new(), workspace, kind, joins);
        self.add_running(&container, labels, None, false);
        container
    }

    /// The host's CPUs and memory as `info` says them (8 and 16 GiB by default).
    pub fn set_host(&self, cpus: u32, mem_bytes: u64) {
        self.inner.update(|s| s.host = (cpus, mem_bytes));
    }

    /// Makes every list of workspaces take `d` of tokio time (a real engine's round
    /// trip), so concurrent callers interleave there.
    pub fn set_list_delay(&self, d: std::time::Duration) {
        self.inner.update(|s| s.list_delay = d);
    }

    /// The CPU limit container `name` was created with (NanoCpus).
    pub fn nano_cpus(&self, name: &str) -> Option<i64> {
        self.inner
            .lock()
            .find(name)
            .and_then(|c| c.extras.nano_cpus)
    }

    /// A volume with `labels` (e.g. a sidecar's data).
    pub fn add_volume(&self, name: &str, labels: BTreeMap<String, String>) {
        self.inner.update(|s| {
            s.volumes.insert(name.to_string(), labels);
        });
    }

    /// A running container (replacing one of the same name), with a home volume of
    /// the same name when `volume`.
    fn add_running(
        &self,
        container: &str,
        labels: BTreeMap<String, String>,
        port: Option<u16>,
        volume: bool,
    ) {
        self.inner.update(|s| {
            let id = s.new_id();
            let created = s.clock.now_secs();
            if volume {
                s.volumes.insert(container.to_string(), labels.clone());
            }
            s.containers.insert(
                container.to_string(),
                Container {
                    id,
                    name: container.to_string(),
                    image: IMAGE.to_string(),
                    labels,
                    state: WorkspaceState::Created,
                    host_port: port,
                    volume: if volume {
                        container.to_string()
                    } else {
                        String::new()
                    },
                    files: BTreeMap::new(),
                    fs: super::MemFs::default(),
                    created,
                    started_at: None,
                    memory_limit: None,
                    pids_limit: None,
                    runtime: None,
                    run: 0,
                    logs: Vec::new(),
                    stats: Stats {
                        cpu_percent: 1.5,
                        mem_bytes: 64 << 20,
                        mem_limit: 4 << 30,
                        pids: 3,
                    },
                    extras: Default::default(),
                },
            );
            s.event(container, "create");
            // A fresh container's port cannot be refused unless a test holds it.
            let _ = s.start(container);
        });
    }

    /// Makes `tag` present, as if pulled.
    pub fn add_image(&self, tag: &str) {
        self.inner.update(|s| s.images.insert(tag.to_string()));
    }

    /// Makes `tag` present as an image carrying `labels` (as a build would).
    pub fn add_image_labelled(
        &self,
        tag: &str,
        labels: &std::collections::BTreeMap<String, String>,
    ) {
        self.inner.update(|s| {
            s.images.insert(tag.to_string());
            s.image_labels.insert(tag.to_string(), labels.clone());
        });
    }

    /// Appends stdout lines (one per line of `text`) to a container's log.
    pub fn log(&self, container: &str, text: &str) -> EngineResult<()> {
        self.inner
            .update(|s| s.append_log(container, false, text, true))
    }

    /// Appends stderr lines to a container's log.
    pub fn log_stderr(&self, container: &str, text: &str) -> EngineResult<()> {
        self.inner
            .update(|s| s.append_log(container, true, text, true))
    }

    /// Appends stdout whose last line has no newline (a process that died mid-line).
    pub fn log_unterminated(&self, container: &str, text: &str) -> EngineResult<()> {
        self.inner
            .update(|s| s.append_log(container, false, text, false))
    }

    /// What the container's stats stream reports while it runs.
    pub fn set_stats(&self, container: &str, stats: Stats) -> EngineResult<()> {
        self.inner.update(|s| {
            let c = s
                .find_mut(container)
                .ok_or_else(|| State::not_found(container))?;
            c.stats = stats;
            Ok(())
        })
    }

    /// The container stops by itself (its process exited): no API call is counted.
    pub fn crash(&self, container: &str) -> EngineResult<()> {
        let r = self.inner.update(|s| s.stop(container));
        self.republish();
        r
    }

    /// Publishes an event for `container` (a berth object) without changing it.
    pub fn emit(&self, container: &str, action: &str) {
        self.inner.update(|s| s.event(container, action));
    }

    /// The engine goes away: calls fail with [`EngineError::Unreachable`] carrying
    /// `reason`, open streams end with that error.
    pub fn go_down(&self, reason: &str) {
        self.inner.update(|s| {
            s.up = false;
            s.outage += 1;
            s.down_reason = reason.to_string();
        });
    }

    /// The engine is back (streams opened before the outage stay ended).
    pub fn come_up(&self) {
        self.inner.update(|s| s.up = true);
    }

    pub fn is_up(&self) -> bool {
        self.inner.lock().up
    }

    /// The next call of `op` fails with `error` (queued: several calls, several errors).
    pub fn fail_next(&self, op: Op, error: EngineError) {
        self.inner
            .lock()
            .failures
            .entry(op)
            .or_default()
            .push_back(error);
    }

    /// A fault plan: the next `n` calls of `op` fail as the Docker engine's answer
    /// `status` does through bollard: 500 an engine error, 404 not found, 409 a
    /// removal already in progress. 304 (a stop of a stopped container) is success
    /// for bollard, so it queues nothing.
    pub fn fail_next_status(&self, op: Op, status: u16, n: usize) {
        let error = match status {
            304 => return,
            404 => EngineError::NotFound {
                what: "No such container".into(),
            },
            409 => {
                EngineError::RemovalInProgress("removal of container is already in progress".into())
            }
            _ => EngineError::Api(format!("injected failure (status {status})")),
        };
        for _ in 0..n {
            self.fail_next(op, error.clone());
        }
    }

    /// Something outside the engine holds host port `port`: starting a container
    /// bound to it fails with [`EngineError::PortTaken`].
    pub fn occupy_port(&self, port: u16) {
        self.inner.lock().occupied_ports.insert(port);
    }

    pub fn free_port(&self, port: u16) {
        self.inner.lock().occupied_ports.remove(&port);
    }

    /// Decides every exec's output and exit code (default: exit 0, no output).
    pub fn set_exec_handler(
        &self,
        handler: impl Fn(&ExecCall) -> ExecReply + Send + Sync + 'static,
    ) {
        self.inner.lock().exec = Arc::new(handler);
    }

    pub fn open_streams(&self) -> OpenStreams {
        OpenStreams {
            logs: self.inner.open_logs.load(Ordering::SeqCst),
            stats: self.inner.open_stats.load(Ordering::SeqCst),
            events: self.inner.open_events.load(Ordering::SeqCst),
        }
    }

    /// Calls of `op` so far (failed ones included).
    pub fn calls(&self, op: Op) -> usize {
        self.inner.lock().calls.get(&op).copied().unwrap_or(0)
    }

    /// Sets a label on an existing container (as if it had been created with it).
    pub fn set_label(&self, container: &str, key: &str, value: &str) {
        if let Some(c) = self.inner.lock().find_mut(container) {
            c.labels.insert(key.to_string(), value.to_string());
        }
    }

    /// Names of the containers that exist.
    /// A volume's labels, `None` when it does not exist.
    pub fn volume_labels(&self, name: &str) -> Option<std::collections::BTreeMap<String, String>> {
        self.inner.lock().volumes.get(name).cloned()
    }

    /// Binds, extra ports and working directory container `name` was created with.
    pub fn extras(&self, name: &str) -> Option<super::state::Extras> {
        self.inner
            .lock()
            .containers
            .get(name)
            .map(|c| c.extras.clone())
    }

    /// The bind mounts container `name` was created with (empty when absent).
    pub fn binds(&self, name: &str) -> Vec<crate::engine::Bind> {
        self.extras(name).map(|e| e.binds).unwrap_or_default()
    }

    pub fn containers(&self) -> Vec<String> {
        self.inner.lock().containers.keys().cloned().collect()
    }
}
