//! `berth daemon [--once]`, `berth daemon status`, and the daemon line of `berth
//! doctor`.
use super::doctor::{check, Check, Status};
use crate::backend::jobs::daemon::{self, Daemon};
use crate::backend::jobs::lock::{self, Holder};
use crate::backend::jobs::registry;
use crate::backend::service::Connector;
use crate::config::{Config, Paths};
use crate::store::{JobRun, Store};
use anyhow::Result;
use clap::Subcommand;
use futures_util::FutureExt;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum DaemonAction {
    /// Who holds the jobs lock (a daemon, a TUI, none), since when, and the last
    /// runs of each job with what they did.
    Status {
        /// {"holder": {"kind", "pid", "since"} or null, "lock_file", "jobs":
        /// [{"job", "runner", "pid", "started_at", "took_ms", "ok", "acted",
        /// "summary"}] (the last run of each), "recent": [the same, oldest first]}.
        #[arg(long)]
        json: bool,
    },
}

/// Connects to the engine commands use (`--engine`, BERTH_ENGINE, the config's
/// `engine`, ...), anew on each call.
/// Through the set, so the jobs' context and the set share the connection.
fn connector(set: &Arc<crate::backend::engines::EngineSet>) -> Result<Connector> {
    let name = set.default_name().to_string();
    if set.def(&name).is_none() {
        anyhow::bail!("there is no engine named {name:?}");
    }
    let set = set.clone();
    Ok(Arc::new(move || {
        let (set, name) = (set.clone(), name.clone());
        async move { set.get(&name).await.map_err(|e| e.to_string()) }.boxed()
    }))
}

pub async fn run(
    paths: Paths,
    config: Config,
    action: Option<DaemonAction>,
    once: bool,
) -> Result<i32> {
    match action {
        Some(DaemonAction::Status { json }) => status(&paths, json).await,
        None if once => run_once(paths, config).await,
        None => serve(paths, config).await,
    }
}

async fn serve(paths: Paths, config: Config) -> Result<i32> {
    use tokio::signal::unix::{signal, SignalKind};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    // Ends with the first signal (or is aborted below).
    let signals = tokio::spawn(async move {
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
        let _ = stop_tx.send(true);
    });
    let store = Store::new(paths.store_file());
    let set = Arc::new(super::engine_set_async(&config).await?);
    let connector = connector(&set)?;
    let mut d = Daemon::new(paths, config, store, connector);
    d.engines = Some(set);
    let served = d.serve(stop_rx).await;
    signals.abort();
    served.map(|()| 0)
}

async fn run_once(paths: Paths, config: Config) -> Result<i32> {
    let ctx = super::connect(paths, config).await?;
    let done = daemon::once(&ctx, registry::all()).await?;
    let mut failed = false;
    for (job, result) in &done.runs {
        match result {
            Ok(o) if o.lines.is_empty() => println!("{job}: nothing to do"),
            Ok(o) => o.lines.iter().for_each(|l| println!("{job}: {l}")),
            Err(e) => {
                failed = true;
                println!("{job}: FAILED: {e}");
            }
        }
    }
    if let Some((jobs, holder)) = &done.skipped {
        println!(
            "not run: {} (the jobs lock is held by {}, which runs them)",
            jobs.join(", "),
            holder.describe()
        );
    }
    Ok(i32::from(failed))
}

fn time(ts: i64) -> String {
    chrono::DateTime::from_timestamp(ts, 0)
        .map(|t| t.format("%Y-%m-%d %H:%M:%SZ").to_string())
        .unwrap_or_else(|| ts.to_string())
}

/// The last run of each job, in the order they first appear.
fn last_of_each(runs: &[JobRun]) -> Vec<&JobRun> {
    let mut out: Vec<&JobRun> = Vec::new();
    for r in runs {
        match out.iter_mut().find(|o| o.job == r.job) {
            Some(slot) => *slot = r,
            None => out.push(r),
        }
    }
    out
}

async fn status(paths: &Paths, json: bool) -> Result<i32> {
    let holder = lock::peek(&paths.state_dir).await?;
    let store = Store::new(paths.store_file());
    let runs = store.job_runs().await?;
    let last = last_of_each(&runs);
    if json {
        let h = match &holder {
            Holder::Held(Some(o)) => serde_json::json!({
                "kind": o.kind, "pid": o.pid, "since": o.since,
            }),
            Holder::Held(None) => serde_json::json!({ "kind": "unknown" }),
            Holder::Nobody => serde_json::Value::Null,
        };
        let v = serde_json::json!({
            "holder": h,
            "lock_file": lock::path(&paths.state_dir),
            "jobs": last,
            "recent": runs,
        });
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    match &holder {
        Holder::Held(Some(o)) => println!(
            "Jobs lock: held by {} since {}.",
            o.describe(),
            time(o.since)
        ),
        Holder::Held(None) => println!("Jobs lock: held by another berth process (starting up)."),
        Holder::Nobody => println!(
            "Jobs lock: free. Cleanup and pool refill run nowhere; start `berth daemon` (or `systemctl --user enable --now berth`), or open the TUI."
        ),
    }
    if last.is_empty() {
        println!("No job has run yet.");
        return Ok(0);
    }
    println!(
        "{:<12} {:<21} {:<16} {:>8}  RESULT",
        "JOB", "LAST RUN", "BY", "TOOK"
    );
    for r in last {
        println!(
            "{:<12} {:<21} {:<16} {:>7.1}s  {}{}",
            r.job,
            time(r.started_at),
            format!("{} {}", r.runner, r.pid),
            r.took_ms as f64 / 1000.0,
            if r.ok { "" } else { "FAILED " },
            r.summary
        );
    }
    Ok(0)
}

/// `berth doctor`: whether a daemon runs the jobs.
pub async fn doctor_check(paths: &Paths) -> Check {
    match lock::peek(&paths.state_dir).await {
        Ok(Holder::Held(Some(o))) if o.kind == lock::Kind::Daemon => check(
            "daemon",
            Status::Ok,
            format!("{} runs the background jobs (since {})", o.describe(), time(o.since)),
            None,
        ),
        Ok(h @ Holder::Held(_)) => check(
            "daemon",
            Status::Ok,
            format!(
                "no daemon; {} runs the background jobs while it is open",
                h.describe()
            ),
            None,
        ),
        Ok(Holder::Nobody) => check(
            "daemon",
            Status::Ok,
            "no daemon runs: cleanup and pool refill run only while a TUI is open (`systemctl --user enable --now berth` runs them always)",
            None,
        ),
        Err(e) => check(
            "daemon",
            Status::Warn,
            format!("cannot tell whether a daemon runs: {e:#}"),
            Some("check the state directory's permissions (berth doctor lists them)"),
        ),
    }
}
