//! A workspace's activity: recorded uses (store), its TTL, and why it counts as
//! alive now. The cleanup job, `berth status` and the status pane read it here.
//!
//! Why it is alive comes from ONE exec per running workspace (the probe of
//! `domain::activity_probe`, reading /proc and the cgroup's CPU counter) plus the
//! store's shell tabs; a stopped workspace is idle without any exec.
use super::Ctx;
use crate::domain::activity::{Activity, AliveReason, UseSource};
use crate::domain::activity_probe::{self, Rules};
use crate::domain::labels;
use crate::domain::ttl::Ttl;
use crate::domain::ttl_source::{self, TtlSource};
use crate::domain::workspace::{Workspace, WorkspaceState, SSHD_CONTAINER_PORT, WORKSPACE_USER};
use crate::engine::{exec_collect, ExecRequest};
use anyhow::{anyhow, Result};
use std::collections::HashMap;
use std::time::Duration;

/// The probe is a few file reads: past this the workspace is too busy to tell.
const PROBE_TIMEOUT: Duration = Duration::from_secs(15);

/// The TTL in force for `ws`, and where it comes from.
pub fn ttl_of(ctx: &Ctx, ws: &Workspace, stored: Option<&str>) -> (Ttl, TtlSource) {
    ttl_source::resolve(
        stored,
        ws.labels.get(labels::TTL).map(String::as_str),
        ctx.config.lifetime.ttl,
    )
}

/// What berth knows about `ws`'s use at `now` (Unix seconds). Running: probes it
/// (one exec) for the signals `[activity] count` names. `Err` when the probe
/// could not tell, or the store could not say what it records (uses, a TTL set
/// with `berth ttl`, shell tabs): the cleanup job must then leave the workspace
/// alone.
pub async fn observe(ctx: &Ctx, ws: &Workspace, now: i64) -> Result<Activity> {
    Ok(observe_with(ctx, ws, now, true).await?.0)
}

/// [`observe`] with where the TTL comes from, for people (status, the TUI): a
/// store that cannot be read is logged and counts as recording nothing.
pub async fn observe_full(ctx: &Ctx, ws: &Workspace, now: i64) -> Result<(Activity, TtlSource)> {
    observe_with(ctx, ws, now, false).await
}

/// A store error: an error when `strict`, else logged (and `None`).
fn store_read<T>(ws: &Workspace, what: &str, strict: bool, r: Result<T>) -> Result<Option<T>> {
    match r {
        Ok(v) => Ok(Some(v)),
        Err(e) if strict => Err(anyhow!(
            "cannot tell whether workspace {} is in use: its {what} could not be read from the store: {e:#}",
            ws.name
        )),
        Err(e) => {
            tracing::warn!("cannot read the {what} of {}: {e:#}", ws.name);
            Ok(None)
        }
    }
}

async fn observe_with(
    ctx: &Ctx,
    ws: &Workspace,
    now: i64,
    strict: bool,
) -> Result<(Activity, TtlSource)> {
    let rec = if ws.container_id.is_empty() {
        Default::default()
    } else {
        let r = ctx.store.activity(&ws.container_id).await;
        store_read(ws, "recorded uses and TTL", strict, r)?.unwrap_or_default()
    };
    let (ttl, source) = ttl_of(ctx, ws, rec.ttl.as_deref());
    let mut last_used = rec.last_use.map(|u| u.at);
    let mut reasons = Vec::new();
    if ws.state == WorkspaceState::Running && !ws.container_id.is_empty() {
        reasons = alive_because(ctx, ws, strict).await?;
        if reasons.iter().any(|r| r.kind() == "ssh") {
            // A live session is a use now.
            record(ctx, ws, UseSource::SshSession, now).await;
            last_used = Some(now.max(last_used.unwrap_or(now)));
        }
    }
    Ok((
        Activity::derive(now, ws.created, last_used, ttl, reasons),
        source,
    ))
}

/// Why running `ws` counts as alive: the counted signals, in the order of
/// `AliveReason`'s kinds (ssh, shells, processes, cpu, ports).
async fn alive_because(ctx: &Ctx, ws: &Workspace, strict: bool) -> Result<Vec<AliveReason>> {
    let a = &ctx.config.activity;
    let rules = Rules {
        ssh: a.counts("ssh"),
        processes: a.counts("processes"),
        cpu: a.counts("cpu"),
        ports: a.counts("ports"),
        cpu_threshold: a.cpu_threshold_pct,
        ssh_port: SSHD_CONTAINER_PORT,
        ignore_ports: match crate::domain::dind::DockerInside::of(ws) {
            Some(_) => vec![crate::domain::dind::PORT],
            None => vec![],
        },
    };
    let mut reasons = Vec::new();
    if rules.ssh || rules.processes || rules.cpu || rules.ports {
        reasons = probe(ctx, ws, &rules).await?;
    }
    if a.counts("shells") {
        let r = ctx.store.open_shell_tabs(&ws.container_id).await;
        match store_read(ws, "shell tabs", strict, r)? {
            Some(open) if !open.is_empty() => {
                let tabs = open
                    .iter()
                    .map(|o| match o.tabs {
                        1 => format!("berth pid {}", o.owner.pid),
                        n => format!("berth pid {} ({n} tabs)", o.owner.pid),
                    })
                    .collect();
                let at = usize::from(reasons.first().is_some_and(|r| r.kind() == "ssh"));
                reasons.insert(at, AliveReason::ShellTabs { tabs });
            }
            _ => {}
        }
    }
    Ok(reasons)
}

/// Runs the probe in `ws` and reads its output.
async fn probe(ctx: &Ctx, ws: &Workspace, rules: &Rules) -> Result<Vec<AliveReason>> {
    let cannot =
        |why: String| anyhow!("cannot tell whether workspace {} is in use: {why}", ws.name);
    let req = ExecRequest {
        cmd: vec![
            "/bin/sh".into(),
            "-c".into(),
            activity_probe::script(rules.cpu),
        ],
        user: Some(WORKSPACE_USER.into()),
        timeout: Some(PROBE_TIMEOUT),
        ..Default::default()
    };
    let (outcome, out, err) = exec_collect(ctx.engine.as_ref(), &ws.container, req)
        .await
        .map_err(|e| cannot(format!("the probe could not run ({e})")))?;
    let seen = activity_probe::parse(&out);
    if outcome.timed_out || outcome.exit_code != 0 || !seen.complete {
        let stderr = String::from_utf8_lossy(&err);
        return Err(cannot(format!(
            "the probe {} ({})",
            if outcome.timed_out {
                "timed out".to_string()
            } else {
                format!("exited with {}", outcome.exit_code)
            },
            stderr.trim().lines().last().unwrap_or("no output")
        )));
    }
    Ok(seen.reasons(rules))
}

/// Records a use of `ws` (one store write). A failure is logged, never returned:
/// recording must not fail the user's command.
pub async fn record(ctx: &Ctx, ws: &Workspace, source: UseSource, now: i64) {
    if ws.container_id.is_empty() {
        return;
    }
    if let Err(e) = ctx
        .store
        .record_use(&ws.container_id, &ws.name, now, source.word())
        .await
    {
        tracing::warn!(
            "cannot record a use of {} ({}): {e:#}",
            ws.name,
            source.word()
        );
    }
}

/// Records a use of the workspace named `name` (looked up: one inspect).
pub async fn record_name(ctx: &Ctx, name: &str, source: UseSource) {
    let container = crate::domain::naming::WorkspaceName::parse(name).map(|n| n.container());
    let Ok(container) = container else { return };
    match ctx.engine.inspect_workspace(&container).await {
        Ok(Some(ws)) => record(ctx, &ws, source, crate::store::now()).await,
        Ok(None) => {}
        Err(e) => tracing::warn!("cannot record a use of {name}: {e}"),
    }
}

/// Sets `ws`'s TTL (`berth ttl NAME DURATION`), in the store: labels cannot change.
pub async fn set_ttl(ctx: &Ctx, ws: &Workspace, ttl: Ttl) -> Result<()> {
    if ws.container_id.is_empty() {
        anyhow::bail!(
            "workspace {} has no container (an unfinished create); `berth delete {}` removes what is left",
            ws.name,
            ws.name
        );
    }
    ctx.store
        .set_ttl(&ws.container_id, &ws.name, Some(ttl.to_string()))
        .await?;
    let _ = ctx.store.audit(&ws.name, "ttl", &ttl.to_string()).await;
    Ok(())
}

/// Recorded activity of every workspace in `ws` (by name), without probing (for
/// the list: no exec). Forgets records of containers that are gone.
pub async fn recorded(
    ctx: &Ctx,
    ws: &[Workspace],
    now: i64,
) -> HashMap<String, (Activity, TtlSource)> {
    let records = match ctx.store.activities().await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("cannot read recorded activity: {e:#}");
            Default::default()
        }
    };
    let alive: Vec<String> = ws
        .iter()
        .filter(|w| !w.container_id.is_empty())
        .map(|w| w.container_id.clone())
        .collect();
    // Records of the last minute stay: a create in flight may not be listed yet.
    // With several engines `ws` is one engine's: the others' records stay (the
    // merged list forgets gone ones when every engine answered).
    let before = now - 60;
    if !ctx.engines.several() {
        if let Err(e) = ctx.store.reconcile_activity(alive, before).await {
            tracing::warn!("cannot reconcile recorded activity: {e:#}");
        }
    }
    ws.iter()
        .map(|w| {
            let rec = records.get(&w.container_id);
            let (ttl, source) = ttl_of(ctx, w, rec.and_then(|r| r.ttl.as_deref()));
            let last = rec.and_then(|r| r.last_use.as_ref()).map(|u| u.at);
            let a = Activity::derive(now, w.created, last, ttl, vec![]);
            (w.name.clone(), (a, source))
        })
        .collect()
}

/// The list's TTL cell: "2d3h", "expired", "-" (never).
pub fn countdown(a: &Activity, now: i64) -> String {
    crate::domain::ttl::countdown(now, a.kill_after_at).unwrap_or_else(|| "-".into())
}

#[cfg(test)]
#[path = "activity_tests.rs"]
pub(super) mod tests;
