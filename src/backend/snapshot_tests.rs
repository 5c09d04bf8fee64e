//! Snapshots, restore and fork over the in-memory engine: what each makes, what a
//! failure leaves (nothing), and that the workspace is resumed on every path.
use super::*;
use crate::backend::create_tests::{request, rig, Rig};
use crate::backend::restore::{fork, restore, RestoreRequest};
use crate::domain::labels;
use crate::domain::provision::MARKER_PATH;
use crate::domain::snapshot::{HOST_KEY_FILES, RESTORED_FROM, SNAPSHOT_HOME_BYTES};
use crate::domain::workspace::WorkspaceState;
use crate::engine::memory::Op;
use crate::engine::Engine;
use std::time::Duration;

fn n(s: &str) -> WorkspaceName {
    WorkspaceName::parse(s).unwrap()
}

fn snap(s: &str) -> SnapshotName {
    SnapshotName::parse(s).unwrap()
}

fn no_cancel() -> watch::Receiver<bool> {
    watch::channel(false).1
}

/// A rig with a finished workspace `orig` whose home holds a file and a host key.
async fn with_orig(ports: (u16, u16)) -> Rig {
    let r = rig(ports, Duration::ZERO);
    let req = request(&r.ctx, "orig", None);
    super::super::create::create(&r.ctx, req, &|_| {}, no_cancel())
        .await
        .unwrap();
    r.engine
        .write_volume_file("workspace-orig", "work/a.txt", b"hello");
    for f in HOST_KEY_FILES {
        r.engine.write_volume_file("workspace-orig", f, b"old key");
    }
    r
}

async fn take_ok(r: &Rig, name: &str, as_: &str) -> Taken {
    take(&r.ctx, &n(name), Some(snap(as_)), &|_| {}, no_cancel())
        .await
        .unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_running_workspace_is_paused_copied_committed_and_resumed() {
    let r = with_orig((47300, 47301)).await;
    let sidecar = r.engine.add_sidecar("orig", "db");
    let t = take_ok(&r, "orig", "s1").await;
    assert!(t.paused_ms.is_some());
    assert_eq!(t.sidecars_paused, ["db"]);
    assert_eq!(r.engine.calls(Op::Pause), 2);
    for c in ["workspace-orig", sidecar.as_str()] {
        assert_eq!(r.engine.state_of(c), Some(WorkspaceState::Running), "{c}");
    }
    let i = &t.info;
    assert!(i.complete && i.workspace == "orig" && i.name == "s1");
    assert_eq!(i.image.as_deref(), Some("berth/snapshot:s1"));
    assert_eq!(i.volume.as_deref(), Some("berth-snapshot-s1"));
    let copied = r.engine.volume_file("berth-snapshot-s1", "work/a.txt");
    assert_eq!(copied.as_deref(), Some(&b"hello"[..]));
    let img = r.engine.image_labels("berth/snapshot:s1").unwrap();
    assert_eq!(img[labels::ROLE], "snapshot");
    assert_eq!(img[SNAPSHOT_HOME_BYTES], i.home_bytes.unwrap().to_string());
    assert_eq!(img[labels::NAME], "", "a snapshot is no workspace");
    // Never listed as a workspace.
    let ws = super::super::inventory::list(&r.ctx).await.unwrap();
    assert_eq!(ws.len(), 1);
    assert_eq!(list(&r.ctx).await.unwrap().len(), 1);
    assert_eq!(of_workspace(&r.ctx, "other").await.unwrap().len(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_stopped_workspace_is_taken_as_it_is_without_pausing() {
    let r = with_orig((47302, 47303)).await;
    r.engine.stop_container("workspace-orig", 1).await.unwrap();
    let t = take_ok(&r, "orig", "cold").await;
    assert_eq!(t.paused_ms, None);
    assert_eq!(r.engine.calls(Op::Pause), 0);
    assert_eq!(
        r.engine.state_of("workspace-orig"),
        Some(WorkspaceState::Stopped)
    );
    assert!(t.info.complete);
}

#[tokio::test(start_paused = true)]
async fn a_taken_name_and_a_missing_workspace_are_refused_with_nothing_made() {
    let r = with_orig((47304, 47305)).await;
    take_ok(&r, "orig", "s1").await;
    let (vols, imgs) = (r.engine.volumes(), r.engine.images());
    let e = take(&r.ctx, &n("orig"), Some(snap("s1")), &|_| {}, no_cancel())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("exists already") && e.contains("snapshot rm s1"),
        "{e}"
    );
    let e = take(&r.ctx, &n("nope"), None, &|_| {}, no_cancel())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no workspace named nope"), "{e}");
    assert_eq!((r.engine.volumes(), r.engine.images()), (vols, imgs));
    assert_eq!(r.engine.calls(Op::Pause), 1);
}

#[tokio::test(start_paused = true)]
async fn a_failed_copy_or_commit_leaves_nothing_and_resumes_the_workspace() {
    let r = with_orig((47306, 47307)).await;
    let (vols, imgs) = (r.engine.volumes(), r.engine.images());
    for op in [Op::CopyVolume, Op::Commit, Op::Unpause] {
        let boom = crate::engine::EngineError::Api(format!("{op:?} failed"));
        r.engine.fail_next(op, boom);
        let e = take(&r.ctx, &n("orig"), Some(snap("bad")), &|_| {}, no_cancel())
            .await
            .map(|t| t.info.name)
            .unwrap_err()
            .to_string();
        if op == Op::Unpause {
            // Taken, but the workspace could not be resumed: said, and `start` resumes it.
            assert!(
                e.contains("was taken") && e.contains("berth start orig"),
                "{e}"
            );
            assert_eq!(
                r.engine.state_of("workspace-orig"),
                Some(WorkspaceState::Paused)
            );
            super::super::lifecycle::start(&r.ctx, &n("orig"), &|_| {})
                .await
                .unwrap();
            remove(&r.ctx, &snap("bad")).await.unwrap();
        } else {
            assert!(e.contains("Removed what it had made"), "{op:?}: {e}");
            assert!(e.contains("volume berth-snapshot-bad"), "{e}");
        }
        assert_eq!(
            r.engine.state_of("workspace-orig"),
            Some(WorkspaceState::Running),
            "{op:?}"
        );
        assert_eq!(
            (r.engine.volumes(), r.engine.images()),
            (vols.clone(), imgs.clone())
        );
    }
}

#[tokio::test(start_paused = true)]
async fn a_restore_gets_the_files_a_new_port_a_new_host_key_and_its_own_marker() {
    let r = with_orig((47308, 47310)).await;
    let orig = super::super::lifecycle::find(&r.ctx, &n("orig"))
        .await
        .unwrap();
    take_ok(&r, "orig", "s1").await;
    let req = RestoreRequest {
        snapshot: snap("s1"),
        name: n("copy"),
        keys: vec![],
        identities: vec![],
    };
    let w = restore(&r.ctx, req, &|_| {}, no_cancel()).await.unwrap();
    assert!(w.provision.is_ready());
    assert_ne!(w.ssh_port, orig.ssh_port);
    assert_eq!(w.image, "berth/snapshot:s1");
    assert_eq!(w.labels[RESTORED_FROM], "s1");
    assert_eq!(w.labels[crate::domain::snapshot::SNAPSHOT], "");
    let home = |p: &str| r.engine.volume_file("workspace-copy", p);
    assert_eq!(home("work/a.txt").as_deref(), Some(&b"hello"[..]));
    for f in HOST_KEY_FILES {
        assert_eq!(home(f), None, "{f} is made anew, never copied");
    }
    // The image carried the original's marker; the new container wrote its own.
    let marker = r
        .engine
        .read_file(&w.container_id, MARKER_PATH, 100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&marker).trim(), w.container_id);
    // The snapshot is intact and restores again.
    assert!(find(&r.ctx, &snap("s1")).await.unwrap().unwrap().complete);
}

#[tokio::test(start_paused = true)]
async fn a_restore_onto_a_taken_name_or_from_nothing_is_refused_and_a_failed_one_rolls_back() {
    let r = with_orig((47311, 47313)).await;
    take_ok(&r, "orig", "s1").await;
    let req = |snapshot: &str, name: &str| RestoreRequest {
        snapshot: snap(snapshot),
        name: n(name),
        keys: vec![],
        identities: vec![],
    };
    let (vols, containers) = (r.engine.volumes(), r.engine.containers());
    let e = restore(&r.ctx, req("s1", "orig"), &|_| {}, no_cancel())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("workspace orig exists already"), "{e}");
    let e = restore(&r.ctx, req("nope", "new"), &|_| {}, no_cancel())
        .await
        .unwrap_err()
        .to_string();
    assert!(e.contains("no snapshot named nope"), "{e}");
    r.engine.fail_next(
        Op::CopyVolume,
        crate::engine::EngineError::Api("disk full".into()),
    );
    let e = restore(&r.ctx, req("s1", "new"), &|_| {}, no_cancel())
        .await
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("disk full") && e.contains("volume workspace-new"),
        "{e}"
    );
    assert_eq!(
        (r.engine.volumes(), r.engine.containers()),
        (vols, containers)
    );
    assert!(find(&r.ctx, &snap("s1")).await.unwrap().unwrap().complete);
}

#[tokio::test(start_paused = true)]
async fn a_fork_is_a_snapshot_and_a_restore_and_drops_its_snapshot_unless_kept() {
    let r = with_orig((47314, 47317)).await;
    let f = fork(
        &r.ctx,
        &n("orig"),
        n("twin"),
        (vec![], vec![]),
        false,
        &|_| {},
        no_cancel(),
    )
    .await
    .unwrap();
    assert_eq!(f.workspace.name, "twin");
    assert!(f.snapshot.info.name.starts_with("twin-fork-"));
    assert!(!f.snapshot_kept);
    assert!(list(&r.ctx).await.unwrap().is_empty());
    assert_eq!(
        r.engine
            .volume_file("workspace-twin", "work/a.txt")
            .as_deref(),
        Some(&b"hello"[..])
    );
    let f = fork(
        &r.ctx,
        &n("orig"),
        n("kept"),
        (vec![], vec![]),
        true,
        &|_| {},
        no_cancel(),
    )
    .await
    .unwrap();
    assert!(f.snapshot_kept);
    assert_eq!(list(&r.ctx).await.unwrap().len(), 1);
    // A taken name is refused before anything is snapshotted.
    let pauses = r.engine.calls(Op::Pause);
    let e = fork(
        &r.ctx,
        &n("orig"),
        n("twin"),
        (vec![], vec![]),
        false,
        &|_| {},
        no_cancel(),
    )
    .await
    .unwrap_err()
    .to_string();
    assert!(e.contains("exists already"), "{e}");
    assert_eq!(r.engine.calls(Op::Pause), pauses);
}

#[tokio::test(start_paused = true)]
async fn removing_a_snapshot_removes_its_image_and_volume_and_names_who_still_runs_on_it() {
    let r = with_orig((47318, 47320)).await;
    take_ok(&r, "orig", "s1").await;
    let req = RestoreRequest {
        snapshot: snap("s1"),
        name: n("copy"),
        keys: vec![],
        identities: vec![],
    };
    restore(&r.ctx, req, &|_| {}, no_cancel()).await.unwrap();
    let out = remove(&r.ctx, &snap("s1")).await.unwrap();
    assert_eq!(out.image.as_deref(), Some("berth/snapshot:s1"));
    assert_eq!(out.volume.as_deref(), Some("berth-snapshot-s1"));
    assert_eq!(out.still_used_by, ["copy"]);
    assert!(list(&r.ctx).await.unwrap().is_empty());
    let e = remove(&r.ctx, &snap("s1")).await.unwrap_err().to_string();
    assert!(e.contains("no snapshot named s1"), "{e}");
    // A half snapshot (a killed take left its volume) is listed and removable.
    r.engine
        .create_volume(
            "berth-snapshot-half",
            &[
                (labels::ROLE.to_string(), "snapshot".to_string()),
                (
                    crate::domain::snapshot::SNAPSHOT.to_string(),
                    "half".to_string(),
                ),
            ]
            .into(),
        )
        .await
        .unwrap();
    let l = list(&r.ctx).await.unwrap();
    assert_eq!((l.len(), l[0].complete), (1, false));
    remove(&r.ctx, &snap("half")).await.unwrap();
    assert!(list(&r.ctx).await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn the_tui_backend_takes_lists_and_removes_snapshots_as_jobs() {
    use crate::backend::service::{Command, Event, JobUpdate};
    use crate::backend::test_support::Harness;
    let engine = crate::engine::memory::MemoryEngine::new();
    engine.add_workspace("api", 2201);
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.send(Command::Snapshot {
        job: 1,
        name: "api".into(),
    });
    let done = h
        .wait_for(10, "the snapshot job", |e| match e {
            Event::Job {
                job: 1,
                update: JobUpdate::Done(m) | JobUpdate::Failed(m),
            } => Some(m.clone()),
            _ => None,
        })
        .await;
    assert!(done.starts_with("took snapshot api-"), "{done}");
    h.send(Command::ListSnapshots {
        workspace: "api".into(),
    });
    let list = h
        .wait_for(10, "the list", |e| match e {
            Event::Snapshots { workspace, list } if workspace == "api" => Some(list.clone()),
            _ => None,
        })
        .await
        .unwrap();
    assert_eq!(list.len(), 1);
    h.send(Command::RemoveSnapshot {
        job: 2,
        snapshot: list[0].name.clone(),
    });
    let done = h
        .wait_for(10, "the removal", |e| match e {
            Event::Job {
                job: 2,
                update: JobUpdate::Done(m) | JobUpdate::Failed(m),
            } => Some(m.clone()),
            _ => None,
        })
        .await;
    assert!(done.starts_with("removed snapshot"), "{done}");
    assert_eq!(
        engine.state_of("workspace-api"),
        Some(WorkspaceState::Running)
    );
}
