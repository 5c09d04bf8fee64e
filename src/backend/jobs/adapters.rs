//! The jobs whose state lives elsewhere, as one async function each turning their
//! report into a [`JobOutcome`] (listed in `registry::all`).
use super::JobOutcome;
use crate::backend::cleanup::{self, Done};
use crate::backend::Ctx;
use anyhow::{bail, Result};

/// The cleanup job (`berth gc` once): a sentence per workspace it acted on; an
/// action that failed after its retries makes the run a failure that names it.
pub async fn cleanup(ctx: &Ctx, now: i64) -> Result<JobOutcome> {
    if ctx.engines.several() {
        return cleanup_every_engine(ctx, now).await;
    }
    let report = cleanup::run_once(ctx, now, false).await?;
    let failed: Vec<String> = report
        .workspaces
        .iter()
        .filter(|l| l.failed())
        .map(|l| l.sentence())
        .collect();
    if !failed.is_empty() {
        bail!("{}: {}", report.summary(), failed.join("; "));
    }
    let acted: Vec<String> = report
        .workspaces
        .iter()
        .filter(|l| matches!(l.done, Done::Stopped | Done::Deleted | Done::Refused))
        .map(|l| l.sentence())
        .collect();
    Ok(if acted.is_empty() {
        JobOutcome::quiet()
    } else {
        JobOutcome::acted(acted)
    })
}

/// How often the runner tops the warm pool up (a claim also starts a refill).
pub const POOL_REFILL_EVERY: std::time::Duration = std::time::Duration::from_secs(60);

/// The pool refill job: slots made or removed are said (`berth pool` shows the rest); a slot that could not be
/// made makes the run a failure that says why.
pub async fn pool_refill(ctx: &Ctx, _now: i64) -> Result<JobOutcome> {
    let r = crate::backend::pool::refill(ctx).await?;
    if !r.failed.is_empty() {
        let why: Vec<String> = r.failed.iter().map(|(s, e)| format!("{s}: {e}")).collect();
        bail!("the warm pool could not be refilled: {}", why.join("; "));
    }
    let mut lines: Vec<String> = r
        .made
        .iter()
        .map(|s| format!("warm pool: made {s}"))
        .collect();
    lines.extend(
        r.removed
            .iter()
            .map(|(s, why)| format!("warm pool: removed {s} ({why})")),
    );
    Ok(if lines.is_empty() {
        // Its notes (a pool no slot can be made for) are in `berth pool`; said
        // every minute they would drown the log.
        JobOutcome::quiet()
    } else {
        JobOutcome::acted(lines)
    })
}

/// The cleanup job with several engines: each engine's workspaces cleaned up
/// through that engine's context, each sentence naming its engine; an engine
/// that cannot be reached is skipped this round and said (all of them: a
/// failure). A failed action on any engine makes the run a failure naming it.
async fn cleanup_every_engine(ctx: &Ctx, now: i64) -> Result<JobOutcome> {
    let round =
        super::every_engine::each(
            ctx,
            |on| async move { cleanup::run_once(&on, now, false).await },
        )
        .await;
    let skipped = round.skip_lines("cleanup");
    if round.done.is_empty() {
        bail!("{}", skipped.join("; "));
    }
    let mut failed = Vec::new();
    let mut acted = Vec::new();
    for (engine, report) in &round.done {
        for l in &report.workspaces {
            let line = format!("engine {engine}: {}", l.sentence());
            if l.failed() {
                failed.push(line);
            } else if matches!(l.done, Done::Stopped | Done::Deleted | Done::Refused) {
                acted.push(line);
            }
        }
    }
    if !failed.is_empty() {
        failed.extend(skipped);
        bail!("{}", failed.join("; "));
    }
    let any = !acted.is_empty();
    acted.extend(skipped);
    Ok(match (any, acted.is_empty()) {
        (true, _) => JobOutcome::acted(acted),
        (false, true) => JobOutcome::quiet(),
        (false, false) => JobOutcome::said(acted),
    })
}
