//! The cleanup job over the in-memory engine in tokio's paused time: what it stops
//! and deletes, the work check before a delete (snapshot or refuse), a dry run that
//! changes nothing, and retries with backoff until success or `retry_for`.
use super::cleanup::{run_once, CleanupReport, Done, Line};
use super::create_tests::{request, rig, Rig};
use super::{snapshot, Ctx};
use crate::config::cleanup::Unpushed;
use crate::domain::cleanup::Decision;
use crate::domain::ttl::Ttl;
use crate::domain::workspace::WorkspaceState;
use crate::engine::memory::{ExecCall, ExecReply, Op};
use crate::engine::Engine;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

const DAY: i64 = 86_400;

/// A rig with finished workspaces `names` (running), a 1 d TTL, and a work check
/// that answers `work` (the check's output) for the workspaces named in it.
async fn with(ports: (u16, u16), names: &[&str]) -> Rig {
    let mut r = rig(ports, Duration::ZERO);
    r.ctx.config.lifetime.ttl = Ttl::After(DAY as u64);
    for n in names {
        let (_tx, rx) = watch::channel(false);
        super::create::create(&r.ctx, request(&r.ctx, n, None), &|_| {}, rx)
            .await
            .unwrap();
    }
    r
}

/// Check outputs by workspace name; every check's container is recorded.
type Checks = Arc<Mutex<Vec<String>>>;

fn answer_checks(r: &Rig, work: &[(&str, &str)]) -> Checks {
    let work: Vec<(String, String)> = work
        .iter()
        .map(|(n, w)| (n.to_string(), w.to_string()))
        .collect();
    let seen: Checks = Arc::default();
    let s = seen.clone();
    r.engine.set_exec_handler(move |c: &ExecCall| {
        if c.cmd.get(2).is_some_and(|s| s.starts_with("cd /proc")) {
            // The activity probe: nothing counts as alive.
            return ExecReply {
                stdout: crate::backend::activity::tests::IDLE.to_vec(),
                ..Default::default()
            };
        }
        if c.cmd.get(3).map(String::as_str) != Some("berth-gc-check") {
            return ExecReply::default();
        }
        s.lock().unwrap().push(c.container.clone());
        let out = work
            .iter()
            .find(|(n, _)| c.container.ends_with(&format!("workspace-{n}")))
            .map(|(_, w)| w.clone())
            .unwrap_or_else(|| "repo\t./repo\nend\n".into());
        ExecReply {
            stdout: out.into_bytes(),
            ..Default::default()
        }
    });
    seen
}

fn created(r: &Rig, name: &str) -> i64 {
    let ws = futures_util::FutureExt::now_or_never(r.engine.inspect_workspace(name))
        .unwrap()
        .unwrap()
        .unwrap();
    // The create recorded a use (on the wall clock): the TTL counts from it.
    let used = futures_util::FutureExt::now_or_never(r.ctx.store.activity(&ws.container_id))
        .unwrap()
        .unwrap()
        .last_use
        .map_or(0, |u| u.at);
    ws.created.max(used)
}

fn line<'a>(rep: &'a CleanupReport, name: &str) -> &'a Line {
    rep.workspaces.iter().find(|l| l.name == name).unwrap()
}

async fn actions(ctx: &Ctx, name: &str) -> Vec<String> {
    ctx.store
        .audit_trail(name)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.action)
        .collect()
}

const UNPUSHED: &str = "repo\t./repo\nnoremote\t./repo\t1\npath\t./repo\tnotes.md\nend\n";

#[tokio::test(start_paused = true)]
async fn a_clean_expired_workspace_is_deleted_without_a_snapshot() {
    let r = with((47400, 47401), &["clean"]).await;
    let checks = answer_checks(&r, &[]);
    let now = created(&r, "workspace-clean") + 2 * DAY;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "clean");
    assert_eq!(l.decision, Decision::Delete, "{}", l.why);
    assert_eq!(l.done, Done::Deleted, "{}", l.sentence());
    assert!(l.why.starts_with("TTL 1d expired 1d ago"), "{}", l.why);
    assert_eq!(l.snapshot, None);
    assert!(!rep.failed());
    // Stopped first, then checked in a reader on its volume, which is gone again.
    assert_eq!(*checks.lock().unwrap(), ["berth-gc-check-workspace-clean"]);
    assert_eq!(r.engine.containers(), Vec::<String>::new());
    assert!(!r.engine.volume_exists("workspace-clean").await.unwrap());
    assert!(snapshot::list(&r.ctx).await.unwrap().is_empty());
    assert!(actions(&r.ctx, "clean").await.contains(&"gc-delete".into()));
}

#[tokio::test(start_paused = true)]
async fn work_is_snapshotted_before_the_delete_and_refuse_keeps_the_workspace() {
    let mut r = with((47402, 47403), &["busy"]).await;
    answer_checks(&r, &[("busy", UNPUSHED)]);
    r.engine
        .write_volume_file("workspace-busy", "repo/notes.md", b"mine");
    let now = created(&r, "workspace-busy") + 2 * DAY;

    // Refuse: kept (stopped), nothing snapshotted, and said.
    r.ctx.config.cleanup.unpushed = Unpushed::Refuse;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "busy");
    assert_eq!(l.done, Done::Refused, "{}", l.sentence());
    assert!(l.what.contains("1 commit and no remote"), "{}", l.what);
    assert_eq!(
        r.engine.state_of("workspace-busy"),
        Some(WorkspaceState::Stopped)
    );
    assert!(snapshot::list(&r.ctx).await.unwrap().is_empty());
    let a = actions(&r.ctx, "busy").await;
    assert!(a.contains(&"gc-work-found".into()) && a.contains(&"gc-refuse".into()));

    // Snapshot: taken, complete, holding the work; then the workspace goes.
    r.ctx.config.cleanup.unpushed = Unpushed::Snapshot;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "busy");
    assert_eq!(l.done, Done::Deleted, "{}", l.sentence());
    let snap = l.snapshot.clone().unwrap();
    assert!(snap.starts_with("busy-gc-"), "{snap}");
    let info = snapshot::list(&r.ctx).await.unwrap();
    assert_eq!(info.len(), 1);
    assert!(info[0].complete && info[0].name == snap);
    let kept = r
        .engine
        .volume_file(&format!("berth-snapshot-{snap}"), "repo/notes.md");
    assert_eq!(kept.as_deref(), Some(&b"mine"[..]));
    assert!(r
        .engine
        .inspect_workspace("workspace-busy")
        .await
        .unwrap()
        .is_none());
    let a = actions(&r.ctx, "busy").await;
    assert!(a.contains(&"gc-snapshot".into()) && a.contains(&"gc-delete".into()));
}

#[tokio::test(start_paused = true)]
async fn a_dry_run_changes_nothing() {
    let r = with((47404, 47405), &["a", "b"]).await;
    let checks = answer_checks(&r, &[("a", UNPUSHED)]);
    let now = created(&r, "workspace-a") + 2 * DAY;
    let before = r.engine.containers();
    let rep = run_once(&r.ctx, now, true).await.unwrap();
    assert!(rep.dry_run);
    let a = line(&rep, "a");
    assert_eq!(a.done, Done::WouldDelete);
    assert!(
        a.what.starts_with("would snapshot it as a-gc-"),
        "{}",
        a.what
    );
    assert_eq!(line(&rep, "b").done, Done::WouldDelete);
    assert_eq!(r.engine.containers(), before);
    assert_eq!(r.engine.calls(Op::StopContainer), 0);
    assert_eq!(r.engine.calls(Op::Commit), 0);
    assert!(snapshot::list(&r.ctx).await.unwrap().is_empty());
    // Running workspaces are checked in place.
    assert_eq!(checks.lock().unwrap().len(), 2);
    assert!(!actions(&r.ctx, "a")
        .await
        .iter()
        .any(|a| a.starts_with("gc-")));
    assert_eq!(rep.summary(), "2 workspaces: 2 would delete");
}

#[tokio::test(start_paused = true)]
async fn idle_workspaces_stop_and_alive_or_young_ones_are_kept() {
    let mut r = with((47406, 47407), &["idle"]).await;
    answer_checks(&r, &[]);
    r.ctx.config.lifetime.ttl = Ttl::Never;
    r.ctx.config.cleanup.stop_after_idle = Ttl::After(3600);
    let t = created(&r, "workspace-idle");
    let rep = run_once(&r.ctx, t + 60, false).await.unwrap();
    assert_eq!(line(&rep, "idle").done, Done::Nothing);
    let rep = run_once(&r.ctx, t + 7200, false).await.unwrap();
    let l = line(&rep, "idle");
    assert_eq!(l.done, Done::Stopped, "{}", l.sentence());
    assert_eq!(l.why, "idle for 2h (stop after 1h); no TTL");
    assert_eq!(
        r.engine.state_of("workspace-idle"),
        Some(WorkspaceState::Stopped)
    );
}

#[tokio::test(start_paused = true)]
async fn engine_errors_are_retried_with_backoff_until_the_delete_goes_through() {
    let r = with((47408, 47409), &["flaky"]).await;
    answer_checks(&r, &[]);
    r.engine.fail_next_status(Op::RemoveVolume, 500, 3);
    r.engine.fail_next_status(Op::StopContainer, 500, 1);
    let now = created(&r, "workspace-flaky") + 2 * DAY;
    let t0 = tokio::time::Instant::now();
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "flaky");
    assert_eq!(l.done, Done::Deleted, "{}", l.sentence());
    assert_eq!(l.retries, 4);
    assert_eq!(l.errors.len(), 4);
    assert!(l.errors[0].contains("status 500"), "{:?}", l.errors);
    assert!(l.sentence().ends_with("(4 retries)"), "{}", l.sentence());
    assert!(!r.engine.volume_exists("workspace-flaky").await.unwrap());
    // Waited with backoff (jittered: half to all of 1 s for the stop, 1 + 2 + 4 s
    // for the removal).
    let waited = t0.elapsed();
    assert!(waited >= Duration::from_millis(4000) && waited <= Duration::from_secs(8));
}

#[tokio::test(start_paused = true)]
async fn it_gives_up_after_retry_for_with_the_error_in_the_report() {
    let mut r = with((47410, 47411), &["stuck"]).await;
    answer_checks(&r, &[]);
    r.ctx.config.cleanup.retry_for = Duration::from_secs(20);
    r.engine.fail_next_status(Op::RemoveVolume, 500, 1000);
    let now = created(&r, "workspace-stuck") + 2 * DAY;
    let t0 = tokio::time::Instant::now();
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "stuck");
    assert_eq!(l.done, Done::Failed, "{}", l.sentence());
    assert!(rep.failed());
    assert!(l.what.contains("still failing after"), "{}", l.what);
    assert!(l.what.contains("status 500"), "{}", l.what);
    assert!(l.retries >= 3);
    assert!(t0.elapsed() <= Duration::from_secs(20));
    assert!(r.engine.volume_exists("workspace-stuck").await.unwrap());
    assert!(actions(&r.ctx, "stuck").await.contains(&"gc-failed".into()));
}

#[tokio::test(start_paused = true)]
async fn a_removal_already_in_progress_counts_as_done_for_the_container() {
    let r = with((47412, 47413), &["racing"]).await;
    r.engine
        .stop_container("workspace-racing", 1)
        .await
        .unwrap();
    // Another removal of the container runs: delete goes on, the volume it still
    // holds fails, and the next delete finds the container removable.
    r.engine.fail_next_status(Op::RemoveContainer, 409, 1);
    let n = crate::domain::naming::WorkspaceName::parse("racing").unwrap();
    let e = super::lifecycle::delete(&r.ctx, &n, false)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("in use"), "{e:#}");
    assert_eq!(super::retry::classify(&e), super::retry::Class::Retry);
    super::lifecycle::delete(&r.ctx, &n, false).await.unwrap();
    assert!(!r.engine.volume_exists("workspace-racing").await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn a_dropped_job_leaves_no_reader_behind() {
    let r = with((47414, 47415), &["slow"]).await;
    r.engine.stop_container("workspace-slow", 1).await.unwrap();
    r.engine.set_exec_handler(|c: &ExecCall| ExecReply {
        takes: if c.cmd.get(3).map(String::as_str) == Some("berth-gc-check") {
            Duration::from_secs(3600)
        } else {
            Duration::ZERO
        },
        ..Default::default()
    });
    let now = created(&r, "workspace-slow") + 2 * DAY;
    let cut = tokio::time::timeout(Duration::from_secs(10), run_once(&r.ctx, now, false)).await;
    assert!(cut.is_err(), "the check was to hang");
    assert!(r
        .engine
        .containers()
        .contains(&"berth-gc-check-workspace-slow".to_string()));
    // The guard's removal runs once the runtime gets to it.
    tokio::time::sleep(Duration::from_millis(10)).await;
    assert_eq!(r.engine.containers(), ["workspace-slow"]);
}

#[tokio::test(start_paused = true)]
async fn with_labels_in_the_config_only_its_own_workspaces_are_looked_at() {
    let mut r = rig((47416, 47417), Duration::ZERO);
    r.ctx.config.lifetime.ttl = Ttl::After(DAY as u64);
    r.ctx.config.labels.insert("team".into(), "a".into());
    let (_tx, rx) = watch::channel(false);
    super::create::create(&r.ctx, request(&r.ctx, "ours", None), &|_| {}, rx)
        .await
        .unwrap();
    r.engine.add_workspace("theirs", 47417);
    answer_checks(&r, &[]);
    let now = created(&r, "workspace-ours") + 2 * DAY;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let names: Vec<&str> = rep.workspaces.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["ours"]);
    assert!(r
        .engine
        .inspect_workspace("workspace-theirs")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn a_workspace_started_while_it_is_checked_is_not_removed() {
    let r = with((3700, 3701), &["late"]).await;
    r.engine.stop_container("workspace-late", 1).await.unwrap();
    // Its published port is let go once the runtime gets to it.
    tokio::time::sleep(Duration::from_millis(10)).await;
    // The user starts it (and may write to it) while the job looks at its home.
    let eng = r.engine.clone();
    r.engine.set_exec_handler(move |c: &ExecCall| {
        if c.cmd.get(3).map(String::as_str) == Some("berth-gc-check") {
            futures_util::FutureExt::now_or_never(eng.start_container("workspace-late"))
                .unwrap()
                .unwrap();
            return ExecReply {
                stdout: UNPUSHED.as_bytes().to_vec(),
                ..Default::default()
            };
        }
        ExecReply {
            stdout: crate::backend::activity::tests::IDLE.to_vec(),
            ..Default::default()
        }
    });
    let now = created(&r, "workspace-late") + 2 * DAY;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "late");
    assert_eq!(l.done, Done::Nothing, "{}", l.sentence());
    assert!(l.what.contains("started while"), "{}", l.what);
    // Its work was snapshotted all the same, and the report says so.
    let snap = l.snapshot.clone().unwrap();
    assert!(l.what.contains(&snap), "{}", l.what);
    assert_eq!(
        r.engine.state_of("workspace-late"),
        Some(WorkspaceState::Running)
    );
    assert!(r.engine.volume_exists("workspace-late").await.unwrap());
    assert!(actions(&r.ctx, "late").await.contains(&"gc-kept".into()));
}

#[tokio::test(start_paused = true)]
async fn a_store_that_cannot_be_read_keeps_every_workspace() {
    let mut r = with((3702, 3703), &["kept"]).await;
    answer_checks(&r, &[]);
    let ws = r
        .engine
        .inspect_workspace("workspace-kept")
        .await
        .unwrap()
        .unwrap();
    // `berth ttl kept never` and recent uses live in the store only.
    super::activity::set_ttl(&r.ctx, &ws, Ttl::Never)
        .await
        .unwrap();
    let now = created(&r, "workspace-kept") + 2 * DAY;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    assert_eq!(line(&rep, "kept").done, Done::Nothing);
    // The store breaks: what it held is unknown, not absent.
    let file = r.ctx.paths.state_dir.join("not-a-dir");
    std::fs::write(&file, b"").unwrap();
    r.ctx.store = crate::store::Store::inline_for_tests(file.join("state.db"));
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "kept");
    assert_eq!(l.decision, Decision::Keep, "{}", l.sentence());
    assert_eq!(l.done, Done::Nothing, "{}", l.sentence());
    assert!(l.why.contains("could not be read"), "{}", l.why);
    assert!(r
        .engine
        .inspect_workspace("workspace-kept")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn a_restored_home_whose_snapshot_is_gone_is_snapshotted_before_it_goes() {
    let r = with((3704, 3705), &["copy", "kept"]).await;
    answer_checks(&r, &[]);
    // "kept" was restored from a snapshot that is still there: its files older
    // than its create are in that snapshot.
    let (_tx, rx) = watch::channel(false);
    let kept = crate::domain::naming::WorkspaceName::parse("kept").unwrap();
    let snap = crate::domain::snapshot::SnapshotName::parse("kept-src").unwrap();
    snapshot::take(&r.ctx, &kept, Some(snap), &|_| {}, rx)
        .await
        .unwrap();
    let restored = crate::domain::snapshot::RESTORED_FROM;
    r.engine.set_label("workspace-kept", restored, "kept-src");
    // "copy" came from one removed since (a fork drops its own): the copy of the
    // files it brought is the only one left.
    r.engine
        .set_label("workspace-copy", restored, "copy-fork-gone");
    let now = created(&r, "workspace-copy") + 2 * DAY;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "copy");
    assert_eq!(l.done, Done::Deleted, "{}", l.sentence());
    assert!(l.snapshot.is_some(), "{}", l.sentence());
    assert!(l.what.contains("copy-fork-gone"), "{}", l.what);
    let l = line(&rep, "kept");
    assert_eq!(l.done, Done::Deleted, "{}", l.sentence());
    assert_eq!(l.snapshot, None, "{}", l.sentence());
}

#[tokio::test(start_paused = true)]
async fn a_workspace_whose_sidecars_hold_volumes_is_kept_stopped_not_deleted() {
    let r = with((47420, 47421), &["svc"]).await;
    answer_checks(&r, &[]);
    r.engine.add_sidecar("svc", "db");
    let labels = crate::domain::labels::sidecar_labels(&Default::default(), "svc", "db", false);
    r.engine
        .create_volume("workspace-svc.db", &labels)
        .await
        .unwrap();
    let now = created(&r, "workspace-svc") + 2 * DAY;
    let dry = run_once(&r.ctx, now, true).await.unwrap();
    let l = line(&dry, "svc");
    assert_eq!(l.done, Done::WouldRefuse, "{}", l.sentence());
    assert_eq!(
        r.engine.state_of("workspace-svc"),
        Some(WorkspaceState::Running),
        "a dry run stopped it"
    );
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    let l = line(&rep, "svc");
    assert_eq!(l.done, Done::Refused, "{}", l.sentence());
    assert!(l.what.contains("workspace-svc.db"), "{}", l.what);
    assert_eq!(
        r.engine.state_of("workspace-svc"),
        Some(WorkspaceState::Stopped)
    );
    assert!(r.engine.volume_exists("workspace-svc.db").await.unwrap());
    assert!(actions(&r.ctx, "svc")
        .await
        .contains(&"gc-refuse".to_string()));
}

#[tokio::test(start_paused = true)]
async fn a_workspace_this_berth_never_made_or_used_is_left_alone() {
    let r = with((47422, 47423), &["mine"]).await;
    answer_checks(&r, &[]);
    // Another berth's (its records are in another store).
    r.engine.add_workspace("theirs", 47424);
    let now = created(&r, "workspace-mine") + 2 * DAY;
    let rep = run_once(&r.ctx, now, false).await.unwrap();
    assert_eq!(line(&rep, "mine").done, Done::Deleted);
    let l = line(&rep, "theirs");
    assert_eq!(l.decision, Decision::Keep, "{}", l.sentence());
    assert!(l.why.contains("no record"), "{}", l.why);
    assert!(r
        .engine
        .inspect_workspace("workspace-theirs")
        .await
        .unwrap()
        .is_some());
}
