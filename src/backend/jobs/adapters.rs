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
