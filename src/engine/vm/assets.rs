//! The assets every VM boots from, made once per machine under the cache
//! (`$XDG_CACHE_HOME/berth/vm`): Debian's cloud kernel (ext4 built in, virtio
//! drivers as modules), fetched with `apt-get download` and unpacked with
//! `dpkg-deb -x`, and berth's initramfs: busybox-static, the virtio modules
//! and their dependencies, and berth's init (`assets/vm/init.sh`). Each is
//! made in a temp path and renamed into place, so concurrent creates are safe.
use super::record::{private_dir, remove_dir_if_exists, remove_if_exists};
use super::tools::{self, blocking, exists, run};
use crate::engine::{EngineError, EngineResult};
use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use tokio::sync::mpsc;

/// berth's guest init.
pub const INIT_SCRIPT: &str = include_str!("../../../assets/vm/init.sh");
/// The Debian package whose dependency is the current cloud kernel.
pub const KERNEL_META_PACKAGE: &str = "linux-image-cloud-amd64";
/// Where busybox-static puts its binary.
pub const BUSYBOX: &str = "/bin/busybox";
/// Modules the guest needs to boot (with their dependencies).
const REQUIRED_MODULES: &[&str] = &["virtio_mmio", "virtio_blk", "virtio_net", "virtio_console"];
/// Modules taken when the kernel has them (built in, or absent, is fine).
const OPTIONAL_MODULES: &[&str] = &["virtio_rng", "crc32c", "ext4"];

/// An unpacked kernel under `cache/kernel/<version>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kernel {
    pub version: String,
    pub dir: PathBuf,
}

impl Kernel {
    pub fn vmlinuz(&self) -> PathBuf {
        self.dir
            .join("boot")
            .join(format!("vmlinuz-{}", self.version))
    }
}

/// The kernel package `apt-cache depends linux-image-cloud-amd64` names.
pub fn kernel_package(depends: &str) -> Option<String> {
    depends.lines().find_map(|l| {
        let rest = l.trim().strip_prefix("Depends:")?.trim();
        let pkg = rest.split_whitespace().next()?;
        (pkg.starts_with("linux-image-") && pkg != KERNEL_META_PACKAGE).then(|| pkg.to_string())
    })
}

/// The kernel version in a kernel package's name.
pub fn kernel_version(package: &str) -> Option<&str> {
    package
        .strip_prefix("linux-image-")
        .filter(|v| !v.is_empty() && !v.contains('/') && !v.starts_with('.'))
}

/// A kernel already in the cache (the newest unpacked).
fn cached_kernel(cache: &Path) -> Option<Kernel> {
    let dir = fs::read_dir(cache.join("kernel")).ok()?;
    let mut found: Vec<(std::time::SystemTime, Kernel)> = dir
        .filter_map(Result::ok)
        .filter_map(|e| {
            let version = e.file_name().to_str()?.to_string();
            if version.starts_with('.') {
                return None;
            }
            let k = Kernel {
                version,
                dir: e.path(),
            };
            let when = fs::metadata(k.vmlinuz()).ok()?.modified().ok()?;
            Some((when, k))
        })
        .collect();
    found.sort_by_key(|(w, _)| *w);
    found.pop().map(|(_, k)| k)
}

async fn say(progress: &Option<mpsc::Sender<String>>, line: String) {
    tracing::info!("{line}");
    if let Some(p) = progress {
        let _ = p.send(line).await;
    }
}

fn kernel_err(what: &str, e: EngineError) -> EngineError {
    EngineError::Api(format!(
        "cannot get Debian's cloud kernel for VM workspaces ({what}): {e}. Check that Debian's package \
         mirror answers and run `sudo apt-get update`, then try again"
    ))
}

/// The kernel, fetched and unpacked into the cache when none is there.
pub async fn ensure_kernel(
    cache: &Path,
    progress: &Option<mpsc::Sender<String>>,
) -> EngineResult<Kernel> {
    let c = cache.to_path_buf();
    if let Some(k) = blocking("reading the kernel cache", move || Ok(cached_kernel(&c))).await? {
        return Ok(k);
    }
    let out = run(
        "apt-cache",
        ["depends", KERNEL_META_PACKAGE],
        "finding the kernel package",
    )
    .await
    .map_err(|e| kernel_err("apt-cache", e))?;
    let pkg = kernel_package(&String::from_utf8_lossy(&out.stdout)).ok_or_else(|| {
        kernel_err(
            "apt-cache",
            EngineError::Api(format!("{KERNEL_META_PACKAGE} names no kernel package")),
        )
    })?;
    let version = kernel_version(&pkg)
        .ok_or_else(|| {
            kernel_err(
                "apt-cache",
                EngineError::Api(format!("odd package name {pkg}")),
            )
        })?
        .to_string();
    say(
        progress,
        format!("fetching the VM kernel {pkg} (once per machine)"),
    )
    .await;
    let kdir = cache.join("kernel");
    let tmp = kdir.join(format!(".tmp-{}", super::record::new_id().map_err(io_err)?));
    let (t, k) = (tmp.clone(), kdir.clone());
    blocking("making the kernel directory", move || {
        private_dir(&k)?;
        fs::create_dir(&t)
    })
    .await?;
    let made = fetch_kernel(&tmp, &pkg, &version).await;
    let result = match made {
        Ok(()) => {
            let (t, dest) = (tmp.join("root"), kdir.join(&version));
            blocking("placing the kernel", move || match fs::rename(&t, &dest) {
                // another berth placed it first: same package, use that one
                Err(_) if dest.join("boot").exists() => Ok(()),
                r => r,
            })
            .await
        }
        Err(e) => Err(e),
    };
    let t = tmp.clone();
    let _ = blocking("cleaning up", move || remove_dir_if_exists(&t)).await;
    result?;
    Ok(Kernel {
        dir: kdir.join(&version),
        version,
    })
}

async fn fetch_kernel(tmp: &Path, pkg: &str, version: &str) -> EngineResult<()> {
    let out = tools::command("apt-get")
        .args(["download", "-q", pkg])
        .current_dir(tmp)
        .output()
        .await
        .map_err(|e| kernel_err("apt-get download", EngineError::Api(e.to_string())))?;
    if !out.status.success() {
        return Err(kernel_err(
            "apt-get download",
            EngineError::Api(String::from_utf8_lossy(&out.stderr).trim().to_string()),
        ));
    }
    let t = tmp.to_path_buf();
    let deb = blocking("finding the kernel package", move || {
        fs::read_dir(&t)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .find(|p| p.extension().is_some_and(|x| x == "deb"))
            .ok_or_else(|| std::io::Error::other("apt-get download left no .deb"))
    })
    .await?;
    let root = tmp.join("root");
    run(
        "dpkg-deb",
        [
            std::ffi::OsStr::new("-x"),
            deb.as_os_str(),
            root.as_os_str(),
        ],
        "unpacking the kernel",
    )
    .await
    .map_err(|e| kernel_err("dpkg-deb", e))?;
    run(
        "depmod",
        [
            std::ffi::OsStr::new("-b"),
            root.as_os_str(),
            std::ffi::OsStr::new(version),
        ],
        "indexing the kernel's modules",
    )
    .await?;
    Ok(())
}

fn io_err(e: std::io::Error) -> EngineError {
    EngineError::Api(e.to_string())
}

/// berth's initramfs for `kernel` (`cache/initrd-<hash>.gz`), made when missing.
pub async fn ensure_initrd(
    cache: &Path,
    kernel: &Kernel,
    progress: &Option<mpsc::Sender<String>>,
) -> EngineResult<PathBuf> {
    if !exists(Path::new(BUSYBOX)).await {
        return Err(tools::missing("busybox"));
    }
    let mut h = Sha256::new();
    h.update(INIT_SCRIPT.as_bytes());
    h.update(kernel.version.as_bytes());
    h.update(REQUIRED_MODULES.join(",").as_bytes());
    h.update(OPTIONAL_MODULES.join(",").as_bytes());
    let hash: String = h
        .finalize()
        .iter()
        .take(8)
        .map(|b| format!("{b:02x}"))
        .collect();
    let out = cache.join(format!("initrd-{hash}.gz"));
    if exists(&out).await {
        return Ok(out);
    }
    say(progress, "making berth's VM initramfs".to_string()).await;
    let tmp = cache.join(format!(
        ".initrd-{}",
        super::record::new_id().map_err(io_err)?
    ));
    let r = build_initrd(&tmp, kernel, &out).await;
    let t = tmp.clone();
    let _ = blocking("cleaning up", move || remove_dir_if_exists(&t)).await;
    r.map(|()| out)
}

/// The module files (paths under the kernel tree) `module` needs, itself last.
async fn module_files(kernel: &Kernel, module: &str) -> EngineResult<Vec<PathBuf>> {
    let out = run(
        "modprobe",
        [
            std::ffi::OsStr::new("-d"),
            kernel.dir.as_os_str(),
            std::ffi::OsStr::new("-S"),
            std::ffi::OsStr::new(&kernel.version),
            std::ffi::OsStr::new("--show-depends"),
            std::ffi::OsStr::new(module),
        ],
        &format!("finding the guest module {module}"),
    )
    .await?;
    Ok(insmod_lines(&String::from_utf8_lossy(&out.stdout)))
}

/// The files of `modprobe --show-depends` (`insmod PATH ...` lines; `builtin` ones need none).
pub fn insmod_lines(out: &str) -> Vec<PathBuf> {
    out.lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            (f.next() == Some("insmod")).then(|| f.next().map(PathBuf::from))?
        })
        .collect()
}

async fn build_initrd(tmp: &Path, kernel: &Kernel, out: &Path) -> EngineResult<()> {
    let mut files = Vec::new();
    for m in REQUIRED_MODULES {
        files.extend(module_files(kernel, m).await?);
    }
    for m in OPTIONAL_MODULES {
        match module_files(kernel, m).await {
            Ok(f) => files.extend(f),
            Err(e) => tracing::info!("guest module {m} not taken: {e}"),
        }
    }
    let (t, k) = (tmp.to_path_buf(), kernel.clone());
    blocking("assembling the initramfs", move || lay_out(&t, &k, &files)).await?;
    let sysroot = tmp.join("root");
    run(
        "depmod",
        [
            std::ffi::OsStr::new("-b"),
            sysroot.as_os_str(),
            std::ffi::OsStr::new(&kernel.version),
        ],
        "indexing the initramfs modules",
    )
    .await?;
    // cpio (newc) of every path, then gzip, then into place
    let t = tmp.to_path_buf();
    let list = blocking("listing the initramfs", move || {
        let mut v = Vec::new();
        walk(&t.join("root"), Path::new("."), &mut v)?;
        Ok(v.join("\n") + "\n")
    })
    .await?;
    let archive = tmp.join("initrd.cpio");
    let f = tokio::fs::File::create(&archive)
        .await
        .map_err(io_err)?
        .into_std()
        .await;
    let mut child = tools::command("cpio")
        .args(["-o", "-H", "newc", "--quiet"])
        .current_dir(&sysroot)
        .stdin(std::process::Stdio::piped())
        .stdout(f)
        .spawn()
        .map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => tools::missing("cpio"),
            _ => io_err(e),
        })?;
    if let Some(mut stdin) = child.stdin.take() {
        use tokio::io::AsyncWriteExt;
        stdin.write_all(list.as_bytes()).await.map_err(io_err)?;
    }
    let st = child.wait().await.map_err(io_err)?;
    if !st.success() {
        return Err(EngineError::Api(format!(
            "building the initramfs: cpio failed ({st})"
        )));
    }
    run(
        "gzip",
        [
            std::ffi::OsStr::new("-1"),
            std::ffi::OsStr::new("-n"),
            archive.as_os_str(),
        ],
        "compressing the initramfs",
    )
    .await?;
    let (gz, dest) = (tmp.join("initrd.cpio.gz"), out.to_path_buf());
    blocking("placing the initramfs", move || fs::rename(&gz, &dest)).await
}

/// The initramfs tree: busybox, the modules (at their paths in the kernel
/// tree), the kernel's module lists, `/init`.
fn lay_out(tmp: &Path, kernel: &Kernel, files: &[PathBuf]) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let root = tmp.join("root");
    fs::create_dir_all(root.join("bin"))?;
    fs::copy(BUSYBOX, root.join("bin/busybox"))?;
    let mods = Path::new("lib/modules").join(&kernel.version);
    let kmods = kernel.dir.join(&mods);
    for f in files {
        let rel = f.strip_prefix(&kmods).map_err(|_| {
            std::io::Error::other(format!("module {} is outside the kernel tree", f.display()))
        })?;
        let dest = root.join(&mods).join(rel);
        if let Some(p) = dest.parent() {
            fs::create_dir_all(p)?;
        }
        fs::copy(f, dest)?;
    }
    fs::create_dir_all(root.join(&mods))?;
    for name in [
        "modules.builtin",
        "modules.builtin.modinfo",
        "modules.order",
    ] {
        let src = kmods.join(name);
        if src.exists() {
            fs::copy(src, root.join(&mods).join(name))?;
        }
    }
    let init = root.join("init");
    fs::write(&init, INIT_SCRIPT)?;
    fs::set_permissions(&init, fs::Permissions::from_mode(0o755))?;
    remove_if_exists(&tmp.join("initrd.cpio"))
}

fn walk(base: &Path, rel: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
    out.push(rel.to_string_lossy().to_string());
    let full = base.join(rel);
    if fs::symlink_metadata(&full)?.is_dir() {
        let mut names: Vec<_> = fs::read_dir(&full)?
            .filter_map(Result::ok)
            .map(|e| e.file_name())
            .collect();
        names.sort();
        for n in names {
            walk(base, &rel.join(n), out)?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_package_is_read_from_apt_cache() {
        let out = "linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-28-cloud-amd64\n";
        let pkg = kernel_package(out).unwrap();
        assert_eq!(pkg, "linux-image-6.1.0-28-cloud-amd64");
        assert_eq!(kernel_version(&pkg), Some("6.1.0-28-cloud-amd64"));
        assert_eq!(kernel_package("linux-image-cloud-amd64\n"), None);
        assert_eq!(kernel_version("linux-image-../x"), None);
    }

    #[test]
    fn module_files_come_from_insmod_lines() {
        let out = "builtin ext4\ninsmod /k/lib/modules/v/kernel/a.ko \ninsmod /k/b.ko opt=1\n";
        assert_eq!(
            insmod_lines(out),
            [
                PathBuf::from("/k/lib/modules/v/kernel/a.ko"),
                PathBuf::from("/k/b.ko")
            ]
        );
    }

    #[test]
    fn the_init_script_sets_up_what_the_container_has() {
        assert!(INIT_SCRIPT.contains(
            "uid=1000,gid=1000,mode=0700,size=4m,nosuid,nodev,noexec tmpfs /newroot/run/berth"
        ));
        assert!(INIT_SCRIPT.contains("/etc/berth/vm_authorized_keys"));
        assert!(INIT_SCRIPT.contains("/usr/local/bin/berth-entrypoint"));
        assert!(!INIT_SCRIPT.contains("no-new-privs"));
    }
}
