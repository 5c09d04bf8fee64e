//! Docker inside a workspace over the in-memory engine: the create step and its
//! rollback, the start-over, status, start repairing a stopped sidecar, and
//! `image load`'s streaming and its refusals.
use super::load::load;
use crate::backend::create::{create, CreateError, CreateOutcome, CreateRequest, CreateSpec};
use crate::backend::create_tests::{request, rig, Rig};
use crate::backend::images::DEFAULT_BASE;
use crate::backend::{lifecycle, Ctx, Progress};
use crate::domain::dind;
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::engine::memory::{dind as mem, ExecCall, ExecReply, MemoryEngine, Op};
use crate::engine::{Engine, EngineError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

fn docker_request(ctx: &Ctx, name: &str) -> CreateRequest {
    let mut r = request(ctx, name, None);
    let spec = CreateSpec {
        name: name.into(),
        docker: true,
        ..Default::default()
    };
    r.spec = crate::backend::create::workspace_spec(&ctx.config, spec, []).unwrap();
    r
}

async fn create_docker(r: &Rig, name: &str) -> Result<CreateOutcome, CreateError> {
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, docker_request(&r.ctx, name), &|_| {}, rx).await
}

fn n(s: &str) -> WorkspaceName {
    WorkspaceName::parse(s).unwrap()
}

async fn sidecar_running(e: &MemoryEngine, ws: &str) -> Option<bool> {
    e.sidecars(ws)
        .await
        .unwrap()
        .iter()
        .find(|s| s.source == dind::KIND)
        .map(|s| s.running)
}

#[tokio::test(start_paused = true)]
async fn without_the_engine_image_or_its_base_a_docker_create_is_refused_first() {
    let r = rig((47110, 47111), Duration::ZERO);
    let err = create_docker(&r, "nobase").await.unwrap_err();
    let CreateError::Refused(m) = &err else {
        panic!("{err}")
    };
    assert!(
        m.contains(DEFAULT_BASE) && m.contains("berth image build --docker"),
        "{m}"
    );
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.volume_labels("workspace-nobase").is_none());
}

#[tokio::test(start_paused = true)]
async fn a_docker_create_builds_the_image_and_starts_a_joined_sidecar_with_the_cli_inside() {
    let r = rig((47120, 47121), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    let mut cfg = r.ctx.config.clone();
    cfg.docker.registry_mirror = Some("http://127.0.0.1:5999".into());
    let ctx = Ctx::with_store(
        r.ctx.engine.clone(),
        cfg,
        r.ctx.paths.clone(),
        r.ctx.store.clone(),
    );
    let (_tx, rx) = watch::channel(false);
    let notes = Mutex::new(Vec::new());
    let report = |p: Progress| {
        if let Progress::Note(t) = p {
            notes.lock().unwrap().push(t);
        }
    };
    let out = create(&ctx, docker_request(&ctx, "dk"), &report, rx)
        .await
        .unwrap();
    let CreateOutcome::Created(w) = out else {
        panic!("{out:?}")
    };
    assert!(r
        .engine
        .image_present(&super::image::IMAGE.tag())
        .await
        .unwrap());
    // The workspace names its sidecar, has DOCKER_HOST, and got the CLI.
    assert_eq!(w.labels[dind::LABEL], "workspace-dk.docker");
    let cli = r
        .engine
        .read_file("workspace-dk", "/usr/local/bin/docker", 100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cli, b"copied from workspace-dk.docker:/usr/bin/docker");
    let env = r
        .engine
        .read_file("workspace-dk", "/etc/berth/env", 10_000)
        .await
        .unwrap()
        .unwrap();
    let env = String::from_utf8_lossy(&env);
    assert!(
        env.contains("DOCKER_HOST") && env.contains(dind::DOCKER_HOST),
        "{env}"
    );
    // The sidecar and its volume: labelled as the workspace's, joining its network.
    assert_eq!(sidecar_running(&r.engine, "dk").await, Some(true));
    let x = r.engine.extras("workspace-dk.docker").unwrap();
    assert_eq!(x.joins.as_deref(), Some("workspace-dk"));
    assert!(x
        .args
        .windows(2)
        .any(|a| a == ["--registry-mirror", "http://127.0.0.1:5999"]));
    let vol = r.engine.volume_labels("workspace-dk.docker").unwrap();
    assert_eq!(vol[labels::ROLE], labels::ROLE_SIDECAR);
    assert_eq!(vol[labels::NAME], "dk");
    assert_eq!(vol[labels::NETNS], labels::NETNS_WORKSPACE);
    let notes = notes.lock().unwrap().join("\n");
    assert!(
        notes.contains("PRIVILEGED") && notes.contains("SYS_RESOURCE"),
        "{notes}"
    );
    // Status says so, with the sidecar's state.
    let d = super::inside(&ctx, &w).await.unwrap();
    assert_eq!((d.privileged, d.running), (true, Some(true)));
}

#[tokio::test(start_paused = true)]
async fn a_sidecar_that_fails_is_rolled_back_with_its_volume() {
    let r = rig((47130, 47131), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    r.engine.fail_next(
        Op::CreateDockerSidecar,
        EngineError::Api("unable to apply caps: operation not permitted".into()),
    );
    let err = create_docker(&r, "bad").await.unwrap_err();
    let CreateError::StepFailed {
        step,
        reason,
        cleanup,
        ..
    } = &err
    else {
        panic!("{err}")
    };
    assert_eq!(step, "docker");
    assert!(reason.contains("unable to apply caps"), "{reason}");
    assert!(cleanup.contains("volume workspace-bad.docker"), "{cleanup}");
    assert!(
        r.engine.containers().is_empty(),
        "{:?}",
        r.engine.containers()
    );
    assert!(r.engine.volume_labels("workspace-bad.docker").is_none());
    assert!(r.engine.volume_labels("workspace-bad").is_none());
}

#[tokio::test(start_paused = true)]
async fn an_engine_that_never_answers_fails_the_step_with_its_log_and_leaves_nothing() {
    let r = rig((47140, 47141), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    r.engine.set_exec_handler(|c: &ExecCall| {
        if c.cmd.first().map(String::as_str) == Some("docker") {
            ExecReply {
                exit_code: 1,
                stderr: b"Cannot connect to the Docker daemon".to_vec(),
                ..Default::default()
            }
        } else if c.cmd.join(" ").starts_with("cat ") {
            ExecReply {
                stdout: b"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm h\n".to_vec(),
                ..Default::default()
            }
        } else {
            ExecReply::default()
        }
    });
    let ctx = r.ctx.clone();
    let engine = r.engine.clone();
    // Its log says why (written once the sidecar exists).
    let logger = tokio::spawn(async move {
        loop {
            if engine
                .log("workspace-slow.docker", "failed to start daemon: boom")
                .is_ok()
            {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    let (_tx, rx) = watch::channel(false);
    let err = create(&ctx, docker_request(&ctx, "slow"), &|_| {}, rx)
        .await
        .unwrap_err();
    logger.abort();
    let CreateError::StepFailed { step, reason, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(step, "docker");
    assert!(
        reason.contains("did not answer within 90s") && reason.contains("boom"),
        "{reason}"
    );
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.volume_labels("workspace-slow.docker").is_none());
}

#[tokio::test(start_paused = true)]
async fn start_brings_back_a_sidecar_that_did_not_come_back_with_its_workspace() {
    let r = rig((47150, 47151), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    create_docker(&r, "back").await.unwrap();
    // As after an engine restart: the workspace came back, its sidecar did not.
    r.engine
        .stop_container("workspace-back.docker", 0)
        .await
        .unwrap();
    lifecycle::start(&r.ctx, &n("back"), &|_| {}).await.unwrap();
    assert_eq!(sidecar_running(&r.engine, "back").await, Some(true));
    // Stop takes it down first; a sidecar cannot start without its workspace.
    lifecycle::stop(&r.ctx, &n("back"), &|_| {}).await.unwrap();
    assert_eq!(sidecar_running(&r.engine, "back").await, Some(false));
    // (The memory engine closes the stopped workspace's port in a task of its own.)
    tokio::time::sleep(Duration::from_millis(10)).await;
    let e = r
        .engine
        .start_container("workspace-back.docker")
        .await
        .unwrap_err();
    assert!(e.to_string().contains("non running container"), "{e}");
    lifecycle::start(&r.ctx, &n("back"), &|_| {}).await.unwrap();
    assert_eq!(sidecar_running(&r.engine, "back").await, Some(true));
}

#[tokio::test(start_paused = true)]
async fn start_restarts_a_sidecar_left_in_a_dead_network_namespace() {
    let r = rig((47190, 47191), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    create_docker(&r, "ns").await.unwrap();
    let answer = |same: bool| {
        move |c: &ExecCall| {
            let ns = if same || c.container.ends_with(".docker") {
                "net:[1]"
            } else {
                "net:[2]"
            };
            ExecReply {
                stdout: if c.cmd.first().map(String::as_str) == Some("readlink") {
                    ns.as_bytes().to_vec()
                } else {
                    Vec::new()
                },
                ..Default::default()
            }
        }
    };
    r.engine.set_exec_handler(answer(true));
    let before = r.engine.calls(Op::RestartContainer);
    lifecycle::start(&r.ctx, &n("ns"), &|_| {}).await.unwrap();
    assert_eq!(
        r.engine.calls(Op::RestartContainer),
        before,
        "same namespace"
    );
    r.engine.set_exec_handler(answer(false));
    let notes = Mutex::new(Vec::new());
    let report = |p: Progress| {
        if let Progress::Note(t) = p {
            notes.lock().unwrap().push(t);
        }
    };
    lifecycle::start(&r.ctx, &n("ns"), &report).await.unwrap();
    assert_eq!(r.engine.calls(Op::RestartContainer), before + 1);
    assert!(notes
        .lock()
        .unwrap()
        .join("\n")
        .contains("restarted without it"));
}

#[tokio::test(start_paused = true)]
async fn starting_over_removes_the_old_sidecar_and_reuses_its_volume() {
    let r = rig((47160, 47161), Duration::from_secs(3600));
    r.engine.add_image(DEFAULT_BASE);
    let ctx = r.ctx.clone();
    let (_tx, rx) = watch::channel(false);
    let task = tokio::spawn(async move {
        let mut req = docker_request(&ctx, "again");
        req.spec.post_start = Some("sleep 3600".into());
        create(&ctx, req, &|_| {}, rx).await
    });
    // Dies at post-start (as with SIGKILL: no rollback runs), its sidecar made.
    for _ in 0..2000 {
        let recs = r.ctx.store.provisioning().await.unwrap();
        if recs.iter().any(|(rec, _)| rec.step == "post-start") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    task.abort();
    let _ = task.await;
    let token = r.ctx.store.provisioning().await.unwrap()[0].0.token.clone();
    r.ctx
        .store
        .abandon_provisioning("again", &token)
        .await
        .unwrap();
    assert_eq!(sidecar_running(&r.engine, "again").await, Some(true));
    let notes = Mutex::new(Vec::new());
    let report = |p: Progress| {
        if let Progress::Note(t) = p {
            notes.lock().unwrap().push(t);
        }
    };
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, docker_request(&r.ctx, "again"), &report, rx)
        .await
        .unwrap();
    let notes = notes.lock().unwrap().join("\n");
    assert!(
        notes.contains("removed") && notes.contains("sidecar workspace-again.docker"),
        "{notes}"
    );
    assert!(notes.contains("reusing the Docker data volume"), "{notes}");
    assert_eq!(sidecar_running(&r.engine, "again").await, Some(true));
    // Delete takes the sidecar and its volume.
    lifecycle::delete(&r.ctx, &n("again"), false).await.unwrap();
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.volume_labels("workspace-again.docker").is_none());
}

#[tokio::test(start_paused = true)]
async fn image_load_streams_the_export_into_docker_load_in_the_sidecar() {
    let r = rig((47170, 47171), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    create_docker(&r, "ld").await.unwrap();
    let seen: Arc<Mutex<Vec<ExecCall>>> = Arc::default();
    let s2 = seen.clone();
    r.engine.set_exec_handler(move |c: &ExecCall| {
        s2.lock().unwrap().push(c.clone());
        ExecReply {
            stdout: b"Loaded image: debian:bookworm-slim\n".to_vec(),
            ..Default::default()
        }
    });
    let heard = Mutex::new(Vec::new());
    let on = |b: u64| heard.lock().unwrap().push(b);
    let done = load(&r.ctx, &n("ld"), DEFAULT_BASE, &on).await.unwrap();
    let total = (mem::EXPORT_CHUNK * mem::EXPORT_CHUNKS) as u64;
    assert_eq!(done.bytes, total);
    assert_eq!(done.loaded, ["Loaded image: debian:bookworm-slim"]);
    assert_eq!(done.sidecar, "workspace-ld.docker");
    assert_eq!(heard.lock().unwrap().last(), Some(&total));
    let calls = seen.lock().unwrap().clone();
    let call = calls
        .iter()
        .find(|c| c.cmd.ends_with(&["load".to_string()]))
        .unwrap();
    assert_eq!(call.container, "workspace-ld.docker");
    assert_eq!(call.stdin.len() as u64, total);

    // A failing `docker load` is said with its message.
    r.engine.set_exec_handler(|_| ExecReply {
        exit_code: 1,
        stderr: b"open /var/lib/docker/tmp: no space left on device".to_vec(),
        ..Default::default()
    });
    let e = load(&r.ctx, &n("ld"), DEFAULT_BASE, &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no space left"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn image_load_refuses_what_cannot_work_with_a_sentence() {
    let r = rig((47180, 47181), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    create_docker(&r, "dk").await.unwrap();
    let e = load(&r.ctx, &n("dk"), "nosuch:1", &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("not in the host's engine"), "{e}");
    // A workspace without Docker inside.
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, request(&r.ctx, "plain", None), &|_| {}, rx)
        .await
        .unwrap();
    let e = load(&r.ctx, &n("plain"), DEFAULT_BASE, &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("--docker"), "{e}");
    // A stopped one.
    lifecycle::stop(&r.ctx, &n("dk"), &|_| {}).await.unwrap();
    let e = load(&r.ctx, &n("dk"), DEFAULT_BASE, &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("berth start dk"), "{e}");
    let e = load(&r.ctx, &n("nope"), DEFAULT_BASE, &|_| {})
        .await
        .unwrap_err();
    assert!(e.to_string().contains("no workspace named nope"), "{e}");
}

#[test]
fn dockerd_stops_inside_the_engines_stop_timeout() {
    assert!(i64::from(dind::SHUTDOWN_TIMEOUT_SECS) < crate::backend::STOP_TIMEOUT_SECS);
}
