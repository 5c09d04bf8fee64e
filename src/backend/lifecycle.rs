//! start / stop / restart / delete / lookups.
use super::{inventory, provision, sidecars, Ctx, Progress, ProgressFn, STOP_TIMEOUT_SECS};
use crate::domain::naming::WorkspaceName;
use crate::domain::net_isolation::ssh_through_engine;
use crate::domain::net_profile::NetProfile;
use crate::domain::provision::Provision;
use crate::domain::workspace::{Workspace, WorkspaceState, WORKSPACE_HOME};
use anyhow::{anyhow, bail, Result};

/// The workspace called `name`, or an error that says how to see what exists.
pub async fn find(ctx: &Ctx, name: &WorkspaceName) -> Result<Workspace> {
    inventory::find(ctx, name).await?.ok_or_else(|| {
        anyhow!("no workspace named {name}; `berth list` shows the workspaces there are")
    })
}

/// Says so when a workspace's provisioning never finished (it still starts).
async fn warn_incomplete(w: &Workspace, progress: ProgressFn<'_>) {
    if let Some(why) = w.provision.explain(&w.name) {
        progress
            .report(Progress::Note(format!("workspace {} is {why}", w.name)))
            .await;
    }
}

/// Starts `w` if needed (delivering its passed-through variables again, from this
/// process's environment) and waits until its sshd answers.
pub async fn ensure_running(
    ctx: &Ctx,
    w: &Workspace,
    progress: ProgressFn<'_>,
) -> Result<Workspace> {
    let name = WorkspaceName::parse(&w.name)?;
    match w.state {
        WorkspaceState::Running => sidecars::ensure_joined(ctx, &name, progress).await,
        // Left paused by a snapshot that was killed midway (or paused by hand).
        WorkspaceState::Paused => {
            progress
                .report(Progress::Note(format!("resuming paused workspace {name}")))
                .await;
            ctx.engine.unpause_container(&w.container).await?;
            sidecars::ensure_joined(ctx, &name, progress).await;
        }
        WorkspaceState::Absent => bail!(
            "workspace {name} has no container: {}",
            w.provision.explain(name.as_str()).unwrap_or_default()
        ),
        _ => {
            progress
                .report(Progress::Note(format!("starting workspace {name}")))
                .await;
            // `[limits] max_concurrent`: refused before anything starts.
            let slot = super::limits::admit_one(ctx, name.as_str())
                .await
                .map_err(|e| anyhow!(e))?;
            super::provision::ssh_agent::ensure_dir(&ctx.paths, w).await?;
            sidecars::before_start(ctx, &name, progress).await;
            ctx.engine.start_container(&w.container).await?;
            slot.release();
            provision::env::on_start(ctx, w, progress).await;
            super::secrets::on_start(ctx, w, progress).await;
            sidecars::after_start(ctx, &name, progress).await;
        }
    }
    super::dind::after_start(ctx, w, progress).await;
    match w.ssh_port {
        Some(port) => super::ssh_route::wait(ctx, &name, port).await?,
        // No network: sshd is reached through the engine.
        None if ssh_through_engine(w.net_profile()) => {
            super::ssh_exec::wait_for_sshd(ctx, &name).await?
        }
        None => bail!("workspace {name} has no SSH port label"),
    }
    find(ctx, &name).await
}

pub async fn start(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) -> Result<Workspace> {
    let w = find(ctx, name).await?;
    warn_incomplete(&w, progress).await;
    let w = ensure_running(ctx, &w, progress).await?;
    // `berth start` on a running workspace: its services that were stopped (by hand,
    // or a failed stop) start too.
    sidecars::before_start(ctx, name, progress).await;
    let _ = ctx.store.audit(name.as_str(), "start", "").await;
    let now = crate::store::now();
    super::activity::record(ctx, &w, crate::domain::activity::UseSource::Start, now).await;
    Ok(w)
}

pub async fn stop(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) -> Result<Workspace> {
    let w = find(ctx, name).await?;
    if w.state == WorkspaceState::Absent {
        bail!(
            "workspace {name} has no container to stop: {}",
            w.provision.explain(name.as_str()).unwrap_or_default()
        );
    }
    sidecars::before_stop(ctx, name, progress).await;
    ctx.engine
        .stop_container(&w.container, STOP_TIMEOUT_SECS)
        .await?;
    sidecars::after_stop(ctx, name, progress).await;
    let _ = ctx.store.audit(name.as_str(), "stop", "").await;
    find(ctx, name).await
}

pub async fn restart(
    ctx: &Ctx,
    name: &WorkspaceName,
    progress: ProgressFn<'_>,
) -> Result<Workspace> {
    let w = find(ctx, name).await?;
    warn_incomplete(&w, progress).await;
    if w.state == WorkspaceState::Absent {
        return ensure_running(ctx, &w, progress).await;
    }
    super::provision::ssh_agent::ensure_dir(&ctx.paths, &w).await?;
    // A stopped workspace restarted starts: `[limits] max_concurrent` applies.
    let slot = match w.state {
        WorkspaceState::Running | WorkspaceState::Paused | WorkspaceState::Restarting => None,
        _ => Some(
            super::limits::admit_one(ctx, name.as_str())
                .await
                .map_err(|e| anyhow!(e))?,
        ),
    };
    sidecars::before_start(ctx, name, progress).await;
    ctx.engine
        .restart_container(&w.container, STOP_TIMEOUT_SECS)
        .await?;
    drop(slot);
    // The restart emptied the tmpfs: deliver the values again.
    provision::env::on_start(ctx, &w, progress).await;
    super::secrets::on_start(ctx, &w, progress).await;
    sidecars::after_start(ctx, name, progress).await;
    let _ = ctx.store.audit(name.as_str(), "restart", "").await;
    let w = find(ctx, name).await?;
    ensure_running(ctx, &w, progress).await
}

/// What a delete would remove (asked before confirming, and by `delete` itself).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeletePlan {
    pub container: Option<String>,
    /// Its home volume: the one mounted at /home/workspace (a workspace claimed from
    /// the warm pool keeps its slot's volume name), else `workspace-NAME`.
    pub volume: String,
    pub volume_exists: bool,
    pub keep_volume: bool,
    /// Its sidecars and their volumes, removed with it (volumes kept with --keep-volume).
    pub sidecars: sidecars::Owned,
}

impl DeletePlan {
    /// Will the home volume (and everything in /home/workspace) be removed?
    pub fn drops_volume(&self) -> bool {
        self.volume_exists && !self.keep_volume
    }

    /// What is lost, for a confirmation question.
    pub fn describe(&self, name: &WorkspaceName) -> String {
        let _ = name;
        let main = self.describe_main();
        let mut owned = self.sidecars.clone();
        if self.keep_volume {
            owned.volumes.clear();
        }
        match owned.describe() {
            Some(more) => format!("{main}, and its {more}"),
            None => main,
        }
    }

    fn describe_main(&self) -> String {
        let container = self
            .container
            .clone()
            .unwrap_or_else(|| "no container".into());
        if self.drops_volume() {
            format!(
                "container {container} AND volume {}: everything in {WORKSPACE_HOME} is lost",
                self.volume
            )
        } else if self.volume_exists {
            format!("container {container} (the volume {} is kept)", self.volume)
        } else {
            format!("container {container}")
        }
    }
}

/// What deleting `name` would remove; an error when there is nothing to delete, or
/// when a create of it is running right now (it would fight the delete).
pub async fn plan_delete(ctx: &Ctx, name: &WorkspaceName, keep_volume: bool) -> Result<DeletePlan> {
    let w = inventory::find(ctx, name).await?;
    if let Some(Provision::Provisioning { pid, .. }) = w.as_ref().map(|w| &w.provision) {
        bail!(
            "workspace {name} is being created by berth process {pid} right now; stop that create (Ctrl-C where it runs, or q in its TUI) or wait for it, then delete"
        );
    }
    // The engine decides what exists: a store that cannot be read does not stop a delete.
    let record = ctx
        .store
        .provisioning_on(&ctx.engine_name())
        .await
        .unwrap_or_else(|e| {
            tracing::warn!("cannot read provisioning records: {e:#}");
            Vec::new()
        })
        .into_iter()
        .find(|(r, _)| r.name == name.as_str());
    if let Some((r, true)) = &record {
        bail!(
            "workspace {name} is being created by berth process {} right now (step {}); stop that create or wait for it, then delete",
            r.creator.pid,
            r.step
        );
    }
    let w = w.filter(|w| w.state != WorkspaceState::Absent);
    let volume = w
        .as_ref()
        .map(|w| w.volume.clone())
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| name.volume());
    // A workspace claimed from the warm pool has the slot's volume as its home: kept,
    // no later `create NAME` would reuse it and no berth command would reach it.
    if keep_volume && volume != name.volume() {
        bail!(
            "workspace {name} was claimed from the warm pool: its home is the volume {volume}, which a later `berth create {name}` would not reuse and no berth command could reach once the workspace is gone, so --keep-volume cannot keep it; take a snapshot first (`berth snapshot {name}`; `berth restore SNAP {name}` brings it back), then delete it without --keep-volume"
        );
    }
    let container = w.map(|w| w.container);
    let volume_exists = ctx.engine.volume_exists(&volume).await?;
    // A volume an interrupted create left may be kept: the delete then only
    // forgets that create.
    let leftover = record.is_some() && volume_exists;
    let sidecars = sidecars::owned(ctx, name).await?;
    if container.is_none() && (!volume_exists || keep_volume) && !leftover && sidecars.is_empty() {
        bail!("no workspace named {name}; `berth list` shows the workspaces there are");
    }
    Ok(DeletePlan {
        container,
        volume,
        volume_exists,
        keep_volume,
        sidecars,
    })
}

/// What a delete removed.
#[derive(Debug, Default, serde::Serialize)]
pub struct Deleted {
    pub container: Option<String>,
    pub volume: Option<String>,
    pub volume_kept: bool,
    /// The home volume's name when it was kept.
    #[serde(skip)]
    pub kept_volume: Option<String>,
    /// Sidecar containers removed with it.
    pub sidecars: Vec<String>,
    /// Sidecar volumes removed with it.
    pub volumes: Vec<String>,
    /// Networks removed with it: its own (the one of its services), and berth's
    /// isolated network when it was the last workspace on it.
    pub networks: Vec<String>,
}

/// Removes the container and (unless `keep_volume`) the home volume, and forgets the
/// workspace's leases, records and pinned key. The caller has already confirmed.
pub async fn delete(ctx: &Ctx, name: &WorkspaceName, keep_volume: bool) -> Result<Deleted> {
    let plan = plan_delete(ctx, name, keep_volume).await?;
    let mut out = Deleted::default();
    // Sidecars first: one in the workspace's network namespace holds on to it.
    sidecars::remove(ctx, &plan.sidecars, keep_volume).await?;
    out.sidecars = plan
        .sidecars
        .sidecars
        .iter()
        .map(|(_, c)| c.clone())
        .collect();
    if !keep_volume {
        out.volumes.clone_from(&plan.sidecars.volumes);
    }
    if let Some(c) = plan.container {
        let w = inventory::find(ctx, name).await?;
        match ctx.engine.remove_container(&c).await {
            // Another removal of it runs (the engine's 409): it is going; a volume
            // still held by it fails below and a retry finds it gone.
            Err(e) if e.is_removal_in_progress() => {}
            r => r?,
        }
        out.container = Some(c);
        if let Some(w) = w {
            super::snapshot::drop_orphan_layers(ctx, &w).await;
            // The last workspace on berth's isolated network takes it along.
            if w.net_profile() == NetProfile::Isolated && super::net_isolated::release(ctx).await {
                out.networks
                    .push(super::net_isolated::name(ctx).to_string());
            }
        }
    }
    sidecars::remove_networks(ctx, &plan.sidecars).await?;
    out.networks.extend(plan.sidecars.networks.iter().cloned());
    if plan.volume_exists {
        if keep_volume {
            out.volume_kept = true;
            out.kept_volume = Some(plan.volume.clone());
        } else {
            // A restore killed while seeding the home leaves its copy helper
            // holding the volume.
            let helper = crate::domain::snapshot::helper_name(&plan.volume);
            ctx.engine.remove_container(&helper).await?;
            ctx.engine.remove_volume(&plan.volume).await?;
            out.volume = Some(plan.volume.clone());
        }
    }
    if let Err(e) = ctx.store.forget(name.as_str(), &ctx.engine_name()).await {
        // What the engine held is gone; a stale record only names a dead create.
        tracing::warn!("cannot forget {name} in the store: {e:#}");
    }
    crate::ssh_client::forget(&ctx.paths, &super::ssh_route::alias_here(ctx, name)).await;
    super::provision::ssh_agent::forget(&ctx.paths, name.as_str()).await;
    let _ = ctx
        .store
        .audit(
            name.as_str(),
            "delete",
            if keep_volume { "volume kept" } else { "" },
        )
        .await;
    Ok(out)
}
