//! The runner: every job in its own task, run on its interval with tokio's clock
//! (no jitter, so paused time in tests makes it deterministic). A job's next run
//! is `interval` after its last one started, or after it ended when it ran longer
//! than that: a job never overlaps itself. A failing job is recorded and runs again
//! at its next time; the others are not affected. Every task is in the runner's
//! [`JoinSet`]: [`Runner::shutdown`] ends them, and dropping the runner aborts them.
use super::{Job, JobOutcome};
use crate::backend::Ctx;
use crate::config::Config;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// One run of a job, as the runner hands it to its [`Sink`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunRecord {
    pub job: &'static str,
    pub acting: bool,
    /// When it started (Unix seconds, the runner's clock).
    pub started_at: i64,
    pub took: Duration,
    /// What it did, or why it failed (a sentence).
    pub result: Result<JobOutcome, String>,
}

impl RunRecord {
    pub fn acted(&self) -> bool {
        matches!(&self.result, Ok(o) if o.acted)
    }

    /// The outcome in one line, or the error.
    pub fn summary(&self) -> String {
        match &self.result {
            Ok(o) => o.summary(),
            Err(e) => format!("failed: {e}"),
        }
    }
}

/// Where records go (the store, a log, the TUI). Awaited: a slow sink slows its
/// job down rather than losing a record.
#[async_trait::async_trait]
pub trait Sink: Send + Sync {
    async fn ran(&self, record: RunRecord);
}

/// The wall clock (Unix seconds) the jobs are given: injected so tests choose it.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

pub fn wall_clock() -> Clock {
    Arc::new(|| chrono::Utc::now().timestamp())
}

/// How long [`Runner::shutdown`] lets a running job finish before dropping it.
pub const GRACE: Duration = Duration::from_secs(60);

/// What a runner needs besides its jobs.
pub struct Setup {
    /// The engine context; jobs wait while it is `None` (not connected yet).
    pub ctx: watch::Receiver<Option<Ctx>>,
    /// Whether this process holds the jobs lock: acting jobs wait while it is false.
    pub gate: watch::Receiver<bool>,
    pub sink: Arc<dyn Sink>,
    pub clock: Clock,
}

/// Running jobs. Ends them on [`Runner::shutdown`]; dropped, it aborts them.
pub struct Runner {
    stop: watch::Sender<bool>,
    tasks: JoinSet<()>,
}

impl Runner {
    /// Starts each job that is turned on in `config` (its first run is now, or as
    /// soon as the engine is reached and, for an acting job, the lock is held).
    pub fn spawn(jobs: Vec<Arc<dyn Job>>, config: &Config, setup: Setup) -> Self {
        let (stop, stop_rx) = watch::channel(false);
        let mut tasks = JoinSet::new();
        for job in jobs {
            let Some(every) = job.interval(config) else {
                tracing::debug!(job = job.name(), "job turned off in the config");
                continue;
            };
            let every = every.max(Duration::from_secs(1));
            let task = JobTask {
                job,
                every,
                ctx: setup.ctx.clone(),
                gate: setup.gate.clone(),
                stop: stop_rx.clone(),
                sink: setup.sink.clone(),
                clock: setup.clock.clone(),
            };
            tasks.spawn(task.run());
        }
        Self { stop, tasks }
    }

    /// How many jobs run.
    pub fn len(&self) -> usize {
        self.tasks.len()
    }

    pub fn is_empty(&self) -> bool {
        self.tasks.is_empty()
    }

    /// Stops every job: waiting ones at once, a running one when it finishes or
    /// after `grace` (then it is dropped at its current await). Every task has
    /// ended when this returns.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let ended = tokio::time::timeout(grace, async {
            while self.tasks.join_next().await.is_some() {}
        })
        .await;
        if ended.is_err() {
            tracing::warn!(
                "a job was still running {} s after the stop; it was cancelled",
                grace.as_secs()
            );
            self.tasks.abort_all();
            while self.tasks.join_next().await.is_some() {}
        }
    }
}

struct JobTask {
    job: Arc<dyn Job>,
    every: Duration,
    ctx: watch::Receiver<Option<Ctx>>,
    gate: watch::Receiver<bool>,
    stop: watch::Receiver<bool>,
    sink: Arc<dyn Sink>,
    clock: Clock,
}

impl JobTask {
    async fn run(mut self) {
        let mut next = Instant::now();
        loop {
            let mut stop = self.stop.clone();
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return,
                _ = tokio::time::sleep_until(next) => {}
            }
            if self.job.acting() {
                tokio::select! {
                    biased;
                    _ = stop.wait_for(|s| *s) => return,
                    held = self.gate.wait_for(|held| *held) => if held.is_err() { return },
                }
            }
            let ctx = tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => return,
                c = self.ctx.wait_for(|c| c.is_some()) => match c {
                    Ok(c) => c.clone(),
                    Err(_) => return,
                },
            };
            let Some(ctx) = ctx else { return };
            let started = Instant::now();
            let started_at = (self.clock)();
            let result = self
                .job
                .run(&ctx, started_at)
                .await
                .map_err(|e| format!("{e:#}"));
            let took = started.elapsed();
            self.sink
                .ran(RunRecord {
                    job: self.job.name(),
                    acting: self.job.acting(),
                    started_at,
                    took,
                    result,
                })
                .await;
            // Never overlapping itself: a run longer than the interval is followed
            // by a full interval, not by a run right away.
            let ended = Instant::now();
            next = if ended >= started + self.every {
                ended + self.every
            } else {
                started + self.every
            };
        }
    }
}
