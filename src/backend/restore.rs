//! `restore` (a snapshot as a new workspace) and `fork` (snapshot + restore).
//!
//! A restore is a create (`create::create`) with a shorter plan
//! (`domain::provision::restore_plan`): the snapshot's image instead of the
//! profile's, the home volume seeded from the snapshot's volume, and nothing a
//! create runs to fill a home (clone, dotfiles, setup, post-start). It gets what
//! every create gets: a new SSH port, berth's keys pinned, a new sshd host key (the
//! snapshot's is left out of the copy, so the entrypoint makes one), the marker
//! written last (the image holds the old container's id, which never counts for
//! the new one), and a rollback of everything it made on failure. The snapshot
//! stays as it was and can be restored again.
use super::create::{create, CreateOutcome, CreateRequest};
use super::create_state::StepState;
use super::snapshot::{self, Taken};
use super::{provision, Ctx, Progress, ProgressFn};
use crate::domain::labels::ROLE;
use crate::domain::naming::WorkspaceName;
use crate::domain::snapshot::{
    helper_labels, helper_name, human_bytes, restore_spec, restored_labels, SnapshotName,
    HOST_KEY_FILES, ROLE_SNAPSHOT, SNAPSHOT,
};
use crate::domain::workspace::{Workspace, WorkspaceSpec};
use crate::engine::VolumeCopy;
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeMap;
use std::path::PathBuf;
use tokio::sync::watch;

/// The snapshot a create restores.
#[derive(Debug, Clone)]
pub struct RestoreSource {
    pub snapshot: SnapshotName,
    /// The snapshot image's labels (the new container inherits them unless set).
    pub image_labels: BTreeMap<String, String>,
}

impl RestoreSource {
    /// The new container's labels: its own, its origin, none of the snapshot's.
    pub fn labels(&self, own: BTreeMap<String, String>) -> BTreeMap<String, String> {
        restored_labels(own, self.snapshot.as_str(), &self.image_labels)
    }
}

/// A workspace to make from a snapshot.
pub struct RestoreRequest {
    pub snapshot: SnapshotName,
    pub name: WorkspaceName,
    /// Public key lines for authorized_keys, and the matching private key files.
    pub keys: Vec<String>,
    pub identities: Vec<PathBuf>,
}

/// The restore's home step: copies the snapshot's volume into the new one (made by
/// this restore, never one that was there), leaving the host key out.
pub(super) async fn seed(
    ctx: &Ctx,
    req: &CreateRequest,
    st: &mut StepState,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let src = req
        .restore
        .as_ref()
        .ok_or_else(|| anyhow!("no snapshot to copy the home from"))?;
    let name = &req.spec.name;
    let to = name.volume();
    if st.made.volume.is_none() {
        bail!("the volume {to} was there before this restore; berth copies a snapshot only into a new volume (`berth delete {name}` removes it)");
    }
    let copy = VolumeCopy {
        from: src.snapshot.volume(),
        to: to.clone(),
        image: src.snapshot.image(),
        helper: helper_name(&to),
        labels: helper_labels(&ctx.config.labels, src.snapshot.as_str()),
        skip: HOST_KEY_FILES.iter().map(|p| p.to_string()).collect(),
    };
    // Noted first: a cancel during the copy removes the helper holding the volume.
    st.made.helper = Some(copy.helper.clone());
    ctx.engine.start_copy_helper(&copy).await?;
    let bytes = ctx.engine.copy_volume(&copy).await?;
    ctx.engine.remove_container(&copy.helper).await?;
    st.made.helper = None;
    progress
        .report(Progress::Note(format!(
            "copied {} of home from snapshot {}; the workspace makes a new SSH host key at its first start",
            human_bytes(bytes),
            src.snapshot
        )))
        .await;
    Ok(())
}

/// The restore's env step: the passed-through values (and the GitHub token, when
/// forwarded) delivered again from this process; the loaders and the public file
/// came with the snapshot.
pub(super) async fn deliver_env(
    ctx: &Ctx,
    spec: &WorkspaceSpec,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let o = &spec.options;
    let g = provision::env::gather(&o.secrets, o.forward.gh).await;
    provision::env::write_secrets(ctx, &spec.name.container(), &g.vars).await?;
    let names: Vec<&str> = g.vars.iter().map(|(k, _)| k.as_str()).collect();
    if !names.is_empty() {
        let note = format!("passed through: {}", names.join(", "));
        progress.report(Progress::Note(note)).await;
    }
    if !g.missing.is_empty() {
        let note = format!(
            "not set in this berth's environment, not passed through: {} (set them and run `berth restart {}`)",
            g.missing.join(", "),
            spec.name
        );
        progress.report(Progress::Note(note)).await;
    }
    Ok(())
}

/// Refuses a name a restore or fork cannot take: a workspace's, or a kept volume's.
pub async fn ensure_name_free(ctx: &Ctx, name: &WorkspaceName) -> Result<()> {
    if let Some(w) = super::inventory::find(ctx, name).await? {
        bail!(
            "workspace {name} exists already ({}); pick another name (or `berth delete {name}` first)",
            w.status_word()
        );
    }
    if ctx.engine.volume_exists(&name.volume()).await? {
        bail!(
            "a volume {} exists (kept from a deleted workspace {name}); pick another name, or remove it with `berth delete {name}`",
            name.volume()
        );
    }
    Ok(())
}

/// The labels of snapshot `snap`'s image; an error when it is absent or half there.
async fn source(ctx: &Ctx, snap: &SnapshotName) -> Result<RestoreSource> {
    let Some(info) = snapshot::find(ctx, snap).await? else {
        bail!("no snapshot named {snap}; `berth snapshots` lists them");
    };
    if !info.complete {
        bail!("snapshot {snap} is incomplete (its {} is missing: it was interrupted while being taken); remove it with `berth snapshot rm {snap}`",
            if info.image.is_none() { "image" } else { "volume" });
    }
    let want = [(ROLE, ROLE_SNAPSHOT), (SNAPSHOT, snap.as_str())];
    let image = ctx
        .engine
        .images_by_label(&want)
        .await?
        .into_iter()
        .find(|i| i.tags.contains(&snap.image()))
        .ok_or_else(|| anyhow!("the image {} vanished", snap.image()))?;
    Ok(RestoreSource {
        snapshot: snap.clone(),
        image_labels: image.labels,
    })
}

/// Makes workspace `r.name` from snapshot `r.snapshot`.
pub async fn restore(
    ctx: &Ctx,
    r: RestoreRequest,
    progress: ProgressFn<'_>,
    cancel: watch::Receiver<bool>,
) -> Result<Workspace> {
    let src = source(ctx, &r.snapshot).await?;
    ensure_name_free(ctx, &r.name).await?;
    let c = &ctx.config;
    let spec = restore_spec(
        r.name,
        &r.snapshot,
        &src.image_labels,
        c.resources,
        c.runtime.clone(),
        c.labels.clone(),
    );
    let req = CreateRequest {
        spec,
        keys: r.keys,
        identities: r.identities,
        name_generated: false,
        restore: Some(src),
    };
    match create(ctx, req, progress, cancel).await? {
        CreateOutcome::Created(w) | CreateOutcome::Reused(w) => Ok(w),
    }
}

/// What `fork` made.
#[derive(Debug)]
pub struct Forked {
    pub workspace: Workspace,
    pub snapshot: Taken,
    /// The snapshot stays (`--keep-snapshot`); else it was removed once restored.
    pub snapshot_kept: bool,
}

/// `fork NAME NEW`: a snapshot of `from` (`NEW-fork-YYYYMMDD-HHMMSS`), restored as
/// `r.name`; the snapshot is removed afterwards unless `keep`.
pub async fn fork(
    ctx: &Ctx,
    from: &WorkspaceName,
    name: WorkspaceName,
    keys: (Vec<String>, Vec<PathBuf>),
    keep: bool,
    progress: ProgressFn<'_>,
    cancel: watch::Receiver<bool>,
) -> Result<Forked> {
    ensure_name_free(ctx, &name).await?;
    let snap = SnapshotName::for_fork(&name, chrono::Utc::now());
    let taken = snapshot::take(ctx, from, Some(snap.clone()), progress, cancel.clone()).await?;
    let req = RestoreRequest {
        snapshot: snap.clone(),
        name,
        keys: keys.0,
        identities: keys.1,
    };
    let restored = restore(ctx, req, progress, cancel).await;
    let dropped = if keep {
        None
    } else {
        Some(snapshot::remove(ctx, &snap).await)
    };
    let workspace = match (restored, &dropped) {
        (Ok(w), _) => w,
        (Err(e), Some(Ok(_))) => bail!("{e:#} (its snapshot {snap} was removed)"),
        (Err(e), _) => {
            bail!("{e:#} (its snapshot {snap} is kept; `berth snapshot rm {snap}` removes it)")
        }
    };
    if let Some(Err(e)) = dropped {
        progress
            .report(Progress::Note(format!(
                "the fork's snapshot {snap} could not be removed ({e:#}); `berth snapshot rm {snap}` removes it"
            )))
            .await;
    }
    Ok(Forked {
        workspace,
        snapshot: taken,
        snapshot_kept: keep,
    })
}

/// The TUI's snapshot jobs (see `service::Command`): a sentence saying how each ended.
pub async fn job(
    ctx: &Ctx,
    cmd: super::service::Command,
    progress: ProgressFn<'_>,
    cancel: watch::Receiver<bool>,
) -> Result<String> {
    use super::service::Command;
    match cmd {
        Command::Snapshot { name, .. } => {
            let t =
                snapshot::take(ctx, &WorkspaceName::parse(&name)?, None, progress, cancel).await?;
            Ok(match t.paused_ms {
                Some(ms) => format!("took snapshot {} (paused {ms} ms)", t.info.name),
                None => format!("took snapshot {}", t.info.name),
            })
        }
        Command::Restore { snapshot, name, .. } => {
            let keys = super::keys::for_create(&ctx.paths, None).await?;
            for n in &keys.notes {
                progress.report(Progress::Note(n.clone())).await;
            }
            let req = RestoreRequest {
                snapshot: SnapshotName::parse(&snapshot)?,
                name: WorkspaceName::parse(&name)?,
                keys: keys.keys,
                identities: keys.identities,
            };
            let w = restore(ctx, req, progress, cancel).await?;
            Ok(format!(
                "restored {snapshot} as {} ({})",
                w.name,
                crate::domain::net_isolation::ssh_summary(w.ssh_port, w.net_profile())
            ))
        }
        Command::RemoveSnapshot { snapshot, .. } => {
            snapshot::remove(ctx, &SnapshotName::parse(&snapshot)?).await?;
            Ok(format!("removed snapshot {snapshot}"))
        }
        _ => Ok(String::new()),
    }
}
