//! Runtime health over the in-memory engine, in tokio's paused time: probes and
//! their containers, reuse of a fresh result, creates refused before anything is
//! made, the periodic task and its end.
use super::*;
use crate::backend::create::{create, CreateError, CreateRequest, CreateSpec};
use crate::backend::create_tests::{request, rig};
use crate::backend::service::Event;
use crate::backend::test_support::{ctx_with, Harness};
use crate::engine::memory::{MemoryEngine, Op, RuntimeBehaviour};
use crate::engine::Engine;
use std::time::Duration;
use tokio::sync::watch as tokio_watch;

fn broken() -> RuntimeBehaviour {
    RuntimeBehaviour::Exits {
        code: 1,
        output: "runsc: cannot create sandbox\n".into(),
    }
}

#[tokio::test(start_paused = true)]
async fn every_registered_runtime_is_probed_and_its_container_removed() {
    let engine = MemoryEngine::new();
    engine.register_runtime("runsc", broken());
    engine.register_runtime("io.containerd.runc.v2", RuntimeBehaviour::Works);
    let (ctx, _dir) = ctx_with(engine.clone().into());
    let r = report(&ctx).await.unwrap();
    assert_eq!(r.default, "runc");
    assert_eq!(
        r.checks.keys().collect::<Vec<_>>(),
        ["runc", "runsc"],
        "containerd's aliases are not probed"
    );
    assert_eq!(r.health(None), Health::Healthy);
    let Health::Unhealthy { reason } = r.health(Some("runsc")) else {
        panic!("{r:?}")
    };
    assert_eq!(
        reason,
        "a probe container (`true`) exited with 1: runsc: cannot create sandbox"
    );
    assert_eq!(engine.calls(Op::ProbeRuntime), 2);
    assert!(
        engine.probe_containers().is_empty(),
        "removed, pass or fail"
    );
    assert!(r.banner().unwrap().contains("runsc is UNHEALTHY"));
}

#[tokio::test(start_paused = true)]
async fn a_fresh_result_is_reused_for_thirty_seconds() {
    let engine = MemoryEngine::new();
    let (ctx, _dir) = ctx_with(engine.clone().into());
    assert!(check(&ctx, "runc", None).await.health.is_healthy());
    tokio::time::advance(Duration::from_secs(29)).await;
    assert!(check(&ctx, "runc", None).await.health.is_healthy());
    assert_eq!(engine.calls(Op::ProbeRuntime), 1, "reused");
    tokio::time::advance(Duration::from_secs(2)).await;
    // Broken meanwhile: a stale result is not trusted.
    engine.register_runtime("runc", broken());
    assert!(!check(&ctx, "runc", None).await.health.is_healthy());
    assert_eq!(engine.calls(Op::ProbeRuntime), 2);
}

#[tokio::test(start_paused = true)]
async fn a_hanging_runtime_times_out_and_leaves_no_container() {
    let engine = MemoryEngine::new();
    engine.register_runtime("slow", RuntimeBehaviour::Hangs);
    let (ctx, _dir) = ctx_with(engine.clone().into());
    let ctx2 = ctx.clone();
    let task = tokio::spawn(async move { check(&ctx2, "slow", None).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        engine.probe_containers().len(),
        1,
        "it exists while it runs"
    );
    let c = task.await.unwrap();
    assert!(
        matches!(&c.health, Health::Unhealthy { reason } if reason.contains("did not exit within 30 s")),
        "{c:?}"
    );
    assert!(c.took >= PROBE_TIMEOUT);
    assert!(engine.probe_containers().is_empty());
    // A probe given up half way (the TUI quit) leaves nothing either.
    let ctx3 = ctx.clone();
    let task = tokio::spawn(async move { probe(&ctx3, "slow", None).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(engine.probe_containers().len(), 1);
    task.abort();
    let _ = task.await;
    assert!(engine.probe_containers().is_empty());
}

#[tokio::test(start_paused = true)]
async fn without_the_workspace_image_the_check_says_so_and_pulls_nothing() {
    let engine = MemoryEngine::new();
    let (mut ctx, _dir) = ctx_with(engine.clone().into());
    ctx.config.image = "berth/missing:1".into();
    let c = check(&ctx, "runc", None).await;
    let Health::Unchecked { why } = &c.health else {
        panic!("{c:?}")
    };
    assert!(why.contains("berth/missing:1 is not present") && why.contains("never pulls"));
    assert_eq!(engine.calls(Op::ProbeRuntime), 0);
    // A create's own image (present) serves instead.
    let c = check(&ctx, "runc", Some(crate::engine::memory::IMAGE)).await;
    assert!(c.health.is_healthy(), "{c:?}");
}

/// A create asking for `runtime`, refused before it made anything.
async fn refused(r: &crate::backend::create_tests::Rig, runtime: &str) -> String {
    let mut req: CreateRequest = request(&r.ctx, "rt", None);
    req.spec.runtime = Some(runtime.into());
    let (_tx, rx) = tokio_watch::channel(false);
    let err = match create(&r.ctx, req, &|_| {}, rx).await {
        Err(CreateError::Refused(m)) => m,
        other => panic!("{other:?}"),
    };
    assert_eq!(r.engine.calls(Op::CreateContainer), 0);
    assert_eq!(r.engine.calls(Op::CreateVolume), 0);
    assert!(r.engine.volumes_labelled(&[]).await.unwrap().is_empty());
    assert!(r.ctx.store.provisioning().await.unwrap().is_empty());
    err
}

#[tokio::test(start_paused = true)]
async fn a_create_on_an_unregistered_or_unhealthy_runtime_is_refused_first() {
    let r = rig((47110, 47111), Duration::ZERO);
    let m = refused(&r, "nosuch").await;
    assert!(
        m.contains("\"nosuch\" is not registered") && m.contains("daemon.json"),
        "{m}"
    );
    r.engine.register_runtime("runsc", broken());
    let m = refused(&r, "runsc").await;
    assert!(
        m.contains("runtime runsc is unhealthy: a probe container"),
        "{m}"
    );
    // The engine's default, when it is the broken one.
    r.engine.register_runtime("runc", broken());
    let m = refused(&r, "").await;
    assert!(m.contains("runtime runc is unhealthy"), "{m}");
}

#[tokio::test(start_paused = true)]
async fn a_create_runs_on_the_runtime_it_asked_for() {
    let r = rig((47120, 47123), Duration::ZERO);
    r.engine.register_runtime("runsc", RuntimeBehaviour::Works);
    let spec = CreateSpec {
        name: "gv".into(),
        runtime: Some("runsc".into()),
        ..Default::default()
    };
    let mut req = request(&r.ctx, "gv", None);
    req.spec = crate::backend::create::workspace_spec(&r.ctx.config, spec, []).unwrap();
    let (_tx, rx) = tokio_watch::channel(false);
    let w = match create(&r.ctx, req, &|_| {}, rx).await {
        Ok(crate::backend::create::CreateOutcome::Created(w)) => w,
        other => panic!("{other:?}"),
    };
    assert_eq!(w.runtime.as_deref(), Some("runsc"));
    // A second create right away reuses the fresh check.
    let probes = r.engine.calls(Op::ProbeRuntime);
    let mut req = request(&r.ctx, "gv2", None);
    req.spec.runtime = Some("runsc".into());
    let (_tx, rx) = tokio_watch::channel(false);
    assert!(create(&r.ctx, req, &|_| {}, rx).await.is_ok());
    assert_eq!(r.engine.calls(Op::ProbeRuntime), probes);
    // Without --runtime: the engine's default, recorded as the engine does.
    let (_tx, rx) = tokio_watch::channel(false);
    assert!(create(&r.ctx, request(&r.ctx, "plain", None), &|_| {}, rx)
        .await
        .is_ok());
    let runtimes: Vec<(String, Option<String>)> = crate::backend::inventory::list(&r.ctx)
        .await
        .unwrap()
        .into_iter()
        .map(|w| (w.name, w.runtime))
        .collect();
    let want = |n: &str, r: &str| (n.to_string(), Some(r.to_string()));
    assert_eq!(
        runtimes,
        [
            want("gv", "runsc"),
            want("gv2", "runsc"),
            want("plain", "runc")
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn the_tui_gets_a_report_at_connect_and_every_thirty_seconds() {
    let engine = MemoryEngine::new();
    engine.register_runtime("runsc", RuntimeBehaviour::Works);
    let mut h = Harness::start(&engine);
    h.connected().await;
    let first = h
        .wait_for(5, "the first runtime report", |e| match e {
            Event::Runtimes(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    assert_eq!(first.health(Some("runsc")), Health::Healthy);
    let t0 = tokio::time::Instant::now();
    engine.register_runtime("runsc", broken());
    let second = h
        .wait_for(40, "the next runtime report", |e| match e {
            Event::Runtimes(r) => Some(r.clone()),
            _ => None,
        })
        .await;
    let waited = tokio::time::Instant::now() - t0;
    assert!(waited <= CHECK_EVERY, "{waited:?}");
    assert!(waited >= CHECK_EVERY - Duration::from_secs(1), "{waited:?}");
    assert!(second.banner().unwrap().contains("runsc is UNHEALTHY"));
    // The backend ends when the TUI drops its side: no check runs after that.
    let Harness { backend, .. } = h;
    drop(backend.commands);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let probes = engine.calls(Op::ProbeRuntime);
    tokio::time::sleep(CHECK_EVERY * 3).await;
    assert_eq!(
        engine.calls(Op::ProbeRuntime),
        probes,
        "no task left behind"
    );
    drop(backend.events);
}

#[tokio::test(start_paused = true)]
async fn the_watch_task_ends_when_nobody_listens() {
    let engine = MemoryEngine::new();
    let (ctx, _dir) = ctx_with(engine.clone().into());
    let (tx, mut rx) = tokio::sync::mpsc::channel(1);
    let task = spawn(ctx, tx);
    assert!(matches!(rx.recv().await, Some(Event::Runtimes(_))));
    drop(rx);
    tokio::time::sleep(CHECK_EVERY * 2).await;
    assert!(task.is_finished());
}
