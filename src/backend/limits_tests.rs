//! `[limits] max_concurrent` over the in-memory engine: a create or start beyond
//! it is refused with the sentence before anything is made, concurrent creates at
//! the limit let exactly the allowed number through, and the CPU default reaches
//! the engine capped at the host's count.
use super::create::{create, CreateError, CreateOutcome};
use super::create_tests::{request, rig, Rig};
use super::lifecycle;
use crate::domain::naming::WorkspaceName;
use crate::engine::Engine;
use std::time::Duration;
use tokio::sync::watch;

fn limited(ports: (u16, u16), limit: usize) -> Rig {
    let mut r = rig(ports, Duration::ZERO);
    r.ctx.config.limits.max_concurrent = limit;
    r
}

async fn try_create(r: &Rig, name: &str) -> Result<CreateOutcome, CreateError> {
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, request(&r.ctx, name, None), &|_| {}, rx).await
}

fn wn(n: &str) -> WorkspaceName {
    WorkspaceName::parse(n).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_create_beyond_the_limit_is_refused_before_anything_is_made() {
    let r = limited((3580, 3583), 1);
    assert!(try_create(&r, "first").await.is_ok());
    let e = try_create(&r, "second").await.unwrap_err();
    let CreateError::Refused(msg) = e else {
        panic!("not a refusal: {e}")
    };
    let file = r.ctx.paths.config_file.display().to_string();
    assert_eq!(
        msg,
        format!(
            "1 workspace is running (first) and [limits] max_concurrent is 1 in {file}; \
             stop it (`berth stop NAME`) or raise the limit"
        )
    );
    assert!(r
        .engine
        .inspect_workspace("workspace-second")
        .await
        .unwrap()
        .is_none());
    assert!(!r.engine.volume_exists("workspace-second").await.unwrap());
    assert_eq!(r.ctx.store.lease_count().await.unwrap(), 0);
    assert!(r.ctx.store.provisioning().await.unwrap().is_empty());

    // Stopped, the first one leaves room: the second is made, and then the first
    // cannot start again.
    lifecycle::stop(&r.ctx, &wn("first"), &|_| {})
        .await
        .unwrap();
    assert!(try_create(&r, "second").await.is_ok());
    let e = lifecycle::start(&r.ctx, &wn("first"), &|_| {})
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("1 workspace is running (second) and [limits] max_concurrent is 1"),
        "{e}"
    );
    let first = r.engine.inspect_workspace("workspace-first").await.unwrap();
    assert_eq!(
        first.unwrap().state,
        crate::domain::workspace::WorkspaceState::Stopped
    );
    // Restarting a stopped workspace is a start too.
    let e = lifecycle::restart(&r.ctx, &wn("first"), &|_| {}).await;
    assert!(e.unwrap_err().to_string().contains("max_concurrent is 1"));
    // Sidecars and pool slots do not count.
    r.engine.add_sidecar("second", "proxy");
    lifecycle::stop(&r.ctx, &wn("second"), &|_| {})
        .await
        .unwrap();
    lifecycle::start(&r.ctx, &wn("first"), &|_| {})
        .await
        .unwrap();
}

#[tokio::test(start_paused = true)]
async fn concurrent_creates_at_the_limit_let_exactly_the_allowed_number_through() {
    let r = limited((3584, 3595), 2);
    // Each count takes a while, as on a real engine: the creates interleave there.
    r.engine.set_list_delay(Duration::from_millis(50));
    let names = ["c1", "c2", "c3", "c4", "c5"];
    let results = futures_util::future::join_all(names.iter().map(|n| try_create(&r, n))).await;
    let made = results.iter().filter(|x| x.is_ok()).count();
    assert_eq!(made, 2, "{results:?}");
    for e in results.iter().filter_map(|x| x.as_ref().err()) {
        assert!(
            e.to_string().contains("and [limits] max_concurrent is 2"),
            "{e}"
        );
    }
    let running = r
        .engine
        .list_workspaces()
        .await
        .unwrap()
        .into_iter()
        .filter(|w| w.state == crate::domain::workspace::WorkspaceState::Running)
        .count();
    assert_eq!(running, 2);
    assert_eq!(r.engine.list_workspaces().await.unwrap().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn no_limit_by_default_and_the_cpu_default_reaches_the_engine_capped_at_the_host() {
    let r = rig((3596, 3599), Duration::ZERO);
    assert_eq!(r.ctx.config.limits.max_concurrent, 0);
    assert!(try_create(&r, "two").await.is_ok());
    assert_eq!(r.engine.nano_cpus("workspace-two"), Some(2_000_000_000));
    r.engine.set_host(1, 8 << 30);
    let notes = std::sync::Mutex::new(Vec::new());
    let (_tx, rx) = watch::channel(false);
    let report = |p: super::Progress| {
        if let super::Progress::Note(n) = p {
            notes.lock().unwrap().push(n);
        }
    };
    create(&r.ctx, request(&r.ctx, "one", None), &report, rx)
        .await
        .unwrap();
    assert_eq!(r.engine.nano_cpus("workspace-one"), Some(1_000_000_000));
    let w = r.engine.inspect_workspace("workspace-one").await.unwrap();
    assert_eq!(w.unwrap().cpus_limit, Some(1.0));
    let notes = notes.lock().unwrap();
    assert!(
        notes.iter().any(|n| n.contains("host has 1 CPU")),
        "{notes:?}"
    );
}
