//! The host programs VMs need, run with tokio::process, and what to install
//! when one is missing.
use crate::engine::{EngineError, EngineResult};
use std::ffi::OsStr;
use std::path::Path;
use std::process::Output;
use tokio::process::Command;

/// The Debian package that gives `program`.
pub fn package_of(program: &str) -> &'static str {
    match program {
        "qemu-system-x86_64" => "qemu-system-x86",
        "qemu-img" => "qemu-utils",
        "mkfs.ext4" => "e2fsprogs",
        "busybox" => "busybox-static",
        "cpio" => "cpio",
        "depmod" | "modprobe" => "kmod",
        "apt-get" | "apt-cache" => "apt",
        "dpkg-deb" => "dpkg",
        "gzip" => "gzip",
        _ => "tar",
    }
}

/// The sentence for a program that is not installed.
pub fn missing(program: &str) -> EngineError {
    let pkg = package_of(program);
    EngineError::Api(format!(
        "{program} is not installed, and VM workspaces need it: install {pkg} (`sudo apt install {pkg}`)"
    ))
}

/// The programs making and running a VM needs (each said with its package
/// when missing), checked before anything is made.
pub const NEEDED: &[&str] = &[
    "qemu-system-x86_64",
    "qemu-img",
    "mkfs.ext4",
    "cpio",
    "depmod",
    "modprobe",
    "gzip",
    "tar",
];

/// Whether `program` is on PATH (or in the sbin directories).
pub fn on_path(program: &str) -> bool {
    let path = std::env::var("PATH").unwrap_or_default();
    let found = path
        .split(':')
        .chain(["/usr/local/sbin", "/usr/sbin", "/sbin"])
        .filter(|d| !d.is_empty())
        .any(|d| std::path::Path::new(d).join(program).is_file());
    found
}

/// The first missing program of [`NEEDED`] (and busybox-static's binary), said.
pub fn preflight() -> EngineResult<()> {
    if let Some(p) = NEEDED.iter().find(|p| !on_path(p)) {
        return Err(missing(p));
    }
    if !std::path::Path::new(super::assets::BUSYBOX).is_file() {
        return Err(missing("busybox"));
    }
    Ok(())
}

/// Runs `program args` to the end; a missing program is [`missing`], a failure
/// says `what` failed with the program's own words.
pub async fn run<I, S>(program: &str, args: I, what: &str) -> EngineResult<Output>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let out = command(program).args(args).output().await.map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            missing(program)
        } else {
            EngineError::Api(format!("{what}: cannot run {program}: {e}"))
        }
    })?;
    if !out.status.success() {
        return Err(EngineError::Api(format!(
            "{what}: {program} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(out)
}

/// `program` with the sbin directories on PATH (mkfs.ext4, depmod live there
/// and a user's PATH often lacks them), never waiting on a terminal.
pub fn command(program: &str) -> Command {
    let mut c = Command::new(program);
    let path = std::env::var("PATH").unwrap_or_default();
    c.env("PATH", format!("{path}:/usr/local/sbin:/usr/sbin:/sbin"))
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true);
    c
}

/// Whether this process runs as root (from /proc/self/status: no unsafe).
pub fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("Uid:"))
                .and_then(|l| l.split_whitespace().nth(2).map(|e| e == "0"))
        })
        .unwrap_or(false)
}

/// Whether `path` exists, asked off the async threads (an error counts as no).
pub async fn exists(path: &Path) -> bool {
    tokio::fs::try_exists(path).await.unwrap_or(false)
}

/// A blocking closure on a blocking thread, its io errors said as `what`.
pub async fn blocking<T, F>(what: &'static str, f: F) -> EngineResult<T>
where
    F: FnOnce() -> std::io::Result<T> + Send + 'static,
    T: Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| EngineError::Api(format!("{what}: {e}")))?
        .map_err(|e| EngineError::Api(format!("{what}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_program_says_what_to_install() {
        let e = missing("qemu-system-x86_64").to_string();
        assert!(
            e.contains("install qemu-system-x86 (`sudo apt install qemu-system-x86`)"),
            "{e}"
        );
        assert!(missing("mkfs.ext4").to_string().contains("e2fsprogs"));
        assert!(missing("busybox").to_string().contains("busybox-static"));
        assert!(missing("qemu-img").to_string().contains("qemu-utils"));
        assert!(on_path("sh"));
        assert!(!on_path("no-such-program-berth"));
    }

    #[tokio::test]
    async fn run_says_a_missing_program() {
        let e = run("no-such-program-berth", ["x"], "testing")
            .await
            .unwrap_err();
        assert!(e.to_string().contains("is not installed"), "{e}");
    }
}
