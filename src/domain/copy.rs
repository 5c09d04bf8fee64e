//! `berth cp`: what the two arguments mean and where a copy lands, following
//! `docker cp`'s rules, as pure functions (the backend stats the paths and acts).
//!
//! - One side is `NAME:PATH` (a workspace path; relative to /home/workspace), the
//!   other a host path, or `-` for a tar on standard input or output.
//! - A file onto a missing path creates it; onto a file overwrites it; into a
//!   directory lands as `DIR/BASENAME`.
//! - A directory onto a missing path creates it with the source's contents; into an
//!   existing directory lands as `DIR/BASENAME`, or, with `SRC/.`, merges its
//!   contents into `DIR` (whose own owner and mode are never touched).
use super::naming::WorkspaceName;
use super::workspace::WORKSPACE_HOME;
use std::path::{Component, Path, PathBuf};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CopyError {
    #[error("{0}")]
    Usage(String),
    #[error("{0}")]
    Place(String),
    #[error(
        "the archive holds {entry:?}, which {why}; nothing outside the destination is written"
    )]
    UnsafeEntry { entry: String, why: &'static str },
}

/// A host side of the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Local {
    Path(String),
    /// `-`: a tar on standard input (as source) or output (as destination).
    Stdio,
}

/// What `berth cp SRC DST` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CopyRequest {
    /// Host to workspace; `to` is an absolute path inside it.
    In {
        from: Local,
        name: WorkspaceName,
        to: String,
    },
    /// Workspace to host; `from` is an absolute path inside it.
    Out {
        name: WorkspaceName,
        from: String,
        to: Local,
    },
}

enum Arg {
    Local(Local),
    Workspace(WorkspaceName, String),
}

fn classify(raw: &str) -> Result<Arg, CopyError> {
    if raw == "-" {
        return Ok(Arg::Local(Local::Stdio));
    }
    if raw.is_empty() {
        return Err(CopyError::Usage(
            "an empty path; give a host path, NAME:PATH or -".into(),
        ));
    }
    // docker cp's rule: a colon before any slash names a container; a path that
    // starts with / or . is always the host's.
    if !raw.starts_with('/') && !raw.starts_with('.') {
        if let Some((name, path)) = raw.split_once(':') {
            if !name.contains('/') {
                let name = WorkspaceName::parse(name).map_err(|e| {
                    CopyError::Usage(format!(
                        "{raw:?}: {e} (for a host path with a colon, write ./{raw})"
                    ))
                })?;
                return Ok(Arg::Workspace(name, workspace_path(path)));
            }
        }
    }
    Ok(Arg::Local(Local::Path(raw.to_string())))
}

/// A path inside the workspace, absolute: relative ones start at the home.
/// A trailing `/` or `/.` is kept (it means something to [`place`]).
pub fn workspace_path(path: &str) -> String {
    if path.is_empty() {
        return WORKSPACE_HOME.to_string();
    }
    if path.starts_with('/') {
        path.to_string()
    } else {
        format!("{WORKSPACE_HOME}/{path}")
    }
}

/// Reads `SRC DST`: exactly one side is a workspace.
pub fn parse(src: &str, dst: &str) -> Result<CopyRequest, CopyError> {
    match (classify(src)?, classify(dst)?) {
        (Arg::Local(Local::Stdio), Arg::Local(Local::Stdio)) => Err(CopyError::Usage(
            "SRC and DST cannot both be -; one of them is NAME:PATH".into(),
        )),
        (Arg::Local(from), Arg::Workspace(name, to)) => Ok(CopyRequest::In { from, name, to }),
        (Arg::Workspace(name, from), Arg::Local(to)) => Ok(CopyRequest::Out { name, from, to }),
        (Arg::Workspace(..), Arg::Workspace(..)) => Err(CopyError::Usage(
            "both SRC and DST are workspace paths; copy to the host first, then into the other workspace".into(),
        )),
        (Arg::Local(_), Arg::Local(_)) => Err(CopyError::Usage(format!(
            "neither {src:?} nor {dst:?} names a workspace; write one side as NAME:PATH (e.g. `berth cp ./notes.txt myws:notes.txt`)"
        ))),
    }
}

/// A path as the user wrote it, with the trailing markers that matter for [`place`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathArg {
    /// The path without a trailing `/` or `/.` (`/` stays `/`).
    pub path: String,
    /// Ends with `/.` (or is `.`): a directory's contents, not the directory.
    pub contents: bool,
    /// Ends with `/` (or `/.`): must be a directory.
    pub slash: bool,
}

impl PathArg {
    pub fn new(raw: &str) -> Self {
        let contents = raw == "." || raw.ends_with("/.");
        let mut path = raw.to_string();
        if contents {
            path.truncate(path.len() - 1);
            if path.is_empty() {
                path.push('.');
            }
        }
        let slash = contents || (path.len() > 1 && path.ends_with('/'));
        while path.len() > 1 && path.ends_with('/') {
            path.pop();
        }
        Self {
            path,
            contents,
            slash,
        }
    }

    /// The last component (what a copy into a directory is named), if it has one.
    pub fn basename(&self) -> Option<String> {
        match Path::new(&self.path).components().next_back()? {
            Component::Normal(n) => n.to_str().map(str::to_string),
            _ => None,
        }
    }

    /// The directory that holds it (`.` for a bare relative name).
    pub fn parent(&self) -> String {
        match Path::new(&self.path).parent() {
            Some(p) if p.as_os_str().is_empty() => ".".into(),
            Some(p) => p.to_string_lossy().into_owned(),
            None => self.path.clone(),
        }
    }
}

/// What a path is (a symlink is not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    File,
    Dir,
    Symlink,
    Other,
}

/// What is at the destination (a symlink there already followed by the caller).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// Nothing; `parent_dir`: its parent is an existing directory.
    Missing {
        parent_dir: bool,
    },
    NotDir,
    Dir,
}

/// Where the copy goes: the source's root becomes `dir/root`, or with `root: None`
/// only its contents go into `dir` (the directory itself is left as it is).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placement {
    /// An existing directory the archive is extracted into.
    pub dir: String,
    pub root: Option<String>,
    /// `dir/root` did not exist before the copy (so a failed copy can remove it).
    pub fresh: bool,
}

impl Placement {
    /// The copy's top path, for messages and rollback.
    pub fn target(&self) -> String {
        match &self.root {
            Some(r) if self.dir == "/" => format!("/{r}"),
            Some(r) if self.dir == "." => r.clone(),
            Some(r) => format!("{}/{r}", self.dir),
            None => self.dir.clone(),
        }
    }
}

/// docker cp's rules: where `src` (a `kind`) lands given what is at `dst`.
pub fn place(src: &PathArg, kind: Kind, dst: &PathArg, at: Dest) -> Result<Placement, CopyError> {
    let err = |m: String| Err(CopyError::Place(m));
    if kind != Kind::Dir && src.slash {
        return err(format!(
            "{} is not a directory; drop the trailing / to copy it",
            src.path
        ));
    }
    let src_name = || {
        src.basename().ok_or_else(|| {
            CopyError::Place(format!(
                "{:?} has no name to copy it under; name the directory (e.g. ../NAME), or write {}/. to copy its contents",
                src.path, src.path
            ))
        })
    };
    match at {
        Dest::Missing { parent_dir } => {
            if dst.slash && kind != Kind::Dir {
                return err(format!(
                    "the directory {} does not exist; create it first, or drop the trailing / to copy to a file of that name",
                    dst.path
                ));
            }
            if !parent_dir {
                return err(format!(
                    "the directory {} does not exist; create it first (cp does not create parent directories)",
                    dst.parent()
                ));
            }
            let root = dst
                .basename()
                .ok_or_else(|| CopyError::Place(format!("{:?} cannot be created", dst.path)))?;
            Ok(Placement {
                dir: dst.parent(),
                root: Some(root),
                fresh: true,
            })
        }
        Dest::NotDir => {
            if kind == Kind::Dir {
                return err(format!(
                    "cannot copy a directory onto the file {}; name a directory or a new path",
                    dst.path
                ));
            }
            if dst.slash {
                return err(format!(
                    "{} is not a directory; drop the trailing / to overwrite it",
                    dst.path
                ));
            }
            let root = dst
                .basename()
                .ok_or_else(|| CopyError::Place(format!("{:?} cannot be overwritten", dst.path)))?;
            Ok(Placement {
                dir: dst.parent(),
                root: Some(root),
                fresh: false,
            })
        }
        Dest::Dir if src.contents => Ok(Placement {
            dir: dst.path.clone(),
            root: None,
            fresh: false,
        }),
        Dest::Dir => Ok(Placement {
            dir: dst.path.clone(),
            root: Some(src_name()?),
            // Not known from here: the caller looks whether DIR/NAME exists.
            fresh: false,
        }),
    }
}

/// A relative path from an archive made safe to join under a directory: no
/// absolute path, no `..`; `.` components dropped (the empty path is the root).
pub fn safe_relative(entry: &Path) -> Result<PathBuf, CopyError> {
    let mut out = PathBuf::new();
    for c in entry.components() {
        match c {
            Component::Normal(n) => out.push(n),
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(CopyError::UnsafeEntry {
                    entry: entry.display().to_string(),
                    why: "climbs out with ..",
                })
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(CopyError::UnsafeEntry {
                    entry: entry.display().to_string(),
                    why: "is an absolute path",
                })
            }
        }
    }
    Ok(out)
}

/// An entry of an archive of one path (the engine names every entry after the
/// path's last component: `x`, `x/a`, ...): the part below that first component.
pub fn below_root(entry: &Path) -> Result<PathBuf, CopyError> {
    let rel = safe_relative(entry)?;
    Ok(rel.components().skip(1).collect())
}

/// `name/rel`, or `name` itself for the empty `rel` (never `name/`).
pub fn under(name: &str, rel: &Path) -> PathBuf {
    if rel.as_os_str().is_empty() {
        PathBuf::from(name)
    } else {
        Path::new(name).join(rel)
    }
}

/// A byte count for people: `512 B`, `1.5 KiB`, `200.0 MiB`.
pub fn human_bytes(n: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if n < 1024 {
        return format!("{n} B");
    }
    let mut v = n as f64 / 1024.0;
    let mut u = 0;
    while v >= 1024.0 && u < UNITS.len() - 1 {
        v /= 1024.0;
        u += 1;
    }
    format!("{v:.1} {}", UNITS[u])
}

#[cfg(test)]
#[path = "copy_tests.rs"]
mod tests;
