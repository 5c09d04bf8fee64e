//! `berth engines [--json]`: every engine berth knows, each asked at once (with a
//! timeout) whether it answers, its version, API version, runtimes and how many
//! of berth's workspaces it runs.
use crate::backend::engine_pick::{ask_all, ASK_TIMEOUT};
use crate::backend::engines::EngineSet;
use crate::config::{Config, Paths};
use crate::domain::workspace::WorkspaceState;
use crate::engine::EngineInfo;
use anyhow::{anyhow, Result};
use serde::Serialize;

/// One engine as `berth engines` shows it.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct EngineRow {
    pub name: String,
    pub url: String,
    pub source: String,
    /// The engine commands use when they name none.
    pub default: bool,
    pub reachable: bool,
    /// Why it could not be asked.
    pub error: Option<String>,
    pub version: Option<String>,
    pub api_version: Option<String>,
    pub runtimes: Vec<String>,
    pub default_runtime: Option<String>,
    /// berth's workspaces running there, and in all.
    pub running: Option<usize>,
    pub workspaces: Option<usize>,
}

/// Every engine of `set`, asked at once.
pub async fn rows(set: &EngineSet) -> Vec<EngineRow> {
    let answers = ask_all(set, ASK_TIMEOUT, |e| async move {
        let info: EngineInfo = e.info().await.map_err(|e| anyhow!(e))?;
        let ws = e.list_workspaces().await.map_err(|e| anyhow!(e))?;
        let running = ws
            .iter()
            .filter(|w| w.state == WorkspaceState::Running)
            .count();
        Ok((info, running, ws.len()))
    })
    .await;
    answers
        .into_iter()
        .map(|(name, r)| {
            let def = set.def(&name);
            let mut row = EngineRow {
                default: name == set.default_name(),
                url: def.map(|d| d.host.url()).unwrap_or_default(),
                source: def.map(|d| d.source.to_string()).unwrap_or_default(),
                name,
                reachable: r.is_ok(),
                error: None,
                version: None,
                api_version: None,
                runtimes: Vec::new(),
                default_runtime: None,
                running: None,
                workspaces: None,
            };
            match r {
                Ok((info, running, total)) => {
                    row.version = Some(info.version);
                    row.api_version = Some(info.api_version);
                    row.runtimes = info.runtimes;
                    row.default_runtime = Some(info.default_runtime);
                    row.running = Some(running);
                    row.workspaces = Some(total);
                }
                Err(e) => row.error = Some(e),
            }
            row
        })
        .collect()
}

/// The table: `*` marks the default engine.
pub fn table(rows: &[EngineRow]) -> String {
    let head = [
        "NAME",
        "URL",
        "SOURCE",
        "STATE",
        "VERSION",
        "API",
        "RUNTIMES",
        "WORKSPACES",
    ];
    let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    let cells: Vec<[String; 8]> = rows
        .iter()
        .map(|r| {
            let runtimes = match (&r.default_runtime, r.runtimes.is_empty()) {
                (_, true) => "-".to_string(),
                (Some(d), false) => r
                    .runtimes
                    .iter()
                    .map(|x| if x == d { format!("{x}*") } else { x.clone() })
                    .collect::<Vec<_>>()
                    .join(","),
                (None, false) => r.runtimes.join(","),
            };
            [
                format!("{}{}", r.name, if r.default { " *" } else { "" }),
                r.url.clone(),
                r.source.clone(),
                match &r.error {
                    None => "reachable".into(),
                    Some(e) => format!("unreachable: {e}"),
                },
                dash(&r.version),
                dash(&r.api_version),
                runtimes,
                match (r.running, r.workspaces) {
                    (Some(run), Some(all)) => format!("{run} running / {all}"),
                    _ => "-".into(),
                },
            ]
        })
        .collect();
    let mut widths = head.map(str::len);
    for r in &cells {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let line = |r: &[String]| {
        let c: Vec<String> = r
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c:<w$}", w = widths[i]))
            .collect();
        c.join("  ").trim_end().to_string() + "\n"
    };
    let mut out = line(&head.map(String::from));
    for r in &cells {
        out.push_str(&line(r));
    }
    out
}

pub async fn run(_paths: Paths, config: Config, json: bool) -> Result<i32> {
    let set = super::engine_set_async(&config).await?;
    let rows = rows(&set).await;
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else {
        print!("{}", table(&rows));
        println!("* the default engine (--engine NAME, BERTH_ENGINE or `engine` in the config picks another); runtime* the engine's default runtime");
    }
    Ok(0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::engines::Placement;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::Engine;
    use std::sync::Arc;

    #[tokio::test]
    async fn every_engine_is_shown_with_its_state() {
        let a = MemoryEngine::new().named("a");
        let b = MemoryEngine::new().named("b");
        a.add_workspace("web", 4040);
        b.go_down("b is off");
        let set = EngineSet::fixed(
            vec![Arc::new(a) as Arc<dyn Engine>, Arc::new(b)],
            Placement::Default,
        );
        let r = rows(&set).await;
        assert!(r[0].default && r[0].reachable && r[0].version.as_deref() == Some("memory"));
        assert_eq!((r[0].running, r[0].workspaces), (Some(1), Some(1)));
        assert!(!r[1].reachable && r[1].error.as_deref().unwrap().contains("b is off"));
        let t = table(&r);
        assert!(t.starts_with("NAME"), "{t}");
        assert!(t.contains("a *") && t.contains("1 running / 1"), "{t}");
        assert!(t.contains("unreachable: ") && t.contains("b is off"), "{t}");
    }
}
