//! Follows one workspace: its logs and its sidecars' (tagged by source, batched),
//! and its stats while it runs. Opens with the last lines only, never the whole
//! history, and resumes after the container restarts (woken by the engine's
//! events, not by polling) without repeating lines.
//!
//! Everything a follower starts lives in a `JoinSet` owned by its future: aborting
//! the follower's task, or dropping the future, ends every stream it opened.
use super::follow_redact::LiveRedactor;
use super::service::{Event, RawLine};
use super::watch::backoff;
use super::Ctx;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use crate::engine::{Engine, EngineError, LogOptions, Output};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Lines fetched when following starts.
pub const INITIAL_TAIL: usize = 500;
/// Lines fetched again when a source resumes (those already shown are skipped).
const RESUME_TAIL: usize = 200;
/// A source's streams open at most this often, whatever the engine does.
const MIN_REOPEN: Duration = Duration::from_secs(1);
/// Batching window: a flood becomes a few events per frame, not one per line.
const BATCH: Duration = Duration::from_millis(40);
const BATCH_MAX: usize = 2000;

pub async fn run(engine: Arc<dyn Engine>, name: String, events: mpsc::Sender<Event>) {
    run_redacted(engine, name, events, LiveRedactor::default()).await
}

/// [`run`], with the workspace's secret values hidden from every line (the
/// redactor is brought up to date before each batch: see `follow_redact`).
pub async fn run_redacted(
    engine: Arc<dyn Engine>,
    name: String,
    events: mpsc::Sender<Event>,
    redactor: LiveRedactor,
) {
    if events
        .send(Event::LogsReset { name: name.clone() })
        .await
        .is_err()
    {
        return;
    }
    let Ok(ws) = WorkspaceName::parse(&name) else {
        return;
    };
    let mut sources = vec![("workspace".to_string(), ws.container())];
    match engine.sidecars(&name).await {
        Ok(sidecars) => sources.extend(sidecars.into_iter().map(|s| (s.source, s.container))),
        Err(e) => tracing::warn!("cannot list the sidecars of {name}: {e}"),
    }
    // Bounded: a source waits while the UI catches up.
    let (line_tx, line_rx) = mpsc::channel::<RawLine>(4096);
    // Dropped with this future (return, abort or drop): its tasks are aborted then.
    let mut tasks = JoinSet::new();
    for (source, container) in sources {
        tasks.spawn(follow_source(
            engine.clone(),
            source,
            container,
            line_tx.clone(),
        ));
    }
    drop(line_tx);
    tasks.spawn(follow_stats(
        engine,
        name.clone(),
        ws.container(),
        events.clone(),
    ));
    batch(name, line_rx, events, redactor).await;
}

/// Follows `selected` (ending the previous follower), with its secret values hidden.
pub(super) fn restart(
    ctx: &Option<Ctx>,
    selected: &Option<String>,
    follower: &mut Option<JoinHandle<()>>,
    events: &mpsc::Sender<Event>,
) {
    if let Some(f) = follower.take() {
        f.abort();
    }
    if let (Some(ctx), Some(name)) = (ctx, selected) {
        let (ctx, name, events) = (ctx.clone(), name.clone(), events.clone());
        // Aborting the follower's task also ends the redactor's reads.
        *follower = Some(tokio::spawn(async move {
            let redactor = match WorkspaceName::parse(&name) {
                Ok(n) => LiveRedactor::following(ctx.clone(), n),
                Err(_) => LiveRedactor::default(),
            };
            run_redacted(ctx.engine.clone(), name, events, redactor).await;
        }));
    }
}

/// Splits "2024-01-01T00:00:00.000000000Z text" into (timestamp, text).
pub fn split_timestamp(line: &str) -> (Option<String>, String) {
    match line.split_once(' ') {
        Some((ts, rest))
            if ts.len() >= 20 && ts.as_bytes().get(4) == Some(&b'-') && ts.contains('T') =>
        {
            (Some(ts.to_string()), rest.to_string())
        }
        _ => (None, line.to_string()),
    }
}

/// Turns a source's output into lines. The engine sends each line (or each piece
/// of a long line it split) with its own timestamp; a line is complete at its
/// newline. After a resume, pieces up to the last one shown are skipped.
pub(super) struct LineSplitter {
    source: String,
    /// A line begun but not finished, per stream (stdout, stderr): timestamp, text.
    partial: [Option<(Option<String>, String)>; 2],
    /// Timestamp of the last piece taken.
    last_ts: Option<String>,
    /// While resuming: pieces at or before this timestamp were shown already.
    skip_until: Option<String>,
}

impl LineSplitter {
    pub(super) fn new(source: String) -> Self {
        Self {
            source,
            partial: [None, None],
            last_ts: None,
            skip_until: None,
        }
    }

    /// Starts a new stream of the same source.
    pub(super) fn resume(&mut self) {
        self.skip_until = self.last_ts.clone();
    }

    pub(super) fn push(&mut self, chunk: Output, out: &mut Vec<RawLine>) {
        let (idx, bytes) = match chunk {
            Output::Stdout(b) => (0, b),
            Output::Stderr(b) => (1, b),
        };
        for piece in bytes.split_inclusive(|b| *b == b'\n') {
            let complete = piece.last() == Some(&b'\n');
            let body = if complete {
                &piece[..piece.len() - 1]
            } else {
                piece
            };
            let (ts, text) = split_timestamp(&String::from_utf8_lossy(body));
            if let Some(t) = &ts {
                if self.skip_until.as_ref().is_some_and(|s| t <= s) {
                    continue;
                }
                self.skip_until = None;
                self.last_ts = Some(t.clone());
            }
            match &mut self.partial[idx] {
                Some((_, acc)) => acc.push_str(&text),
                slot @ None => *slot = Some((ts, text)),
            }
            if complete {
                self.flush(idx, out);
            }
        }
    }

    /// Emits what is left (the stream ended in the middle of a line).
    pub(super) fn finish(&mut self, out: &mut Vec<RawLine>) {
        self.flush(0, out);
        self.flush(1, out);
    }

    fn flush(&mut self, idx: usize, out: &mut Vec<RawLine>) {
        if let Some((ts, text)) = self.partial[idx].take() {
            out.push(RawLine {
                source: self.source.clone(),
                stderr: idx == 1,
                ts,
                text,
            });
        }
    }
}

async fn follow_source(
    engine: Arc<dyn Engine>,
    source: String,
    container: String,
    tx: mpsc::Sender<RawLine>,
) {
    let mut lines = LineSplitter::new(source);
    let mut failures = 0u32;
    let mut tail = INITIAL_TAIL;
    loop {
        let opened = Instant::now();
        let mut stream = engine.logs(
            &container,
            LogOptions {
                follow: true,
                tail: Some(tail),
                timestamps: true,
            },
        );
        let mut out = Vec::new();
        let ended = loop {
            match stream.next().await {
                Some(Ok(chunk)) => {
                    failures = 0;
                    lines.push(chunk, &mut out);
                    for line in out.drain(..) {
                        if tx.send(line).await.is_err() {
                            return;
                        }
                    }
                }
                Some(Err(e)) => break Err(e),
                None => break Ok(()),
            }
        };
        // The engine's connection is released before waiting.
        drop(stream);
        lines.finish(&mut out);
        for line in out {
            if tx.send(line).await.is_err() {
                return;
            }
        }
        // A follow stream ends when the container stops: wait until it runs again.
        let waited = match ended {
            Ok(()) => wait_until_running(engine.as_ref(), &container).await,
            Err(e) => Err(e),
        };
        if let Err(e) = waited {
            tracing::debug!("logs of {container}: {e}");
            tokio::time::sleep(backoff(failures)).await;
            failures += 1;
        }
        tokio::time::sleep_until(opened + MIN_REOPEN).await;
        tail = RESUME_TAIL;
        lines.resume();
    }
}

/// Returns once `container` runs: at once if it does, else at its next start
/// event. Errors when the engine cannot tell.
async fn wait_until_running(engine: &dyn Engine, container: &str) -> Result<(), EngineError> {
    // Subscribed before looking, so a start in between is not missed.
    let mut events = engine.events();
    let running = engine
        .inspect_workspace(container)
        .await?
        .is_some_and(|w| w.state == WorkspaceState::Running);
    if running {
        return Ok(());
    }
    while let Some(ev) = events.next().await {
        let ev = ev?;
        if ev.container == container && ev.action == "start" {
            return Ok(());
        }
    }
    Err(EngineError::Api(
        "the engine closed its events stream".into(),
    ))
}

async fn follow_stats(
    engine: Arc<dyn Engine>,
    name: String,
    container: String,
    events: mpsc::Sender<Event>,
) {
    let mut failures = 0u32;
    loop {
        let mut s = engine.stats(&container);
        loop {
            match s.next().await {
                Some(Ok(stats)) => {
                    failures = 0;
                    let ev = Event::Stats {
                        name: name.clone(),
                        stats,
                    };
                    if events.send(ev).await.is_err() {
                        return;
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!("stats of {container}: {e}");
                    break;
                }
                None => break,
            }
        }
        drop(s);
        tokio::time::sleep(backoff(failures).max(MIN_REOPEN)).await;
        failures += 1;
    }
}

async fn batch(
    name: String,
    mut rx: mpsc::Receiver<RawLine>,
    events: mpsc::Sender<Event>,
    mut redactor: LiveRedactor,
) {
    let mut buf = Vec::new();
    loop {
        let first = match rx.recv().await {
            Some(l) => l,
            None => return,
        };
        buf.push(first);
        let deadline = tokio::time::sleep(BATCH);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                more = rx.recv() => match more {
                    Some(l) => {
                        buf.push(l);
                        if buf.len() >= BATCH_MAX { break; }
                    }
                    None => break,
                },
                _ = &mut deadline => break,
            }
        }
        let mut lines = std::mem::take(&mut buf);
        // After the lines arrived: a value rotated before they were printed is known.
        redactor.refresh().await;
        if !redactor.is_empty() {
            for l in &mut lines {
                if let std::borrow::Cow::Owned(t) = redactor.apply(&l.text) {
                    l.text = t;
                }
            }
        }
        if events
            .send(Event::Logs {
                name: name.clone(),
                lines,
            })
            .await
            .is_err()
        {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_split_off() {
        let (ts, text) = split_timestamp("2026-11-23T01:57:27.795100366Z Server listening");
        assert_eq!(ts.as_deref(), Some("2026-11-23T01:57:27.795100366Z"));
        assert_eq!(text, "Server listening");
        assert_eq!(
            split_timestamp("plain line"),
            (None, "plain line".to_string())
        );
        assert_eq!(split_timestamp(""), (None, String::new()));
    }
}
