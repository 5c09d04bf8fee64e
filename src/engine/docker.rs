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
use bollard::models::VolumeCreateRequest;
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

    fn err(&self, e: BErr) -> EngineError {
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
        if self.volume_exists(name).await? {
            return Ok(false);
        }
        let req = VolumeCreateRequest {
            name: Some(name.to_string()),
            labels: Some(hash(labels)),
            ..Default::default()
        };
        let v = self
            .docker
            .create_volume(req)
            .await
            .map_err(|e| self.err(e))?;
        // The engine answers with the existing volume when one of that name appeared
        // since the check: ours only if it carries exactly our labels (a create's
        // labels hold its unique token).
        Ok(v.labels == hash(labels))
    }

    async fn volume_exists(&self, name: &str) -> EngineResult<bool> {
        match self.docker.inspect_volume(name).await {
            Ok(_) => Ok(true),
            Err(e) => match self.err(e) {
                EngineError::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn remove_volume(&self, name: &str) -> EngineResult<()> {
        match self
            .docker
            .remove_volume(name, None::<qp::RemoveVolumeOptions>)
            .await
        {
            Ok(()) => Ok(()),
            Err(e) => match self.err(e) {
                EngineError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
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
        match self
            .docker
            .start_container(container, None::<qp::StartContainerOptions>)
            .await
        {
            Ok(())
            | Err(BErr::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(self.start_err(e)),
        }
    }

    async fn stop_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()> {
        let opts = qp::StopContainerOptions {
            t: Some(timeout_secs as i32),
            signal: None,
        };
        match self.docker.stop_container(container, Some(opts)).await {
            Ok(())
            | Err(BErr::DockerResponseServerError {
                status_code: 304, ..
            }) => Ok(()),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn restart_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()> {
        let opts = qp::RestartContainerOptions {
            t: Some(timeout_secs as i32),
            signal: None,
        };
        self.docker
            .restart_container(container, Some(opts))
            .await
            .map_err(|e| self.err(e))
    }

    async fn rename_container(&self, container: &str, new_name: &str) -> EngineResult<()> {
        let opts = qp::RenameContainerOptions {
            name: new_name.to_string(),
        };
        self.docker
            .rename_container(container, opts)
            .await
            .map_err(|e| self.err(e))
    }

    async fn remove_container(&self, container: &str) -> EngineResult<()> {
        // Anonymous volumes (an image's VOLUME, e.g. a database service's data) go
        // with their container; named ones (a home, a sidecar's data) never do.
        let opts = qp::RemoveContainerOptions {
            force: true,
            v: true,
            link: false,
        };
        match self.docker.remove_container(container, Some(opts)).await {
            Ok(()) => Ok(()),
            Err(e) => match self.err(e) {
                EngineError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
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
        match self.docker.inspect_image(image).await {
            Ok(_) => Ok(true),
            Err(e) => match self.err(e) {
                EngineError::NotFound { .. } => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn volumes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        super::docker_labelled::volumes(self, want).await
    }

    async fn images_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        super::docker_labelled::images(self, want).await
    }

    async fn remove_image(&self, image: &str) -> EngineResult<bool> {
        match self
            .docker
            .remove_image(image, None::<qp::RemoveImageOptions>, None)
            .await
        {
            Ok(_) => Ok(true),
            // In use by a container (or otherwise refused): kept.
            Err(BErr::DockerResponseServerError {
                status_code: 409, ..
            }) => Ok(false),
            Err(e) => Err(self.err(e)),
        }
    }

    async fn image_info(&self, image: &str) -> EngineResult<Option<ImageInfo>> {
        match self.docker.inspect_image(image).await {
            Ok(i) => Ok(Some(ImageInfo {
                id: i.id.unwrap_or_default(),
                labels: i
                    .config
                    .and_then(|c| c.labels)
                    .map(|l| l.into_iter().collect())
                    .unwrap_or_default(),
                os: i.os.unwrap_or_default(),
                architecture: i.architecture.unwrap_or_default(),
                layers: i.root_fs.and_then(|r| r.layers).unwrap_or_default(),
            })),
            Err(e) => match self.err(e) {
                EngineError::NotFound { .. } => Ok(None),
                other => Err(other),
            },
        }
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
        let opts = build_options(build);
        let mut stream =
            self.docker
                .build_image(opts, None, Some(bollard::body_full(context.into())));
        while let Some(item) = stream.next().await {
            let info = item.map_err(|e| self.err(e))?;
            if let Some(err) = info.error_detail.and_then(|d| d.message) {
                return Err(EngineError::Api(format!(
                    "image build failed: {}",
                    err.trim()
                )));
            }
            if let Some(line) = info.stream.or(info.status) {
                let line = line.trim_end().to_string();
                if !line.is_empty() {
                    let _ = progress.send(line).await;
                }
            }
        }
        Ok(())
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

/// The engine's build options for `build`: its tag, build arguments and labels;
/// intermediate containers are removed even when a step fails.
fn build_options(build: &ImageBuild) -> qp::BuildImageOptions {
    let map = |m: &BTreeMap<String, String>| {
        (!m.is_empty()).then(|| m.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
    };
    qp::BuildImageOptions {
        dockerfile: "Dockerfile".into(),
        t: Some(build.tag.clone()),
        rm: true,
        forcerm: true,
        buildargs: map(&build.args),
        labels: map(&build.labels),
        platform: build.platform.clone().unwrap_or_default(),
        ..Default::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_options_carry_tag_args_and_labels() {
        let build = ImageBuild {
            tag: "t/ws:1".into(),
            args: [("BASE".to_string(), "b/debian:x".to_string())].into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            platform: Some("linux/arm64".into()),
        };
        let o = build_options(&build);
        assert_eq!(o.platform, "linux/arm64");
        assert_eq!(o.t.as_deref(), Some("t/ws:1"));
        assert_eq!(o.buildargs.unwrap()["BASE"], "b/debian:x");
        assert_eq!(o.labels.unwrap()["k"], "v");
        assert!(o.rm && o.forcerm);
        // Nothing to pass: the query parameters are left out.
        let o = build_options(&ImageBuild {
            tag: "t".into(),
            ..Default::default()
        });
        assert!(o.buildargs.is_none() && o.labels.is_none());
    }
}
