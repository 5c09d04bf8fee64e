//! What the Docker engine's machine can run: emulators registered with binfmt_misc.
//!
//! The engine may be remote, so what matters is the engine's kernel, not this
//! machine's. berth looks at this machine's binfmt_misc only when the engine
//! surely runs on this kernel: a local socket AND the engine reporting this
//! kernel's release. An engine elsewhere (tcp://, ssh://, a VM behind a socket
//! such as Docker Desktop's) answers `Unknown`, and the engine decides.
//!
//! Why not a probe container instead: running one needs an image of the foreign
//! platform (there may be none, and no registry to pull one from), and it would
//! make and remove an engine object on every check; the binfmt entry is the very
//! thing the kernel consults, read in microseconds.
use super::docker::DockerEngine;
use super::EngineResult;
use crate::domain::platform::{Arch, Emulation, BINFMT_DIR};
use std::path::Path;

pub(super) async fn emulation(engine: &DockerEngine, arch: Arch) -> EngineResult<Emulation> {
    if !engine.endpoint_str().starts_with("unix://") {
        return Ok(Emulation::Unknown);
    }
    let engine_kernel = engine
        .docker()
        .version()
        .await
        .map_err(|e| super::docker::map_err(engine.endpoint_str(), e))?
        .kernel_version
        .unwrap_or_default();
    let host_kernel = tokio::fs::read_to_string("/proc/sys/kernel/osrelease")
        .await
        .unwrap_or_default();
    if engine_kernel.trim().is_empty() || engine_kernel.trim() != host_kernel.trim() {
        return Ok(Emulation::Unknown);
    }
    Ok(read_binfmt(Path::new(BINFMT_DIR), arch).await)
}

/// The emulator for `arch` in a binfmt_misc directory: the entry `qemu-<machine>`
/// (Debian's and tonistiigi/binfmt's name), else one whose name starts with it
/// (`qemu-aarch64-static`).
pub async fn read_binfmt(dir: &Path, arch: Arch) -> Emulation {
    // `status` is there whenever binfmt_misc is mounted.
    let mounted = tokio::fs::try_exists(dir.join("status"))
        .await
        .unwrap_or(false);
    if !mounted {
        return Emulation::NotMounted;
    }
    let want = arch.binfmt_entry();
    let mut name = None;
    if tokio::fs::try_exists(dir.join(&want))
        .await
        .unwrap_or(false)
    {
        name = Some(want.clone());
    } else if let Ok(mut rd) = tokio::fs::read_dir(dir).await {
        while let Ok(Some(e)) = rd.next_entry().await {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with(&format!("{want}-")) {
                name = Some(n);
                break;
            }
        }
    }
    let Some(name) = name else {
        return Emulation::Missing;
    };
    let text = tokio::fs::read_to_string(dir.join(&name))
        .await
        .unwrap_or_default();
    Emulation::from_entry(true, Some((name, &text)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn binfmt_directories() {
        let dir = std::env::temp_dir().join(format!("berth-binfmt-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        assert_eq!(read_binfmt(&dir, Arch::Arm64).await, Emulation::NotMounted);
        std::fs::write(dir.join("status"), "enabled\n").unwrap();
        assert_eq!(read_binfmt(&dir, Arch::Arm64).await, Emulation::Missing);
        std::fs::write(dir.join("qemu-aarch64-static"), "enabled\nflags: F\n").unwrap();
        assert_eq!(
            read_binfmt(&dir, Arch::Arm64).await,
            Emulation::Ready("qemu-aarch64-static".into())
        );
        std::fs::write(dir.join("qemu-aarch64"), "enabled\nflags: OC\n").unwrap();
        assert_eq!(
            read_binfmt(&dir, Arch::Arm64).await,
            Emulation::NoFixBinary("qemu-aarch64".into())
        );
        assert_eq!(read_binfmt(&dir, Arch::Amd64).await, Emulation::Missing);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
