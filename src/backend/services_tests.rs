//! Services over the in-memory engine: reachable by name from their workspace only,
//! every failure leaving nothing behind, removed with their workspace.
use super::*;
use crate::backend::test_support::ctx_with;
use crate::backend::{lifecycle, networks, sidecars};
use crate::domain::networks::NetworkName;
use crate::engine::memory::{MemoryEngine, Op};
use crate::engine::Engine;
use std::sync::Arc;

fn ws(n: &str) -> WorkspaceName {
    WorkspaceName::parse(n).unwrap()
}

fn req(name: &str) -> ServiceRequest {
    ServiceRequest {
        name: name.into(),
        image: crate::engine::memory::IMAGE.into(),
        ..Default::default()
    }
}

/// Containers and networks that exist: what a failed add must leave as it found.
fn world(e: &MemoryEngine) -> (Vec<String>, Vec<String>) {
    (e.containers(), e.network_names())
}

fn quiet() -> impl Fn(crate::backend::Progress) + Send + Sync {
    |_| {}
}

#[tokio::test]
async fn a_service_is_reachable_by_name_from_its_workspace_and_nothing_else() {
    let e = Arc::new(MemoryEngine::new());
    e.add_workspace("w", 2201);
    e.add_workspace("other", 2202);
    let (ctx, _dir) = ctx_with(e.clone());
    let a = add(&ctx, &ws("w"), &req("db")).await.unwrap();
    assert!(a.started, "the workspace runs, so does its service");
    assert_eq!(a.service.container, "workspace-w.db");
    assert_eq!(a.service.networks, ["workspace-w"]);
    assert!(e.resolves("workspace-w", "db"));
    assert!(
        e.resolves("workspace-w.db", "w"),
        "the service reaches its workspace"
    );
    assert!(!e.resolves("workspace-other", "db"));
    assert!(!e.resolves("workspace-other", "workspace-w.db"));
    // A sidecar: the logs follow it, lifecycle moves it.
    let s = e.sidecars("w").await.unwrap();
    assert_eq!((s[0].source.as_str(), s[0].running), ("db", true));
    // A second one shares the network; removing one keeps it for the other.
    add(&ctx, &ws("w"), &req("cache")).await.unwrap();
    let names: Vec<String> = list(&ctx, &ws("w"))
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.name)
        .collect();
    assert_eq!(names, ["cache", "db"]);
    let r = remove(&ctx, &ws("w"), "db").await.unwrap();
    assert_eq!(
        (r.container.as_str(), r.network.as_deref()),
        ("workspace-w.db", None)
    );
    let r = remove(&ctx, &ws("w"), "cache").await.unwrap();
    assert_eq!(
        r.network.as_deref(),
        Some("workspace-w"),
        "gone with the last service"
    );
    assert!(e.network_names().is_empty());
    let err = remove(&ctx, &ws("w"), "cache")
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("has no service cache"), "{err}");
}

#[tokio::test]
async fn refusals_come_before_anything_is_made() {
    let e = Arc::new(MemoryEngine::new());
    e.add_workspace("w", 2201);
    let (ctx, _dir) = ctx_with(e.clone());
    add(&ctx, &ws("w"), &req("db")).await.unwrap();
    let before = world(&e);
    let cases = [
        (req("db"), "already has a service db"),
        (
            ServiceRequest {
                image: "nosuch/image:1".into(),
                ..req("cache")
            },
            "is not in the engine",
        ),
        (
            ServiceRequest {
                networks: vec!["nope".into()],
                ..req("cache")
            },
            "berth net create nope",
        ),
        (req("docker"), "reserved"),
    ];
    for (r, want) in cases {
        let err = format!("{:#}", add(&ctx, &ws("w"), &r).await.unwrap_err());
        assert!(err.contains(want), "{r:?}: {err}");
        assert_eq!(world(&e), before, "{r:?} left something");
    }
    let err = add(&ctx, &ws("ghost"), &req("db"))
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("no workspace named ghost"), "{err}");
    // The first service of a workspace: a refusal makes no network either.
    e.add_workspace("v", 2202);
    let before = world(&e);
    let r = ServiceRequest {
        image: "nosuch/image:1".into(),
        ..req("db")
    };
    add(&ctx, &ws("v"), &r).await.unwrap_err();
    assert_eq!(world(&e), before);
}

#[tokio::test]
async fn a_failure_while_making_removes_what_was_made() {
    // The workspace's first service: a failure at each call (attaching the
    // workspace to its new network, creating the service, starting it) removes the
    // service and the network.
    for op in [Op::ConnectNetwork, Op::CreateService, Op::StartContainer] {
        let e = Arc::new(MemoryEngine::new());
        e.add_workspace("w", 2201);
        let (ctx, _dir) = ctx_with(e.clone());
        let before = world(&e);
        e.fail_next(op, EngineError::Api("not now".into()));
        let err = format!("{:#}", add(&ctx, &ws("w"), &req("db")).await.unwrap_err());
        assert!(
            err.contains("not now") && err.contains("nothing was left behind"),
            "{op:?}: {err}"
        );
        assert_eq!(world(&e), before, "{op:?}");
        assert!(!e.resolves("workspace-w", "db"));
    }
    // A later service failing to join a named network: it goes, the network of the
    // workspace stays for the service already there.
    let e = Arc::new(MemoryEngine::new());
    e.add_workspace("w", 2201);
    let (ctx, _dir) = ctx_with(e.clone());
    networks::create(&ctx, &NetworkName::parse("team").unwrap())
        .await
        .unwrap();
    add(&ctx, &ws("w"), &req("cache")).await.unwrap();
    let before = world(&e);
    e.fail_next(Op::ConnectNetwork, EngineError::Api("not now".into()));
    let r = ServiceRequest {
        networks: vec!["team".into()],
        ..req("db")
    };
    let err = format!("{:#}", add(&ctx, &ws("w"), &r).await.unwrap_err());
    assert!(
        err.contains("cannot join network team") && err.contains("nothing was left behind"),
        "{err}"
    );
    assert_eq!(world(&e), before);
    assert!(e.resolves("workspace-w", "cache"));
}

#[tokio::test]
async fn a_service_joins_a_named_network_as_service_dot_workspace() {
    let e = Arc::new(MemoryEngine::new());
    e.add_workspace("w", 2201);
    e.add_workspace("peer", 2202);
    let (ctx, _dir) = ctx_with(e.clone());
    let team = NetworkName::parse("team").unwrap();
    networks::create(&ctx, &team).await.unwrap();
    networks::join(&ctx, &ws("peer"), std::slice::from_ref(&team))
        .await
        .unwrap();
    let r = ServiceRequest {
        networks: vec!["team".into()],
        ..req("db")
    };
    let a = add(&ctx, &ws("w"), &r).await.unwrap();
    assert_eq!(a.reachable_as, ["db", "db.w (network team)"]);
    assert!(e.resolves("workspace-peer", "db.w"));
    assert!(
        !e.resolves("workspace-peer", "db"),
        "its short name is its workspace's"
    );
    let l = networks::list(&ctx).await.unwrap();
    assert_eq!(
        (l[0].workspaces.clone(), l[0].services.clone()),
        (vec!["peer".to_string()], vec!["db.w".to_string()])
    );
    let busy = networks::remove(&ctx, &team, false)
        .await
        .unwrap_err()
        .to_string();
    assert!(busy.contains("workspace peer, db of workspace w"), "{busy}");
}

#[tokio::test]
async fn services_stop_with_their_workspace_and_go_with_it() {
    let e = Arc::new(MemoryEngine::new());
    e.add_workspace("w", 2201);
    let (ctx, _dir) = ctx_with(e.clone());
    add(&ctx, &ws("w"), &req("db")).await.unwrap();
    lifecycle::stop(&ctx, &ws("w"), &quiet()).await.unwrap();
    assert_eq!(list(&ctx, &ws("w")).await.unwrap()[0].state, "stopped");
    // Added while the workspace is stopped: made, started with the workspace.
    let a = add(&ctx, &ws("w"), &req("cache")).await.unwrap();
    assert!(!a.started);
    assert_eq!(a.service.state, "created");
    sidecars::before_start(&ctx, &ws("w"), &quiet()).await;
    assert!(list(&ctx, &ws("w"))
        .await
        .unwrap()
        .iter()
        .all(|s| s.state == "running"));
    // Delete names them and takes them, and the workspace's network.
    let plan = lifecycle::plan_delete(&ctx, &ws("w"), false).await.unwrap();
    assert!(
        plan.describe(&ws("w")).contains("sidecars cache, db"),
        "{}",
        plan.describe(&ws("w"))
    );
    assert_eq!(plan.sidecars.networks, ["workspace-w"]);
    let d = lifecycle::delete(&ctx, &ws("w"), false).await.unwrap();
    assert_eq!(d.sidecars, ["workspace-w.cache", "workspace-w.db"]);
    assert_eq!(d.networks, ["workspace-w"]);
    assert!(e.containers().is_empty() && e.network_names().is_empty());
}

#[tokio::test]
async fn an_unfinished_workspace_gets_no_service() {
    let e = Arc::new(MemoryEngine::new());
    let c = e.add_workspace("w", 2201);
    // Made by a create that recorded markers and never finished.
    e.set_label(
        &c,
        crate::domain::labels::PROVISION,
        crate::domain::labels::PROVISION_MARKER,
    );
    let (ctx, _dir) = ctx_with(e.clone());
    let err = add(&ctx, &ws("w"), &req("db"))
        .await
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("services are added to finished workspaces"),
        "{err}"
    );
    assert!(e.network_names().is_empty());
}
