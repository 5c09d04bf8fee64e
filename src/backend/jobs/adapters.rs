//! The jobs whose state lives elsewhere, as one async function each turning their
//! report into a [`JobOutcome`] (listed in `registry::all`).
use super::JobOutcome;
use crate::backend::cleanup::{self, Done};
use crate::backend::Ctx;
use anyhow::{bail, Result};

/// The cleanup job (`berth gc` once): a sentence per workspace it acted on; an
/// action that failed after its retries makes the run a failure that names it.
pub async fn cleanup(ctx: &Ctx, now: i64) -> Result<JobOutcome> {
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
