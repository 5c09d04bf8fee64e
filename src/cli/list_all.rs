//! `berth list` (and `berth` alone) with several engines: every engine asked at
//! once, an ENGINE column, `"engine"` on every JSON workspace, and an engine that
//! cannot be reached said on stderr. Exit 0 when at least one engine answered.
//! With `--engine` (or BERTH_ENGINE, the config's `engine`) only that engine.
use super::output;
use crate::backend::engine_list::{list_all, AllList};
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::domain::workspace::Workspace;
use crate::store::Store;
use anyhow::{anyhow, Result};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What `berth list` shows: the workspaces, their TTL cells and sizes (keyed by
/// [`output::row_key`]) and the activity JSON needs.
struct Listed {
    ws: Vec<Workspace>,
    ttl: HashMap<String, String>,
    sizes: BTreeMap<String, u64>,
    json: Vec<serde_json::Value>,
}

/// `berth list [--json]`, or the overview (`table_only`: `berth` alone).
pub async fn run(paths: Paths, config: Config, json: bool, overview: bool) -> Result<i32> {
    let set = Arc::new(super::engine_set_async(&config).await?);
    let store = Store::new(paths.store_file());
    let all = if set.explicit() {
        let name = set.default_name().to_string();
        let engine = set.get(&name).await?;
        let ws = crate::backend::inventory::list_with(engine.as_ref(), &store).await?;
        AllList {
            workspaces: ws,
            answered: vec![name],
            unreachable: Vec::new(),
        }
    } else {
        list_all(&set, &store).await
    };
    for note in all.notes() {
        eprintln!("berth: {note}");
    }
    let Some(first) = all.answered.first() else {
        let why: Vec<String> = all
            .unreachable
            .iter()
            .map(|(e, w)| format!("{e}: {w}"))
            .collect();
        return Err(anyhow!(
            "no engine could be reached ({}); `berth engines` shows each one's state",
            why.join("; ")
        ));
    };
    let engine = set.get(first).await?;
    let ctx = Ctx::with_all(set.clone(), engine, config, paths, store);
    let listed = gather(&ctx, &all, output::now()).await?;
    if json {
        let v = serde_json::Value::Array(listed.json);
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else if listed.ws.is_empty() {
        match overview {
            true => println!("No workspaces yet. Create one with `berth create NAME`; `berth --help` lists every command."),
            false => println!("No workspaces. Create one with `berth create NAME`."),
        }
    } else {
        print!(
            "{}",
            output::table_for(&listed.ws, &listed.ttl, &listed.sizes, true)
        );
    }
    Ok(0)
}

/// Activity and sizes, asked on each workspace's own engine.
async fn gather(ctx: &Ctx, all: &AllList, now: i64) -> Result<Listed> {
    let mut listed = Listed {
        ws: all.workspaces.clone(),
        ttl: HashMap::new(),
        sizes: BTreeMap::new(),
        json: Vec::new(),
    };
    let groups = all.answered.iter().map(|engine| async move {
        let ws: Vec<Workspace> = all
            .workspaces
            .iter()
            .filter(|w| &w.engine == engine)
            .cloned()
            .collect();
        let on = ctx.on(engine).await?;
        let act = crate::backend::activity::recorded(&on, &ws, now).await;
        let sizes = super::limits::list_sizes(&on, &ws).await;
        anyhow::Ok((ws, act, sizes))
    });
    let mut by_key = HashMap::new();
    for r in futures_util::future::join_all(groups).await {
        let (ws, act, sizes) = r?;
        for w in ws {
            let key = output::row_key(&w, true);
            if let Some(a) = act.get(&w.name) {
                listed
                    .ttl
                    .insert(key.clone(), crate::backend::activity::countdown(&a.0, now));
            }
            if let Some(b) = sizes.get(&w.name) {
                listed.sizes.insert(key.clone(), *b);
            }
            by_key.insert(key, act.get(&w.name).cloned());
        }
    }
    // Records of gone containers are forgotten only when every engine answered
    // (one that did not, or was not asked (`--engine`), may still have them).
    let every = ctx
        .engines
        .defs()
        .iter()
        .all(|d| all.answered.contains(&d.name));
    if every && all.unreachable.is_empty() {
        let alive = all
            .workspaces
            .iter()
            .filter(|w| !w.container_id.is_empty())
            .map(|w| w.container_id.clone())
            .collect();
        if let Err(e) = ctx.store.reconcile_activity(alive, now - 60).await {
            tracing::warn!("cannot reconcile recorded activity: {e:#}");
        }
    }
    for w in &listed.ws {
        let key = output::row_key(w, true);
        let mut v = output::workspace_json(w);
        super::activity::add_list_json(&mut v, by_key.get(&key).and_then(|a| a.as_ref()), now);
        v["volume_size_bytes"] = serde_json::json!(listed.sizes.get(&key));
        listed.json.push(v);
    }
    Ok(listed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::engines::EngineSet;
    use crate::domain::engines::Placement;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::Engine;

    /// `berth --engine b list` lists engine b only: the TTL set on engine a's
    /// workspace must survive it (and a list of every engine keeps it too).
    #[tokio::test]
    async fn a_list_of_one_engine_keeps_the_other_engines_records() {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(dir.path());
        let store = Store::new(paths.store_file());
        let a = MemoryEngine::new().named("a");
        let b = MemoryEngine::new().named("b");
        // The in-memory engines number their containers alike: web's id on a is
        // not api's on b.
        a.add_workspace("old", 4041);
        a.add_workspace("web", 4040);
        b.add_workspace("api", 4040);
        let ea: Arc<dyn Engine> = Arc::new(a);
        let eb: Arc<dyn Engine> = Arc::new(b);
        let web = ea
            .inspect_workspace("workspace-web")
            .await
            .unwrap()
            .unwrap();
        assert_ne!(
            web.container_id,
            eb.list_workspaces().await.unwrap()[0].container_id
        );
        store
            .set_ttl(&web.container_id, "web", Some("3d".into()))
            .await
            .unwrap();
        let set = Arc::new(
            EngineSet::fixed(vec![ea, eb.clone()], Placement::Default)
                .chosen("b")
                .unwrap(),
        );
        let ctx = Ctx::with_all(set, eb.clone(), Config::default(), paths, store.clone());
        let only_b = AllList {
            workspaces: eb.list_workspaces().await.unwrap(),
            answered: vec!["b".into()],
            unreachable: Vec::new(),
        };
        // An hour on: the record is old enough to be forgotten if thought gone.
        let later = crate::store::now() + 3600;
        gather(&ctx, &only_b, later).await.unwrap();
        let recs = store.activities().await.unwrap();
        assert_eq!(
            recs.get(&web.container_id).and_then(|r| r.ttl.as_deref()),
            Some("3d"),
            "engine a's TTL was lost by a list of engine b"
        );
    }
}
