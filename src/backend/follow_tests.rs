//! `watch::run` and `follow::run` alone over the in-memory engine, in paused time.
use super::service::Event;
use super::test_support::{connector, drain, log_lines, wait_for};
use super::{follow, watch};
use crate::engine::memory::{MemoryEngine, Op, OpenStreams};
use crate::engine::{Engine, EngineError};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// A watcher over `engine`, with a store of its own (in a directory that lives as
/// long as the watcher's task).
async fn watching(engine: &MemoryEngine) -> (mpsc::Receiver<Event>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel(256);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = crate::store::Store::inline_for_tests(dir.path().join("berth.db"));
    let run = watch::run(connector(engine), store, tx, |_| {});
    let task = tokio::spawn(async move {
        let _dir = dir;
        run.await
    });
    wait_for(&mut rx, 5, "Connected", |e| {
        matches!(e, Event::Connected { .. }).then_some(())
    })
    .await;
    wait_for(&mut rx, 5, "Workspaces", |e| {
        matches!(e, Event::Workspaces(_)).then_some(())
    })
    .await;
    (rx, task)
}

#[tokio::test(start_paused = true)]
async fn a_stream_error_while_debouncing_reaches_disconnected() {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("w", 3000);
    let (mut rx, task) = watching(&engine).await;
    engine.emit(&c, "die");
    wait_for(&mut rx, 5, "the event", |e| {
        matches!(e, Event::Engine(_)).then_some(())
    })
    .await;
    // The refresh is pending when the stream fails.
    engine.go_down("the engine is restarting");
    let reason = wait_for(&mut rx, 5, "Disconnected", |e| match e {
        Event::Disconnected { reason, .. } => Some(reason.clone()),
        Event::Workspaces(_) => panic!("listed a dead engine"),
        _ => None,
    })
    .await;
    assert!(reason.contains("the engine is restarting"), "{reason}");
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_failed_refresh_is_retried() {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("w", 3000);
    let (mut rx, task) = watching(&engine).await;
    engine.fail_next(Op::ListWorkspaces, EngineError::Api("busy".into()));
    engine.crash(&c).unwrap();
    let ws = wait_for(&mut rx, 10, "a list after the failed one", |e| match e {
        Event::Workspaces(ws) => Some(ws.clone()),
        _ => None,
    })
    .await;
    assert_eq!(
        ws[0].state,
        crate::domain::workspace::WorkspaceState::Stopped
    );
    assert_eq!(engine.calls(Op::ListWorkspaces), 3);
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn the_watcher_ends_when_nobody_listens() {
    let engine = MemoryEngine::new();
    engine.add_workspace("w", 3000);
    let (rx, task) = watching(&engine).await;
    drop(rx);
    tokio::time::timeout(secs(1), task)
        .await
        .expect("the watcher outlived its listener")
        .expect("the watcher panicked");
    assert_eq!(engine.open_streams(), OpenStreams::default());
}

fn follower(
    engine: &MemoryEngine,
    name: &str,
) -> (mpsc::Receiver<Event>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(1024);
    let e: Arc<dyn Engine> = Arc::new(engine.clone());
    (rx, tokio::spawn(follow::run(e, name.to_string(), tx)))
}

#[tokio::test(start_paused = true)]
async fn aborting_a_follower_ends_every_stream_it_opened() {
    let engine = MemoryEngine::new();
    engine.add_workspace("w", 3000);
    engine.add_sidecar("w", "proxy");
    engine.add_sidecar("w", "db");
    let (mut rx, task) = follower(&engine, "w");
    drain(&mut rx, secs(2)).await;
    let open = OpenStreams {
        logs: 3,
        stats: 1,
        events: 0,
    };
    assert_eq!(engine.open_streams(), open);
    task.abort();
    drain(&mut rx, Duration::from_millis(10)).await;
    assert_eq!(engine.open_streams(), OpenStreams::default());
    // Dropped rather than aborted: the same.
    let (tx, mut rx) = mpsc::channel(1024);
    let e: Arc<dyn Engine> = Arc::new(engine.clone());
    let run = follow::run(e, "w".into(), tx);
    let reader = tokio::spawn(async move { drain(&mut rx, secs(10)).await });
    assert!(tokio::time::timeout(secs(2), run).await.is_err());
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(engine.open_streams(), OpenStreams::default());
    reader.abort();
}

#[tokio::test(start_paused = true)]
async fn with_the_engine_down_the_follower_backs_off_then_resumes() {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("w", 3000);
    let (mut rx, task) = follower(&engine, "w");
    drain(&mut rx, secs(2)).await;
    engine.go_down("connection refused");
    drain(&mut rx, secs(60)).await;
    let (logs, stats) = (engine.calls(Op::Logs), engine.calls(Op::Stats));
    // 0.5 s doubling to 5 s: about 15 attempts a minute each, not 60.
    assert!(logs <= 16 && stats <= 16, "logs {logs}, stats {stats}");
    engine.come_up();
    engine.log(&c, "back").unwrap();
    let back = drain(&mut rx, secs(8)).await;
    assert_eq!(log_lines(&back, "w"), [("workspace".into(), "back".into())]);
    assert!(back.iter().any(|e| matches!(e, Event::Stats { .. })));
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_line_the_engine_split_is_joined_and_a_last_partial_line_is_kept() {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("w", 3000);
    // Long lines reach the client in pieces, each with its own timestamp.
    engine.log_unterminated(&c, "first half, ").unwrap();
    engine.log(&c, "second half").unwrap();
    let (mut rx, task) = follower(&engine, "w");
    let got = drain(&mut rx, secs(1)).await;
    assert_eq!(
        log_lines(&got, "w"),
        [(
            "workspace".to_string(),
            "first half, second half".to_string()
        )]
    );
    engine.log_unterminated(&c, "dying wo").unwrap();
    engine.crash(&c).unwrap();
    let got = drain(&mut rx, secs(2)).await;
    assert_eq!(
        log_lines(&got, "w"),
        [("workspace".to_string(), "dying wo".to_string())]
    );
    task.abort();
}

#[tokio::test(start_paused = true)]
async fn a_create_that_dies_turns_incomplete_without_any_engine_event() {
    use crate::domain::labels;
    use crate::domain::provision::Provision;
    let engine = MemoryEngine::new();
    let spec = crate::engine::ContainerSpec {
        env: vec![],
        tmpfs: vec![],
        binds: vec![],
        container: "workspace-half".into(),
        hostname: "half".into(),
        image: crate::engine::memory::IMAGE.into(),
        labels: [
            (labels::ROLE, labels::ROLE_WORKSPACE),
            (labels::NAME, "half"),
            (labels::PROVISION, labels::PROVISION_MARKER),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect(),
        volume: "workspace-half".into(),
        mount_point: "/home/workspace".into(),
        ssh_container_port: 2222,
        ssh_host_port: Some(3000),
        network: None,
        bind_address: std::net::IpAddr::from([127, 0, 0, 1]),
        resources: Default::default(),
        runtime: None,
        platform: None,
        ports: vec![],
        workdir: None,
        init: true,
        vm: None,
    };
    engine.create_container(&spec).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let store = crate::store::Store::inline_for_tests(dir.path().join("berth.db"));
    // A create of it runs in this process.
    store
        .begin_provisioning("default", "half", "tok", 9)
        .await
        .unwrap();
    store
        .provision_step("half", "tok", "clone", 7, 9)
        .await
        .unwrap();
    let (tx, mut rx) = mpsc::channel(256);
    let task = tokio::spawn(watch::run(connector(&engine), store.clone(), tx, |_| {}));
    let first = wait_for(&mut rx, 5, "the first list", |e| match e {
        Event::Workspaces(ws) => Some(ws[0].provision.clone()),
        _ => None,
    })
    .await;
    assert!(matches!(first, Provision::Provisioning { .. }), "{first:?}");
    // It dies: nothing happens in the engine, yet the list follows within seconds.
    store.abandon_provisioning("half", "tok").await.unwrap();
    let later = wait_for(&mut rx, 5, "incomplete", |e| match e {
        Event::Workspaces(ws) if matches!(ws[0].provision, Provision::Incomplete { .. }) => {
            Some(ws[0].provision.step_text())
        }
        _ => None,
    })
    .await;
    assert_eq!(later, "clone (7/9)");
    // Nothing is provisioning any more: no more lists without events (until the
    // periodic resync).
    let calls = engine.calls(Op::ListWorkspaces);
    tokio::time::sleep(crate::backend::watch::RESYNC - secs(5)).await;
    assert_eq!(engine.calls(Op::ListWorkspaces), calls);
    task.abort();
}
