//! An engine that lives in memory: the whole [`Engine`] trait over plain domain
//! types, for tests and benchmarks of everything above the engine (backend tasks,
//! CLI, TUI) without Docker. It behaves like the Docker engine where berth relies
//! on it: label-filtered events for every state change, log streams that end when
//! the container stops, one stats sample per second of tokio time (so paused time
//! works), host ports refused when taken.
//!
//! Test controls: take the engine down and bring it back ([`MemoryEngine::go_down`],
//! [`MemoryEngine::come_up`]), fail the next call of an operation
//! ([`MemoryEngine::fail_next`]), hold a host port ([`MemoryEngine::occupy_port`]),
//! script exec ([`MemoryEngine::set_exec_handler`]), and count what is open and
//! what was called ([`MemoryEngine::open_streams`], [`MemoryEngine::calls`]).
mod archive;
mod controls;
pub mod dind;
mod exec;
mod files;
mod lifecycle;
mod logfwd;
mod networks;
mod ops;
mod platform;
mod proxy;
mod publish;
mod reader;
mod runtimes;
mod snapshot;
mod state;
mod streams;
#[cfg(test)]
mod tests;
mod volumes;

use super::{
    ContainerSpec, Engine, EngineInfo, EngineResult, ExecOutcome, ExecRequest, LogOptions, Output,
    PathStat, TarDownload, TarUpload,
};
use crate::domain::labels;
use crate::domain::observe::{EngineEvent, Sidecar, Stats};
use crate::domain::platform::{Arch, Emulation};
use crate::domain::workspace::{Workspace, WorkspaceState};
pub use archive::{Body, MemFs, Node};
use async_trait::async_trait;
pub use exec::{ExecCall, ExecHandler, ExecReply};
use futures_util::stream::BoxStream;
pub use runtimes::RuntimeBehaviour;
pub use state::Extras;
use state::{Container, State};
use std::collections::BTreeMap;
use std::sync::atomic::AtomicUsize;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use tokio::sync::{broadcast, mpsc, watch};

/// What [`Engine::endpoint`] reports.
pub const ENDPOINT: &str = "memory://berth";
/// The image `add_workspace` uses (present from the start).
pub const IMAGE: &str = "berth/workspace:latest";
/// Events kept for a slow subscriber; one that falls further behind gets an error,
/// as a real client would lose its connection, and resyncs.
const EVENTS_BUFFER: usize = 1024;

pub use ops::Op;

/// Streams open right now (opened and neither ended nor dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct OpenStreams {
    pub logs: usize,
    pub stats: usize,
    pub events: usize,
}

struct Inner {
    /// Plain data, locked briefly and never across an await.
    state: Mutex<State>,
    events: broadcast::Sender<EngineEvent>,
    /// Bumped on every change, so streams wake up and look.
    changed: watch::Sender<u64>,
    open_logs: Arc<AtomicUsize>,
    open_stats: Arc<AtomicUsize>,
    open_events: Arc<AtomicUsize>,
    publisher: publish::Publisher,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state, then publishes the events it recorded and wakes the
    /// streams (outside the lock).
    fn update<T>(&self, f: impl FnOnce(&mut State) -> T) -> T {
        let (out, events) = {
            let mut s = self.lock();
            let out = f(&mut s);
            (out, std::mem::take(&mut s.pending_events))
        };
        for e in events {
            // No subscriber is fine: nobody is watching.
            let _ = self.events.send(e);
        }
        self.changed.send_modify(|g| *g += 1);
        out
    }
}

/// The in-memory engine. Clones share the same engine.
#[derive(Clone)]
pub struct MemoryEngine {
    inner: Arc<Inner>,
    /// berth's name for this engine (`domain::engines`), stamped on workspaces.
    name: String,
    /// What `info` says it is (podman, to test what berth does there).
    flavor: crate::domain::podman::Flavor,
}

impl Default for MemoryEngine {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryEngine {
    /// An empty engine, up, with the workspace image present.
    pub fn new() -> Self {
        Self::build(false)
    }

    /// Like [`MemoryEngine::new`], and a running workspace's host port answers on
    /// 127.0.0.1 with an SSH banner (for code that waits for sshd, e.g. create).
    pub fn publishing() -> Self {
        Self::build(true)
    }

    fn build(publish: bool) -> Self {
        let mut state = State::new();
        state.images.insert(IMAGE.to_string());
        let (events, _) = broadcast::channel(EVENTS_BUFFER);
        Self {
            inner: Arc::new(Inner {
                state: Mutex::new(state),
                events,
                changed: watch::Sender::new(0),
                open_logs: Arc::default(),
                open_stats: Arc::default(),
                open_events: Arc::default(),
                publisher: publish::Publisher::new(publish),
            }),
            name: crate::domain::engines::DEFAULT_ENGINE.to_string(),
            flavor: Default::default(),
        }
    }

    /// The same engine under berth's name `name` (several in-memory engines stand
    /// for several hosts in tests).
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    /// The same engine saying it is `flavor` (podman, for tests).
    pub fn flavored(mut self, flavor: crate::domain::podman::Flavor) -> Self {
        self.flavor = flavor;
        self
    }

    fn stamp(&self, mut w: Workspace) -> Workspace {
        w.engine = self.name.clone();
        w
    }

    /// After a change: only running (or paused) containers keep their published ports.
    fn republish(&self) {
        if self.inner.publisher.on {
            let ports = self
                .inner
                .lock()
                .containers
                .values()
                .filter(|c| c.running() || c.state == WorkspaceState::Paused)
                .filter_map(|c| c.host_port)
                .collect();
            self.inner.publisher.keep_only(&ports);
        }
    }

    fn enter(&self, op: Op) -> EngineResult<()> {
        self.inner.lock().enter(op)
    }
}

#[async_trait]
impl Engine for MemoryEngine {
    fn endpoint(&self) -> String {
        ENDPOINT.to_string()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    async fn info(&self) -> EngineResult<EngineInfo> {
        self.enter(Op::Info)?;
        let (runtimes, default_runtime) = self.runtimes_now();
        let host = self.inner.lock().host;
        Ok(EngineInfo {
            endpoint: ENDPOINT.to_string(),
            version: "memory".into(),
            api_version: "1.41".into(),
            os: "memory".into(),
            platform: format!("linux/{}", self.inner.lock().platforms.native),
            kernel: "memory".into(),
            root_dir: String::new(),
            runtimes,
            default_runtime,
            containers: self.inner.lock().containers.len() as i64,
            ncpu: host.0,
            mem_total: host.1,
            flavor: self.flavor,
        })
    }

    async fn list_workspaces(&self) -> EngineResult<Vec<Workspace>> {
        let delay = self.inner.lock().list_delay;
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let mut s = self.inner.lock();
        s.enter(Op::ListWorkspaces)?;
        let role = labels::ROLE_WORKSPACE;
        let mut out: Vec<Workspace> = s
            .containers
            .values()
            .filter(|c| c.labels.get(labels::ROLE).map(String::as_str) == Some(role))
            .filter_map(Container::to_workspace)
            .map(|w| self.stamp(w))
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn inspect_workspace(&self, container: &str) -> EngineResult<Option<Workspace>> {
        let mut s = self.inner.lock();
        s.enter(Op::InspectWorkspace)?;
        Ok(s.find(container)
            .and_then(Container::to_workspace)
            .map(|w| self.stamp(w)))
    }

    async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<bool> {
        volumes::create(self, name, labels)
    }

    async fn volume_exists(&self, name: &str) -> EngineResult<bool> {
        volumes::exists(self, name)
    }

    async fn volumes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        volumes::labelled(self, want)
    }

    async fn remove_volume(&self, name: &str) -> EngineResult<()> {
        volumes::remove(self, name)
    }

    async fn create_container(&self, spec: &ContainerSpec) -> EngineResult<String> {
        self.inner.update(|s| {
            s.enter(Op::CreateContainer)?;
            s.create_container(spec)
        })
    }

    async fn start_container(&self, container: &str) -> EngineResult<()> {
        lifecycle::start(self, container)
    }

    async fn stop_container(&self, container: &str, _timeout_secs: i64) -> EngineResult<()> {
        lifecycle::stop(self, container)
    }

    async fn restart_container(&self, container: &str, _timeout_secs: i64) -> EngineResult<()> {
        lifecycle::restart(self, container)
    }

    async fn rename_container(&self, container: &str, new_name: &str) -> EngineResult<()> {
        lifecycle::rename(self, container, new_name)
    }

    async fn remove_container(&self, container: &str) -> EngineResult<()> {
        lifecycle::remove(self, container)
    }

    async fn write_file(
        &self,
        container: &str,
        path: &str,
        contents: &[u8],
        _mode: u32,
    ) -> EngineResult<()> {
        files::write(self, container, path, contents)
    }

    async fn read_file(
        &self,
        container: &str,
        path: &str,
        limit: usize,
    ) -> EngineResult<Option<Vec<u8>>> {
        files::read(self, container, path, limit)
    }

    async fn stat_path(&self, container: &str, path: &str) -> EngineResult<Option<PathStat>> {
        archive::stat(self, container, path)
    }

    async fn upload_archive(&self, c: &str, dir: &str, tar: TarUpload) -> EngineResult<()> {
        archive::upload(self, c, dir, tar).await
    }

    fn download_archive(&self, container: &str, path: &str) -> TarDownload {
        archive::download(self, container, path)
    }

    async fn exec(
        &self,
        container: &str,
        req: ExecRequest,
        out: mpsc::Sender<Output>,
    ) -> EngineResult<ExecOutcome> {
        exec::run(self, container, req, out).await
    }

    fn logs(&self, container: &str, opts: LogOptions) -> BoxStream<'static, EngineResult<Output>> {
        let first = self.enter(Op::Logs);
        streams::logs(self.inner.clone(), first, container, opts)
    }

    fn events(&self) -> BoxStream<'static, EngineResult<EngineEvent>> {
        let first = self.enter(Op::Events);
        streams::events(self.inner.clone(), first)
    }

    fn stats(&self, container: &str) -> BoxStream<'static, EngineResult<Stats>> {
        let first = self.enter(Op::Stats);
        streams::stats(self.inner.clone(), first, container)
    }

    async fn sidecars(&self, name: &str) -> EngineResult<Vec<Sidecar>> {
        let mut s = self.inner.lock();
        s.enter(Op::Sidecars)?;
        let mut out: Vec<Sidecar> = s
            .containers
            .values()
            .filter(|c| {
                c.labels.get(labels::ROLE).map(String::as_str) == Some(labels::ROLE_SIDECAR)
                    && c.labels.get(labels::NAME).map(String::as_str) == Some(name)
            })
            .map(|c| Sidecar {
                source: c
                    .labels
                    .get(labels::SIDECAR)
                    .cloned()
                    .unwrap_or_else(|| c.name.clone()),
                container: c.name.clone(),
                running: c.running(),
                paused: c.state == WorkspaceState::Paused,
                joins_workspace: c.labels.get(labels::NETNS).map(String::as_str)
                    == Some(labels::NETNS_WORKSPACE),
            })
            .collect();
        out.sort_by(|a, b| a.source.cmp(&b.source));
        Ok(out)
    }

    async fn image_present(&self, image: &str) -> EngineResult<bool> {
        let mut s = self.inner.lock();
        s.enter(Op::ImagePresent)?;
        Ok(s.images.contains(image))
    }

    async fn build_image(
        &self,
        context: Vec<u8>,
        build: &super::ImageBuild,
        progress: mpsc::Sender<String>,
    ) -> EngineResult<()> {
        let tag = build.tag.as_str();
        self.enter(Op::BuildImage)?;
        for line in [
            format!(
                "Sending build context ({} bytes) to the memory engine",
                context.len()
            ),
            format!("Successfully tagged {tag}"),
        ] {
            // A caller that stopped listening does not stop the build.
            let _ = progress.send(line).await;
        }
        self.built(tag, build.platform.as_deref(), &build.labels);
        Ok(())
    }

    async fn image_info(&self, image: &str) -> EngineResult<Option<super::ImageInfo>> {
        self.image_info_now(image)
    }

    async fn emulation(&self, arch: Arch) -> EngineResult<Emulation> {
        self.emulation_now(arch)
    }

    async fn create_docker_sidecar(&self, spec: &super::DockerSidecarSpec) -> EngineResult<String> {
        dind::create_sidecar(self, spec)
    }

    fn export_image(&self, image: &str) -> BoxStream<'static, EngineResult<bytes::Bytes>> {
        dind::export_image(self, image)
    }

    async fn copy_between(&self, from: &str, path: &str, to: &str, dir: &str) -> EngineResult<()> {
        dind::copy_between(self, from, path, to, dir)
    }

    async fn log_file(&self, container: &str) -> EngineResult<super::LogFile> {
        logfwd::log_file(self, container)
    }

    async fn create_log_forwarder(&self, spec: &super::LogForwarderSpec) -> EngineResult<String> {
        logfwd::create(self, spec)
    }

    async fn create_proxy_sidecar(&self, spec: &super::ProxySidecarSpec) -> EngineResult<String> {
        proxy::create_sidecar(self, spec)
    }

    async fn probe_runtime(&self, spec: &super::ProbeSpec) -> EngineResult<super::ProbeOutcome> {
        self.probe(spec).await
    }

    async fn probes_left(&self) -> EngineResult<Vec<super::ProbeLeft>> {
        Ok(self.probes_now())
    }

    async fn start_volume_reader(&self, spec: &super::VolumeReader) -> EngineResult<()> {
        self.inner.update(|s| reader::start(s, spec))
    }
}
