//! `berth cp` into a workspace, the host's half: a tar of a host path (or a tar read
//! from standard input, checked and re-owned) written on a blocking thread into a
//! bounded channel that the upload reads from. Never more than a few chunks of a
//! file are in memory.
use crate::domain::copy::{safe_relative, under};
use bytes::Bytes;
use std::fs::Metadata;
use std::io::{self, Read, Write};
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use tokio::sync::mpsc;

/// Bytes per chunk handed to the engine.
pub const CHUNK: usize = 64 * 1024;
/// Chunks in flight between the tar thread and the engine (memory: CHANNEL × CHUNK).
pub const CHANNEL: usize = 8;

/// Progress of a copy, shared between the thread doing it and whoever shows it.
#[derive(Debug, Default)]
pub struct Meter {
    /// File contents copied so far (the tar's bytes when a tar goes to stdout).
    pub bytes: AtomicU64,
    /// What the copy will move in all, when known (0: unknown).
    pub total: AtomicU64,
}

impl Meter {
    pub fn add(&self, n: u64) {
        self.bytes.fetch_add(n, Ordering::Relaxed);
    }
    pub fn bytes(&self) -> u64 {
        self.bytes.load(Ordering::Relaxed)
    }
    pub fn total(&self) -> Option<u64> {
        Some(self.total.load(Ordering::Relaxed)).filter(|t| *t > 0)
    }
}

/// What a copy moved.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Counts {
    pub files: u64,
    pub dirs: u64,
    pub links: u64,
    /// Sockets, pipes and devices: not copied.
    pub skipped: u64,
    /// Bytes of file contents.
    pub bytes: u64,
}

/// A `Write` that hands full chunks to the async side; fails once it hung up.
pub struct ChanWriter {
    tx: mpsc::Sender<io::Result<Bytes>>,
    buf: Vec<u8>,
}

impl ChanWriter {
    pub fn new(tx: mpsc::Sender<io::Result<Bytes>>) -> Self {
        Self {
            tx,
            buf: Vec::with_capacity(CHUNK),
        }
    }

    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
        self.tx
            .blocking_send(Ok(Bytes::from(chunk)))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the engine stopped reading"))
    }

    /// Ends the upload with an error, so the engine never takes a cut-off archive
    /// for a whole one.
    pub fn fail(self, e: &io::Error) {
        let _ = self
            .tx
            .blocking_send(Err(io::Error::new(e.kind(), e.to_string())));
    }
}

impl Write for ChanWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.send()?;
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

/// Counts what passes through into the meter.
struct Counting<'a, R> {
    inner: R,
    meter: &'a Meter,
}

impl<R: Read> Read for Counting<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.meter.add(n as u64);
        Ok(n)
    }
}

/// Owner given to every entry; `None` keeps the source's ids (`--archive`).
pub type Owner = Option<(u64, u64)>;

fn is_special(m: &Metadata) -> bool {
    !(m.is_file() || m.is_dir() || m.file_type().is_symlink())
}

/// Visits `root` (itself unless `skip_root`) and everything below it, parents
/// before children, children by name; a symlink is visited, never followed
/// (`root` is followed when `follow_root`).
pub fn walk(
    root: &Path,
    follow_root: bool,
    skip_root: bool,
    visit: &mut dyn FnMut(&Path, &Path, &Metadata) -> io::Result<()>,
) -> io::Result<()> {
    let meta = if follow_root {
        std::fs::metadata(root)
    } else {
        std::fs::symlink_metadata(root)
    }
    .map_err(|e| with_path(e, root))?;
    if !skip_root {
        visit(root, Path::new(""), &meta)?;
    }
    if !meta.is_dir() {
        return Ok(());
    }
    let mut stack: Vec<PathBuf> = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .map_err(|e| with_path(e, &dir))?
            .map(|e| e.map(|e| e.file_name()))
            .collect::<io::Result<_>>()
            .map_err(|e| with_path(e, &dir))?;
        names.sort();
        let mut subdirs = Vec::new();
        for n in names {
            let path = dir.join(&n);
            let m = std::fs::symlink_metadata(&path).map_err(|e| with_path(e, &path))?;
            let r = rel.join(&n);
            visit(&path, &r, &m)?;
            if m.is_dir() {
                subdirs.push(r);
            }
        }
        // Depth first, in name order.
        stack.extend(subdirs.into_iter().rev());
    }
    Ok(())
}

fn with_path(e: io::Error, p: &Path) -> io::Error {
    io::Error::new(e.kind(), format!("{}: {e}", p.display()))
}

/// What copying `root` moves (for the progress total); fails early on what cannot
/// be read, before anything reaches the workspace.
pub fn survey(root: &Path, follow_root: bool, skip_root: bool) -> io::Result<Counts> {
    let mut c = Counts::default();
    walk(root, follow_root, skip_root, &mut |path, _, m| {
        if m.is_file() {
            c.files += 1;
            c.bytes += m.len();
            // Opened and closed: an unreadable file fails here, not half-way.
            std::fs::File::open(path).map_err(|e| with_path(e, path))?;
        } else if m.is_dir() {
            c.dirs += 1;
        } else if m.file_type().is_symlink() {
            c.links += 1;
        } else {
            c.skipped += 1;
        }
        Ok(())
    })?;
    Ok(c)
}

/// The tar of `root` as the workspace gets it: entries named `name/...` (`name`
/// `None`: only what is below `root`, so the destination directory itself is never
/// touched), owned by `owner`, modes and mtimes kept, symlinks as links.
pub fn pack(
    root: &Path,
    name: Option<&str>,
    follow_root: bool,
    owner: Owner,
    out: impl Write,
    meter: &Meter,
) -> io::Result<Counts> {
    let mut b = tar::Builder::new(out);
    let mut c = Counts::default();
    walk(root, follow_root, name.is_none(), &mut |path, rel, m| {
        let entry = match name {
            Some(n) => under(n, rel),
            None => rel.to_path_buf(),
        };
        let mut h = tar::Header::new_gnu();
        h.set_metadata_in_mode(m, tar::HeaderMode::Complete);
        if let Some((uid, gid)) = owner {
            h.set_uid(uid);
            h.set_gid(gid);
        } else {
            h.set_uid(u64::from(m.uid()));
            h.set_gid(u64::from(m.gid()));
        }
        if m.is_dir() {
            c.dirs += 1;
            h.set_size(0);
            b.append_data(&mut h, &entry, io::empty())
        } else if m.file_type().is_symlink() {
            c.links += 1;
            h.set_size(0);
            let target = std::fs::read_link(path).map_err(|e| with_path(e, path))?;
            b.append_link(&mut h, &entry, target)
        } else if is_special(m) {
            c.skipped += 1;
            Ok(())
        } else {
            c.files += 1;
            c.bytes += m.len();
            let f = std::fs::File::open(path).map_err(|e| with_path(e, path))?;
            // Exactly the size in the header, even if the file changes meanwhile.
            let data = f.take(m.len()).chain(io::repeat(0)).take(m.len());
            b.append_data(&mut h, &entry, Counting { inner: data, meter })
        }
    })?;
    b.into_inner()?.flush()?;
    Ok(c)
}

/// A tar from standard input passed on entry by entry: paths checked (no `..`, no
/// absolute path), the `.` entry dropped (the destination directory keeps its own
/// owner and mode), entries re-owned by `owner`; pipes and devices left out.
pub fn repack(
    input: impl Read,
    owner: Owner,
    out: impl Write,
    meter: &Meter,
) -> io::Result<Counts> {
    let mut a = tar::Archive::new(input);
    let mut b = tar::Builder::new(out);
    let mut c = Counts::default();
    // Symlinks this archive made: nothing may be written through one (as root, the
    // engine would follow it anywhere in the workspace).
    let mut links: std::collections::HashSet<PathBuf> = Default::default();
    // Directories and regular files this archive made: every entry's parent must be
    // one of its directories (else the engine, as root, would follow whatever is at
    // that path in the workspace, e.g. a symlink the user planted), and a hard link
    // may only point at one of its files (else the engine would re-own the linked
    // file, wherever it is).
    let mut dirs: std::collections::HashSet<PathBuf> = Default::default();
    let mut files: std::collections::HashSet<PathBuf> = Default::default();
    let invalid = |e: crate::domain::copy::CopyError| {
        io::Error::new(io::ErrorKind::InvalidData, e.to_string())
    };
    let refuse = |msg: String| io::Error::new(io::ErrorKind::InvalidData, msg);
    for entry in a.entries()? {
        let mut e = entry?;
        let rel = safe_relative(&e.path()?).map_err(invalid)?;
        if rel.as_os_str().is_empty() {
            continue;
        }
        if rel.ancestors().skip(1).any(|a| links.contains(a)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "the archive writes {} through a symlink it made; nothing after it was copied",
                    rel.display()
                ),
            ));
        }
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            if !dirs.contains(parent) {
                return Err(refuse(format!(
                    "the archive holds {} but no entry for its directory {}; make the tar of the whole directory (`tar -cf - DIR`), so each directory comes before what is in it; nothing after it was copied",
                    rel.display(),
                    parent.display()
                )));
            }
        }
        let mut h = e.header().clone();
        if let Some((uid, gid)) = owner {
            h.set_uid(uid);
            h.set_gid(gid);
        }
        let ty = h.entry_type();
        if ty.is_dir() {
            c.dirs += 1;
            dirs.insert(rel.clone());
            b.append_data(&mut h, &rel, io::empty())?;
        } else if ty.is_symlink() || ty.is_hard_link() {
            let target = e.link_name()?.unwrap_or_default().into_owned();
            if ty.is_hard_link() {
                let t = safe_relative(&target).map_err(invalid)?;
                if !files.contains(&t) {
                    return Err(refuse(format!(
                        "the archive's hard link {} points at {}, which is not a file earlier in the archive; nothing after it was copied",
                        rel.display(),
                        target.display()
                    )));
                }
            } else {
                links.insert(rel.clone());
            }
            c.links += 1;
            b.append_link(&mut h, &rel, target)?;
        } else if ty.is_file() {
            c.files += 1;
            files.insert(rel.clone());
            // The size the entry really has (a PAX record may hold it, not the header).
            h.set_size(e.size());
            c.bytes += e.size();
            b.append_data(
                &mut h,
                &rel,
                Counting {
                    inner: &mut e,
                    meter,
                },
            )?;
        } else {
            c.skipped += 1;
        }
    }
    b.into_inner()?.flush()?;
    Ok(c)
}
