//! Files only the user may read: berth's state directory is 0700 and what it writes
//! there 0600 (pinned host keys, the store, logs, berth's own SSH identity).
//! Blocking I/O: call from a blocking thread (spawn_blocking or the store's actor).
use anyhow::{Context, Result};
use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

pub const DIR_MODE: u32 = 0o700;
pub const FILE_MODE: u32 = 0o600;

/// Creates `dir` (and missing parents) as 0700 and makes `dir` itself 0700 if it was
/// made more open by an older berth.
pub fn ensure_dir(dir: &Path) -> Result<()> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(DIR_MODE)
        .create(dir)
        .with_context(|| format!("cannot create directory {}", dir.display()))?;
    let meta = std::fs::metadata(dir).with_context(|| format!("cannot read {}", dir.display()))?;
    if meta.permissions().mode() & 0o777 != DIR_MODE {
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(DIR_MODE))
            .with_context(|| format!("cannot make {} private (chmod 700)", dir.display()))?;
    }
    Ok(())
}

/// Makes an existing file 0600 (no-op when it does not exist).
pub fn restrict(file: &Path) -> Result<()> {
    match std::fs::metadata(file) {
        Ok(m) if m.permissions().mode() & 0o777 != FILE_MODE => {
            std::fs::set_permissions(file, std::fs::Permissions::from_mode(FILE_MODE))
                .with_context(|| format!("cannot make {} private (chmod 600)", file.display()))
        }
        _ => Ok(()),
    }
}

/// Opens `file` for appending, creating it 0600 (and fixing an older, wider mode).
pub fn open_append(file: &Path) -> Result<std::fs::File> {
    if let Some(dir) = file.parent() {
        ensure_dir(dir)?;
    }
    let f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(FILE_MODE)
        .open(file)
        .with_context(|| format!("cannot open {}", file.display()))?;
    restrict(file)?;
    Ok(f)
}

/// Writes `bytes` to `path` through a temporary file and a rename, with `mode`.
/// The directory is created private when missing.
pub fn write_atomic(path: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let dir = path.parent().context("path has no parent directory")?;
    if !dir.exists() {
        ensure_dir(dir)?;
    }
    let tmp = dir.join(format!(
        ".{}.tmp{}",
        path.file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_default(),
        unique()
    ));
    {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .write(true)
            .truncate(true)
            .mode(mode)
            .open(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path).with_context(|| format!("cannot replace {}", path.display()))?;
    Ok(())
}

/// A suffix no other writer (process or thread) uses at the same time.
pub fn unique() -> String {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    format!(
        "{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    )
}

/// Writes a new private file (0600) atomically.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, bytes, FILE_MODE)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn dirs_and_files_are_private_and_old_modes_are_fixed() {
        let d = tempfile::tempdir().unwrap();
        let state = d.path().join("a/b/berth");
        ensure_dir(&state).unwrap();
        assert_eq!(mode(&state), 0o700);
        std::fs::set_permissions(&state, std::fs::Permissions::from_mode(0o755)).unwrap();
        ensure_dir(&state).unwrap();
        assert_eq!(mode(&state), 0o700);

        let f = state.join("x");
        write_private(&f, b"secret").unwrap();
        assert_eq!(mode(&f), 0o600);
        assert_eq!(std::fs::read(&f).unwrap(), b"secret");

        let log = state.join("berth.log");
        std::fs::write(&log, "old").unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        drop(open_append(&log).unwrap());
        assert_eq!(mode(&log), 0o600);
        let fresh = state.join("new.log");
        drop(open_append(&fresh).unwrap());
        assert_eq!(mode(&fresh), 0o600);
    }
}
