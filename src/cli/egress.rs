//! `berth egress NAME [-f] [--denied] [--grep TEXT] [--json]`: a proxy workspace's
//! egress audit as a table and a summary line, or JSON; `-f` follows new requests.
use crate::backend::{egress, Ctx};
use crate::domain::egress::EgressRecord;
use crate::domain::egress_audit::{self as audit, AuditFilter, EgressCounts};
use crate::domain::naming::WorkspaceName;
use anyhow::Result;
use std::io::Write;
use tokio::sync::mpsc;

pub async fn run(
    ctx: &Ctx,
    name: &WorkspaceName,
    follow: bool,
    filter: &AuditFilter,
    json: bool,
) -> Result<i32> {
    if follow {
        return run_follow(ctx, name, filter, json).await;
    }
    let all = egress::history(ctx.engine.as_ref(), name).await?;
    let counts = EgressCounts::of(&all);
    let shown: Vec<EgressRecord> = all.into_iter().filter(|r| filter.matches(r)).collect();
    let mut out = std::io::stdout().lock();
    if json {
        writeln!(out, "{}", serde_json::to_string_pretty(&shown)?)?;
        return Ok(0);
    }
    if counts.requests == 0 {
        writeln!(
            out,
            "No requests yet: every request {name} makes through its proxy shows here."
        )?;
        return Ok(0);
    }
    write!(out, "{}", audit::table(&shown))?;
    writeln!(out, "{}", audit::summary(&counts, shown.len(), filter))?;
    Ok(0)
}

async fn run_follow(
    ctx: &Ctx,
    name: &WorkspaceName,
    filter: &AuditFilter,
    json: bool,
) -> Result<i32> {
    // Refuses a workspace without an audit before following anything.
    egress::audit_of(ctx.engine.as_ref(), name).await?;
    let (tx, mut rx) = mpsc::channel::<Vec<EgressRecord>>(16);
    let follower = tokio::spawn(egress::follow(ctx.engine.clone(), name.clone(), tx));
    if !json {
        println!("{}", audit::stream_header());
    }
    while let Some(batch) = rx.recv().await {
        let mut out = std::io::stdout().lock();
        for r in batch.iter().filter(|r| filter.matches(r)) {
            if json {
                writeln!(out, "{}", serde_json::to_string(r)?)?;
            } else {
                writeln!(out, "{}", audit::stream_row(r))?;
            }
        }
        out.flush()?;
    }
    follower.await?;
    eprintln!("berth: {name} was deleted; its egress audit ends with it");
    Ok(0)
}
