//! The in-memory engine's streams: logs, stats and events. Each holds a guard that
//! counts it as open until it ends or is dropped, so a test sees leaked streams.
use super::Inner;
use crate::domain::observe::{EngineEvent, Stats};
use crate::engine::{EngineError, EngineResult, LogOptions, Output};
use futures_util::stream::{self, BoxStream, StreamExt};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{broadcast, watch};

/// Counts one open stream for as long as it lives.
pub(super) struct OpenGuard(Arc<AtomicUsize>);

impl OpenGuard {
    pub fn new(counter: &Arc<AtomicUsize>) -> Self {
        counter.fetch_add(1, Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for OpenGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

/// What every stream keeps: the engine, the outage epoch it was opened in, a
/// receiver woken by every state change, and its open-guard.
struct Link {
    inner: Arc<Inner>,
    outage: u64,
    changes: watch::Receiver<u64>,
    _open: OpenGuard,
}

impl Link {
    fn new(inner: Arc<Inner>, counter: &Arc<AtomicUsize>) -> Self {
        let outage = inner.lock().outage;
        let changes = inner.changed.subscribe();
        let open = OpenGuard::new(counter);
        Self {
            inner,
            outage,
            changes,
            _open: open,
        }
    }

    /// The error that ends the stream when the engine went away since it opened.
    fn lost(&self) -> Option<EngineError> {
        let s = self.inner.lock();
        (!s.up || s.outage != self.outage).then(|| s.unreachable())
    }
}

struct LogState {
    link: Link,
    container: String,
    opts: LogOptions,
    /// The container run being followed (the one when the stream was opened).
    run: u64,
    cursor: usize,
    pending: VecDeque<EngineResult<Output>>,
    done: bool,
}

impl LogState {
    /// Moves what the container logged since the last look into `pending`.
    fn fill(&mut self) {
        if let Some(e) = self.link.lost() {
            self.pending.push_back(Err(e));
            self.done = true;
            return;
        }
        let s = self.link.inner.lock();
        // Removed while followed: the engine ends the stream.
        let Some(c) = s.find(&self.container) else {
            self.done = true;
            return;
        };
        let run = self.run;
        while let Some(line) = c.logs.get(self.cursor).filter(|l| l.run <= run) {
            let end = if line.newline { "\n" } else { "" };
            let text = if self.opts.timestamps {
                let ts = super::state::rfc3339_nanos(line.ts_nanos);
                format!("{ts} {}{end}", line.text)
            } else {
                format!("{}{end}", line.text)
            };
            self.pending.push_back(Ok(if line.stderr {
                Output::Stderr(text.into_bytes())
            } else {
                Output::Stdout(text.into_bytes())
            }));
            self.cursor += 1;
        }
        // Like the engine: a stopped container's stream ends after what it wrote.
        if !self.opts.follow || !c.running() || c.run != run {
            self.done = true;
        }
    }
}

pub(super) fn logs(
    inner: Arc<Inner>,
    first: Result<(), EngineError>,
    container: &str,
    opts: LogOptions,
) -> BoxStream<'static, EngineResult<Output>> {
    let counter = inner.open_logs.clone();
    // The run and the tail are fixed when the stream is opened.
    let opened = first.and_then(|()| {
        let s = inner.lock();
        let c = s
            .find(container)
            .ok_or_else(|| super::State::not_found(container))?;
        Ok((
            c.run,
            opts.tail.map_or(0, |n| c.logs.len().saturating_sub(n)),
        ))
    });
    let mut st = LogState {
        link: Link::new(inner, &counter),
        container: container.to_string(),
        opts,
        run: 0,
        cursor: 0,
        pending: VecDeque::new(),
        done: false,
    };
    match opened {
        Ok((run, cursor)) => (st.run, st.cursor) = (run, cursor),
        Err(e) => {
            st.pending.push_back(Err(e));
            st.done = true;
        }
    }
    stream::unfold(st, |mut st| async move {
        loop {
            if let Some(item) = st.pending.pop_front() {
                return Some((item, st));
            }
            if st.done {
                return None;
            }
            st.fill();
            if st.pending.is_empty() && !st.done && st.link.changes.changed().await.is_err() {
                st.done = true;
            }
        }
    })
    .boxed()
}

struct StatsState {
    link: Link,
    container: String,
    first: Option<EngineError>,
    opened: bool,
    tick: Option<tokio::time::Interval>,
}

impl StatsState {
    /// One sample: the container's figures while it runs, zeros while it is stopped
    /// (like the engine), `None` once it is removed.
    fn sample(&self) -> Option<Stats> {
        let s = self.link.inner.lock();
        let c = s.find(&self.container)?;
        Some(if c.running() {
            c.stats
        } else {
            Stats::default()
        })
    }
}

pub(super) fn stats(
    inner: Arc<Inner>,
    first: Result<(), EngineError>,
    container: &str,
) -> BoxStream<'static, EngineResult<Stats>> {
    let counter = inner.open_stats.clone();
    let st = StatsState {
        link: Link::new(inner, &counter),
        container: container.to_string(),
        first: first.err(),
        opened: false,
        tick: None,
    };
    stream::unfold(Some(st), |st| async move {
        let mut st = st?;
        if let Some(e) = st.first.take() {
            return Some((Err(e), None));
        }
        if !st.opened {
            st.opened = true;
            if st.sample().is_none() {
                let e = super::State::not_found(&st.container);
                return Some((Err(e), None));
            }
        }
        // One sample per second of tokio time (created here: it needs the runtime).
        let tick = st.tick.get_or_insert_with(|| {
            let period = Duration::from_secs(1);
            let mut t = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        loop {
            if let Some(e) = st.link.lost() {
                return Some((Err(e), None));
            }
            tokio::select! {
                _ = tick.tick() => {
                    if let Some(e) = st.link.lost() {
                        return Some((Err(e), None));
                    }
                    let sample = st.sample()?;
                    return Some((Ok(sample), Some(st)));
                }
                r = st.link.changes.changed() => {
                    if r.is_err() {
                        return None;
                    }
                }
            }
        }
    })
    .boxed()
}

struct EventsState {
    link: Link,
    rx: broadcast::Receiver<EngineEvent>,
    first: Option<EngineError>,
}

pub(super) fn events(
    inner: Arc<Inner>,
    first: Result<(), EngineError>,
) -> BoxStream<'static, EngineResult<EngineEvent>> {
    let counter = inner.open_events.clone();
    // Subscribed now, not when first polled: events after this call are delivered.
    let rx = inner.events.subscribe();
    let st = EventsState {
        link: Link::new(inner, &counter),
        rx,
        first: first.err(),
    };
    stream::unfold(Some(st), |st| async move {
        let mut st = st?;
        if let Some(e) = st.first.take() {
            return Some((Err(e), None));
        }
        loop {
            if let Some(e) = st.link.lost() {
                return Some((Err(e), None));
            }
            tokio::select! {
                biased;
                r = st.rx.recv() => match r {
                    Ok(ev) => return Some((Ok(ev), Some(st))),
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        let e = EngineError::Api(format!("the events stream fell {n} events behind"));
                        return Some((Err(e), None));
                    }
                    Err(broadcast::error::RecvError::Closed) => return None,
                },
                r = st.link.changes.changed() => {
                    if r.is_err() {
                        return None;
                    }
                }
            }
        }
    })
    .boxed()
}
