//! Follows one workspace: its logs and its sidecars' (tagged by source, batched),
//! and its stats while it runs. Opens with the last lines only, never the whole
//! history, and resumes after the container restarts.
use super::service::{Event, RawLine};
use crate::domain::naming::WorkspaceName;
use crate::engine::{Engine, LogOptions, Output};
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Lines fetched when following starts.
pub const INITIAL_TAIL: usize = 500;
/// Batching window: a flood becomes a few events per frame, not one per line.
const BATCH: Duration = Duration::from_millis(40);
const BATCH_MAX: usize = 2000;

pub async fn run(engine: Arc<dyn Engine>, name: String, events: mpsc::Sender<Event>) {
    let _ = events.send(Event::LogsReset { name: name.clone() }).await;
    let Ok(ws) = WorkspaceName::parse(&name) else {
        return;
    };
    let mut sources = vec![("workspace".to_string(), ws.container())];
    if let Ok(sidecars) = engine.sidecars(&name).await {
        sources.extend(sidecars.into_iter().map(|s| (s.source, s.container)));
    }
    let (line_tx, line_rx) = mpsc::channel::<RawLine>(4096);
    let mut tasks = Vec::new();
    for (source, container) in sources {
        tasks.push(tokio::spawn(follow_source(
            engine.clone(),
            source,
            container,
            line_tx.clone(),
        )));
    }
    drop(line_tx);
    tasks.push(tokio::spawn(follow_stats(
        engine.clone(),
        name.clone(),
        ws.container(),
        events.clone(),
    )));
    batch(name, line_rx, events).await;
    for t in tasks {
        t.abort();
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

async fn follow_source(
    engine: Arc<dyn Engine>,
    source: String,
    container: String,
    tx: mpsc::Sender<RawLine>,
) {
    let mut last_ts: Option<String> = None;
    loop {
        // Only new lines after a restart: skip what was already shown.
        let tail = if last_ts.is_some() {
            Some(200)
        } else {
            Some(INITIAL_TAIL)
        };
        let mut stream = engine.logs(
            &container,
            LogOptions {
                follow: true,
                tail,
                timestamps: true,
            },
        );
        let mut partial: [Vec<u8>; 2] = [Vec::new(), Vec::new()];
        while let Some(chunk) = stream.next().await {
            let Ok(chunk) = chunk else { break };
            let (idx, bytes) = match chunk {
                Output::Stdout(b) => (0, b),
                Output::Stderr(b) => (1, b),
            };
            partial[idx].extend_from_slice(&bytes);
            while let Some(pos) = partial[idx].iter().position(|b| *b == b'\n') {
                let raw: Vec<u8> = partial[idx].drain(..=pos).collect();
                let text = String::from_utf8_lossy(&raw[..raw.len() - 1]).to_string();
                let (ts, text) = split_timestamp(&text);
                if let (Some(t), Some(last)) = (&ts, &last_ts) {
                    if t <= last {
                        continue;
                    }
                }
                if ts.is_some() {
                    last_ts = ts.clone();
                }
                if tx
                    .send(RawLine {
                        source: source.clone(),
                        stderr: idx == 1,
                        ts,
                        text,
                    })
                    .await
                    .is_err()
                {
                    return;
                }
            }
        }
        // The stream ends when the container stops; wait for it to run again.
        tokio::time::sleep(Duration::from_secs(1)).await;
        if tx.is_closed() {
            return;
        }
    }
}

async fn follow_stats(
    engine: Arc<dyn Engine>,
    name: String,
    container: String,
    events: mpsc::Sender<Event>,
) {
    loop {
        let mut s = engine.stats(&container);
        while let Some(Ok(stats)) = s.next().await {
            if events
                .send(Event::Stats {
                    name: name.clone(),
                    stats,
                })
                .await
                .is_err()
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

async fn batch(name: String, mut rx: mpsc::Receiver<RawLine>, events: mpsc::Sender<Event>) {
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
        let lines = std::mem::take(&mut buf);
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
