//! `berth logs` of a workspace with sidecars (services, its Docker engine): every
//! source's lines tagged by source like the TUI's logs pane (`[workspace] `,
//! `[db] `), in time order; with `--follow`, as they come. Memory stays bounded: each source
//! streams through a small channel and only one line per source waits to be merged.
use super::logs::{json_line, Lines};
use crate::backend::follow::split_timestamp;
use crate::engine::{Engine, LogOptions, Output};
use anyhow::{anyhow, Result};
use futures_util::StreamExt;
use std::io::Write;
use std::sync::Arc;
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// The source tag of the workspace's own lines (also in JSON's "source").
pub const WORKSPACE_SOURCE: &str = "workspace";
/// Lines a source may have in flight before it waits for the printer.
const PER_SOURCE: usize = 256;

/// One line of one source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedLine {
    pub source: usize,
    pub stderr: bool,
    pub ts: Option<String>,
    pub text: String,
}

type Item = Result<TaggedLine, String>;

/// Reads one source's log stream (always with timestamps, to merge by them) and
/// sends its complete lines; a last unfinished line is sent when the stream ends.
async fn read_source(
    engine: Arc<dyn Engine>,
    source: usize,
    container: String,
    opts: LogOptions,
    tx: mpsc::Sender<Item>,
) {
    let mut s = engine.logs(
        &container,
        LogOptions {
            timestamps: true,
            ..opts
        },
    );
    let (mut out, mut err) = (Lines::default(), Lines::default());
    let line = |stderr: bool, raw: String| {
        let (ts, text) = split_timestamp(&raw);
        TaggedLine {
            source,
            stderr,
            ts,
            text,
        }
    };
    while let Some(chunk) = s.next().await {
        let lines: Vec<TaggedLine> = match chunk {
            Ok(Output::Stdout(b)) => out.push(&b).into_iter().map(|l| line(false, l)).collect(),
            Ok(Output::Stderr(b)) => err.push(&b).into_iter().map(|l| line(true, l)).collect(),
            Err(e) => {
                let _ = tx.send(Err(format!("logs of {container}: {e}"))).await;
                return;
            }
        };
        for l in lines {
            if tx.send(Ok(l)).await.is_err() {
                return;
            }
        }
    }
    for (stderr, rest) in [(false, out.rest()), (true, err.rest())] {
        if let Some(r) = rest {
            let _ = tx.send(Ok(line(stderr, r))).await;
        }
    }
}

/// Picks the next line to print: the earliest timestamp among the waiting heads
/// (a line without one first; ties go to the earlier source).
pub fn earliest(heads: &[Option<TaggedLine>]) -> Option<usize> {
    heads
        .iter()
        .enumerate()
        .filter_map(|(i, h)| h.as_ref().map(|l| (i, l)))
        .min_by(|(i, a), (j, b)| a.ts.cmp(&b.ts).then(i.cmp(j)))
        .map(|(i, _)| i)
}

/// How a line is printed: `[TS ][SOURCE] TEXT`.
pub fn render(names: &[String], l: &TaggedLine, timestamps: bool) -> String {
    let mut s = String::new();
    if let (true, Some(ts)) = (timestamps, &l.ts) {
        s.push_str(ts);
        s.push(' ');
    }
    let source = names.get(l.source).map_or("?", String::as_str);
    s.push_str(&format!("[{source}] {}", l.text));
    s
}

/// Prints the logs of `sources` ((tag, container), the workspace's first).
pub async fn run(
    engine: Arc<dyn Engine>,
    sources: Vec<(String, String)>,
    opts: LogOptions,
    json: bool,
    redactor: &crate::domain::redact_stream::SecretRedactor,
) -> Result<i32> {
    let names: Vec<String> = sources.iter().map(|(n, _)| n.clone()).collect();
    let mut tasks = JoinSet::new();
    let mut receivers = Vec::new();
    // Following: one channel, lines as they come. Else one per source, merged.
    let (shared_tx, shared_rx) = mpsc::channel::<Item>(PER_SOURCE);
    for (i, (_, container)) in sources.into_iter().enumerate() {
        let tx = if opts.follow {
            shared_tx.clone()
        } else {
            let (tx, rx) = mpsc::channel(PER_SOURCE);
            receivers.push(rx);
            tx
        };
        tasks.spawn(read_source(engine.clone(), i, container, opts, tx));
    }
    drop(shared_tx);
    let print = |l: &TaggedLine| -> Result<()> {
        let l = &TaggedLine {
            text: redactor.apply(&l.text).into_owned(),
            ..l.clone()
        };
        if json {
            let mut out = std::io::stdout().lock();
            let stream = if l.stderr { "stderr" } else { "stdout" };
            let ts = opts.timestamps.then_some(l.ts.clone()).flatten();
            let source = names.get(l.source).map_or("?", String::as_str);
            writeln!(out, "{}", json_line(source, stream, ts, &l.text))?;
            out.flush()?;
        } else if l.stderr {
            eprintln!("{}", render(&names, l, opts.timestamps));
        } else {
            let mut out = std::io::stdout().lock();
            writeln!(out, "{}", render(&names, l, opts.timestamps))?;
            out.flush()?;
        }
        Ok(())
    };
    if opts.follow {
        let mut rx = shared_rx;
        while let Some(item) = rx.recv().await {
            print(&item.map_err(|e| anyhow!(e))?)?;
        }
        return Ok(0);
    }
    let mut heads: Vec<Option<TaggedLine>> = vec![None; receivers.len()];
    let mut open: Vec<bool> = vec![true; receivers.len()];
    loop {
        for (i, rx) in receivers.iter_mut().enumerate() {
            if heads[i].is_none() && open[i] {
                match rx.recv().await {
                    Some(item) => heads[i] = Some(item.map_err(|e| anyhow!(e))?),
                    None => open[i] = false,
                }
            }
        }
        let Some(i) = earliest(&heads) else {
            break;
        };
        if let Some(l) = heads[i].take() {
            print(&l)?;
        }
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::MemoryEngine;

    fn line(source: usize, ts: &str, text: &str) -> Option<TaggedLine> {
        Some(TaggedLine {
            source,
            stderr: false,
            ts: Some(ts.into()),
            text: text.into(),
        })
    }

    #[test]
    fn the_earliest_line_goes_first_and_sidecars_are_tagged() {
        let heads = [
            line(0, "2026-01-01T00:00:02.000000000Z", "ws"),
            None,
            line(2, "2026-01-01T00:00:01.000000000Z", "db"),
        ];
        assert_eq!(earliest(&heads), Some(2));
        assert_eq!(earliest(&[None, None]), None);
        let names = vec![WORKSPACE_SOURCE.to_string(), "x".into(), "db".into()];
        let db = heads[2].clone().unwrap();
        assert_eq!(render(&names, &db, false), "[db] db");
        assert_eq!(
            render(&names, &db, true),
            "2026-01-01T00:00:01.000000000Z [db] db"
        );
        assert_eq!(
            render(&names, &heads[0].clone().unwrap(), false),
            "[workspace] ws"
        );
    }

    #[tokio::test]
    async fn a_source_sends_its_lines_and_its_unfinished_last_one() {
        let e = MemoryEngine::new();
        let c = e.add_sidecar("w", "db");
        e.log(&c, "one\ntwo\n").unwrap();
        e.log_unterminated(&c, "three").unwrap();
        let (tx, mut rx) = mpsc::channel(8);
        let opts = LogOptions {
            follow: false,
            tail: None,
            timestamps: false,
        };
        read_source(Arc::new(e), 1, c, opts, tx).await;
        let mut got = Vec::new();
        while let Some(Ok(l)) = rx.recv().await {
            assert!(l.ts.is_some() && l.source == 1);
            got.push(l.text);
        }
        assert_eq!(got, ["one", "two", "three"]);
    }
}
