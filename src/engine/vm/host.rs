//! The machines: records, assets, disks and QEMU processes under `root`
//! (`<state>/vm`) and `cache`. Blocking work (files, mkfs, qemu-img, tar,
//! fork/exec) runs on blocking threads or tokio::process. The pieces live in
//! `record`, `assets`, `base_disk`, `disks`, `qemu_args`, `process`, `qmp`.
use super::machine_lock::{self, MachineLock};
use super::qemu_args::MachineFiles;
use super::record::{remove_dir_if_exists, remove_if_exists, Layout};
use super::tools::blocking;
use super::{assets, process};
use super::{SshTarget, VmCreate, VmRecord, VmRun, VmSample};
use crate::domain::vm::HostVirt;
use crate::engine::{Engine, EngineError, EngineResult};
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
        let l = self.layout();
        blocking("listing VMs", move || l.list()).await
    }

    /// The VM named `container`; `Ok(None)` when there is none.
    pub async fn find(&self, container: &str) -> EngineResult<Option<VmRecord>> {
        let (l, c) = (self.layout(), container.to_string());
        blocking("reading VMs", move || l.find(&c)).await
    }

    /// Whether a home disk named `volume` exists (a VM's, or one kept after its VM).
    pub async fn home_exists(&self, volume: &str) -> EngineResult<bool> {
        check_name(volume)?;
        let disk = self.layout().home_disk(volume);
        blocking("reading home disks", move || Ok(disk.exists())).await
    }

    /// The home disks whose labels hold every `key=value` in `want`.
    pub async fn homes_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let l = self.layout();
        let homes = blocking("listing home disks", move || l.homes_list()).await?;
        Ok(homes
            .into_iter()
            .filter(|h| want.iter().all(|(k, v)| h.labels.get(k) == Some(v)))
            .map(|h| h.volume)
            .collect())
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
        super::create::create(self, docker, req, progress).await
    }

    /// Boots it (QEMU daemonized, its pid file, console, QMP and control
    /// sockets in its directory). `PortTaken` when a forwarded port is taken.
    /// Starting a running VM is a no-op.
    pub async fn start(&self, container: &str) -> EngineResult<()> {
        // Its disks' check and the shared assets first, outside the machine's lock
        // (the check only reads; the assets are made atomically in the cache, and
        // a first fetch can take a while): the lock is held to launch.
        let rec = self.get(container).await?;
        if self.run_state_async(&rec).await? == VmRun::Stopped {
            let (c, r) = (self.cache.clone(), rec.clone());
            tokio::task::spawn_blocking(move || super::base_disk::check_for(&c, &r))
                .await
                .map_err(|e| EngineError::Api(format!("checking the VM's disks: {e}")))?
                .map_err(|e| EngineError::Api(e.to_string()))?;
        }
        let (kernel, initrd) = self.boot_assets().await?;
        let (_lock, rec) = self.locked(container).await?;
        let files = MachineFiles {
            kernel,
            initrd,
            ..self.files(&rec)
        };
        process::start(&rec, &files).await
    }

    /// A clean power-off (the control port), waited for up to `timeout`, then
    /// QMP `quit`, then SIGKILL. Stopping a stopped VM is a no-op.
    pub async fn stop(&self, container: &str, timeout: Duration) -> EngineResult<()> {
        let (_lock, rec) = self.locked(container).await?;
        process::stop(&self.files(&rec), &rec.id, timeout).await
    }

    /// Removes the VM (stopped hard first if it runs): its overlay, sockets,
    /// console and record. Its home disk stays (see `remove_home`).
    pub async fn remove(&self, container: &str) -> EngineResult<()> {
        let (_lock, rec) = self.locked(container).await?;
        process::stop(&self.files(&rec), &rec.id, Duration::ZERO).await?;
        let (l, r) = (self.layout(), rec.clone());
        blocking("removing the VM", move || {
            let dir = l.machine(&r.id);
            // the record first: from here on it is not listed
            remove_if_exists(&dir.join("record.json"))?;
            remove_dir_if_exists(&dir)?;
            l.release_name(&r.container, &r.id)
        })
        .await
    }

    /// Writes the mirror of the guest's `path` under the machine's lock (see
    /// [`super::machines::Machines::write_mirror`]).
    pub async fn write_mirror(
        &self,
        container: &str,
        path: &str,
        contents: Vec<u8>,
        mode: u32,
    ) -> EngineResult<()> {
        let (_lock, rec) = self.locked(container).await?;
        let Some(file) = super::guest_files::mirror_path(&self.layout().machine(&rec.id), path)
        else {
            return Ok(());
        };
        tokio::task::spawn_blocking(move || {
            super::guest_files::write_mirror(&file, &contents, mode)
        })
        .await
        .map_err(|e| EngineError::Api(format!("writing berth's copy of {path}: {e}")))?
    }

    /// Removes the home disk `volume`; `Conflict` while a VM that uses it exists.
    pub async fn remove_home(&self, volume: &str) -> EngineResult<()> {
        check_name(volume)?;
        let l = self.layout();
        let v = volume.to_string();
        let users: Vec<String> = self
            .list()
            .await?
            .into_iter()
            .filter(|r| r.volume == volume)
            .map(|r| r.container)
            .collect();
        if !users.is_empty() {
            return Err(EngineError::Conflict(format!(
                "home disk {volume} is in use by {}; remove that first",
                users.join(", ")
            )));
        }
        let found = blocking("removing the home disk", move || {
            let dir = l.home(&v);
            if !dir.exists() {
                return Ok(false);
            }
            remove_if_exists(&dir.join("home.json"))?;
            remove_dir_if_exists(&dir)?;
            Ok(true)
        })
        .await?;
        if found {
            Ok(())
        } else {
            Err(EngineError::NotFound {
                what: format!("home disk {volume}"),
            })
        }
    }

    /// Whether its process runs (pid file, and that pid's command line names it).
    pub fn run_state(&self, rec: &VmRecord) -> VmRun {
        process::run_state(&self.files(rec), &rec.id)
    }

    /// One sample of its process; `None` when it does not run.
    pub fn sample(&self, rec: &VmRecord) -> Option<VmSample> {
        process::sample(&self.files(rec), &rec.id)
    }

    /// Its serial console, the workspace's log.
    pub fn console_path(&self, rec: &VmRecord) -> PathBuf {
        self.files(rec).console()
    }

    /// Where berth's ssh reaches it (127.0.0.1 or the bind address, its port,
    /// a known_hosts with its pinned host key).
    pub fn ssh_target(&self, rec: &VmRecord) -> SshTarget {
        SshTarget {
            host: ssh_host(rec.bind_address),
            port: rec.ssh_port,
            known_hosts: self.layout().machine(&rec.id).join("known_hosts"),
        }
    }
}

/// What this host offers for hardware-assisted VMs (/dev/kvm, loaded modules).
pub fn host_virt() -> HostVirt {
    let dev_kvm = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .is_ok();
    let mut hw_module = None;
    let mut other_modules = Vec::new();
    if let Ok(dir) = std::fs::read_dir("/sys/module") {
        let mut names: Vec<String> = dir
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().to_str().map(str::to_string))
            .filter(|n| n.starts_with("kvm_"))
            .collect();
        names.sort();
        for n in names {
            if n == "kvm_intel" || n == "kvm_amd" {
                hw_module = Some(n);
            } else {
                other_modules.push(n);
            }
        }
    }
    HostVirt {
        dev_kvm,
        hw_module,
        other_modules,
    }
}

/// Where berth's ssh dials a VM bound at `bind` (loopback for an any-address bind).
pub fn ssh_host(bind: std::net::IpAddr) -> String {
    if bind.is_unspecified() {
        if bind.is_ipv4() { "127.0.0.1" } else { "::1" }.to_string()
    } else {
        bind.to_string()
    }
}

/// A name berth uses as a file name (`workspace-NAME`): no path tricks.
pub(super) fn check_name(name: &str) -> EngineResult<()> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(EngineError::Api(format!(
            "{name:?} cannot name a VM or its home disk; use letters, digits, '-', '_' and '.'"
        )))
    }
}

impl VmHost {
    pub(super) fn layout(&self) -> Layout {
        Layout {
            root: self.root.clone(),
        }
    }

    pub(super) fn cache(&self) -> &Path {
        &self.cache
    }

    /// `container`'s record, read again once its machine's lock is held (see
    /// [`machine_lock`]): what another berth did meanwhile is seen, a remove (and
    /// a create of the name again) included.
    async fn locked(&self, container: &str) -> EngineResult<(MachineLock, VmRecord)> {
        loop {
            let id = self.get(container).await?.id;
            let dir = self.layout().machine(&id);
            let lock = machine_lock::lock(&dir, container, machine_lock::WAIT).await?;
            let rec = self.get(container).await?;
            if rec.id == id {
                return Ok((lock, rec));
            }
        }
    }

    /// The record of `container`, or `NotFound`.
    pub(super) async fn get(&self, container: &str) -> EngineResult<VmRecord> {
        self.find(container)
            .await?
            .ok_or_else(|| EngineError::NotFound {
                what: format!("VM {container}"),
            })
    }

    async fn run_state_async(&self, rec: &VmRecord) -> EngineResult<VmRun> {
        let (f, id) = (self.files(rec), rec.id.clone());
        blocking("reading the VM's process", move || {
            Ok(process::run_state(&f, &id))
        })
        .await
    }

    /// Its files, without the assets (enough for its process, console, sockets).
    pub(super) fn files(&self, rec: &VmRecord) -> MachineFiles {
        let l = self.layout();
        MachineFiles {
            dir: l.machine(&rec.id),
            home_disk: l.home_disk(&rec.volume),
            kernel: PathBuf::new(),
            initrd: PathBuf::new(),
        }
    }

    /// Its files with the assets it boots from (made again if the cache lost them).
    /// The kernel and initramfs a boot uses, made when missing.
    async fn boot_assets(&self) -> EngineResult<(PathBuf, PathBuf)> {
        let kernel = assets::ensure_kernel(&self.cache, &None).await?;
        let initrd = assets::ensure_initrd(&self.cache, &kernel, &None).await?;
        Ok((kernel.vmlinuz(), initrd))
    }
}

#[cfg(test)]
#[path = "host_tests.rs"]
mod tests;
