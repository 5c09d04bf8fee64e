//! bollard implementation of [`Engine`]. Bollard's models are converted to domain
//! types here and nowhere else.
pub(super) use super::docker_convert::map_err;
use super::docker_convert::to_workspace;
use super::{
    ContainerSpec, Engine, EngineError, EngineInfo, EngineResult, ExecOutcome, ExecRequest,
    ImageBuild, ImageInfo, LogOptions, Output, PathStat, TarDownload, TarUpload,
};
use crate::domain::engines::EngineDef;
use crate::domain::labels;
use crate::domain::observe::{EngineEvent, Sidecar, Stats};
use crate::domain::platform::{Arch, Emulation};
use crate::domain::workspace::Workspace;
use async_trait::async_trait;
use bollard::errors::Error as BErr;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::stream::{BoxStream, StreamExt};
use std::collections::{BTreeMap, HashMap};
use tokio::sync::mpsc;

/// Default engine endpoint when DOCKER_HOST is unset.
pub const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

pub struct DockerEngine {
    docker: Docker,
    endpoint: String,
    /// berth's name for this engine (`domain::engines`), stamped on workspaces.
    name: String,
    /// podman behind a Docker-compatible socket (`domain::podman`), from its version.
    podman: bool,
    /// The ssh transport of an `ssh://` engine, which lives as long as the engine.
    _dial: Option<std::sync::Arc<super::ssh_dial::SshDial>>,
}

/// The endpoint berth talks to: DOCKER_HOST, else the default socket.
pub fn endpoint_from_env() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .filter(|h| !h.trim().is_empty())
        .unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())
}

/// Whether podman answers (its version lists a `Podman Engine` component).
async fn is_podman(docker: &Docker) -> bool {
    docker.version().await.is_ok_and(|v| {
        crate::domain::podman::Flavor::from_components(
            v.components.iter().flatten().map(|c| c.name.as_str()),
        )
        .is_podman()
    })
}

impl DockerEngine {
    /// Connects to DOCKER_HOST (or the default socket) and agrees on an API version.
    pub async fn connect() -> EngineResult<Self> {
        let endpoint = endpoint_from_env();
        Self::connect_to(&endpoint).await
    }

    /// Connects to engine definition `def`, named after it.
    /// unix, plain tcp, tcp with TLS and ssh:// (`docker_connect`).
    pub async fn connect_def(def: &EngineDef) -> EngineResult<Self> {
        super::docker_connect::connect(def).await
    }

    /// A client made by `docker_connect`, version agreed, named `name`.
    pub(super) async fn from_docker(
        docker: Docker,
        endpoint: &str,
        name: &str,
        dial: Option<std::sync::Arc<super::ssh_dial::SshDial>>,
    ) -> EngineResult<Self> {
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| map_err(endpoint, e))?;
        let podman = is_podman(&docker).await;
        Ok(Self {
            docker,
            endpoint: endpoint.to_string(),
            name: name.to_string(),
            podman,
            _dial: dial,
        })
    }

    pub async fn connect_to(endpoint: &str) -> EngineResult<Self> {
        if let Some(path) = endpoint.strip_prefix("unix://") {
            match tokio::fs::metadata(path).await {
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(EngineError::Unreachable {
                        endpoint: endpoint.to_string(),
                        reason: "the socket does not exist; is the engine installed and started?"
                            .into(),
                    })
                }
                _ => {}
            }
        }
        let docker = Docker::connect_with_host(endpoint).map_err(|e| map_err(endpoint, e))?;
        let docker = docker
            .negotiate_version()
            .await
            .map_err(|e| map_err(endpoint, e))?;
        let podman = is_podman(&docker).await;
        Ok(Self {
            docker,
            endpoint: endpoint.to_string(),
            name: crate::domain::engines::DEFAULT_ENGINE.to_string(),
            podman,
            _dial: None,
        })
    }

    /// The same connection under berth's name `name` for the engine.
    pub fn named(mut self, name: &str) -> Self {
        self.name = name.to_string();
        self
    }

    pub(super) fn docker(&self) -> &Docker {
        &self.docker
    }

    pub(super) fn endpoint_str(&self) -> &str {
        &self.endpoint
    }

    pub(super) fn err(&self, e: BErr) -> EngineError {
        map_err(&self.endpoint, e)
    }

    /// As [`Self::err`], and an init binary the engine lacks (podman's catatonit)
    /// said with what to do (`domain::podman`).
    pub(super) fn start_err(&self, e: BErr) -> EngineError {
        match self.err(e) {
            EngineError::Api(m) if crate::domain::podman::init_missing(&m) => {
                EngineError::Api(format!(
                    "{}; {m}",
                    crate::domain::podman::init_missing_hint(&self.name)
                ))
            }
            other => other,
        }
    }
}

pub(super) fn hash(labels: &BTreeMap<String, String>) -> HashMap<String, String> {
    labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect()
}

#[async_trait]
impl Engine for DockerEngine {
    fn endpoint(&self) -> String {
        self.endpoint.clone()
    }

    fn name(&self) -> String {
        self.name.clone()
    }

    async fn info(&self) -> EngineResult<EngineInfo> {
        let v = self.docker.version().await.map_err(|e| self.err(e))?;
        let i = self.docker.info().await.map_err(|e| self.err(e))?;
        let mut runtimes: Vec<String> = i.runtimes.unwrap_or_default().into_keys().collect();
        runtimes.sort();
        Ok(EngineInfo {
            endpoint: self.endpoint.clone(),
            version: v.version.unwrap_or_default(),
            api_version: v.api_version.unwrap_or_default(),
            os: i.operating_system.unwrap_or_default(),
            platform: format!(
                "{}/{}",
                v.os.unwrap_or_default(),
                v.arch.unwrap_or_default()
            ),
            kernel: v.kernel_version.unwrap_or_default(),
            root_dir: i.docker_root_dir.unwrap_or_default(),
            runtimes,
            default_runtime: i.default_runtime.unwrap_or_default(),
            containers: i.containers.unwrap_or_default(),
            ncpu: i.ncpu.and_then(|n| u32::try_from(n).ok()).unwrap_or(0),
            mem_total: i.mem_total.and_then(|m| u64::try_from(m).ok()).unwrap_or(0),
            flavor: crate::domain::podman::Flavor::from_components(
                v.components.iter().flatten().map(|c| c.name.as_str()),
            ),
        })
    }

    async fn list_workspaces(&self) -> EngineResult<Vec<Workspace>> {
        let filters = HashMap::from([("label".to_string(), vec![labels::workspace_filter()])]);
        let opts = qp::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let summaries = self
            .docker
            .list_containers(Some(opts))
            .await
            .map_err(|e| self.err(e))?;
        let ids: Vec<String> = summaries.into_iter().filter_map(|s| s.id).collect();
        let inspected = futures_util::stream::iter(ids)
            .map(|id| async move { self.inspect_workspace(&id).await })
            .buffer_unordered(16)
            .collect::<Vec<_>>()
            .await;
        let mut out = Vec::new();
        for r in inspected {
            match r {
                Ok(Some(w)) => out.push(w),
                Ok(None) => {}
                Err(e) => return Err(e),
            }
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn inspect_workspace(&self, container: &str) -> EngineResult<Option<Workspace>> {
        match self
            .docker
            .inspect_container(container, None::<qp::InspectContainerOptions>)
            .await
        {
            Ok(c) => Ok(to_workspace(c).map(|mut w| {
                w.engine = self.name.clone();
                w
            })),
            Err(e) => match self.err(e) {
                EngineError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
    }

    async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<bool> {
        super::docker_volume::create(self, name, labels).await
    }

    async fn volume_exists(&self, name: &str) -> EngineResult<bool> {
        super::docker_volume::exists(self, name).await
    }

    async fn remove_volume(&self, name: &str) -> EngineResult<()> {
        super::docker_volume::remove(self, name).await
    }

    async fn create_container(&self, spec: &ContainerSpec) -> EngineResult<String> {
        if spec.vm.is_some() {
            return Err(EngineError::Api(format!(
                "VMs are made only by the engine on this machine; {} is {}: make {} with --provider container, or on this machine's engine",
                self.name(),
                self.endpoint(),
                spec.container
            )));
        }
        let (body, opts) = super::docker_create::create_body(spec, self.podman);
        let r = self
            .docker
            .create_container(Some(opts), body)
            .await
            .map_err(|e| self.start_err(e))?;
        Ok(r.id)
    }

    async fn start_container(&self, container: &str) -> EngineResult<()> {
        super::docker_lifecycle::start(self, container).await
    }

    async fn stop_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()> {
        super::docker_lifecycle::stop(self, container, timeout_secs).await
    }

    async fn restart_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()> {
        super::docker_lifecycle::restart(self, container, timeout_secs).await
    }

    async fn rename_container(&self, container: &str, new_name: &str) -> EngineResult<()> {
        super::docker_lifecycle::rename(self, container, new_name).await
    }

    async fn remove_container(&self, container: &str) -> EngineResult<()> {
        super::docker_lifecycle::remove(self, container).await
    }

    async fn write_file(
        &self,
        container: &str,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> EngineResult<()> {
        super::docker_files::write_file(self, container, path, contents, mode).await
    }

    async fn read_file(
        &self,
        container: &str,
        path: &str,
        limit: usize,
    ) -> EngineResult<Option<Vec<u8>>> {
        super::docker_files::read_file(self, container, path, limit).await
    }

    async fn stat_path(&self, container: &str, path: &str) -> EngineResult<Option<PathStat>> {
        super::docker_copy::stat_path(self, container, path).await
    }

    async fn upload_archive(&self, container: &str, dir: &str, tar: TarUpload) -> EngineResult<()> {
        super::docker_copy::upload(self, container, dir, tar).await
    }

    fn download_archive(&self, container: &str, path: &str) -> TarDownload {
        super::docker_copy::download(self, container, path)
    }

    async fn exec(
        &self,
        container: &str,
        req: ExecRequest,
        out: mpsc::Sender<Output>,
    ) -> EngineResult<ExecOutcome> {
        super::docker_exec::exec_impl(self, container, req, out).await
    }

    fn logs(&self, container: &str, opts: LogOptions) -> BoxStream<'static, EngineResult<Output>> {
        let o = qp::LogsOptions {
            follow: opts.follow,
            stdout: true,
            stderr: true,
            timestamps: opts.timestamps,
            tail: opts
                .tail
                .map_or_else(|| "all".to_string(), |n| n.to_string()),
            ..Default::default()
        };
        let endpoint = self.endpoint.clone();
        self.docker
            .logs(container, Some(o))
            .map(move |r| match r {
                Ok(bollard::container::LogOutput::StdErr { message }) => {
                    Ok(Output::Stderr(message.to_vec()))
                }
                Ok(l) => Ok(Output::Stdout(l.into_bytes().to_vec())),
                Err(e) => Err(map_err(&endpoint, e)),
            })
            .boxed()
    }

    fn events(&self) -> BoxStream<'static, EngineResult<EngineEvent>> {
        super::docker_watch::events(self)
    }

    fn stats(&self, container: &str) -> BoxStream<'static, EngineResult<Stats>> {
        super::docker_watch::stats(self, container)
    }

    async fn sidecars(&self, name: &str) -> EngineResult<Vec<Sidecar>> {
        super::docker_watch::sidecars(self, name).await
    }

    async fn image_present(&self, image: &str) -> EngineResult<bool> {
        super::docker_image::present(self, image).await
    }

    async fn volumes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        super::docker_labelled::volumes(self, want).await
    }

    async fn images_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        super::docker_labelled::images(self, want).await
    }

    async fn remove_image(&self, image: &str) -> EngineResult<bool> {
        super::docker_image::remove(self, image).await
    }

    async fn image_info(&self, image: &str) -> EngineResult<Option<ImageInfo>> {
        super::docker_image::info(self, image).await
    }

    async fn emulation(&self, arch: Arch) -> EngineResult<Emulation> {
        super::docker_platform::emulation(self, arch).await
    }

    async fn build_image(
        &self,
        context: Vec<u8>,
        build: &ImageBuild,
        progress: mpsc::Sender<String>,
    ) -> EngineResult<()> {
        super::docker_image::build(self, context, build, progress).await
    }

    async fn create_docker_sidecar(&self, spec: &super::DockerSidecarSpec) -> EngineResult<String> {
        super::docker_dind::create_sidecar(self, spec).await
    }

    fn export_image(&self, image: &str) -> BoxStream<'static, EngineResult<bytes::Bytes>> {
        super::docker_dind::export_image(self, image)
    }

    fn export_filesystem(&self, image: &str) -> TarDownload {
        super::docker_export::export_filesystem(self, image)
    }

    async fn copy_between(&self, from: &str, path: &str, to: &str, dir: &str) -> EngineResult<()> {
        super::docker_dind::copy_between(self, from, path, to, dir).await
    }

    async fn log_file(&self, container: &str) -> EngineResult<super::LogFile> {
        super::docker_logfwd::log_file(self, container).await
    }

    async fn create_log_forwarder(&self, spec: &super::LogForwarderSpec) -> EngineResult<String> {
        super::docker_logfwd::create(self, spec).await
    }

    async fn create_proxy_sidecar(&self, spec: &super::ProxySidecarSpec) -> EngineResult<String> {
        super::docker_proxy::create_sidecar(self, spec).await
    }

    async fn probe_runtime(&self, spec: &super::ProbeSpec) -> EngineResult<super::ProbeOutcome> {
        super::docker_runtime::probe(self, spec).await
    }

    async fn probes_left(&self) -> EngineResult<Vec<super::ProbeLeft>> {
        super::docker_runtime::probes_left(self).await
    }

    async fn start_volume_reader(&self, spec: &super::VolumeReader) -> EngineResult<()> {
        super::docker_reader::start(self, spec).await
    }
}
