//! `berth pool`: the warm pool (see `backend::pool`): what waits, a refill, a drain.
use crate::backend::{pool, Ctx};
use crate::domain::ttl::compact;
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand, Debug)]
pub enum PoolAction {
    /// Top every pool up to its size (`[pool]` in the config) and remove slots no
    /// pool wants any more (size lowered, options or image changed) or broken ones.
    Refill {
        #[arg(long)]
        json: bool,
    },
    /// Remove every warm slot (containers and volumes); `berth pool refill` makes them again.
    Drain {
        #[arg(long)]
        json: bool,
    },
}

pub async fn run(ctx: &Ctx, action: Option<PoolAction>, json: bool) -> Result<i32> {
    super::engine_note::say(ctx, "the warm pools");
    match action {
        None => show(ctx, json).await,
        Some(PoolAction::Refill { json }) => {
            let r = pool::refill(ctx).await?;
            report(&r, json)
        }
        Some(PoolAction::Drain { json }) => {
            let r = pool::drain(ctx).await?;
            report(&r, json)
        }
    }
}

async fn show(ctx: &Ctx, json: bool) -> Result<i32> {
    let now = chrono::Utc::now().timestamp();
    let pools = pool::status(ctx, now).await?;
    if json {
        print_json(&serde_json::to_value(&pools)?)?;
        return Ok(0);
    }
    if pools.is_empty() {
        println!(
            "No warm pool. Set one in {} (e.g. `[pool]` then `general = 2`), then run `berth pool refill`.",
            ctx.paths.config_file.display()
        );
        return Ok(0);
    }
    for p in &pools {
        let size = if p.size == 0 {
            "no longer configured".to_string()
        } else {
            format!("size {}", p.size)
        };
        println!(
            "pool {}: {size}, {} ready, {} being made",
            p.profile, p.ready, p.in_flight
        );
        if p.size > 0 {
            if let Err(e) = pool::pool_spec(ctx, &p.profile) {
                println!("  no slot can be made: {e:#}");
            }
        }
        for s in &p.slots {
            let port = s.port.map_or("-".to_string(), |p| p.to_string());
            println!(
                "  {:<32} {:<7} port {:<5} age {}",
                s.container,
                s.state,
                port,
                compact(s.age_secs.max(0) as u64)
            );
        }
    }
    Ok(0)
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

fn report(r: &pool::PoolReport, json: bool) -> Result<i32> {
    let code = if r.failed.is_empty() { 0 } else { 1 };
    if json {
        print_json(&serde_json::to_value(r)?)?;
        return Ok(code);
    }
    for c in &r.made {
        println!("made warm slot {c}");
    }
    for (c, why) in &r.removed {
        println!("removed slot {c}: {why}");
    }
    for n in &r.notes {
        println!("note: {n}");
    }
    for (c, why) in &r.failed {
        eprintln!("failed: {c}: {why}");
    }
    if r.made.is_empty() && r.removed.is_empty() && r.failed.is_empty() && r.notes.is_empty() {
        println!("the pool is as configured; nothing to do");
    }
    Ok(code)
}
