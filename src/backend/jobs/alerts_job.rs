//! The alerts job (read-only): `backend::alerts::check` every minute, saying each
//! alert when it starts and when it clears (the daemon's log; the TUI shows its
//! own banner).
use super::{Job, JobOutcome};
use crate::backend::Ctx;
use crate::config::Config;
use crate::domain::alerts::{changes, Alert};
use anyhow::Result;
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::Mutex;

/// The alerts that held at the last run, to say only the changes.
#[derive(Default)]
pub struct Alerts {
    last: Mutex<Vec<Alert>>,
    /// With several engines: those skipped at the last run, with why.
    down: Mutex<BTreeMap<String, String>>,
}

/// An engine's alert, keyed and said with its engine.
fn on_engine(engine: &str, mut a: Alert) -> Alert {
    a.key = format!("{engine}/{}", a.key);
    a.sentence = format!("engine {engine}: {}", a.sentence);
    a
}

impl Alerts {
    /// Every engine's alerts; an engine that cannot be reached keeps the alerts
    /// it had (unknown is not cleared), and its going and coming back are said.
    async fn every_engine(&self, ctx: &Ctx) -> Result<(Vec<Alert>, Vec<String>)> {
        let round =
            super::every_engine::each(
                ctx,
                |on| async move { crate::backend::alerts::check(&on).await },
            )
            .await;
        let last = self.last.lock().await.clone();
        let mut down = self.down.lock().await;
        let mut lines = Vec::new();
        let mut now = Vec::new();
        for (engine, alerts) in round.done {
            if down.remove(&engine).is_some() {
                lines.push(format!(
                    "engine {engine} reachable again: its alerts are checked"
                ));
            }
            now.extend(alerts.into_iter().map(|a| on_engine(&engine, a)));
        }
        for (engine, why) in round.skipped {
            let prefix = format!("{engine}/");
            now.extend(last.iter().filter(|a| a.key.starts_with(&prefix)).cloned());
            if !down.contains_key(&engine) {
                lines.push(format!(
                    "engine {engine} could not be reached ({why}); its alerts are not checked until it is"
                ));
            }
            down.insert(engine, why);
        }
        if down.len() == ctx.engines.defs().len() {
            let why: Vec<String> = down.iter().map(|(e, w)| format!("{e}: {w}")).collect();
            anyhow::bail!("no engine could be reached ({})", why.join("; "));
        }
        Ok((now, lines))
    }
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
        let (now, engines) = match ctx.engines.several() {
            true => self.every_engine(ctx).await?,
            false => (crate::backend::alerts::check(ctx).await?, Vec::new()),
        };
        let mut last = self.last.lock().await;
        let (started, cleared) = changes(&last, &now);
        let mut lines = engines;
        lines.extend(started.iter().map(|a| format!("alert: {}", a.sentence)));
        lines.extend(cleared.iter().map(|k| format!("alert cleared: {k}")));
        *last = now;
        Ok(JobOutcome::said(lines))
    }
}
