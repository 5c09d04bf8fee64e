//! Home volume sizes: measured inside running workspaces (`domain::disk_usage`
//! says how and why), remembered in the store, refreshed when older than
//! [`FRESH_FOR`]. Never on the UI's path: the TUI gets them from its alerts task;
//! the CLI waits at most a deadline and shows "?" for the rest.
use super::Ctx;
use crate::domain::disk_usage::{self, Known};
use crate::domain::workspace::{Workspace, WorkspaceState, WORKSPACE_USER};
use crate::engine::{exec_collect, ExecRequest};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::time::Duration;

/// Sizes change slowly: one measurement serves this long (seconds).
pub const FRESH_FOR: i64 = 300;
/// How long one `du` may take.
const MEASURE_TIMEOUT: Duration = Duration::from_secs(60);
/// Workspaces measured at once.
const PARALLEL: usize = 4;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Measures `w`'s home now (it must run) and remembers it.
pub async fn measure(ctx: &Ctx, w: &Workspace) -> anyhow::Result<Known> {
    let req = ExecRequest {
        cmd: disk_usage::command(),
        user: Some(WORKSPACE_USER.into()),
        timeout: Some(MEASURE_TIMEOUT),
        ..Default::default()
    };
    let (outcome, out, _) = exec_collect(ctx.engine.as_ref(), &w.container, req).await?;
    if outcome.timed_out {
        anyhow::bail!(
            "measuring workspace {}'s home took over {} s",
            w.name,
            MEASURE_TIMEOUT.as_secs()
        );
    }
    let m = disk_usage::parse(&String::from_utf8_lossy(&out))
        .ok_or_else(|| anyhow::anyhow!("du printed no size for workspace {}'s home", w.name))?;
    let k = Known {
        bytes: m.home_bytes,
        fs_bytes: m.fs_bytes,
        at: now(),
    };
    ctx.store.record_volume_size(&w.container_id, k).await?;
    Ok(k)
}

/// The sizes of `ws`'s homes by workspace name: remembered ones younger than
/// `max_age` seconds, the running others measured (at most until `deadline`;
/// those not done by then keep their older size, or none). Stopped workspaces
/// keep the size they had when last measured.
pub async fn sizes(
    ctx: &Ctx,
    ws: &[Workspace],
    max_age: i64,
    deadline: Duration,
) -> BTreeMap<String, Known> {
    let ids = ws.iter().map(|w| w.container_id.clone()).collect();
    let stored = match ctx.store.volume_sizes(ids).await {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("cannot read remembered volume sizes: {e:#}");
            BTreeMap::new()
        }
    };
    let t = now();
    let mut out: BTreeMap<String, Known> = ws
        .iter()
        .filter_map(|w| Some((w.name.clone(), *stored.get(&w.container_id)?)))
        .collect();
    if deadline.is_zero() {
        return out;
    }
    let stale: Vec<Workspace> = ws
        .iter()
        .filter(|w| w.state == WorkspaceState::Running && !w.container_id.is_empty())
        .filter(|w| !out.get(&w.name).is_some_and(|k| k.fresh(t, max_age)))
        .cloned()
        .collect();
    let measured = futures_util::stream::iter(stale)
        .map(|w| async move {
            let r = measure(ctx, &w).await;
            (w.name, r)
        })
        .buffer_unordered(PARALLEL);
    tokio::pin!(measured);
    let until = tokio::time::Instant::now() + deadline;
    while let Ok(Some((name, r))) = tokio::time::timeout_at(until, measured.next()).await {
        match r {
            Ok(k) => {
                out.insert(name, k);
            }
            Err(e) => tracing::debug!("volume size of {name}: {e:#}"),
        }
    }
    out
}
