//! `berth cp` out of a workspace, the host's half: the engine's tar read from a
//! bounded channel on a blocking thread and extracted into a private staging
//! directory beside the destination, then moved into place in one go. A copy that
//! fails or is cancelled removes its staging directory and leaves the destination
//! as it was; an entry that would land outside it (`..`, an absolute path, a path
//! through a symlink) stops the copy.
use super::copy_pack::{Counts, Meter};
use crate::domain::copy::{below_root, under};
use crate::engine::EngineResult;
use bytes::Bytes;
use std::fs;
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};
use tokio::sync::mpsc;

/// A `Read` over chunks arriving from the engine.
pub struct ChanReader {
    rx: mpsc::Receiver<EngineResult<Bytes>>,
    cur: Bytes,
    /// Set by the sender once the engine sent everything: a channel closed without
    /// it is an interrupted copy, never the end of the archive.
    complete: Arc<AtomicBool>,
}

impl ChanReader {
    pub fn new(rx: mpsc::Receiver<EngineResult<Bytes>>, complete: Arc<AtomicBool>) -> Self {
        Self {
            rx,
            cur: Bytes::new(),
            complete,
        }
    }
}

impl Read for ChanReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        while self.cur.is_empty() {
            match self.rx.blocking_recv() {
                Some(Ok(b)) => self.cur = b,
                Some(Err(e)) => return Err(io::Error::other(e.to_string())),
                None if self.complete.load(Ordering::SeqCst) => return Ok(0),
                // Not `Interrupted`: std's readers retry that kind forever.
                None => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        "the copy was interrupted before the archive ended",
                    ))
                }
            }
        }
        let n = buf.len().min(self.cur.len());
        buf[..n].copy_from_slice(&self.cur[..n]);
        self.cur = self.cur.slice(n..);
        Ok(n)
    }
}

/// A staging directory beside the destination, removed when dropped.
pub struct Staging {
    pub path: PathBuf,
}

impl Staging {
    pub fn new(dir: &Path) -> io::Result<Self> {
        let nanos = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.subsec_nanos())
            .unwrap_or_default();
        let path = dir.join(format!(".berth-cp-{}-{nanos:x}", std::process::id()));
        fs::DirBuilder::new().mode(0o700).create(&path)?;
        Ok(Self { path })
    }
}

impl Drop for Staging {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// A directory from the archive: its mode and mtime are set once everything is in.
#[derive(Debug)]
pub struct DirMeta {
    pub rel: PathBuf,
    pub mode: u32,
    pub mtime: u64,
}

/// Extracted, not yet in place.
#[derive(Debug)]
pub struct Extracted {
    pub counts: Counts,
    pub dirs: Vec<DirMeta>,
}

fn unsafe_entry(entry: &Path, why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!(
            "the archive holds {}, which {why}; nothing outside the destination is written",
            entry.display()
        ),
    )
}

/// Makes sure every directory from `base` down to `rel`'s parent is a real
/// directory (made if missing), never a symlink the archive planted.
fn parents(base: &Path, rel: &Path, entry: &Path) -> io::Result<()> {
    let mut p = base.to_path_buf();
    let Some(parent) = rel.parent() else {
        return Ok(());
    };
    for c in parent.components() {
        p.push(c);
        match fs::symlink_metadata(&p) {
            Ok(m) if m.is_dir() => {}
            Ok(_) => return Err(unsafe_entry(entry, "goes through a link or a file")),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::DirBuilder::new().mode(0o700).create(&p)?;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

fn mtime(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(secs)
}

/// Extracts the archive of one path into `staging`: the path itself becomes
/// `staging/name`, or with `name` `None` only what is below it goes into `staging`.
pub fn extract(
    input: impl Read,
    staging: &Path,
    name: Option<&str>,
    meter: &Meter,
) -> io::Result<Extracted> {
    let mut a = tar::Archive::new(input);
    let mut out = Extracted {
        counts: Counts::default(),
        dirs: Vec::new(),
    };
    for entry in a.entries()? {
        let mut e = entry?;
        let raw = e.path()?.into_owned();
        let below = below_root(&raw)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
        let rel = match name {
            Some(n) => under(n, &below),
            None if below.as_os_str().is_empty() => continue,
            None => below,
        };
        parents(staging, &rel, &raw)?;
        let target = staging.join(&rel);
        let h = e.header();
        let (mode, secs, ty) = (h.mode()? & 0o777, h.mtime().unwrap_or(0), h.entry_type());
        // Whatever an earlier entry of the same name left (never a directory).
        if !ty.is_dir() {
            match fs::symlink_metadata(&target) {
                Ok(m) if m.is_dir() => return Err(unsafe_entry(&raw, "replaces a directory")),
                Ok(_) => fs::remove_file(&target)?,
                Err(_) => {}
            }
        }
        if ty.is_dir() {
            match fs::symlink_metadata(&target) {
                Ok(m) if m.is_dir() => {}
                Ok(_) => return Err(unsafe_entry(&raw, "replaces a file with a directory")),
                Err(_) => fs::DirBuilder::new().mode(0o700).create(&target)?,
            }
            out.counts.dirs += 1;
            out.dirs.push(DirMeta {
                rel,
                mode,
                mtime: secs,
            });
        } else if ty.is_symlink() {
            let link = e.link_name()?.unwrap_or_default().into_owned();
            std::os::unix::fs::symlink(&link, &target)?;
            out.counts.links += 1;
        } else if ty.is_hard_link() {
            let link = e.link_name()?.unwrap_or_default().into_owned();
            let from = below_root(&link)
                .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err.to_string()))?;
            let from = match name {
                Some(n) => under(n, &from),
                None => from,
            };
            parents(staging, &from, &raw)?;
            fs::hard_link(staging.join(from), &target)?;
            out.counts.links += 1;
        } else if ty.is_file() {
            let mut f = fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&target)?;
            let mut w = io::BufWriter::with_capacity(super::copy_pack::CHUNK, &mut f);
            let mut buf = vec![0u8; super::copy_pack::CHUNK];
            loop {
                let n = e.read(&mut buf)?;
                if n == 0 {
                    break;
                }
                w.write_all(&buf[..n])?;
                meter.add(n as u64);
                out.counts.bytes += n as u64;
            }
            w.flush()?;
            drop(w);
            f.set_permissions(fs::Permissions::from_mode(mode))?;
            f.set_modified(mtime(secs))?;
            out.counts.files += 1;
        } else {
            out.counts.skipped += 1;
        }
    }
    Ok(out)
}

/// Checks that moving `from` onto `to` replaces no directory with a file, nor a
/// file with a directory (nothing is moved until the whole tree is checked).
fn check_merge(from: &Path, to: &Path) -> io::Result<()> {
    let f = fs::symlink_metadata(from)?;
    match fs::symlink_metadata(to) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
        Ok(t) if t.is_dir() && f.is_dir() => {
            for c in fs::read_dir(from)? {
                let n = c?.file_name();
                check_merge(&from.join(&n), &to.join(&n))?;
            }
            Ok(())
        }
        Ok(t) if t.is_dir() || f.is_dir() => {
            Err(io::Error::new(
                io::ErrorKind::AlreadyExists,
                format!(
                "{} exists and is {}; move it away or copy somewhere else (nothing was changed)",
                to.display(),
                if t.is_dir() { "a directory" } else { "not a directory" }
            ),
            ))
        }
        Ok(_) => Ok(()),
    }
}

fn merge(from: &Path, to: &Path) -> io::Result<()> {
    match fs::symlink_metadata(to) {
        Ok(t) if t.is_dir() && fs::symlink_metadata(from)?.is_dir() => {
            for c in fs::read_dir(from)? {
                let n = c?.file_name();
                merge(&from.join(&n), &to.join(&n))?;
            }
            Ok(())
        }
        _ => fs::rename(from, to),
    }
}

/// Moves what is in `staging` into `dir` (merging into directories that exist),
/// then gives the archive's directories their modes and mtimes.
pub fn commit(staging: &Path, dir: &Path, dirs: &[DirMeta]) -> io::Result<()> {
    let mut top = Vec::new();
    for c in fs::read_dir(staging)? {
        top.push(c?.file_name());
    }
    for n in &top {
        check_merge(&staging.join(n), &dir.join(n))?;
    }
    for n in &top {
        merge(&staging.join(n), &dir.join(n))?;
    }
    for d in dirs {
        fs::set_permissions(dir.join(&d.rel), fs::Permissions::from_mode(d.mode))?;
    }
    // Deepest first: setting a directory's mtime never moves its parent's.
    let mut by_depth: Vec<&DirMeta> = dirs.iter().collect();
    by_depth.sort_by_key(|d| std::cmp::Reverse(d.rel.components().count()));
    for d in by_depth {
        // Best effort: a directory without read permission cannot be opened.
        if let Ok(f) = fs::File::open(dir.join(&d.rel)) {
            let _ = f.set_modified(mtime(d.mtime));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tar whose names are written raw (the tar crate refuses `..` itself).
    fn raw_tar(entries: &[(&str, tar::EntryType, &str)]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, ty, link) in entries {
            let mut h = tar::Header::new_gnu();
            h.set_entry_type(*ty);
            h.set_mode(0o644);
            let data: &[u8] = if ty.is_file() { b"x" } else { b"" };
            h.set_size(data.len() as u64);
            h.as_old_mut().name[..path.len()].copy_from_slice(path.as_bytes());
            h.as_old_mut().linkname[..link.len()].copy_from_slice(link.as_bytes());
            h.set_cksum();
            b.append(&h, data).unwrap();
        }
        b.into_inner().unwrap()
    }

    fn run(tar: Vec<u8>) -> (tempfile::TempDir, io::Result<Extracted>) {
        let dir = tempfile::tempdir().unwrap();
        let stage = dir.path().join("stage");
        fs::create_dir(&stage).unwrap();
        let r = extract(&tar[..], &stage, Some("x"), &Meter::default());
        (dir, r)
    }

    #[test]
    fn nothing_is_written_outside_the_destination() {
        use tar::EntryType as T;
        let (d, r) = run(raw_tar(&[
            ("x/", T::Directory, ""),
            ("x/../../evil", T::Regular, ""),
        ]));
        assert!(r.unwrap_err().to_string().contains("climbs out"));
        assert!(!d.path().join("evil").exists());
        // A symlink planted to lead outside, then a file through it.
        let out = tempfile::tempdir().unwrap();
        let target = out.path().to_str().unwrap();
        let (_d, r) = run(raw_tar(&[
            ("x/", T::Directory, ""),
            ("x/l", T::Symlink, target),
            ("x/l/f", T::Regular, ""),
        ]));
        assert!(r.unwrap_err().to_string().contains("goes through a link"));
        assert!(!out.path().join("f").exists());
        // A hard link to a file outside.
        let (_d, r) = run(raw_tar(&[("x/h", T::Link, "../../etc/passwd")]));
        assert!(r.is_err());
    }

    #[test]
    fn an_interrupted_stream_is_an_error_not_the_end() {
        let (tx, rx) = mpsc::channel(2);
        let complete = Arc::new(AtomicBool::new(false));
        let mut r = ChanReader::new(rx, complete.clone());
        tx.blocking_send(Ok(Bytes::from_static(b"ab"))).unwrap();
        drop(tx);
        let mut buf = [0u8; 8];
        assert_eq!(r.read(&mut buf).unwrap(), 2);
        assert!(r.read(&mut buf).is_err());
        complete.store(true, Ordering::SeqCst);
        assert_eq!(r.read(&mut buf).unwrap(), 0);
    }
}
