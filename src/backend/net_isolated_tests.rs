//! The network profiles open, isolated and offline over the in-memory engine:
//! where each workspace's container lands, berth's shared isolated network made
//! on demand, refused when it is not berth's or lets containers reach each other,
//! removed with its last workspace (and by a failed create that made it); offline
//! reserves no port and reaches sshd through the engine.
use super::*;
use crate::backend::create::{create, CreateError, CreateOutcome, CreateRequest, CreateSpec};
use crate::backend::create_tests::{rig, Rig};
use crate::backend::{lifecycle, services, ssh_cmd};
use crate::domain::naming::WorkspaceName;
use crate::domain::net_isolation::{DEFAULT_NETWORK, ROLE_ISOLATED_NETWORK};
use crate::domain::net_profile::NetProfile;
use crate::domain::workspace::{Workspace, HOST_KEY_PUB};
use crate::engine::memory::{ExecCall, ExecReply, Op};
use crate::engine::{Engine, NetworkEngine};
use std::time::Duration;
use tokio::sync::watch;

const HOST_KEY: &str =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm host";

/// The create rig, whose workspaces also answer `sshd -i` with a banner.
fn net_rig(ports: (u16, u16)) -> Rig {
    let r = rig(ports, Duration::ZERO);
    r.engine.set_exec_handler(|c: &ExecCall| {
        let cmd = c.cmd.join(" ");
        if cmd == format!("cat {HOST_KEY_PUB}") {
            ExecReply {
                stdout: format!("{HOST_KEY}\n").into_bytes(),
                ..Default::default()
            }
        } else if c.cmd.iter().any(|a| a == "/usr/sbin/sshd") && c.cmd.iter().any(|a| a == "-i") {
            ExecReply {
                stdout: b"SSH-2.0-OpenSSH_9.2p1\r\n".to_vec(),
                ..Default::default()
            }
        } else {
            ExecReply::default()
        }
    });
    r
}

async fn run(r: &Rig, name: &str, profile: &str) -> Result<CreateOutcome, CreateError> {
    let spec = CreateSpec {
        name: name.into(),
        net_profile: Some(profile.into()),
        ..Default::default()
    };
    let req = CreateRequest {
        spec: crate::backend::create::workspace_spec(&r.ctx.config, spec, []).unwrap(),
        keys: vec![HOST_KEY.into()],
        identities: vec![],
        name_generated: false,
        restore: None,
    };
    let (_tx, rx) = watch::channel(false);
    create(&r.ctx, req, &|_| {}, rx).await
}

async fn created(r: &Rig, name: &str, profile: &str) -> Workspace {
    match run(r, name, profile).await {
        Ok(CreateOutcome::Created(w)) => w,
        Ok(other) => panic!("{other:?}"),
        Err(e) => panic!("create {name} ({profile}): {e}"),
    }
}

fn ws(n: &str) -> WorkspaceName {
    WorkspaceName::parse(n).unwrap()
}

fn network_of(r: &Rig, name: &str) -> Option<String> {
    r.engine
        .extras(&format!("workspace-{name}"))
        .and_then(|e| e.network)
}

#[tokio::test(start_paused = true)]
async fn isolated_workspaces_share_berths_network_with_icc_off_until_the_last_goes() {
    let r = net_rig((3150, 3152));
    assert!(!r.engine.network_names().contains(&DEFAULT_NETWORK.into()));
    let a = created(&r, "a", "isolated").await;
    assert_eq!(a.net_profile(), NetProfile::Isolated);
    assert!(a.ssh_port.is_some());
    assert_eq!(network_of(&r, "a").as_deref(), Some(DEFAULT_NETWORK));
    let info = r
        .engine
        .inspect_network(DEFAULT_NETWORK)
        .await
        .unwrap()
        .expect("made on the first isolated create");
    assert!(!info.icc && !info.internal, "{info:?}");
    assert_eq!(
        info.labels[crate::domain::labels::ROLE],
        ROLE_ISOLATED_NETWORK
    );
    created(&r, "b", "isolated").await;
    // An open workspace stays on the engine's default bridge.
    created(&r, "c", "open").await;
    assert_eq!(network_of(&r, "c"), None);
    let info = r
        .engine
        .inspect_network(DEFAULT_NETWORK)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.containers, ["workspace-a", "workspace-b"]);
    // Not the last one: the network stays.
    let d = lifecycle::delete(&r.ctx, &ws("a"), false).await.unwrap();
    assert!(!d.networks.contains(&DEFAULT_NETWORK.to_string()));
    assert!(r
        .engine
        .inspect_network(DEFAULT_NETWORK)
        .await
        .unwrap()
        .is_some());
    let d = lifecycle::delete(&r.ctx, &ws("b"), false).await.unwrap();
    assert_eq!(d.networks, [DEFAULT_NETWORK]);
    assert!(r
        .engine
        .inspect_network(DEFAULT_NETWORK)
        .await
        .unwrap()
        .is_none());
    // Deleting an open workspace never touches it.
    let d = lifecycle::delete(&r.ctx, &ws("c"), false).await.unwrap();
    assert!(d.networks.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_network_of_that_name_berth_did_not_make_or_with_icc_on_is_refused() {
    let r = net_rig((3153, 3154));
    let foreign = crate::engine::NetworkSpec {
        name: DEFAULT_NETWORK.into(),
        labels: Default::default(),
        internal: false,
        icc: false,
    };
    r.engine.create_network(&foreign).await.unwrap();
    let Err(CreateError::Refused(why)) = run(&r, "a", "isolated").await else {
        panic!("a foreign network was used")
    };
    assert!(
        why.contains("berth did not make") && why.contains("isolated_network"),
        "{why}"
    );
    assert!(r.engine.containers().is_empty());
    assert!(!r.engine.volume_exists("workspace-a").await.unwrap());
    // Ours, but with ICC on: workspaces would reach each other.
    r.engine.remove_network(DEFAULT_NETWORK).await.unwrap();
    let mut leaky = foreign.clone();
    leaky.labels = crate::domain::net_isolation::network_labels(&Default::default());
    leaky.icc = true;
    r.engine.create_network(&leaky).await.unwrap();
    let Err(CreateError::Refused(why)) = run(&r, "a", "isolated").await else {
        panic!("a network with ICC on was used")
    };
    assert!(why.contains("inter-container communication on"), "{why}");
    let h = health(&r.engine, DEFAULT_NETWORK).await;
    assert!(!h.ok() && h.exists, "{h:?}");
    // Other profiles do not care.
    created(&r, "b", "open").await;
}

#[tokio::test(start_paused = true)]
async fn a_failed_create_that_made_the_network_removes_it() {
    let r = net_rig((3155, 3156));
    // The container is made (on the new network), then its start fails.
    r.engine.fail_next(
        Op::StartContainer,
        crate::engine::EngineError::Api("start refused".into()),
    );
    let Err(CreateError::StepFailed { step, cleanup, .. }) = run(&r, "a", "isolated").await else {
        panic!("create did not fail")
    };
    assert_eq!(step, "start");
    assert!(
        cleanup.contains(&format!("network {DEFAULT_NETWORK}")),
        "{cleanup}"
    );
    assert!(r
        .engine
        .inspect_network(DEFAULT_NETWORK)
        .await
        .unwrap()
        .is_none());
    assert!(r.engine.containers().is_empty());
    // One that did not make it leaves it to the workspace already there.
    created(&r, "b", "isolated").await;
    r.engine.fail_next(
        Op::StartContainer,
        crate::engine::EngineError::Api("start refused".into()),
    );
    assert!(run(&r, "c", "isolated").await.is_err());
    let info = r
        .engine
        .inspect_network(DEFAULT_NETWORK)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(info.containers, ["workspace-b"]);
}

#[tokio::test(start_paused = true)]
async fn offline_has_no_network_no_port_and_ssh_through_the_engine() {
    let r = net_rig((3157, 3157));
    let w = created(&r, "off", "offline").await;
    assert_eq!(w.net_profile(), NetProfile::Offline);
    assert_eq!(w.ssh_port, None);
    assert!(!w.labels.contains_key(crate::domain::labels::SSH_PORT));
    assert_eq!(network_of(&r, "off").as_deref(), Some("none"));
    assert_eq!(r.ctx.store.lease_count().await.unwrap(), 0);
    // Its one-port range is still free for the next workspace.
    let open = created(&r, "on", "open").await;
    assert_eq!(open.ssh_port, Some(3157));
    // ssh runs berth's proxy instead of connecting to a port.
    let c = ssh_cmd::build(&r.ctx, &ws("off"), ssh_cmd::Purpose::Ssh { cmd: vec![] })
        .await
        .unwrap();
    let line = c.argv.join(" ");
    assert!(
        line.contains("ssh-proxy off") && line.contains("ProxyCommand="),
        "{line}"
    );
    assert!(!c.argv.contains(&"-p".to_string()), "{line}");
    assert!(line.ends_with("workspace@berth-off"), "{line}");
    // Restart waits for sshd through the engine.
    let w = lifecycle::restart(&r.ctx, &ws("off"), &|_| {})
        .await
        .unwrap();
    assert_eq!(w.state, crate::domain::workspace::WorkspaceState::Running);
    // Nothing can join it.
    let req = crate::domain::services::ServiceRequest {
        name: "db".into(),
        image: crate::engine::memory::IMAGE.into(),
        env: vec![],
        ports: vec![],
        networks: vec![],
        cmd: vec![],
    };
    let e = services::add(&r.ctx, &ws("off"), &req).await.unwrap_err();
    assert!(format!("{e:#}").contains("offline"), "{e:#}");
}

#[tokio::test(start_paused = true)]
async fn a_create_whose_isolated_network_went_meanwhile_makes_it_again() {
    let r = net_rig((3150, 3151));
    // The engine answers the container create as if a delete of the last isolated
    // workspace had just removed the network under it.
    r.engine.fail_next(
        Op::CreateContainer,
        crate::engine::EngineError::NotFound {
            what: "network berth.isolated not found".into(),
        },
    );
    let w = created(&r, "late", "isolated").await;
    assert_eq!(network_of(&r, &w.name).as_deref(), Some(DEFAULT_NETWORK));
    assert!(r
        .engine
        .inspect_network(DEFAULT_NETWORK)
        .await
        .unwrap()
        .is_some_and(|n| n.containers == ["workspace-late".to_string()]));
}
