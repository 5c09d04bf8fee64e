//! `berth logs`: a workspace's output, raw or one JSON object per line; with its
//! sidecars' (services, ...) lines tagged when it has any (see `logs_tagged`).
use super::logs_tagged::WORKSPACE_SOURCE;
use crate::backend::follow::split_timestamp;
use crate::backend::{lifecycle, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::engine::{LogOptions, Output};
use anyhow::Result;
use futures_util::StreamExt;
use std::io::Write;

/// Splits a stream's bytes into lines, keeping a partial last line for later.
#[derive(Default)]
pub(super) struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    pub(super) fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=pos).collect();
            out.push(String::from_utf8_lossy(&line[..line.len() - 1]).to_string());
        }
        out
    }

    pub(super) fn rest(&mut self) -> Option<String> {
        (!self.partial.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.partial)).to_string())
    }
}

/// One JSON line: `{"source", "stream", "ts", "text"}`.
pub(super) fn json_line(source: &str, stream: &str, ts: Option<String>, text: &str) -> String {
    serde_json::json!({ "source": source, "stream": stream, "ts": ts, "text": text }).to_string()
}

/// A workspace-only line as JSON (its timestamp split off when asked for).
fn own_json_line(stream: &str, line: &str, timestamps: bool) -> String {
    let (ts, text) = if timestamps {
        split_timestamp(line)
    } else {
        (None, line.to_string())
    };
    json_line(WORKSPACE_SOURCE, stream, ts, &text)
}

pub async fn run(ctx: &Ctx, name: &WorkspaceName, opts: LogOptions, json: bool) -> Result<i32> {
    let w = lifecycle::find(ctx, name).await?;
    // Its secret files' values are hidden (`[secret NAME]`), in its sidecars' lines too.
    let (mut red_out, notes) = crate::backend::secrets::redactor_for(ctx, &w).await;
    for n in notes {
        eprintln!("berth: note: {n}");
    }
    let sidecars = ctx.engine.sidecars(name.as_str()).await?;
    if !sidecars.is_empty() {
        let sources = std::iter::once((WORKSPACE_SOURCE.to_string(), w.container))
            .chain(sidecars.into_iter().map(|s| (s.source, s.container)))
            .collect();
        let engine = ctx.engine.clone();
        return super::logs_tagged::run(engine, sources, opts, json, &red_out).await;
    }
    let mut red_err = red_out.clone();
    let mut s = ctx.engine.logs(&w.container, opts);
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let (mut o, mut e) = (Lines::default(), Lines::default());
    while let Some(chunk) = s.next().await {
        match (json, chunk?) {
            (false, Output::Stdout(b)) => {
                out.write_all(&red_out.push(&b))?;
                out.flush()?;
            }
            (false, Output::Stderr(b)) => err.write_all(&red_err.push(&b))?,
            (true, Output::Stdout(b)) => {
                for l in o.push(&b) {
                    let l = red_out.apply(&l);
                    writeln!(out, "{}", own_json_line("stdout", &l, opts.timestamps))?;
                }
                out.flush()?;
            }
            (true, Output::Stderr(b)) => {
                for l in e.push(&b) {
                    let l = red_out.apply(&l);
                    writeln!(out, "{}", own_json_line("stderr", &l, opts.timestamps))?;
                }
                out.flush()?;
            }
        }
    }
    if json {
        for (stream, lines) in [("stdout", &mut o), ("stderr", &mut e)] {
            if let Some(l) = lines.rest() {
                let l = red_out.apply(&l);
                writeln!(out, "{}", own_json_line(stream, &l, opts.timestamps))?;
            }
        }
    } else {
        out.write_all(&red_out.finish())?;
        out.flush()?;
        err.write_all(&red_err.finish())?;
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_and_become_json() {
        let mut l = Lines::default();
        assert!(l.push(b"par").is_empty());
        assert_eq!(l.push(b"tial\nnext\nla"), ["partial", "next"]);
        assert_eq!(l.rest().as_deref(), Some("la"));
        let v: serde_json::Value = serde_json::from_str(&own_json_line(
            "stderr",
            "2026-11-23T01:57:27.795100366Z oops",
            true,
        ))
        .unwrap();
        assert_eq!(v["stream"], "stderr");
        assert_eq!(v["source"], "workspace");
        assert_eq!(v["ts"], "2026-11-23T01:57:27.795100366Z");
        assert_eq!(v["text"], "oops");
    }
}
