//! `berth preflight [--repo PATH] [--force] [--profile P] [--json]`: the checks an
//! agent session needs, one line each, exit 1 when not ready (`backend::preflight`).
use crate::backend::preflight::{run as preflight, without_engine, PreflightRequest};
use crate::config::{Config, Paths};
use crate::domain::preflight::Preflight;
use anyhow::Result;
use std::path::PathBuf;

pub async fn run(
    paths: Paths,
    config: Config,
    repo: Option<PathBuf>,
    force: bool,
    profile: Option<String>,
    json: bool,
) -> Result<i32> {
    let repo = match repo {
        // Relative to where berth runs, absolute in the answer.
        Some(r) if r.is_relative() => Some(std::env::current_dir()?.join(r)),
        other => other,
    };
    let req = PreflightRequest {
        repo,
        force,
        image: None,
        profile,
    };
    // An engine that cannot even be connected to is a failed check, not an error.
    let store = crate::store::Store::new(paths.store_file());
    let image = config.image.clone();
    let state_dir = paths.state_dir.clone();
    let p = match super::connect_typed(paths, config, store).await? {
        Ok(ctx) => preflight(&ctx, &req).await,
        Err(e) => without_engine(&e, &state_dir, &req, &image).await,
    };
    print(&p, json)?;
    Ok(if p.ready { 0 } else { 1 })
}

fn print(p: &Preflight, json: bool) -> Result<()> {
    if json {
        println!("{}", serde_json::to_string_pretty(p)?);
        return Ok(());
    }
    for c in &p.checks {
        let mark = if c.passed { "ok  " } else { "FAIL" };
        match (&c.guidance, c.passed) {
            (Some(g), false) => println!("[{mark}] {:<17} {}; fix: {g}", c.name, c.detail),
            _ => println!("[{mark}] {:<17} {}", c.name, c.detail),
        }
    }
    println!(
        "{}",
        if p.ready {
            "ready".to_string()
        } else {
            format!("not ready: {} check(s) failed", p.failures().len())
        }
    );
    Ok(())
}
