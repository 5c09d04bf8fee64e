//! observe over the in-memory engine, with an injected clock: the probe's output
//! is the real fixture, scripted through the engine's exec handler.
use super::*;
use crate::backend::create::{create, CreateOutcome, CreateSpec};
use crate::backend::create_tests::{request, rig, Rig};
use crate::engine::memory::{ExecCall, ExecReply, Op};
use crate::engine::Engine;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const SSH: &[u8] = include_bytes!("../../tests/fixtures/activity/probe-ssh.txt");
/// A probe's output for an idle workspace (other tests answer probes with it).
pub(crate) const IDLE: &[u8] = b"@self 40\n@stat\n1 (docker-init) S 0 1 1\n7 (sshd) S 1 7 1\n40 (sh) S 0 40 40\n@cmdline\n@fd\n@tcp\n@cpu\n10.0 1.0\n1000\n@cpu\n11.0 1.0\n2000\n@end\n";

/// What the probe answers (the other execs of a create answer as the rig says).
fn answer_probe(r: &Rig, out: Arc<Mutex<Vec<u8>>>, code: i64) {
    r.engine.set_exec_handler(move |c: &ExecCall| {
        if c.cmd.first().map(String::as_str) == Some("/bin/sh")
            && c.cmd.get(2).is_some_and(|s| s.starts_with("cd /proc"))
        {
            assert_eq!(c.user.as_deref(), Some("workspace"));
            ExecReply {
                stdout: out.lock().unwrap().clone(),
                exit_code: code,
                ..Default::default()
            }
        } else {
            ExecReply::default()
        }
    });
}

async fn made(r: &Rig, name: &str, ttl: Option<&str>) -> Workspace {
    let mut req = request(&r.ctx, name, None);
    if let Some(t) = ttl {
        let spec = CreateSpec {
            name: name.into(),
            ttl: Some(t.into()),
            ..Default::default()
        };
        req.spec = crate::backend::create::workspace_spec(&r.ctx.config, spec, []).unwrap();
    }
    let (_tx, rx) = watch::channel(false);
    match create(&r.ctx, req, &|_| {}, rx).await.unwrap() {
        CreateOutcome::Created(w) => w,
        other => panic!("{other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn a_fresh_workspace_is_idle_and_its_create_is_its_last_use() {
    let r = rig((2200, 2210), Duration::ZERO);
    let w = made(&r, "fresh", None).await;
    answer_probe(&r, Arc::new(Mutex::new(IDLE.to_vec())), 0);
    let rec = r.ctx.store.activity(&w.container_id).await.unwrap();
    let created_use = rec.last_use.unwrap();
    assert_eq!(created_use.source, "create");
    let now = created_use.at + 100;
    let (a, source) = observe_full(&r.ctx, &w, now).await.unwrap();
    assert!(!a.is_alive(), "{:?}", a.alive_because);
    assert_eq!(a.last_used_at, Some(created_use.at));
    assert_eq!(a.idle_for, 100);
    assert_eq!((a.ttl, a.kill_after_at), (Ttl::Never, None));
    assert_eq!(source, TtlSource::Config);
}

#[tokio::test(start_paused = true)]
async fn an_ssh_session_is_a_reason_and_a_use_now() {
    let r = rig((2200, 2210), Duration::ZERO);
    let w = made(&r, "busy", Some("1h")).await;
    answer_probe(&r, Arc::new(Mutex::new(SSH.to_vec())), 0);
    let now = crate::store::now() + 5000;
    let a = observe(&r.ctx, &w, now).await.unwrap();
    let kinds: Vec<&str> = a.alive_because.iter().map(|r| r.kind()).collect();
    assert_eq!(kinds, ["ssh", "processes", "cpu"]);
    assert_eq!(a.last_used_at, Some(now));
    assert_eq!(a.idle_for, 0);
    assert_eq!(a.kill_after_at, Some(now + 3600));
    let rec = r.ctx.store.activity(&w.container_id).await.unwrap();
    assert_eq!(rec.last_use.unwrap().source, "ssh-session");
}

#[tokio::test(start_paused = true)]
async fn the_ttl_comes_from_berth_ttl_then_create_then_the_config() {
    let mut r = rig((2200, 2210), Duration::ZERO);
    r.ctx.config.lifetime.ttl = Ttl::After(86_400);
    r.ctx.config.activity.count.clear(); // no probe at all
    let w = made(&r, "ttl", Some("8h")).await;
    assert_eq!(w.labels.get(labels::TTL).map(String::as_str), Some("8h"));
    let plain = made(&r, "plain", None).await;
    let calls = r.engine.calls(Op::Exec);
    let now = crate::store::now();
    let (a, s) = observe_full(&r.ctx, &w, now).await.unwrap();
    assert_eq!((a.ttl, s), (Ttl::After(8 * 3600), TtlSource::Create));
    set_ttl(&r.ctx, &w, Ttl::Never).await.unwrap();
    let (a, s) = observe_full(&r.ctx, &w, now).await.unwrap();
    assert_eq!(
        (a.ttl, a.kill_after_at, s),
        (Ttl::Never, None, TtlSource::Set)
    );
    let (a, s) = observe_full(&r.ctx, &plain, now).await.unwrap();
    assert_eq!((a.ttl, s), (Ttl::After(86_400), TtlSource::Config));
    // Nothing counted: no exec into the workspace.
    assert_eq!(r.engine.calls(Op::Exec), calls);
}

#[tokio::test(start_paused = true)]
async fn a_stopped_workspace_is_idle_without_any_exec_and_a_failed_probe_is_an_error() {
    let r = rig((2200, 2210), Duration::ZERO);
    let w = made(&r, "stopped", None).await;
    let out = Arc::new(Mutex::new(b"@self 3\n@stat\n".to_vec()));
    answer_probe(&r, out.clone(), 0);
    // Cut short (no end marker): berth cannot tell, and says so.
    let e = observe(&r.ctx, &w, crate::store::now()).await.unwrap_err();
    assert!(
        e.to_string()
            .starts_with("cannot tell whether workspace stopped is in use"),
        "{e}"
    );
    *out.lock().unwrap() = SSH.to_vec();
    r.engine.stop_container(&w.container, 1).await.unwrap();
    let w = r
        .engine
        .inspect_workspace(&w.container)
        .await
        .unwrap()
        .unwrap();
    let calls = r.engine.calls(Op::Exec);
    let a = observe(&r.ctx, &w, crate::store::now()).await.unwrap();
    assert!(!a.is_alive());
    assert_eq!(r.engine.calls(Op::Exec), calls);
}

#[tokio::test(start_paused = true)]
async fn shell_tabs_of_this_process_count_and_the_list_reads_without_probing() {
    let r = rig((2200, 2210), Duration::ZERO);
    let w = made(&r, "tabs", Some("2h")).await;
    answer_probe(&r, Arc::new(Mutex::new(IDLE.to_vec())), 0);
    r.ctx
        .store
        .shell_tab_opened(1, &w.container_id, &w.name)
        .await
        .unwrap();
    r.ctx
        .store
        .shell_tab_opened(2, &w.container_id, &w.name)
        .await
        .unwrap();
    let a = observe(&r.ctx, &w, crate::store::now()).await.unwrap();
    let me = std::process::id();
    assert_eq!(
        a.alive_because,
        vec![AliveReason::ShellTabs {
            tabs: vec![format!("berth pid {me} (2 tabs)")]
        }]
    );
    let calls = r.engine.calls(Op::Exec);
    let ws = crate::backend::inventory::list(&r.ctx).await.unwrap();
    let now = crate::store::now();
    let seen = recorded(&r.ctx, &ws, now).await;
    let (a, _) = &seen["tabs"];
    assert_eq!(countdown(a, now), "2h");
    assert_eq!(countdown(a, now + 7200), "expired");
    assert_eq!(r.engine.calls(Op::Exec), calls);
}
