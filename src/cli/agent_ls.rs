//! `berth agent ls [--json]`: the agent sessions of every engine (with several
//! engines an ENGINE column and "engine" in JSON; an engine that cannot be
//! reached is said on stderr). With one engine, or one chosen with `--engine`,
//! that engine's sessions exactly as before.
use super::agent::ahead;
use crate::backend::agent_session;
use crate::backend::engine_list::list_all;
use crate::backend::Ctx;
use crate::domain::agents::AgentSession;
use crate::domain::workspace::Workspace;
use anyhow::Result;

/// Each session with its workspace, across the engines asked.
async fn sessions(ctx: &Ctx) -> Result<Vec<(AgentSession, Workspace)>> {
    if !ctx.engines.several() || ctx.engines.explicit() {
        return agent_session::sessions(ctx).await;
    }
    let all = list_all(&ctx.engines, &ctx.store).await;
    for note in all.notes() {
        eprintln!("note: {note}");
    }
    if all.answered.is_empty() {
        anyhow::bail!("no engine could be reached; see `berth engines`");
    }
    Ok(all
        .workspaces
        .into_iter()
        .filter_map(|w| AgentSession::from_labels(&w.name, &w.labels).map(|s| (s, w)))
        .collect())
}

pub async fn list(ctx: &Ctx, json: bool) -> Result<i32> {
    let several = ctx.engines.several();
    let sessions = sessions(ctx).await?;
    let mut rows = Vec::new();
    for (s, w) in &sessions {
        let a = match ctx.on(&w.engine).await {
            Ok(on) if !w.engine.is_empty() => ahead(&on, s, w).await,
            _ => ahead(ctx, s, w).await,
        };
        rows.push((s, w, a));
    }
    if json {
        let v: Vec<serde_json::Value> = rows
            .iter()
            .map(|(s, w, a)| {
                let mut v = serde_json::to_value(s).unwrap_or_default();
                v["state"] = w.status_word().into();
                v["ahead"] = serde_json::to_value(a).unwrap_or_default();
                if several {
                    v["engine"] = w.engine.clone().into();
                }
                v
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&v)?);
        return Ok(0);
    }
    if rows.is_empty() {
        println!("No agent sessions. Start one with `berth agent run AGENT` or `berth agent launch AGENT`.");
        return Ok(0);
    }
    let engine_head = if several {
        format!("{:<12} ", "ENGINE")
    } else {
        String::new()
    };
    println!(
        "{:<36} {engine_head}{:<8} {:<28} {:<22} {:<9} AHEAD",
        "NAME", "AGENT", "REPO", "BRANCH", "STATE"
    );
    for (s, w, a) in rows {
        let engine = if several {
            format!("{:<12} ", w.engine)
        } else {
            String::new()
        };
        println!(
            "{:<36} {engine}{:<8} {:<28} {:<22} {:<9} {}",
            s.name,
            s.agent,
            s.repo.as_deref().unwrap_or("-"),
            if s.branch.is_empty() { "-" } else { &s.branch },
            w.status_word(),
            a.map_or("-".to_string(), |n| n.to_string())
        );
    }
    Ok(0)
}
