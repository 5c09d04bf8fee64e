//! Services (`berth service add|rm|ls`): a container (a database, a cache) beside a
//! workspace, on the workspace's own network (`workspace-NAME`, made with its first
//! service and removed with its last) where the workspace reaches it by its service
//! name; nothing else is on that network, so nothing else reaches it unless it also
//! joins a named network. Services are sidecars (see `sidecars.rs`): they start,
//! stop and go with their workspace, and their logs are the workspace's, tagged.
use super::{inventory, Ctx};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::networks::{service_alias, workspace_network, workspace_network_labels};
use crate::domain::services::{service_labels, Service, ServiceName, ServiceRequest};
use crate::domain::workspace::{Workspace, WorkspaceState};
use crate::engine::{EngineError, NetworkSpec, ServiceInfo, ServiceSpec};
use anyhow::{anyhow, bail, Result};
use serde::Serialize;
use std::net::SocketAddr;

/// A service as `berth service ls` and `status` show it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ServiceView {
    pub name: String,
    pub container: String,
    pub image: String,
    pub state: String,
    /// `HOST:CONTAINER`, published on the bind address.
    pub ports: Vec<String>,
    /// The networks it is on (its workspace's, and named ones).
    pub networks: Vec<String>,
}

impl ServiceView {
    pub fn of(s: &ServiceInfo) -> Self {
        Self {
            name: s.name.clone(),
            container: s.container.clone(),
            image: s.image.clone(),
            state: s.state.as_str().to_string(),
            ports: s
                .ports
                .iter()
                .map(|p| format!("{}:{}", p.host, p.container))
                .collect(),
            networks: s.networks.clone(),
        }
    }
}

/// The services of `ws` (none when it has none, or no longer exists).
pub async fn list(ctx: &Ctx, ws: &WorkspaceName) -> Result<Vec<ServiceView>> {
    Ok(ctx
        .engine
        .services(ws.as_str())
        .await?
        .iter()
        .map(ServiceView::of)
        .collect())
}

/// What `add` made, so a failure removes exactly that.
#[derive(Default)]
struct Made {
    /// The workspace's network was made or joined by this add.
    network: bool,
    container: Option<String>,
}

impl Made {
    /// Removes what was made (the workspace's network only if nothing but the
    /// workspace is left on it); says what could not be removed.
    async fn undo(&self, ctx: &Ctx, ws: &WorkspaceName) -> Option<String> {
        let mut problems = Vec::new();
        if let Some(c) = &self.container {
            if let Err(e) = ctx.engine.remove_container(c).await {
                problems.push(format!("container {c}: {e}"));
            }
        }
        if self.network {
            if let Err(e) = drop_network_if_unused(ctx, ws).await {
                problems.push(format!("network {}: {e:#}", workspace_network(ws)));
            }
        }
        (!problems.is_empty()).then(|| problems.join("; "))
    }
}

/// What `add` did.
#[derive(Debug, Clone, Serialize)]
pub struct Added {
    pub workspace: String,
    pub service: ServiceView,
    /// Started now (the workspace runs); else it starts with the workspace.
    pub started: bool,
    /// Its DNS names: from the workspace, and on each named network.
    pub reachable_as: Vec<String>,
}

/// The workspace a service is added to: one that exists and finished provisioning.
async fn workspace_for_service(ctx: &Ctx, ws: &WorkspaceName) -> Result<Workspace> {
    let w = super::lifecycle::find(ctx, ws).await?;
    if let Some(why) = w.provision.explain(ws.as_str()) {
        bail!("workspace {ws} is {why}; services are added to finished workspaces");
    }
    if w.state == WorkspaceState::Absent {
        bail!("workspace {ws} has no container; `berth delete {ws}` removes what is left");
    }
    crate::domain::vm_checks::refuse_service(&w).map_err(|e| anyhow!(e))?;
    // A service is reached over a network, which an offline workspace has none of.
    crate::domain::net_isolation::refuse_offline(w.net_profile(), ws.as_str(), "have services")
        .map_err(|e| anyhow!(e))?;
    Ok(w)
}

/// The checks that need the engine or the host, before anything is made.
async fn preflight(ctx: &Ctx, ws: &WorkspaceName, svc: &Service) -> Result<()> {
    let container = ws.sidecar(svc.name.as_str());
    if let Some(s) = ctx
        .engine
        .sidecars(ws.as_str())
        .await?
        .into_iter()
        .find(|s| s.source == svc.name.as_str() || s.container == container)
    {
        bail!(
            "workspace {ws} already has a service {} ({}); remove it with `berth service rm {ws} {}` or pick another name",
            svc.name,
            s.container,
            svc.name
        );
    }
    if !ctx.engine.image_present(&svc.image).await? {
        bail!(
            "image {} is not in the engine (berth never pulls one); get it there first (`docker pull {}`, or `docker load` from a file) and add the service again",
            svc.image,
            svc.image
        );
    }
    super::networks::check_exist(ctx, &svc.networks)
        .await
        .map_err(|e| anyhow!(e))?;
    for p in &svc.ports {
        let addr = SocketAddr::new(ctx.config.bind_address, p.host);
        if let Err(e) = tokio::net::TcpListener::bind(addr).await {
            bail!(
                "host port {} is taken on {} ({e}); pick another for --port {}:{}",
                p.host,
                ctx.config.bind_address,
                p.host,
                p.container
            );
        }
    }
    Ok(())
}

/// `berth service add`: checks everything first, then makes the workspace's
/// network (if it is the first service), attaches the workspace to it, creates the
/// service there under its name, joins the named networks, and starts it if the
/// workspace runs. A failure removes what this call made.
pub async fn add(ctx: &Ctx, ws: &WorkspaceName, req: &ServiceRequest) -> Result<Added> {
    let svc = req.parse(ctx.config.port_range).map_err(|e| anyhow!(e))?;
    let w = workspace_for_service(ctx, ws).await?;
    preflight(ctx, ws, &svc).await?;
    let mut made = Made::default();
    match make(ctx, ws, &w, &svc, &mut made).await {
        Ok(added) => {
            let _ = ctx
                .store
                .audit(ws.as_str(), "service-add", svc.name.as_str())
                .await;
            // Its logs are forwarded too (when the workspace forwards its logs).
            super::log_forward::refresh_or_warn(ctx, ws, &|_| {}).await;
            Ok(added)
        }
        Err(e) => {
            let cleanup = match made.undo(ctx, ws).await {
                None => "nothing was left behind".to_string(),
                Some(p) => format!(
                    "could not remove {p} (`berth service rm {ws} {}` or `berth delete {ws}` removes it)",
                    svc.name
                ),
            };
            Err(e.context(format!(
                "adding service {} to workspace {ws} failed; {cleanup}",
                svc.name
            )))
        }
    }
}

async fn make(
    ctx: &Ctx,
    ws: &WorkspaceName,
    w: &Workspace,
    svc: &Service,
    made: &mut Made,
) -> Result<Added> {
    let net = workspace_network(ws);
    let mut spec = NetworkSpec::bridge(
        net.clone(),
        workspace_network_labels(&ctx.config.labels, ws),
    );
    // A proxy workspace's network is internal (its only way out is its proxy):
    // never made again as a plain bridge.
    spec.internal = super::proxy::is_proxy_workspace(w);
    if ctx.engine.create_network(&spec).await? {
        made.network = true;
    }
    let on_it = ctx
        .engine
        .inspect_network(&net)
        .await?
        .ok_or_else(|| anyhow!("network {net} vanished right after it was made"))?;
    if on_it.labels.get(labels::ROLE).map(String::as_str) != Some(labels::ROLE_WORKSPACE_NETWORK) {
        bail!("the engine has a network {net} that berth did not make; remove it (`docker network rm {net}`) and add the service again");
    }
    if !on_it.containers.contains(&w.container) {
        made.network = true;
        match ctx
            .engine
            .connect_network(&net, &w.container, &[ws.to_string()])
            .await
        {
            // Attached meanwhile by another add: as good.
            Ok(()) | Err(EngineError::Conflict(_)) => {}
            Err(e) => return Err(e.into()),
        }
    }
    let container = ws.sidecar(svc.name.as_str());
    let spec = ServiceSpec {
        container: container.clone(),
        image: svc.image.clone(),
        labels: service_labels(&ctx.config.labels, ws.as_str(), &svc.name),
        env: svc.env.iter().map(|(k, v)| format!("{k}={v}")).collect(),
        cmd: svc.cmd.clone(),
        network: net.clone(),
        aliases: vec![svc.name.to_string()],
        ports: svc.ports.clone(),
        bind_address: ctx.config.bind_address,
        resources: ctx.config.resources,
    };
    // Noted first: a failed call may still have made it.
    made.container = Some(container.clone());
    match ctx.engine.create_service(&spec).await {
        Err(EngineError::Conflict(_)) => {
            // Someone else's (a concurrent add): not ours to remove.
            made.container = None;
            bail!(
                "workspace {ws} already has a service {} ({container})",
                svc.name
            );
        }
        r => r?,
    };
    let mut reachable_as = vec![svc.name.to_string()];
    for n in &svc.networks {
        let alias = service_alias(ws, svc.name.as_str());
        ctx.engine
            .connect_network(&n.engine_name(), &container, std::slice::from_ref(&alias))
            .await
            .map_err(|e| anyhow!("cannot join network {n}: {e}"))?;
        reachable_as.push(format!("{alias} (network {n})"));
    }
    let started = w.state == WorkspaceState::Running;
    if started {
        match ctx.engine.start_container(&container).await {
            Err(EngineError::PortTaken(m)) => {
                bail!("a host port of the service is taken ({m}); pick another --port")
            }
            r => r?,
        }
    }
    let info = ctx
        .engine
        .services(ws.as_str())
        .await?
        .into_iter()
        .find(|s| s.container == container)
        .ok_or_else(|| anyhow!("service {} vanished right after it was made", svc.name))?;
    Ok(Added {
        workspace: ws.to_string(),
        service: ServiceView::of(&info),
        started,
        reachable_as,
    })
}

/// What `rm` removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RemovedService {
    pub workspace: String,
    pub service: String,
    pub container: String,
    /// The workspace's network, removed with its last service.
    pub network: Option<String>,
}

/// `berth service rm`: removes the service's container (what it stored goes with
/// it), and the workspace's network once no service is left on it.
pub async fn remove(ctx: &Ctx, ws: &WorkspaceName, name: &str) -> Result<RemovedService> {
    let svc = ServiceName::parse(name).map_err(|e| anyhow!(e))?;
    let all = ctx.engine.services(ws.as_str()).await?;
    let Some(s) = all.iter().find(|s| s.name == svc.as_str()) else {
        if inventory::find(ctx, ws).await?.is_none() {
            bail!("no workspace named {ws}; `berth list` shows the workspaces there are");
        }
        bail!("workspace {ws} has no service {svc}; `berth service ls {ws}` lists its services");
    };
    ctx.engine.remove_container(&s.container).await?;
    let network = drop_network_if_unused(ctx, ws).await?;
    super::log_forward::refresh_or_warn(ctx, ws, &|_| {}).await;
    let _ = ctx
        .store
        .audit(ws.as_str(), "service-rm", svc.as_str())
        .await;
    Ok(RemovedService {
        workspace: ws.to_string(),
        service: svc.to_string(),
        container: s.container.clone(),
        network,
    })
}

/// Removes the workspace's network when only the workspace is left on it.
async fn drop_network_if_unused(ctx: &Ctx, ws: &WorkspaceName) -> Result<Option<String>> {
    let net = workspace_network(ws);
    let Some(info) = ctx.engine.inspect_network(&net).await? else {
        return Ok(None);
    };
    let ours =
        info.labels.get(labels::ROLE).map(String::as_str) == Some(labels::ROLE_WORKSPACE_NETWORK);
    if !ours || info.containers.iter().any(|c| *c != ws.container()) {
        return Ok(None);
    }
    ctx.engine.disconnect_network(&net, &ws.container()).await?;
    ctx.engine.remove_network(&net).await?;
    Ok(Some(net))
}

#[cfg(test)]
#[path = "services_tests.rs"]
mod tests;
