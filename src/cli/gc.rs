//! `berth gc [--dry-run] [--json]`: the cleanup job once, and what it did or would
//! do and why. The exit code is 1 when an action failed after its retries.
use crate::backend::cleanup::{run_once, CleanupReport};
use crate::backend::jobs::lock::{self, Attempt, Kind};
use crate::backend::Ctx;
use anyhow::Result;

pub async fn run(ctx: &Ctx, dry_run: bool, json: bool) -> Result<i32> {
    super::engine_note::say(ctx, "the workspaces");
    // Acting takes the jobs lock, so a daemon's or a TUI's cleanup never runs at
    // the same time; a dry run changes nothing and needs none.
    let _lock = if dry_run {
        None
    } else {
        match lock::try_acquire(&ctx.paths.state_dir, Kind::Once).await? {
            Attempt::Held(l) => Some(l),
            Attempt::Taken(h) => anyhow::bail!(
                "the background jobs, cleanup among them, are run by {} right now; `berth gc --dry-run` shows what it would do, or stop that one first",
                h.describe()
            ),
        }
    };
    let now = chrono::Utc::now().timestamp();
    let report = run_once(ctx, now, dry_run).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!("{}", text(&report));
    }
    Ok(if report.failed() { 1 } else { 0 })
}

fn text(r: &CleanupReport) -> String {
    let mut out = String::new();
    if r.dry_run {
        out.push_str("Dry run: nothing was changed.\n");
    }
    for l in &r.workspaces {
        out.push_str(&l.sentence());
        out.push('\n');
        for e in &l.errors {
            out.push_str(&format!("  error: {e}\n"));
        }
    }
    out.push_str(&r.summary());
    out.push('\n');
    out
}
