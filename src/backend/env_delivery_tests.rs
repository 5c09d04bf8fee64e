//! Passed-through variables delivered again on every start, over the in-memory
//! engine: berth's own starts (start, restart) replace /run/berth/env; the watcher
//! fills it only when a start berth did not make left it empty.
use super::test_support::Harness;
use super::{lifecycle, Ctx, Progress};
use crate::config::{Config, Paths};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::engine::memory::{ExecCall, ExecReply, MemoryEngine};
use crate::engine::Engine;
use crate::store::Store;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Set in no test process: reported as missing.
const ABSENT: &str = "BERTH_TEST_NEVER_SET_7Q2";

/// Records every exec; `test -e /run/berth/env` answers as `present` says.
fn recording(engine: &MemoryEngine, present: Arc<AtomicBool>) -> Arc<Mutex<Vec<ExecCall>>> {
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    engine.set_exec_handler(move |c: &ExecCall| {
        seen.lock().unwrap().push(c.clone());
        let probe = c.cmd == ["test", "-e", "/run/berth/env"];
        ExecReply {
            exit_code: i64::from(probe && !present.load(Ordering::SeqCst)),
            ..Default::default()
        }
    });
    calls
}

/// The execs that wrote the secrets file: (script, stdin).
fn writes(calls: &Mutex<Vec<ExecCall>>) -> Vec<(String, String)> {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.cmd.first().map(String::as_str) == Some("/bin/sh"))
        .filter(|c| c.cmd.get(2).is_some_and(|s| s.contains("/run/berth/env")))
        .map(|c| {
            (
                c.cmd[2].clone(),
                String::from_utf8_lossy(&c.stdin).into_owned(),
            )
        })
        .collect()
}

fn with_secrets(engine: &MemoryEngine, name: &str, port: u16) -> String {
    let c = engine.add_workspace(name, port);
    engine.set_label(&c, labels::SECRETS, &format!("PATH,{ABSENT}"));
    // Nothing forwarded from gh: no host `gh` is run by these tests.
    engine.set_label(&c, labels::FORWARD, "");
    c
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
async fn start_and_restart_deliver_again_and_name_what_is_missing() {
    let engine = MemoryEngine::new();
    let c = with_secrets(&engine, "w", fake_sshd().await);
    let calls = recording(&engine, Arc::new(AtomicBool::new(false)));
    engine.crash(&c).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let store = Store::inline_for_tests(paths.store_file());
    let ctx = Ctx::with_store(Arc::new(engine.clone()), Config::default(), paths, store);
    let notes = Mutex::new(Vec::new());
    let progress = |p: Progress| {
        if let Progress::Note(n) = p {
            notes.lock().unwrap().push(n);
        }
    };
    let name = WorkspaceName::parse("w").unwrap();

    lifecycle::start(&ctx, &name, &progress).await.unwrap();
    let w = writes(&calls);
    assert_eq!(w.len(), 1, "one delivery on start: {w:?}");
    assert!(w[0].0.contains("mv -f"), "a berth start replaces the file");
    assert!(w[0].1.contains("export PATH="), "{}", w[0].1);
    assert!(!w[0].1.contains(ABSENT));
    assert!(
        notes.lock().unwrap().iter().any(|n| n.contains(ABSENT)),
        "the missing name is said: {:?}",
        notes.lock().unwrap()
    );

    // Already running: nothing to deliver.
    lifecycle::start(&ctx, &name, &progress).await.unwrap();
    assert_eq!(writes(&calls).len(), 1);

    lifecycle::restart(&ctx, &name, &progress).await.unwrap();
    assert_eq!(writes(&calls).len(), 2, "restart delivers again");

    // A delivery that fails is said; the start still succeeds.
    engine.stop_container(&c, 1).await.unwrap();
    engine.set_exec_handler(|_| ExecReply {
        exit_code: 3,
        stderr: b"/run/berth is not a tmpfs".to_vec(),
        ..Default::default()
    });
    notes.lock().unwrap().clear();
    lifecycle::start(&ctx, &name, &progress).await.unwrap();
    assert!(
        notes
            .lock()
            .unwrap()
            .iter()
            .any(|n| n.contains("not a tmpfs") && n.contains("berth restart w")),
        "{:?}",
        notes.lock().unwrap()
    );
}

#[tokio::test(start_paused = true)]
async fn the_watcher_fills_only_an_empty_tmpfs_after_a_start_it_did_not_make() {
    let engine = MemoryEngine::new();
    let c = with_secrets(&engine, "w", 3000);
    engine.add_workspace("plain", 3001);
    let present = Arc::new(AtomicBool::new(false));
    let calls = recording(&engine, present.clone());
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.drain(Duration::from_secs(1)).await;
    // Found running with an empty tmpfs when the link came up: filled, never replaced.
    let w = writes(&calls);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(w[0].0.contains("ln ") && !w[0].0.contains("mv -f"));
    assert!(w[0].1.contains("export PATH="));
    // The workspace without recorded names is left alone (not even probed).
    assert!(calls
        .lock()
        .unwrap()
        .iter()
        .all(|c| c.container == "workspace-w"));

    // The engine restarts it by itself, but something already delivered: no write.
    present.store(true, Ordering::SeqCst);
    engine.crash(&c).unwrap();
    engine.start_container(&c).await.unwrap();
    h.drain(Duration::from_secs(1)).await;
    assert_eq!(writes(&calls).len(), 1);
    let probes = |calls: &Mutex<Vec<ExecCall>>| {
        calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| c.cmd[0] == "test")
            .count()
    };
    assert_eq!(probes(&calls), 2, "probed after the start");

    // Restarted by the engine with an empty tmpfs: filled again.
    present.store(false, Ordering::SeqCst);
    engine.crash(&c).unwrap();
    engine.start_container(&c).await.unwrap();
    h.drain(Duration::from_secs(1)).await;
    assert_eq!(writes(&calls).len(), 2);
    // A stop is no start: nothing probed.
    engine.stop_container(&c, 1).await.unwrap();
    h.drain(Duration::from_secs(1)).await;
    assert_eq!(probes(&calls), 3);
}
