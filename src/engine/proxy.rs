//! The egress proxy sidecar of a `proxy` workspace, as the engine is asked for it
//! (`domain::proxy` says what it is and why).
use crate::domain::resources::Resources;
use std::collections::BTreeMap;
use std::net::IpAddr;

/// A workspace's proxy sidecar to create: on the workspace's internal network
/// under `alias` and on `outside_network` (its way out), publishing the
/// workspace's SSH port, hardened like the workspace (every capability dropped, no
/// new privileges, an unprivileged user, memory and process limits).
#[derive(Debug, Clone, PartialEq)]
pub struct ProxySidecarSpec {
    pub container: String,
    pub image: String,
    pub labels: BTreeMap<String, String>,
    /// `NAME=VALUE`: its configuration (public: `docker inspect` shows it).
    pub env: Vec<String>,
    /// The workspace's internal network, where the workspace reaches it.
    pub internal_network: String,
    /// Its DNS name there.
    pub alias: String,
    /// The network with a route out.
    pub outside_network: String,
    /// The workspace's SSH port, published on `bind_address`...
    pub ssh_host_port: u16,
    /// ...to this port of the sidecar, which forwards it to the workspace's sshd.
    pub ssh_forward_port: u16,
    pub bind_address: IpAddr,
    /// The user it runs as.
    pub user: String,
    /// Memory and processes (CPU as the workspace's).
    pub resources: Resources,
}
