//! `berth gc [--dry-run] [--json]`: the cleanup job once, and what it did or would
//! do and why. The exit code is 1 when an action failed after its retries.
use crate::backend::cleanup::{run_once, CleanupReport};
use crate::backend::Ctx;
use anyhow::Result;

pub async fn run(ctx: &Ctx, dry_run: bool, json: bool) -> Result<i32> {
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
