//! `berth daemon`: every job, headless. It takes the jobs lock, or waits as a
//! standby while another daemon or a TUI holds it (running the read-only jobs
//! meanwhile) and takes over when that one exits. A stop lets a running job
//! finish (up to [`GRACE`]), then releases the lock.
use super::lock::{self, Attempt, Holder, Kind};
use super::record::{say, Out, Recorder};
use super::runner::{wall_clock, Runner, Setup, GRACE};
use super::{registry, Job, JobOutcome};
use crate::backend::engines::EngineSet;
use crate::backend::service::Connector;
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::store::Store;
use anyhow::Result;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;
use tracing::Level;

/// How often a standby tries the lock (and so how soon it takes over).
pub const STANDBY_POLL: Duration = Duration::from_secs(1);
/// How often an unreachable engine is tried again at start.
pub const CONNECT_RETRY: Duration = Duration::from_secs(5);

/// What a daemon runs with.
pub struct Daemon {
    pub paths: Paths,
    pub config: Config,
    pub store: Store,
    pub connect: Connector,
    pub jobs: Vec<Arc<dyn Job>>,
    /// Every engine of this berth (`connect` reaches its default one): the
    /// cleanup and alerts act on each. `None`: the connected engine alone.
    pub engines: Option<Arc<EngineSet>>,
    pub poll: Duration,
    pub grace: Duration,
}

impl Daemon {
    pub fn new(paths: Paths, config: Config, store: Store, connect: Connector) -> Self {
        Self {
            paths,
            config,
            store,
            connect,
            jobs: registry::all(),
            engines: None,
            poll: STANDBY_POLL,
            grace: GRACE,
        }
    }

    /// Runs until `stop` turns true (or its sender goes), then stops cleanly.
    pub async fn serve(self, mut stop: watch::Receiver<bool>) -> Result<()> {
        let (ctx_tx, ctx_rx) = watch::channel(None);
        let (gate_tx, gate_rx) = watch::channel(false);
        let mut connecting = tokio::spawn(connect_loop(
            self.connect.clone(),
            self.paths.clone(),
            self.config.clone(),
            self.store.clone(),
            self.engines.clone(),
            ctx_tx,
        ));
        let sink = Arc::new(Recorder::new(self.store.clone(), Kind::Daemon, Out::Log));
        let setup = Setup {
            ctx: ctx_rx,
            gate: gate_rx,
            sink,
            clock: wall_clock(),
        };
        let runner = Runner::spawn(self.jobs, &self.config, setup);
        say(
            Level::INFO,
            &format!(
                "started ({} jobs; state directory {})",
                runner.len(),
                self.paths.state_dir.display()
            ),
        );
        let mut held = None;
        let mut told: Option<Result<Holder, String>> = None;
        loop {
            if held.is_none() {
                let attempt = lock::try_acquire(&self.paths.state_dir, Kind::Daemon).await;
                let seen = match attempt {
                    Ok(Attempt::Held(l)) => {
                        let from = match &told {
                            Some(Ok(h)) => format!(" from {}", h.describe()),
                            _ => String::new(),
                        };
                        say(
                            Level::INFO,
                            &format!("holding the jobs lock{from}: this daemon runs every job"),
                        );
                        gate_tx.send_replace(true);
                        held = Some(l);
                        None
                    }
                    Ok(Attempt::Taken(h)) => Some(Ok(h)),
                    Err(e) => Some(Err(format!("{e:#}"))),
                };
                if let Some(seen) = seen {
                    if told.as_ref() != Some(&seen) {
                        match &seen {
                            Ok(h) => say(Level::INFO, &format!(
                                "standby: the acting jobs (cleanup, pool refill) are run by {}; this daemon takes over when it exits",
                                h.describe()
                            )),
                            Err(e) => say(Level::WARN, &format!("cannot take the jobs lock: {e}; trying again")),
                        }
                        told = Some(seen);
                    }
                }
            }
            tokio::select! {
                biased;
                _ = stop.wait_for(|s| *s) => break,
                _ = tokio::time::sleep(self.poll), if held.is_none() => {}
            }
        }
        say(Level::INFO, "stopping (a running job may finish first)");
        runner.shutdown(self.grace).await;
        connecting.abort();
        let _ = (&mut connecting).await;
        if let Some(l) = held {
            l.release().await;
        }
        say(Level::INFO, "stopped");
        Ok(())
    }
}

/// Connects to the engine, trying again every [`CONNECT_RETRY`] until it answers;
/// then hands the context over and ends (later outages are the health job's).
async fn connect_loop(
    connect: Connector,
    paths: Paths,
    config: Config,
    store: Store,
    engines: Option<Arc<EngineSet>>,
    ctx: watch::Sender<Option<Ctx>>,
) {
    let mut told = false;
    loop {
        match connect().await {
            Ok(engine) => {
                if told {
                    say(Level::INFO, "engine reachable");
                }
                let c = match engines {
                    Some(set) => Ctx::with_all(set, engine, config, paths, store),
                    None => Ctx::with_store(engine, config, paths, store),
                };
                ctx.send_replace(Some(c));
                return;
            }
            Err(e) => {
                if !told {
                    say(
                        Level::WARN,
                        &format!(
                            "engine unreachable ({e}); trying again every {} s",
                            CONNECT_RETRY.as_secs()
                        ),
                    );
                    told = true;
                }
                tokio::time::sleep(CONNECT_RETRY).await;
            }
        }
    }
}

/// What `berth daemon --once` did.
#[derive(Debug)]
pub struct Once {
    /// Each job run: its name and what it did or why it failed.
    pub runs: Vec<(&'static str, Result<JobOutcome, String>)>,
    /// The acting jobs not run because another process holds the lock, and who.
    pub skipped: Option<(Vec<&'static str>, Holder)>,
}

/// Every job turned on, once, one after the other (the acting ones only when the
/// lock is free: its holder runs them).
pub async fn once(ctx: &Ctx, jobs: Vec<Arc<dyn Job>>) -> Result<Once> {
    let (held, holder) = match lock::try_acquire(&ctx.paths.state_dir, Kind::Once).await? {
        Attempt::Held(l) => (Some(l), None),
        Attempt::Taken(h) => (None, Some(h)),
    };
    let sink = Recorder::new(ctx.store.clone(), Kind::Once, Out::File);
    let mut out = Once {
        runs: Vec::new(),
        skipped: None,
    };
    let mut skipped = Vec::new();
    for job in jobs {
        if job.interval(&ctx.config).is_none() {
            continue;
        }
        if job.acting() && held.is_none() {
            skipped.push(job.name());
            continue;
        }
        let started = tokio::time::Instant::now();
        let now = chrono::Utc::now().timestamp();
        let result = job.run(ctx, now).await.map_err(|e| format!("{e:#}"));
        let record = super::runner::RunRecord {
            job: job.name(),
            acting: job.acting(),
            started_at: now,
            took: started.elapsed(),
            result: result.clone(),
        };
        super::runner::Sink::ran(&sink, record).await;
        out.runs.push((job.name(), result));
    }
    if let (false, Some(h)) = (skipped.is_empty(), holder) {
        out.skipped = Some((skipped, h));
    }
    if let Some(l) = held {
        l.release().await;
    }
    Ok(out)
}
