//! The machines (contract; filled in by the VM machine work): records, assets,
//! disks and QEMU processes under `root` (`<state>/vm`). Blocking work (files,
//! mkfs, qemu-img, tar, fork/exec) runs on blocking threads.
#![allow(dead_code, unused_variables)]
use super::{SshTarget, VmCreate, VmRecord, VmRun, VmSample};
use crate::domain::vm::HostVirt;
use crate::engine::{Engine, EngineResult};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::sync::mpsc;

pub struct VmHost {
    root: PathBuf,
    cache: PathBuf,
}

impl VmHost {
    /// VMs under `root` (`<state>/vm`: machines and homes); the assets that can
    /// be made again (kernel, initramfs, base disks) under `cache`
    /// (`$XDG_CACHE_HOME/berth/vm`). Nothing is made until a VM is.
    pub fn new(root: PathBuf, cache: PathBuf) -> Self {
        Self { root, cache }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Every VM recorded here, any state.
    pub async fn list(&self) -> EngineResult<Vec<VmRecord>> {
        todo!("vm machine")
    }

    /// The VM named `container`; `Ok(None)` when there is none.
    pub async fn find(&self, container: &str) -> EngineResult<Option<VmRecord>> {
        todo!("vm machine")
    }

    /// Whether a home disk named `volume` exists (a VM's, or one kept after its VM).
    pub async fn home_exists(&self, volume: &str) -> EngineResult<bool> {
        todo!("vm machine")
    }

    /// The home disks whose labels hold every `key=value` in `want`.
    pub async fn homes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        todo!("vm machine")
    }

    /// Makes VM `req.container` (not started): the assets when missing (kernel
    /// from Debian's packages, initramfs), the image's base disk (once per image
    /// id, its filesystem exported through `docker`), the overlay, and the home
    /// disk (from the image's /home/workspace, `shape.disk_bytes`, with the host
    /// key berth makes) unless one named `req.volume` is kept. `Conflict` when
    /// the name is taken. Progress lines go to `progress`. Nothing half-made is
    /// left when it fails.
    pub async fn create(
        &self,
        docker: &dyn Engine,
        req: VmCreate,
        progress: Option<mpsc::Sender<String>>,
    ) -> EngineResult<VmRecord> {
        todo!("vm machine")
    }

    /// Boots it (QEMU daemonized, its pid file, console, QMP and control
    /// sockets in its directory). `PortTaken` when a forwarded port is taken.
    /// Starting a running VM is a no-op.
    pub async fn start(&self, container: &str) -> EngineResult<()> {
        todo!("vm machine")
    }

    /// A clean power-off (the control port), waited for up to `timeout`, then
    /// QMP `quit`, then SIGKILL. Stopping a stopped VM is a no-op.
    pub async fn stop(&self, container: &str, timeout: Duration) -> EngineResult<()> {
        todo!("vm machine")
    }

    /// Removes the VM (stopped hard first if it runs): its overlay, sockets,
    /// console and record. Its home disk stays (see `remove_home`).
    pub async fn remove(&self, container: &str) -> EngineResult<()> {
        todo!("vm machine")
    }

    /// Removes the home disk `volume`; `Conflict` while a VM that uses it exists.
    pub async fn remove_home(&self, volume: &str) -> EngineResult<()> {
        todo!("vm machine")
    }

    /// Whether its process runs (pid file, and that pid's command line names it).
    pub fn run_state(&self, rec: &VmRecord) -> VmRun {
        todo!("vm machine")
    }

    /// One sample of its process; `None` when it does not run.
    pub fn sample(&self, rec: &VmRecord) -> Option<VmSample> {
        todo!("vm machine")
    }

    /// Its serial console, the workspace's log.
    pub fn console_path(&self, rec: &VmRecord) -> PathBuf {
        todo!("vm machine")
    }

    /// Where berth's ssh reaches it (127.0.0.1 or the bind address, its port,
    /// a known_hosts with its pinned host key).
    pub fn ssh_target(&self, rec: &VmRecord) -> SshTarget {
        todo!("vm machine")
    }
}

/// What this host offers for hardware-assisted VMs (/dev/kvm, loaded modules).
pub fn host_virt() -> HostVirt {
    todo!("vm machine")
}
