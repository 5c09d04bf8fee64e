use super::*;
use crate::domain::resources::Resources;
use crate::engine::EngineError;
use futures_util::StreamExt;
use std::net::IpAddr;
use std::time::Duration;

fn follow(tail: Option<usize>) -> LogOptions {
    LogOptions {
        follow: true,
        tail,
        timestamps: true,
    }
}

fn text(o: &Output) -> String {
    match o {
        Output::Stdout(b) | Output::Stderr(b) => String::from_utf8_lossy(b).to_string(),
    }
}

/// The next item, or `None` if the stream ended; panics if nothing comes in `secs`.
async fn next<T>(s: &mut BoxStream<'static, T>, secs: u64) -> Option<T> {
    tokio::time::timeout(Duration::from_secs(secs), s.next())
        .await
        .expect("stream stayed silent")
}

/// True when the stream yields nothing in `secs` (and has not ended).
async fn silent<T>(s: &mut BoxStream<'static, T>, secs: u64) -> bool {
    tokio::time::timeout(Duration::from_secs(secs), s.next())
        .await
        .is_err()
}

fn spec(name: &str, port: u16) -> ContainerSpec {
    ContainerSpec {
        env: vec![],
        tmpfs: vec![],
        binds: vec![],
        container: format!("workspace-{name}"),
        hostname: name.into(),
        image: IMAGE.into(),
        labels: BTreeMap::from([
            (labels::ROLE.into(), labels::ROLE_WORKSPACE.into()),
            (labels::NAME.into(), name.into()),
            (labels::SSH_PORT.into(), port.to_string()),
        ]),
        volume: format!("workspace-{name}"),
        mount_point: "/home/workspace".into(),
        ssh_container_port: 2222,
        ssh_host_port: Some(port),
        network: None,
        bind_address: IpAddr::from([127, 0, 0, 1]),
        resources: Resources::default(),
        runtime: None,
        platform: None,
        ports: vec![],
        workdir: None,
        init: true,
        vm: None,
    }
}

#[tokio::test(start_paused = true)]
async fn workspaces_and_sidecars_are_listed_from_labels() {
    let e = MemoryEngine::new();
    let b = e.add_workspace("beta", 3001);
    e.add_workspace("alpha", 3000);
    e.add_sidecar("beta", "proxy");
    e.add_sidecar("beta", "db");
    let list = e.list_workspaces().await.unwrap();
    let names: Vec<_> = list.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, ["alpha", "beta"], "sidecars are not workspaces");
    assert_eq!(list[1].container, b);
    assert_eq!(list[1].ssh_port, Some(3001));
    assert_eq!(list[1].state, WorkspaceState::Running);
    assert!(list[1].provision.is_ready() && list[1].started_at.is_some());
    let sc = e.sidecars("beta").await.unwrap();
    let tags: Vec<_> = sc.iter().map(|s| s.source.as_str()).collect();
    assert_eq!(tags, ["db", "proxy"]);
    assert_eq!(sc[0].container, "workspace-beta.db");
    assert!(e.sidecars("alpha").await.unwrap().is_empty());
    assert!(e.inspect_workspace("nope").await.unwrap().is_none());
    let by_id = e.inspect_workspace(&list[0].container_id).await.unwrap();
    assert_eq!(by_id.map(|w| w.name), Some("alpha".into()));
}

#[tokio::test(start_paused = true)]
async fn every_state_change_is_an_event() {
    let e = MemoryEngine::new();
    let mut ev = e.events();
    assert_eq!(e.open_streams().events, 1);
    assert!(e
        .create_volume("workspace-w", &BTreeMap::new())
        .await
        .unwrap());
    assert!(!e
        .create_volume("workspace-w", &BTreeMap::new())
        .await
        .unwrap());
    e.create_container(&spec("w", 3000)).await.unwrap();
    e.start_container("workspace-w").await.unwrap();
    e.write_file("workspace-w", "/etc/berth/provisioned", b"x\n", 0o644)
        .await
        .unwrap();
    assert_eq!(
        e.read_file("workspace-w", "/etc/berth/provisioned", 10)
            .await
            .unwrap()
            .as_deref(),
        Some(&b"x\n"[..])
    );
    assert_eq!(e.read_file("workspace-w", "/nope", 10).await.unwrap(), None);
    e.restart_container("workspace-w", 1).await.unwrap();
    e.stop_container("workspace-w", 1).await.unwrap();
    e.stop_container("workspace-w", 1).await.unwrap(); // already stopped: no event
    e.remove_container("workspace-w").await.unwrap();
    e.remove_container("workspace-w").await.unwrap(); // gone: fine, no event
    let mut actions = Vec::new();
    while let Some(Ok(x)) = next(&mut ev, 1).await {
        assert_eq!(
            (x.name.as_str(), x.container.as_str()),
            ("w", "workspace-w")
        );
        actions.push(x.action);
        if actions.len() == 12 {
            break;
        }
    }
    assert_eq!(
        actions,
        [
            "create",
            "start",
            "extract-to-dir",
            "kill",
            "die",
            "stop",
            "start",
            "restart",
            "kill",
            "die",
            "stop",
            "destroy"
        ]
    );
    assert!(silent(&mut ev, 5).await);
    assert!(e.volume_exists("workspace-w").await.unwrap());
    e.remove_volume("workspace-w").await.unwrap();
    assert!(!e.volume_exists("workspace-w").await.unwrap());
    drop(ev);
    assert_eq!(e.open_streams(), OpenStreams::default());
}

#[tokio::test(start_paused = true)]
async fn refusals_read_like_the_engines() {
    let e = MemoryEngine::new();
    e.create_container(&spec("w", 3000)).await.unwrap();
    let dup = e.create_container(&spec("w", 3000)).await.unwrap_err();
    assert!(matches!(dup, EngineError::Conflict(ref m) if m.contains("already in use")));
    let mut bad = spec("x", 3001);
    bad.image = "nope:1".into();
    assert!(e.create_container(&bad).await.unwrap_err().is_not_found());
    assert!(e.start_container("ghost").await.unwrap_err().is_not_found());
    assert!(matches!(
        e.remove_volume("workspace-w").await,
        Err(EngineError::Conflict(_))
    ));
    // A host port held outside the engine, then by another container.
    e.occupy_port(3000);
    let taken = e.start_container("workspace-w").await.unwrap_err();
    assert!(matches!(taken, EngineError::PortTaken(ref m) if m.contains("3000")));
    e.free_port(3000);
    e.start_container("workspace-w").await.unwrap();
    e.create_container(&spec("v", 3000)).await.unwrap();
    assert!(matches!(
        e.start_container("workspace-v").await,
        Err(EngineError::PortTaken(_))
    ));
    let w = e.inspect_workspace("workspace-v").await.unwrap().unwrap();
    assert_eq!(w.state, WorkspaceState::Created);
    assert!(
        w.provision.is_ready(),
        "no provision label: made before markers"
    );
}

#[tokio::test(start_paused = true)]
async fn injected_failures_hit_the_next_call_only_and_calls_are_counted() {
    let e = MemoryEngine::new();
    e.add_workspace("w", 3000);
    e.fail_next(Op::ListWorkspaces, EngineError::Api("boom".into()));
    e.fail_next(
        Op::StartContainer,
        EngineError::PortTaken("port is already allocated".into()),
    );
    assert!(matches!(e.list_workspaces().await, Err(EngineError::Api(ref m)) if m == "boom"));
    assert_eq!(e.list_workspaces().await.unwrap().len(), 1);
    assert!(matches!(
        e.start_container("workspace-w").await,
        Err(EngineError::PortTaken(_))
    ));
    e.start_container("workspace-w").await.unwrap();
    assert_eq!(e.calls(Op::ListWorkspaces), 2);
    assert_eq!(e.calls(Op::StartContainer), 2);
    assert_eq!(e.calls(Op::StopContainer), 0);
    e.fail_next(Op::Stats, EngineError::Api("no stats".into()));
    let mut s = e.stats("workspace-w");
    assert!(matches!(
        next(&mut s, 1).await,
        Some(Err(EngineError::Api(_)))
    ));
    assert!(next(&mut s, 1).await.is_none());
    assert_eq!(e.open_streams().stats, 0, "an ended stream is not open");
}

#[tokio::test(start_paused = true)]
async fn an_outage_fails_calls_and_ends_open_streams() {
    let e = MemoryEngine::new();
    let c = e.add_workspace("w", 3000);
    let mut ev = e.events();
    let mut logs = e.logs(&c, follow(None));
    let mut st = e.stats(&c);
    assert!(next(&mut st, 2).await.unwrap().is_ok());
    assert_eq!(
        e.open_streams(),
        OpenStreams {
            logs: 1,
            stats: 1,
            events: 1
        }
    );
    e.go_down("connection refused");
    assert!(!e.is_up());
    let err = e.list_workspaces().await.unwrap_err();
    assert!(err.is_unreachable());
    assert!(err.to_string().contains("connection refused"), "{err}");
    for r in [
        next(&mut ev, 1).await.map(|r| r.map(|_| ())),
        next(&mut logs, 1).await.map(|r| r.map(|_| ())),
        next(&mut st, 1).await.map(|r| r.map(|_| ())),
    ] {
        assert!(
            matches!(r, Some(Err(EngineError::Unreachable { .. }))),
            "{r:?}"
        );
    }
    assert!(next(&mut ev, 1).await.is_none());
    assert!(next(&mut logs, 1).await.is_none());
    assert!(next(&mut st, 1).await.is_none());
    assert_eq!(e.open_streams(), OpenStreams::default());
    // Opened while down: the error first, then the end.
    let mut ev = e.events();
    assert!(matches!(next(&mut ev, 1).await, Some(Err(_))));
    e.come_up();
    assert_eq!(e.list_workspaces().await.unwrap().len(), 1);
    assert!(
        next(&mut ev, 1).await.is_none(),
        "streams do not survive an outage"
    );
    // A blip between two polls still ends a stream opened before it.
    let mut ev = e.events();
    e.go_down("blip");
    e.come_up();
    assert!(matches!(next(&mut ev, 1).await, Some(Err(_))));
}

#[tokio::test(start_paused = true)]
async fn logs_tail_follow_and_end_when_the_container_stops() {
    let e = MemoryEngine::new();
    let c = e.add_workspace("w", 3000);
    e.log(&c, "one\ntwo\nthree").unwrap();
    e.log_stderr(&c, "oops").unwrap();
    let mut s = e.logs(&c, follow(Some(2)));
    let first = text(&next(&mut s, 1).await.unwrap().unwrap());
    assert!(first.ends_with(" three\n"), "{first:?}");
    let (ts, _) = first.split_once(' ').unwrap();
    assert_eq!(ts.len(), "2026-01-01T00:00:00.000000000Z".len());
    assert!(ts.starts_with("2026-01-01T") && ts.ends_with('Z'), "{ts}");
    assert!(matches!(next(&mut s, 1).await, Some(Ok(Output::Stderr(_)))));
    assert!(silent(&mut s, 10).await, "following waits for new lines");
    tokio::time::advance(Duration::from_secs(1)).await;
    e.log(&c, "four").unwrap();
    let four = text(&next(&mut s, 1).await.unwrap().unwrap());
    assert!(four.ends_with(" four\n") && four.as_str() > first.as_str());
    // Lines before the stop are delivered, then the stream ends.
    e.log(&c, "last words").unwrap();
    e.stop_container(&c, 1).await.unwrap();
    let last = text(&next(&mut s, 1).await.unwrap().unwrap());
    assert!(last.ends_with("last words\n"));
    assert!(next(&mut s, 1).await.is_none());
    assert_eq!(e.open_streams().logs, 0);
    // A stopped container: everything, then the end; without timestamps, bare text.
    let plain = LogOptions {
        follow: true,
        tail: None,
        timestamps: false,
    };
    let mut s = e.logs(&c, plain);
    let mut all = Vec::new();
    while let Some(r) = next(&mut s, 1).await {
        all.push(text(&r.unwrap()));
    }
    assert_eq!(
        all,
        [
            "one\n",
            "two\n",
            "three\n",
            "oops\n",
            "four\n",
            "last words\n"
        ]
    );
    assert!(matches!(
        next(&mut e.logs("ghost", plain), 1).await,
        Some(Err(EngineError::NotFound { .. }))
    ));
}

#[tokio::test(start_paused = true)]
async fn a_follow_stream_belongs_to_one_run_of_the_container() {
    let e = MemoryEngine::new();
    let c = e.add_workspace("w", 3000);
    let mut s = e.logs(&c, follow(None));
    e.log(&c, "before").unwrap();
    // Stopped and started again before the stream looks: it still ends.
    e.restart_container(&c, 1).await.unwrap();
    e.log(&c, "after").unwrap();
    assert!(text(&next(&mut s, 1).await.unwrap().unwrap()).ends_with("before\n"));
    assert!(next(&mut s, 1).await.is_none());
    let mut s = e.logs(&c, follow(Some(1)));
    assert!(text(&next(&mut s, 1).await.unwrap().unwrap()).ends_with("after\n"));
    assert!(silent(&mut s, 3).await);
    e.remove_container(&c).await.unwrap();
    assert!(next(&mut s, 1).await.is_none(), "removal ends the stream");
}

#[tokio::test(start_paused = true)]
async fn stats_come_once_a_second_of_tokio_time() {
    let e = MemoryEngine::new();
    let c = e.add_workspace("w", 3000);
    let want = Stats {
        cpu_percent: 42.0,
        mem_bytes: 1 << 20,
        mem_limit: 1 << 30,
        pids: 7,
    };
    e.set_stats(&c, want).unwrap();
    let t0 = tokio::time::Instant::now();
    let mut s = e.stats(&c);
    for i in 1..=3u64 {
        assert_eq!(next(&mut s, 2).await.unwrap().unwrap(), want);
        assert_eq!(t0.elapsed(), Duration::from_secs(i));
    }
    e.stop_container(&c, 1).await.unwrap();
    assert_eq!(next(&mut s, 2).await.unwrap().unwrap(), Stats::default());
    assert_eq!(
        t0.elapsed(),
        Duration::from_secs(4),
        "a change is not a sample"
    );
    let other = e.stats(&c);
    assert_eq!(e.open_streams().stats, 2);
    drop(other);
    assert_eq!(e.open_streams().stats, 1, "a dropped stream is closed");
    e.remove_container(&c).await.unwrap();
    assert!(next(&mut s, 2).await.is_none());
    assert!(matches!(
        next(&mut e.stats("ghost"), 1).await,
        Some(Err(EngineError::NotFound { .. }))
    ));
}

#[tokio::test(start_paused = true)]
async fn exec_is_scripted_by_the_test() {
    let e = MemoryEngine::new();
    let c = e.add_workspace("w", 3000);
    e.set_exec_handler(|call| match call.cmd.first().map(String::as_str) {
        Some("cat") => ExecReply {
            stdout: call.stdin.clone(),
            ..Default::default()
        },
        Some("sleep") => ExecReply {
            takes: Duration::from_secs(60),
            ..Default::default()
        },
        _ => ExecReply {
            stderr: b"nope\n".to_vec(),
            exit_code: 127,
            ..Default::default()
        },
    });
    let cat = ExecRequest {
        cmd: vec!["cat".into()],
        stdin: Some(Box::new(std::io::Cursor::new(b"secret".to_vec()))),
        ..Default::default()
    };
    let (o, out, err) = crate::engine::exec_collect(&e, &c, cat).await.unwrap();
    assert_eq!(
        (o.exit_code, out.as_slice(), err.len()),
        (0, &b"secret"[..], 0)
    );
    let bad = ExecRequest {
        cmd: vec!["frob".into()],
        ..Default::default()
    };
    let (o, _, err) = crate::engine::exec_collect(&e, &c, bad).await.unwrap();
    assert_eq!((o.exit_code, err.as_slice()), (127, &b"nope\n"[..]));
    let slow = ExecRequest {
        cmd: vec!["sleep".into()],
        timeout: Some(Duration::from_secs(5)),
        ..Default::default()
    };
    let t0 = tokio::time::Instant::now();
    let (o, _, _) = crate::engine::exec_collect(&e, &c, slow).await.unwrap();
    assert!(o.timed_out && o.exit_code == 124);
    assert_eq!(t0.elapsed(), Duration::from_secs(5));
    e.stop_container(&c, 1).await.unwrap();
    let r = crate::engine::exec_collect(&e, &c, ExecRequest::default()).await;
    assert!(matches!(r, Err(EngineError::Conflict(ref m)) if m.contains("not running")));
    assert_eq!(e.calls(Op::Exec), 4);
}

#[tokio::test(start_paused = true)]
async fn build_makes_the_image_present() {
    let e = MemoryEngine::new();
    assert!(e.image_present(IMAGE).await.unwrap());
    assert!(!e.image_present("mine:1").await.unwrap());
    let (tx, mut rx) = mpsc::channel(8);
    let build = crate::engine::ImageBuild {
        tag: "mine:1".into(),
        args: Default::default(),
        labels: Default::default(),
        platform: None,
    };
    e.build_image(vec![0; 1024], &build, tx).await.unwrap();
    assert!(rx.recv().await.unwrap().contains("1024 bytes"));
    assert!(rx.recv().await.unwrap().contains("mine:1"));
    assert!(e.image_present("mine:1").await.unwrap());
    let info = e.info().await.unwrap();
    assert_eq!(info.endpoint, ENDPOINT);
    assert_eq!(info.platform, "linux/amd64");
    // A build for another platform makes an image of it, which a container of the
    // engine's platform cannot run (the engine refuses, as Docker does).
    let (tx, _rx) = mpsc::channel(8);
    let arm = crate::engine::ImageBuild {
        tag: "mine:1-arm64".into(),
        platform: Some("linux/arm64".into()),
        ..Default::default()
    };
    e.build_image(vec![], &arm, tx).await.unwrap();
    let i = e.image_info("mine:1-arm64").await.unwrap().unwrap();
    assert_eq!((i.os.as_str(), i.architecture.as_str()), ("linux", "arm64"));
    assert_eq!(
        e.image_info("mine:1").await.unwrap().unwrap().architecture,
        "amd64"
    );
}
