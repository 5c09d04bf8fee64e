//! The engine's networks and service containers, in domain terms: a part of the
//! [`super::Engine`] trait of its own (`docker_network.rs` for Docker,
//! `memory/networks.rs` for the in-memory engine).
use super::EngineResult;
use crate::domain::create_options::PortMap;
use crate::domain::resources::Resources;
use crate::domain::workspace::WorkspaceState;
use async_trait::async_trait;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A network to create (a bridge on the engine's host).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetworkSpec {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    /// No route out of it (the engine's `--internal`): its containers reach only
    /// each other.
    pub internal: bool,
    /// Containers on it may reach each other (the engine's default); `false`
    /// turns inter-container communication off.
    pub icc: bool,
}

impl NetworkSpec {
    /// A plain bridge: routed out, inter-container communication on.
    pub fn bridge(name: String, labels: BTreeMap<String, String>) -> Self {
        Self {
            name,
            labels,
            internal: false,
            icc: true,
        }
    }
}

/// What the engine says about a network.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NetworkInfo {
    pub name: String,
    pub id: String,
    pub driver: String,
    pub labels: BTreeMap<String, String>,
    /// See [`NetworkSpec::internal`].
    pub internal: bool,
    /// See [`NetworkSpec::icc`].
    pub icc: bool,
    /// Names of the containers attached to it, stopped ones included, sorted.
    pub containers: Vec<String>,
}

/// A service container to create, beside a workspace.
#[derive(Debug, Clone, PartialEq)]
pub struct ServiceSpec {
    /// No hostname is set: the engine makes it a DNS name on every network the
    /// container joins, so `SERVICE` would leak onto named networks.
    pub container: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// `NAME=VALUE` (public: `docker inspect` shows them).
    pub env: Vec<String>,
    /// The command; the image's own when empty.
    pub cmd: Vec<String>,
    /// The network it is created on (its only one until connected to others).
    pub network: String,
    /// Its DNS names on that network.
    pub aliases: Vec<String>,
    /// Published on `bind_address`.
    pub ports: Vec<PortMap>,
    pub bind_address: IpAddr,
    pub resources: Resources,
}

/// A service as the engine has it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceInfo {
    /// Its service name (the `dev.berth.service` label).
    pub name: String,
    pub container: String,
    pub image: String,
    pub state: WorkspaceState,
    pub ports: Vec<PortMap>,
    /// The networks it is on, sorted.
    pub networks: Vec<String>,
}

#[async_trait]
pub trait NetworkEngine: Send + Sync {
    /// Creates a network; `Ok(false)` when one of that name exists (left untouched).
    async fn create_network(&self, spec: &NetworkSpec) -> EngineResult<bool>;
    /// Removes a network; gone already counts as removed. The engine refuses one
    /// that a running container is on ([`super::EngineError::Conflict`]).
    async fn remove_network(&self, name: &str) -> EngineResult<()>;
    /// A network by name; `Ok(None)` when it does not exist.
    async fn inspect_network(&self, name: &str) -> EngineResult<Option<NetworkInfo>>;
    /// The networks carrying every `key=value` label in `want`, sorted by name.
    async fn networks_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<NetworkInfo>>;
    /// Attaches a container (running or not) with DNS `aliases` on that network.
    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        aliases: &[String],
    ) -> EngineResult<()>;
    /// Detaches a container; one not attached (or gone) counts as detached.
    async fn disconnect_network(&self, network: &str, container: &str) -> EngineResult<()>;
    /// Creates (not starts) a service container.
    async fn create_service(&self, spec: &ServiceSpec) -> EngineResult<String>;
    /// The services of workspace `workspace`, sorted by name.
    async fn services(&self, workspace: &str) -> EngineResult<Vec<ServiceInfo>>;
}
