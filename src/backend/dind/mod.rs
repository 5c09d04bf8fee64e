//! Docker inside a workspace (`berth create --docker`): at create, the engine
//! image, the data volume `workspace-NAME.docker`, the privileged sidecar of the
//! same name in the workspace's network namespace (dockerd on localhost:2375), a
//! wait until it answers, and the docker CLI copied into the workspace. Stopping,
//! starting and deleting it follow the workspace (`backend::sidecars`). Also its
//! status, and `berth image load` ([`load`]).
pub mod image;
pub mod load;
#[cfg(test)]
mod tests;

use super::{Ctx, Progress, ProgressFn};
use crate::domain::dind::{self, DockerInside};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{Workspace, WorkspaceSpec};
use crate::engine::{exec_collect, DockerSidecarSpec, ExecRequest, LogOptions, Output};
use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use std::time::Duration;

/// How long the inner engine may take to answer after its sidecar started.
pub const READY_TIMEOUT: Duration = Duration::from_secs(90);
/// Between two readiness checks.
const READY_POLL: Duration = Duration::from_millis(250);
/// Log lines of a failed sidecar shown in the error.
const LOG_TAIL: usize = 15;

/// What the docker step made (removed again if the create fails).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Made {
    pub container: Option<String>,
    pub volume: Option<String>,
}

/// Refuses a `--docker` create that cannot work, before anything is made.
pub async fn preflight(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<(), String> {
    if !spec.options.docker {
        return Ok(());
    }
    match image::IMAGE.missing_sentence(ctx).await {
        Ok(None) => Ok(()),
        Ok(Some(s)) => Err(s),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// The create step: image, volume, sidecar, readiness, CLI.
pub async fn provision(
    ctx: &Ctx,
    spec: &WorkspaceSpec,
    made: &mut Made,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let name = &spec.name;
    let image = image::IMAGE.ensure(ctx, progress).await?;
    let sidecar = name.sidecar(dind::KIND);
    let labels = labels::sidecar_labels(&spec.extra_labels, name.as_str(), dind::KIND, true);
    if ctx.engine.volume_exists(&sidecar).await? {
        progress
            .report(Progress::Note(format!(
                "reusing the Docker data volume {sidecar} (its images, containers and volumes are kept)"
            )))
            .await;
    } else {
        // Noted first, so a failure or a cancel during the call still removes it.
        made.volume = Some(sidecar.clone());
        if !ctx.engine.create_volume(&sidecar, &labels).await? {
            made.volume = None;
        }
    }
    let s = DockerSidecarSpec {
        container: sidecar.clone(),
        image,
        labels,
        workspace: name.container(),
        volume: sidecar.clone(),
        args: dind::dockerd_args(ctx.config.docker.registry_mirror.as_deref()),
        resources: spec.resources,
    };
    made.container = Some(sidecar.clone());
    ctx.engine.create_docker_sidecar(&s).await?;
    ctx.engine.start_container(&sidecar).await?;
    wait_ready(ctx, name, &sidecar).await?;
    ctx.engine
        .copy_between(&sidecar, dind::CLI_SOURCE, &name.container(), dind::CLI_DIR)
        .await
        .with_context(|| {
            format!(
                "copying the docker CLI into the workspace's {} (the image must have that directory)",
                dind::CLI_DIR
            )
        })?;
    progress
        .report(Progress::Note(format!(
            "Docker inside: DOCKER_HOST={} reaches the engine in sidecar {sidecar}, which runs PRIVILEGED ({}); the workspace itself keeps every capability dropped",
            dind::DOCKER_HOST,
            dind::PRIVILEGES
        )))
        .await;
    Ok(())
}

/// Waits until the inner dockerd answers; a sidecar that stopped, or a deadline
/// passed, is an error carrying the sidecar's last log lines.
pub async fn wait_ready(ctx: &Ctx, name: &WorkspaceName, sidecar: &str) -> Result<()> {
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        let req = ExecRequest {
            cmd: dind::sidecar_cli(&["version", "--format", "{{.Server.Version}}"]),
            timeout: Some(Duration::from_secs(10)),
            ..Default::default()
        };
        let answered = match exec_collect(ctx.engine.as_ref(), sidecar, req).await {
            Ok((o, _, _)) => o.exit_code == 0,
            Err(_) => false,
        };
        if answered {
            return Ok(());
        }
        let running = ctx
            .engine
            .sidecars(name.as_str())
            .await?
            .iter()
            .any(|s| s.container == sidecar && s.running);
        if !running {
            bail!(
                "the Docker engine sidecar {sidecar} stopped; its last log lines:\n{}",
                log_tail(ctx, sidecar).await
            );
        }
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "the Docker engine in sidecar {sidecar} did not answer within {}s; its last log lines:\n{}",
                READY_TIMEOUT.as_secs(),
                log_tail(ctx, sidecar).await
            );
        }
        tokio::time::sleep(READY_POLL).await;
    }
}

/// After a workspace with Docker inside (re)started: waits until its engine answers,
/// so `docker` works when `berth start` returns. A failure is said, not fatal: the
/// workspace itself runs.
pub async fn after_start(ctx: &Ctx, w: &Workspace, progress: ProgressFn<'_>) {
    let (Some(d), Ok(name)) = (DockerInside::of(w), WorkspaceName::parse(&w.name)) else {
        return;
    };
    // The engine restarted the workspace by itself (its restart policy): the sidecar
    // still holds the old, dead network namespace.
    if stale(ctx, &w.container, &d.sidecar).await {
        progress
            .report(Progress::Note(format!(
                "restarting {} (its workspace was restarted without it)",
                d.sidecar
            )))
            .await;
        if let Err(e) = ctx
            .engine
            .restart_container(&d.sidecar, super::STOP_TIMEOUT_SECS)
            .await
        {
            tracing::warn!("cannot restart {}: {e}", d.sidecar);
        }
    }
    if let Err(e) = wait_ready(ctx, &name, &d.sidecar).await {
        progress
            .report(Progress::Note(format!(
                "warning: Docker inside workspace {name} is not answering: {e:#}"
            )))
            .await;
    }
}

/// Does the running sidecar sit in another network namespace than its workspace's?
/// (Read from both containers' first process; unknown counts as no.)
async fn stale(ctx: &Ctx, workspace: &str, sidecar: &str) -> bool {
    let netns = |c: &str, user: Option<&str>| {
        let req = ExecRequest {
            cmd: vec!["readlink".into(), "/proc/1/ns/net".into()],
            user: user.map(String::from),
            timeout: Some(Duration::from_secs(10)),
            ..Default::default()
        };
        let c = c.to_string();
        async move {
            match exec_collect(ctx.engine.as_ref(), &c, req).await {
                Ok((o, out, _)) if o.exit_code == 0 && !out.is_empty() => {
                    Some(String::from_utf8_lossy(&out).trim().to_string())
                }
                _ => None,
            }
        }
    };
    let user = crate::domain::workspace::WORKSPACE_USER;
    match (
        netns(workspace, Some(user)).await,
        netns(sidecar, None).await,
    ) {
        (Some(a), Some(b)) => a != b,
        _ => false,
    }
}

/// The container's last log lines, as text.
async fn log_tail(ctx: &Ctx, container: &str) -> String {
    let opts = LogOptions {
        follow: false,
        tail: Some(LOG_TAIL),
        timestamps: false,
    };
    let mut out = Vec::new();
    let mut logs = ctx.engine.logs(container, opts);
    while let Some(Ok(chunk)) = logs.next().await {
        match chunk {
            Output::Stdout(b) | Output::Stderr(b) => out.extend(b),
        }
    }
    let text = String::from_utf8_lossy(&out).trim_end().to_string();
    if text.is_empty() {
        "(none)".into()
    } else {
        text
    }
}

/// The workspace's Docker inside with whether its sidecar runs; `None` without.
pub async fn inside(ctx: &Ctx, w: &Workspace) -> Option<DockerInside> {
    let mut d = DockerInside::of(w)?;
    d.running = match ctx.engine.sidecars(&w.name).await {
        Ok(list) => Some(list.iter().any(|s| s.container == d.sidecar && s.running)),
        Err(_) => None,
    };
    Some(d)
}
