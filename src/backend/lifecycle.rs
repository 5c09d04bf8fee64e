//! start / stop / restart / delete / lookups.
use super::{sshd, Ctx, Progress, ProgressFn, STOP_TIMEOUT_SECS};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{Workspace, WorkspaceState};
use anyhow::{anyhow, bail, Result};

/// The workspace called `name`, or an error that says how to see what exists.
pub async fn find(ctx: &Ctx, name: &WorkspaceName) -> Result<Workspace> {
    ctx.engine
        .inspect_workspace(&name.container())
        .await?
        .ok_or_else(|| {
            anyhow!("no workspace named {name}; `berth list` shows the workspaces there are")
        })
}

/// Starts `w` if needed and waits until its sshd answers.
pub async fn ensure_running(
    ctx: &Ctx,
    w: &Workspace,
    progress: ProgressFn<'_>,
) -> Result<Workspace> {
    let name = WorkspaceName::parse(&w.name)?;
    match w.state {
        WorkspaceState::Running => {}
        WorkspaceState::Paused => bail!(
            "workspace {name} is paused; unpause it with `docker unpause {}`",
            w.container
        ),
        _ => {
            progress(Progress::Note(format!("starting workspace {name}")));
            ctx.engine.start_container(&w.container).await?;
        }
    }
    let port = w
        .ssh_port
        .ok_or_else(|| anyhow!("workspace {name} has no SSH port label"))?;
    sshd::wait_for_ssh(ctx, &name, port).await?;
    find(ctx, &name).await
}

pub async fn start(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) -> Result<Workspace> {
    let w = find(ctx, name).await?;
    let w = ensure_running(ctx, &w, progress).await?;
    let _ = ctx.store.audit(name.as_str(), "start", "");
    Ok(w)
}

pub async fn stop(ctx: &Ctx, name: &WorkspaceName) -> Result<Workspace> {
    let w = find(ctx, name).await?;
    ctx.engine
        .stop_container(&w.container, STOP_TIMEOUT_SECS)
        .await?;
    let _ = ctx.store.audit(name.as_str(), "stop", "");
    find(ctx, name).await
}

pub async fn restart(
    ctx: &Ctx,
    name: &WorkspaceName,
    progress: ProgressFn<'_>,
) -> Result<Workspace> {
    let w = find(ctx, name).await?;
    ctx.engine
        .restart_container(&w.container, STOP_TIMEOUT_SECS)
        .await?;
    let _ = ctx.store.audit(name.as_str(), "restart", "");
    let w = find(ctx, name).await?;
    ensure_running(ctx, &w, progress).await
}

/// What a delete removed.
#[derive(Debug, Default, serde::Serialize)]
pub struct Deleted {
    pub container: Option<String>,
    pub volume: Option<String>,
    pub volume_kept: bool,
}

/// Removes the container and (unless `keep_volume`) the home volume, and frees the port.
/// The caller has already confirmed with the user.
pub async fn delete(ctx: &Ctx, name: &WorkspaceName, keep_volume: bool) -> Result<Deleted> {
    let w = ctx.engine.inspect_workspace(&name.container()).await?;
    let volume_exists = ctx.engine.volume_exists(&name.volume()).await?;
    if w.is_none() && (!volume_exists || keep_volume) {
        bail!("no workspace named {name}; `berth list` shows the workspaces there are");
    }
    let mut out = Deleted::default();
    if let Some(w) = w {
        ctx.engine.remove_container(&w.container).await?;
        out.container = Some(w.container);
    }
    if volume_exists {
        if keep_volume {
            out.volume_kept = true;
        } else {
            ctx.engine.remove_volume(&name.volume()).await?;
            out.volume = Some(name.volume());
        }
    }
    ctx.store.release_name(name.as_str())?;
    crate::ssh_client::forget(&ctx.paths, &name.ssh_alias());
    let _ = ctx.store.audit(
        name.as_str(),
        "delete",
        if keep_volume { "volume kept" } else { "" },
    );
    Ok(out)
}
