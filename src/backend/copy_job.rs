//! `berth cp` as a job of the backend service (the TUI's copy form): the same copy
//! as the command line's, its progress reported as job output a few times a second.
use super::copy::{copy_in, copy_out, Meter, Sink, Source, WORKSPACE_IDS};
use super::{Ctx, Progress, Report};
use crate::domain::copy::{human_bytes, parse, CopyRequest, Local};
use anyhow::{bail, Result};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the job line shows the bytes copied.
const EVERY: Duration = Duration::from_millis(250);

/// A progress line: `12.0 MiB of 200.0 MiB (6%)`, or the bytes alone.
pub fn progress_line(bytes: u64, total: Option<u64>) -> String {
    match total {
        Some(t) if t > 0 => format!(
            "{} of {} ({}%)",
            human_bytes(bytes),
            human_bytes(t),
            bytes.saturating_mul(100) / t
        ),
        _ => human_bytes(bytes),
    }
}

/// Copies `src` to `dst` (the command line's spelling: one side `NAME:PATH`).
pub async fn run(
    ctx: &Ctx,
    src: &str,
    dst: &str,
    progress: &dyn Report,
    cancel: watch::Receiver<bool>,
) -> Result<String> {
    let req = parse(src, dst)?;
    let meter = Arc::new(Meter::default());
    let copy = async {
        match req {
            CopyRequest::In {
                from: Local::Path(p),
                name,
                to,
            } => {
                let s = copy_in(
                    ctx,
                    &name,
                    Source::Host(p),
                    &to,
                    Some(WORKSPACE_IDS),
                    &meter,
                    cancel,
                )
                .await?;
                Ok(format!(
                    "copied {} into {name}:{}",
                    human_bytes(s.counts.bytes),
                    s.target
                ))
            }
            CopyRequest::Out {
                name,
                from,
                to: Local::Path(p),
            } => {
                let s = copy_out(ctx, &name, &from, Sink::Host(p), &meter, cancel).await?;
                Ok(format!(
                    "copied {} from {name} to {}",
                    human_bytes(s.counts.bytes),
                    s.target
                ))
            }
            _ => bail!("- (a tar on standard input or output) works on the command line only"),
        }
    };
    tokio::pin!(copy);
    let mut tick = tokio::time::interval(EVERY);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    loop {
        tokio::select! {
            r = &mut copy => return r,
            _ = tick.tick() => {
                let line = progress_line(meter.bytes(), meter.total());
                progress.report(Progress::Output { label: "cp".into(), line }).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn progress_reads_as_bytes_of_total() {
        assert_eq!(super::progress_line(0, None), "0 B");
        assert_eq!(
            super::progress_line(12 << 20, Some(200 << 20)),
            "12.0 MiB of 200.0 MiB (6%)"
        );
    }
}
