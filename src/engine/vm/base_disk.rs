//! One read-only ext4 base disk per image id (`cache/bases/<id>.ext4`), made
//! from the image's filesystem exported through the engine, with the image's
//! /home/workspace kept beside it as a tar (`<id>.home.tar`) to seed home disks.
//! Made in a temp directory and published with a hard link (never replacing a
//! base that overlays already point at), so concurrent creates are safe.
use super::record::{new_id, private_dir, remove_dir_if_exists, remove_if_exists};
use super::tools::{self, blocking, run};
use crate::engine::{Engine, EngineError, EngineResult};
use futures_util::StreamExt;
use std::fs;
use std::path::{Path, PathBuf};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// A base disk and its home seed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Base {
    pub image_id: String,
    pub disk: PathBuf,
    pub home_tar: PathBuf,
}

/// The file name for an image id (`sha256:ab..` -> `sha256-ab..`).
pub fn base_name(image_id: &str) -> String {
    image_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '.' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

/// Size of a base disk for a tree of `used_mib`: twice it, plus room for ext4's own.
pub fn base_size_mib(used_mib: u64) -> u64 {
    used_mib.saturating_mul(2).saturating_add(256)
}

pub fn paths(cache: &Path, image_id: &str) -> Base {
    let dir = cache.join("bases");
    let name = base_name(image_id);
    Base {
        image_id: image_id.to_string(),
        disk: dir.join(format!("{name}.ext4")),
        home_tar: dir.join(format!("{name}.home.tar")),
    }
}

/// The base of `image` (made now when missing).
pub async fn ensure(
    docker: &dyn Engine,
    cache: &Path,
    image: &str,
    progress: &Option<mpsc::Sender<String>>,
) -> EngineResult<Base> {
    let info = docker
        .image_info(image)
        .await?
        .ok_or_else(|| EngineError::NotFound {
            what: format!("image {image} (build or pull it first)"),
        })?;
    let base = paths(cache, &info.id);
    if tools::exists(&base.disk).await && tools::exists(&base.home_tar).await {
        return Ok(base);
    }
    if !tools::is_root() {
        return Err(EngineError::Api(format!(
            "making the VM base disk of {image} needs root (the image's files keep their owners): run this \
             create as root (`sudo berth ...`) once; later VMs of this image reuse the disk"
        )));
    }
    if let Some(p) = progress {
        let _ = p
            .send(format!(
                "making the VM base disk of {image} (once per image)"
            ))
            .await;
    }
    let dir = cache.join("bases");
    let tmp = dir.join(format!(
        ".tmp-{}",
        new_id().map_err(|e| EngineError::Api(e.to_string()))?
    ));
    let (d, t) = (dir.clone(), tmp.clone());
    blocking("making the base disk's directory", move || {
        private_dir(&d)?;
        fs::create_dir(&t)?;
        fs::create_dir(t.join("rootfs"))
    })
    .await?;
    let r = build(docker, image, &tmp, &base).await;
    let t = tmp.clone();
    let _ = blocking("cleaning up", move || remove_dir_if_exists(&t)).await;
    r.map(|()| base)
}

async fn build(docker: &dyn Engine, image: &str, tmp: &Path, base: &Base) -> EngineResult<()> {
    let rootfs = tmp.join("rootfs");
    extract(docker, image, &rootfs).await?;
    let r = rootfs.clone();
    blocking("preparing the root filesystem", move || {
        // the init writes these at every boot
        for f in ["etc/resolv.conf", "etc/hosts", "etc/hostname"] {
            let p = r.join(f);
            if fs::symlink_metadata(&p).is_ok() {
                remove_if_exists(&p)?;
            }
            fs::write(&p, "")?;
        }
        fs::create_dir_all(r.join("home/workspace"))?;
        Ok(())
    })
    .await?;
    let du = run(
        "du",
        [std::ffi::OsStr::new("-sm"), rootfs.as_os_str()],
        "measuring the image",
    )
    .await?;
    let used: u64 = String::from_utf8_lossy(&du.stdout)
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1024);
    let home_tar = tmp.join("home.tar");
    run(
        "tar",
        [
            std::ffi::OsStr::new("-C"),
            rootfs.join("home/workspace").as_os_str(),
            std::ffi::OsStr::new("--numeric-owner"),
            std::ffi::OsStr::new("-cpf"),
            home_tar.as_os_str(),
            std::ffi::OsStr::new("."),
        ],
        "saving the image's home",
    )
    .await?;
    let disk = tmp.join("base.ext4");
    let size = format!("{}M", base_size_mib(used));
    run(
        "mkfs.ext4",
        [
            std::ffi::OsStr::new("-q"),
            std::ffi::OsStr::new("-F"),
            std::ffi::OsStr::new("-L"),
            std::ffi::OsStr::new("berth-root"),
            std::ffi::OsStr::new("-d"),
            rootfs.as_os_str(),
            disk.as_os_str(),
            std::ffi::OsStr::new(&size),
        ],
        "making the base disk",
    )
    .await?;
    let b = base.clone();
    blocking("publishing the base disk", move || {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(&disk, fs::Permissions::from_mode(0o444))?;
        // the home seed first: a base disk's presence says both are there
        publish(&home_tar, &b.home_tar)?;
        publish(&disk, &b.disk)
    })
    .await
}

/// `from` at `to` unless something is there already (another create made it
/// first: same image, keep that one; overlays may point at it).
fn publish(from: &Path, to: &Path) -> std::io::Result<()> {
    match fs::hard_link(from, to) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => Err(e),
        _ => remove_if_exists(from),
    }
}

/// The image's filesystem into `rootfs` (tar keeps owners and modes: root).
async fn extract(docker: &dyn Engine, image: &str, rootfs: &Path) -> EngineResult<()> {
    let mut tar = tools::command("tar")
        .arg("-C")
        .arg(rootfs)
        .args(["--numeric-owner", "-xpf", "-"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| EngineError::Api(format!("cannot run tar: {e}")))?;
    let mut stdin = tar
        .stdin
        .take()
        .ok_or_else(|| EngineError::Api("tar has no stdin".into()))?;
    let mut stream = docker.export_filesystem(image);
    let mut failed = None;
    while let Some(chunk) = stream.next().await {
        match chunk {
            Ok(b) => {
                if let Err(e) = stdin.write_all(&b).await {
                    failed = Some(EngineError::Api(format!("unpacking image {image}: {e}")));
                    break;
                }
            }
            Err(e) => {
                failed = Some(e);
                break;
            }
        }
    }
    drop(stream);
    drop(stdin);
    let out = tar
        .wait_with_output()
        .await
        .map_err(|e| EngineError::Api(format!("unpacking image {image}: {e}")))?;
    if let Some(e) = failed {
        return Err(e);
    }
    if !out.status.success() {
        return Err(EngineError::Api(format!(
            "unpacking image {image}: tar failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        )));
    }
    Ok(())
}

/// Whether `rec`'s root overlay can boot over its base disk (blocking): the
/// base must be there and older than the VM. A base made again (the cache was
/// cleared, then another create of the image made a new one) is not the one
/// the overlay was written over: booting it would read a corrupt root.
pub fn check_for(cache: &Path, rec: &super::VmRecord) -> std::io::Result<()> {
    let base = paths(cache, &rec.image_id).disk;
    let name = crate::domain::pool::workspace_name(&rec.labels, &rec.container)
        .unwrap_or_else(|| rec.container.clone());
    let again = format!(
        "its home disk is intact: `berth delete {name} --keep-volume`, then \
         `berth create {name} --provider vm` makes it again with that home"
    );
    let made = match fs::metadata(&base) {
        Ok(m) => m.modified()?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(std::io::Error::other(format!(
                "VM workspace {name} cannot start: its root disk is an overlay over the base disk {}, \
                 which is gone (was berth's cache cleared?); {again}",
                base.display()
            )))
        }
        Err(e) => return Err(e),
    };
    let made = made
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    if made > rec.created {
        return Err(std::io::Error::other(format!(
            "VM workspace {name} cannot start: its base disk {} was made again after the VM \
             (berth's cache was cleared), so its root overlay no longer matches it; {again}",
            base.display()
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_sizes() {
        assert_eq!(base_name("sha256:ab/c"), "sha256-ab-c");
        assert_eq!(base_size_mib(700), 1656);
        let b = paths(Path::new("/c"), "sha256:1");
        assert_eq!(b.disk, PathBuf::from("/c/bases/sha256-1.ext4"));
        assert_eq!(b.home_tar, PathBuf::from("/c/bases/sha256-1.home.tar"));
    }

    #[tokio::test]
    async fn an_engine_that_cannot_export_says_so() {
        let mem = crate::engine::memory::MemoryEngine::new();
        let t = tempfile::tempdir().unwrap();
        let e = extract(&mem, "img", t.path()).await.unwrap_err();
        assert!(e.to_string().contains("cannot export"), "{e}");
    }
}
