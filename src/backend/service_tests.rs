//! The backend service (`service::spawn`) over the in-memory engine, in tokio's
//! paused time: followers, outages, ordering, debounce, logs and jobs.
use super::service::{Command, Event, JobUpdate};
use super::test_support::{log_lines, Harness};
use crate::domain::workspace::WorkspaceState;
use crate::engine::memory::{MemoryEngine, Op, OpenStreams};
use crate::engine::Engine;
use std::time::Duration;

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

#[tokio::test(start_paused = true)]
async fn walking_fifty_rows_leaves_one_follower() {
    let engine = MemoryEngine::new();
    for i in 0..50u16 {
        let name = format!("w{i:02}");
        engine.add_workspace(&name, 3000 + i);
        if i % 7 == 0 {
            engine.add_sidecar(&name, "proxy");
        }
    }
    engine.add_sidecar("w49", "db");
    engine.add_sidecar("w49", "proxy");
    let mut h = Harness::start(&engine);
    h.connected().await;
    // Down the list and back up, a moment on each row (like a person with `j`/`k`).
    let rows: Vec<u16> = (0..50).chain((0..50).rev()).chain(49..50).collect();
    for i in rows {
        h.send(Command::Select(Some(format!("w{i:02}"))));
        h.drain(ms(30)).await;
    }
    let settled = h.drain(Duration::from_secs(5)).await;
    assert_eq!(
        engine.open_streams(),
        OpenStreams {
            logs: 3,
            stats: 1,
            // The watcher's, and the egress counters' (proxy workspaces come and go).
            events: 2
        },
        "one follower: w49's log, its two sidecars' logs and its stats; the watcher's and the egress counters' events"
    );
    let stats_for: Vec<&str> = settled
        .iter()
        .filter_map(|e| match e {
            Event::Stats { name, .. } => Some(name.as_str()),
            _ => None,
        })
        .collect();
    assert!(stats_for.len() >= 4, "{stats_for:?}");
    assert!(stats_for.iter().all(|n| *n == "w49"), "{stats_for:?}");
    h.send(Command::Select(None));
    h.drain(Duration::from_secs(3)).await;
    assert_eq!(
        engine.open_streams(),
        OpenStreams {
            logs: 0,
            stats: 0,
            events: 2
        }
    );
}

#[tokio::test(start_paused = true)]
async fn an_outage_is_reported_retried_with_backoff_and_resynced() {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("api", 3000);
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.send(Command::Select(Some("api".into())));
    engine.log(&c, "before the outage").unwrap();
    h.wait_for(5, "the first log line", |e| {
        matches!(e, Event::Logs { .. }).then_some(())
    })
    .await;

    let calls_before = engine.calls(Op::Logs) + engine.calls(Op::Stats) + engine.calls(Op::Info);
    engine.go_down("connection refused");
    let mut retries = Vec::new();
    let mut at = Vec::new();
    while retries.len() < 7 {
        let (reason, retry_in) = h
            .wait_for(10, "Disconnected", |e| match e {
                Event::Disconnected {
                    reason, retry_in, ..
                } => Some((reason.clone(), *retry_in)),
                _ => None,
            })
            .await;
        assert!(reason.contains("connection refused"), "{reason}");
        retries.push(retry_in);
        at.push(tokio::time::Instant::now());
    }
    let want: Vec<Duration> = [500, 1000, 2000, 4000, 5000, 5000, 5000]
        .into_iter()
        .map(ms)
        .collect();
    assert_eq!(retries, want);
    for (i, pair) in at.windows(2).enumerate() {
        assert_eq!(
            pair[1] - pair[0],
            want[i],
            "each retry waits what it announced"
        );
    }
    // Nothing hammers the dead engine meanwhile: the follower backs off too.
    let calls = engine.calls(Op::Logs) + engine.calls(Op::Stats) + engine.calls(Op::Info);
    assert!(calls - calls_before < 25, "{} calls", calls - calls_before);

    engine.come_up();
    // Seen at the next retry, at most 5 s away.
    let back = h.drain(Duration::from_secs(6)).await;
    let link: Vec<&Event> = back
        .iter()
        .filter(|e| matches!(e, Event::Connected { .. } | Event::Workspaces(_)))
        .collect();
    assert!(
        matches!(
            link.as_slice(),
            [Event::Connected { endpoint }, Event::Workspaces(ws)]
                if endpoint == "memory://berth" && ws.len() == 1
        ),
        "{link:?}"
    );
    // The follower starts over for the selected workspace.
    assert!(back
        .iter()
        .any(|e| matches!(e, Event::LogsReset { name } if name == "api")));
    engine.log(&c, "after the outage").unwrap();
    let lines = h
        .wait_for(5, "the new line", |e| {
            let l = log_lines(std::slice::from_ref(e), "api");
            l.iter().any(|(_, t)| t == "after the outage").then_some(l)
        })
        .await;
    assert!(!lines.is_empty());
    h.wait_for(5, "stats again", |e| {
        matches!(e, Event::Stats { name, .. } if name == "api").then_some(())
    })
    .await;
    // Events after the reconnect arrive, and the list follows them.
    engine.stop_container(&c, 1).await.unwrap();
    h.wait_for(5, "the stop event", |e| {
        matches!(e, Event::Engine(ev) if ev.action == "stop").then_some(())
    })
    .await;
    let ws = h
        .wait_for(5, "the list after the stop", |e| match e {
            Event::Workspaces(ws) => Some(ws.clone()),
            _ => None,
        })
        .await;
    assert_eq!(ws[0].state, WorkspaceState::Stopped);
    h.drain(Duration::from_secs(2)).await;
    assert_eq!(
        engine.open_streams(),
        OpenStreams {
            logs: 0,
            stats: 1,
            events: 3
        },
        "the watcher's events, the egress counters' and the follower waiting for api to start again"
    );
}

#[tokio::test(start_paused = true)]
async fn connected_comes_first_and_a_burst_is_one_list() {
    let engine = MemoryEngine::new();
    let names: Vec<String> = (0..5u16)
        .map(|i| engine.add_workspace(&format!("w{i}"), 3000 + i))
        .collect();
    let mut h = Harness::start(&engine);
    // (The runtime checks report on their own schedule.)
    let first: Vec<Event> = h
        .drain(ms(100))
        .await
        .into_iter()
        .filter(|e| {
            !matches!(
                e,
                Event::Runtimes(_) | Event::VolumeSizes(_) | Event::Alerts(_)
            )
        })
        .collect();
    assert!(
        matches!(
            first.as_slice(),
            [Event::Connected { .. }, Event::Workspaces(w)] if w.len() == 5
        ),
        "{first:?}"
    );
    // The watcher's list, the egress counters' (which proxy workspaces there are)
    // and the alerts task's (the sizes already measured).
    assert_eq!(engine.calls(Op::ListWorkspaces), 3);
    // Noise alone does not list again.
    engine.emit(&names[0], "exec_start: sh -c true");
    engine.emit(&names[0], "exec_die");
    let noise = h.drain(Duration::from_secs(1)).await;
    assert_eq!(noise.len(), 2, "{noise:?}");
    assert_eq!(engine.calls(Op::ListWorkspaces), 3);
    // A burst: 30 state changes at once.
    for i in 0..30 {
        engine.emit(&names[i % 5], if i % 2 == 0 { "die" } else { "start" });
    }
    let burst = h.drain(Duration::from_secs(1)).await;
    let engine_events = burst
        .iter()
        .filter(|e| matches!(e, Event::Engine(_)))
        .count();
    let lists = burst
        .iter()
        .filter(|e| matches!(e, Event::Workspaces(_)))
        .count();
    assert_eq!(engine_events, 30, "{burst:?}");
    assert_eq!(lists, 1);
    // One more by the watcher; state changes do not make the egress counters list.
    assert_eq!(engine.calls(Op::ListWorkspaces), 4);
    assert!(matches!(burst.last(), Some(Event::Workspaces(_))));
}

#[tokio::test(start_paused = true)]
async fn logs_resume_after_a_restart_without_repeats_and_sidecars_are_tagged() {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("api", 3000);
    let proxy = engine.add_sidecar("api", "proxy");
    engine.log(&c, "one\ntwo").unwrap();
    engine.log_stderr(&proxy, "proxy up").unwrap();
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.send(Command::Select(Some("api".into())));
    let before = h.drain(Duration::from_secs(2)).await;
    let mut got = log_lines(&before, "api");
    got.sort();
    assert_eq!(
        got,
        [
            ("proxy".to_string(), "proxy up".to_string()),
            ("workspace".into(), "one".into()),
            ("workspace".into(), "two".into()),
        ]
    );
    engine.log_unterminated(&c, "three, no newline").unwrap();
    engine.restart_container(&c, 1).await.unwrap();
    engine.log(&c, "four, after the restart").unwrap();
    let after = h.drain(Duration::from_secs(5)).await;
    assert_eq!(
        log_lines(&after, "api"),
        [
            ("workspace".to_string(), "three, no newline".to_string()),
            ("workspace".into(), "four, after the restart".into()),
        ]
    );
    // Stopped: nothing is polled; started again: only the new lines.
    engine.crash(&c).unwrap();
    h.drain(Duration::from_secs(2)).await;
    let opened = engine.calls(Op::Logs);
    h.drain(Duration::from_secs(60)).await;
    assert_eq!(
        engine.calls(Op::Logs),
        opened,
        "a stopped container is not polled"
    );
    engine.start_container(&c).await.unwrap();
    engine.log(&c, "five").unwrap();
    let again = h.drain(Duration::from_secs(3)).await;
    assert_eq!(
        log_lines(&again, "api"),
        [("workspace".to_string(), "five".to_string())]
    );
}

/// A loopback listener that greets like sshd, so `start` sees the workspace answer.
async fn fake_sshd() -> u16 {
    let l = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("loopback listener");
    let port = l.local_addr().expect("local addr").port();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = l.accept().await {
            use tokio::io::AsyncWriteExt;
            let _ = s.write_all(b"SSH-2.0-OpenSSH_9.2 berth-test\r\n").await;
        }
    });
    port
}

/// Sends a job and waits for its end (Done or Failed).
async fn job(h: &mut Harness, cmd: Command) -> JobUpdate {
    let id = match &cmd {
        Command::Create { job, .. }
        | Command::Start { job, .. }
        | Command::Stop { job, .. }
        | Command::Restart { job, .. }
        | Command::Delete { job, .. } => *job,
        other => panic!("{other:?} is not a job"),
    };
    h.send(cmd);
    h.wait_for(30, "the job's end", |e| match e {
        Event::Job { job, update } if *job == id && !matches!(update, JobUpdate::Progress(_)) => {
            Some(update.clone())
        }
        _ => None,
    })
    .await
}

fn failed(u: JobUpdate) -> String {
    match u {
        JobUpdate::Failed(m) => m,
        other => panic!("the job did not fail: {other:?}"),
    }
}

#[tokio::test(start_paused = true)]
async fn jobs_end_with_a_sentence() {
    let engine = MemoryEngine::new();
    let port = fake_sshd().await;
    let c = engine.add_workspace("api", port);
    let d = engine.add_workspace("db", 3001);
    let mut h = Harness::start(&engine);
    h.connected().await;
    let stop = |job: u64, name: &str| Command::Stop {
        job,
        name: name.into(),
    };
    let start = |job: u64, name: &str| Command::Start {
        job,
        name: name.into(),
    };
    assert_eq!(
        job(&mut h, stop(1, "api")).await,
        JobUpdate::Done("stopped api".into())
    );
    let w = engine.inspect_workspace(&c).await.unwrap().unwrap();
    assert_eq!(w.state, WorkspaceState::Stopped);
    assert_eq!(
        job(&mut h, start(2, "api")).await,
        JobUpdate::Done("started api".into())
    );
    assert_eq!(
        failed(job(&mut h, start(3, "ghost")).await),
        "no workspace named ghost; `berth list` shows the workspaces there are"
    );
    // Someone else took db's port while it was stopped.
    engine.stop_container(&d, 1).await.unwrap();
    engine.occupy_port(3001);
    let msg = failed(job(&mut h, start(4, "db")).await);
    assert!(
        msg.starts_with("host port taken:") && msg.contains("3001"),
        "{msg}"
    );
    let delete = Command::Delete {
        job: 5,
        name: "api".into(),
        keep_volume: false,
    };
    assert_eq!(
        job(&mut h, delete).await,
        JobUpdate::Done("deleted api".into())
    );
    assert_eq!(engine.containers(), std::slice::from_ref(&d));
    assert!(!engine.volume_exists(&c).await.unwrap());

    engine.go_down("the daemon is restarting");
    let msg = failed(job(&mut h, stop(6, "db")).await);
    assert!(
        msg.starts_with(
            "cannot reach the container engine at memory://berth (the daemon is restarting)"
        ),
        "{msg}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_job_sent_before_the_first_connection_waits_for_it() {
    // A user can press a key before berth has reached the engine.
    let engine = MemoryEngine::new();
    engine.add_workspace("api", 3000);
    engine.go_down("dockerd is starting");
    let mut h = Harness::start(&engine);
    let stop = Command::Stop {
        job: 1,
        name: "api".into(),
    };
    h.send(stop);
    tokio::time::sleep(Duration::from_secs(5)).await;
    engine.come_up();
    let end = h
        .wait_for(30, "the job's end", |e| match e {
            Event::Job { job: 1, update } if !matches!(update, JobUpdate::Progress(_)) => {
                Some(update.clone())
            }
            _ => None,
        })
        .await;
    assert_eq!(end, JobUpdate::Done("stopped api".into()));
    // With no engine at all, it fails after a while with what to do.
    let down = MemoryEngine::new();
    down.go_down("no dockerd");
    let mut h = Harness::start(&down);
    h.send(Command::Start {
        job: 2,
        name: "api".into(),
    });
    let why = failed(
        h.wait_for(60, "the job's end", |e| match e {
            Event::Job { job: 2, update } if !matches!(update, JobUpdate::Progress(_)) => {
                Some(update.clone())
            }
            _ => None,
        })
        .await,
    );
    assert!(
        why.contains("not reachable") && why.contains("start it"),
        "{why}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_delete_plan_names_the_sidecars_that_go_with_the_workspace() {
    let engine = MemoryEngine::new();
    engine.add_workspace("api", 2201);
    engine.add_sidecar("api", "db");
    let mut h = Harness::start(&engine);
    h.connected().await;
    for name in ["api", "Bad_Name"] {
        h.send(Command::PlanDelete { name: name.into() });
        let owned = h
            .wait_for(5, "DeletePlan", |e| match e {
                Event::DeletePlan { name: n, owned } if n == name => Some(owned.clone()),
                _ => None,
            })
            .await;
        match (name, owned) {
            ("api", Ok(o)) => assert_eq!(o.sidecars, [("db".into(), "workspace-api.db".into())]),
            ("Bad_Name", Err(why)) => assert!(why.contains("lowercase"), "{why}"),
            (n, o) => panic!("{n}: {o:?}"),
        }
    }
}
