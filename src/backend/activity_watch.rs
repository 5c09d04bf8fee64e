//! Activity for the TUI: the selected workspace observed at most every
//! [`OBSERVE_EVERY`] (one probe exec, never per frame), the recorded uses and TTLs
//! every [`DEADLINES_EVERY`] when they changed (one store read, no engine call:
//! the TUI joins them with the workspaces it has), and the shell tabs the TUI
//! opens and uses, recorded in the store.
use super::service::Event;
use super::Ctx;
use crate::domain::activity::{Activity, UseSource};
use crate::domain::naming::WorkspaceName;
use crate::domain::ttl_source::TtlSource;
use std::collections::{BTreeMap, HashMap};
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub const OBSERVE_EVERY: Duration = Duration::from_secs(5);
pub const DEADLINES_EVERY: Duration = Duration::from_secs(30);

/// What the status pane shows of a workspace's activity.
#[derive(Debug, Clone, PartialEq)]
pub struct ActivityView {
    pub activity: Activity,
    pub source: TtlSource,
    /// When it was observed (Unix seconds).
    pub at: i64,
}

/// Observes `selected` (if any) now and every [`OBSERVE_EVERY`], and sends the
/// deadlines of every workspace now and every [`DEADLINES_EVERY`]. The caller owns
/// the task: it aborts it when the selection changes or the backend ends.
pub fn spawn(ctx: Ctx, selected: Option<String>, events: mpsc::Sender<Event>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut observe = tokio::time::interval(OBSERVE_EVERY);
        observe.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        // The first read after the first observation: a connect sends enough.
        let first = tokio::time::Instant::now() + OBSERVE_EVERY;
        let mut deadlines = tokio::time::interval_at(first, DEADLINES_EVERY);
        deadlines.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sent: Option<Records> = None;
        loop {
            let ev = tokio::select! {
                _ = observe.tick() => match &selected {
                    Some(name) => Some(observe_one(&ctx, name).await),
                    None => None,
                },
                _ = deadlines.tick() => match ctx.store.activities().await {
                    Ok(r) if sent.as_ref() != Some(&r) => {
                        sent = Some(r.clone());
                        Some(Event::UseRecords { records: r, default_ttl: ctx.config.lifetime.ttl })
                    }
                    Ok(_) => None,
                    Err(e) => {
                        tracing::warn!("cannot read recorded activity: {e:#}");
                        None
                    }
                },
            };
            if let Some(ev) = ev {
                if events.send(ev).await.is_err() {
                    return;
                }
            }
        }
    })
}

async fn observe_one(ctx: &Ctx, name: &str) -> Event {
    let now = crate::store::now();
    let observed = async {
        let n = WorkspaceName::parse(name)?;
        let w = super::lifecycle::find(ctx, &n).await?;
        super::activity::observe_full(ctx, &w, now).await
    }
    .await
    .map(|(activity, source)| ActivityView {
        activity,
        source,
        at: now,
    })
    .map_err(|e| format!("{e:#}"));
    Event::Activity {
        name: name.to_string(),
        observed,
    }
}

/// Recorded uses and TTLs by container id.
pub type Records = HashMap<String, crate::store::ActivityRecord>;

/// When each workspace's TTL runs out (`None`: never), by name: the records
/// joined with the workspaces (pure, for the TUI's update).
pub fn deadlines(
    ws: &[crate::domain::workspace::Workspace],
    records: &Records,
    default_ttl: crate::domain::ttl::Ttl,
) -> BTreeMap<String, Option<i64>> {
    ws.iter()
        .map(|w| {
            let rec = records.get(&w.container_id);
            let (ttl, _) = crate::domain::ttl_source::resolve(
                rec.and_then(|r| r.ttl.as_deref()),
                w.labels.get(crate::domain::labels::TTL).map(String::as_str),
                default_ttl,
            );
            let last = rec.and_then(|r| r.last_use.as_ref()).map(|u| u.at);
            let since = last.unwrap_or(w.created).max(w.created);
            (w.name.clone(), ttl.after(since))
        })
        .collect()
}

/// A shell tab of this TUI opened (`open`) or closed on workspace `name`.
pub async fn shell_tab(ctx: &Ctx, id: u64, name: &str, open: bool) {
    if !open {
        if let Err(e) = ctx.store.shell_tab_closed(id).await {
            tracing::warn!("cannot record that shell tab {id} closed: {e:#}");
        }
        return;
    }
    let Ok(n) = WorkspaceName::parse(name) else {
        return;
    };
    match ctx.engine.inspect_workspace(&n.container()).await {
        Ok(Some(w)) => {
            if let Err(e) = ctx.store.shell_tab_opened(id, &w.container_id, name).await {
                tracing::warn!("cannot record shell tab {id} on {name}: {e:#}");
            }
            let now = crate::store::now();
            super::activity::record(ctx, &w, UseSource::ShellTab, now).await;
        }
        Ok(None) => {}
        Err(e) => tracing::warn!("cannot record shell tab {id} on {name}: {e}"),
    }
}

/// A shell tab on `name` had input or output lately: a use.
pub async fn shell_used(ctx: &Ctx, name: &str) {
    super::activity::record_name(ctx, name, UseSource::ShellTab).await;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::create_tests::{request, rig};
    use crate::engine::memory::Op;

    #[tokio::test(start_paused = true)]
    async fn the_selected_workspace_is_observed_every_few_seconds_not_more() {
        let r = rig((2200, 2210), Duration::ZERO);
        let (_c, rx) = tokio::sync::watch::channel(false);
        crate::backend::create::create(&r.ctx, request(&r.ctx, "sel", None), &|_| {}, rx)
            .await
            .unwrap();
        let (tx, mut events) = mpsc::channel(16);
        let calls = r.engine.calls(Op::Exec);
        let task = spawn(r.ctx.clone(), Some("sel".into()), tx);
        let mut observed = 0;
        let mut deadlines = 0;
        let end = tokio::time::Instant::now() + Duration::from_secs(31);
        while let Ok(Some(ev)) = tokio::time::timeout_at(end, events.recv()).await {
            match ev {
                Event::Activity { name, observed: o } => {
                    assert_eq!(name, "sel");
                    // The default exec handler prints nothing: berth cannot tell.
                    assert!(o.unwrap_err().contains("cannot tell"));
                    observed += 1;
                }
                Event::UseRecords { records, .. } => {
                    assert_eq!(records.len(), 1);
                    deadlines += 1;
                }
                _ => {}
            }
        }
        // At 0, 5, ..., 30 s: seven probes (one exec each); records read at 5 s
        // and 35 s, sent once (unchanged after).
        assert_eq!(observed, 7);
        assert_eq!(deadlines, 1);
        assert_eq!(r.engine.calls(Op::Exec) - calls, 7);
        task.abort();
        assert!(task.await.unwrap_err().is_cancelled());
    }

    #[tokio::test(start_paused = true)]
    async fn shell_tabs_are_recorded_and_forgotten() {
        let r = rig((2200, 2210), Duration::ZERO);
        let (_c, rx) = tokio::sync::watch::channel(false);
        crate::backend::create::create(&r.ctx, request(&r.ctx, "tab", None), &|_| {}, rx)
            .await
            .unwrap();
        let w = crate::backend::inventory::find(&r.ctx, &WorkspaceName::parse("tab").unwrap())
            .await
            .unwrap()
            .unwrap();
        shell_tab(&r.ctx, 3, "tab", true).await;
        let rec = r.ctx.store.activity(&w.container_id).await.unwrap();
        assert_eq!(rec.last_use.unwrap().source, "shell-tab");
        assert_eq!(
            r.ctx
                .store
                .open_shell_tabs(&w.container_id)
                .await
                .unwrap()
                .len(),
            1
        );
        shell_tab(&r.ctx, 3, "tab", false).await;
        assert!(r
            .ctx
            .store
            .open_shell_tabs(&w.container_id)
            .await
            .unwrap()
            .is_empty());
    }
}
