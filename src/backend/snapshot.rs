//! Snapshots: take one (pause, copy the home, commit, resume: one consistent
//! point), list them, remove one. Restore and fork are in `restore`.
//!
//! Taking one: the workspace (and its sidecars) is paused, its home volume copied
//! into the snapshot's volume by a helper container, then its filesystem committed
//! as the snapshot's image, labelled with the home's size; then resumed. Resuming
//! runs on every path (an error, a cancel). A failure removes what was made: the
//! helper, the image, the volume. A stopped workspace is snapshotted as it is
//! (nothing runs, so nothing needs pausing).
use super::{lifecycle, Ctx, Progress, ProgressFn};
use crate::domain::labels::ROLE;
use crate::domain::naming::WorkspaceName;
use crate::domain::snapshot::{
    helper_labels, helper_name, image_labels, snapshot_labels, SnapshotInfo, SnapshotName,
    IMAGE_REPO, RESTORED_FROM, ROLE_SNAPSHOT, SNAPSHOT, SNAPSHOT_CREATED, SNAPSHOT_HOME_BYTES,
    SNAPSHOT_OF,
};
use crate::domain::workspace::WorkspaceState;
use crate::engine::{EngineError, ImageSummary, VolumeCopy, VolumeSummary};
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Mutex;
use std::time::Instant;
use tokio::sync::watch;

/// A snapshot just taken.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Taken {
    #[serde(flatten)]
    pub info: SnapshotInfo,
    /// How long the workspace was paused (none: it was not running).
    pub paused_ms: Option<u64>,
    /// The sidecars paused with it.
    pub sidecars_paused: Vec<String>,
    pub seconds: f64,
}

/// Every snapshot on the engine, oldest first.
pub async fn list(ctx: &Ctx) -> Result<Vec<SnapshotInfo>> {
    let role = [(ROLE, ROLE_SNAPSHOT)];
    let (images, volumes) = tokio::try_join!(
        ctx.engine.images_by_label(&role),
        ctx.engine.volumes_by_label(&role)
    )?;
    Ok(merge_parts(&images, &volumes))
}

/// The snapshots of workspace `name`.
pub async fn of_workspace(ctx: &Ctx, name: &str) -> Result<Vec<SnapshotInfo>> {
    let mut all = list(ctx).await?;
    all.retain(|s| s.workspace == name);
    Ok(all)
}

/// One snapshot by name.
pub async fn find(ctx: &Ctx, snap: &SnapshotName) -> Result<Option<SnapshotInfo>> {
    Ok(list(ctx)
        .await?
        .into_iter()
        .find(|s| s.name == snap.as_str()))
}

/// Refuses a snapshot name that is taken (by a snapshot or a part of one).
pub async fn ensure_free(ctx: &Ctx, snap: &SnapshotName) -> Result<()> {
    let e = &ctx.engine;
    if e.image_present(&snap.image()).await? || e.volume_exists(&snap.volume()).await? {
        bail!("a snapshot named {snap} exists already; choose another name (--as NAME) or remove it with `berth snapshot rm {snap}`");
    }
    Ok(())
}

async fn cancelled(rx: &mut watch::Receiver<bool>) {
    if rx.wait_for(|c| *c).await.is_err() {
        std::future::pending::<()>().await;
    }
}

async fn step(progress: ProgressFn<'_>, index: usize, total: usize, label: &str, what: String) {
    progress
        .report(Progress::StepStarted {
            index,
            total,
            label: label.into(),
            description: what,
        })
        .await;
}

/// What a snapshot in progress made, for its rollback (noted before each call).
#[derive(Default)]
struct Made {
    volume: AtomicBool,
    image: AtomicBool,
    /// Containers paused (or being paused), in order.
    paused: Mutex<Vec<String>>,
}

impl Made {
    fn paused(&self) -> Vec<String> {
        self.paused.lock().map(|p| p.clone()).unwrap_or_default()
    }
    fn note_paused(&self, c: &str, on: bool) {
        if let Ok(mut p) = self.paused.lock() {
            p.retain(|x| x != c);
            if on {
                p.push(c.to_string());
            }
        }
    }
}

/// Snapshots workspace `name` as `as_` (default `NAME-YYYYMMDD-HHMMSS`, UTC).
pub async fn take(
    ctx: &Ctx,
    name: &WorkspaceName,
    as_: Option<SnapshotName>,
    progress: ProgressFn<'_>,
    mut cancel: watch::Receiver<bool>,
) -> Result<Taken> {
    let started = Instant::now();
    let w = lifecycle::find(ctx, name).await?;
    crate::domain::vm_checks::refuse_snapshot(&w).map_err(|e| anyhow!(e))?;
    if w.state == WorkspaceState::Absent || !w.provision.is_ready() {
        bail!(
            "workspace {name} is not finished ({}); finish it (`berth create {name}`) or delete it before taking a snapshot",
            w.provision.explain(name.as_str()).unwrap_or_else(|| w.status_word().into())
        );
    }
    let snap = as_.unwrap_or_else(|| SnapshotName::default_for(name, chrono::Utc::now()));
    ensure_free(ctx, &snap).await?;
    let pause = match w.state {
        WorkspaceState::Running => true,
        WorkspaceState::Restarting | WorkspaceState::Removing => {
            bail!(
                "workspace {name} is {}; try again in a moment",
                w.state.as_str()
            )
        }
        WorkspaceState::Paused => {
            progress
                .report(Progress::Note(format!(
                    "workspace {name} was already paused (not by berth); it stays paused"
                )))
                .await;
            false
        }
        _ => false,
    };
    // The helper needs a shell and coreutils: the workspace's own image, else the
    // configured one (a restored workspace's snapshot may be gone).
    let helper_image = if ctx.engine.image_present(&w.image).await? {
        w.image.clone()
    } else {
        ctx.config.image.clone()
    };
    let version = env!("CARGO_PKG_VERSION");
    let vol_labels = snapshot_labels(&w, &snap, chrono::Utc::now(), &ctx.config.labels, version);
    let copy = VolumeCopy {
        from: w.volume.clone(),
        to: snap.volume(),
        image: helper_image,
        helper: helper_name(&snap.volume()),
        labels: helper_labels(&ctx.config.labels, snap.as_str()),
        skip: vec![],
    };
    let kept_out: Vec<String> = ctx
        .engine
        .sidecars(name.as_str())
        .await?
        .into_iter()
        .map(|s| s.source)
        .collect();
    if !kept_out.is_empty() {
        progress
            .report(Progress::Note(format!(
                "{name}'s sidecars ({}) are paused with it but not captured: a workspace restored from this snapshot has none of them (`berth service add` adds a service again; Docker inside needs a new `berth create --docker`)",
                kept_out.join(", ")
            )))
            .await;
    }
    let made = Made::default();
    let total = if pause { 4 } else { 2 };
    let mut paused_at = None;
    let work = async {
        made.volume.store(true, Ordering::SeqCst);
        if !ctx
            .engine
            .create_volume(&snap.volume(), &vol_labels)
            .await?
        {
            made.volume.store(false, Ordering::SeqCst);
            bail!(
                "a volume {} appeared meanwhile; choose another name",
                snap.volume()
            );
        }
        // Started before the pause: starting a container is the slow part of a copy.
        ctx.engine.start_copy_helper(&copy).await?;
        let mut sidecars = Vec::new();
        if pause {
            step(
                progress,
                1,
                total,
                "pause",
                format!("pause {name} and its sidecars"),
            )
            .await;
            for sc in ctx.engine.sidecars(name.as_str()).await? {
                made.note_paused(&sc.container, true);
                match ctx.engine.pause_container(&sc.container).await {
                    Ok(()) => sidecars.push(sc.source),
                    // Not running: nothing to freeze.
                    Err(EngineError::Conflict(_)) => made.note_paused(&sc.container, false),
                    Err(e) => return Err(e.into()),
                }
            }
            made.note_paused(&w.container, true);
            paused_at = Some(Instant::now());
            ctx.engine.pause_container(&w.container).await?;
        }
        let i = usize::from(pause) + 1;
        step(
            progress,
            i,
            total,
            "home",
            format!("copy the home volume {}", w.volume),
        )
        .await;
        let bytes = ctx.engine.copy_volume(&copy).await?;
        step(
            progress,
            i + 1,
            total,
            "image",
            format!("commit {}'s filesystem", w.container),
        )
        .await;
        made.image.store(true, Ordering::SeqCst);
        let labels = image_labels(&vol_labels, &w.labels, bytes);
        ctx.engine
            .commit_container(&w.container, &snap.image(), &labels)
            .await?;
        Ok(sidecars)
    };
    let result = tokio::select! {
        r = work => r,
        _ = cancelled(&mut cancel) => Err(anyhow!("interrupted")),
    };
    // Resume what was paused, whatever happened: the workspace first; reported
    // after, so a slow reader of the progress never lengthens the pause.
    let mut not_resumed = Vec::new();
    for c in made.paused().iter().rev() {
        match ctx.engine.unpause_container(c).await {
            Ok(()) | Err(EngineError::Conflict(_)) => {}
            Err(e) => not_resumed.push(format!("{c} ({e})")),
        }
    }
    let paused_ms = paused_at.map(|t| t.elapsed().as_millis() as u64);
    if pause && result.is_ok() {
        step(progress, total, total, "resume", format!("resume {name}")).await;
    }
    let helper_gone = ctx.engine.remove_container(&copy.helper).await;
    let resume_problem = (!not_resumed.is_empty()).then(|| {
        format!(
            "could not resume {}; `berth start {name}` resumes the workspace",
            not_resumed.join(", ")
        )
    });
    let sidecars = match result {
        Ok(s) => s,
        Err(e) => {
            let cleanup = rollback(ctx, &snap, &made).await;
            let resume = resume_problem.map(|p| format!(". {p}")).unwrap_or_default();
            bail!("snapshot of {name} failed: {e:#}{cleanup}{resume}");
        }
    };
    if let Some(p) = resume_problem {
        bail!("snapshot {snap} of {name} was taken, but {p}");
    }
    if let Err(e) = helper_gone {
        let note = format!(
            "the copy's helper container {} could not be removed: {e}",
            copy.helper
        );
        progress.report(Progress::Note(note)).await;
    }
    let _ = ctx
        .store
        .audit(name.as_str(), "snapshot", snap.as_str())
        .await;
    let info = find(ctx, &snap)
        .await?
        .ok_or_else(|| anyhow!("snapshot {snap} vanished right after it was taken"))?;
    Ok(Taken {
        info,
        paused_ms,
        sidecars_paused: sidecars,
        seconds: (started.elapsed().as_secs_f64() * 1000.0).round() / 1000.0,
    })
}

/// Removes what a failed snapshot made; the sentence that ends its error.
async fn rollback(ctx: &Ctx, snap: &SnapshotName, made: &Made) -> String {
    let mut removed = Vec::new();
    let mut problems = Vec::new();
    let helper = helper_name(&snap.volume());
    if let Err(e) = ctx.engine.remove_container(&helper).await {
        problems.push(format!("helper container {helper}: {e}"));
    }
    if made.image.load(Ordering::SeqCst) {
        match ctx.engine.untag_image(&snap.image()).await {
            Ok(()) => removed.push(format!("image {}", snap.image())),
            Err(e) => problems.push(format!("image {}: {e}", snap.image())),
        }
    }
    if made.volume.load(Ordering::SeqCst) {
        match ctx.engine.remove_volume(&snap.volume()).await {
            Ok(()) => removed.push(format!("volume {}", snap.volume())),
            Err(e) => problems.push(format!("volume {}: {e}", snap.volume())),
        }
    }
    let mut s = if removed.is_empty() {
        ". Nothing was left behind".to_string()
    } else {
        format!(". Removed what it had made: {}", removed.join(", "))
    };
    if !problems.is_empty() {
        s.push_str(&format!(
            ". Could not remove: {} (`berth snapshot rm {snap}` removes it)",
            problems.join("; ")
        ));
    }
    s
}

/// What `snapshot rm` removed.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct Removed {
    pub name: String,
    pub image: Option<String>,
    pub volume: Option<String>,
    /// Workspaces restored from it: they keep running on its image's layers.
    pub still_used_by: Vec<String>,
}

/// Removes snapshot `snap`: its image tag and its volume (whatever of them exists).
pub async fn remove(ctx: &Ctx, snap: &SnapshotName) -> Result<Removed> {
    let info = find(ctx, snap)
        .await?
        .ok_or_else(|| anyhow!("no snapshot named {snap}; `berth snapshots` lists them"))?;
    if !info.complete {
        // What a killed snapshot left: its helper may still hold the volume.
        ctx.engine
            .remove_container(&helper_name(&snap.volume()))
            .await?;
    }
    let mut out = Removed {
        name: snap.to_string(),
        ..Default::default()
    };
    // The volume first: "in use" (a restore copying from it) then changes nothing.
    if let Some(v) = &info.volume {
        ctx.engine.remove_volume(v).await.map_err(|e| match e {
            EngineError::Conflict(m) => anyhow!("the volume {v} is in use ({m}): a restore from {snap} is running; try again when it ends"),
            e => e.into(),
        })?;
        out.volume = Some(v.clone());
    }
    if let Some(image) = &info.image {
        ctx.engine.untag_image(image).await?;
        out.image = Some(image.clone());
    }
    out.still_used_by = super::inventory::list(ctx)
        .await?
        .into_iter()
        .filter(|w| {
            w.labels
                .get(crate::domain::snapshot::RESTORED_FROM)
                .map(String::as_str)
                == Some(snap.as_str())
        })
        .map(|w| w.name)
        .collect();
    let _ = ctx
        .store
        .audit(&info.workspace, "snapshot-rm", snap.as_str())
        .await;
    Ok(out)
}

/// After workspace `w` (restored from a snapshot since removed) is gone: removes
/// the snapshot's untagged image if no other workspace runs on it.
pub async fn drop_orphan_layers(ctx: &Ctx, w: &crate::domain::workspace::Workspace) {
    let Some(snap) = w.labels.get(RESTORED_FROM).filter(|s| !s.is_empty()) else {
        return;
    };
    let want = [(ROLE, ROLE_SNAPSHOT), (SNAPSHOT, snap.as_str())];
    let Ok(images) = ctx.engine.images_by_label(&want).await else {
        return;
    };
    for i in images.iter().filter(|i| i.tags.is_empty()) {
        // Kept (Ok(false)) while another workspace restored from it runs on it.
        if let Err(e) = ctx.engine.remove_image(&i.id).await {
            tracing::warn!("cannot remove the layers of removed snapshot {snap}: {e}");
        }
    }
}

/// Pure: snapshots from the images and volumes labelled as theirs. An image counts
/// only under its own tag (an untagged one is a removed snapshot's layers, kept by
/// a workspace restored from it). Sorted by time taken, then name.
pub fn merge_parts(images: &[ImageSummary], volumes: &[VolumeSummary]) -> Vec<SnapshotInfo> {
    let mut by: BTreeMap<String, SnapshotInfo> = BTreeMap::new();
    for v in volumes {
        let Some(name) = v.labels.get(SNAPSHOT).filter(|n| !n.is_empty()) else {
            continue;
        };
        let e = info_for(&mut by, name, &v.labels);
        e.volume = Some(v.name.clone());
    }
    for i in images {
        let Some(name) = i.labels.get(SNAPSHOT).filter(|n| !n.is_empty()) else {
            continue;
        };
        let tag = format!("{IMAGE_REPO}:{name}");
        if !i.tags.contains(&tag) {
            continue;
        }
        let e = info_for(&mut by, name, &i.labels);
        e.image = Some(tag);
        e.home_bytes = i
            .labels
            .get(SNAPSHOT_HOME_BYTES)
            .and_then(|b| b.parse().ok());
        e.image_bytes = i.own_bytes;
    }
    let mut out: Vec<SnapshotInfo> = by
        .into_values()
        .map(|mut e| {
            e.complete = e.image.is_some() && e.volume.is_some();
            e
        })
        .collect();
    out.sort_by(|a, b| a.created.cmp(&b.created).then_with(|| a.name.cmp(&b.name)));
    out
}

fn info_for<'a>(
    by: &'a mut BTreeMap<String, SnapshotInfo>,
    name: &str,
    l: &BTreeMap<String, String>,
) -> &'a mut SnapshotInfo {
    let e = by.entry(name.to_string()).or_insert_with(|| SnapshotInfo {
        name: name.to_string(),
        workspace: String::new(),
        created: String::new(),
        image: None,
        volume: None,
        home_bytes: None,
        image_bytes: None,
        complete: false,
    });
    for (field, key) in [
        (&mut e.workspace, SNAPSHOT_OF),
        (&mut e.created, SNAPSHOT_CREATED),
    ] {
        if field.is_empty() {
            *field = l.get(key).cloned().unwrap_or_default();
        }
    }
    e
}

#[cfg(test)]
#[path = "snapshot_tests.rs"]
mod tests;
