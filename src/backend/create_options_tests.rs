//! create's mounts, published ports, working directory and made-up names over the
//! in-memory engine: refused before anything exists, or handed to the engine.
use super::create::{create, CreateError, CreateOutcome, CreateSpec};
use super::create_tests::{request, rig};
use crate::domain::create_options::PortMap;
use crate::domain::labels;
use crate::engine::Bind;
use std::time::Duration;
use tokio::sync::watch;

async fn run(r: &super::create_tests::Rig, spec: CreateSpec) -> Result<CreateOutcome, CreateError> {
    let mut req = request(&r.ctx, "", None);
    req.name_generated = spec.name.is_empty();
    req.spec = super::create::workspace_spec(&r.ctx.config, spec, []).unwrap();
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, req, &|_| {}, rx).await
}

#[tokio::test(start_paused = true)]
async fn mounts_ports_and_workdir_reach_the_engine() {
    let r = rig((47110, 47111), Duration::ZERO);
    let host = tempfile::tempdir().unwrap();
    let h = host.path().display().to_string();
    let spec = CreateSpec {
        name: "opts".into(),
        mounts: vec![format!("{h}:/data:ro")],
        mount_cwd: Some(host.path().to_path_buf()),
        ports: vec!["3027:8000".into()],
        workdir: Some("/home/workspace/src".into()),
        ..Default::default()
    };
    let Ok(CreateOutcome::Created(w)) = run(&r, spec).await else {
        panic!("create failed")
    };
    let x = r.engine.extras("workspace-opts").unwrap();
    assert_eq!(
        x.binds,
        vec![
            Bind {
                host: h.clone().into(),
                path: "/data".into(),
                read_only: true
            },
            Bind {
                host: h.into(),
                path: "/home/workspace/src".into(),
                read_only: false
            }
        ]
    );
    assert_eq!(
        x.ports,
        vec![PortMap {
            host: 3027,
            container: 8000
        }]
    );
    // A mount's path surely exists: the container starts there.
    assert_eq!(x.workdir.as_deref(), Some("/home/workspace/src"));
    assert_eq!(w.labels[labels::WORKDIR], "/home/workspace/src");
}

#[tokio::test(start_paused = true)]
async fn a_workdir_the_engine_would_make_as_root_is_made_by_the_user() {
    let r = rig((47120, 47121), Duration::ZERO);
    let spec = CreateSpec {
        name: "wd".into(),
        workdir: Some("/home/workspace/project".into()),
        ..Default::default()
    };
    let Ok(CreateOutcome::Created(w)) = run(&r, spec).await else {
        panic!("create failed")
    };
    assert_eq!(r.engine.extras("workspace-wd").unwrap().workdir, None);
    assert_eq!(w.labels[labels::WORKDIR], "/home/workspace/project");
}

#[tokio::test(start_paused = true)]
async fn bad_mounts_and_ports_are_refused_before_anything_exists() {
    let r = rig((47130, 47131), Duration::ZERO);
    let cases = [
        (
            CreateSpec {
                mounts: vec!["/no/such/berth-dir:/data".into()],
                ..Default::default()
            },
            "does not exist",
        ),
        (
            CreateSpec {
                ports: vec!["47130:80".into()],
                ..Default::default()
            },
            "SSH port range",
        ),
        (
            CreateSpec {
                mounts: vec!["/tmp:/run/berth".into()],
                ..Default::default()
            },
            "secrets",
        ),
    ];
    for (mut spec, want) in cases {
        spec.name = "bad".into();
        match run(&r, spec).await {
            Err(CreateError::Refused(m)) => assert!(m.contains(want), "{m}"),
            other => panic!("{other:?}"),
        }
        assert!(r.engine.containers().is_empty());
        assert!(r.engine.volume_labels("workspace-bad").is_none());
    }
}

#[tokio::test(start_paused = true)]
async fn a_taken_host_port_is_refused_naming_it() {
    let r = rig((47140, 47141), Duration::ZERO);
    let held = std::net::TcpListener::bind(("127.0.0.1", 3028)).unwrap();
    let spec = CreateSpec {
        name: "taken".into(),
        ports: vec!["3028:80".into()],
        ..Default::default()
    };
    match run(&r, spec).await {
        Err(CreateError::Refused(m)) => assert!(m.contains("host port 3028 is taken"), "{m}"),
        other => panic!("{other:?}"),
    }
    drop(held);
    // Taken between the check and the start: the engine's refusal names it too,
    // and no other SSH port is tried.
    r.engine.occupy_port(3028);
    let spec = CreateSpec {
        name: "taken".into(),
        ports: vec!["3028:80".into()],
        ..Default::default()
    };
    match run(&r, spec).await {
        Err(CreateError::StepFailed { step, reason, .. }) => {
            assert_eq!(step, "start");
            assert!(reason.contains("host port 3028 is taken"), "{reason}");
        }
        other => panic!("{other:?}"),
    }
    assert!(r.engine.containers().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_made_up_name_a_workspace_has_is_replaced() {
    let r = rig((47150, 47153), Duration::ZERO);
    let first = match run(&r, CreateSpec::default()).await {
        Ok(CreateOutcome::Created(w)) => w.name,
        other => panic!("{other:?}"),
    };
    // The same made-up name again: another one is picked.
    let mut req = request(&r.ctx, &first, None);
    req.name_generated = true;
    let (_tx, rx) = watch::channel(false);
    let Ok(CreateOutcome::Created(w)) = create(&r.ctx, req, &|_| {}, rx).await else {
        panic!("second create failed")
    };
    assert_ne!(w.name, first);
    assert!(crate::domain::naming::WorkspaceName::parse(&w.name).is_ok());
}
