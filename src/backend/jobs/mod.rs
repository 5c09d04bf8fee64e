//! Background jobs (cleanup, warm pool refill, health, alerts): each a [`Job`] with
//! its own interval, run by one [`runner::Runner`]. The jobs that change
//! workspaces ("acting" jobs) run only in the process holding the jobs lock
//! ([`lock`]): `berth daemon` (see [`daemon`]), or a TUI when no daemon holds it
//! ([`tui`]). Read-only jobs run wherever a runner runs.
pub mod adapters;
pub mod alerts_job;
pub mod daemon;
pub mod every_engine;
pub mod health;
pub mod lock;
pub mod record;
pub mod registry;
pub mod runner;
pub mod tui;

#[cfg(test)]
mod daemon_tests;
#[cfg(test)]
mod every_engine_tests;
#[cfg(test)]
mod lock_tests;
#[cfg(test)]
mod runner_tests;

use super::Ctx;
use crate::config::Config;
use std::time::Duration;

/// What one run of a job did, in sentences for the log, the TUI and
/// `berth daemon status`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct JobOutcome {
    /// It changed something (stopped, deleted, snapshotted, made a workspace).
    pub acted: bool,
    /// What it did or found worth saying, a sentence each (empty: nothing to say).
    pub lines: Vec<String>,
}

impl JobOutcome {
    /// Nothing done, nothing to say.
    pub fn quiet() -> Self {
        Self::default()
    }

    /// Something found worth saying, nothing changed.
    pub fn said(lines: Vec<String>) -> Self {
        Self {
            acted: false,
            lines,
        }
    }

    /// Something changed: `lines` say what.
    pub fn acted(lines: Vec<String>) -> Self {
        Self { acted: true, lines }
    }

    /// One line for a status table: the sentences joined, or "nothing to do".
    pub fn summary(&self) -> String {
        if self.lines.is_empty() {
            "nothing to do".into()
        } else {
            self.lines.join("; ")
        }
    }
}

/// A background job.
#[async_trait::async_trait]
pub trait Job: Send + Sync {
    /// Its name in logs, the store and `berth daemon status` (lowercase, no spaces).
    fn name(&self) -> &'static str;

    /// Whether it changes workspaces: then only the holder of the jobs lock runs it,
    /// so two processes never run it at once.
    fn acting(&self) -> bool;

    /// How often it runs, from the config; `None`: it is turned off.
    fn interval(&self, config: &Config) -> Option<Duration>;

    /// One run at `now` (Unix seconds). An error is recorded and logged, and the job
    /// runs again at its next time; it never stops the other jobs.
    ///
    /// A runner being stopped lets a running job finish for a grace period and
    /// then drops it: a job must leave nothing half-made when dropped at an await.
    async fn run(&self, ctx: &Ctx, now: i64) -> anyhow::Result<JobOutcome>;
}
