//! Where a new workspace goes: the engine the user named, else (with
//! `placement = "least-loaded"`) the reachable engine with the fewest running
//! workspaces and then the most free memory, else the default engine. The CLI's
//! create and the TUI's create form both ask here, and show the reason.
use super::engine_pick::{ask_all, ASK_TIMEOUT};
use super::engines::EngineSet;
use super::Ctx;
use crate::domain::engines::{least_loaded, Load, Placement};
use crate::domain::workspace::WorkspaceState;
use crate::engine::Engine;
use anyhow::{anyhow, bail, Result};
use std::sync::Arc;
use std::time::Duration;

/// The engine a create goes to, and why (shown as `engine: NAME (REASON)`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Placed {
    pub engine: String,
    pub reason: String,
}

/// Where a create goes: `explicit` (the engine the user named) when given.
pub async fn place(ctx: &Ctx, explicit: Option<&str>) -> Result<Placed> {
    place_in(&ctx.engines, explicit, ASK_TIMEOUT).await
}

/// [`place`] over an engine set (before any context exists); each engine is
/// asked for its load with `timeout`.
pub async fn place_in(
    set: &EngineSet,
    explicit: Option<&str>,
    timeout: Duration,
) -> Result<Placed> {
    if let Some(name) = explicit {
        if set.def(name).is_none() {
            // The sentence that names the engines berth knows.
            set.get(name).await?;
        }
        return Ok(Placed {
            engine: name.to_string(),
            reason: "chosen".into(),
        });
    }
    if set.explicit() {
        return Ok(Placed {
            engine: set.default_name().to_string(),
            reason: "chosen".into(),
        });
    }
    if set.placement() != Placement::LeastLoaded || !set.several() {
        return Ok(Placed {
            engine: set.default_name().to_string(),
            reason: "the default engine".into(),
        });
    }
    let answers = ask_all(set, timeout, load_of).await;
    let mut loads = Vec::new();
    let mut down = Vec::new();
    for (engine, r) in answers {
        match r {
            Ok((running, free_memory)) => loads.push(Load {
                engine,
                running,
                free_memory,
            }),
            Err(why) => down.push(format!("{engine} ({why})")),
        }
    }
    let Some(best) = least_loaded(&loads) else {
        bail!(
            "no engine answered, so there is nowhere to place the workspace: {}. Check them with `berth engines`",
            down.join(", ")
        );
    };
    for d in &down {
        tracing::info!("placement skipped engine {d}");
    }
    Ok(Placed {
        engine: best.engine.clone(),
        reason: format!(
            "least-loaded: {} running, {} free",
            best.running,
            human_memory(best.free_memory)
        ),
    })
}

/// An engine's running berth workspaces and its free memory: what it reports
/// (MemTotal) minus the memory limits of those workspaces.
async fn load_of(e: Arc<dyn Engine>) -> Result<(usize, u64)> {
    let info = e.info().await.map_err(|e| anyhow!(e))?;
    let ws = e.list_workspaces().await.map_err(|e| anyhow!(e))?;
    let running: Vec<_> = ws
        .iter()
        .filter(|w| w.state == WorkspaceState::Running)
        .collect();
    let limits: u64 = running
        .iter()
        .filter_map(|w| w.memory_limit)
        .filter(|m| *m > 0)
        .map(|m| m as u64)
        .sum();
    Ok((running.len(), info.mem_total.saturating_sub(limits)))
}

/// `21.3 GiB`, `512.0 MiB`.
fn human_memory(bytes: u64) -> String {
    let gib = bytes as f64 / (1u64 << 30) as f64;
    if gib >= 1.0 {
        format!("{gib:.1} GiB")
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::memory::MemoryEngine;

    const GIB: u64 = 1 << 30;

    fn set(names: &[&str], placement: Placement) -> (Vec<MemoryEngine>, EngineSet) {
        crate::backend::engines::memory_set(names, placement)
    }

    async fn placed(set: &EngineSet) -> Placed {
        place_in(set, None, ASK_TIMEOUT).await.unwrap()
    }

    #[tokio::test]
    async fn least_loaded_takes_fewest_running_then_most_memory() {
        let (m, s) = set(&["a", "b", "c"], Placement::LeastLoaded);
        for (e, gib) in m.iter().zip([16, 32, 8]) {
            e.set_host(4, gib * GIB);
        }
        m[0].add_workspace("w1", 4040);
        let p = placed(&s).await;
        assert_eq!(p.engine, "b");
        assert_eq!(p.reason, "least-loaded: 0 running, 32.0 GiB free");
        // b busier; a and c tie on one running each, a has more memory.
        m[1].add_workspace("w2", 4041);
        m[1].add_workspace("w3", 4042);
        m[2].add_workspace("w4", 4043);
        assert_eq!(
            placed(&s).await.engine,
            "a",
            "a tie on running goes to memory"
        );
    }

    #[tokio::test]
    async fn a_tie_is_broken_by_name_and_unreachable_engines_are_skipped() {
        let (m, s) = set(&["a", "b", "c"], Placement::LeastLoaded);
        assert_eq!(placed(&s).await.engine, "a", "equal loads: by name");
        m[0].go_down("a is off");
        assert_eq!(placed(&s).await.engine, "b");
        m[1].go_down("off");
        m[2].go_down("off");
        let e = place_in(&s, None, ASK_TIMEOUT)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no engine answered") && e.contains("a is off"),
            "{e}"
        );
    }

    #[tokio::test]
    async fn named_or_default_engines_ask_nothing() {
        let (m, s) = set(&["a", "b"], Placement::LeastLoaded);
        m[1].go_down("off");
        let p = place_in(&s, Some("b"), ASK_TIMEOUT).await.unwrap();
        assert_eq!((p.engine.as_str(), p.reason.as_str()), ("b", "chosen"));
        assert!(place_in(&s, Some("zz"), ASK_TIMEOUT).await.is_err());
        let (m, s) = set(&["a", "b"], Placement::Default);
        let p = placed(&s).await;
        assert_eq!(
            (p.engine.as_str(), p.reason.as_str()),
            ("a", "the default engine")
        );
        assert_eq!(m[0].calls(crate::engine::memory::Op::Info), 0);
        let s = s.chosen("b").unwrap();
        assert_eq!(placed(&s).await.engine, "b");
    }

    #[test]
    fn memory_reads_as_gib() {
        assert_eq!(human_memory(21 * GIB + 3 * GIB / 10), "21.3 GiB");
        assert_eq!(human_memory(GIB / 2), "512.0 MiB");
    }
}
