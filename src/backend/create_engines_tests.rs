//! A create on one of two engines with a workspace of the same name on the
//! other: what an interrupted create on b left is listed on b only, carries
//! engine b, is located on b, and deleting it there leaves a's `web` alone.
use super::create::{create, CreateOutcome};
use super::create_tests::request;
use super::engine_pick::{leftovers_of, locate};
use super::engines::EngineSet;
use super::{inventory, lifecycle, Ctx};
use crate::config::{Config, Paths};
use crate::domain::engines::Placement;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{WorkspaceState, HOST_KEY_PUB};
use crate::engine::memory::{ExecCall, ExecReply, MemoryEngine};
use crate::engine::Engine;
use crate::store::Store;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm host";

/// Engine b answers what create runs; its post-start script takes an hour.
fn engine_b() -> MemoryEngine {
    let b = MemoryEngine::publishing().named("b");
    b.set_exec_handler(|c: &ExecCall| {
        let cmd = c.cmd.join(" ");
        if cmd == format!("cat {HOST_KEY_PUB}") {
            ExecReply {
                stdout: format!("{HOST_KEY}\n").into_bytes(),
                ..Default::default()
            }
        } else if cmd.starts_with("/bin/sh -lc") {
            ExecReply {
                takes: Duration::from_secs(3600),
                ..Default::default()
            }
        } else {
            ExecReply::default()
        }
    });
    b
}

#[tokio::test(start_paused = true)]
async fn an_interrupted_create_on_b_is_b_s_leftover_only_and_deleted_there() {
    let a = MemoryEngine::new().named("a");
    let b = engine_b();
    let set = Arc::new(EngineSet::fixed(
        vec![
            Arc::new(a.clone()) as Arc<dyn Engine>,
            Arc::new(b.clone()) as Arc<dyn Engine>,
        ],
        Placement::Default,
    ));
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let mut config = Config {
        port_range: crate::domain::ports::PortRange::new(47090, 47091).unwrap(),
        ..Default::default()
    };
    config.provision.forward = crate::domain::create_options::Forward::NONE;
    let store = Store::inline_for_tests(paths.store_file());
    let ctx_a = Ctx::with_all(set.clone(), Arc::new(a.clone()), config, paths, store);
    let ctx_b = ctx_a.on("b").await.unwrap();
    let web = WorkspaceName::parse("web").unwrap();

    // A create of web on b, killed at its post-start step.
    let (_tx, rx) = watch::channel(false);
    let c = ctx_b.clone();
    let task = tokio::spawn(async move {
        create(&c, request(&c, "web", Some("sleep 3600")), &|_| {}, rx).await
    });
    let token = loop {
        let recs = ctx_b.store.provisioning().await.unwrap();
        if let Some((r, _)) = recs.iter().find(|(r, _)| r.step == "post-start") {
            assert_eq!((r.engine.as_str(), r.name.as_str()), ("b", "web"));
            break r.token.clone();
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    task.abort();
    assert!(!matches!(task.await, Ok(Ok(CreateOutcome::Created(_)))));
    ctx_b
        .store
        .abandon_provisioning("web", &token)
        .await
        .unwrap();
    // What a kill before the container step leaves: the volume and the record.
    b.remove_container("workspace-web").await.unwrap();
    assert!(b.volume_exists("workspace-web").await.unwrap());

    // With no web on a, `berth delete web` is routed to b by the record.
    let on = leftovers_of(&ctx_a.store, &web).await;
    assert_eq!(on, ["b"]);
    assert_eq!(locate(&set, &web, &on).await.unwrap().engine, "b");

    // Now a has a web of its own (with its keys): b's record never touches it.
    a.add_workspace("web", 47092);
    let keys = [PathBuf::from("/k/a")];
    ctx_a.store.set_identities("a", "web", &keys).await.unwrap();
    let on_a = inventory::list(&ctx_a).await.unwrap();
    assert_eq!(on_a.len(), 1, "{on_a:?}");
    assert_eq!(on_a[0].engine, "a");
    assert_eq!(on_a[0].state, WorkspaceState::Running);
    assert!(!on_a[0].provision.step_text().contains("post-start"));
    let on_b = inventory::list(&ctx_b).await.unwrap();
    assert_eq!(on_b.len(), 1, "{on_b:?}");
    let left = &on_b[0];
    assert_eq!(
        (left.engine.as_str(), left.state),
        ("b", WorkspaceState::Absent)
    );
    assert_eq!(left.status_word(), "incomplete");
    assert!(left.provision.step_text().starts_with("post-start"));
    let found = inventory::find(&ctx_b, &web).await.unwrap().unwrap();
    assert_eq!(found.engine, "b");
    assert!(inventory::find(&ctx_a, &web).await.unwrap().unwrap().state == WorkspaceState::Running);

    // Deleting b's leftover removes b's volume and record, nothing of a's.
    lifecycle::delete(&ctx_b, &web, false).await.unwrap();
    assert!(!b.volume_exists("workspace-web").await.unwrap());
    assert!(ctx_b.store.provisioning().await.unwrap().is_empty());
    assert!(inventory::list(&ctx_b).await.unwrap().is_empty());
    assert_eq!(a.containers(), ["workspace-web"]);
    assert_eq!(ctx_a.store.identities("a", "web").await.unwrap(), keys);
}
