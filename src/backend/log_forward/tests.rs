//! Log forwarding over the in-memory engine: the create step, its refusals and its
//! rollback, the forwarder following the sidecars, stop and delete.
use crate::backend::create::{create, CreateError, CreateOutcome, CreateRequest, CreateSpec};
use crate::backend::create_tests::{request, rig, Rig};
use crate::backend::images::DEFAULT_BASE;
use crate::backend::lifecycle;
use crate::backend::Ctx;
use crate::domain::labels;
use crate::domain::log_forward as lf;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use crate::engine::memory::Op;
use crate::engine::{Engine, EngineError};
use std::time::Duration;
use tokio::sync::watch;

fn logs_request(ctx: &Ctx, name: &str, target: &str) -> CreateRequest {
    let mut r = request(ctx, name, None);
    let spec = CreateSpec {
        name: name.into(),
        forward_logs: Some(target.into()),
        ..Default::default()
    };
    r.spec = crate::backend::create::workspace_spec(&ctx.config, spec, []).unwrap();
    r
}

async fn create_logs(r: &Rig, name: &str, target: &str) -> Result<CreateOutcome, CreateError> {
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, logs_request(&r.ctx, name, target), &|_| {}, rx).await
}

fn n(s: &str) -> WorkspaceName {
    WorkspaceName::parse(s).unwrap()
}

async fn forwarder_labels(r: &Rig, ws: &str) -> std::collections::BTreeMap<String, String> {
    r.engine
        .inspect_workspace(&format!("workspace-{ws}.logs"))
        .await
        .unwrap()
        .expect("the forwarder")
        .labels
}

#[tokio::test(start_paused = true)]
async fn a_create_makes_the_file_and_a_hardened_forwarder_of_the_workspace_log() {
    let r = rig((47210, 47211), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.log");
    let target = format!("file:{}", file.display());
    let out = create_logs(&r, "lw", &target).await.unwrap();
    let CreateOutcome::Created(w) = out else {
        panic!("{out:?}")
    };
    assert_eq!(w.labels[lf::LABEL], target);
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "made private");
    assert!(r
        .engine
        .image_present(&super::image::IMAGE.tag())
        .await
        .unwrap());
    // A sidecar of the workspace, on the sources there are, with its own volume.
    let l = forwarder_labels(&r, "lw").await;
    assert_eq!(l[labels::ROLE], labels::ROLE_SIDECAR);
    assert_eq!(l[labels::SIDECAR], lf::KIND);
    assert_eq!(l[lf::SOURCES_LABEL], "workspace");
    assert!(!l.contains_key(labels::NETNS));
    let vol = r.engine.volume_labels("workspace-lw.logs").unwrap();
    assert_eq!(vol[labels::NAME], "lw");
    // It reads the workspace's log directory read-only and writes only the file.
    let x = r.engine.extras("workspace-lw.logs").unwrap();
    let id = w.container_id.clone();
    let logdir = x
        .binds
        .iter()
        .find(|b| b.path == "/logs/workspace")
        .unwrap();
    assert!(logdir.read_only);
    assert!(logdir.host.ends_with(&id));
    // The file's directory, not the file (a link there resolves inside).
    let out = x.binds.iter().find(|b| b.path == lf::OUT_DIR).unwrap();
    assert_eq!(out.host, file.parent().unwrap());
    assert!(!out.read_only);
    assert_eq!(x.binds.len(), 2, "{:?}", x.binds);
    assert_eq!(
        x.args,
        [
            "file".to_string(),
            lf::out_file(&file),
            "lw".into(),
            format!("workspace=/logs/workspace/{id}-json.log")
        ]
    );
    assert!(x.user.unwrap().contains(':'));
    // Status: where, through what, running.
    let f = super::status(&r.ctx, &w).await.unwrap();
    assert_eq!(f.running, Some(true));
    assert_eq!(f.sources, Some(vec!["workspace".to_string()]));
}

#[tokio::test(start_paused = true)]
async fn a_bad_target_is_refused_before_anything_is_made() {
    let r = rig((47220, 47221), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope/w.log");
    let err = create_logs(&r, "bad", &missing.display().to_string())
        .await
        .unwrap_err();
    let CreateError::Refused(m) = &err else {
        panic!("{err}")
    };
    assert!(
        m.contains("does not exist") && m.contains("mkdir -p"),
        "{m}"
    );
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.volume_labels("workspace-bad").is_none());
    // Without the image or its base: refused with how to get them.
    let r = rig((47222, 47223), Duration::ZERO);
    let err = create_logs(&r, "nobase", "syslog+udp://127.0.0.1:5514")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("berth image build --logs"),
        "{err}"
    );
    assert!(r.engine.containers().is_empty());
    // A target that does not parse never reaches a create.
    let e = crate::backend::create::workspace_spec(
        &r.ctx.config,
        CreateSpec {
            name: "x".into(),
            forward_logs: Some("logs.txt".into()),
            ..Default::default()
        },
        [],
    )
    .unwrap_err();
    assert!(e.to_string().contains("--forward-logs"), "{e}");
}

#[tokio::test(start_paused = true)]
async fn a_forwarder_that_fails_is_rolled_back_with_its_volume_and_its_empty_file() {
    let r = rig((47230, 47231), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    r.engine.fail_next(
        Op::CreateLogForwarder,
        EngineError::Api("invalid mount config".into()),
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.log");
    let err = create_logs(&r, "rb", &file.display().to_string())
        .await
        .unwrap_err();
    let CreateError::StepFailed { step, cleanup, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(step, "logs");
    assert!(cleanup.contains("volume workspace-rb.logs"), "{cleanup}");
    assert!(cleanup.contains("log file"), "{cleanup}");
    assert!(
        r.engine.containers().is_empty(),
        "{:?}",
        r.engine.containers()
    );
    assert!(r.engine.volume_labels("workspace-rb.logs").is_none());
    assert!(!file.exists());
}

#[tokio::test(start_paused = true)]
async fn the_forwarder_follows_the_sidecars_and_refuses_other_log_drivers() {
    let r = rig((47240, 47241), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    create_logs(&r, "fw", "syslog+tcp://127.0.0.1:6514")
        .await
        .unwrap();
    let x = r.engine.extras("workspace-fw.logs").unwrap();
    assert_eq!(x.user.as_deref(), Some(lf::SYSLOG_USER));
    assert_eq!(x.binds.len(), 1, "a syslog forwarder writes no host file");
    assert!(
        !super::refresh(&r.ctx, &n("fw")).await.unwrap(),
        "unchanged"
    );
    // A service added: made again with it, still running.
    r.engine.add_sidecar("fw", "db");
    assert!(super::refresh(&r.ctx, &n("fw")).await.unwrap());
    assert_eq!(
        forwarder_labels(&r, "fw").await[lf::SOURCES_LABEL],
        "db,workspace"
    );
    assert_eq!(
        r.engine.state_of("workspace-fw.logs"),
        Some(WorkspaceState::Running)
    );
    let x = r.engine.extras("workspace-fw.logs").unwrap();
    assert!(x.args.iter().any(|a| a.starts_with("db=/logs/db/")));
    // Removed: made again without it.
    r.engine.remove_container("workspace-fw.db").await.unwrap();
    assert!(super::refresh(&r.ctx, &n("fw")).await.unwrap());
    assert_eq!(
        forwarder_labels(&r, "fw").await[lf::SOURCES_LABEL],
        "workspace"
    );
    // A sidecar logging elsewhere: refused with the fix, the forwarder kept.
    let c = r.engine.add_sidecar("fw", "cache");
    r.engine.set_log_driver(&c, "journald");
    let e = super::refresh(&r.ctx, &n("fw")).await.unwrap_err();
    let m = format!("{e:#}");
    assert!(m.contains("journald") && m.contains("json-file"), "{m}");
    assert!(r
        .engine
        .containers()
        .contains(&"workspace-fw.logs".to_string()));
    // A workspace that forwards nothing has nothing to refresh.
    r.engine.add_workspace("plain", 47242);
    assert!(!super::refresh(&r.ctx, &n("plain")).await.unwrap());
}

#[tokio::test(start_paused = true)]
async fn the_forwarder_stops_with_the_workspace_and_goes_with_it() {
    let r = rig((47250, 47251), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.log");
    create_logs(&r, "sd", &file.display().to_string())
        .await
        .unwrap();
    lifecycle::stop(&r.ctx, &n("sd"), &|_| {}).await.unwrap();
    assert_ne!(
        r.engine.state_of("workspace-sd.logs"),
        Some(WorkspaceState::Running)
    );
    // A file removed meanwhile is made again at start (never a directory there).
    std::fs::remove_file(&file).unwrap();
    // The memory engine lets go of the published port in the background.
    tokio::time::sleep(Duration::from_millis(100)).await;
    lifecycle::start(&r.ctx, &n("sd"), &|_| {}).await.unwrap();
    assert!(file.is_file());
    assert_eq!(
        r.engine.state_of("workspace-sd.logs"),
        Some(WorkspaceState::Running)
    );
    let plan = lifecycle::plan_delete(&r.ctx, &n("sd"), false)
        .await
        .unwrap();
    assert!(
        plan.describe(&n("sd")).contains("logs"),
        "named in the prompt"
    );
    let d = lifecycle::delete(&r.ctx, &n("sd"), false).await.unwrap();
    assert!(d.sidecars.contains(&"workspace-sd.logs".to_string()));
    assert!(d.volumes.contains(&"workspace-sd.logs".to_string()));
    assert!(r.engine.containers().is_empty());
    assert!(file.exists(), "the host file (user data) stays");
}

#[tokio::test(start_paused = true)]
async fn a_file_target_turned_into_a_link_keeps_the_forwarder_from_starting() {
    let r = rig((47260, 47261), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("w.log");
    create_logs(&r, "ln", &file.display().to_string())
        .await
        .unwrap();
    lifecycle::stop(&r.ctx, &n("ln"), &|_| {}).await.unwrap();
    // Swapped for a link while stopped (e.g. by whoever can write that directory):
    // the engine would follow it when it mounts the file again.
    let elsewhere = dir.path().join("elsewhere");
    std::fs::write(&elsewhere, "not a log\n").unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&elsewhere, &file).unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    let notes = std::sync::Mutex::new(Vec::new());
    lifecycle::start(&r.ctx, &n("ln"), &|p| {
        if let crate::backend::Progress::Note(s) = p {
            notes.lock().unwrap().push(s);
        }
    })
    .await
    .unwrap();
    assert_ne!(
        r.engine.state_of("workspace-ln.logs"),
        Some(WorkspaceState::Running),
        "the forwarder must not start on a link"
    );
    let said = notes.lock().unwrap().join("\n");
    assert!(
        said.contains("not a regular file") && said.contains("berth restart ln"),
        "{said}"
    );
    // Its cursors stay; fixed, the next start makes it again.
    assert!(r.engine.volume_labels("workspace-ln.logs").is_some());
    std::fs::remove_file(&file).unwrap();
    lifecycle::stop(&r.ctx, &n("ln"), &|_| {}).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    lifecycle::start(&r.ctx, &n("ln"), &|_| {}).await.unwrap();
    assert_eq!(
        r.engine.state_of("workspace-ln.logs"),
        Some(WorkspaceState::Running)
    );
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "not a log\n");
}
