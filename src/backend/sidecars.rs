//! A workspace's sidecars (services, its Docker engine, ...) follow it: they start,
//! stop and go with it. Sidecars that join the workspace's network namespace
//! (`container:` network mode) only work while the workspace runs and lose their
//! network when it restarts, so they are stopped before it and (re)started after it;
//! the others (services on their own networks) start before it, so what the
//! workspace runs at start finds them, and stop after it.
use super::{Ctx, Progress, ProgressFn, STOP_TIMEOUT_SECS};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::observe::Sidecar;
use anyhow::Result;

/// A sidecar's failure is said, not fatal: the workspace itself still starts/stops.
async fn warn(progress: ProgressFn<'_>, what: &str, s: &Sidecar, e: impl std::fmt::Display) {
    progress
        .report(Progress::Note(format!(
            "sidecar {} ({}) did not {what}: {e}",
            s.source, s.container
        )))
        .await;
}

async fn list(ctx: &Ctx, name: &WorkspaceName) -> Vec<Sidecar> {
    match ctx.engine.sidecars(name.as_str()).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot list the sidecars of {name}: {e}");
            Vec::new()
        }
    }
}

/// Resumes the sidecars left paused (a snapshot cut off before it resumed them).
async fn resume_paused(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    for s in list(ctx, name).await {
        if s.paused {
            if let Err(e) = ctx.engine.unpause_container(&s.container).await {
                warn(progress, "resume", &s, e).await;
            }
        }
    }
}

/// Before the workspace starts: its own-network sidecars (services).
pub async fn before_start(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    resume_paused(ctx, name, progress).await;
    // The log forwarder follows the sidecars there are now (made again if changed).
    super::log_forward::before_start(ctx, name, progress).await;
    for s in list(ctx, name).await {
        if !s.joins_workspace && !s.running {
            if let Err(e) = ctx.engine.start_container(&s.container).await {
                warn(progress, "start", &s, e).await;
            }
        }
    }
}

/// After the workspace (re)started: sidecars in its network namespace are restarted
/// (a running one still holds the old, dead namespace).
pub async fn after_start(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    for s in list(ctx, name).await {
        if !s.joins_workspace {
            continue;
        }
        let r = if s.running {
            ctx.engine
                .restart_container(&s.container, STOP_TIMEOUT_SECS)
                .await
        } else {
            ctx.engine.start_container(&s.container).await
        };
        if let Err(e) = r {
            warn(progress, "start", &s, e).await;
        }
    }
}

/// For a workspace found running: starts the sidecars in its network namespace that
/// are not (after an engine restart or a host reboot they may start before the
/// workspace and fail, or have been stopped by hand).
pub async fn ensure_joined(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    resume_paused(ctx, name, progress).await;
    for s in list(ctx, name).await {
        if s.joins_workspace && !s.running {
            if let Err(e) = ctx.engine.start_container(&s.container).await {
                warn(progress, "start", &s, e).await;
            }
        }
    }
}

/// Before the workspace stops: the sidecars in its network namespace.
pub async fn before_stop(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    stop_where(ctx, name, progress, true).await
}

/// After the workspace stopped: the others.
pub async fn after_stop(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>) {
    stop_where(ctx, name, progress, false).await
}

async fn stop_where(ctx: &Ctx, name: &WorkspaceName, progress: ProgressFn<'_>, joined: bool) {
    for s in list(ctx, name).await {
        if s.joins_workspace == joined && s.running {
            if let Err(e) = ctx
                .engine
                .stop_container(&s.container, STOP_TIMEOUT_SECS)
                .await
            {
                warn(progress, "stop", &s, e).await;
            }
        }
    }
}

/// What goes with a workspace when it is deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Owned {
    /// Sidecar containers (source tag, container name).
    pub sidecars: Vec<(String, String)>,
    /// Sidecar volumes (e.g. its Docker engine's data).
    pub volumes: Vec<String>,
    /// The network that joins it to its services (removed after its container).
    pub networks: Vec<String>,
}

impl Owned {
    pub fn is_empty(&self) -> bool {
        self.sidecars.is_empty() && self.volumes.is_empty() && self.networks.is_empty()
    }

    /// For a confirmation question: "sidecars db, docker and volume ...".
    pub fn describe(&self) -> Option<String> {
        let mut parts = Vec::new();
        if !self.sidecars.is_empty() {
            let names: Vec<&str> = self.sidecars.iter().map(|(s, _)| s.as_str()).collect();
            parts.push(format!(
                "sidecar{} {} (with what {} inside {})",
                if names.len() == 1 { "" } else { "s" },
                names.join(", "),
                if names.len() == 1 {
                    "it stores"
                } else {
                    "they store"
                },
                if names.len() == 1 {
                    "its container"
                } else {
                    "their containers"
                },
            ));
        }
        if !self.volumes.is_empty() {
            parts.push(format!(
                "sidecar volume{} {} (their data is lost)",
                if self.volumes.len() == 1 { "" } else { "s" },
                self.volumes.join(", ")
            ));
        }
        (!parts.is_empty()).then(|| parts.join(" and "))
    }
}

/// The sidecars and sidecar volumes of `name`.
pub async fn owned(ctx: &Ctx, name: &WorkspaceName) -> Result<Owned> {
    let sidecars = ctx
        .engine
        .sidecars(name.as_str())
        .await?
        .into_iter()
        .map(|s| (s.source, s.container))
        .collect();
    let volumes = ctx
        .engine
        .volumes_labelled(&[
            (labels::ROLE, labels::ROLE_SIDECAR),
            (labels::NAME, name.as_str()),
        ])
        .await?;
    let networks = ctx
        .engine
        .networks_labelled(&[
            (labels::ROLE, labels::ROLE_WORKSPACE_NETWORK),
            (labels::NAME, name.as_str()),
        ])
        .await?
        .into_iter()
        .map(|n| n.name)
        .collect();
    Ok(Owned {
        sidecars,
        volumes,
        networks,
    })
}

/// Removes the workspace's own networks (once its container is gone; the sidecars
/// on them are already).
pub async fn remove_networks(ctx: &Ctx, owned: &Owned) -> Result<()> {
    for n in &owned.networks {
        ctx.engine.remove_network(n).await?;
    }
    Ok(())
}

/// Removes the sidecar containers, and their volumes unless `keep_volumes`.
pub async fn remove(ctx: &Ctx, owned: &Owned, keep_volumes: bool) -> Result<()> {
    // Already gone counts as removed (a delete run again after a failure).
    for (_, c) in &owned.sidecars {
        match ctx.engine.remove_container(c).await {
            Err(e) if !e.is_not_found() => return Err(e.into()),
            _ => {}
        }
    }
    if !keep_volumes {
        for v in &owned.volumes {
            match ctx.engine.remove_volume(v).await {
                Err(e) if !e.is_not_found() => return Err(e.into()),
                _ => {}
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::test_support::ctx_with;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::{Engine, SnapshotEngine};
    use std::sync::Arc;

    fn quiet() -> impl Fn(Progress) + Send + Sync {
        |_| {}
    }

    async fn running(e: &MemoryEngine, name: &str) -> Vec<(String, bool)> {
        e.sidecars(name)
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.source, s.running))
            .collect()
    }

    #[tokio::test]
    async fn joined_sidecars_stop_first_and_restart_after_the_workspace() {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("w", 2201);
        e.add_sidecar("w", "db");
        let dind = e.add_joined_sidecar("w", "docker");
        let (ctx, _dir) = ctx_with(e.clone());
        let n = WorkspaceName::parse("w").unwrap();
        before_stop(&ctx, &n, &quiet()).await;
        assert_eq!(
            running(&e, "w").await,
            [("db".to_string(), true), ("docker".to_string(), false)]
        );
        after_stop(&ctx, &n, &quiet()).await;
        assert_eq!(
            running(&e, "w").await,
            [("db".to_string(), false), ("docker".to_string(), false)]
        );
        before_start(&ctx, &n, &quiet()).await;
        assert_eq!(
            running(&e, "w").await,
            [("db".to_string(), true), ("docker".to_string(), false)]
        );
        after_start(&ctx, &n, &quiet()).await;
        assert_eq!(
            running(&e, "w").await,
            [("db".to_string(), true), ("docker".to_string(), true)]
        );
        // A running joined sidecar is restarted (its namespace died with the
        // workspace's old process).
        let before = e.calls(crate::engine::memory::Op::RestartContainer);
        after_start(&ctx, &n, &quiet()).await;
        assert_eq!(
            e.calls(crate::engine::memory::Op::RestartContainer),
            before + 1
        );
        assert!(e.containers().contains(&dind));
    }

    #[tokio::test]
    async fn sidecars_left_paused_are_resumed_when_the_workspace_starts() {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("w", 2201);
        let db = e.add_sidecar("w", "db");
        let dind = e.add_joined_sidecar("w", "docker");
        let (ctx, _dir) = ctx_with(e.clone());
        let n = WorkspaceName::parse("w").unwrap();
        e.pause_container(&db).await.unwrap();
        e.pause_container(&dind).await.unwrap();
        let paused: Vec<bool> = e
            .sidecars("w")
            .await
            .unwrap()
            .iter()
            .map(|s| s.paused)
            .collect();
        assert_eq!(paused, [true, true]);
        ensure_joined(&ctx, &n, &quiet()).await;
        assert_eq!(
            running(&e, "w").await,
            [("db".to_string(), true), ("docker".to_string(), true)]
        );
    }

    #[tokio::test]
    async fn owned_lists_sidecars_and_their_volumes_and_remove_takes_them() {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("w", 2201);
        e.add_workspace("other", 2202);
        e.add_sidecar("w", "db");
        e.add_sidecar("other", "db");
        e.add_volume(
            "workspace-w.docker",
            labels::sidecar_labels(&Default::default(), "w", "docker", false),
        );
        let (ctx, _dir) = ctx_with(e.clone());
        let n = WorkspaceName::parse("w").unwrap();
        let o = owned(&ctx, &n).await.unwrap();
        assert_eq!(o.sidecars, [("db".into(), "workspace-w.db".into())]);
        assert_eq!(o.volumes, ["workspace-w.docker"]);
        assert_eq!(
            o.describe().unwrap(),
            "sidecar db (with what it stores inside its container) and sidecar volume workspace-w.docker (their data is lost)"
        );
        remove(&ctx, &o, true).await.unwrap();
        assert!(!e.containers().contains(&"workspace-w.db".to_string()));
        assert!(e.volume_exists("workspace-w.docker").await.unwrap());
        assert!(e.containers().contains(&"workspace-other.db".to_string()));
        remove(&ctx, &o, false).await.unwrap();
        assert!(!e.volume_exists("workspace-w.docker").await.unwrap());
        assert!(Owned::default().describe().is_none());
    }
}
