//! `berth cp SRC DST`: one side `NAME:PATH`, the other a host path or `-` (a tar on
//! standard input or output). A byte bar on a terminal; `--json` prints a summary.
use crate::backend::copy::{self, CopySummary, Meter, Sink, Source, WORKSPACE_IDS};
use crate::backend::Ctx;
use crate::domain::copy::{human_bytes, parse, CopyRequest, Local};
use anyhow::{bail, Result};
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Arc;
use std::time::Duration;

pub async fn run(ctx: &Ctx, src: &str, dst: &str, archive: bool, json: bool) -> Result<i32> {
    let req = parse(src, dst)?;
    let to_stdout = matches!(
        req,
        CopyRequest::Out {
            to: Local::Stdio,
            ..
        }
    );
    if json && to_stdout {
        bail!("--json cannot go with - as the destination: the archive goes to standard output");
    }
    if to_stdout && std::io::stdout().is_terminal() {
        bail!("not writing an archive to a terminal; redirect it (`berth cp {src} - > out.tar`) or pipe it (`| tar x`)");
    }
    let meter = Arc::new(Meter::default());
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    let interrupt = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nberth: cancelling the copy");
            let _ = cancel_tx.send(true);
        }
    });
    let bar = (std::io::stderr().is_terminal() && !json).then(|| bar(&meter));
    let owner = (!archive).then_some(WORKSPACE_IDS);
    let (CopyRequest::In { name, .. } | CopyRequest::Out { name, .. }) = &req;
    let use_ = crate::domain::activity::UseSource::Copy;
    crate::backend::activity::record_name(ctx, name.as_str(), use_).await;
    let result = match req {
        CopyRequest::In { from, name, to } => {
            let source = match from {
                Local::Path(p) => Source::Host(p),
                Local::Stdio => Source::Tar(Box::new(std::io::stdin())),
            };
            copy::copy_in(ctx, &name, source, &to, owner, &meter, cancel_rx)
                .await
                .map(|s| (s, format!("{name}:")))
        }
        CopyRequest::Out { name, from, to } => {
            let sink = match to {
                Local::Path(p) => Sink::Host(p),
                Local::Stdio => Sink::Tar(Box::new(tokio::io::stdout())),
            };
            copy::copy_out(ctx, &name, &from, sink, &meter, cancel_rx)
                .await
                .map(|s| (s, String::new()))
        }
    };
    interrupt.abort();
    if let Some((b, ticker)) = bar {
        ticker.abort();
        b.finish_and_clear();
    }
    let (summary, side) = result?;
    if json {
        println!("{}", serde_json::to_string_pretty(&summary)?);
    } else if to_stdout {
        eprintln!("{}", describe(&summary, &side));
    } else {
        println!("{}", describe(&summary, &side));
    }
    Ok(0)
}

/// One sentence: what went where.
fn describe(s: &CopySummary, side: &str) -> String {
    let c = &s.counts;
    let mut parts = Vec::new();
    let plural = |n: u64, one: &str, many: &str| format!("{n} {}", if n == 1 { one } else { many });
    if c.files > 0 || (c.dirs == 0 && c.links == 0) {
        parts.push(plural(c.files, "file", "files"));
    }
    if c.dirs > 0 {
        parts.push(plural(c.dirs, "directory", "directories"));
    }
    if c.links > 0 {
        parts.push(plural(c.links, "link", "links"));
    }
    let skipped = if c.skipped > 0 {
        format!(
            " ({} skipped: sockets, pipes and devices are not copied)",
            c.skipped
        )
    } else {
        String::new()
    };
    if s.target == "-" {
        return format!(
            "Wrote a {} archive to standard output in {:.1}s.",
            human_bytes(c.bytes),
            s.seconds
        );
    }
    format!(
        "Copied {} ({}) to {side}{} in {:.1}s{skipped}.",
        parts.join(", "),
        human_bytes(c.bytes),
        s.target,
        s.seconds
    )
}

/// A byte bar (a spinner while the total is unknown), fed from the meter.
fn bar(meter: &Arc<Meter>) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let b = ProgressBar::new(0);
    let style =
        |t: &str| ProgressStyle::with_template(t).unwrap_or_else(|_| ProgressStyle::default_bar());
    let m = meter.clone();
    let b2 = b.clone();
    let ticker = tokio::spawn(async move {
        let mut known = false;
        loop {
            match (m.total(), known) {
                (Some(t), false) => {
                    b2.set_style(style(
                        "{bar:30} {bytes}/{total_bytes} {binary_bytes_per_sec} eta {eta}",
                    ));
                    b2.set_length(t);
                    known = true;
                }
                (None, false) => b2.set_style(style("{spinner} {bytes} {binary_bytes_per_sec}")),
                _ => {}
            }
            b2.set_position(m.bytes());
            b2.tick();
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    (b, ticker)
}
