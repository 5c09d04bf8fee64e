//! Looks for unsaved work in a workspace's home before the cleanup job deletes it
//! (`domain::cleanup_work` says what counts). A running workspace: one exec as the
//! workspace user. A stopped one: a short-lived reader container on its volume
//! (read-only, no network, no capabilities, labelled as a helper, removed on every
//! path, and removing itself after a while if berth is killed), so the workspace
//! is never started (starting would run its services and count as a use).
//!
//! Reference time: the provisioning marker's modification time (written as the
//! create's last step; read through the archive API, which works on a stopped
//! container), else the container's creation time.
use super::Ctx;
use crate::domain::cleanup_work::{check_command, WorkFound};
use crate::domain::labels;
use crate::domain::provision::MARKER_PATH;
use crate::domain::snapshot::{SnapshotName, RESTORED_FROM, ROLE_HELPER};
use crate::domain::workspace::{Workspace, WorkspaceState, WORKSPACE_HOME};
use crate::engine::{exec_collect, Engine, ExecRequest, VolumeReader};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;

/// On a reader: the workspace whose home it reads.
pub const READER_LABEL: &str = "dev.berth.gc-check";
/// How long the check may run.
const CHECK_TIMEOUT: Duration = Duration::from_secs(120);
/// A reader left behind removes itself after this.
const READER_LIFETIME: Duration = Duration::from_secs(300);
/// The workspace user, by number (the image's `workspace`).
const USER_IDS: &str = "1000:1000";
/// The marker's tar is tiny; more is not a marker.
const MARKER_TAR_LIMIT: usize = 64 << 10;

/// The reader container's name for workspace volume `volume`.
pub fn reader_name(volume: &str) -> String {
    format!("berth-gc-check-{volume}")
}

/// When provisioning finished: the end of the marker's mtime second (a tar header
/// holds whole seconds, so the create's own last files, e.g. authorized_keys,
/// written in that second before the marker, look newer than it), else the
/// container's creation.
pub async fn reference_time(ctx: &Ctx, ws: &Workspace) -> i64 {
    let mut tar = Vec::new();
    let mut s = ctx.engine.download_archive(&ws.container, MARKER_PATH);
    while let Some(chunk) = s.next().await {
        match chunk {
            Ok(b) if tar.len() + b.len() <= MARKER_TAR_LIMIT => tar.extend_from_slice(&b),
            _ => return ws.created,
        }
    }
    marker_mtime(&tar).map_or(ws.created, |m| m + 1)
}

fn marker_mtime(tar_bytes: &[u8]) -> Option<i64> {
    let mut a = tar::Archive::new(tar_bytes);
    let entry = a.entries().ok()?.next()?.ok()?;
    let m = entry.header().mtime().ok()?;
    i64::try_from(m).ok().filter(|m| *m > 0)
}

/// What the check found in `ws`'s home. A check that could not run is reported as
/// a problem, which counts as work: nothing is deleted on a guess.
pub async fn check(ctx: &Ctx, ws: &Workspace) -> WorkFound {
    let reference = reference_time(ctx, ws).await;
    let cmd = check_command(WORKSPACE_HOME, reference);
    let out = match ws.state {
        WorkspaceState::Running => run(ctx.engine.as_ref(), &ws.container, cmd).await,
        _ => in_reader(ctx, ws, cmd).await,
    };
    let mut found = match out {
        Ok(text) => WorkFound::parse(&text),
        Err(e) => WorkFound {
            problems: vec![format!("the check could not run: {e}")],
            ..Default::default()
        },
    };
    found.problems.extend(unbacked_copy(ctx, ws).await);
    found
}

/// A home copied from a snapshot (a restore, a fork) holds files older than its
/// create that the check cannot tell from the workspace's own: safe to leave out
/// only while that snapshot is still there and complete.
async fn unbacked_copy(ctx: &Ctx, ws: &Workspace) -> Option<String> {
    let from = ws.labels.get(RESTORED_FROM).filter(|s| !s.is_empty())?;
    let there = match SnapshotName::parse(from) {
        Ok(snap) => match super::snapshot::find(ctx, &snap).await {
            Ok(info) => info.is_some_and(|i| i.complete),
            Err(_) => false,
        },
        Err(_) => false,
    };
    (!there).then(|| {
        format!(
            "its home was copied from snapshot {from}, which is gone: the files it brought are not told apart"
        )
    })
}

async fn run(engine: &dyn Engine, container: &str, cmd: Vec<String>) -> Result<String, String> {
    let req = ExecRequest {
        cmd,
        user: Some(USER_IDS.into()),
        timeout: Some(CHECK_TIMEOUT),
        ..Default::default()
    };
    let (outcome, out, err) = exec_collect(engine, container, req)
        .await
        .map_err(|e| e.to_string())?;
    if outcome.timed_out {
        return Err(format!("it took longer than {}s", CHECK_TIMEOUT.as_secs()));
    }
    let text = String::from_utf8_lossy(&out).to_string();
    if outcome.exit_code != 0 && !text.contains("\nend") {
        let err = String::from_utf8_lossy(&err);
        return Err(format!(
            "exit {}: {}",
            outcome.exit_code,
            err.lines().last().unwrap_or("no message")
        ));
    }
    Ok(text)
}

/// Removes the reader when dropped while armed (the job was cancelled midway).
struct ReaderGuard {
    engine: Arc<dyn Engine>,
    name: Option<String>,
}

impl ReaderGuard {
    async fn remove(mut self) {
        if let Some(n) = self.name.take() {
            remove_reader(self.engine.as_ref(), &n).await;
        }
    }
}

async fn remove_reader(engine: &dyn Engine, name: &str) {
    match engine.remove_container(name).await {
        Ok(()) => {}
        Err(e) if e.is_removal_in_progress() || e.is_not_found() => {}
        // It removes itself once its lifetime is over.
        Err(e) => tracing::warn!("cannot remove the work check's reader {name}: {e}"),
    }
}

impl Drop for ReaderGuard {
    fn drop(&mut self) {
        let Some(name) = self.name.take() else { return };
        let engine = self.engine.clone();
        // One engine call that ends by itself; the reader's own lifetime is the
        // backstop when there is no runtime left to run it.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move { remove_reader(engine.as_ref(), &name).await });
        }
    }
}

async fn in_reader(ctx: &Ctx, ws: &Workspace, cmd: Vec<String>) -> Result<String, String> {
    if ws.volume.is_empty() {
        return Err("it has no home volume mounted".into());
    }
    let image = match ctx.engine.image_present(&ws.image).await {
        Ok(true) => ws.image.clone(),
        _ => ctx.config.image.clone(),
    };
    let mut l = ctx.config.labels.clone();
    l.insert(labels::ROLE.into(), ROLE_HELPER.into());
    l.insert(READER_LABEL.into(), ws.name.clone());
    let spec = VolumeReader {
        name: reader_name(&ws.volume),
        volume: ws.volume.clone(),
        mount: WORKSPACE_HOME.into(),
        image,
        user: USER_IDS.into(),
        labels: l,
        lifetime: READER_LIFETIME,
    };
    let guard = ReaderGuard {
        engine: ctx.engine.clone(),
        name: Some(spec.name.clone()),
    };
    let out = match ctx.engine.start_volume_reader(&spec).await {
        Ok(()) => run(ctx.engine.as_ref(), &spec.name, cmd).await,
        Err(e) => Err(format!("its reader container did not start: {e}")),
    };
    guard.remove().await;
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_marker_time_comes_from_its_tar_header() {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_size(3);
        h.set_mode(0o644);
        h.set_mtime(1_700_000_000);
        h.set_cksum();
        b.append_data(&mut h, "provisioned", &b"id\n"[..]).unwrap();
        let bytes = b.into_inner().unwrap();
        assert_eq!(marker_mtime(&bytes), Some(1_700_000_000));
        assert_eq!(marker_mtime(b"not a tar"), None);
    }
}
