//! The cleanup job, once (`berth gc`; the daemon and the TUI call [`run_once`]):
//! per workspace, the policy (`domain::cleanup`) over its activity decides keep,
//! stop or delete; stops and removals are retried with backoff (`retry`).
//!
//! A delete never loses work silently: the workspace is stopped first (so nothing
//! writes during the check), its home checked (`cleanup_work`), and when work is
//! found it is snapshotted (`NAME-gc-YYYYMMDD-HHMMSS`, deleted only once the
//! snapshot is there and complete) or kept, stopped (`[cleanup] unpushed =
//! "refuse"`); either way the audit trail and the report say what was found.
//! A dry run changes nothing (a stopped workspace's check still runs in a reader
//! container, which is removed).
//!
//! Workspaces are handled one after another, each bounded by `retry_for` per
//! retried operation; dropping the future stops the job between engine calls (a
//! snapshot cut midway is incomplete and `berth snapshot rm` removes it).
use super::retry::{retry, Ended, Retried};
use super::{activity, cleanup_work, inventory, lifecycle, snapshot, Ctx};
use crate::config::cleanup::Unpushed;
use crate::domain::backoff::Backoff;
use crate::domain::cleanup::{decide, Decision, Subject};
use crate::domain::cleanup_work::WorkFound;
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::snapshot::SnapshotName;
use crate::domain::workspace::{Workspace, WorkspaceState};
use anyhow::Result;
use serde::Serialize;
use tokio::sync::watch;

/// What happened to one workspace.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Done {
    Nothing,
    Stopped,
    Deleted,
    /// Work found and `unpushed = "refuse"`: kept (stopped).
    Refused,
    WouldStop,
    WouldDelete,
    WouldRefuse,
    /// The action failed (after its retries); `errors` say why.
    Failed,
}

/// One workspace's line in the report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Line {
    pub name: String,
    pub decision: Decision,
    /// Why the policy decided so.
    pub why: String,
    pub done: Done,
    /// What was done, as a sentence.
    pub what: String,
    /// What the work check found (deletes only).
    pub work: Option<WorkFound>,
    /// The snapshot taken of its work (or that a dry run would take).
    pub snapshot: Option<String>,
    /// Attempts after the first, over its stop and removal.
    pub retries: u32,
    pub errors: Vec<String>,
}

impl Line {
    fn new(name: &str, decision: Decision, why: String) -> Self {
        Self {
            name: name.to_string(),
            decision,
            why,
            done: Done::Nothing,
            what: "kept".into(),
            work: None,
            snapshot: None,
            retries: 0,
            errors: Vec::new(),
        }
    }

    pub fn failed(&self) -> bool {
        self.done == Done::Failed
    }

    /// "NAME: delete: TTL 3d expired 2h ago. Snapshotted ... then deleted (2 retries)".
    pub fn sentence(&self) -> String {
        let retries = match self.retries {
            0 => String::new(),
            1 => " (1 retry)".into(),
            n => format!(" ({n} retries)"),
        };
        format!(
            "{}: {} ({}). {}{retries}",
            self.name,
            self.decision.word(),
            self.why,
            self.what
        )
    }

    fn absorb(&mut self, r: &Retried) {
        self.retries += r.retries();
        self.errors.extend(r.errors.iter().cloned());
    }

    fn fail(&mut self, what: String) {
        self.done = Done::Failed;
        self.errors.push(what.clone());
        self.what = what;
    }
}

/// What one round of the job did (or would do).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CleanupReport {
    /// When it ran (Unix seconds).
    pub at: i64,
    pub dry_run: bool,
    pub workspaces: Vec<Line>,
}

impl CleanupReport {
    /// Some action failed after its retries.
    pub fn failed(&self) -> bool {
        self.workspaces.iter().any(Line::failed)
    }

    /// One line for a status bar: "2 workspaces: 1 stopped, 1 deleted".
    pub fn summary(&self) -> String {
        let count = |d: Done| self.workspaces.iter().filter(|l| l.done == d).count();
        let mut parts = Vec::new();
        for (d, word) in [
            (Done::Stopped, "stopped"),
            (Done::Deleted, "deleted"),
            (Done::Refused, "kept with unsaved work"),
            (Done::WouldStop, "would stop"),
            (Done::WouldDelete, "would delete"),
            (Done::WouldRefuse, "would keep with unsaved work"),
            (Done::Failed, "failed"),
        ] {
            let n = count(d);
            if n > 0 {
                parts.push(format!("{n} {word}"));
            }
        }
        let n = self.workspaces.len();
        let head = format!("{n} workspace{}", if n == 1 { "" } else { "s" });
        if parts.is_empty() {
            format!("{head}: nothing to do")
        } else {
            format!("{head}: {}", parts.join(", "))
        }
    }
}

/// Runs the job once at `now` (Unix seconds). `dry_run`: decide and check, change
/// nothing. An `Err` only when the workspaces cannot be listed.
pub async fn run_once(ctx: &Ctx, now: i64, dry_run: bool) -> Result<CleanupReport> {
    let all = inventory::list(ctx).await?;
    let mut report = CleanupReport {
        at: now,
        dry_run,
        workspaces: Vec::new(),
    };
    for ws in all {
        // Sidecars, pool containers and helpers are not workspaces here.
        if ws.labels.get(labels::ROLE).map(String::as_str) != Some(labels::ROLE_WORKSPACE) {
            continue;
        }
        // With `[labels]` in the config, only the workspaces carrying them are this
        // berth's (a team sharing an engine cleans up only its own), as for
        // `delete --all`.
        if !super::delete_all::in_scope(&ws, &ctx.config.labels) {
            continue;
        }
        report.workspaces.push(one(ctx, &ws, now, dry_run).await);
    }
    Ok(report)
}

fn backoff(ctx: &Ctx, name: &str, now: i64) -> Backoff {
    let seed = name
        .bytes()
        .fold(now as u64, |h, b| h.rotate_left(5) ^ u64::from(b));
    Backoff::within(ctx.config.cleanup.retry_for).with_jitter(seed)
}

async fn one(ctx: &Ctx, ws: &Workspace, now: i64, dry_run: bool) -> Line {
    // Only workspaces this berth made or used: another user's on a shared engine
    // lives by their berth's TTLs and records, not by this config's.
    match ctx.store.activity(&ws.container_id).await {
        Ok(r) if r.last_use.is_none() && r.ttl.is_none() => {
            let mut l = Line::new(
                &ws.name,
                Decision::Keep,
                "this berth has no record of making or using it (another berth's, or made before berth recorded uses; a use or `berth ttl` makes it this berth's)".into(),
            );
            l.what = "kept".into();
            return l;
        }
        Ok(_) => {}
        Err(e) => {
            let mut l = Line::new(
                &ws.name,
                Decision::Keep,
                format!("its records could not be read: {e:#}"),
            );
            l.errors.push(format!("{e:#}"));
            return l;
        }
    }
    let a = match activity::observe(ctx, ws, now).await {
        Ok(a) => a,
        Err(e) => {
            let mut l = Line::new(
                &ws.name,
                Decision::Keep,
                format!("its activity could not be read: {e:#}"),
            );
            l.errors.push(format!("{e:#}"));
            return l;
        }
    };
    let s = Subject {
        state: ws.state,
        provision: &ws.provision,
        activity: &a,
    };
    let v = decide(now, s, &ctx.config.cleanup.policy());
    let mut line = Line::new(&ws.name, v.decision, v.why);
    let Ok(name) = WorkspaceName::parse(&ws.name) else {
        line.what = "kept: its name is not one berth makes".into();
        return line;
    };
    match (v.decision, dry_run) {
        (Decision::Keep, _) => {}
        (Decision::Stop, true) => {
            line.done = Done::WouldStop;
            line.what = "would stop it".into();
        }
        (Decision::Stop, false) => {
            if stop(ctx, &name, now, &mut line).await {
                line.done = Done::Stopped;
                line.what = "stopped".into();
                audit(ctx, &name, "gc-stop", &line.why).await;
            }
        }
        (Decision::Delete, _) if sidecar_data(ctx, &name, now, dry_run, &mut line).await => {}
        (Decision::Delete, true) => dry_delete(ctx, ws, &name, now, &mut line).await,
        (Decision::Delete, false) => delete(ctx, ws, &name, now, &mut line).await,
    }
    line
}

/// Its sidecars' volumes (a service's database, Docker inside's images) are in no
/// snapshot, so the job never deletes a workspace that has some: it is kept (and
/// stopped, a dry run aside) with the sentence that says why. True when kept.
async fn sidecar_data(
    ctx: &Ctx,
    name: &WorkspaceName,
    now: i64,
    dry_run: bool,
    line: &mut Line,
) -> bool {
    let plan = match lifecycle::plan_delete(ctx, name, false).await {
        Ok(p) => p,
        Err(e) => {
            line.fail(format!("what it owns could not be listed: {e:#}"));
            return true;
        }
    };
    if plan.sidecars.volumes.is_empty() {
        return false;
    }
    let why = format!(
        "its sidecars' volumes ({}) hold data no snapshot keeps; `berth delete {name}` removes it when that data is not needed",
        plan.sidecars.volumes.join(", ")
    );
    if dry_run {
        line.done = Done::WouldRefuse;
        line.what = format!("would keep it (stopped): {why}");
        return true;
    }
    if plan.container.is_some() && !stop(ctx, name, now, line).await {
        return true;
    }
    let what = format!("kept (stopped): {why}");
    audit(ctx, name, "gc-refuse", &what).await;
    line.done = Done::Refused;
    line.what = what;
    true
}

async fn audit(ctx: &Ctx, name: &WorkspaceName, action: &str, detail: &str) {
    if let Err(e) = ctx.store.audit(name.as_str(), action, detail).await {
        tracing::warn!("cannot write the audit trail for {name}: {e:#}");
    }
}

/// Stops `name` with retries; false (and the line failed) when it could not.
async fn stop(ctx: &Ctx, name: &WorkspaceName, now: i64, line: &mut Line) -> bool {
    let r = retry(&backoff(ctx, name.as_str(), now), |_| async {
        lifecycle::stop(ctx, name, &|_| {}).await.map(|_| ())
    })
    .await;
    line.absorb(&r);
    match r.ended {
        Ended::Done | Ended::AlreadyDone(_) => true,
        Ended::GaveUp(e) | Ended::Failed(e) => {
            let what = format!("stopping it failed: {e}");
            audit(ctx, name, "gc-failed", &what).await;
            line.fail(what);
            false
        }
    }
}

fn gc_snapshot(name: &WorkspaceName, now: i64) -> SnapshotName {
    let at = chrono::DateTime::from_timestamp(now, 0).unwrap_or_default();
    SnapshotName::for_gc(name, at)
}

async fn dry_delete(ctx: &Ctx, ws: &Workspace, name: &WorkspaceName, now: i64, line: &mut Line) {
    let work = cleanup_work::check(ctx, ws).await;
    match (work.any(), ctx.config.cleanup.unpushed) {
        (false, _) => {
            line.done = Done::WouldDelete;
            line.what = format!("would delete it: {}", work.sentence());
        }
        (true, Unpushed::Snapshot) => {
            let snap = gc_snapshot(name, now);
            line.done = Done::WouldDelete;
            line.what = format!(
                "would snapshot it as {snap}, then delete it: {}",
                work.sentence()
            );
            line.snapshot = Some(snap.to_string());
        }
        (true, Unpushed::Refuse) => {
            line.done = Done::WouldRefuse;
            line.what = format!(
                "would keep it (stopped): unsaved work, and cleanup.unpushed is refuse: {}",
                work.sentence()
            );
        }
    }
    line.work = Some(work);
}

async fn delete(ctx: &Ctx, ws: &Workspace, name: &WorkspaceName, now: i64, line: &mut Line) {
    // Stopped first: nothing writes to the home while it is checked and copied.
    if ws.state == WorkspaceState::Running && !stop(ctx, name, now, line).await {
        return;
    }
    let ws = match lifecycle::find(ctx, name).await {
        Ok(w) => w,
        Err(e) => {
            line.fail(format!("it could not be looked at after stopping: {e:#}"));
            return;
        }
    };
    let work = cleanup_work::check(ctx, &ws).await;
    let found = work.sentence();
    let has_work = work.any();
    line.work = Some(work);
    if has_work {
        audit(ctx, name, "gc-work-found", &found).await;
        match ctx.config.cleanup.unpushed {
            Unpushed::Refuse => {
                let what = format!(
                    "kept (stopped): unsaved work, and cleanup.unpushed is refuse: {found}"
                );
                audit(ctx, name, "gc-refuse", &what).await;
                line.done = Done::Refused;
                line.what = what;
                return;
            }
            Unpushed::Snapshot => match take_snapshot(ctx, name, now).await {
                Ok(snap) => {
                    audit(ctx, name, "gc-snapshot", &format!("{snap}: {found}")).await;
                    line.snapshot = Some(snap);
                }
                Err(e) => {
                    let what = format!(
                        "kept (stopped): unsaved work ({found}) and its snapshot failed: {e:#}"
                    );
                    audit(ctx, name, "gc-failed", &what).await;
                    line.fail(what);
                    return;
                }
            },
        }
    }
    // The removal is forced (a running container goes too): every attempt first
    // makes sure the workspace is still the stopped one that was checked.
    let changed: std::sync::Mutex<Option<String>> = Default::default();
    let checked_id = ws.container_id.as_str();
    let r = retry(&backoff(ctx, name.as_str(), now), |attempt| {
        let changed = &changed;
        async move {
            if let Some(why) = changed_since_check(ctx, name, checked_id).await? {
                if let Ok(mut c) = changed.lock() {
                    *c = Some(why);
                }
                return Ok(());
            }
            // A later attempt may find an earlier one finished the job.
            if attempt > 1 && gone(ctx, name).await? {
                return Ok(());
            }
            lifecycle::delete(ctx, name, false).await.map(|_| ())
        }
    })
    .await;
    line.absorb(&r);
    let changed = changed.into_inner().ok().flatten();
    if let (Some(why), true) = (changed, r.ended.ok()) {
        let what = match &line.snapshot {
            Some(s) => format!("kept: {why} (its work was snapshotted as {s}: {found})"),
            None => format!("kept: {why}"),
        };
        audit(ctx, name, "gc-kept", &what).await;
        line.done = Done::Nothing;
        line.what = what;
        return;
    }
    match r.ended {
        Ended::Done | Ended::AlreadyDone(_) => {
            line.done = Done::Deleted;
            line.what = match &line.snapshot {
                Some(s) => format!("snapshotted as {s} ({found}), then deleted"),
                None => format!("deleted: {found}"),
            };
            audit(
                ctx,
                name,
                "gc-delete",
                &format!("{}; {}", line.why, line.what),
            )
            .await;
        }
        Ended::GaveUp(e) | Ended::Failed(e) => {
            let what = format!("deleting it failed: {e}");
            audit(ctx, name, "gc-failed", &what).await;
            line.fail(what);
        }
    }
}

/// Why `name` is no longer the stopped workspace (container `checked_id`) whose
/// home was checked, if it is not: started meanwhile (it may hold new work, and
/// counts as in use), or made again. `None`: still it, or gone.
async fn changed_since_check(
    ctx: &Ctx,
    name: &WorkspaceName,
    checked_id: &str,
) -> Result<Option<String>> {
    let Some(w) = inventory::find(ctx, name).await? else {
        return Ok(None);
    };
    if !w.container_id.is_empty() && w.container_id != checked_id {
        return Ok(Some(
            "it was made again (another container) while the cleanup looked at it".into(),
        ));
    }
    Ok(match w.state {
        WorkspaceState::Running | WorkspaceState::Paused | WorkspaceState::Restarting => {
            Some(format!(
                "it was started while the cleanup looked at it ({} now)",
                w.state.as_str()
            ))
        }
        _ => None,
    })
}

/// Nothing of `name` is left (container, home volume, sidecars).
async fn gone(ctx: &Ctx, name: &WorkspaceName) -> Result<bool> {
    Ok(inventory::find(ctx, name).await?.is_none()
        && !ctx.engine.volume_exists(&name.volume()).await?
        && super::sidecars::owned(ctx, name).await?.is_empty())
}

/// Takes the snapshot and makes sure it is there and complete.
async fn take_snapshot(ctx: &Ctx, name: &WorkspaceName, now: i64) -> Result<String> {
    let snap = gc_snapshot(name, now);
    // The sender is dropped: nothing cancels the snapshot but dropping the job.
    let cancel = watch::channel(false).1;
    snapshot::take(ctx, name, Some(snap.clone()), &|_| {}, cancel).await?;
    match snapshot::find(ctx, &snap).await? {
        Some(info) if info.complete => Ok(snap.to_string()),
        Some(_) => anyhow::bail!("snapshot {snap} is incomplete"),
        None => anyhow::bail!("snapshot {snap} is not there after it was taken"),
    }
}
