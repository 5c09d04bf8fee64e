//! Every background job, in one list: what `berth daemon` runs, and (the acting
//! ones) what a TUI holding the jobs lock runs.
//!
//! Adding a job whose state lives elsewhere (the store, the engine) is one entry in
//! [`all`] over an async function turning its report into a [`JobOutcome`]:
//!
//! ```ignore
//! async fn cleanup(ctx: &Ctx, now: i64) -> Result<JobOutcome> {
//!     let r = crate::backend::cleanup::run_once(ctx, now, false).await?;
//!     Ok(JobOutcome { acted: r.acted(), lines: r.lines() })
//! }
//! // in all():
//! Arc::new(FnJob { name: "cleanup", acting: true,
//!     interval: |c| c.cleanup.interval, run: |ctx, now| Box::pin(cleanup(ctx, now)) }),
//! ```
use super::{adapters, health, Job, JobOutcome};
use crate::backend::Ctx;
use crate::config::Config;
use anyhow::Result;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// A job that is one async function (its state elsewhere).
pub struct FnJob {
    pub name: &'static str,
    /// Changes workspaces: run only by the holder of the jobs lock.
    pub acting: bool,
    /// Its interval from the config (`None`: turned off).
    pub interval: fn(&Config) -> Option<Duration>,
    pub run: for<'a> fn(&'a Ctx, i64) -> BoxFuture<'a, Result<JobOutcome>>,
}

#[async_trait::async_trait]
impl Job for FnJob {
    fn name(&self) -> &'static str {
        self.name
    }

    fn acting(&self) -> bool {
        self.acting
    }

    fn interval(&self, config: &Config) -> Option<Duration> {
        (self.interval)(config)
    }

    async fn run(&self, ctx: &Ctx, now: i64) -> Result<JobOutcome> {
        (self.run)(ctx, now).await
    }
}

/// Every job berth runs in the background.
pub fn all() -> Vec<Arc<dyn Job>> {
    let mut jobs: Vec<Arc<dyn Job>> = vec![
        Arc::new(health::Health::default()),
        Arc::new(super::alerts_job::Alerts::default()),
        Arc::new(FnJob {
            name: "cleanup",
            acting: true,
            interval: |c| Some(c.cleanup.interval),
            run: |ctx, now| Box::pin(adapters::cleanup(ctx, now)),
        }),
        Arc::new(FnJob {
            name: "pool-refill",
            acting: true,
            interval: |c| (!c.pool.sizes.is_empty()).then_some(adapters::POOL_REFILL_EVERY),
            run: |ctx, now| Box::pin(adapters::pool_refill(ctx, now)),
        }),
    ];
    jobs.extend(test_job());
    jobs
}

/// The acting jobs only (what a TUI holding the lock runs; it checks health itself).
pub fn acting() -> Vec<Arc<dyn Job>> {
    all().into_iter().filter(|j| j.acting()).collect()
}

/// For berth's own tests of the lock with real processes only: with
/// `BERTH_TEST_ACTING_JOB_SECS=N` set, an acting job "test-tick" runs every N
/// seconds and does nothing but get recorded (with its runner's pid), so a test can
/// tell which process ran the acting jobs. Never set it otherwise.
pub const TEST_JOB_ENV: &str = "BERTH_TEST_ACTING_JOB_SECS";

fn test_job() -> Option<Arc<dyn Job>> {
    let secs: u64 = std::env::var(TEST_JOB_ENV).ok()?.parse().ok()?;
    Some(Arc::new(TestTick(Duration::from_secs(secs.max(1)))))
}

struct TestTick(Duration);

#[async_trait::async_trait]
impl Job for TestTick {
    fn name(&self) -> &'static str {
        "test-tick"
    }

    fn acting(&self) -> bool {
        true
    }

    fn interval(&self, _: &Config) -> Option<Duration> {
        Some(self.0)
    }

    async fn run(&self, _: &Ctx, _: i64) -> Result<JobOutcome> {
        Ok(JobOutcome::quiet())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn says_hi(_: &Ctx, now: i64) -> Result<JobOutcome> {
        Ok(JobOutcome::acted(vec![format!("hi at {now}")]))
    }

    #[test]
    fn an_fn_job_is_one_entry_and_health_is_listed() {
        let j = FnJob {
            name: "hi",
            acting: true,
            interval: |c| c.jobs.health_interval,
            run: |ctx, now| Box::pin(says_hi(ctx, now)),
        };
        assert!(j.acting() && j.name() == "hi");
        assert_eq!(
            j.interval(&Config::default()),
            Some(Duration::from_secs(30))
        );
        let names: Vec<&str> = all().iter().map(|j| j.name()).collect();
        assert!(names.contains(&"health"), "{names:?}");
        assert!(acting().iter().all(|j| j.acting()));
    }
}
