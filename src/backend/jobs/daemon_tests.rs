//! Two daemons in one process over the in-memory engine, on one state directory
//! (two lock handles): the second waits as a standby while the first runs the
//! acting job, and takes over when the first stops; a stop frees the lock.
use super::daemon::Daemon;
use super::lock::{self, Holder, Kind};
use super::{Job, JobOutcome};
use crate::backend::test_support::connector;
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::engine::memory::MemoryEngine;
use crate::store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

struct Count(Arc<AtomicUsize>);

#[async_trait::async_trait]
impl Job for Count {
    fn name(&self) -> &'static str {
        "count"
    }
    fn acting(&self) -> bool {
        true
    }
    fn interval(&self, _: &Config) -> Option<Duration> {
        Some(Duration::from_secs(1))
    }
    async fn run(&self, _: &Ctx, _: i64) -> anyhow::Result<JobOutcome> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(JobOutcome::quiet())
    }
}

fn daemon(engine: &MemoryEngine, paths: &Paths, count: &Arc<AtomicUsize>) -> Daemon {
    let store = Store::new(paths.store_file());
    let mut d = Daemon::new(paths.clone(), Config::default(), store, connector(engine));
    d.jobs = vec![Arc::new(Count(count.clone()))];
    d.poll = Duration::from_millis(20);
    d.grace = Duration::from_secs(5);
    d
}

async fn until(what: &str, pred: impl Fn() -> bool) {
    for _ in 0..500 {
        if pred() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("waited 10 s for {what}");
}

#[tokio::test]
async fn a_standby_takes_over_when_the_holder_stops() {
    let engine = MemoryEngine::new();
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let (a_count, b_count) = (Arc::default(), Arc::default());
    let (stop_a, rx) = watch::channel(false);
    let a = tokio::spawn(daemon(&engine, &paths, &a_count).serve(rx));
    until("a's first run", || a_count.load(Ordering::SeqCst) >= 1).await;
    let (stop_b, rx) = watch::channel(false);
    let b = tokio::spawn(daemon(&engine, &paths, &b_count).serve(rx));
    // b tries the lock every 20 ms meanwhile.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        b_count.load(Ordering::SeqCst),
        0,
        "the standby runs no acting job"
    );
    let Holder::Held(Some(o)) = lock::peek(&paths.state_dir).await.unwrap() else {
        panic!("held")
    };
    assert_eq!(o.kind, Kind::Daemon);

    stop_a.send_replace(true);
    a.await.unwrap().unwrap();
    let ran = a_count.load(Ordering::SeqCst);
    until("b taking over", || b_count.load(Ordering::SeqCst) >= 1).await;
    assert_eq!(a_count.load(Ordering::SeqCst), ran, "a stopped");
    stop_b.send_replace(true);
    b.await.unwrap().unwrap();
    assert_eq!(lock::peek(&paths.state_dir).await.unwrap(), Holder::Nobody);
    let runs = Store::new(paths.store_file()).job_runs().await.unwrap();
    assert!(runs
        .iter()
        .all(|r| r.job == "count" && r.runner == "daemon"));
}
