//! The VMs' streams, with no task of their own (dropping a stream ends it):
//! events from polling the machines every second, stats from samples of the
//! QEMU process, logs from the serial console file.
use super::machines::Machines;
use super::{VmRecord, VmRun};
use crate::domain::observe::{EngineEvent, Stats};
use crate::engine::{EngineError, EngineResult, LogOptions, Output};
use futures_util::stream::{self, BoxStream, StreamExt};
use std::collections::BTreeMap;
use std::io::{Read, Seek, SeekFrom};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub const POLL: Duration = Duration::from_secs(1);
const LOG_POLL: Duration = Duration::from_millis(500);
/// Clock ticks a second (`getconf CLK_TCK`; 100 on Linux).
const TICKS: f64 = 100.0;

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// Each VM's (workspace name, running) from one poll.
pub type Seen = BTreeMap<String, (String, bool)>;

/// The events between two polls (pure).
pub fn diff(before: &Seen, after: &Seen, time: i64) -> Vec<EngineEvent> {
    let ev = |name: &str, container: &str, action: &str| EngineEvent {
        name: name.to_string(),
        container: container.to_string(),
        action: action.to_string(),
        time,
    };
    let mut out = Vec::new();
    for (c, (name, running)) in after {
        match before.get(c) {
            None => {
                out.push(ev(name, c, "create"));
                if *running {
                    out.push(ev(name, c, "start"));
                }
            }
            Some((_, was)) if was != running => {
                out.push(ev(name, c, if *running { "start" } else { "die" }));
            }
            Some(_) => {}
        }
    }
    for (c, (name, was)) in before {
        if !after.contains_key(c) {
            if *was {
                out.push(ev(name, c, "die"));
            }
            out.push(ev(name, c, "destroy"));
        }
    }
    out
}

/// Every VM with its run state (blocking reads on a blocking thread).
pub async fn states(m: &Arc<dyn Machines>) -> EngineResult<Vec<(VmRecord, VmRun)>> {
    let recs = m.list().await?;
    let m = m.clone();
    tokio::task::spawn_blocking(move || {
        recs.into_iter()
            .map(|r| {
                let run = m.run_state(&r);
                (r, run)
            })
            .collect()
    })
    .await
    .map_err(|e| EngineError::Api(format!("reading VM states failed: {e}")))
}

async fn seen(m: &Arc<dyn Machines>) -> Option<Seen> {
    let all = states(m).await.ok()?;
    Some(
        all.into_iter()
            .filter_map(|(r, run)| {
                let name = crate::domain::pool::workspace_name(&r.labels, &r.container)?;
                Some((r.container, (name, matches!(run, VmRun::Running { .. }))))
            })
            .collect(),
    )
}

/// VM events from polling every [`POLL`]: the first poll is the baseline.
pub fn events(m: Arc<dyn Machines>) -> BoxStream<'static, EngineResult<EngineEvent>> {
    stream::unfold((m, None::<Seen>), |(m, before)| async move {
        let mut before = before;
        loop {
            if before.is_some() {
                tokio::time::sleep(POLL).await;
            }
            let Some(after) = seen(&m).await else {
                // A poll that failed (a record being written): try the next one.
                if before.is_none() {
                    before = Some(Seen::new());
                }
                continue;
            };
            let evs = before.as_ref().map(|b| diff(b, &after, now()));
            before = Some(after);
            match evs {
                Some(evs) if !evs.is_empty() => {
                    let items: Vec<EngineResult<EngineEvent>> = evs.into_iter().map(Ok).collect();
                    return Some((stream::iter(items), (m, before)));
                }
                _ => continue,
            }
        }
    })
    .flatten()
    .boxed()
}

/// Samples every second while it runs (ends when it stops); CPU percent from
/// tick deltas, so the first item comes after the second sample.
pub fn stats(m: Arc<dyn Machines>, rec: VmRecord) -> BoxStream<'static, EngineResult<Stats>> {
    let limit = rec.shape.mem_mib << 20;
    type Prev = Option<(u64, tokio::time::Instant)>;
    stream::unfold(
        (m, rec, None::<(u64, tokio::time::Instant)>),
        move |(m, rec, prev)| async move {
            let mut prev: Prev = prev;
            loop {
                if prev.is_some() {
                    tokio::time::sleep(POLL).await;
                }
                let (mm, r) = (m.clone(), rec.clone());
                let s = tokio::task::spawn_blocking(move || mm.sample(&r))
                    .await
                    .ok()
                    .flatten()?;
                let at = tokio::time::Instant::now();
                let out = prev.map(|(ticks, t0)| {
                    let secs = at.duration_since(t0).as_secs_f64().max(1e-3);
                    Stats {
                        cpu_percent: s.cpu_ticks.saturating_sub(ticks) as f64 / TICKS / secs
                            * 100.0,
                        mem_bytes: s.rss_bytes,
                        mem_limit: limit,
                        pids: 0,
                    }
                });
                prev = Some((s.cpu_ticks, at));
                if let Some(st) = out {
                    return Some((Ok(st), (m, rec, prev)));
                }
            }
        },
    )
    .boxed()
}

/// The last `tail` lines of `text` (all of it when `None`).
pub fn tail_lines(text: &[u8], tail: Option<usize>) -> &[u8] {
    let Some(n) = tail else { return text };
    if n == 0 {
        return &text[text.len()..];
    }
    let body = text.strip_suffix(b"\n").unwrap_or(text);
    let mut seen = 0;
    for (i, b) in body.iter().enumerate().rev() {
        if *b == b'\n' {
            seen += 1;
            if seen == n {
                return &text[i + 1..];
            }
        }
    }
    text
}

/// Prefixes every line with `stamp` and a space (as the engine's timestamps).
pub fn stamp_lines(text: &[u8], stamp: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 32);
    for line in text.split_inclusive(|b| *b == b'\n') {
        out.extend_from_slice(stamp.as_bytes());
        out.push(b' ');
        out.extend_from_slice(line);
    }
    out
}

/// The most one read of the console takes (a flood comes in pieces).
const READ_CAP: u64 = 8 << 20;

/// One read of the console.
struct ConsoleRead {
    bytes: Vec<u8>,
    /// The offset after them.
    end: u64,
    mtime: Option<std::time::SystemTime>,
    /// Whether the file goes on past them (the read was capped).
    more: bool,
}

/// Bytes of the console from `offset` (blocking), at most [`READ_CAP`]; with
/// `last`, the last [`READ_CAP`] bytes at most (for a tail: the console is
/// appended to across boots and outgrows one read). A file shorter than
/// `offset` (a new boot started it again) is read from its start.
fn read_from(path: &PathBuf, offset: u64, last: bool) -> std::io::Result<ConsoleRead> {
    let mut f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(ConsoleRead {
                bytes: Vec::new(),
                end: 0,
                mtime: None,
                more: false,
            })
        }
        Err(e) => return Err(e),
    };
    let meta = f.metadata()?;
    let len = meta.len();
    let mut start = if len < offset { 0 } else { offset };
    if last {
        start = start.max(len.saturating_sub(READ_CAP));
    }
    f.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    f.by_ref().take(READ_CAP).read_to_end(&mut bytes)?;
    let end = start + bytes.len() as u64;
    Ok(ConsoleRead {
        bytes,
        end,
        mtime: meta.modified().ok(),
        more: end < len,
    })
}

/// The console as the workspace's log: the last `tail` lines (or all of it),
/// then (following) what is appended, polled. Timestamps, when asked, are the
/// file's mtime at the read (the console has no time of its own per line).
pub fn logs(console: PathBuf, opts: LogOptions) -> BoxStream<'static, EngineResult<Output>> {
    let read = move |path: PathBuf, offset: u64, last: bool| async move {
        tokio::task::spawn_blocking(move || read_from(&path, offset, last))
            .await
            .map_err(|e| EngineError::Api(format!("reading the console failed: {e}")))?
            .map_err(|e| EngineError::Api(format!("cannot read the VM's console: {e}")))
    };
    let stamp = move |t: Option<std::time::SystemTime>| {
        opts.timestamps.then(|| {
            let t: chrono::DateTime<chrono::Utc> =
                t.unwrap_or_else(std::time::SystemTime::now).into();
            t.to_rfc3339_opts(chrono::SecondsFormat::Nanos, true)
        })
    };
    // (console, offset after the last read, ended, more to read right away)
    stream::unfold(
        (console, None::<u64>, false, false),
        move |(path, offset, ended, more)| async move {
            if ended {
                return None;
            }
            let (mut offset, mut more) = (offset, more);
            loop {
                let first = offset.is_none();
                if !first && !more {
                    if !opts.follow {
                        return None;
                    }
                    tokio::time::sleep(LOG_POLL).await;
                }
                let last = first && opts.tail.is_some();
                let r = match read(path.clone(), offset.unwrap_or(0), last).await {
                    Ok(r) => r,
                    Err(e) => return Some((Err(e), (path, offset, true, false))),
                };
                offset = Some(r.end);
                more = r.more;
                let shown: Vec<u8> = if first {
                    tail_lines(&r.bytes, opts.tail).to_vec()
                } else {
                    r.bytes
                };
                if shown.is_empty() {
                    continue;
                }
                let out = match stamp(r.mtime) {
                    Some(s) => stamp_lines(&shown, &s),
                    None => shown,
                };
                return Some((Ok(Output::Stdout(out)), (path, offset, false, more)));
            }
        },
    )
    .boxed()
}

#[cfg(test)]
#[path = "vm_watch_tests.rs"]
mod tests;
