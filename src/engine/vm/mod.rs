//! VM workspaces on this machine: QEMU microVMs (the `vm` provider), beside the
//! engine's containers. berth runs no daemon for them: each VM's record, disks,
//! sockets, pid file and console live under `<state>/vm`, and any berth process
//! finds them there (a VM whose process died shows as stopped, disks intact).
//!
//! - [`host::VmHost`]: the machines: records, the shared assets (Debian's
//!   cloud kernel, berth's initramfs, one read-only ext4 base per image id),
//!   each VM's qcow2 overlay and home disk, the QEMU process, QMP and the
//!   control port, samples of its CPU and memory.
//! - [`layer::VmLayer`]: the [`Engine`](super::Engine) berth's backend talks
//!   to on this machine: the Docker engine for containers and images, and the
//!   VMs for workspaces made with `--provider vm` (exec, files and keys over
//!   ssh with berth's own identity; logs from the console; events and stats
//!   from the processes).
//!
//! Layout of `$XDG_CACHE_HOME/berth/vm` (`cache`: what can be made again):
//! - `kernel/<version>/` (the cloud kernel package unpacked), `initrd-<hash>.gz`
//! - `bases/<image id>.ext4` (read-only, shared by every VM of that image)
//!
//! Layout of `<state>/vm` (`root`):
//! - `machines/<id>/`: `record.json`, `root.qcow2`, `console.log`, `qmp.sock`,
//!   `ctl.sock`, `qemu.pid`, `known_hosts` (0700; short paths for the sockets)
//! - `homes/<volume>/`: `home.ext4`, `home.json` (labels, host public key): the
//!   home disk outlives its VM with `delete --keep-volume`, like a volume.
mod assets;
mod base_disk;
mod create;
mod disks;
#[cfg(test)]
mod fake_machines;
pub mod guest_exec;
pub mod guest_files;
pub mod host;
pub mod inspect;
pub mod layer;
mod layer_rest;
#[cfg(test)]
mod layer_tests;
mod machine_lock;
pub mod machines;
mod process;
mod qemu_args;
mod qmp;
mod record;
pub(crate) mod tools;
pub use tools::is_root;
pub mod vm_watch;

use crate::domain::create_options::PortMap;
use crate::domain::vm::VmShape;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::IpAddr;

/// What the layer asks [`host::VmHost::create`] for (from the `ContainerSpec`).
#[derive(Debug, Clone, PartialEq)]
pub struct VmCreate {
    /// `workspace-NAME` (what every engine call names it by).
    pub container: String,
    pub hostname: String,
    /// The home disk's name (`workspace-NAME`, as the volume would be).
    pub volume: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// Public `NAME=VALUE`s (the container's env): every exec gets them.
    pub env: Vec<String>,
    /// Forwarded from `bind_address` to the guest's sshd (2222).
    pub ssh_port: u16,
    /// `--port`s, forwarded the same way.
    pub ports: Vec<PortMap>,
    pub bind_address: IpAddr,
    pub shape: VmShape,
    /// berth's own public key line (`ssh_identity`): the guest's sshd always
    /// authorizes it, beside the user's `~/.ssh/authorized_keys`.
    pub authorized_key: String,
    pub workdir: Option<String>,
}

/// One VM as recorded in `machines/<id>/record.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmRecord {
    /// 12 hex digits: its directory and QEMU's `-name berth-vm-<id>`.
    pub id: String,
    pub container: String,
    pub hostname: String,
    pub volume: String,
    pub image: String,
    /// The image's id its base disk was made from.
    pub image_id: String,
    pub labels: BTreeMap<String, String>,
    pub env: Vec<String>,
    /// Seconds since the epoch.
    pub created: i64,
    pub ssh_port: u16,
    pub ports: Vec<(u16, u16)>,
    pub bind_address: IpAddr,
    pub shape: VmShape,
    pub authorized_key: String,
    pub workdir: Option<String>,
    /// The guest's SSH host public key line (made by berth at create, kept in
    /// the home disk, pinned here).
    pub host_key_pub: String,
}

/// Whether a VM's QEMU process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VmRun {
    /// Its process is alive (checked by pid and its `-name`).
    Running { pid: u32, started_at: i64 },
    /// No process (never started, powered off, or killed).
    Stopped,
}

/// How to reach a running VM's sshd as berth (exec, files, keys).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub host: String,
    pub port: u16,
    /// A known_hosts file holding only the VM's host key.
    pub known_hosts: std::path::PathBuf,
}

/// One sample of a VM's QEMU process (`/proc/<pid>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct VmSample {
    /// utime + stime, in clock ticks.
    pub cpu_ticks: u64,
    pub rss_bytes: u64,
}

/// The engine berth uses for `def`: on this machine (a local socket) the
/// Docker engine with the VMs beside it ([`layer::VmLayer`]); elsewhere the
/// plain engine (VMs are made only on this machine).
pub fn wrap(
    docker: std::sync::Arc<dyn super::Engine>,
    def: &crate::domain::engines::EngineDef,
    paths: &crate::config::Paths,
) -> std::sync::Arc<dyn super::Engine> {
    if !def.host.is_local() {
        return docker;
    }
    let host = host::VmHost::new(paths.state_dir.join("vm"), cache_dir(paths));
    std::sync::Arc::new(layer::VmLayer::new(
        docker,
        std::sync::Arc::new(host),
        paths.clone(),
    ))
}

/// `$XDG_CACHE_HOME/berth/vm` (`~/.cache/berth/vm`).
pub fn cache_dir(paths: &crate::config::Paths) -> std::path::PathBuf {
    directories::BaseDirs::new()
        .map(|b| b.cache_dir().to_path_buf())
        .unwrap_or_else(|| paths.home.join(".cache"))
        .join("berth")
        .join("vm")
}
