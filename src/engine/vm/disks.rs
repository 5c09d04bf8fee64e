//! A VM's disks: the root overlay (qcow2 over the image's read-only base) and
//! the home disk (ext4 seeded from the image's /home/workspace, owned by 1000,
//! holding the guest's SSH host key that berth makes, so berth pins the key
//! without trusting the network). A home disk is user data: it is made in a
//! temp directory and renamed into place, never over an existing one.
use super::record::{new_id, private_dir, remove_dir_if_exists, write_json, HomeRecord, Layout};
use super::tools::{blocking, run};
use crate::engine::{EngineError, EngineResult};
use ssh_key::{rand_core::OsRng, Algorithm, LineEnding, PrivateKey};
use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::Path;

/// Where the image's sshd reads its host key, under the home.
pub const HOST_KEY_REL: &str = ".berth/ssh/ssh_host_ed25519_key";
/// The workspace user.
pub const WORKSPACE_UID: u32 = 1000;

/// The root overlay at `overlay`, backed by `base` (read-only, raw).
pub async fn make_overlay(base: &Path, overlay: &Path) -> EngineResult<()> {
    run(
        "qemu-img",
        [
            OsStr::new("create"),
            OsStr::new("-q"),
            OsStr::new("-f"),
            OsStr::new("qcow2"),
            OsStr::new("-F"),
            OsStr::new("raw"),
            OsStr::new("-b"),
            base.as_os_str(),
            overlay.as_os_str(),
        ],
        "making the VM's root overlay",
    )
    .await
    .map(drop)
}

/// Makes home disk `volume` (`homes/<volume>/`): `Conflict` when one exists.
pub async fn make_home(
    layout: &Layout,
    volume: &str,
    home_tar: &Path,
    disk_bytes: u64,
    labels: BTreeMap<String, String>,
) -> EngineResult<HomeRecord> {
    let tmp = layout.homes().join(format!(
        ".tmp-{}",
        new_id().map_err(|e| EngineError::Api(e.to_string()))?
    ));
    let seed = tmp.join("seed");
    let (t, s) = (tmp.clone(), seed.clone());
    blocking("making the home disk's directory", move || {
        private_dir(&t)?;
        fs::DirBuilder::new().mode(0o700).create(&s)
    })
    .await?;
    let r = fill(layout, volume, home_tar, disk_bytes, labels, &tmp).await;
    let t = tmp.clone();
    let _ = blocking("cleaning up", move || remove_dir_if_exists(&t)).await;
    r
}

async fn fill(
    layout: &Layout,
    volume: &str,
    home_tar: &Path,
    disk_bytes: u64,
    labels: BTreeMap<String, String>,
    tmp: &Path,
) -> EngineResult<HomeRecord> {
    let seed = tmp.join("seed");
    run(
        "tar",
        [
            OsStr::new("-C"),
            seed.as_os_str(),
            OsStr::new("--numeric-owner"),
            OsStr::new("-xpf"),
            home_tar.as_os_str(),
        ],
        "seeding the home disk",
    )
    .await?;
    let s = seed.clone();
    let host_key_pub = blocking("making the VM's host key", move || write_host_key(&s)).await?;
    let disk = tmp.join("home.ext4");
    let size = format!("{}k", disk_bytes / 1024);
    let owner = format!("root_owner={WORKSPACE_UID}:{WORKSPACE_UID}");
    run(
        "mkfs.ext4",
        [
            OsStr::new("-q"),
            OsStr::new("-F"),
            OsStr::new("-L"),
            OsStr::new("berth-home"),
            OsStr::new("-E"),
            OsStr::new(&owner),
            OsStr::new("-d"),
            seed.as_os_str(),
            disk.as_os_str(),
            OsStr::new(&size),
        ],
        "making the home disk",
    )
    .await?;
    let home = HomeRecord {
        volume: volume.to_string(),
        labels,
        host_key_pub,
    };
    let (h, t, dest) = (home.clone(), tmp.to_path_buf(), layout.home(volume));
    let homes = layout.homes();
    blocking("placing the home disk", move || {
        remove_dir_if_exists(&t.join("seed"))?;
        write_json(&t.join("home.json"), &h)?;
        private_dir(&homes)?;
        // rename never replaces a non-empty directory: a home made meanwhile stays
        fs::rename(&t, &dest).map_err(|e| {
            std::io::Error::new(
                e.kind(),
                format!("home disk {} exists already ({e})", h.volume),
            )
        })
    })
    .await
    .map_err(|e| EngineError::Conflict(e.to_string()))?;
    Ok(home)
}

/// The guest's ed25519 host key in `seed` (0600, dirs 0700, owned by 1000);
/// its public line.
fn write_host_key(seed: &Path) -> std::io::Result<String> {
    let key = PrivateKey::random(&mut OsRng, Algorithm::Ed25519).map_err(std::io::Error::other)?;
    let mut key = key;
    key.set_comment("berth-workspace");
    let private = key
        .to_openssh(LineEnding::LF)
        .map_err(std::io::Error::other)?;
    let public = key
        .public_key()
        .to_openssh()
        .map_err(std::io::Error::other)?;
    let berth = seed.join(".berth");
    let ssh = berth.join("ssh");
    for d in [&berth, &ssh] {
        match fs::DirBuilder::new().mode(0o700).create(d) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => return Err(e),
            _ => {}
        }
    }
    let file = seed.join(HOST_KEY_REL);
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&file)?;
    f.write_all(private.as_bytes())?;
    let pub_file = file.with_extension("pub");
    fs::write(&pub_file, format!("{public}\n"))?;
    let own = Some(WORKSPACE_UID);
    for p in [&berth, &ssh, &file, &pub_file] {
        std::os::unix::fs::chown(p, own, own)?;
    }
    Ok(public)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn the_host_key_is_private_to_the_workspace_user() {
        if !super::super::tools::is_root() {
            eprintln!("skipped: chown to 1000 needs root");
            return;
        }
        let t = tempfile::tempdir().unwrap();
        let public = write_host_key(t.path()).unwrap();
        assert!(public.starts_with("ssh-ed25519 "), "{public}");
        let m = fs::metadata(t.path().join(HOST_KEY_REL)).unwrap();
        assert_eq!(m.permissions().mode() & 0o777, 0o600);
        assert_eq!(m.uid(), WORKSPACE_UID);
        let d = fs::metadata(t.path().join(".berth/ssh")).unwrap();
        assert_eq!(d.permissions().mode() & 0o777, 0o700);
        let pk = PrivateKey::read_openssh_file(&t.path().join(HOST_KEY_REL)).unwrap();
        assert_eq!(pk.public_key().to_openssh().unwrap(), public);
    }
}
