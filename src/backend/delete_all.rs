//! `berth delete --all`: every workspace with its volume and sidecars, and (only when
//! asked) every snapshot. Planned first so the person sees the whole list before
//! anything goes; a workspace that cannot go (a create of it runs right now) is
//! named and skipped, never half-removed.
use super::lifecycle::{self, DeletePlan, Deleted};
use super::{inventory, Ctx};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::Workspace;
use anyhow::Result;
use std::collections::BTreeMap;

/// Snapshots as engine objects: their images and volumes.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct SnapshotObjects {
    pub images: Vec<String>,
    pub volumes: Vec<String>,
}

impl SnapshotObjects {
    pub fn is_empty(&self) -> bool {
        self.images.is_empty() && self.volumes.is_empty()
    }
}

/// What `delete --all` will remove, and what it cannot.
#[derive(Debug, Default)]
pub struct AllPlan {
    pub workspaces: Vec<(WorkspaceName, DeletePlan)>,
    /// Workspaces that will be left, with the reason (e.g. being created now).
    pub skipped: Vec<(String, String)>,
    /// Snapshots to remove (`--snapshots`); `kept` counts those left otherwise.
    pub snapshots: SnapshotObjects,
    pub snapshots_kept: usize,
    pub keep_volume: bool,
}

impl AllPlan {
    pub fn is_empty(&self) -> bool {
        self.workspaces.is_empty() && self.snapshots.is_empty()
    }

    /// One line per thing that goes, for the confirmation.
    pub fn lines(&self) -> Vec<String> {
        let mut out: Vec<String> = self
            .workspaces
            .iter()
            .map(|(n, p)| format!("workspace {n}: {}", p.describe(n)))
            .collect();
        out.extend(
            self.snapshots
                .images
                .iter()
                .map(|i| format!("snapshot image {i}")),
        );
        out.extend(
            self.snapshots
                .volumes
                .iter()
                .map(|v| format!("snapshot volume {v}")),
        );
        out
    }
}

/// Is `w` this berth's to delete? With `[labels]` in the config, only workspaces that
/// carry all of them are (a team sharing an engine deletes only its own); a volume an
/// interrupted create left (no container, so no labels) is known from this berth's
/// own store, so it is.
pub(crate) fn in_scope(w: &Workspace, scope: &BTreeMap<String, String>) -> bool {
    (w.container_id.is_empty() && w.labels.is_empty())
        || scope.iter().all(|(k, v)| w.labels.get(k) == Some(v))
}

async fn snapshot_objects(ctx: &Ctx) -> Result<SnapshotObjects> {
    let mut want = vec![(labels::ROLE, labels::ROLE_SNAPSHOT)];
    want.extend(
        ctx.config
            .labels
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str())),
    );
    let mut images = ctx.engine.images_labelled(&want).await?;
    images.sort();
    images.dedup();
    let volumes = ctx.engine.volumes_labelled(&want).await?;
    Ok(SnapshotObjects { images, volumes })
}

/// Plans `delete --all`.
pub async fn plan(ctx: &Ctx, keep_volume: bool, snapshots: bool) -> Result<AllPlan> {
    let mut out = AllPlan {
        keep_volume,
        ..Default::default()
    };
    for w in inventory::list(ctx).await? {
        if !in_scope(&w, &ctx.config.labels) {
            continue;
        }
        let Ok(name) = WorkspaceName::parse(&w.name) else {
            out.skipped
                .push((w.name.clone(), "not a valid workspace name".into()));
            continue;
        };
        match lifecycle::plan_delete(ctx, &name, keep_volume).await {
            Ok(p) => out.workspaces.push((name, p)),
            Err(e) => out.skipped.push((w.name.clone(), format!("{e:#}"))),
        }
    }
    let snaps = snapshot_objects(ctx).await?;
    if snapshots {
        out.snapshots = snaps;
    } else {
        out.snapshots_kept = snaps.images.len().max(snaps.volumes.len());
    }
    Ok(out)
}

/// What `delete --all` removed, and what failed (it goes on past a failure).
#[derive(Debug, Default, serde::Serialize)]
pub struct AllDeleted {
    pub workspaces: Vec<(String, Deleted)>,
    pub failed: Vec<(String, String)>,
    pub snapshots: SnapshotObjects,
}

/// Removes what `plan` listed: workspaces first (a restored workspace runs on its
/// snapshot's image), then the snapshots.
pub async fn run(ctx: &Ctx, plan: &AllPlan) -> AllDeleted {
    let mut out = AllDeleted::default();
    for (name, _) in &plan.workspaces {
        match lifecycle::delete(ctx, name, plan.keep_volume).await {
            Ok(d) => out.workspaces.push((name.to_string(), d)),
            Err(e) => out.failed.push((name.to_string(), format!("{e:#}"))),
        }
    }
    for image in &plan.snapshots.images {
        match ctx.engine.remove_image(image).await {
            Ok(true) => out.snapshots.images.push(image.clone()),
            Ok(false) => out.failed.push((
                image.clone(),
                "the engine kept it: a container still uses it".into(),
            )),
            Err(e) => out.failed.push((image.clone(), e.to_string())),
        }
    }
    for volume in &plan.snapshots.volumes {
        match ctx.engine.remove_volume(volume).await {
            Ok(()) => out.snapshots.volumes.push(volume.clone()),
            Err(e) => out.failed.push((volume.clone(), e.to_string())),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::test_support::ctx_with;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::Engine;
    use std::sync::Arc;

    fn snap_labels() -> BTreeMap<String, String> {
        [(labels::ROLE.to_string(), labels::ROLE_SNAPSHOT.to_string())].into()
    }

    #[tokio::test]
    async fn plans_every_workspace_with_its_sidecars_and_snapshots_only_when_asked() {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("a", 2201);
        e.add_workspace("b", 2202);
        e.add_sidecar("b", "db");
        e.add_volume("berth-snapshot-a-1", snap_labels());
        let (ctx, _dir) = ctx_with(e.clone());

        let p = plan(&ctx, false, false).await.unwrap();
        let names: Vec<&str> = p.workspaces.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        assert!(p.snapshots.is_empty());
        assert_eq!(p.snapshots_kept, 1);
        let lines = p.lines().join("\n");
        assert!(lines.contains("workspace b:"), "{lines}");
        assert!(lines.contains("sidecar db"), "{lines}");

        let p = plan(&ctx, false, true).await.unwrap();
        assert_eq!(p.snapshots.volumes, ["berth-snapshot-a-1"]);
        assert!(p
            .lines()
            .join("\n")
            .contains("snapshot volume berth-snapshot-a-1"));

        let done = run(&ctx, &p).await;
        assert!(done.failed.is_empty(), "{:?}", done.failed);
        assert_eq!(done.workspaces.len(), 2);
        assert!(e.containers().is_empty(), "{:?}", e.containers());
        assert!(!e.volume_exists("workspace-a").await.unwrap());
        assert!(!e.volume_exists("berth-snapshot-a-1").await.unwrap());
        assert!(plan(&ctx, false, true).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn keeps_volumes_when_asked_and_goes_on_past_a_failure() {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("a", 2201);
        e.add_workspace("b", 2202);
        let (ctx, _dir) = ctx_with(e.clone());
        let p = plan(&ctx, true, false).await.unwrap();
        e.fail_next(
            crate::engine::memory::Op::RemoveContainer,
            crate::engine::EngineError::Api("boom".into()),
        );
        let done = run(&ctx, &p).await;
        assert_eq!(done.failed.len(), 1, "{:?}", done.failed);
        assert_eq!(done.workspaces.len(), 1);
        assert!(e.volume_exists("workspace-a").await.unwrap());
        assert!(e.volume_exists("workspace-b").await.unwrap());
    }

    #[tokio::test]
    async fn with_config_labels_only_workspaces_carrying_them_go() {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("mine", 2201);
        e.add_workspace("theirs", 2202);
        e.set_label("workspace-mine", "team", "core");
        let (mut ctx, _dir) = ctx_with(e.clone());
        ctx.config.labels = [("team".to_string(), "core".to_string())].into();
        let p = plan(&ctx, false, false).await.unwrap();
        let names: Vec<&str> = p.workspaces.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["mine"]);
    }
}
