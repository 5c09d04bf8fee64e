//! `berth secret` over the in-memory engine, whose exec handler plays the
//! workspace's side of the delivery script (files by name, from framed stdin):
//! who gets a secret, rotation of running workspaces only, removal, a start's
//! delivery, a create that names a missing secret, and values kept off every
//! command line and out of the store.
use super::secrets::{self, SetRequest};
use super::{lifecycle, Ctx, Progress};
use crate::config::{Config, Paths};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::secrets::Source;
use crate::engine::memory::{ExecCall, ExecReply, MemoryEngine};
use crate::engine::Engine;
use crate::store::Store;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

type Files = Arc<Mutex<BTreeMap<(String, String), Vec<u8>>>>;

struct Rig {
    engine: MemoryEngine,
    ctx: Ctx,
    files: Files,
    calls: Arc<Mutex<Vec<ExecCall>>>,
    _dir: tempfile::TempDir,
}

/// Decodes the delivery script's input the way the script does.
fn play(c: &ExecCall, files: &Files) -> ExecReply {
    let mut f = files.lock().unwrap();
    let script = c.cmd.get(2).cloned().unwrap_or_default();
    if c.cmd.first().map(String::as_str) == Some("cat") {
        let name = c.cmd[2]
            .trim_start_matches("/run/berth/secrets/")
            .to_string();
        return match f.get(&(c.container.clone(), name)) {
            Some(v) => ExecReply {
                stdout: v.clone(),
                ..Default::default()
            },
            None => ExecReply {
                exit_code: 1,
                ..Default::default()
            },
        };
    }
    if !script.contains("/run/berth/secrets") {
        return ExecReply::default();
    }
    let names = &c.cmd[4..];
    if script.contains("head -c") {
        let mut rest = c.stdin.as_slice();
        for n in names {
            let nl = rest.iter().position(|b| *b == b'\n').unwrap();
            let len: usize = std::str::from_utf8(&rest[..nl]).unwrap().parse().unwrap();
            f.insert(
                (c.container.clone(), n.clone()),
                rest[nl + 1..nl + 1 + len].to_vec(),
            );
            rest = &rest[nl + 1 + len..];
        }
    } else {
        for n in names {
            f.remove(&(c.container.clone(), n.clone()));
        }
    }
    ExecReply::default()
}

fn rig() -> Rig {
    let engine = MemoryEngine::new();
    let files: Files = Arc::default();
    let calls: Arc<Mutex<Vec<ExecCall>>> = Arc::default();
    let (f, seen) = (files.clone(), calls.clone());
    engine.set_exec_handler(move |c: &ExecCall| {
        seen.lock().unwrap().push(c.clone());
        play(c, &f)
    });
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let store = Store::new(paths.store_file());
    let ctx = Ctx::with_store(Arc::new(engine.clone()), Config::default(), paths, store);
    Rig {
        engine,
        ctx,
        files,
        calls,
        _dir: dir,
    }
}

impl Rig {
    fn inside(&self, ws: &str, name: &str) -> Option<String> {
        let f = self.files.lock().unwrap();
        f.get(&(format!("workspace-{ws}"), name.to_string()))
            .map(|v| String::from_utf8_lossy(v).into_owned())
    }

    async fn set(
        &self,
        name: &str,
        ws: Option<&str>,
        source: Source,
        value: Option<&str>,
    ) -> secrets::Delivery {
        let req = SetRequest {
            name: name.into(),
            workspace: ws.map(Into::into),
            source,
            value: value.map(|v| v.as_bytes().to_vec()),
        };
        secrets::set(&self.ctx, req).await.unwrap()
    }
}

fn file_source(dir: &std::path::Path, value: &str) -> Source {
    let p = dir.join(format!(
        "f{}",
        value.len() * 1000 + value.as_bytes()[value.len() - 1] as usize
    ));
    std::fs::write(&p, value).unwrap();
    Source::File(p.display().to_string())
}

/// A loopback listener that greets like sshd, so `start` sees the workspace answer.
async fn fake_sshd() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2 berth-test\r\n").await;
        }
    });
    port
}

#[tokio::test]
async fn a_global_secret_goes_only_where_named_and_rotates_running_workspaces() {
    let r = rig();
    let a = r.engine.add_workspace("a", 3001);
    r.engine.set_label(&a, labels::SECRET_FILES, "api");
    let b = r.engine.add_workspace("b", fake_sshd().await);
    r.engine.set_label(&b, labels::SECRET_FILES, "api,other");
    r.engine.stop_container(&b, 1).await.unwrap();
    r.engine.add_workspace("c", 3003);
    let tmp = tempfile::tempdir().unwrap();

    let d = r
        .set("api", None, file_source(tmp.path(), "value-one-1234"), None)
        .await;
    assert!(d.new);
    assert_eq!(
        (d.updated.as_slice(), d.waiting.as_slice()),
        (&["a".to_string()][..], &["b".to_string()][..])
    );
    assert_eq!(r.inside("a", "api").as_deref(), Some("value-one-1234"));
    assert_eq!(r.inside("c", "api"), None, "not named: not delivered");

    // Set again from another source: replaced in place, no restart.
    let d = r
        .set(
            "api",
            None,
            Source::Cmd("echo valuE-two-5678 | tr E e".into()),
            None,
        )
        .await;
    assert!(!d.new);
    assert_eq!(r.inside("a", "api").as_deref(), Some("value-two-5678"));
    use crate::engine::memory::Op;
    assert_eq!(
        r.engine.calls(Op::StartContainer) + r.engine.calls(Op::RestartContainer),
        0
    );
    // Nothing through the archive API (it writes beneath the tmpfs, onto the disk).
    assert_eq!(
        r.engine.calls(Op::WriteFile) + r.engine.calls(Op::UploadArchive),
        0
    );

    // The stopped one gets it when berth starts it.
    let name = WorkspaceName::parse("b").unwrap();
    let notes = Mutex::new(Vec::new());
    let progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.lock().unwrap().push(n);
        }
    };
    lifecycle::start(&r.ctx, &name, &progress).await.unwrap();
    assert_eq!(r.inside("b", "api").as_deref(), Some("value-two-5678"));
    assert!(
        notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("no secret other")),
        "{:?}",
        notes.lock().unwrap()
    );

    // Values went only through stdin: never a command line, never the store's file.
    for c in r.calls.lock().unwrap().iter() {
        assert!(!c.cmd.join(" ").contains("value-"), "{:?}", c.cmd);
        assert!(c.env.iter().all(|e| !e.contains("value-")));
    }
    let db = std::fs::read(r.ctx.paths.store_file()).unwrap();
    let wal =
        std::fs::read(format!("{}-wal", r.ctx.paths.store_file().display())).unwrap_or_default();
    for bytes in [db, wal] {
        assert!(
            !bytes.windows(9).any(|w| w == b"value-two"),
            "a value in the store"
        );
    }

    // rm: the file goes from the running workspaces that had it.
    let d = secrets::remove(&r.ctx, "api", None).await.unwrap();
    assert_eq!(d.updated, ["a", "b"]);
    assert_eq!(r.inside("a", "api"), None);
    let e = secrets::remove(&r.ctx, "api", None).await.unwrap_err();
    assert!(e.to_string().contains("berth secret ls"), "{e}");
}

#[tokio::test]
async fn a_workspace_secret_wins_over_a_global_one_and_removing_it_falls_back() {
    let r = rig();
    let w = r.engine.add_workspace("w", 3001);
    r.engine.set_label(&w, labels::SECRET_FILES, "tok");
    let tmp = tempfile::tempdir().unwrap();
    r.set("tok", None, file_source(tmp.path(), "global-value"), None)
        .await;
    let d = r
        .set("tok", Some("w"), file_source(tmp.path(), "own-value"), None)
        .await;
    assert_eq!(d.updated, ["w"]);
    assert_eq!(r.inside("w", "tok").as_deref(), Some("own-value"));
    // Rotating the global one leaves w alone: it has its own.
    let d = r
        .set("tok", None, file_source(tmp.path(), "global-value-2"), None)
        .await;
    assert!(d.updated.is_empty());
    assert_eq!(r.inside("w", "tok").as_deref(), Some("own-value"));
    let d = secrets::remove(&r.ctx, "tok", Some("w")).await.unwrap();
    assert_eq!(r.inside("w", "tok").as_deref(), Some("global-value-2"));
    assert!(
        d.notes.iter().any(|n| n.contains("now has tok")),
        "{:?}",
        d.notes
    );

    // Listed with their users, sources only.
    let l = secrets::list(&r.ctx).await.unwrap();
    assert_eq!(l.len(), 1);
    assert_eq!(l[0].used_by, ["w"]);
    let j = serde_json::to_string(&l).unwrap();
    assert!(!j.contains("global-value-2\""), "{j}");
}

#[tokio::test]
async fn a_stdin_value_is_delivered_once_and_its_absence_said_at_start() {
    let r = rig();
    r.engine.add_workspace("w", 3001);
    let d = r
        .set("pin", Some("w"), Source::Stdin, Some("stdin-value-42"))
        .await;
    assert_eq!(r.inside("w", "pin").as_deref(), Some("stdin-value-42"));
    assert!(
        d.notes.iter().any(|n| n.contains("unless it is set again")),
        "{:?}",
        d.notes
    );
    // Redaction reads it back from the workspace (the host has no source for it).
    let w = lifecycle::find(&r.ctx, &WorkspaceName::parse("w").unwrap())
        .await
        .unwrap();
    let (red, problems) = secrets::redactor_for(&r.ctx, &w).await;
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(red.apply("x stdin-value-42 y"), "x [secret pin] y");

    // After a restart (the tmpfs emptied) berth says it is gone.
    r.files.lock().unwrap().clear();
    let notes = Mutex::new(Vec::new());
    let progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.lock().unwrap().push(n);
        }
    };
    secrets::on_start(&r.ctx, &w, &progress).await;
    assert!(
        notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("unless it is set again")),
        "{:?}",
        notes.lock().unwrap()
    );
    // No value given: refused.
    let req = SetRequest {
        name: "pin".into(),
        workspace: None,
        source: Source::Stdin,
        value: None,
    };
    assert!(secrets::set(&r.ctx, req).await.is_err());
}

#[tokio::test]
async fn bad_input_is_refused_and_records_nothing() {
    let r = rig();
    for (name, source) in [
        ("../x", Source::Cmd("echo v".into())),
        ("ok", Source::Env("BERTH_TEST_NEVER_SET_4Q".into())),
        ("ok", Source::Cmd("exit 2".into())),
        ("ok", Source::File("relative".into())),
    ] {
        let req = SetRequest {
            name: name.into(),
            workspace: None,
            source,
            value: None,
        };
        assert!(secrets::set(&r.ctx, req).await.is_err());
    }
    let req = SetRequest {
        name: "ok".into(),
        workspace: Some("Bad_Name".into()),
        source: Source::Cmd("echo v".into()),
        value: None,
    };
    assert!(secrets::set(&r.ctx, req).await.is_err());
    assert!(r.ctx.store.secrets().await.unwrap().is_empty());
}

#[tokio::test]
async fn the_logs_pane_hides_a_value_rotated_while_it_follows() {
    use super::follow_redact::LiveRedactor;
    use super::service::Event;
    use super::test_support::{log_lines, wait_for};
    let r = rig();
    let c = r.engine.add_workspace("w", 3001);
    let tmp = tempfile::tempdir().unwrap();
    r.set(
        "tok",
        Some("w"),
        file_source(tmp.path(), "first-value-111"),
        None,
    )
    .await;
    let (tx, mut rx) = tokio::sync::mpsc::channel(64);
    let live = LiveRedactor::following(r.ctx.clone(), WorkspaceName::parse("w").unwrap());
    let e: Arc<dyn Engine> = Arc::new(r.engine.clone());
    let task = tokio::spawn(super::follow::run_redacted(e, "w".into(), tx, live));
    async fn line(rx: &mut tokio::sync::mpsc::Receiver<Event>, what: &str) -> String {
        wait_for(rx, 10, what, |ev| {
            log_lines(std::slice::from_ref(ev), "w").into_iter().next()
        })
        .await
        .1
    }
    r.engine.log(&c, "got first-value-111").unwrap();
    assert_eq!(line(&mut rx, "the first line").await, "got [secret tok]");
    // Rotated (by another berth) while the pane follows: the new value is hidden too.
    r.set(
        "tok",
        Some("w"),
        file_source(tmp.path(), "second-value-22"),
        None,
    )
    .await;
    r.engine.log(&c, "got second-value-22").unwrap();
    assert_eq!(line(&mut rx, "the second line").await, "got [secret tok]");
    // And a secret set for it meanwhile.
    r.set(
        "new",
        Some("w"),
        file_source(tmp.path(), "third-value-333"),
        None,
    )
    .await;
    r.engine.log(&c, "got third-value-333").unwrap();
    assert_eq!(line(&mut rx, "the third line").await, "got [secret new]");
    task.abort();
}
