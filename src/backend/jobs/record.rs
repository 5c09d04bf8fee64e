//! Where job runs go: the store (for `berth daemon status`), and the daemon's log
//! (stderr and the state directory's log) or the TUI's events.
use super::lock::Kind;
use super::runner::{RunRecord, Sink};
use crate::backend::service::Event;
use crate::store::{Creator, JobRun, Store};
use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use tokio::sync::mpsc;

/// What the TUI hears of the jobs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JobsNews {
    /// Who runs the acting jobs: "this TUI", "daemon pid 4121", "none (why)".
    Runner(String),
    /// A run that acted or failed.
    Ran {
        job: String,
        ok: bool,
        summary: String,
    },
}

/// Where a runner's records are told.
pub enum Out {
    /// Log lines to stderr and the log file (a daemon).
    Log,
    /// The log file only (`--once`, which prints its own report).
    File,
    /// Events to the TUI (runs that acted or failed), and the log file.
    Tui(mpsc::Sender<Event>),
}

pub struct Recorder {
    store: Store,
    kind: Kind,
    out: Out,
    /// Each job's last error, so a job failing the same way every run is said once.
    failing: Mutex<HashMap<&'static str, String>>,
}

impl Recorder {
    pub fn new(store: Store, kind: Kind, out: Out) -> Self {
        Self {
            store,
            kind,
            out,
            failing: Mutex::default(),
        }
    }

    /// The log lines for `r` (level, text), given the job's previous error.
    fn lines(&self, r: &RunRecord) -> Vec<(tracing::Level, String)> {
        let mut failing = self.failing.lock().unwrap_or_else(PoisonError::into_inner);
        match &r.result {
            Ok(o) => {
                let mut v: Vec<_> = o
                    .lines
                    .iter()
                    .map(|l| (tracing::Level::INFO, format!("{}: {l}", r.job)))
                    .collect();
                if failing.remove(r.job).is_some() {
                    v.push((tracing::Level::INFO, format!("{}: works again", r.job)));
                }
                v
            }
            Err(e) => {
                let again = failing.get(r.job) == Some(e);
                failing.insert(r.job, e.clone());
                let level = match again {
                    true => tracing::Level::DEBUG,
                    false => tracing::Level::WARN,
                };
                vec![(level, format!("{} failed: {e}", r.job))]
            }
        }
    }
}

#[async_trait::async_trait]
impl Sink for Recorder {
    async fn ran(&self, r: RunRecord) {
        let run = JobRun {
            job: r.job.to_string(),
            runner: match self.kind {
                Kind::Daemon => "daemon",
                Kind::Tui => "tui",
                Kind::Once => "once",
            }
            .into(),
            pid: Creator::current().pid,
            started_at: r.started_at,
            took_ms: r.took.as_millis() as u64,
            ok: r.result.is_ok(),
            acted: r.acted(),
            summary: r.summary(),
        };
        if let Err(e) = self.store.record_job_run(run).await {
            tracing::warn!("cannot record a run of job {}: {e:#}", r.job);
        }
        let lines = self.lines(&r);
        match &self.out {
            Out::Log => {
                for (level, text) in lines {
                    say(level, &text);
                }
            }
            Out::File => {
                for (level, text) in &lines {
                    log(*level, text);
                }
            }
            Out::Tui(events) => {
                for (level, text) in &lines {
                    log(*level, text);
                }
                if r.acted() || r.result.is_err() {
                    let news = JobsNews::Ran {
                        job: r.job.to_string(),
                        ok: r.result.is_ok(),
                        summary: r.summary(),
                    };
                    let _ = events.send(Event::Jobs(news)).await;
                }
            }
        }
    }
}

fn log(level: tracing::Level, text: &str) {
    match level {
        tracing::Level::ERROR => tracing::error!("{text}"),
        tracing::Level::WARN => tracing::warn!("{text}"),
        tracing::Level::INFO => tracing::info!("{text}"),
        _ => tracing::debug!("{text}"),
    }
}

/// A daemon's line: to the state directory's log and, from info up, to stderr as
/// a plain line with a UTC timestamp (journald keeps it as it is).
pub fn say(level: tracing::Level, text: &str) {
    log(level, text);
    if level <= tracing::Level::INFO {
        eprintln!(
            "{} berth daemon[{}]: {}{text}",
            chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ"),
            std::process::id(),
            match level {
                tracing::Level::WARN | tracing::Level::ERROR => "warning: ",
                _ => "",
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::jobs::JobOutcome;
    use std::time::Duration;

    fn rec(result: Result<JobOutcome, String>) -> RunRecord {
        RunRecord {
            job: "cleanup",
            acting: true,
            started_at: 1,
            took: Duration::from_millis(5),
            result,
        }
    }

    #[test]
    fn a_job_failing_the_same_way_is_said_once_and_its_recovery_too() {
        let dir = tempfile::tempdir().unwrap();
        let r = Recorder::new(Store::new(dir.path().join("db")), Kind::Daemon, Out::Log);
        let warn = |v: Vec<(tracing::Level, String)>| {
            v.into_iter()
                .filter(|(l, _)| *l <= tracing::Level::INFO)
                .map(|(_, t)| t)
                .collect::<Vec<_>>()
        };
        assert_eq!(
            warn(r.lines(&rec(Err("engine gone".into())))),
            ["cleanup failed: engine gone"]
        );
        assert!(warn(r.lines(&rec(Err("engine gone".into())))).is_empty());
        assert_eq!(
            warn(r.lines(&rec(Err("disk full".into())))),
            ["cleanup failed: disk full"]
        );
        assert_eq!(
            warn(r.lines(&rec(Ok(JobOutcome::acted(vec!["stopped a".into()]))))),
            ["cleanup: stopped a", "cleanup: works again"]
        );
        assert!(warn(r.lines(&rec(Ok(JobOutcome::quiet())))).is_empty());
    }
}
