//! The engine berth uses on this machine: containers and images on the Docker
//! engine, VM workspaces on the machines ([`VmHost`] behind [`Machines`]).
//! Every call naming a VM's container (by name or by its id) or its home disk
//! goes to the VM; everything else to Docker, unchanged.
use super::guest_exec::{self, Guest};
use super::host::VmHost;
use super::machines::Machines;
use super::{guest_files, inspect, vm_watch, VmRecord, VmRun};
use crate::config::Paths;
use crate::domain::observe::{EngineEvent, Sidecar, Stats};
use crate::domain::platform::{Arch, Emulation};
use crate::domain::workspace::Workspace;
use crate::engine::*;
use async_trait::async_trait;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// A VM started this recently may not answer on ssh yet: exec waits for its banner.
const FRESH_SECS: i64 = 180;

pub struct VmLayer {
    pub(super) docker: Arc<dyn Engine>,
    pub(super) vms: Arc<dyn Machines>,
    /// berth's own paths: its identity (`ssh_identity`) for exec over ssh.
    paths: Paths,
}

impl VmLayer {
    pub fn new(docker: Arc<dyn Engine>, vms: Arc<VmHost>, paths: Paths) -> Self {
        Self::with_machines(docker, vms, paths)
    }

    /// Over any machines (the tests' fake ones).
    pub fn with_machines(docker: Arc<dyn Engine>, vms: Arc<dyn Machines>, paths: Paths) -> Self {
        Self { docker, vms, paths }
    }

    /// The VM `container` names (its container name or its id), if it is one.
    pub(super) async fn vm(&self, container: &str) -> EngineResult<Option<VmRecord>> {
        resolve(&self.vms, container).await
    }

    pub(super) async fn is_vm(&self, container: &str) -> EngineResult<bool> {
        Ok(self.vm(container).await?.is_some())
    }

    async fn run_state(&self, rec: &VmRecord) -> EngineResult<VmRun> {
        let (m, r) = (self.vms.clone(), rec.clone());
        tokio::task::spawn_blocking(move || m.run_state(&r))
            .await
            .map_err(|e| EngineError::Api(format!("reading the VM's state failed: {e}")))
    }

    fn workspace(&self, rec: &VmRecord, run: VmRun) -> Option<Workspace> {
        let mut w = inspect::to_workspace(rec, run)?;
        w.engine = self.docker.name();
        Some(w)
    }

    fn guest(&self, rec: &VmRecord) -> Guest {
        Guest {
            container: rec.container.clone(),
            identity: crate::ssh_identity::key_path(&self.paths),
            target: self.vms.ssh_target(rec),
        }
    }

    /// The guest of a running VM, its sshd answering; else a sentence to start it.
    async fn running_guest(&self, rec: &VmRecord, doing: &str) -> EngineResult<Guest> {
        match self.run_state(rec).await? {
            VmRun::Stopped => Err(EngineError::Api(format!(
                "VM workspace {} is stopped, so berth cannot {doing}; start it with `berth start`",
                rec.container
            ))),
            VmRun::Running { started_at, .. } => {
                let g = self.guest(rec);
                if chrono::Utc::now().timestamp() - started_at < FRESH_SECS {
                    guest_exec::wait_sshd(&rec.container, &g.target, guest_exec::BANNER_WAIT)
                        .await?;
                }
                Ok(g)
            }
        }
    }

    async fn create_vm(
        &self,
        spec: &ContainerSpec,
        shape: &crate::domain::vm::VmShape,
    ) -> EngineResult<String> {
        let paths = self.paths.clone();
        let id = tokio::task::spawn_blocking(move || crate::ssh_identity::ensure_blocking(&paths))
            .await
            .map_err(|e| EngineError::Api(format!("making berth's SSH identity failed: {e}")))?
            .map_err(|e| EngineError::Api(format!("making berth's SSH identity failed: {e:#}")))?;
        let req = inspect::vm_create(spec, shape, id.public_line).map_err(EngineError::Api)?;
        let rec = self.vms.create(self.docker.as_ref(), req, None).await?;
        Ok(rec.id)
    }

    fn mirror(&self, rec: &VmRecord, path: &str) -> Option<std::path::PathBuf> {
        guest_files::mirror_path(&self.vms.machine_dir(rec), path)
    }
}

/// The VM named `container` or whose id it is.
pub(super) async fn resolve(
    m: &Arc<dyn Machines>,
    container: &str,
) -> EngineResult<Option<VmRecord>> {
    if let Some(r) = m.find(container).await? {
        return Ok(Some(r));
    }
    let id_like = container.len() == 12 && container.bytes().all(|b| b.is_ascii_hexdigit());
    if !id_like {
        return Ok(None);
    }
    Ok(m.list().await?.into_iter().find(|r| r.id == container))
}

fn blocking_err(e: tokio::task::JoinError) -> EngineError {
    EngineError::Api(format!("a file operation failed: {e}"))
}

/// A stream that first finds out whether `container` is a VM.
fn routed<T: Send + 'static>(
    m: Arc<dyn Machines>,
    container: String,
    vm: impl FnOnce(VmRecord) -> BoxStream<'static, EngineResult<T>> + Send + 'static,
    docker: impl FnOnce() -> BoxStream<'static, EngineResult<T>> + Send + 'static,
) -> BoxStream<'static, EngineResult<T>> {
    stream::once(async move {
        match resolve(&m, &container).await {
            Ok(Some(rec)) => vm(rec),
            Ok(None) => docker(),
            Err(e) => stream::iter([Err(e)]).boxed(),
        }
    })
    .flatten()
    .boxed()
}

#[async_trait]
impl Engine for VmLayer {
    fn endpoint(&self) -> String {
        self.docker.endpoint()
    }
    fn name(&self) -> String {
        self.docker.name()
    }
    async fn info(&self) -> EngineResult<EngineInfo> {
        self.docker.info().await
    }

    async fn list_workspaces(&self) -> EngineResult<Vec<Workspace>> {
        let mut ws = self.docker.list_workspaces().await?;
        for (rec, run) in vm_watch::states(&self.vms).await? {
            ws.extend(self.workspace(&rec, run));
        }
        Ok(ws)
    }
    async fn inspect_workspace(&self, container: &str) -> EngineResult<Option<Workspace>> {
        match self.vm(container).await? {
            Some(rec) => {
                let run = self.run_state(&rec).await?;
                Ok(self.workspace(&rec, run))
            }
            None => self.docker.inspect_workspace(container).await,
        }
    }

    async fn create_volume(
        &self,
        name: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<bool> {
        self.docker.create_volume(name, labels).await
    }
    async fn volume_exists(&self, name: &str) -> EngineResult<bool> {
        Ok(self.vms.home_exists(name).await? || self.docker.volume_exists(name).await?)
    }
    async fn remove_volume(&self, name: &str) -> EngineResult<()> {
        if self.vms.home_exists(name).await? {
            return self.vms.remove_home(name).await;
        }
        self.docker.remove_volume(name).await
    }
    async fn volumes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        let mut v = self.docker.volumes_labelled(want).await?;
        v.extend(self.vms.homes_labelled(want).await?);
        v.sort();
        v.dedup();
        Ok(v)
    }

    async fn create_container(&self, spec: &ContainerSpec) -> EngineResult<String> {
        self.check_home_kind(spec).await?;
        match &spec.vm {
            Some(shape) => self.create_vm(spec, shape).await,
            None => self.docker.create_container(spec).await,
        }
    }
    async fn start_container(&self, container: &str) -> EngineResult<()> {
        match self.vm(container).await? {
            Some(rec) => self.vms.start(&rec.container).await,
            None => self.docker.start_container(container).await,
        }
    }
    async fn stop_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()> {
        match self.vm(container).await? {
            Some(rec) => {
                let t = Duration::from_secs(u64::try_from(timeout_secs).unwrap_or(0));
                self.vms.stop(&rec.container, t).await
            }
            None => self.docker.stop_container(container, timeout_secs).await,
        }
    }
    async fn restart_container(&self, container: &str, timeout_secs: i64) -> EngineResult<()> {
        match self.vm(container).await? {
            Some(rec) => {
                let t = Duration::from_secs(u64::try_from(timeout_secs).unwrap_or(0));
                self.vms.stop(&rec.container, t).await?;
                self.vms.start(&rec.container).await
            }
            None => self.docker.restart_container(container, timeout_secs).await,
        }
    }
    async fn remove_container(&self, container: &str) -> EngineResult<()> {
        match self.vm(container).await? {
            Some(rec) => self.vms.remove(&rec.container).await,
            None => self.docker.remove_container(container).await,
        }
    }
    async fn rename_container(&self, container: &str, new_name: &str) -> EngineResult<()> {
        if self.is_vm(container).await? {
            return Err(EngineError::Api(format!(
                "{container} is a VM workspace and cannot be renamed (the warm pool holds containers only)"
            )));
        }
        self.docker.rename_container(container, new_name).await
    }

    async fn write_file(
        &self,
        container: &str,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> EngineResult<()> {
        let Some(rec) = self.vm(container).await? else {
            return self
                .docker
                .write_file(container, path, contents, mode)
                .await;
        };
        let mirror = self.mirror(&rec, path);
        let running = self.run_state(&rec).await? != VmRun::Stopped;
        if running || mirror.is_none() {
            let g = self.running_guest(&rec, &format!("write {path}")).await?;
            guest_files::write_file(&g, path, contents, mode).await?;
        }
        // A stopped VM's file under /etc/berth/ lands in the mirror only (what
        // berth reads back); the guest's copy is written at its next write.
        if mirror.is_some() {
            self.vms
                .write_mirror(&rec.container, path, contents, mode)
                .await?;
        }
        Ok(())
    }
    async fn read_file(
        &self,
        container: &str,
        path: &str,
        limit: usize,
    ) -> EngineResult<Option<Vec<u8>>> {
        let Some(rec) = self.vm(container).await? else {
            return self.docker.read_file(container, path, limit).await;
        };
        if let Some(file) = self.mirror(&rec, path) {
            return tokio::task::spawn_blocking(move || guest_files::read_mirror(&file, limit))
                .await
                .map_err(blocking_err)?;
        }
        let g = self.running_guest(&rec, &format!("read {path}")).await?;
        guest_files::read_file(&g, path, limit).await
    }
    async fn stat_path(&self, container: &str, path: &str) -> EngineResult<Option<PathStat>> {
        let Some(rec) = self.vm(container).await? else {
            return self.docker.stat_path(container, path).await;
        };
        let g = self.running_guest(&rec, &format!("look at {path}")).await?;
        guest_files::stat_path(&g, path).await
    }
    async fn upload_archive(&self, container: &str, dir: &str, tar: TarUpload) -> EngineResult<()> {
        let Some(rec) = self.vm(container).await? else {
            return self.docker.upload_archive(container, dir, tar).await;
        };
        let g = self
            .running_guest(&rec, &format!("copy into {dir}"))
            .await?;
        guest_files::upload_archive(&g, dir, tar).await
    }
    fn download_archive(&self, container: &str, path: &str) -> TarDownload {
        let (docker, c, p) = (self.docker.clone(), container.to_string(), path.to_string());
        let layer = self.clone_parts();
        let p2 = p.clone();
        routed(
            self.vms.clone(),
            container.to_string(),
            move |rec| {
                stream::once(async move {
                    match layer.running_guest(&rec, &format!("copy {p2} out")).await {
                        Ok(g) => guest_files::download_archive(g, &p2),
                        Err(e) => stream::iter([Err(e)]).boxed(),
                    }
                })
                .flatten()
                .boxed()
            },
            move || docker.download_archive(&c, &p),
        )
    }

    async fn exec(
        &self,
        container: &str,
        req: ExecRequest,
        out: mpsc::Sender<Output>,
    ) -> EngineResult<ExecOutcome> {
        let Some(rec) = self.vm(container).await? else {
            return self.docker.exec(container, req, out).await;
        };
        let g = self.running_guest(&rec, "run a command in it").await?;
        guest_exec::run(&g, &rec.env, req, out).await
    }

    fn logs(&self, container: &str, opts: LogOptions) -> BoxStream<'static, EngineResult<Output>> {
        let (docker, c, m) = (self.docker.clone(), container.to_string(), self.vms.clone());
        routed(
            self.vms.clone(),
            container.to_string(),
            move |rec| vm_watch::logs(m.console_path(&rec), opts),
            move || docker.logs(&c, opts),
        )
    }
    fn events(&self) -> BoxStream<'static, EngineResult<EngineEvent>> {
        stream::select(self.docker.events(), vm_watch::events(self.vms.clone())).boxed()
    }
    fn stats(&self, container: &str) -> BoxStream<'static, EngineResult<Stats>> {
        let (docker, c, m) = (self.docker.clone(), container.to_string(), self.vms.clone());
        routed(
            self.vms.clone(),
            container.to_string(),
            move |rec| vm_watch::stats(m, rec),
            move || docker.stats(&c),
        )
    }
    async fn sidecars(&self, name: &str) -> EngineResult<Vec<Sidecar>> {
        self.docker.sidecars(name).await
    }

    async fn image_present(&self, image: &str) -> EngineResult<bool> {
        self.docker.image_present(image).await
    }
    async fn images_labelled(&self, labels: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        self.docker.images_labelled(labels).await
    }
    async fn remove_image(&self, image: &str) -> EngineResult<bool> {
        self.docker.remove_image(image).await
    }
    async fn image_info(&self, image: &str) -> EngineResult<Option<ImageInfo>> {
        self.docker.image_info(image).await
    }
    async fn emulation(&self, arch: Arch) -> EngineResult<Emulation> {
        self.docker.emulation(arch).await
    }
    async fn build_image(
        &self,
        context: Vec<u8>,
        build: &ImageBuild,
        progress: mpsc::Sender<String>,
    ) -> EngineResult<()> {
        self.docker.build_image(context, build, progress).await
    }
    async fn create_docker_sidecar(&self, spec: &DockerSidecarSpec) -> EngineResult<String> {
        self.refuse_vm(&spec.workspace, "a VM workspace cannot have a Docker engine sidecar (it shares a container's network namespace)").await?;
        self.docker.create_docker_sidecar(spec).await
    }
    fn export_image(&self, image: &str) -> BoxStream<'static, EngineResult<bytes::Bytes>> {
        self.docker.export_image(image)
    }
    async fn create_proxy_sidecar(&self, spec: &ProxySidecarSpec) -> EngineResult<String> {
        self.docker.create_proxy_sidecar(spec).await
    }
    async fn copy_between(&self, from: &str, path: &str, to: &str, dir: &str) -> EngineResult<()> {
        for c in [from, to] {
            self.refuse_vm(
                c,
                "copying between workspaces through the engine does not reach a VM workspace",
            )
            .await?;
        }
        self.docker.copy_between(from, path, to, dir).await
    }
    async fn log_file(&self, container: &str) -> EngineResult<LogFile> {
        self.refuse_vm(container, "a VM workspace's log is its serial console, not an engine log file; log forwarding is for containers").await?;
        self.docker.log_file(container).await
    }
    async fn create_log_forwarder(&self, spec: &LogForwarderSpec) -> EngineResult<String> {
        self.docker.create_log_forwarder(spec).await
    }
    async fn probe_runtime(&self, spec: &ProbeSpec) -> EngineResult<ProbeOutcome> {
        self.docker.probe_runtime(spec).await
    }
    async fn probes_left(&self) -> EngineResult<Vec<ProbeLeft>> {
        self.docker.probes_left().await
    }
    async fn start_volume_reader(&self, spec: &VolumeReader) -> EngineResult<()> {
        if self.vms.home_exists(&spec.volume).await? {
            return Err(EngineError::Api(format!(
                "{} is a VM workspace's home disk, which no container can mount; start the VM and read it there",
                spec.volume
            )));
        }
        self.docker.start_volume_reader(spec).await
    }
}

impl VmLayer {
    /// `Err(why)` when `container` is a VM.
    pub(super) async fn refuse_vm(&self, container: &str, why: &str) -> EngineResult<()> {
        if self.is_vm(container).await? {
            return Err(EngineError::Api(format!("{container}: {why}")));
        }
        Ok(())
    }

    /// Refuses a home kept by the other provider under `spec.volume`: a VM's
    /// home disk is no volume a container can mount (the engine would give it
    /// an empty volume of that name, and its delete would then remove the kept
    /// disk), and a container's volume is no disk a VM can boot with.
    async fn check_home_kind(&self, spec: &ContainerSpec) -> EngineResult<()> {
        let v = &spec.volume;
        let name = spec
            .labels
            .get(crate::domain::labels::NAME)
            .cloned()
            .unwrap_or_else(|| spec.container.clone());
        let home = self.vms.home_exists(v).await?;
        match &spec.vm {
            None if home => Err(EngineError::Conflict(format!(
                "{v} is the home disk kept from a VM workspace, which a container cannot mount; \
                 create {name} with --provider vm to use it again, or remove it with \
                 `berth delete {name}` (its files are lost)"
            ))),
            Some(_) if !home && self.docker.volume_exists(v).await? => {
                Err(EngineError::Conflict(format!(
                    "volume {v} is kept from a container workspace, and a VM workspace has a home \
                     disk of its own; create {name} with --provider container to use it again, or \
                     remove it with `berth delete {name}` (its files are lost)"
                )))
            }
            _ => Ok(()),
        }
    }

    fn clone_parts(&self) -> VmLayer {
        VmLayer {
            docker: self.docker.clone(),
            vms: self.vms.clone(),
            paths: self.paths.clone(),
        }
    }
}
