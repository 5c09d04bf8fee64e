//! The host side of a file target: checked before a create makes anything, made
//! (0600) when missing, and its owner (whom the forwarder runs as, so it can append
//! without any capability). Blocking file calls run on the blocking pool.
use anyhow::{anyhow, Result};
use std::path::{Path, PathBuf};

/// Refuses a file target that cannot work: its directory missing, or the path a
/// directory or something other than a regular file.
pub async fn check(path: &Path) -> Result<(), String> {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || check_blocking(&p))
        .await
        .map_err(|e| format!("checking the log file failed: {e}"))?
}

fn check_blocking(p: &Path) -> Result<(), String> {
    let dir = p.parent().unwrap_or(Path::new("/"));
    match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(format!(
                "--forward-logs: {} is not a directory, so the log file {} cannot be made there; give a file in an existing directory",
                dir.display(),
                p.display()
            ))
        }
        Err(_) => {
            return Err(format!(
                "--forward-logs: the directory {} does not exist; make it (`mkdir -p {}`) or give a file in an existing directory",
                dir.display(),
                dir.display()
            ))
        }
    }
    match std::fs::symlink_metadata(p) {
        Err(_) => Ok(()),
        Ok(m) if m.is_file() => Ok(()),
        Ok(m) if m.is_dir() => Err(format!(
            "--forward-logs: {} is a directory; give a file inside it, like {}/workspace.log",
            p.display(),
            p.display()
        )),
        Ok(_) => Err(format!(
            "--forward-logs: {} is not a regular file (a link, a device or a socket); give the path of a regular file",
            p.display()
        )),
    }
}

/// The file made (0600, this user's) if missing. Returns whether this call made it.
pub async fn ensure(path: &Path) -> Result<bool> {
    let p = path.to_path_buf();
    tokio::task::spawn_blocking(move || ensure_blocking(&p))
        .await
        .map_err(|e| anyhow!("making the log file failed: {e}"))?
}

fn ensure_blocking(p: &Path) -> Result<bool> {
    use std::os::unix::fs::OpenOptionsExt;
    check_blocking(p).map_err(|e| anyhow!(e))?;
    match std::fs::OpenOptions::new()
        .append(true)
        .create_new(true)
        .mode(0o600)
        .open(p)
    {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(anyhow!(
            "cannot make the log file {}: {e}; give a file you can write",
            p.display()
        )),
    }
}

/// `UID:GID` of the file's owner.
pub async fn owner(path: &Path) -> Result<String> {
    use std::os::unix::fs::MetadataExt;
    let m = tokio::fs::metadata(path)
        .await
        .map_err(|e| anyhow!("cannot read the log file {}: {e}", path.display()))?;
    Ok(format!("{}:{}", m.uid(), m.gid()))
}

/// Removes a file a failed create made, only if still empty, so no line is ever
/// lost (another workspace may have been pointed at it meanwhile). Whether it went.
pub async fn remove_if_empty(path: PathBuf) -> Result<bool> {
    if tokio::fs::metadata(&path).await.map(|m| m.len()).ok() == Some(0) {
        tokio::fs::remove_file(&path).await?;
        return Ok(true);
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_file_is_made_private_once_and_bad_places_are_refused() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("w.log");
        assert!(ensure(&f).await.unwrap());
        assert!(!ensure(&f).await.unwrap(), "made once");
        let mode = std::fs::metadata(&f).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        assert!(owner(&f).await.unwrap().contains(':'));
        let e = check(&dir.path().join("nope/w.log")).await.unwrap_err();
        assert!(
            e.contains("does not exist") && e.contains("mkdir -p"),
            "{e}"
        );
        let e = check(dir.path()).await.unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        let e = check(&f.join("x")).await.unwrap_err();
        assert!(e.contains("is not a directory"), "{e}");
        std::os::unix::fs::symlink(&f, dir.path().join("link")).unwrap();
        let e = check(&dir.path().join("link")).await.unwrap_err();
        assert!(e.contains("not a regular file"), "{e}");
        std::fs::write(&f, "kept\n").unwrap();
        assert!(!remove_if_empty(f.clone()).await.unwrap());
        assert!(f.exists(), "a file with lines is never removed");
        std::fs::write(&f, "").unwrap();
        assert!(remove_if_empty(f.clone()).await.unwrap());
        assert!(!f.exists());
    }
}
