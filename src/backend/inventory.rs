//! What exists: the engine's labelled list, with each workspace's provisioning
//! state filled in. The engine decides what exists and whether provisioning
//! finished (the marker in the container, see `domain::provision`); the store only
//! names the step, says whether the create still runs, and remembers containers
//! already seen finished so their markers are read once. What an interrupted
//! create left without a container (its volume) is listed too, so nothing
//! half-made stays hidden. Records are per engine: a list of one engine applies
//! and lists only that engine's records, so `web` on engine a never shows (or
//! takes) the state of a create of `web` on engine b.
use super::Ctx;
use crate::domain::naming::WorkspaceName;
use crate::domain::provision::{marker_matches, Progress, Provision, MARKER_PATH};
use crate::domain::workspace::{Workspace, WorkspaceState};
use crate::engine::Engine;
use crate::store::process::Liveness;
use crate::store::{ProvisionRecord, Store};
use anyhow::Result;
use futures_util::StreamExt;
use std::collections::BTreeMap;

/// Markers read at once when many workspaces are new to this store.
const MARKER_READS: usize = 8;

/// Every workspace, sorted by name.
pub async fn list(ctx: &Ctx) -> Result<Vec<Workspace>> {
    list_with(ctx.engine.as_ref(), &ctx.store).await
}

/// `list` for callers that hold an engine and a store but no `Ctx` (the TUI's watcher).
pub async fn list_with(engine: &dyn Engine, store: &Store) -> Result<Vec<Workspace>> {
    let mut ws = engine.list_workspaces().await?;
    // Warm pool slots are nobody's workspace until claimed (`berth pool` shows them).
    ws.retain(|w| !crate::domain::pool::is_slot(w));
    let alive = ws.iter().map(|w| w.container_id.clone()).collect();
    check_markers(engine, store, &mut ws, Some(alive)).await?;
    let on = engine.name();
    let records = records(store, &on).await;
    let mut leftovers = Vec::new();
    for (r, alive) in &records {
        if !alive && !ws.iter().any(|w| w.name == r.name) {
            if let Ok(n) = WorkspaceName::parse(&r.name) {
                if engine.volume_exists(&n.volume()).await? {
                    leftovers.push((on.clone(), n));
                }
            }
        }
    }
    let labelled = creators(&ws).await;
    Ok(merge(ws, &records, &labelled, &leftovers))
}

/// One workspace by name, if it exists (a container, or an interrupted create's volume).
pub async fn find(ctx: &Ctx, name: &WorkspaceName) -> Result<Option<Workspace>> {
    let mut w: Vec<Workspace> = ctx
        .engine
        .inspect_workspace(&name.container())
        .await?
        .into_iter()
        .collect();
    check_markers(ctx.engine.as_ref(), &ctx.store, &mut w, None).await?;
    let w = w.pop();
    let on = ctx.engine_name();
    let records: Vec<_> = records(&ctx.store, &on)
        .await
        .into_iter()
        .filter(|(r, _)| r.name == name.as_str())
        .collect();
    let leftover = match (&w, records.first()) {
        (None, Some((_, false))) if ctx.engine.volume_exists(&name.volume()).await? => {
            vec![(on.clone(), name.clone())]
        }
        _ => vec![],
    };
    let w: Vec<Workspace> = w.into_iter().collect();
    let labelled = creators(&w).await;
    Ok(merge(w, &records, &labelled, &leftover).into_iter().next())
}

/// For unfinished workspaces: whether the create named in their labels still runs
/// (what a berth with another store, or none, can know). Reads /proc off the async
/// threads.
async fn creators(ws: &[Workspace]) -> BTreeMap<Key, Progress> {
    let labelled: Vec<(Key, String)> = ws
        .iter()
        .filter(|w| !w.provision.is_ready())
        .filter_map(|w| {
            let c = w.labels.get(crate::domain::labels::CREATOR)?;
            Some(((w.engine.clone(), w.name.clone()), c.clone()))
        })
        .collect();
    if labelled.is_empty() {
        return BTreeMap::new();
    }
    tokio::task::spawn_blocking(move || {
        labelled
            .into_iter()
            .map(|(name, label)| {
                let alive = crate::store::Creator::liveness_of_label(&label) == Liveness::Alive;
                let pid = label.split('/').nth(1).and_then(|p| p.parse().ok());
                let p = Progress {
                    step: String::new(),
                    index: 0,
                    total: 0,
                    pid: pid.unwrap_or(0),
                    alive,
                };
                (name, p)
            })
            .collect()
    })
    .await
    .unwrap_or_default()
}

/// Marks finished the workspaces whose marker holds their container id: from the
/// store's memory when it has seen them, else read from the engine (and then
/// remembered). `alive`: every container that exists, to prune the memory.
async fn check_markers(
    engine: &dyn Engine,
    store: &Store,
    ws: &mut [Workspace],
    alive: Option<Vec<String>>,
) -> Result<()> {
    let known = store.provisioned_ids().await.unwrap_or_else(|e| {
        tracing::warn!("cannot read finished workspaces from the store: {e:#}");
        Default::default()
    });
    let unknown: Vec<String> = ws
        .iter()
        .filter(|w| !w.provision.is_ready() && !known.contains(&w.container_id))
        .map(|w| w.container_id.clone())
        .collect();
    let read: Vec<(String, bool)> = futures_util::stream::iter(unknown)
        .map(|id| async move {
            let marked = match engine.read_file(&id, MARKER_PATH, 256).await {
                Ok(Some(content)) => marker_matches(&content, &id),
                Ok(None) => false,
                Err(e) if e.is_unreachable() => return Err(e),
                // A container being removed right now, or another oddity of one
                // container: it counts as unfinished this time, and the list goes on.
                Err(e) => {
                    tracing::debug!("cannot read the marker of {id}: {e}");
                    false
                }
            };
            Ok((id, marked))
        })
        .buffer_unordered(MARKER_READS)
        .collect::<Vec<_>>()
        .await
        .into_iter()
        .collect::<Result<_, crate::engine::EngineError>>()?;
    let newly: Vec<String> = read.into_iter().filter(|r| r.1).map(|r| r.0).collect();
    for w in ws.iter_mut() {
        if known.contains(&w.container_id) || newly.contains(&w.container_id) {
            w.provision = Provision::Ready;
        }
    }
    if !newly.is_empty() || alive.is_some() {
        if let Err(e) = store.record_provisioned(newly, alive).await {
            tracing::warn!("cannot remember finished workspaces: {e:#}");
        }
    }
    Ok(())
}

/// A workspace's engine and name: what records and labels are matched by.
pub type Key = (String, String);

/// The store's records of engine `engine`; a store that cannot be read leaves
/// the engine's word alone.
async fn records(store: &Store, engine: &str) -> Vec<(ProvisionRecord, bool)> {
    match store.provisioning_on(engine).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("cannot read provisioning records: {e:#}");
            Vec::new()
        }
    }
}

fn progress(r: &ProvisionRecord, alive: bool) -> Progress {
    Progress {
        step: r.step.clone(),
        index: r.index,
        total: r.total,
        pid: r.creator.pid,
        alive,
    }
}

/// Pure: the engine's workspaces with their provisioning state (from this store's
/// records, else from the creator in their labels), plus a row for each interrupted
/// create that left only a volume (`leftovers`: its engine and name). A record
/// applies only to the workspace of its own engine.
pub fn merge(
    mut ws: Vec<Workspace>,
    records: &[(ProvisionRecord, bool)],
    labelled: &BTreeMap<Key, Progress>,
    leftovers: &[(String, WorkspaceName)],
) -> Vec<Workspace> {
    let mut by_key: BTreeMap<(&str, &str), Progress> = labelled
        .iter()
        .map(|((e, n), p)| ((e.as_str(), n.as_str()), p.clone()))
        .collect();
    by_key.extend(
        records
            .iter()
            .map(|(r, alive)| ((r.engine.as_str(), r.name.as_str()), progress(r, *alive))),
    );
    for w in &mut ws {
        let key = (w.engine.as_str(), w.name.as_str());
        w.provision = w.provision.clone().with_record(by_key.get(&key));
    }
    for (engine, n) in leftovers {
        if ws
            .iter()
            .any(|w| w.engine == *engine && w.name == n.as_str())
        {
            continue;
        }
        let key = (engine.as_str(), n.as_str());
        let provision = Provision::from_engine(false).with_record(by_key.get(&key));
        ws.push(leftover(engine, n, provision));
    }
    ws.sort_by(|a, b| (&a.name, &a.engine).cmp(&(&b.name, &b.engine)));
    ws
}

fn leftover(engine: &str, n: &WorkspaceName, provision: Provision) -> Workspace {
    Workspace {
        engine: engine.to_string(),
        name: n.to_string(),
        state: WorkspaceState::Absent,
        ssh_port: None,
        image: String::new(),
        container: n.container(),
        container_id: String::new(),
        volume: n.volume(),
        thread: None,
        platform: None,
        profile: None,
        created: 0,
        started_at: None,
        runtime: None,
        memory_limit: None,
        pids_limit: None,
        cpus_limit: None,
        provision,
        labels: Default::default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::Creator;

    fn ws(name: &str, finished: bool) -> Workspace {
        let mut w = leftover(
            "default",
            &WorkspaceName::parse(name).unwrap(),
            Provision::Ready,
        );
        w.state = WorkspaceState::Running;
        w.provision = Provision::from_engine(finished);
        w
    }

    fn record(name: &str, step: &str) -> ProvisionRecord {
        ProvisionRecord {
            engine: "default".into(),
            name: name.into(),
            token: "t".into(),
            creator: Creator { pid: 5, start: 1 },
            step: step.into(),
            index: 4,
            total: 8,
            made_volume: true,
            started_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn provisioning_state_comes_from_engine_and_record() {
        let out = merge(
            vec![
                ws("done", true),
                ws("killed", false),
                ws("busy", false),
                ws("lost", false),
            ],
            &[
                (record("killed", "start"), false),
                (record("busy", "clone"), true),
                (record("done", "post-start"), false),
            ],
            &BTreeMap::new(),
            &[],
        );
        let by = |n: &str| out.iter().find(|w| w.name == n).unwrap();
        assert!(by("done").provision.is_ready());
        assert_eq!(by("done").status_word(), "running");
        assert_eq!(by("killed").status_word(), "incomplete");
        assert_eq!(by("killed").provision.step_text(), "start (4/8)");
        assert_eq!(by("busy").status_word(), "provisioning");
        assert_eq!(by("lost").provision.step_text(), "an unknown step");
    }

    #[test]
    fn a_volume_left_by_an_interrupted_create_is_listed() {
        let n = WorkspaceName::parse("half").unwrap();
        let out = merge(
            vec![ws("a", true)],
            &[(record("half", "ssh port"), false)],
            &BTreeMap::new(),
            &[("default".to_string(), n)],
        );
        assert_eq!(out.len(), 2);
        let w = &out[1];
        assert_eq!((w.name.as_str(), w.state), ("half", WorkspaceState::Absent));
        assert_eq!(w.status_word(), "incomplete");
        assert_eq!(w.provision.step_text(), "ssh port (4/8)");
        assert_eq!(w.volume, "workspace-half");
        assert_eq!(w.engine, "default");
    }

    /// `web` on engines a and b: b's interrupted create marks b's web only, and
    /// b's leftover is listed as b's even though a has a `web`.
    #[test]
    fn a_record_applies_to_its_own_engines_workspace_only() {
        let mut on_a = ws("web", true);
        on_a.engine = "a".into();
        let mut r = record("web", "clone");
        r.engine = "b".into();
        let out = merge(
            vec![on_a.clone()],
            &[(r.clone(), false)],
            &BTreeMap::new(),
            &[],
        );
        assert_eq!(out.len(), 1);
        assert_eq!(out[0].status_word(), "running");
        let n = WorkspaceName::parse("web").unwrap();
        let out = merge(
            vec![on_a],
            &[(r, false)],
            &BTreeMap::new(),
            &[("b".to_string(), n)],
        );
        assert_eq!(out.len(), 2);
        let (a, b) = (&out[0], &out[1]);
        assert_eq!((a.engine.as_str(), a.status_word()), ("a", "running"));
        assert_eq!((b.engine.as_str(), b.state), ("b", WorkspaceState::Absent));
        assert_eq!(b.provision.step_text(), "clone (4/8)");
    }
}
