//! The machines as the layer sees them: the [`VmHost`] methods it calls, behind
//! a trait so the layer's routing, listing and streams are tested without QEMU
//! (`fake_machines.rs`). The synchronous methods may touch files and `/proc`:
//! the layer calls them on blocking threads.
use super::host::VmHost;
use super::{SshTarget, VmCreate, VmRecord, VmRun, VmSample};
use crate::engine::{Engine, EngineResult};
use async_trait::async_trait;
use std::path::PathBuf;
use std::time::Duration;
use tokio::sync::mpsc;

#[async_trait]
pub trait Machines: Send + Sync + 'static {
    async fn list(&self) -> EngineResult<Vec<VmRecord>>;
    async fn find(&self, container: &str) -> EngineResult<Option<VmRecord>>;
    async fn home_exists(&self, volume: &str) -> EngineResult<bool>;
    async fn homes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>>;
    async fn create(
        &self,
        docker: &dyn Engine,
        req: VmCreate,
        progress: Option<mpsc::Sender<String>>,
    ) -> EngineResult<VmRecord>;
    async fn start(&self, container: &str) -> EngineResult<()>;
    async fn stop(&self, container: &str, timeout: Duration) -> EngineResult<()>;
    async fn remove(&self, container: &str) -> EngineResult<()>;
    async fn remove_home(&self, volume: &str) -> EngineResult<()>;
    /// Writes berth's mirror of the guest's `path` (a file under `/etc/berth/`
    /// kept in the machine's directory; nothing for other paths) while holding
    /// the machine's lock, so a remove under way never finds it half-made.
    /// `NotFound` when the VM is gone.
    async fn write_mirror(
        &self,
        container: &str,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> EngineResult<()>;
    /// Blocking (pid file, `/proc`).
    fn run_state(&self, rec: &VmRecord) -> VmRun;
    /// Blocking (`/proc`).
    fn sample(&self, rec: &VmRecord) -> Option<VmSample>;
    fn console_path(&self, rec: &VmRecord) -> PathBuf;
    fn ssh_target(&self, rec: &VmRecord) -> SshTarget;
    /// The VM's own directory (`machines/<id>`): the layer keeps its mirror of
    /// berth's small files under `/etc/berth/` there.
    fn machine_dir(&self, rec: &VmRecord) -> PathBuf;
}

#[async_trait]
impl Machines for VmHost {
    async fn list(&self) -> EngineResult<Vec<VmRecord>> {
        VmHost::list(self).await
    }
    async fn find(&self, container: &str) -> EngineResult<Option<VmRecord>> {
        VmHost::find(self, container).await
    }
    async fn home_exists(&self, volume: &str) -> EngineResult<bool> {
        VmHost::home_exists(self, volume).await
    }
    async fn homes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        VmHost::homes_labelled(self, want).await
    }
    async fn create(
        &self,
        docker: &dyn Engine,
        req: VmCreate,
        progress: Option<mpsc::Sender<String>>,
    ) -> EngineResult<VmRecord> {
        VmHost::create(self, docker, req, progress).await
    }
    async fn start(&self, container: &str) -> EngineResult<()> {
        VmHost::start(self, container).await
    }
    async fn stop(&self, container: &str, timeout: Duration) -> EngineResult<()> {
        VmHost::stop(self, container, timeout).await
    }
    async fn remove(&self, container: &str) -> EngineResult<()> {
        VmHost::remove(self, container).await
    }
    async fn remove_home(&self, volume: &str) -> EngineResult<()> {
        VmHost::remove_home(self, volume).await
    }
    async fn write_mirror(
        &self,
        container: &str,
        path: &str,
        contents: &[u8],
        mode: u32,
    ) -> EngineResult<()> {
        VmHost::write_mirror(self, container, path, contents.to_vec(), mode).await
    }
    fn run_state(&self, rec: &VmRecord) -> VmRun {
        VmHost::run_state(self, rec)
    }
    fn sample(&self, rec: &VmRecord) -> Option<VmSample> {
        VmHost::sample(self, rec)
    }
    fn console_path(&self, rec: &VmRecord) -> PathBuf {
        VmHost::console_path(self, rec)
    }
    fn ssh_target(&self, rec: &VmRecord) -> SshTarget {
        VmHost::ssh_target(self, rec)
    }
    fn machine_dir(&self, rec: &VmRecord) -> PathBuf {
        self.root().join("machines").join(&rec.id)
    }
}
