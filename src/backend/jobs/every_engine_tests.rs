//! The cleanup and alerts jobs over several in-memory engines: each engine's
//! workspaces acted on through that engine, an engine that cannot be reached
//! skipped and said (its records kept), never taken for one without workspaces.
use super::adapters;
use super::alerts_job::Alerts;
use super::Job;
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::domain::engines::Placement;
use crate::domain::ttl::Ttl;
use crate::domain::workspace::WorkspaceState;
use crate::engine::memory::{ExecCall, ExecReply, MemoryEngine};
use crate::engine::Engine;
use std::sync::Arc;

const H: i64 = 3600;

struct Rig {
    mems: Vec<MemoryEngine>,
    ctx: Ctx,
    _dir: tempfile::TempDir,
}

fn rig(names: &[&str]) -> Rig {
    let (mems, set) = crate::backend::engines::memory_set(names, Placement::Default);
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let store = crate::store::Store::inline_for_tests(paths.store_file());
    let mut config = Config::default();
    config.cleanup.stop_after_idle = Ttl::After(12 * H as u64);
    let first: Arc<dyn Engine> = Arc::new(mems[0].clone());
    let ctx = Ctx::with_all(Arc::new(set), first, config, paths, store);
    for m in &mems {
        // The activity probe: nothing counts as alive.
        m.set_exec_handler(|c: &ExecCall| {
            if c.cmd.get(2).is_some_and(|s| s.starts_with("cd /proc")) {
                return ExecReply {
                    stdout: crate::backend::activity::tests::IDLE.to_vec(),
                    ..Default::default()
                };
            }
            ExecReply::default()
        });
    }
    Rig {
        mems,
        ctx,
        _dir: dir,
    }
}

/// Workspace `name` on engine `m`, last used `at`; its container id.
async fn used(r: &Rig, m: usize, name: &str, at: i64) -> String {
    let port = 4280 + r.mems[m].list_workspaces().await.unwrap().len() as u16;
    let c = r.mems[m].add_workspace(name, port);
    let w = r.mems[m].inspect_workspace(&c).await.unwrap().unwrap();
    r.ctx
        .store
        .record_use(&w.container_id, name, at, "test")
        .await
        .unwrap();
    w.container_id
}

async fn state(m: &MemoryEngine, name: &str) -> WorkspaceState {
    let c = format!("workspace-{name}");
    m.inspect_workspace(&c).await.unwrap().unwrap().state
}

#[tokio::test]
async fn cleanup_acts_on_every_engine_and_skips_one_that_is_down() {
    let r = rig(&["a", "b", "c"]);
    let now = chrono::Utc::now().timestamp();
    used(&r, 0, "web", now - 20 * H).await;
    used(&r, 1, "api", now - 20 * H).await;
    used(&r, 1, "fresh", now - H).await;
    let gone = used(&r, 2, "db", now - 20 * H).await;
    r.mems[2].go_down("c is off");
    let out = adapters::cleanup(&r.ctx, now).await.unwrap();
    assert!(out.acted, "{out:?}");
    let text = out.lines.join("\n");
    assert!(text.contains("engine a: web: stop"), "{text}");
    assert!(text.contains("engine b: api: stop"), "{text}");
    assert!(
        text.contains("engine c could not be reached (")
            && text.contains("c is off")
            && text.contains("cleanup skipped it this round"),
        "{text}"
    );
    assert!(!text.contains("fresh"), "{text}");
    assert_eq!(state(&r.mems[0], "web").await, WorkspaceState::Stopped);
    assert_eq!(state(&r.mems[1], "api").await, WorkspaceState::Stopped);
    assert_eq!(state(&r.mems[1], "fresh").await, WorkspaceState::Running);
    // The down engine's workspace is untouched and its record kept.
    r.mems[2].come_up();
    assert_eq!(state(&r.mems[2], "db").await, WorkspaceState::Running);
    let rec = r.ctx.store.activity(&gone).await.unwrap();
    assert!(
        rec.last_use.is_some(),
        "the record of c's workspace is kept"
    );
}

#[tokio::test]
async fn cleanup_with_every_engine_down_fails_rather_than_finding_nothing() {
    let r = rig(&["a", "b"]);
    r.mems[0].go_down("a is off");
    r.mems[1].go_down("b is off");
    let e = adapters::cleanup(&r.ctx, 0).await.unwrap_err().to_string();
    assert!(e.contains("engine a") && e.contains("engine b"), "{e}");
}

#[tokio::test]
async fn one_engine_is_the_cleanup_as_before() {
    let r = rig(&["a"]);
    let now = chrono::Utc::now().timestamp();
    used(&r, 0, "web", now - 20 * H).await;
    let out = adapters::cleanup(&r.ctx, now).await.unwrap();
    assert!(out.lines[0].starts_with("web: stop"), "{out:?}");
}

#[tokio::test]
async fn alerts_say_an_engine_down_once_and_when_it_is_back() {
    let r = rig(&["a", "b"]);
    let job = Alerts::default();
    r.mems[1].go_down("b is off");
    let first = job.run(&r.ctx, 0).await.unwrap();
    assert!(
        first
            .lines
            .iter()
            .any(|l| l.contains("engine b could not be reached")),
        "{first:?}"
    );
    let second = job.run(&r.ctx, 0).await.unwrap();
    assert!(second.lines.is_empty(), "said once: {second:?}");
    r.mems[1].come_up();
    let third = job.run(&r.ctx, 0).await.unwrap();
    assert!(
        third
            .lines
            .iter()
            .any(|l| l.contains("engine b reachable again")),
        "{third:?}"
    );
    r.mems[0].go_down("a is off");
    r.mems[1].go_down("b is off");
    assert!(job.run(&r.ctx, 0).await.is_err());
}
