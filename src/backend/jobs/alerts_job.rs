//! The alerts job (read-only): `backend::alerts::check` every minute, saying each
//! alert when it starts and when it clears (the daemon's log; the TUI shows its
//! own banner).
use super::{Job, JobOutcome};
use crate::backend::Ctx;
use crate::config::Config;
use crate::domain::alerts::{changes, Alert};
use anyhow::Result;
use std::time::Duration;
use tokio::sync::Mutex;

/// The alerts that held at the last run, to say only the changes.
#[derive(Default)]
pub struct Alerts {
    last: Mutex<Vec<Alert>>,
}

#[async_trait::async_trait]
impl Job for Alerts {
    fn name(&self) -> &'static str {
        "alerts"
    }

    fn acting(&self) -> bool {
        false
    }

    fn interval(&self, _: &Config) -> Option<Duration> {
        Some(crate::backend::alerts::CHECK_EVERY)
    }

    async fn run(&self, ctx: &Ctx, _now: i64) -> Result<JobOutcome> {
        let now = crate::backend::alerts::check(ctx).await?;
        let mut last = self.last.lock().await;
        let (started, cleared) = changes(&last, &now);
        let mut lines: Vec<String> = started
            .iter()
            .map(|a| format!("alert: {}", a.sentence))
            .collect();
        lines.extend(cleared.iter().map(|k| format!("alert cleared: {k}")));
        *last = now;
        Ok(JobOutcome::said(lines))
    }
}
