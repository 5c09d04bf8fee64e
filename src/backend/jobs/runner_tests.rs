//! The runner with fake jobs in tokio's paused time: intervals from the start, no
//! overlap, a failing job does not stop the others, acting jobs wait for the lock,
//! and a shutdown ends every task (a running job finishes, or is dropped after
//! the grace period).
use super::runner::{RunRecord, Runner, Setup, Sink};
use super::{Job, JobOutcome};
use crate::backend::test_support::ctx_with;
use crate::backend::Ctx;
use crate::config::Config;
use crate::engine::memory::MemoryEngine;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;
use tokio::time::Instant;

/// What every fake job shares with the test.
#[derive(Clone)]
struct Seen {
    t0: Instant,
    starts: Arc<Mutex<Vec<(&'static str, u64)>>>,
    running: Arc<AtomicUsize>,
    most: Arc<AtomicUsize>,
    /// Runs in progress, counted by a guard dropped however the run ends.
    live: Arc<AtomicUsize>,
}

impl Seen {
    fn new() -> Self {
        Self {
            t0: Instant::now(),
            starts: Arc::default(),
            running: Arc::default(),
            most: Arc::default(),
            live: Arc::default(),
        }
    }

    fn starts_of(&self, name: &str) -> Vec<u64> {
        let v = self.starts.lock().unwrap();
        v.iter()
            .filter(|(n, _)| *n == name)
            .map(|(_, t)| *t)
            .collect()
    }
}

struct Live(Arc<AtomicUsize>);

impl Drop for Live {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

struct Fake {
    name: &'static str,
    every: u64,
    acting: bool,
    work: Duration,
    fails: bool,
    seen: Seen,
}

impl Fake {
    fn new(name: &'static str, every: u64, seen: &Seen) -> Self {
        Self {
            name,
            every,
            acting: false,
            work: Duration::ZERO,
            fails: false,
            seen: seen.clone(),
        }
    }
}

#[async_trait::async_trait]
impl Job for Fake {
    fn name(&self) -> &'static str {
        self.name
    }
    fn acting(&self) -> bool {
        self.acting
    }
    fn interval(&self, _: &Config) -> Option<Duration> {
        Some(Duration::from_secs(self.every))
    }
    async fn run(&self, _: &Ctx, _: i64) -> anyhow::Result<JobOutcome> {
        let s = &self.seen;
        s.live.fetch_add(1, Ordering::SeqCst);
        let _live = Live(s.live.clone());
        let at = s.t0.elapsed().as_secs();
        s.starts.lock().unwrap().push((self.name, at));
        let n = s.running.fetch_add(1, Ordering::SeqCst) + 1;
        s.most.fetch_max(n, Ordering::SeqCst);
        tokio::time::sleep(self.work).await;
        s.running.fetch_sub(1, Ordering::SeqCst);
        if self.fails {
            anyhow::bail!("{} broke", self.name);
        }
        Ok(JobOutcome::said(vec![format!("{} ran at {at}", self.name)]))
    }
}

#[derive(Default)]
struct Records(Mutex<Vec<RunRecord>>);

#[async_trait::async_trait]
impl Sink for Records {
    async fn ran(&self, r: RunRecord) {
        self.0.lock().unwrap().push(r);
    }
}

struct Rig {
    records: Arc<Records>,
    gate: watch::Sender<bool>,
    _ctx: watch::Sender<Option<Ctx>>,
    _dir: tempfile::TempDir,
}

fn start(jobs: Vec<Fake>, held: bool) -> (Runner, Rig) {
    let (ctx, dir) = ctx_with(MemoryEngine::new().into());
    let (ctx_tx, ctx_rx) = watch::channel(Some(ctx));
    let (gate, gate_rx) = watch::channel(held);
    let records = Arc::new(Records::default());
    let jobs: Vec<Arc<dyn Job>> = jobs
        .into_iter()
        .map(|j| Arc::new(j) as Arc<dyn Job>)
        .collect();
    let setup = Setup {
        ctx: ctx_rx,
        gate: gate_rx,
        sink: records.clone(),
        clock: Arc::new(|| 1_000),
    };
    let runner = Runner::spawn(jobs, &Config::default(), setup);
    (
        runner,
        Rig {
            records,
            gate,
            _ctx: ctx_tx,
            _dir: dir,
        },
    )
}

#[tokio::test(start_paused = true)]
async fn jobs_run_at_once_then_on_their_own_intervals() {
    let seen = Seen::new();
    let (runner, rig) = start(
        vec![Fake::new("a", 10, &seen), Fake::new("b", 25, &seen)],
        true,
    );
    tokio::time::sleep(Duration::from_secs(55)).await;
    assert_eq!(seen.starts_of("a"), [0, 10, 20, 30, 40, 50]);
    assert_eq!(seen.starts_of("b"), [0, 25, 50]);
    runner.shutdown(Duration::from_secs(60)).await;
    let recs = rig.records.0.lock().unwrap();
    assert_eq!(recs.len(), 9);
    assert!(recs
        .iter()
        .all(|r| r.started_at == 1_000 && r.result.is_ok()));
}

#[tokio::test(start_paused = true)]
async fn a_job_longer_than_its_interval_never_overlaps_itself() {
    let seen = Seen::new();
    let mut slow = Fake::new("slow", 10, &seen);
    slow.work = Duration::from_secs(25);
    let (runner, rig) = start(vec![slow], true);
    tokio::time::sleep(Duration::from_secs(80)).await;
    // Ends at 25, then a full interval: 35; ends at 60, then 70.
    assert_eq!(seen.starts_of("slow"), [0, 35, 70]);
    assert_eq!(seen.most.load(Ordering::SeqCst), 1);
    runner.shutdown(Duration::from_secs(60)).await;
    let recs = rig.records.0.lock().unwrap();
    assert!(recs.iter().all(|r| r.took == Duration::from_secs(25)));
}

#[tokio::test(start_paused = true)]
async fn a_failing_job_is_recorded_and_does_not_stop_the_others() {
    let seen = Seen::new();
    let mut bad = Fake::new("bad", 10, &seen);
    bad.fails = true;
    let (runner, rig) = start(vec![bad, Fake::new("good", 10, &seen)], true);
    tokio::time::sleep(Duration::from_secs(35)).await;
    assert_eq!(seen.starts_of("bad"), [0, 10, 20, 30], "it runs again");
    assert_eq!(seen.starts_of("good"), [0, 10, 20, 30]);
    runner.shutdown(Duration::from_secs(60)).await;
    let recs = rig.records.0.lock().unwrap();
    let bad: Vec<&RunRecord> = recs.iter().filter(|r| r.job == "bad").collect();
    assert_eq!(bad.len(), 4);
    assert!(bad
        .iter()
        .all(|r| r.result == Err("bad broke".to_string()) && r.summary() == "failed: bad broke"));
}

#[tokio::test(start_paused = true)]
async fn acting_jobs_wait_for_the_lock_and_read_only_ones_do_not() {
    let seen = Seen::new();
    let mut acting = Fake::new("cleanup", 10, &seen);
    acting.acting = true;
    let (runner, rig) = start(vec![acting, Fake::new("health", 10, &seen)], false);
    tokio::time::sleep(Duration::from_secs(15)).await;
    assert!(seen.starts_of("cleanup").is_empty());
    assert_eq!(seen.starts_of("health"), [0, 10]);
    rig.gate.send_replace(true);
    tokio::time::sleep(Duration::from_secs(12)).await;
    assert_eq!(
        seen.starts_of("cleanup"),
        [15, 25],
        "at once when the lock is taken, then on its interval"
    );
    runner.shutdown(Duration::from_secs(60)).await;
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_waiting_jobs_at_once_and_lets_a_running_one_finish() {
    let seen = Seen::new();
    let mut short = Fake::new("short", 100, &seen);
    short.work = Duration::from_secs(3);
    let (runner, rig) = start(vec![short, Fake::new("idle", 100, &seen)], true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let t = Instant::now();
    runner.shutdown(Duration::from_secs(60)).await;
    assert_eq!(t.elapsed(), Duration::from_secs(2), "it finished its run");
    assert_eq!(seen.live.load(Ordering::SeqCst), 0);
    let recs = rig.records.0.lock().unwrap();
    assert_eq!(recs.len(), 2, "the finished run was recorded: {recs:?}");
}

#[tokio::test(start_paused = true)]
async fn a_job_still_running_after_the_grace_is_dropped_and_nothing_is_left() {
    let seen = Seen::new();
    let mut stuck = Fake::new("stuck", 10, &seen);
    stuck.work = Duration::from_secs(3600);
    let (runner, rig) = start(vec![stuck], true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(seen.live.load(Ordering::SeqCst), 1);
    let t = Instant::now();
    runner.shutdown(Duration::from_secs(5)).await;
    assert_eq!(t.elapsed(), Duration::from_secs(5));
    assert_eq!(
        seen.live.load(Ordering::SeqCst),
        0,
        "its future was dropped"
    );
    assert!(rig.records.0.lock().unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_runner_aborts_its_jobs_and_jobs_turned_off_do_not_run() {
    struct Off;
    #[async_trait::async_trait]
    impl Job for Off {
        fn name(&self) -> &'static str {
            "off"
        }
        fn acting(&self) -> bool {
            false
        }
        fn interval(&self, _: &Config) -> Option<Duration> {
            None
        }
        async fn run(&self, _: &Ctx, _: i64) -> anyhow::Result<JobOutcome> {
            unreachable!("turned off")
        }
    }
    let seen = Seen::new();
    let mut stuck = Fake::new("stuck", 10, &seen);
    stuck.work = Duration::from_secs(3600);
    let (runner, _rig) = start(vec![stuck], true);
    tokio::time::sleep(Duration::from_secs(1)).await;
    drop(runner);
    tokio::task::yield_now().await;
    assert_eq!(seen.live.load(Ordering::SeqCst), 0);

    let (ctx, _dir) = ctx_with(MemoryEngine::new().into());
    let setup = Setup {
        ctx: watch::channel(Some(ctx)).1,
        gate: watch::channel(true).1,
        sink: Arc::new(Records::default()),
        clock: Arc::new(|| 0),
    };
    let r = Runner::spawn(vec![Arc::new(Off)], &Config::default(), setup);
    assert!(r.is_empty());
}
