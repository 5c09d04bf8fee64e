//! Network profile `proxy` (`berth create --net-profile proxy`): at create, the
//! workspace's own network `workspace-NAME` made INTERNAL, the proxy image, and
//! the sidecar `workspace-NAME.proxy` on that network as `proxy` and on the
//! engine's default bridge, started before the workspace (it publishes the
//! workspace's SSH port); the workspace is created on the internal network only,
//! with the proxy variables and apt told about the proxy. Stopping,
//! starting and deleting follow the workspace (`backend::sidecars`); the network
//! goes with the workspace (`sidecars::owned`). See `domain::proxy`.
pub mod image;
#[cfg(test)]
mod tests;

use super::{Ctx, Progress, ProgressFn};
use crate::config::network::check_domain;
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::net_profile::NetProfile;
use crate::domain::networks::{workspace_network, workspace_network_labels};
use crate::domain::proxy;
use crate::domain::resources::Resources;
use crate::domain::workspace::{Workspace, WorkspaceSpec};
use crate::engine::{EngineError, NetworkSpec, ProxySidecarSpec};
use anyhow::{anyhow, bail, Result};

/// What the proxy step made (removed again if the create fails).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Made {
    /// The workspace's internal network, made by this create.
    pub network: Option<String>,
    pub container: Option<String>,
}

/// Is this spec a proxy workspace's?
pub fn wanted(spec: &WorkspaceSpec) -> bool {
    spec.options.net_profile == NetProfile::Proxy
}

/// Refuses a proxy create that cannot work, before anything is made.
pub async fn preflight(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<(), String> {
    if !wanted(spec) {
        return Ok(());
    }
    // Checked when parsed; checked again here, the last place before the sidecar.
    for d in &spec.options.allow_domains {
        check_domain(d)?;
    }
    match image::IMAGE.missing_sentence(ctx).await {
        Ok(None) => Ok(()),
        Ok(Some(s)) => Err(s),
        Err(e) => Err(format!("{e:#}")),
    }
}

/// The workspace's own network, made internal; one already there must be berth's
/// for this workspace and internal (a leftover of an interrupted create is reused).
pub async fn ensure_network(ctx: &Ctx, name: &WorkspaceName, made: &mut Made) -> Result<String> {
    let net = workspace_network(name);
    if made.network.as_deref() == Some(net.as_str()) {
        // Made by this create already (it is trying another SSH port).
        return Ok(net);
    }
    let spec = NetworkSpec {
        internal: true,
        ..NetworkSpec::bridge(
            net.clone(),
            workspace_network_labels(&ctx.config.labels, name),
        )
    };
    // Noted first, so a failure or a cancel during the call still removes it.
    made.network = Some(net.clone());
    if ctx.engine.create_network(&spec).await? {
        return Ok(net);
    }
    made.network = None;
    let info = ctx
        .engine
        .inspect_network(&net)
        .await?
        .ok_or_else(|| anyhow!("network {net} vanished right after it was there"))?;
    let ours = info.labels.get(labels::ROLE).map(String::as_str)
        == Some(labels::ROLE_WORKSPACE_NETWORK)
        && info.labels.get(labels::NAME).map(String::as_str) == Some(name.as_str());
    if !ours {
        bail!("the engine has a network {net} that berth did not make for workspace {name}; remove it (`docker network rm {net}`) and create the workspace again");
    }
    if !info.internal {
        bail!("the network {net} left by an earlier workspace {name} is not internal, so it cannot hold a proxy workspace; remove it (`docker network rm {net}`) and create the workspace again");
    }
    Ok(net)
}

/// What stops a start of the sidecar: the SSH port taken (another port is tried),
/// or anything else.
pub enum StartError {
    PortTaken(String),
    Other(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for StartError {
    fn from(e: E) -> Self {
        StartError::Other(e.into())
    }
}

/// The create step: network, image, sidecar (publishing `port`), started.
pub async fn provision(
    ctx: &Ctx,
    spec: &WorkspaceSpec,
    port: u16,
    made: &mut Made,
    progress: ProgressFn<'_>,
) -> Result<(), StartError> {
    let name = &spec.name;
    let net = ensure_network(ctx, name, made).await?;
    let image = image::IMAGE.ensure(ctx, progress).await?;
    let domains = checked(&spec.options.allow_domains)?;
    let sidecar = name.sidecar(proxy::KIND);
    let s = ProxySidecarSpec {
        container: sidecar.clone(),
        image,
        labels: labels::sidecar_labels(&spec.extra_labels, name.as_str(), proxy::KIND, false),
        env: proxy::sidecar_env(&domains, name),
        internal_network: net,
        alias: proxy::ALIAS.into(),
        outside_network: proxy::OUTSIDE_NETWORK.into(),
        ssh_host_port: port,
        ssh_forward_port: proxy::SSH_FORWARD_PORT,
        bind_address: ctx.config.bind_address,
        user: proxy::USER.into(),
        resources: Resources {
            memory_bytes: proxy::MEMORY_BYTES,
            pids: proxy::PIDS_LIMIT,
            cpus: spec.resources.cpus,
        },
    };
    made.container = Some(sidecar.clone());
    ctx.engine.create_proxy_sidecar(&s).await?;
    match ctx.engine.start_container(&sidecar).await {
        Err(EngineError::PortTaken(m)) => return Err(StartError::PortTaken(m)),
        r => r?,
    }
    progress
        .report(Progress::Note(format!(
            "network profile proxy: the workspace's only network is the internal {}; its way out is {sidecar} ({}, every request logged: `berth egress {name}`); allowed: {}",
            workspace_network(name),
            proxy::URL,
            proxy::describe_allowlist(&domains)
        )))
        .await;
    Ok(())
}

/// The allowlist checked (again) and normalized for Squid.
fn checked(domains: &[String]) -> Result<Vec<String>> {
    let d = domains
        .iter()
        .map(|d| check_domain(d))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| anyhow!(e))?;
    Ok(proxy::normalize_allowlist(&d))
}

/// Labels the workspace container of a proxy workspace gets: its allowlist.
pub fn workspace_labels(spec: &WorkspaceSpec, l: &mut std::collections::BTreeMap<String, String>) {
    if wanted(spec) && !spec.options.allow_domains.is_empty() {
        l.insert(
            proxy::ALLOW_LABEL.into(),
            proxy::allow_label(&spec.options.allow_domains),
        );
    }
}

/// The proxy variables a proxy workspace gets (after `--env`, which cannot set them).
pub fn public_env(spec: &WorkspaceSpec, env: &mut Vec<(String, String)>) {
    if wanted(spec) {
        env.retain(|(k, _)| !proxy::is_proxy_var(k));
        env.extend(proxy::workspace_env(&[]));
    }
}

/// After the workspace container is made (not started): apt's proxy setting,
/// written through the engine as root (not secret).
pub async fn configure_workspace(ctx: &Ctx, container: &str) -> Result<()> {
    ctx.engine
        .write_file(
            container,
            proxy::APT_CONF_PATH,
            proxy::apt_conf().as_bytes(),
            0o644,
        )
        .await?;
    Ok(())
}

/// Removes what the step made: the sidecar, then (once the workspace's container
/// is gone too) the network. Says what it removed and what it could not.
pub async fn undo_sidecar(
    ctx: &Ctx,
    made: &mut Made,
    removed: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    if let Some(c) = made.container.take() {
        match ctx.engine.remove_container(&c).await {
            Ok(()) => removed.push(format!("sidecar {c}")),
            Err(e) if e.is_not_found() => {}
            Err(e) => problems.push(format!("sidecar {c}: {e}")),
        }
    }
}

/// The network half of the undo (after every container on it is gone).
pub async fn undo_network(
    ctx: &Ctx,
    made: &mut Made,
    removed: &mut Vec<String>,
    problems: &mut Vec<String>,
) {
    if let Some(n) = made.network.take() {
        match ctx.engine.remove_network(&n).await {
            Ok(()) => removed.push(format!("network {n}")),
            Err(e) => problems.push(format!("network {n}: {e}")),
        }
    }
}

/// A proxy workspace's proxy as `berth status` and the status pane show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProxyView {
    pub sidecar: String,
    pub url: String,
    /// Empty: every domain.
    pub allow_domains: Vec<String>,
    /// Whether its sidecar runs (`None`: unknown).
    pub running: Option<bool>,
}

impl ProxyView {
    /// One line: "proxy workspace-a.proxy (running), allows only a.test (...)".
    pub fn describe(&self) -> String {
        let state = match self.running {
            Some(true) => "running",
            Some(false) => "stopped",
            None => "state unknown",
        };
        format!(
            "{} ({state}) at {}; allows {}",
            self.sidecar,
            self.url,
            proxy::describe_allowlist(&self.allow_domains)
        )
    }
}

/// Is `w` a proxy workspace (its profile label says so)?
pub fn is_proxy_workspace(w: &Workspace) -> bool {
    NetProfile::from_label(
        w.labels
            .get(crate::domain::net_profile::LABEL)
            .map(String::as_str),
    ) == NetProfile::Proxy
}

/// The workspace's proxy, when its profile is proxy.
pub async fn view(ctx: &Ctx, w: &Workspace) -> Option<ProxyView> {
    if !is_proxy_workspace(w) {
        return None;
    }
    let sidecar = WorkspaceName::parse(&w.name).ok()?.sidecar(proxy::KIND);
    let running = match ctx.engine.sidecars(&w.name).await {
        Ok(list) => Some(list.iter().any(|s| s.container == sidecar && s.running)),
        Err(_) => None,
    };
    Some(ProxyView {
        sidecar,
        url: proxy::URL.into(),
        allow_domains: proxy::allowlist(&w.labels),
        running,
    })
}
