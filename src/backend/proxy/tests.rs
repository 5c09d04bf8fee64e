//! Network profile proxy over the in-memory engine: the create step (internal
//! network, sidecar publishing the SSH port, the workspace's environment), its
//! rollback, another port when the sidecar's is taken, and the sidecar following
//! the workspace through stop, start and delete.
use crate::backend::create::{create, CreateError, CreateOutcome, CreateRequest, CreateSpec};
use crate::backend::create_tests::{request, rig, Rig};
use crate::backend::images::DEFAULT_BASE;
use crate::backend::{lifecycle, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::Workspace;
use crate::domain::{labels, net_profile, proxy};
use crate::engine::memory::Op;
use crate::engine::{Engine, EngineError, NetworkEngine};
use std::time::Duration;
use tokio::sync::watch;

/// These tests publish real ports (3160-3161, berth's share for them): one at a time.
static PORTS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn proxy_request(ctx: &Ctx, name: &str, allow: &[&str]) -> CreateRequest {
    let mut r = request(ctx, name, None);
    let spec = CreateSpec {
        name: name.into(),
        net_profile: Some("proxy".into()),
        allow_domains: allow.iter().map(|d| d.to_string()).collect(),
        ..Default::default()
    };
    r.spec = crate::backend::create::workspace_spec(&ctx.config, spec, []).unwrap();
    r
}

async fn create_proxy(r: &Rig, name: &str, allow: &[&str]) -> Result<Workspace, CreateError> {
    let (_tx, rx) = watch::channel(false);
    match create(&r.ctx, proxy_request(&r.ctx, name, allow), &|_| {}, rx).await? {
        CreateOutcome::Created(w) | CreateOutcome::Reused(w) => Ok(w),
    }
}

fn n(s: &str) -> WorkspaceName {
    WorkspaceName::parse(s).unwrap()
}

async fn file(r: &Rig, path: &str) -> String {
    let b = r
        .engine
        .read_file("workspace-px", path, 10_000)
        .await
        .unwrap()
        .unwrap_or_default();
    String::from_utf8_lossy(&b).into_owned()
}

async fn sidecar_running(r: &Rig, ws: &str) -> Option<bool> {
    r.engine
        .sidecars(ws)
        .await
        .unwrap()
        .iter()
        .find(|s| s.source == proxy::KIND)
        .map(|s| s.running)
}

#[tokio::test(start_paused = true)]
async fn a_proxy_workspace_is_on_an_internal_network_whose_way_out_is_its_sidecar() {
    let _one = PORTS.lock().await;
    let r = rig((3160, 3161), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    let w = create_proxy(&r, "px", &["b.test", ".a.test", "x.a.test"])
        .await
        .unwrap();
    assert!(w.provision.is_ready());
    assert!(r
        .engine
        .image_present(&super::image::IMAGE.tag())
        .await
        .unwrap());
    // The workspace's network is internal, and holds the workspace and the proxy.
    let net = r
        .engine
        .inspect_network("workspace-px")
        .await
        .unwrap()
        .unwrap();
    assert!(net.internal);
    assert_eq!(net.labels[labels::ROLE], labels::ROLE_WORKSPACE_NETWORK);
    assert_eq!(net.containers, ["workspace-px", "workspace-px.proxy"]);
    assert!(r.engine.resolves("workspace-px", proxy::ALIAS));
    // The SSH port is the sidecar's to publish (create's sshd wait went through it).
    let port = w.ssh_port.unwrap();
    assert!((3160..=3161).contains(&port));
    assert_eq!(sidecar_running(&r, "px").await, Some(true));
    let x = r.engine.extras("workspace-px.proxy").unwrap();
    assert_eq!(x.user.as_deref(), Some(proxy::USER));
    assert!(
        x.env
            .contains(&"BERTH_ALLOW_DOMAINS=.a.test b.test".to_string()),
        "{:?}",
        x.env
    );
    assert!(x
        .env
        .contains(&"BERTH_SSH_TARGET=workspace-px:2222".to_string()));
    // The workspace records its profile and allowlist, and has the proxy variables,
    // for ssh sessions too, and apt knows of the proxy.
    assert_eq!(w.labels[net_profile::LABEL], "proxy");
    assert_eq!(w.labels[proxy::ALLOW_LABEL], "b.test,.a.test,x.a.test");
    let env = file(&r, "/etc/berth/env").await;
    for v in ["HTTP_PROXY", "https_proxy", "NO_PROXY"] {
        assert!(env.contains(v), "{v}: {env}");
    }
    assert!(env.contains(proxy::URL), "{env}");
    let apt = file(&r, proxy::APT_CONF_PATH).await;
    assert!(apt.contains("Acquire::http::Proxy"), "{apt}");
    assert_eq!(
        crate::domain::proxy::status_line(&w).unwrap(),
        "via workspace-px.proxy (http://proxy:3128); allows only b.test, .a.test, x.a.test (others denied, 403)"
    );
    let v = super::view(&r.ctx, &w).await.unwrap();
    assert_eq!(v.running, Some(true));
}

#[tokio::test(start_paused = true)]
async fn the_sidecar_follows_the_workspace_and_goes_with_it() {
    let _one = PORTS.lock().await;
    let r = rig((3160, 3161), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    create_proxy(&r, "px", &[]).await.unwrap();
    lifecycle::stop(&r.ctx, &n("px"), &|_| {}).await.unwrap();
    assert_eq!(sidecar_running(&r, "px").await, Some(false));
    // The memory engine closes a published port in a task: let it run.
    tokio::task::yield_now().await;
    lifecycle::start(&r.ctx, &n("px"), &|_| {}).await.unwrap();
    assert_eq!(sidecar_running(&r, "px").await, Some(true));
    let owned = crate::backend::sidecars::owned(&r.ctx, &n("px"))
        .await
        .unwrap();
    assert_eq!(
        owned.sidecars,
        [("proxy".into(), "workspace-px.proxy".into())]
    );
    assert_eq!(owned.networks, ["workspace-px"]);
    lifecycle::delete(&r.ctx, &n("px"), false).await.unwrap();
    assert!(
        r.engine.containers().is_empty(),
        "{:?}",
        r.engine.containers()
    );
    assert!(r.engine.network_names().is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_sidecar_that_cannot_be_made_leaves_nothing_behind() {
    let _one = PORTS.lock().await;
    let r = rig((3160, 3161), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    r.engine.fail_next(
        Op::CreateProxySidecar,
        EngineError::Api("no such network".into()),
    );
    let err = create_proxy(&r, "px", &[]).await.unwrap_err();
    let CreateError::StepFailed { step, cleanup, .. } = &err else {
        panic!("{err}")
    };
    assert_eq!(step, "proxy");
    assert!(cleanup.contains("network workspace-px"), "{cleanup}");
    assert!(r.engine.containers().is_empty());
    assert!(r.engine.network_names().is_empty());
    assert!(r.engine.volume_labels("workspace-px").is_none());
    assert_eq!(r.ctx.store.lease_count().await.unwrap(), 0);
}

#[tokio::test(start_paused = true)]
async fn a_taken_ssh_port_moves_the_sidecar_to_another() {
    let _one = PORTS.lock().await;
    let r = rig((3160, 3161), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    r.engine.occupy_port(3160);
    let w = create_proxy(&r, "px", &[]).await.unwrap();
    assert_eq!(w.ssh_port, Some(3161));
    assert_eq!(r.engine.network_names(), ["workspace-px"]);
    assert_eq!(sidecar_running(&r, "px").await, Some(true));
}

#[tokio::test(start_paused = true)]
async fn a_service_of_a_proxy_workspace_joins_its_internal_network() {
    let _one = PORTS.lock().await;
    let r = rig((3160, 3161), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    r.engine.add_image("redis:7");
    create_proxy(&r, "px", &[]).await.unwrap();
    let req = crate::domain::services::ServiceRequest {
        name: "db".into(),
        image: "redis:7".into(),
        ..Default::default()
    };
    crate::backend::services::add(&r.ctx, &n("px"), &req)
        .await
        .unwrap();
    let net = r
        .engine
        .inspect_network("workspace-px")
        .await
        .unwrap()
        .unwrap();
    assert!(net.internal);
    assert!(r.engine.resolves("workspace-px", "db"));
    crate::backend::services::remove(&r.ctx, &n("px"), "db")
        .await
        .unwrap();
    // The proxy is still on it: the network stays.
    assert!(r
        .engine
        .inspect_network("workspace-px")
        .await
        .unwrap()
        .is_some());
}

#[tokio::test(start_paused = true)]
async fn a_create_that_died_after_its_proxy_step_is_started_over() {
    let _one = PORTS.lock().await;
    let r = rig((3160, 3161), Duration::ZERO);
    r.engine.add_image(DEFAULT_BASE);
    // What a create killed between its proxy and container steps leaves: its record,
    // the internal network and the sidecar, no workspace container.
    let req = proxy_request(&r.ctx, "px", &[]);
    r.ctx
        .store
        .begin_provisioning("default", "px", "dead", 12)
        .await
        .unwrap();
    r.ctx
        .store
        .abandon_provisioning("px", "dead")
        .await
        .unwrap();
    let mut made = super::Made::default();
    let provisioned = super::provision(&r.ctx, &req.spec, 3161, &mut made, &|_| {}).await;
    assert!(provisioned.is_ok());
    assert!(r
        .engine
        .containers()
        .contains(&"workspace-px.proxy".to_string()));
    let w = create_proxy(&r, "px", &[]).await.unwrap();
    assert!(w.provision.is_ready());
    assert_eq!(sidecar_running(&r, "px").await, Some(true));
    assert_eq!(r.engine.network_names(), ["workspace-px"]);
}
