//! `berth cp`'s backend over the in-memory engine (whose archive API extracts
//! like Docker's: a `.` entry would change the destination directory itself).
use super::copy::{copy_in, copy_out, Meter, Sink, Source, WORKSPACE_IDS};
use super::Ctx;
use crate::config::{Config, Paths};
use crate::domain::naming::WorkspaceName;
use crate::engine::memory::{Body, ExecReply, MemoryEngine, Op};
use crate::engine::{Engine, EngineError};
use crate::store::Store;
use std::fs;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

const WS: &str = "workspace-box";

struct Rig {
    engine: MemoryEngine,
    ctx: Ctx,
    dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let engine = MemoryEngine::new();
    engine.add_workspace("box", 2222);
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(&dir.path().join("berth"));
    let store = Store::inline_for_tests(paths.store_file());
    let ctx = Ctx::with_store(Arc::new(engine.clone()), Config::default(), paths, store);
    Rig { engine, ctx, dir }
}

fn name() -> WorkspaceName {
    WorkspaceName::parse("box").unwrap()
}

fn never() -> watch::Receiver<bool> {
    watch::channel(false).1
}

/// A tree: a.txt (0640, an old mtime), sub/run.sh (0755), link -> a.txt.
fn tree(root: &Path) {
    fs::create_dir_all(root.join("sub")).unwrap();
    fs::write(root.join("a.txt"), b"hello").unwrap();
    fs::set_permissions(root.join("a.txt"), fs::Permissions::from_mode(0o640)).unwrap();
    let f = fs::File::options()
        .write(true)
        .open(root.join("a.txt"))
        .unwrap();
    f.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_600_000_000))
        .unwrap();
    fs::write(root.join("sub/run.sh"), b"#!/bin/sh\n").unwrap();
    fs::set_permissions(root.join("sub/run.sh"), fs::Permissions::from_mode(0o755)).unwrap();
    std::os::unix::fs::symlink("a.txt", root.join("link")).unwrap();
}

async fn put(r: &Rig, src: &Path, to: &str) -> anyhow::Result<super::copy::CopySummary> {
    let m = Arc::new(Meter::default());
    let s = Source::Host(src.display().to_string());
    copy_in(&r.ctx, &name(), s, to, Some(WORKSPACE_IDS), &m, never()).await
}

#[tokio::test]
async fn a_tree_goes_in_owned_by_the_workspace_user_with_modes_and_links() {
    let r = rig();
    let src = r.dir.path().join("src");
    tree(&src);
    let s = put(&r, &src, "/home/workspace/dst").await.unwrap();
    assert_eq!((s.counts.files, s.counts.dirs, s.counts.links), (2, 2, 1));
    assert_eq!(s.target, "/home/workspace/dst");
    let a = r.engine.fs_node(WS, "/home/workspace/dst/a.txt").unwrap();
    assert_eq!(a.body, Body::File(b"hello".to_vec()));
    assert_eq!(
        (a.mode, a.uid, a.gid, a.mtime),
        (0o640, 1000, 1000, 1_600_000_000)
    );
    let run = r
        .engine
        .fs_node(WS, "/home/workspace/dst/sub/run.sh")
        .unwrap();
    assert_eq!(run.mode, 0o755);
    let link = r.engine.fs_node(WS, "/home/workspace/dst/link").unwrap();
    assert_eq!(link.body, Body::Symlink("a.txt".into()));
    // Into an existing directory: lands under the source's name.
    put(&r, &src, "/home/workspace/dst").await.unwrap();
    assert!(r
        .engine
        .fs_node(WS, "/home/workspace/dst/src/a.txt")
        .is_some());
}

#[tokio::test]
async fn contents_into_the_home_leave_the_home_itself_alone() {
    let r = rig();
    let src = r.dir.path().join("src");
    tree(&src);
    let before = r.engine.fs_node(WS, "/home/workspace").unwrap();
    put(
        &r,
        Path::new(&format!("{}/.", src.display())),
        "/home/workspace",
    )
    .await
    .unwrap();
    assert_eq!(r.engine.fs_node(WS, "/home/workspace").unwrap(), before);
    assert!(r.engine.fs_node(WS, "/home/workspace/a.txt").is_some());
    // A file into the home, by its own name.
    put(&r, &src.join("sub/run.sh"), "/home/workspace")
        .await
        .unwrap();
    assert_eq!(r.engine.fs_node(WS, "/home/workspace").unwrap(), before);
    assert!(r.engine.fs_node(WS, "/home/workspace/run.sh").is_some());
}

fn tar_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = tar::Header::new_gnu();
        if path.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o777);
        } else {
            h.set_mode(0o600);
        }
        h.set_size(data.len() as u64);
        h.set_uid(0);
        // Written raw: the tar crate refuses `..` in paths it is given.
        let name = &mut h.as_old_mut().name;
        name[..path.len()].copy_from_slice(path.as_bytes());
        h.set_cksum();
        b.append(&h, *data).unwrap();
    }
    b.into_inner().unwrap()
}

#[tokio::test]
async fn a_tar_from_stdin_is_reowned_and_never_touches_the_destination() {
    let r = rig();
    let before = r.engine.fs_node(WS, "/home/workspace").unwrap();
    let tar = tar_of(&[("./", b""), ("./d/", b""), ("./d/f", b"data")]);
    let m = Arc::new(Meter::default());
    let src = Source::Tar(Box::new(std::io::Cursor::new(tar)));
    let s = copy_in(
        &r.ctx,
        &name(),
        src,
        "/home/workspace",
        Some(WORKSPACE_IDS),
        &m,
        never(),
    )
    .await
    .unwrap();
    assert_eq!((s.counts.files, s.counts.dirs), (1, 1));
    assert_eq!(r.engine.fs_node(WS, "/home/workspace").unwrap(), before);
    assert_eq!(
        r.engine.fs_node(WS, "/home/workspace/d/f").unwrap().uid,
        1000
    );

    // `..` is refused (nothing after it arrives), and so is a non-directory target.
    let evil = tar_of(&[("ok", b"1"), ("../../etc/evil", b"x")]);
    let src = Source::Tar(Box::new(std::io::Cursor::new(evil)));
    let e = copy_in(&r.ctx, &name(), src, "/home/workspace", None, &m, never())
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("climbs out"), "{e:#}");
    assert!(r.engine.fs_node(WS, "/etc/evil").is_none());
    // Nor a file written through a symlink the same archive made.
    let mut b = tar::Builder::new(Vec::new());
    let mut h = tar::Header::new_gnu();
    h.set_entry_type(tar::EntryType::Symlink);
    h.set_size(0);
    b.append_link(&mut h, "etc", "/etc").unwrap();
    let mut h = tar::Header::new_gnu();
    h.set_size(1);
    b.append_data(&mut h, "etc/passwd", &b"x"[..]).unwrap();
    let src = Source::Tar(Box::new(std::io::Cursor::new(b.into_inner().unwrap())));
    let e = copy_in(&r.ctx, &name(), src, "/home/workspace", None, &m, never())
        .await
        .unwrap_err();
    assert!(format!("{e:#}").contains("through a symlink"), "{e:#}");
    // Nor a hard link to a file through such a symlink (the engine would re-own the
    // linked file), nor one to anything but a file earlier in the archive.
    for target in ["l/passwd", "d/nothing"] {
        let mut b = tar::Builder::new(Vec::new());
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_size(0);
        b.append_link(&mut h, "l", "/etc").unwrap();
        let mut h = tar::Header::new_gnu();
        h.set_entry_type(tar::EntryType::Link);
        h.set_size(0);
        b.append_link(&mut h, "h", target).unwrap();
        let src = Source::Tar(Box::new(std::io::Cursor::new(b.into_inner().unwrap())));
        let e = copy_in(&r.ctx, &name(), src, "/home/workspace", None, &m, never())
            .await
            .unwrap_err();
        assert!(format!("{e:#}").contains("hard link h points at"), "{e:#}");
        assert!(r.engine.fs_node(WS, "/home/workspace/h").is_none());
    }
    // Nor a file whose directory is not in the archive: the engine would follow
    // whatever the workspace has at that path.
    let src = Source::Tar(Box::new(std::io::Cursor::new(tar_of(&[("d2/f", b"1")]))));
    let e = copy_in(&r.ctx, &name(), src, "/home/workspace", None, &m, never())
        .await
        .unwrap_err();
    assert!(
        format!("{e:#}").contains("no entry for its directory d2"),
        "{e:#}"
    );
    let src = Source::Tar(Box::new(std::io::Cursor::new(Vec::new())));
    let e = copy_in(
        &r.ctx,
        &name(),
        src,
        "/home/workspace/d/f",
        None,
        &m,
        never(),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("must be an existing directory"),
        "{e}"
    );
}

#[tokio::test]
async fn failures_before_the_copy_leave_nothing() {
    let r = rig();
    let src = r.dir.path().join("src");
    tree(&src);
    let e = put(&r, &r.dir.path().join("missing"), "/home/workspace/x")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("cannot read"), "{e}");
    let e = put(&r, &src, "/home/workspace/no/such/x")
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("does not exist; create it first"),
        "{e}"
    );
    let m = Arc::new(Meter::default());
    let other = WorkspaceName::parse("nope").unwrap();
    let s = Source::Host(src.display().to_string());
    let e = copy_in(&r.ctx, &other, s, "/tmp", None, &m, never())
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no workspace named nope"), "{e}");
    assert!(r.engine.fs_paths(WS, "/home/workspace").is_empty());
    assert_eq!(r.engine.calls(Op::UploadArchive), 0);

    // The engine failing the upload: reported, and what this copy made is removed.
    r.engine
        .fail_next(Op::UploadArchive, EngineError::Api("disk full".into()));
    let e = put(&r, &src, "/home/workspace/dst").await.unwrap_err();
    assert!(format!("{e:#}").contains("disk full"), "{e:#}");
    assert!(r.engine.fs_paths(WS, "/home/workspace").is_empty());
}

#[tokio::test]
async fn a_broken_copy_in_removes_what_it_made_when_the_workspace_runs() {
    let r = rig();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    r.engine.set_exec_handler(move |c| {
        seen.lock().unwrap().push((c.cmd.clone(), c.user.clone()));
        ExecReply::default()
    });
    r.engine
        .put_fs_file(WS, "/home/workspace/new", b"part", 0o644, 1000);
    let placement = crate::domain::copy::Placement {
        dir: "/home/workspace".into(),
        root: Some("new".into()),
        fresh: true,
    };
    let e =
        super::copy::roll_back_in(&r.ctx, &name(), WS, &placement, anyhow::anyhow!("broke")).await;
    assert!(e.to_string().contains("was removed"), "{e}");
    let (cmd, user) = calls.lock().unwrap()[0].clone();
    assert_eq!(cmd.last().map(String::as_str), Some("/home/workspace/new"));
    assert!(cmd[2].contains("rm -rf"));
    assert_eq!(user.as_deref(), Some("workspace"));
    // Stopped: nothing can run inside, so it says what to remove.
    r.engine.stop_container(WS, 1).await.unwrap();
    let e =
        super::copy::roll_back_in(&r.ctx, &name(), WS, &placement, anyhow::anyhow!("broke")).await;
    assert!(e.to_string().contains("holds part of the copy"), "{e}");
}

async fn get(r: &Rig, from: &str, to: &Path) -> anyhow::Result<super::copy::CopySummary> {
    let m = Arc::new(Meter::default());
    copy_out(
        &r.ctx,
        &name(),
        from,
        Sink::Host(to.display().to_string()),
        &m,
        never(),
    )
    .await
}

#[tokio::test]
async fn a_tree_round_trips_and_works_on_a_stopped_workspace() {
    let r = rig();
    let src = r.dir.path().join("src");
    tree(&src);
    r.engine.stop_container(WS, 1).await.unwrap();
    put(&r, &src, "/home/workspace/t").await.unwrap();
    let back = r.dir.path().join("back");
    let s = get(&r, "t", &back).await.unwrap();
    assert_eq!((s.counts.files, s.counts.dirs, s.counts.links), (2, 2, 1));
    assert_eq!(fs::read(back.join("a.txt")).unwrap(), b"hello");
    let m = fs::metadata(back.join("a.txt")).unwrap();
    assert_eq!((m.mode() & 0o777, m.mtime()), (0o640, 1_600_000_000));
    assert_eq!(
        fs::metadata(back.join("sub/run.sh")).unwrap().mode() & 0o777,
        0o755
    );
    assert_eq!(
        fs::read_link(back.join("link")).unwrap(),
        Path::new("a.txt")
    );
    // Contents into an existing directory merge; a file onto a file replaces it.
    fs::write(back.join("keep"), b"k").unwrap();
    get(&r, "t/.", &back).await.unwrap();
    assert!(back.join("keep").exists() && back.join("sub/run.sh").exists());
    get(&r, "t/sub/run.sh", &back.join("a.txt")).await.unwrap();
    assert_eq!(fs::read(back.join("a.txt")).unwrap(), b"#!/bin/sh\n");
    // No staging directory is left behind.
    let left: Vec<_> = fs::read_dir(r.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert!(
        !left
            .iter()
            .any(|n| n.to_string_lossy().starts_with(".berth-cp")),
        "{left:?}"
    );
}

#[tokio::test]
async fn a_failed_copy_out_leaves_the_host_as_it_was() {
    let r = rig();
    let out = r.dir.path().join("out");
    let e = get(&r, "/home/workspace/missing", &out).await.unwrap_err();
    assert!(
        e.to_string().contains("does not exist in workspace box"),
        "{e}"
    );
    r.engine
        .put_fs_file(WS, "/home/workspace/f", b"x", 0o600, 1000);
    let e = get(&r, "f", &r.dir.path().join("no/dir/f"))
        .await
        .unwrap_err();
    assert!(
        e.to_string().contains("does not exist; create it first"),
        "{e}"
    );
    // Cancelled: no destination, no staging directory.
    let (tx, rx) = watch::channel(true);
    let m = Arc::new(Meter::default());
    let e = copy_out(
        &r.ctx,
        &name(),
        "f",
        Sink::Host(out.display().to_string()),
        &m,
        rx,
    )
    .await
    .unwrap_err();
    drop(tx);
    assert!(e.to_string().contains("left as it was"), "{e}");
    let left: Vec<_> = fs::read_dir(r.dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name())
        .collect();
    assert_eq!(left, vec![std::ffi::OsString::from("berth")], "{left:?}");
    // A directory never replaces a file (nor the other way round).
    fs::write(&out, b"file").unwrap();
    r.engine
        .put_fs_file(WS, "/home/workspace/d/x", b"x", 0o600, 1000);
    let e = get(&r, "/home/workspace", &out).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("cannot copy a directory onto the file"),
        "{e}"
    );
    assert_eq!(fs::read(&out).unwrap(), b"file");
}

#[tokio::test]
async fn the_service_runs_a_copy_as_a_job() {
    use super::service::{Command, Event, JobUpdate};
    use super::test_support::Harness;
    let engine = MemoryEngine::new();
    engine.add_workspace("box", 2222);
    let dir = tempfile::tempdir().unwrap();
    let src = dir.path().join("notes.txt");
    fs::write(&src, b"n").unwrap();
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.send(Command::Copy {
        job: 7,
        src: src.display().to_string(),
        dst: "box:".into(),
    });
    let done = h
        .wait_for(10, "the copy job's end", |e| match e {
            Event::Job {
                job: 7,
                update: u @ (JobUpdate::Done(_) | JobUpdate::Failed(_)),
            } => Some(u.clone()),
            _ => None,
        })
        .await;
    assert_eq!(
        done,
        JobUpdate::Done("copied 1 B into box:/home/workspace/notes.txt".into())
    );
    assert!(engine.fs_node(WS, "/home/workspace/notes.txt").is_some());
    // The command line's `-` has no place in a job.
    h.send(Command::Copy {
        job: 8,
        src: "-".into(),
        dst: "box:".into(),
    });
    let failed = h
        .wait_for(10, "the refusal", |e| match e {
            Event::Job {
                job: 8,
                update: JobUpdate::Failed(m),
            } => Some(m.clone()),
            _ => None,
        })
        .await;
    assert!(failed.contains("command line only"), "{failed}");
}
