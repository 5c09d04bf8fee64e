//! Alerts on what berth's workspaces take (`domain::alerts` decides): the
//! measurements gathered as cheaply as the engine allows, a [`Tracker`] that logs
//! when an alert starts and when it clears, and the TUI's task that checks every
//! [`CHECK_EVERY`] on the backend side (never on the UI loop).
use super::service::Event;
use super::Ctx;
use crate::domain::alerts::{changes, evaluate, Alert, Host, Thresholds, Use};
use crate::domain::limits::occupies;
use crate::domain::workspace::{Workspace, WorkspaceState};
use futures_util::StreamExt;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// How often the TUI's task checks.
pub const CHECK_EVERY: Duration = Duration::from_secs(60);
/// The TUI's first check waits this long after a connect (its execs and stats
/// streams stay out of the way of the first list and the follower); the sizes
/// already measured are shown at once.
pub const FIRST_CHECK_AFTER: Duration = Duration::from_secs(30);
/// How long the volume sizes a check measures may take.
const SIZES_DEADLINE: Duration = Duration::from_secs(20);
/// How long one workspace's CPU and memory sample may take.
const STATS_TIMEOUT: Duration = Duration::from_secs(5);
/// Workspaces sampled at once.
const PARALLEL: usize = 8;

/// CPU cores busy and memory used by running workspace `w`: the second sample of
/// the engine's stats stream (its first has no earlier reading to measure CPU
/// against). Zero when the engine gives none in time.
async fn sample(ctx: &Ctx, w: &Workspace) -> (f64, u64) {
    let mut stream = ctx.engine.stats(&w.container).take(2);
    let mut last = None;
    let read = async {
        while let Some(s) = stream.next().await {
            match s {
                Ok(s) => last = Some(s),
                Err(_) => break,
            }
        }
    };
    let _ = tokio::time::timeout(STATS_TIMEOUT, read).await;
    last.map_or((0.0, 0), |s| (s.cpu_percent / 100.0, s.mem_bytes))
}

/// What the aggregate alerts measure against: the host's CPUs and memory (the
/// engine's info) and the filesystem holding the volumes (`df` in a workspace).
fn host(
    info: Option<&crate::engine::EngineInfo>,
    sizes: &BTreeMap<String, crate::domain::disk_usage::Known>,
) -> Host {
    Host {
        cpus: info.map_or(0, |i| i.ncpu),
        mem_bytes: info.map_or(0, |i| i.mem_total),
        disk_bytes: sizes.values().max_by_key(|k| k.at).and_then(|k| k.fs_bytes),
    }
}

/// The alerts that hold now for berth's workspaces (pool slots aside), with the
/// thresholds of `ctx.config.limits`. The daemon and the TUI call this.
pub async fn check(ctx: &Ctx) -> anyhow::Result<Vec<Alert>> {
    Ok(check_and_sizes(ctx).await?.0)
}

/// [`check`], and the home volume sizes it knew, by workspace name.
async fn check_and_sizes(ctx: &Ctx) -> anyhow::Result<(Vec<Alert>, BTreeMap<String, u64>)> {
    let info = ctx.engine.info().await?;
    let ws: Vec<Workspace> = ctx
        .engine
        .list_workspaces()
        .await?
        .into_iter()
        .filter(|w| {
            !crate::domain::limits::is_pool_slot(w)
                && crate::domain::limits::ours(w, &ctx.config.labels)
        })
        .collect();
    let sizes = super::disk::sizes(ctx, &ws, super::disk::FRESH_FOR, SIZES_DEADLINE).await;
    let running: Vec<Workspace> = ws
        .iter()
        .filter(|w| occupies(w) && w.state == WorkspaceState::Running)
        .cloned()
        .collect();
    let samples: BTreeMap<String, (f64, u64)> = futures_util::stream::iter(running)
        .map(|w| async move {
            let s = sample(ctx, &w).await;
            (w.name, s)
        })
        .buffer_unordered(PARALLEL)
        .collect()
        .await;
    let uses: Vec<Use> = ws
        .iter()
        .map(|w| {
            let (cpu_cores, mem_bytes) = samples.get(&w.name).copied().unwrap_or_default();
            Use {
                name: w.name.clone(),
                cpu_cores,
                mem_bytes,
                disk_bytes: sizes.get(&w.name).map(|k| k.bytes),
            }
        })
        .collect();
    let l = &ctx.config.limits;
    let t = Thresholds {
        pct: l.alert_threshold_pct,
        disk_alert: l.disk_alert_bytes,
    };
    let alerts = evaluate(&host(Some(&info), &sizes), &uses, t);
    Ok((
        alerts,
        sizes.into_iter().map(|(n, k)| (n, k.bytes)).collect(),
    ))
}

/// The alerts last seen, to log when one starts and when one clears.
#[derive(Debug, Default)]
pub struct Tracker {
    last: Vec<Alert>,
}

impl Tracker {
    /// Takes a new check's alerts, logging (tracing) each change.
    pub fn update(&mut self, now: Vec<Alert>) {
        let (started, cleared) = changes(&self.last, &now);
        for a in started {
            tracing::warn!(alert = %a.key, "alert: {}", a.sentence);
        }
        for key in cleared {
            tracing::info!(alert = %key, "alert cleared: {key}");
        }
        self.last = now;
    }
}

/// The TUI's alerts: checked now and every [`CHECK_EVERY`], each result sent as
/// [`Event::Alerts`] (and the volume sizes it measured as [`Event::VolumeSizes`]).
/// The caller owns the handle and aborts it on reconnect or exit; it also ends
/// when the events channel closes.
pub fn spawn(ctx: Ctx, events: mpsc::Sender<Event>) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut tracker = Tracker::default();
        if let Ok(ws) = ctx.engine.list_workspaces().await {
            let known = super::disk::sizes(&ctx, &ws, i64::MAX, Duration::ZERO)
                .await
                .into_iter()
                .map(|(n, k)| (n, k.bytes))
                .collect();
            if events.send(Event::VolumeSizes(known)).await.is_err() {
                return;
            }
        }
        let mut tick =
            tokio::time::interval_at(tokio::time::Instant::now() + FIRST_CHECK_AFTER, CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            let (alerts, sizes) = match check_and_sizes(&ctx).await {
                Ok(a) => a,
                Err(e) => {
                    tracing::debug!("alerts not checked: {e:#}");
                    continue;
                }
            };
            tracker.update(alerts.clone());
            if events.send(Event::VolumeSizes(sizes)).await.is_err()
                || events.send(Event::Alerts(alerts)).await.is_err()
            {
                break;
            }
        }
    })
}
