//! The in-memory engine's archive API over a small filesystem per container: a
//! tree of files, directories and symlinks with modes, owners and mtimes. It
//! behaves like the Docker engine where `berth cp` relies on it: an upload is
//! extracted into an existing directory as root with the owners the entries carry
//! (a `.` entry changes the directory itself), entries that arrived before a broken
//! upload stay, a directory is never replaced by a file or the other way round,
//! and a download names every entry after the path's last component.
use super::state::State;
use super::{MemoryEngine, Op};
use crate::domain::copy::{safe_relative, Kind};
use crate::engine::{EngineError, EngineResult, PathStat, TarDownload, TarUpload};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::Path;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    File(Vec<u8>),
    Dir,
    Symlink(String),
}

/// One path of a container's filesystem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub body: Body,
    pub mode: u32,
    pub uid: u64,
    pub gid: u64,
    pub mtime: u64,
}

impl Node {
    fn dir(mode: u32, uid: u64) -> Self {
        Self {
            body: Body::Dir,
            mode,
            uid,
            gid: uid,
            mtime: 0,
        }
    }

    fn kind(&self) -> Kind {
        match self.body {
            Body::File(_) => Kind::File,
            Body::Dir => Kind::Dir,
            Body::Symlink(_) => Kind::Symlink,
        }
    }
}

/// A container's filesystem by absolute path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemFs(pub BTreeMap<String, Node>);

impl Default for MemFs {
    /// What the workspace image has that copies touch: the home owned by uid 1000.
    fn default() -> Self {
        let mut m = BTreeMap::new();
        for (p, mode, uid) in [
            ("/", 0o755, 0),
            ("/etc", 0o755, 0),
            ("/home", 0o755, 0),
            ("/home/workspace", 0o750, 1000),
            ("/tmp", 0o1777, 0),
        ] {
            m.insert(p.to_string(), Node::dir(mode, uid));
        }
        Self(m)
    }
}

fn join(dir: &str, rel: &Path) -> String {
    let rel = rel.to_string_lossy();
    match (dir, rel.is_empty()) {
        (_, true) => dir.to_string(),
        ("/", false) => format!("/{rel}"),
        _ => format!("{dir}/{rel}"),
    }
}

fn parent(p: &str) -> &str {
    match p.rfind('/') {
        Some(0) => "/",
        Some(i) => &p[..i],
        None => "/",
    }
}

/// A path as the engine looks it up: `/.` and trailing slashes dropped.
fn normal(path: &str) -> String {
    let rel = safe_relative(Path::new(path.trim_start_matches('/'))).unwrap_or_default();
    join("/", &rel)
}

impl MemFs {
    pub fn stat(&self, path: &str) -> Option<PathStat> {
        let mut n = self.0.get(&normal(path))?;
        // A trailing slash follows a symlink, as the engine does.
        if let (Body::Symlink(t), true) = (&n.body, path.ends_with('/') && path.len() > 1) {
            let t = if t.starts_with('/') {
                t.clone()
            } else {
                join(parent(&normal(path)), Path::new(t))
            };
            n = self.0.get(&normal(&t))?;
        }
        Some(PathStat {
            kind: n.kind(),
            size: match &n.body {
                Body::File(b) => b.len() as u64,
                _ => 0,
            },
            mode: n.mode,
            link_target: match &n.body {
                Body::Symlink(t) => t.clone(),
                _ => String::new(),
            },
        })
    }

    /// Extracts entries of `tar` into `dir` until the archive ends or breaks.
    fn extract(&mut self, dir: &str, tar: &[u8]) -> Result<(), String> {
        let mut a = tar::Archive::new(tar);
        for entry in a.entries().map_err(|e| e.to_string())? {
            let mut e = entry.map_err(|e| e.to_string())?;
            let raw = e.path().map_err(|e| e.to_string())?.into_owned();
            let rel = safe_relative(&raw).map_err(|e| e.to_string())?;
            let path = join(dir, &rel);
            let h = e.header();
            let (mode, uid, gid) = (
                h.mode().map_err(|e| e.to_string())? & 0o7777,
                h.uid().map_err(|e| e.to_string())?,
                h.gid().map_err(|e| e.to_string())?,
            );
            let mtime = h.mtime().unwrap_or(0);
            let ty = h.entry_type();
            let body = if ty.is_dir() {
                Body::Dir
            } else if ty.is_symlink() {
                let t = e
                    .link_name()
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                Body::Symlink(t.to_string_lossy().into_owned())
            } else if ty.is_hard_link() {
                let t = e
                    .link_name()
                    .map_err(|e| e.to_string())?
                    .unwrap_or_default();
                let from = join(dir, &safe_relative(&t).map_err(|e| e.to_string())?);
                self.0
                    .get(&from)
                    .map(|n| n.body.clone())
                    .ok_or("a hard link to nothing")?
            } else if ty.is_file() {
                let mut b = Vec::new();
                e.read_to_end(&mut b).map_err(|e| e.to_string())?;
                Body::File(b)
            } else {
                continue;
            };
            let new_is_dir = body == Body::Dir;
            if let Some(old) = self.0.get(&path) {
                if (old.body == Body::Dir) != new_is_dir {
                    return Err(format!(
                        "cannot overwrite {path} with a different kind of file"
                    ));
                }
            }
            // Missing parents are made, owned by root, as the engine does.
            let mut p = parent(&path).to_string();
            while !self.0.contains_key(&p) {
                self.0.insert(p.clone(), Node::dir(0o755, 0));
                p = parent(&p).to_string();
            }
            self.0.insert(
                path,
                Node {
                    body,
                    mode,
                    uid,
                    gid,
                    mtime,
                },
            );
        }
        Ok(())
    }

    /// A tar of `path`, entries named after its last component.
    fn archive(&self, path: &str) -> std::io::Result<Vec<u8>> {
        let root = normal(path);
        let name = if root == "/" {
            "."
        } else {
            &root[parent(&root).len()..]
        };
        let name = name.trim_start_matches('/');
        let mut b = tar::Builder::new(Vec::new());
        let below = if root == "/" {
            "/".to_string()
        } else {
            format!("{root}/")
        };
        let all = self
            .0
            .iter()
            .filter(|(p, _)| **p == root || p.starts_with(&below));
        for (p, n) in all {
            let rel = if *p == root {
                name.to_string()
            } else {
                format!("{name}/{}", &p[below.len()..])
            };
            let mut h = tar::Header::new_gnu();
            h.set_mode(n.mode);
            h.set_uid(n.uid);
            h.set_gid(n.gid);
            h.set_mtime(n.mtime);
            match &n.body {
                Body::Dir => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_size(0);
                    b.append_data(&mut h, format!("{rel}/"), std::io::empty())?;
                }
                Body::Symlink(t) => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_size(0);
                    b.append_link(&mut h, &rel, t)?;
                }
                Body::File(data) => {
                    h.set_size(data.len() as u64);
                    b.append_data(&mut h, &rel, &data[..])?;
                }
            }
        }
        b.into_inner()
    }
}

fn no_path(container: &str, path: &str) -> EngineError {
    EngineError::NotFound {
        what: format!("Could not find the file {path} in container {container}"),
    }
}

fn with_fs<T>(
    s: &mut State,
    container: &str,
    f: impl FnOnce(&mut MemFs) -> EngineResult<T>,
) -> EngineResult<T> {
    let c = s
        .find_mut(container)
        .ok_or_else(|| State::not_found(container))?;
    f(&mut c.fs)
}

pub(super) fn stat(
    eng: &MemoryEngine,
    container: &str,
    path: &str,
) -> EngineResult<Option<PathStat>> {
    let mut s = eng.inner.lock();
    s.enter(Op::StatPath)?;
    with_fs(&mut s, container, |fs| Ok(fs.stat(path)))
}

pub(super) async fn upload(
    eng: &MemoryEngine,
    container: &str,
    dir: &str,
    mut tar: TarUpload,
) -> EngineResult<()> {
    eng.enter(Op::UploadArchive)?;
    let mut bytes = Vec::new();
    let mut broken = None;
    while let Some(chunk) = tar.next().await {
        match chunk {
            Ok(b) => bytes.extend_from_slice(&b),
            Err(e) => {
                broken = Some(e);
                break;
            }
        }
    }
    let done = eng.inner.update(|s| {
        let r = with_fs(s, container, |fs| match fs.stat(dir) {
            Some(st) if st.kind == Kind::Dir => {
                fs.extract(&normal(dir), &bytes).map_err(EngineError::Api)
            }
            Some(_) => Err(EngineError::Api(format!(
                "extraction point is not a directory: {dir}"
            ))),
            None => Err(no_path(container, dir)),
        });
        if let Some(name) = s.find(container).map(|c| c.name.clone()) {
            s.event(&name, "extract-to-dir");
        }
        r
    });
    match broken {
        Some(e) => Err(EngineError::Api(format!("the upload broke off: {e}"))),
        None => done,
    }
}

pub(super) fn download(eng: &MemoryEngine, container: &str, path: &str) -> TarDownload {
    let tar = {
        let mut s = eng.inner.lock();
        s.enter(Op::DownloadArchive).and_then(|_| {
            with_fs(&mut s, container, |fs| match fs.stat(path) {
                None => Err(no_path(container, path)),
                Some(_) => fs
                    .archive(path)
                    .map_err(|e| EngineError::Api(e.to_string())),
            })
        })
    };
    // In chunks, as the engine streams it.
    let chunks: Vec<EngineResult<bytes::Bytes>> = match tar {
        Ok(t) => t
            .chunks(64 * 1024)
            .map(|c| Ok(bytes::Bytes::copy_from_slice(c)))
            .collect(),
        Err(e) => vec![Err(e)],
    };
    futures_util::stream::iter(chunks).boxed()
}

impl MemoryEngine {
    /// A path of `container`'s filesystem (for tests to read).
    pub fn fs_node(&self, container: &str, path: &str) -> Option<Node> {
        let s = self.inner.lock();
        s.find(container)?.fs.0.get(&normal(path)).cloned()
    }

    /// Puts a file into `container`'s filesystem (parents must exist).
    pub fn put_fs_file(&self, container: &str, path: &str, data: &[u8], mode: u32, uid: u64) {
        self.inner.update(|s| {
            if let Some(c) = s.find_mut(container) {
                let node = Node {
                    body: Body::File(data.to_vec()),
                    mode,
                    uid,
                    gid: uid,
                    mtime: 1,
                };
                c.fs.0.insert(normal(path), node);
            }
        });
    }

    /// Every path under `dir` in `container`'s filesystem.
    pub fn fs_paths(&self, container: &str, dir: &str) -> Vec<String> {
        let s = self.inner.lock();
        let d = normal(dir);
        s.find(container)
            .map(|c| {
                c.fs.0
                    .keys()
                    .filter(|p| p.starts_with(&format!("{d}/")))
                    .cloned()
                    .collect()
            })
            .unwrap_or_default()
    }
}
