//! `create --network`: an unknown network is refused before anything exists; a
//! known one is joined (the workspace's name is its DNS name there) and recorded
//! in a label; a create that fails later leaves the network as it was.
use super::create::{create, CreateError, CreateOutcome, CreateSpec};
use super::create_tests::{request, rig, Rig};
use super::networks;
use crate::domain::labels;
use crate::domain::networks::NetworkName;
use crate::engine::memory::Op;
use crate::engine::{Engine, EngineError, NetworkEngine};
use std::time::Duration;
use tokio::sync::watch;

async fn run(r: &Rig, name: &str, nets: &[&str]) -> Result<CreateOutcome, CreateError> {
    let spec = CreateSpec {
        name: name.into(),
        networks: nets.iter().map(|n| n.to_string()).collect(),
        ..Default::default()
    };
    let mut req = request(&r.ctx, name, None);
    req.spec = super::create::workspace_spec(&r.ctx.config, spec, []).unwrap();
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, req, &|_| {}, rx).await
}

#[tokio::test(start_paused = true)]
async fn workspaces_on_one_network_reach_each_other_by_name() {
    let r = rig((3070, 3072), Duration::ZERO);
    let team = NetworkName::parse("team").unwrap();
    networks::create(&r.ctx, &team).await.unwrap();
    let Err(CreateError::Refused(why)) = run(&r, "a", &["team", "nope"]).await else {
        panic!("an unknown network was accepted")
    };
    assert!(why.contains("no network named nope"), "{why}");
    assert!(r.engine.containers().is_empty());
    assert!(!r.engine.volume_exists("workspace-a").await.unwrap());
    for n in ["a", "b"] {
        let Ok(CreateOutcome::Created(w)) = run(&r, n, &["team"]).await else {
            panic!("create {n} failed")
        };
        assert_eq!(w.labels[labels::NETWORKS], "team");
    }
    assert!(r.engine.resolves("workspace-a", "b") && r.engine.resolves("workspace-b", "a"));
    // A create that fails after joining: its container goes, and with it its place
    // on the network; the network stays for the others.
    r.engine
        .fail_next(Op::Exec, EngineError::Api("exec refused".into()));
    r.engine
        .fail_next(Op::Exec, EngineError::Api("exec refused".into()));
    let Err(CreateError::StepFailed { step, .. }) = run(&r, "c", &["team"]).await else {
        panic!("create c did not fail at a step")
    };
    assert_eq!(step, "ssh keys", "after the container joined the network");
    let info = r
        .engine
        .inspect_network("berth-team")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.containers, ["workspace-a", "workspace-b"]);
    assert!(!r.engine.containers().contains(&"workspace-c".to_string()));
}
