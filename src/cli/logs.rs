//! `berth logs`: a workspace's output, raw or one JSON object per line.
use crate::backend::follow::split_timestamp;
use crate::backend::{lifecycle, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::engine::{LogOptions, Output};
use anyhow::Result;
use futures_util::StreamExt;
use std::io::Write;

/// Splits a stream's bytes into lines, keeping a partial last line for later.
#[derive(Default)]
struct Lines {
    partial: Vec<u8>,
}

impl Lines {
    fn push(&mut self, bytes: &[u8]) -> Vec<String> {
        self.partial.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(pos) = self.partial.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=pos).collect();
            out.push(String::from_utf8_lossy(&line[..line.len() - 1]).to_string());
        }
        out
    }

    fn rest(&mut self) -> Option<String> {
        (!self.partial.is_empty())
            .then(|| String::from_utf8_lossy(&std::mem::take(&mut self.partial)).to_string())
    }
}

fn json_line(stream: &str, line: &str, timestamps: bool) -> String {
    let (ts, text) = if timestamps {
        split_timestamp(line)
    } else {
        (None, line.to_string())
    };
    serde_json::json!({ "stream": stream, "ts": ts, "text": text }).to_string()
}

pub async fn run(ctx: &Ctx, name: &WorkspaceName, opts: LogOptions, json: bool) -> Result<i32> {
    let w = lifecycle::find(ctx, name).await?;
    let mut s = ctx.engine.logs(&w.container, opts);
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    let (mut o, mut e) = (Lines::default(), Lines::default());
    while let Some(chunk) = s.next().await {
        match (json, chunk?) {
            (false, Output::Stdout(b)) => {
                out.write_all(&b)?;
                out.flush()?;
            }
            (false, Output::Stderr(b)) => err.write_all(&b)?,
            (true, Output::Stdout(b)) => {
                for l in o.push(&b) {
                    writeln!(out, "{}", json_line("stdout", &l, opts.timestamps))?;
                }
                out.flush()?;
            }
            (true, Output::Stderr(b)) => {
                for l in e.push(&b) {
                    writeln!(out, "{}", json_line("stderr", &l, opts.timestamps))?;
                }
                out.flush()?;
            }
        }
    }
    if json {
        for (stream, lines) in [("stdout", &mut o), ("stderr", &mut e)] {
            if let Some(l) = lines.rest() {
                writeln!(out, "{}", json_line(stream, &l, opts.timestamps))?;
            }
        }
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
        let v: serde_json::Value = serde_json::from_str(&json_line(
            "stderr",
            "2026-11-23T01:57:27.795100366Z oops",
            true,
        ))
        .unwrap();
        assert_eq!(v["stream"], "stderr");
        assert_eq!(v["ts"], "2026-11-23T01:57:27.795100366Z");
        assert_eq!(v["text"], "oops");
    }
}
