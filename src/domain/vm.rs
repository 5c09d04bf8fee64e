//! The VM provider's rules (pure): which provider a workspace runs under, which
//! accelerator a VM gets and why, what a VM is given (memory, CPUs, disk,
//! network), and what the provider cannot do. The machine itself (QEMU, disks,
//! the guest's init) is `engine::vm`.
//!
//! The accelerator is always chosen explicitly and said: `kvm` only where the
//! host has hardware virtualization (VMX/SVM: the `kvm_intel` or `kvm_amd`
//! module) and `/dev/kvm` can be opened; otherwise `tcg`, QEMU's own CPU
//! emulation, with a warning. There is never a fallback between providers: a
//! VM that cannot be made is an error, never a container instead.
use super::net_profile::NetProfile;
use serde::{Deserialize, Serialize};

/// The label on a workspace (and in a VM's record) saying its provider.
pub const PROVIDER_LABEL: &str = "dev.berth.provider";
/// The label saying a VM's accelerator (`kvm`, `tcg`).
pub const ACCEL_LABEL: &str = "dev.berth.vm-accel";
/// What a VM workspace reports as its runtime.
pub const VM_RUNTIME: &str = "qemu";

/// Default size of a VM's home disk (`--disk`).
pub const DEFAULT_DISK_BYTES: u64 = 10 << 30;
/// The smallest home disk berth makes (the image's home must fit, and ext4's own).
pub const MIN_DISK_BYTES: u64 = 256 << 20;
/// Guest memory when the workspace has no memory limit.
pub const DEFAULT_MEM_MIB: u64 = 1024;
/// The least memory a guest boots the workspace image with.
pub const MIN_MEM_MIB: u64 = 256;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// A container on the engine (runc, or the runtime asked for).
    #[default]
    Container,
    /// A QEMU microVM with its own guest kernel.
    Vm,
}

impl Provider {
    pub const ALL: [Provider; 2] = [Self::Container, Self::Vm];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Container => "container",
            Self::Vm => "vm",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        Self::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(t))
            .ok_or_else(|| format!("unknown provider {t:?}; pick container or vm"))
    }

    /// The provider recorded on a workspace (no label: a container).
    pub fn from_label(v: Option<&str>) -> Self {
        v.and_then(|v| Self::parse(v).ok()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Accel {
    /// Hardware-assisted (VMX/SVM through /dev/kvm).
    Kvm,
    /// QEMU's CPU emulation: a separate kernel, no hardware assist, slower.
    Tcg,
}

impl Accel {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Kvm => "kvm",
            Self::Tcg => "tcg",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "kvm" => Some(Self::Kvm),
            "tcg" => Some(Self::Tcg),
            _ => None,
        }
    }

    /// The warning create, status and doctor give for `tcg`; none for `kvm`.
    pub fn warning(self) -> Option<&'static str> {
        match self {
            Self::Kvm => None,
            Self::Tcg => Some(
                "accel tcg: the VM has its own kernel but no hardware assist (no usable VMX/SVM here), \
                 so it is emulated: isolation by a separate kernel only, and its CPU is several times slower",
            ),
        }
    }
}

/// `--accel`: what the user asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AccelChoice {
    /// kvm where the host can, else tcg (said, with its warning).
    #[default]
    Auto,
    Only(Accel),
}

impl AccelChoice {
    pub fn parse(raw: &str) -> Result<Self, String> {
        let t = raw.trim();
        if t.eq_ignore_ascii_case("auto") {
            return Ok(Self::Auto);
        }
        Accel::parse(t)
            .map(Self::Only)
            .ok_or_else(|| format!("unknown accelerator {t:?}; pick auto, kvm or tcg"))
    }
}

/// What the host offers for hardware-assisted VMs (gathered by `engine::vm`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostVirt {
    /// `/dev/kvm` exists and this user can open it read-write.
    pub dev_kvm: bool,
    /// The hardware KVM module loaded (`kvm_intel`, `kvm_amd`), if any.
    pub hw_module: Option<String>,
    /// Other KVM modules loaded (`kvm_pvm`: a paravirtual KVM that stock guest
    /// kernels cannot run under).
    pub other_modules: Vec<String>,
}

impl HostVirt {
    /// Why `kvm` cannot be used here; `None` when it can.
    pub fn kvm_unusable(&self) -> Option<String> {
        if self.hw_module.is_none() {
            let extra = if self.other_modules.is_empty() {
                String::new()
            } else {
                format!(
                    " (only {} is loaded, which stock guest kernels cannot run under)",
                    self.other_modules.join(", ")
                )
            };
            return Some(format!(
                "this host has no hardware virtualization for KVM: neither kvm_intel nor kvm_amd is loaded{extra}; \
                 the CPU has no usable VMX/SVM here"
            ));
        }
        if !self.dev_kvm {
            return Some(
                "/dev/kvm cannot be opened read-write by this user; add yourself to the kvm group \
                 (`sudo usermod -aG kvm $USER`, then log in again)"
                    .to_string(),
            );
        }
        None
    }
}

/// The accelerator for `choice` on a host with `host`: `--accel kvm` where it
/// cannot run is refused with the reason (never quietly made tcg).
pub fn choose_accel(choice: AccelChoice, host: &HostVirt) -> Result<Accel, String> {
    match (choice, host.kvm_unusable()) {
        (AccelChoice::Only(Accel::Tcg), _) => Ok(Accel::Tcg),
        (AccelChoice::Only(Accel::Kvm), None) | (AccelChoice::Auto, None) => Ok(Accel::Kvm),
        (AccelChoice::Only(Accel::Kvm), Some(why)) => Err(format!(
            "--accel kvm cannot be used: {why}. Use --accel tcg (emulated, slower) or run berth on a host with VMX/SVM"
        )),
        (AccelChoice::Auto, Some(_)) => Ok(Accel::Tcg),
    }
}

/// A VM's network: QEMU's user-mode networking, the workspace's SSH port (and
/// `--port`s) forwarded from `bind_address` on the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum VmNet {
    /// The guest reaches out through the host (NAT), like the engine's default
    /// bridge; the host's loopback is reachable from it at 10.0.2.2.
    Open,
    /// Nothing goes out (`restrict=on`); only the forwarded ports come in.
    Offline,
}

impl VmNet {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Open => "open",
            Self::Offline => "offline",
        }
    }
}

/// The VM network for a workspace's network profile, or why that profile cannot
/// be given to a VM (said at create, never quietly changed).
pub fn net_for(profile: NetProfile) -> Result<VmNet, String> {
    match profile {
        NetProfile::Open => Ok(VmNet::Open),
        NetProfile::Offline => Ok(VmNet::Offline),
        NetProfile::Isolated => Err(
            "the isolated network profile cannot be given to a VM yet: QEMU's user-mode networking lets the guest \
             reach the host's loopback (10.0.2.2), where other workspaces' SSH ports are. Use --net-profile open \
             (the guest reaches out through the host, like the engine's default bridge) or --net-profile offline \
             (nothing goes out)"
                .to_string(),
        ),
        NetProfile::Proxy => Err(
            "the proxy network profile cannot be given to a VM: its egress proxy is a sidecar container on an \
             internal network, which a VM cannot join. Use --net-profile open or offline"
                .to_string(),
        ),
    }
}

/// What a VM is given, decided at create and kept in its record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VmShape {
    pub accel: Accel,
    pub mem_mib: u64,
    pub cpus: u32,
    /// The home disk's size.
    pub disk_bytes: u64,
    pub net: VmNet,
}

/// Guest memory and CPUs from the workspace's limits (`memory_bytes`,
/// `cpus`), with the provider's defaults and floor.
pub fn shape_resources(memory_bytes: Option<i64>, cpus: Option<f64>) -> Result<(u64, u32), String> {
    let mem_mib = match memory_bytes {
        None => DEFAULT_MEM_MIB,
        Some(b) if b <= 0 => DEFAULT_MEM_MIB,
        Some(b) => (b as u64) >> 20,
    };
    if mem_mib < MIN_MEM_MIB {
        return Err(format!(
            "a VM needs at least {MIN_MEM_MIB} MiB of memory (asked: {mem_mib} MiB); raise --memory"
        ));
    }
    let cpus = cpus.map_or(1, |c| c.ceil().max(1.0) as u32);
    Ok((mem_mib, cpus))
}

/// `--disk SIZE` (`20g`, `512m`, bytes): the home disk's size.
pub fn parse_disk(raw: &str) -> Result<u64, String> {
    let t = raw.trim().to_ascii_lowercase();
    let (num, mult) = match t.char_indices().find(|(_, c)| c.is_ascii_alphabetic()) {
        None => (t.as_str(), 1u64),
        Some((i, _)) => {
            let unit = t[i..].trim_end_matches("ib").trim_end_matches('b');
            let mult = match unit {
                "" => 1,
                "k" => 1 << 10,
                "m" => 1 << 20,
                "g" => 1 << 30,
                "t" => 1 << 40,
                _ => {
                    return Err(format!(
                        "--disk {raw:?}: unknown unit; use a size like 20g or 512m"
                    ))
                }
            };
            (&t[..i], mult)
        }
    };
    let n: u64 = num
        .trim()
        .parse()
        .map_err(|_| format!("--disk {raw:?}: expected a size like 20g or 512m"))?;
    let bytes = n
        .checked_mul(mult)
        .ok_or_else(|| format!("--disk {raw:?}: too large"))?;
    if bytes < MIN_DISK_BYTES {
        return Err(format!(
            "--disk {raw:?}: a VM's home disk must be at least {} MiB",
            MIN_DISK_BYTES >> 20
        ));
    }
    Ok(bytes)
}

#[cfg(test)]
#[path = "vm_tests.rs"]
mod tests;
