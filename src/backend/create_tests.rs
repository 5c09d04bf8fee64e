//! create, its rollback and its start-over over the in-memory engine, in tokio's
//! paused time: cancels mid-step, a create that dies, a delete during a create.
use super::create::{create, CreateError, CreateOutcome, CreateRequest, CreateSpec};
use super::{inventory, lifecycle, Ctx};
use crate::config::{Config, Paths};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::provision::{Provision, MARKER_PATH};
use crate::domain::workspace::HOST_KEY_PUB;
use crate::engine::memory::{ExecCall, ExecReply, MemoryEngine};
use crate::engine::Engine;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

const HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm host";

pub(super) struct Rig {
    pub engine: MemoryEngine,
    pub ctx: Ctx,
    _dir: tempfile::TempDir,
}

/// A context over a publishing memory engine whose workspaces answer the commands
/// create runs; a post-start script takes `post_start` of tokio time.
pub(super) fn rig(ports: (u16, u16), post_start: Duration) -> Rig {
    let engine = MemoryEngine::publishing();
    engine.set_exec_handler(move |c: &ExecCall| {
        let cmd = c.cmd.join(" ");
        if cmd == format!("cat {HOST_KEY_PUB}") {
            ExecReply {
                stdout: format!("{HOST_KEY}\n").into_bytes(),
                ..Default::default()
            }
        } else if cmd.starts_with("/bin/sh -lc") {
            ExecReply {
                takes: post_start,
                ..Default::default()
            }
        } else {
            ExecReply::default()
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(dir.path());
    let mut config = Config {
        port_range: crate::domain::ports::PortRange::new(ports.0, ports.1).unwrap(),
        ..Default::default()
    };
    // Hermetic: no host gh or git config read by these tests.
    config.provision.forward = crate::domain::create_options::Forward::NONE;
    let store = Store::inline_for_tests(paths.store_file());
    let ctx = Ctx::with_store(Arc::new(engine.clone()), config, paths, store);
    Rig {
        engine,
        ctx,
        _dir: dir,
    }
}

pub(super) fn request(ctx: &Ctx, name: &str, post_start: Option<&str>) -> CreateRequest {
    let spec = CreateSpec {
        name: name.into(),
        post_start: post_start.map(String::from),
        ..Default::default()
    };
    CreateRequest {
        spec: super::create::workspace_spec(&ctx.config, spec, []).unwrap(),
        keys: vec![HOST_KEY.into()],
        identities: vec![],
        name_generated: name.is_empty(),
        restore: None,
    }
}

async fn create_ok(ctx: &Ctx, name: &str) -> crate::domain::workspace::Workspace {
    let (_tx, rx) = watch::channel(false);
    match create(ctx, request(ctx, name, None), &|_| {}, rx).await {
        Ok(CreateOutcome::Created(w)) => w,
        Ok(other) => panic!("{other:?}"),
        Err(e) => panic!("{e}"),
    }
}

/// Waits (in tokio time) until the store says the create of `name` reached `step`.
async fn reached(ctx: &Ctx, name: &str, step: &str) {
    for _ in 0..2000 {
        let recs = ctx.store.provisioning().await.unwrap();
        if recs.iter().any(|(r, _)| r.name == name && r.step == step) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the create of {name} never reached {step}");
}

fn name(n: &str) -> WorkspaceName {
    WorkspaceName::parse(n).unwrap()
}

#[tokio::test(start_paused = true)]
async fn a_finished_create_is_marked_in_the_container_and_leaves_no_lease() {
    let r = rig((47010, 47011), Duration::ZERO);
    let w = create_ok(&r.ctx, "done").await;
    assert!(w.provision.is_ready(), "{:?}", w.provision);
    let marker = r
        .engine
        .read_file(&w.container_id, MARKER_PATH, 100)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(String::from_utf8(marker).unwrap().trim(), w.container_id);
    assert_eq!(r.ctx.store.lease_count().await.unwrap(), 0);
    assert!(r.ctx.store.provisioning().await.unwrap().is_empty());
    // The volume and the container carry the create's token and creator.
    let vol = r.engine.volume_labels("workspace-done").unwrap();
    assert_eq!(vol.get(labels::CREATE), w.labels.get(labels::CREATE));
    assert!(w.labels[labels::CREATOR]
        .ends_with(&format!("/{}", crate::store::Creator::current().start)));
}

#[tokio::test(start_paused = true)]
async fn a_cancel_mid_step_removes_everything_this_create_made() {
    let r = rig((47020, 47021), Duration::from_secs(3600));
    let (tx, rx) = watch::channel(false);
    let ctx = r.ctx.clone();
    let task = tokio::spawn(async move {
        create(
            &ctx,
            request(&ctx, "cancelled", Some("sleep 3600")),
            &|_| {},
            rx,
        )
        .await
    });
    reached(&r.ctx, "cancelled", "post-start").await;
    assert!(!r.engine.containers().is_empty());
    tx.send(true).unwrap();
    let err = task.await.unwrap().unwrap_err();
    let CreateError::StepFailed { step, cleanup, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(step, "post-start");
    assert!(
        cleanup.contains("container") && cleanup.contains("volume"),
        "{cleanup}"
    );
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.volume_labels("workspace-cancelled").is_none());
    assert_eq!(r.ctx.store.lease_count().await.unwrap(), 0);
    assert!(r.ctx.store.provisioning().await.unwrap().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_delete_during_a_create_is_refused_and_after_a_death_it_works() {
    let r = rig((47030, 47031), Duration::from_secs(3600));
    let (_tx, rx) = watch::channel(false);
    let ctx = r.ctx.clone();
    let task = tokio::spawn(async move {
        create(&ctx, request(&ctx, "busy", Some("sleep 3600")), &|_| {}, rx).await
    });
    reached(&r.ctx, "busy", "post-start").await;
    let w = inventory::find(&r.ctx, &name("busy"))
        .await
        .unwrap()
        .unwrap();
    assert!(
        matches!(w.provision, Provision::Provisioning { .. }),
        "{:?}",
        w.provision
    );
    let err = lifecycle::delete(&r.ctx, &name("busy"), false)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("being created by berth process"), "{err}");
    // A second create of the name is refused too.
    let (_t2, rx2) = watch::channel(false);
    let err = create(&r.ctx, request(&r.ctx, "busy", None), &|_| {}, rx2)
        .await
        .unwrap_err()
        .to_string();
    assert!(err.contains("being created by berth process"), "{err}");
    // The create dies (as with SIGKILL: no rollback runs) ...
    task.abort();
    let _ = task.await;
    let token = r.ctx.store.provisioning().await.unwrap()[0].0.token.clone();
    r.ctx
        .store
        .abandon_provisioning("busy", &token)
        .await
        .unwrap();
    let w = inventory::find(&r.ctx, &name("busy"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.status_word(), "incomplete");
    assert_eq!(w.provision.step_text(), "post-start (12/13)");
    // ... and now delete removes it.
    lifecycle::delete(&r.ctx, &name("busy"), false)
        .await
        .unwrap();
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.volume_labels("workspace-busy").is_none());
}

#[tokio::test(start_paused = true)]
async fn starting_over_after_a_death_keeps_the_volume_it_made() {
    let r = rig((47040, 47041), Duration::from_secs(3600));
    let (_tx, rx) = watch::channel(false);
    let ctx = r.ctx.clone();
    let task = tokio::spawn(async move {
        create(
            &ctx,
            request(&ctx, "again", Some("sleep 3600")),
            &|_| {},
            rx,
        )
        .await
    });
    reached(&r.ctx, "again", "post-start").await;
    task.abort();
    let _ = task.await;
    let first = r.engine.volume_labels("workspace-again").unwrap();
    let token = r.ctx.store.provisioning().await.unwrap()[0].0.token.clone();
    r.ctx
        .store
        .abandon_provisioning("again", &token)
        .await
        .unwrap();
    let mut notes = Vec::new();
    let (_t2, rx2) = watch::channel(false);
    let collect = std::sync::Mutex::new(&mut notes);
    let out = create(
        &r.ctx,
        request(&r.ctx, "again", None),
        &|p| {
            if let super::Progress::Note(n) = p {
                collect.lock().unwrap().push(n);
            }
        },
        rx2,
    )
    .await
    .unwrap();
    let CreateOutcome::Created(w) = out else {
        panic!("{out:?}")
    };
    assert!(w.provision.is_ready());
    // The very same volume (the first create's labels), not a new one.
    assert_eq!(r.engine.volume_labels("workspace-again").unwrap(), first);
    let notes = notes.join("\n");
    assert!(
        notes.contains("starting over") && notes.contains("keeping volume"),
        "{notes}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_volume_found_there_is_never_removed_by_a_rollback() {
    let r = rig((47050, 47051), Duration::ZERO);
    // Another process made a volume of that name (labels other than ours).
    r.engine
        .create_volume(
            "workspace-race",
            &[("x".to_string(), "y".to_string())].into(),
        )
        .await
        .unwrap();
    r.engine.fail_next(
        crate::engine::memory::Op::StartContainer,
        crate::engine::EngineError::Api("boom".into()),
    );
    let (_tx, rx) = watch::channel(false);
    let err = create(&r.ctx, request(&r.ctx, "race", None), &|_| {}, rx)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("boom"), "{err}");
    assert!(
        r.engine.volume_labels("workspace-race").is_some(),
        "the rollback kept a volume it did not make"
    );
}

#[tokio::test(start_paused = true)]
async fn an_engine_that_goes_away_mid_create_leaves_it_listed_as_incomplete() {
    let r = rig((47060, 47061), Duration::from_secs(60));
    let (_tx, rx) = watch::channel(false);
    let ctx = r.ctx.clone();
    let task = tokio::spawn(async move {
        create(&ctx, request(&ctx, "gone", Some("make")), &|_| {}, rx).await
    });
    reached(&r.ctx, "gone", "post-start").await;
    r.engine.go_down("dockerd was stopped");
    let err = task.await.unwrap().unwrap_err().to_string();
    assert!(
        err.contains("Could not remove") && err.contains("berth delete gone"),
        "{err}"
    );
    // Back: what could not be removed is listed, at the step it reached.
    r.engine.come_up();
    let w = inventory::find(&r.ctx, &name("gone"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(w.status_word(), "incomplete");
    assert_eq!(w.provision.step_text(), "commit (13/13)");
    lifecycle::delete(&r.ctx, &name("gone"), false)
        .await
        .unwrap();
    assert!(r.engine.containers().is_empty());
}
