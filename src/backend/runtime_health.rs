//! Runtime health on the engine: a probe container per runtime (`domain::runtime`
//! says what its end means), results kept for [`FRESH_FOR`] so a create right
//! after a check does not probe again, the check a create makes before it makes
//! anything, and the task that checks every registered runtime while the TUI runs.
use super::Ctx;
use crate::domain::labels;
use crate::domain::runtime::{
    self, failed_to_run, judge, refusal, to_check, Checked, Health, Report, CHECK_EVERY,
    PROBE_TIMEOUT,
};
use crate::domain::workspace::WorkspaceSpec;
use crate::engine::{EngineError, ProbeSpec};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

pub use crate::domain::runtime::FRESH_FOR;

/// The latest check of each runtime, shared by the clones of a [`Ctx`] (the TUI's
/// periodic checks and its creates). Locked briefly, never across an await.
#[derive(Clone, Default)]
pub struct Cache(Arc<Mutex<BTreeMap<String, Checked>>>);

impl Cache {
    fn fresh(&self, runtime: &str, now: Instant) -> Option<Checked> {
        let map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.get(runtime).filter(|c| c.is_fresh(now)).cloned()
    }

    fn put(&self, c: &Checked) {
        let mut map = self.0.lock().unwrap_or_else(PoisonError::into_inner);
        map.insert(c.runtime.clone(), c.clone());
    }
}

/// Now, on tokio's clock (so paused time in tests moves it).
fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}

/// A container name for a probe of `runtime`, unique in this process and among
/// processes.
fn probe_name(runtime: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    let safe: String = runtime
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!(
        "berth-probe.{safe}.{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// The image a probe runs: the configured workspace image, else `fallback` (a
/// create's own image, which it has checked is present). Never pulled: when
/// neither is present, the check says so.
async fn probe_image(ctx: &Ctx, fallback: Option<&str>) -> Result<String, String> {
    let configured = ctx.config.image.clone();
    for image in std::iter::once(configured.as_str()).chain(fallback) {
        if ctx
            .engine
            .image_present(image)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(image.to_string());
        }
    }
    Err(format!(
        "its probe runs the workspace image, and {configured} is not present in the engine \
         (berth never pulls for a check); build it with `berth image build`"
    ))
}

/// Removes probe containers a killed berth left behind (stopped, and old or made
/// by a process that is gone): they hold nothing, and nothing else would remove
/// them. A failure only leaves them for the next probe.
async fn sweep_probes(ctx: &Ctx) {
    let left = match ctx.engine.probes_left().await {
        Ok(l) => l,
        Err(e) => {
            tracing::debug!("cannot list leftover probe containers: {e}");
            return;
        }
    };
    if left.is_empty() {
        return;
    }
    let now = chrono::Utc::now().timestamp();
    let stale = tokio::task::spawn_blocking(move || {
        let alive = |pid: u32| std::path::Path::new(&format!("/proc/{pid}")).exists();
        left.into_iter()
            .filter(|p| crate::engine::probe::is_stale(p, now, alive))
            .collect::<Vec<_>>()
    })
    .await
    .unwrap_or_default();
    for p in stale {
        match ctx.engine.remove_container(&p.name).await {
            Ok(()) => tracing::info!("removed probe container {} left behind", p.name),
            Err(e) if e.is_not_found() => {}
            Err(e) => tracing::warn!("cannot remove probe container {}: {e}", p.name),
        }
    }
}

/// Probes `runtime` (registered) now and remembers the result.
async fn probe(ctx: &Ctx, runtime: &str, fallback_image: Option<&str>) -> Checked {
    sweep_probes(ctx).await;
    let started = tokio::time::Instant::now();
    let health = match probe_image(ctx, fallback_image).await {
        Err(why) => Health::Unchecked { why },
        Ok(image) => {
            let spec = ProbeSpec {
                name: probe_name(runtime),
                image,
                runtime: Some(runtime.to_string()),
                labels: labels::probe_labels(&ctx.config.labels, runtime),
                timeout: PROBE_TIMEOUT,
                init: super::podman::wants_init(ctx),
            };
            match ctx.engine.probe_runtime(&spec).await {
                Ok(o) => judge(o.exit_code, o.timed_out, &o.output),
                Err(e) if e.is_unreachable() => Health::Unchecked { why: e.to_string() },
                Err(e) => failed_to_run(&engine_words(&e)),
            }
        }
    };
    let c = Checked {
        runtime: runtime.to_string(),
        health,
        took: started.elapsed(),
        at: now(),
    };
    if !matches!(c.health, Health::Unchecked { .. }) {
        ctx.runtimes.put(&c);
    }
    c
}

/// The engine's own words, without berth's "engine error:" prefix.
fn engine_words(e: &EngineError) -> String {
    match e {
        EngineError::Api(m) | EngineError::Conflict(m) => m.clone(),
        other => other.to_string(),
    }
}

/// `runtime`'s health: a fresh remembered check, else a probe now.
pub async fn check(ctx: &Ctx, runtime: &str, fallback_image: Option<&str>) -> Checked {
    match ctx.runtimes.fresh(runtime, now()) {
        Some(c) => c,
        None => probe(ctx, runtime, fallback_image).await,
    }
}

/// Every registered runtime (but containerd's aliases for runc) probed now, one
/// after the other (probes in parallel would measure each other).
pub async fn report(ctx: &Ctx) -> Result<Report, EngineError> {
    let info = ctx.engine.info().await?;
    let mut checks = BTreeMap::new();
    for r in to_check(&info.runtimes) {
        let c = probe(ctx, &r, None).await;
        checks.insert(r, c);
    }
    Ok(Report {
        default: info.default_runtime,
        registered: info.runtimes,
        checks,
    })
}

/// Before a create makes anything: the runtime it asks for (the engine's default
/// when none) is registered and healthy, else why not, in a sentence.
pub async fn preflight(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<(), String> {
    let info = ctx.engine.info().await.map_err(|e| e.to_string())?;
    let name = runtime::resolve(spec.runtime.as_deref(), &info.default_runtime);
    if name.is_empty() {
        // An engine that names no default: it picks one itself.
        return Ok(());
    }
    let health = if info.runtimes.contains(&name) {
        check(ctx, &name, Some(&spec.image)).await.health
    } else {
        Health::Unregistered
    };
    match refusal(&name, &health, &info.runtimes) {
        None => Ok(()),
        Some(why) => Err(why),
    }
}

/// Checks every registered runtime now and every [`CHECK_EVERY`], handing each
/// report to `send` (which waits for room; it returns false when nobody listens
/// any more, and the task ends). An engine that cannot be asked is skipped until
/// the next round (the watcher reports the outage).
pub async fn watch<F, Fut>(ctx: Ctx, send: F)
where
    F: Fn(Report) -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let mut every = tokio::time::interval(CHECK_EVERY);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        match report(&ctx).await {
            Ok(r) => {
                if !send(r).await {
                    return;
                }
            }
            Err(e) => tracing::debug!("runtime check skipped: {e}"),
        }
    }
}

/// [`watch`] as a task sending [`Event::Runtimes`](super::service::Event::Runtimes)
/// to the TUI; it ends when the TUI stops listening (or is aborted).
pub fn spawn(
    ctx: Ctx,
    events: tokio::sync::mpsc::Sender<super::service::Event>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(watch(ctx, move |r| {
        let events = events.clone();
        async move {
            events
                .send(super::service::Event::Runtimes(r))
                .await
                .is_ok()
        }
    }))
}

#[cfg(test)]
#[path = "runtime_health_tests.rs"]
mod tests;
