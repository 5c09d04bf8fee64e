//! `berth cp`: files and trees between the host and a workspace through the
//! engine's archive API, streamed both ways (so it works on a stopped workspace
//! and never holds a file in memory). The tar work runs on blocking threads joined
//! to the engine by bounded channels (see `copy_pack` and `copy_unpack`).
//!
//! Into a workspace, entries are owned by the workspace user (uid/gid 1000) unless
//! `archive` keeps the host's ids; modes and mtimes are kept, symlinks stay links,
//! and the destination directory itself is never in the archive (its owner and
//! mode stay as they are). A copy that fails part-way removes what it created when
//! the workspace runs; out of a workspace, it never leaves anything half-made.
use super::copy_pack::{self, ChanWriter, CHANNEL};
pub use super::copy_pack::{Counts, Meter, Owner};
use super::copy_unpack::{self, ChanReader, Staging};
use super::{lifecycle, Ctx};
use crate::domain::copy::{place, workspace_path, Dest, Kind, PathArg, Placement};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{WorkspaceState, WORKSPACE_USER};
use crate::engine::{exec_collect, ExecRequest};
use anyhow::{anyhow, bail, Context, Result};
use futures_util::StreamExt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};

/// The workspace user's uid and gid (the image makes it 1000:1000).
pub const WORKSPACE_IDS: (u64, u64) = (1000, 1000);

/// Where a copy into a workspace reads from.
pub enum Source {
    Host(String),
    /// A tar (`-`: standard input).
    Tar(Box<dyn Read + Send>),
}

/// Where a copy out of a workspace goes.
pub enum Sink {
    Host(String),
    /// The raw tar (`-`: standard output).
    Tar(Box<dyn tokio::io::AsyncWrite + Send + Unpin>),
}

/// What a copy did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct CopySummary {
    /// "in" (host to workspace) or "out".
    pub direction: &'static str,
    /// The copy's top path (on the workspace's side for "in", the host's for "out").
    pub target: String,
    #[serde(flatten)]
    pub counts: Counts,
    pub seconds: f64,
}

/// Cancelled: the caller's flag went up.
async fn cancelled(mut cancel: watch::Receiver<bool>) {
    if cancel.wait_for(|c| *c).await.is_err() {
        // The sender went away without cancelling: never.
        std::future::pending::<()>().await;
    }
}

/// A workspace path's kind, following one symlink like docker cp does for a
/// destination; returns the path to use and what is there.
async fn dest_in(ctx: &Ctx, container: &str, dst: &PathArg) -> Result<(PathArg, Dest)> {
    let mut dst = dst.clone();
    let mut st = ctx.engine.stat_path(container, &dst.path).await?;
    if let Some(s) = st.as_ref().filter(|s| s.kind == Kind::Symlink) {
        let t = &s.link_target;
        let resolved = if t.starts_with('/') {
            t.clone()
        } else {
            format!("{}/{t}", dst.parent().trim_end_matches('/'))
        };
        dst.path = resolved;
        st = ctx.engine.stat_path(container, &dst.path).await?;
    }
    let at = match st.map(|s| s.kind) {
        Some(Kind::Dir) => Dest::Dir,
        Some(_) => Dest::NotDir,
        None => {
            let parent = ctx.engine.stat_path(container, &dst.parent()).await?;
            Dest::Missing {
                parent_dir: parent.is_some_and(|p| p.kind == Kind::Dir),
            }
        }
    };
    Ok((dst, at))
}

fn host_kind(m: &std::fs::Metadata) -> Kind {
    let t = m.file_type();
    if t.is_symlink() {
        Kind::Symlink
    } else if t.is_dir() {
        Kind::Dir
    } else if t.is_file() {
        Kind::File
    } else {
        Kind::Other
    }
}

/// Copies a host path (or a tar) into workspace `name` at `to` (absolute).
pub async fn copy_in(
    ctx: &Ctx,
    name: &WorkspaceName,
    src: Source,
    to: &str,
    owner: Owner,
    meter: &Arc<Meter>,
    cancel: watch::Receiver<bool>,
) -> Result<CopySummary> {
    let started = Instant::now();
    let w = lifecycle::find(ctx, name).await?;
    let container = w.container.clone();
    let to = workspace_path(to);
    let (dst, at) = dest_in(ctx, &container, &PathArg::new(&to)).await?;
    let (tx, rx) = mpsc::channel(CHANNEL);
    let (placement, producer) = match src {
        Source::Tar(input) => {
            if at != Dest::Dir {
                bail!("with - as the source, the destination must be an existing directory in workspace {name}; {} is not one", dst.path);
            }
            let placement = Placement {
                dir: dst.path.clone(),
                root: None,
                fresh: false,
            };
            let m = meter.clone();
            let job = tokio::task::spawn_blocking(move || {
                let mut out = ChanWriter::new(tx);
                let r = copy_pack::repack(input, owner, &mut out, &m);
                finish(out, r)
            });
            (placement, job)
        }
        Source::Host(raw) => {
            let src = PathArg::new(&raw);
            let follow = src.slash;
            let p = PathBuf::from(&src.path);
            let m = tokio::fs::symlink_metadata(&p).await.map_err(|e| {
                anyhow!("cannot read {} on the host ({e}); check the path", src.path)
            })?;
            let kind = if follow && m.file_type().is_symlink() {
                host_kind(&tokio::fs::metadata(&p).await?)
            } else {
                host_kind(&m)
            };
            let mut placement = place(&src, kind, &dst, at)?;
            if let (Dest::Dir, Some(_)) = (at, &placement.root) {
                placement.fresh = ctx
                    .engine
                    .stat_path(&container, &placement.target())
                    .await?
                    .is_none();
            }
            let root = placement.root.clone();
            let (p2, r2) = (p.clone(), root.is_none());
            let survey = tokio::task::spawn_blocking(move || copy_pack::survey(&p2, follow, r2))
                .await?
                .with_context(|| {
                    format!("cannot read {} on the host; nothing was copied", src.path)
                })?;
            meter.total.store(survey.bytes, Ordering::Relaxed);
            let m = meter.clone();
            let job = tokio::task::spawn_blocking(move || {
                let mut out = ChanWriter::new(tx);
                let r = copy_pack::pack(&p, root.as_deref(), follow, owner, &mut out, &m);
                finish(out, r)
            });
            (placement, job)
        }
    };
    // Whether any byte went to the engine (if none did, nothing can have changed).
    let sent = Arc::new(AtomicBool::new(false));
    let flag = sent.clone();
    let body = futures_util::stream::unfold(rx, move |mut rx| {
        let flag = flag.clone();
        async move {
            let c = rx.recv().await?;
            flag.store(true, Ordering::Relaxed);
            Some((c, rx))
        }
    })
    .boxed();
    let upload = ctx.engine.upload_archive(&container, &placement.dir, body);
    let outcome = tokio::select! {
        biased;
        _ = cancelled(cancel) => Err(anyhow!("cancelled")),
        r = async { tokio::join!(upload, producer) } => match r {
            (Ok(()), Ok(Ok(c))) => Ok(c),
            (Err(e), Ok(Err(p))) if p.kind() == std::io::ErrorKind::BrokenPipe => {
                Err(anyhow!("the engine refused the copy: {e}"))
            }
            (_, Ok(Err(e))) => Err(anyhow!("{e}")),
            (Err(e), _) => Err(anyhow!("the engine refused the copy: {e}")),
            (_, Err(e)) => Err(anyhow!("the copy stopped: {e}")),
        },
    };
    match outcome {
        Ok(counts) => Ok(CopySummary {
            direction: "in",
            target: placement.target(),
            counts,
            seconds: started.elapsed().as_secs_f64(),
        }),
        Err(e) if !sent.load(Ordering::Relaxed) => Err(anyhow!("{e:#}; nothing was copied")),
        Err(e) => Err(roll_back_in(ctx, name, &container, &placement, e).await),
    }
}

/// Ends the upload: flushed when the tar is whole, broken off when it is not.
fn finish(mut out: ChanWriter, r: std::io::Result<Counts>) -> std::io::Result<Counts> {
    use std::io::Write;
    match r.and_then(|c| out.flush().map(|_| c)) {
        Ok(c) => Ok(c),
        Err(e) => {
            out.fail(&e);
            Err(e)
        }
    }
}

/// After a failed copy in: removes the copy's top path when this copy created it
/// and the workspace runs; otherwise says what may be left.
pub(super) async fn roll_back_in(
    ctx: &Ctx,
    name: &WorkspaceName,
    container: &str,
    placement: &Placement,
    e: anyhow::Error,
) -> anyhow::Error {
    let target = placement.target();
    if !placement.fresh {
        return anyhow!(
            "{e:#}; files under {target} in workspace {name} may have been replaced in part"
        );
    }
    if ctx
        .engine
        .stat_path(container, &target)
        .await
        .ok()
        .flatten()
        .is_none()
    {
        return e;
    }
    let running = ctx
        .engine
        .inspect_workspace(container)
        .await
        .ok()
        .flatten()
        .is_some_and(|w| w.state == WorkspaceState::Running);
    if running {
        // As the workspace user: root inside holds no capabilities.
        let req = ExecRequest {
            cmd: [
                "sh",
                "-c",
                "chmod -R u+rwx -- \"$1\" 2>/dev/null; rm -rf -- \"$1\"",
                "sh",
                &target,
            ]
            .map(String::from)
            .to_vec(),
            user: Some(WORKSPACE_USER.into()),
            ..Default::default()
        };
        if let Ok((o, _, _)) = exec_collect(ctx.engine.as_ref(), container, req).await {
            if o.exit_code == 0 {
                return anyhow!("{e:#}; the part already copied ({target}) was removed");
            }
        }
    }
    anyhow!("{e:#}; {target} in workspace {name} holds part of the copy: remove it (`berth exec {name} -- rm -rf {target}`)")
}

/// Copies `from` (absolute) out of workspace `name` to the host (or a tar).
pub async fn copy_out(
    ctx: &Ctx,
    name: &WorkspaceName,
    from: &str,
    sink: Sink,
    meter: &Arc<Meter>,
    cancel: watch::Receiver<bool>,
) -> Result<CopySummary> {
    let started = Instant::now();
    let w = lifecycle::find(ctx, name).await?;
    let src = PathArg::new(&workspace_path(from));
    // A trailing slash asks the engine to follow a symlink to a directory.
    let asked = if src.slash {
        format!("{}/", src.path.trim_end_matches('/'))
    } else {
        src.path.clone()
    };
    let st = ctx.engine.stat_path(&w.container, &asked).await?.ok_or_else(|| {
        anyhow!("{} does not exist in workspace {name}; check the path (`berth exec {name} -- ls -la {}`)", src.path, src.parent())
    })?;
    if st.kind == Kind::File {
        meter.total.store(st.size, Ordering::Relaxed);
    }
    let download = ctx.engine.download_archive(&w.container, &asked);
    let raw = match sink {
        Sink::Tar(out) => return to_tar(download, out, meter, cancel, started).await,
        Sink::Host(raw) => raw,
    };
    let dst = PathArg::new(&raw);
    let at = dest_out(&dst).await;
    let placement = place(&src, st.kind, &dst, at)?;
    let dir = PathBuf::from(&placement.dir);
    let staging = {
        let d = dir.clone();
        tokio::task::spawn_blocking(move || Staging::new(&d))
            .await?
            .with_context(|| format!("cannot write in {} on the host", dir.display()))?
    };
    let (tx, rx) = mpsc::channel(CHANNEL);
    let complete = Arc::new(AtomicBool::new(false));
    let (root, stage, m) = (placement.root.clone(), staging.path.clone(), meter.clone());
    let reader = ChanReader::new(rx, complete.clone());
    let job = tokio::task::spawn_blocking(move || {
        let r = copy_unpack::extract(reader, &stage, root.as_deref(), &m)?;
        copy_unpack::commit(&stage, &dir, &r.dirs)?;
        std::io::Result::Ok(r.counts)
    });
    let pump = pump(download, tx, complete);
    let pumped = tokio::select! {
        biased;
        _ = cancelled(cancel) => false,
        _ = pump => true,
    };
    // The channel is closed now: the extractor finishes (or stops) soon.
    let extracted = job.await;
    // Removing the staging directory (empty after a commit) is blocking work.
    tokio::task::spawn_blocking(move || drop(staging))
        .await
        .ok();
    let failed = |e: String| {
        anyhow!(
            "copying {} from workspace {name} failed: {e}; {} was left as it was",
            src.path,
            dst.path
        )
    };
    let counts = match (pumped, extracted) {
        (false, _) => return Err(failed("cancelled".into())),
        (true, Ok(Ok(c))) => c,
        (true, Ok(Err(e))) => return Err(failed(e.to_string())),
        (true, Err(e)) => return Err(failed(e.to_string())),
    };
    Ok(CopySummary {
        direction: "out",
        target: Path::new(&placement.target()).display().to_string(),
        counts,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// Feeds the download to the extractor; marks it complete only when the engine
/// sent all of it (a closed channel without that is an interrupted copy).
async fn pump(
    mut download: crate::engine::TarDownload,
    tx: mpsc::Sender<crate::engine::EngineResult<bytes::Bytes>>,
    complete: Arc<AtomicBool>,
) {
    while let Some(chunk) = download.next().await {
        let failed = chunk.is_err();
        if tx.send(chunk).await.is_err() || failed {
            return; // the extractor stopped, or was told why
        }
    }
    complete.store(true, Ordering::SeqCst);
}

/// The engine's tar, as it is, to `out` (`-`: standard output).
async fn to_tar(
    mut download: crate::engine::TarDownload,
    mut out: Box<dyn tokio::io::AsyncWrite + Send + Unpin>,
    meter: &Arc<Meter>,
    cancel: watch::Receiver<bool>,
    started: Instant,
) -> Result<CopySummary> {
    let mut n = 0u64;
    let copy = async {
        while let Some(chunk) = download.next().await {
            let b = chunk?;
            out.write_all(&b).await?;
            n += b.len() as u64;
            meter.add(b.len() as u64);
        }
        out.flush().await?;
        anyhow::Ok(())
    };
    tokio::select! {
        biased;
        _ = cancelled(cancel) => bail!("cancelled"),
        r = copy => r?,
    }
    Ok(CopySummary {
        direction: "out",
        target: "-".into(),
        counts: Counts {
            bytes: n,
            ..Counts::default()
        },
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// What is at a host destination (symlinks followed).
async fn dest_out(dst: &PathArg) -> Dest {
    match tokio::fs::metadata(&dst.path).await {
        Ok(m) if m.is_dir() => Dest::Dir,
        Ok(_) => Dest::NotDir,
        Err(_) => Dest::Missing {
            parent_dir: tokio::fs::metadata(dst.parent())
                .await
                .is_ok_and(|m| m.is_dir()),
        },
    }
}
