//! Named networks (`berth net create|rm|ls`, `berth create --network`): engine
//! networks `berth-NAME` on which workspaces reach each other by their names.
use super::Ctx;
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::networks::{describe_members, named_labels, Member, NetworkName};
use crate::engine::{NetworkInfo, NetworkSpec};
use anyhow::{bail, Result};
use serde::Serialize;

/// A named network as `berth net ls` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct NetView {
    pub name: String,
    /// The engine's network (`berth-NAME`).
    pub network: String,
    pub driver: String,
    /// Workspaces on it (reachable there by their names).
    pub workspaces: Vec<String>,
    /// Services on it, as their DNS names there (`SERVICE.WORKSPACE`).
    pub services: Vec<String>,
    /// Other containers someone attached to it.
    pub others: Vec<String>,
}

impl NetView {
    fn of(info: &NetworkInfo) -> Self {
        let mut v = NetView {
            name: info
                .labels
                .get(labels::NETWORK)
                .cloned()
                .unwrap_or_else(|| info.name.clone()),
            network: info.name.clone(),
            driver: info.driver.clone(),
            workspaces: Vec::new(),
            services: Vec::new(),
            others: Vec::new(),
        };
        for c in &info.containers {
            match Member::of(c) {
                Member::Workspace(w) => v.workspaces.push(w),
                Member::Sidecar { workspace, kind } => {
                    v.services.push(format!("{kind}.{workspace}"))
                }
                Member::Other(o) => v.others.push(o),
            }
        }
        v
    }
}

/// Is `info` a named network berth made, called `name`?
fn is_ours(info: &NetworkInfo, name: &NetworkName) -> bool {
    info.labels.get(labels::ROLE).map(String::as_str) == Some(labels::ROLE_NETWORK)
        && info.labels.get(labels::NETWORK).map(String::as_str) == Some(name.as_str())
}

/// `berth net create NAME`.
pub async fn create(ctx: &Ctx, name: &NetworkName) -> Result<NetView> {
    let spec = NetworkSpec::bridge(name.engine_name(), named_labels(&ctx.config.labels, name));
    if !ctx.engine.create_network(&spec).await? {
        let theirs = ctx
            .engine
            .inspect_network(&spec.name)
            .await?
            .is_some_and(|i| !is_ours(&i, name));
        if theirs {
            bail!(
                "the engine already has a network {} that berth did not make; pick another name, or remove it with `docker network rm {}`",
                spec.name,
                spec.name
            );
        }
        bail!("network {name} exists already; `berth net ls` shows the networks there are");
    }
    let info = ctx.engine.inspect_network(&spec.name).await?;
    Ok(info.map_or_else(
        || NetView {
            name: name.to_string(),
            network: spec.name.clone(),
            driver: "bridge".into(),
            workspaces: vec![],
            services: vec![],
            others: vec![],
        },
        |i| NetView::of(&i),
    ))
}

/// The named networks, sorted by name.
pub async fn list(ctx: &Ctx) -> Result<Vec<NetView>> {
    let nets = ctx
        .engine
        .networks_labelled(&[(labels::ROLE, labels::ROLE_NETWORK)])
        .await?;
    let mut out: Vec<NetView> = nets.iter().map(NetView::of).collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(out)
}

/// The named network `name` as the engine has it, or a sentence saying it is not.
async fn find(ctx: &Ctx, name: &NetworkName) -> Result<NetworkInfo> {
    match ctx.engine.inspect_network(&name.engine_name()).await? {
        Some(i) if is_ours(&i, name) => Ok(i),
        _ => bail!(
            "no network named {name}; create it with `berth net create {name}` (`berth net ls` shows the networks there are)"
        ),
    }
}

/// What `berth net rm` did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Removed {
    pub name: String,
    pub network: String,
    /// Containers detached first (with `--force`).
    pub detached: Vec<String>,
}

/// `berth net rm NAME`: refused while anything is on it, unless `force` (which
/// detaches them first; they keep running, without this network).
pub async fn remove(ctx: &Ctx, name: &NetworkName, force: bool) -> Result<Removed> {
    let info = find(ctx, name).await?;
    let members: Vec<Member> = info.containers.iter().map(|c| Member::of(c)).collect();
    if !members.is_empty() && !force {
        bail!(
            "network {name} is in use by {}; remove them from it first (`berth delete`, `berth service rm`), or `berth net rm {name} --force` detaches them",
            describe_members(&members)
        );
    }
    for c in &info.containers {
        ctx.engine.disconnect_network(&info.name, c).await?;
    }
    ctx.engine.remove_network(&info.name).await?;
    Ok(Removed {
        name: name.to_string(),
        network: info.name,
        detached: info.containers,
    })
}

/// Refuses (with a sentence) unless every network in `names` exists.
pub async fn check_exist(ctx: &Ctx, names: &[NetworkName]) -> Result<(), String> {
    for n in names {
        find(ctx, n).await.map_err(|e| format!("{e:#}"))?;
    }
    Ok(())
}

/// Attaches workspace `ws`'s container to each named network, with its workspace
/// name as its DNS name there.
pub async fn join(ctx: &Ctx, ws: &WorkspaceName, names: &[NetworkName]) -> Result<()> {
    for n in names {
        ctx.engine
            .connect_network(&n.engine_name(), &ws.container(), &[ws.to_string()])
            .await
            .map_err(|e| anyhow::anyhow!("cannot join network {n}: {e}"))?;
    }
    Ok(())
}

/// The named networks workspace `ws` is on (names without the engine's prefix).
pub async fn of_workspace(ctx: &Ctx, ws: &WorkspaceName) -> Result<Vec<String>> {
    Ok(list(ctx)
        .await?
        .into_iter()
        .filter(|v| v.workspaces.iter().any(|w| *w == ws.as_str()))
        .map(|v| v.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::test_support::ctx_with;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::NetworkEngine;
    use std::sync::Arc;

    fn n(s: &str) -> NetworkName {
        NetworkName::parse(s).unwrap()
    }

    #[tokio::test]
    async fn create_list_join_and_remove() {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("a", 2201);
        e.add_workspace("b", 2202);
        e.add_workspace("c", 2203);
        let (ctx, _dir) = ctx_with(e.clone());
        let v = create(&ctx, &n("team")).await.unwrap();
        assert_eq!(
            (v.name.as_str(), v.network.as_str()),
            ("team", "berth-team")
        );
        let again = create(&ctx, &n("team")).await.unwrap_err().to_string();
        assert!(again.contains("exists already"), "{again}");
        for w in ["a", "b"] {
            join(&ctx, &WorkspaceName::parse(w).unwrap(), &[n("team")])
                .await
                .unwrap();
        }
        assert!(e.resolves("workspace-a", "b") && e.resolves("workspace-b", "a"));
        assert!(!e.resolves("workspace-c", "a") && !e.resolves("workspace-a", "c"));
        let l = list(&ctx).await.unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(l[0].workspaces, ["a", "b"]);
        let a = WorkspaceName::parse("a").unwrap();
        assert_eq!(of_workspace(&ctx, &a).await.unwrap(), ["team"]);
        // In use: refused, naming who uses it; --force detaches them first.
        let busy = remove(&ctx, &n("team"), false)
            .await
            .unwrap_err()
            .to_string();
        assert!(
            busy.contains("workspaces a, b") && busy.contains("--force"),
            "{busy}"
        );
        let r = remove(&ctx, &n("team"), true).await.unwrap();
        assert_eq!(r.detached, ["workspace-a", "workspace-b"]);
        assert!(list(&ctx).await.unwrap().is_empty());
        assert!(!e.resolves("workspace-a", "b"));
        let gone = remove(&ctx, &n("team"), false)
            .await
            .unwrap_err()
            .to_string();
        assert!(gone.contains("no network named team"), "{gone}");
    }

    #[tokio::test]
    async fn unknown_or_foreign_networks_are_refused() {
        let e = Arc::new(MemoryEngine::new());
        let (ctx, _dir) = ctx_with(e.clone());
        let err = check_exist(&ctx, &[n("nope")]).await.unwrap_err();
        assert!(err.contains("berth net create nope"), "{err}");
        // Someone else's network of the same engine name is not berth's.
        e.create_network(&NetworkSpec::bridge("berth-x".into(), Default::default()))
            .await
            .unwrap();
        assert!(check_exist(&ctx, &[n("x")]).await.is_err());
        let err = create(&ctx, &n("x")).await.unwrap_err().to_string();
        assert!(err.contains("did not make"), "{err}");
    }
}
