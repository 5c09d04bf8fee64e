//! The jobs lock: one process per state directory runs the acting jobs. A file
//! (`<state dir>/jobs.lock`) held with flock, so the kernel releases it when its
//! holder dies however it dies, and in it the holder's record (kind, pid, start
//! time, since when) so others can say who holds it. Blocking calls here run in
//! `spawn_blocking`; the `_blocking` functions are for blocking threads only.
use crate::store::Creator;
use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use std::fs::{File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::{FileExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What kind of process holds the lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Daemon,
    Tui,
    /// `berth daemon --once` (cron).
    Once,
}

impl Kind {
    pub fn word(self) -> &'static str {
        match self {
            Kind::Daemon => "daemon",
            Kind::Tui => "TUI",
            Kind::Once => "berth daemon --once",
        }
    }
}

/// The holder's record, in the lock file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Owner {
    pub kind: Kind,
    pub pid: u32,
    /// The kernel's start time of `pid` (see [`Creator`]).
    pub start: u64,
    /// Since when it holds the lock (Unix seconds).
    pub since: i64,
}

impl Owner {
    /// This process, as a holder of `kind` since `since`.
    pub fn me(kind: Kind, since: i64) -> Self {
        let c = Creator::current();
        Self {
            kind,
            pid: c.pid,
            start: c.start,
            since,
        }
    }

    /// "daemon pid 4121".
    pub fn describe(&self) -> String {
        format!("{} pid {}", self.kind.word(), self.pid)
    }

    /// Still running (blocking: reads /proc).
    pub fn alive_blocking(&self) -> bool {
        Creator {
            pid: self.pid,
            start: self.start,
        }
        .maybe_alive()
    }
}

/// Who holds the lock, as seen from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Holder {
    /// Nobody: the acting jobs run nowhere.
    Nobody,
    /// A process holds it; its record, when it could be read (a holder that has
    /// just taken the lock may not have written it yet).
    Held(Option<Owner>),
}

impl Holder {
    /// "daemon pid 4121", "none", or "another berth process".
    pub fn describe(&self) -> String {
        match self {
            Holder::Nobody => "none".into(),
            Holder::Held(Some(o)) => o.describe(),
            Holder::Held(None) => "another berth process".into(),
        }
    }
}

/// The lock, held: released when dropped (or by the kernel when the process dies).
#[derive(Debug)]
pub struct JobsLock {
    file: File,
    pub owner: Owner,
    path: PathBuf,
}

/// What an attempt to take the lock gave.
#[derive(Debug)]
pub enum Attempt {
    Held(JobsLock),
    Taken(Holder),
}

/// The lock file of a state directory.
pub fn path(state_dir: &Path) -> PathBuf {
    state_dir.join("jobs.lock")
}

fn open(path: &Path) -> Result<File> {
    if let Some(dir) = path.parent() {
        crate::private_fs::ensure_dir(dir)
            .with_context(|| format!("cannot create berth's state directory {}", dir.display()))?;
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("cannot open the jobs lock {}", path.display()))
}

/// The record in an open lock file (None: empty or unreadable).
fn read_owner(file: &mut File) -> Option<Owner> {
    let mut text = String::new();
    file.read_to_string(&mut text).ok()?;
    serde_json::from_str(text.trim_end_matches('\0').trim()).ok()
}

/// Tries to take the lock at `path` for `owner` without waiting. Blocking.
pub fn try_acquire_blocking(path: &Path, owner: Owner) -> Result<Attempt> {
    let mut file = open(path)?;
    match file.try_lock() {
        Ok(()) => {
            // Written from the start, then cut to its length: a reader sees a whole
            // record or an empty file, never a mix with a longer old one.
            let text = serde_json::to_string(&owner)?;
            file.write_all_at(text.as_bytes(), 0)
                .and_then(|()| file.set_len(text.len() as u64))
                .with_context(|| format!("cannot write the jobs lock {}", path.display()))?;
            Ok(Attempt::Held(JobsLock {
                file,
                owner,
                path: path.to_path_buf(),
            }))
        }
        Err(std::fs::TryLockError::WouldBlock) => {
            Ok(Attempt::Taken(Holder::Held(read_owner(&mut file))))
        }
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// Who holds the lock at `path`, without keeping it. Blocking.
///
/// It takes the lock for an instant when it is free (that is how a free lock is
/// told from a held one), so a process trying at that instant tries again later.
pub fn peek_blocking(path: &Path) -> Result<Holder> {
    if !path.exists() {
        return Ok(Holder::Nobody);
    }
    let mut file = open(path)?;
    match file.try_lock() {
        Ok(()) => Ok(Holder::Nobody),
        Err(std::fs::TryLockError::WouldBlock) => Ok(Holder::Held(read_owner(&mut file))),
        Err(std::fs::TryLockError::Error(e)) => {
            Err(e).with_context(|| format!("cannot lock {}", path.display()))
        }
    }
}

/// [`try_acquire_blocking`] on a blocking thread, for this process as `kind`.
pub async fn try_acquire(state_dir: &Path, kind: Kind) -> Result<Attempt> {
    let path = path(state_dir);
    let owner = Owner::me(kind, chrono::Utc::now().timestamp());
    tokio::task::spawn_blocking(move || try_acquire_blocking(&path, owner)).await?
}

/// [`peek_blocking`] on a blocking thread.
pub async fn peek(state_dir: &Path) -> Result<Holder> {
    let path = path(state_dir);
    tokio::task::spawn_blocking(move || peek_blocking(&path)).await?
}

impl JobsLock {
    /// Clears the record, then lets the lock go (on a blocking thread).
    pub async fn release(self) {
        let _ = tokio::task::spawn_blocking(move || self.release_blocking()).await;
    }

    /// Clears the record, then lets the lock go. Blocking.
    pub fn release_blocking(self) {
        if let Err(e) = self.file.set_len(0) {
            tracing::debug!("cannot clear {}: {e}", self.path.display());
        }
        drop(self);
    }
}
