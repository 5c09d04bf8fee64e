//! `berth doctor`'s "vm" section: what `--provider vm` needs on this machine
//! (QEMU, qemu-img, mkfs.ext4, a static busybox, the guest kernel, the
//! accelerator, free disk, root for the base disk). Missing pieces are
//! warnings naming what to install, never failures: containers still work.
use super::doctor::{check, Check, Status};
use crate::domain::vm::{Accel, HostVirt, DEFAULT_DISK_BYTES};
use std::path::{Path, PathBuf};

/// The Debian packages a VM needs.
pub const INSTALL: &str =
    "sudo apt install qemu-system-x86 qemu-utils busybox-static e2fsprogs cpio kmod";
/// Where berth's guest init comes from (statically linked: it runs before any library).
const BUSYBOX: &str = "/bin/busybox";
/// Free space the assets want under the cache (the base disk is about twice
/// the image, plus the kernel and initramfs).
const CACHE_WANTED: u64 = 2 << 30;

/// What doctor found (gathered by [`gather`]; judged by [`checks_from`]).
#[derive(Debug, Clone, Default)]
pub struct VmFacts {
    /// `qemu-system-x86_64 --version`'s first line.
    pub qemu: Option<String>,
    pub qemu_img: bool,
    pub mkfs_ext4: bool,
    /// The other programs a VM create needs (`engine::vm::tools::NEEDED`:
    /// cpio, depmod, ...) that are not found.
    pub missing_tools: Vec<&'static str>,
    /// `/bin/busybox`: absent, or whether it is statically linked.
    pub busybox_static: Option<bool>,
    /// A kernel is cached (`<cache>/kernel/<version>/`).
    pub kernel_cached: bool,
    pub apt_get: bool,
    pub cache: PathBuf,
    /// `None`: it could not be looked at.
    pub virt: Option<HostVirt>,
    pub state_free: Option<u64>,
    pub cache_free: Option<u64>,
    pub root: bool,
}

fn gib(b: u64) -> String {
    format!("{:.1} GiB", b as f64 / f64::from(1u32 << 30))
}

/// The section's lines for `f`.
pub fn checks_from(f: &VmFacts) -> Vec<Check> {
    let warn = |name: &str, detail: String, fix: Option<&str>| {
        check(format!("vm: {name}"), Status::Warn, detail, fix)
    };
    let ok = |name: &str, detail: String| check(format!("vm: {name}"), Status::Ok, detail, None);
    let mut v = Vec::new();
    v.push(match &f.qemu {
        Some(ver) => ok("qemu", ver.clone()),
        None => warn(
            "qemu",
            "qemu-system-x86_64 is not on PATH: --provider vm cannot run (containers can)".into(),
            Some(INSTALL),
        ),
    });
    for (name, found, pkg) in [
        ("qemu-img", f.qemu_img, "qemu-utils"),
        ("mkfs.ext4", f.mkfs_ext4, "e2fsprogs"),
    ] {
        v.push(match found {
            true => ok(name, format!("{name} found")),
            false => warn(
                name,
                format!("{name} is not found (Debian package {pkg}): a VM's disks cannot be made"),
                Some(INSTALL),
            ),
        });
    }
    if !f.missing_tools.is_empty() {
        let pkgs: std::collections::BTreeSet<&str> = f
            .missing_tools
            .iter()
            .map(|p| crate::engine::vm::tools::package_of(p))
            .collect();
        let pkgs: Vec<&str> = pkgs.into_iter().collect();
        v.push(warn(
            "tools",
            format!(
                "{} not found (Debian packages {}): a VM create refuses to start without them",
                f.missing_tools.join(", "),
                pkgs.join(" ")
            ),
            Some(INSTALL),
        ));
    }
    v.push(match f.busybox_static {
        Some(true) => ok("busybox", format!("{BUSYBOX} is statically linked")),
        Some(false) => warn(
            "busybox",
            format!("{BUSYBOX} is dynamically linked: the guest's init needs busybox-static"),
            Some(INSTALL),
        ),
        None => warn(
            "busybox",
            format!("{BUSYBOX} is missing: the guest's init needs busybox-static"),
            Some(INSTALL),
        ),
    });
    let kernel_dir = f.cache.join("kernel");
    v.push(match (f.kernel_cached, f.apt_get) {
        (true, _) => ok("kernel", format!("cached under {}", kernel_dir.display())),
        (false, true) => ok(
            "kernel",
            format!(
                "not cached yet: fetched from Debian's packages (linux-image-cloud-amd64) on the first VM create into {}; needs apt-get and the mirror",
                kernel_dir.display()
            ),
        ),
        (false, false) => warn(
            "kernel",
            "not cached, and apt-get is not here to fetch Debian's cloud kernel on the first VM create".into(),
            Some("run berth on Debian or Ubuntu (apt-get and a reachable mirror)"),
        ),
    });
    v.push(match f.virt.as_ref().map(HostVirt::kvm_unusable) {
        None => warn(
            "accel",
            "cannot tell whether kvm is usable here; a VM create says which accelerator it gets"
                .into(),
            None,
        ),
        Some(None) => ok(
            "accel",
            "kvm usable (hardware virtualization): VMs run at near native speed".into(),
        ),
        Some(Some(why)) => warn(
            "accel",
            format!(
                "tcg only: {why}. {}",
                Accel::Tcg.warning().unwrap_or_default()
            ),
            None,
        ),
    });
    let space = |name: &str, free: Option<u64>, want: u64, what: &str| match free {
        Some(b) if b >= want => ok(name, format!("{} free ({what})", gib(b))),
        Some(b) => warn(
            name,
            format!("only {} free; {what} wants at least {}", gib(b), gib(want)),
            Some("free some disk space (berth gc, docker system prune)"),
        ),
        None => warn(name, format!("cannot tell the free space ({what})"), None),
    };
    v.push(space(
        "disk (cache)",
        f.cache_free,
        CACHE_WANTED,
        "a base disk per image, about twice the image, and the kernel",
    ));
    v.push(space(
        "disk (state)",
        f.state_free,
        DEFAULT_DISK_BYTES,
        "each VM's home disk: 10 GiB by default, or --disk",
    ));
    v.push(match f.root {
        true => ok("root", "running as root: a VM's base disk can be made".into()),
        false => warn(
            "root",
            "making a VM's base disk from the image needs root (the image's files keep their owners); run the first VM create of each image with sudo".into(),
            None,
        ),
    });
    v
}

/// Is the ELF file `bytes` statically linked (no PT_INTERP program header)?
/// `None` when it is not a 64-bit little-endian ELF.
pub fn elf_is_static(bytes: &[u8]) -> Option<bool> {
    if bytes.get(..5)? != b"\x7fELF\x02" || *bytes.get(5)? != 1 {
        return None;
    }
    let u16_at = |o: usize| Some(u16::from_le_bytes(bytes.get(o..o + 2)?.try_into().ok()?));
    let phoff = u64::from_le_bytes(bytes.get(0x20..0x28)?.try_into().ok()?) as usize;
    let (size, count) = (usize::from(u16_at(0x36)?), usize::from(u16_at(0x38)?));
    for i in 0..count {
        let at = phoff.checked_add(i.checked_mul(size)?)?;
        let kind = u32::from_le_bytes(bytes.get(at..at + 4)?.try_into().ok()?);
        if kind == 3 {
            return Some(false);
        }
    }
    Some(true)
}

/// `$XDG_CACHE_HOME/berth/vm`.
fn cache_root(paths: &crate::config::Paths) -> PathBuf {
    directories::BaseDirs::new()
        .map(|b| b.cache_dir().to_path_buf())
        .unwrap_or_else(|| paths.home.join(".cache"))
        .join("berth")
        .join("vm")
}

fn find_tool(bin: &str) -> bool {
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .chain(["/usr/sbin", "/sbin"].map(PathBuf::from))
        .any(|d| d.join(bin).is_file())
}

/// The nearest existing directory at or above `p` (for `df`).
fn existing(p: &Path) -> String {
    p.ancestors()
        .find(|a| a.is_dir())
        .unwrap_or(Path::new("/"))
        .display()
        .to_string()
}

/// The facts of this machine (blocking looks on a blocking thread).
pub async fn gather(paths: &crate::config::Paths) -> VmFacts {
    let qemu = tokio::process::Command::new("qemu-system-x86_64")
        .arg("--version")
        .output()
        .await
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| {
            String::from_utf8_lossy(&o.stdout)
                .lines()
                .next()
                .map(|l| l.trim().to_string())
        });
    let cache = cache_root(paths);
    let state = paths.state_dir.join("vm");
    let (c, s) = (cache.clone(), state.clone());
    let looked = tokio::task::spawn_blocking(move || {
        let kernel_cached = std::fs::read_dir(c.join("kernel"))
            .map(|mut d| d.next().is_some())
            .unwrap_or(false);
        let busybox = std::fs::read(BUSYBOX)
            .ok()
            .map(|b| elf_is_static(&b) == Some(true));
        (
            find_tool("qemu-img"),
            find_tool("mkfs.ext4"),
            crate::engine::vm::tools::NEEDED
                .iter()
                .copied()
                .filter(|p| !["qemu-system-x86_64", "qemu-img", "mkfs.ext4"].contains(p))
                .filter(|p| !crate::engine::vm::tools::on_path(p))
                .collect::<Vec<&'static str>>(),
            busybox,
            kernel_cached,
            find_tool("apt-get"),
            crate::engine::vm::is_root(),
            existing(&c),
            existing(&s),
        )
    })
    .await;
    // Apart: a failure to look at /dev/kvm and the modules loses only that line.
    let virt = tokio::task::spawn_blocking(crate::engine::vm::host::host_virt)
        .await
        .ok();
    let Ok((
        qemu_img,
        mkfs_ext4,
        missing_tools,
        busybox_static,
        kernel_cached,
        apt_get,
        root,
        cd,
        sd,
    )) = looked
    else {
        return VmFacts {
            qemu,
            cache,
            virt,
            ..Default::default()
        };
    };
    VmFacts {
        qemu,
        qemu_img,
        mkfs_ext4,
        missing_tools,
        busybox_static,
        kernel_cached,
        apt_get,
        cache,
        virt,
        state_free: super::doctor::free_bytes(&sd).await,
        cache_free: super::doctor::free_bytes(&cd).await,
        root,
    }
}

/// The "vm" section of `berth doctor`.
pub async fn checks(paths: &crate::config::Paths) -> Vec<Check> {
    checks_from(&gather(paths).await)
}

#[cfg(test)]
#[path = "doctor_vm_tests.rs"]
mod tests;
