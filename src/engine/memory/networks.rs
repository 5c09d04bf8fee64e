//! The in-memory engine's networks and service containers, behaving like Docker's
//! where berth relies on it: a name resolves only between containers that share a
//! network (container name or alias), a network with a running member is refused
//! removal, one removed under a stopped member keeps that member from starting,
//! and attachments follow container ids, not names.
use super::state::{Container, State};
use super::{MemoryEngine, Op};
use crate::domain::labels;
use crate::engine::network::{NetworkEngine, NetworkInfo, NetworkSpec, ServiceInfo, ServiceSpec};
use crate::engine::{EngineError, EngineResult};
use async_trait::async_trait;
use std::collections::BTreeMap;

/// A network as the memory engine keeps it.
pub struct Net {
    pub id: String,
    pub labels: BTreeMap<String, String>,
    pub internal: bool,
    pub icc: bool,
}

impl State {
    /// Refuses to start a container attached to a network that is gone.
    pub fn check_networks(&self, container_id: &str) -> Result<(), EngineError> {
        for net_id in self
            .attached
            .get(container_id)
            .into_iter()
            .flat_map(|m| m.keys())
        {
            if !self.networks.values().any(|n| n.id == *net_id) {
                return Err(EngineError::NotFound {
                    what: format!("network {net_id} not found"),
                });
            }
        }
        Ok(())
    }

    /// Names of the containers attached to network `id`, sorted.
    fn members(&self, id: &str) -> Vec<String> {
        let mut out: Vec<String> = self
            .containers
            .values()
            .filter(|c| self.attached.get(&c.id).is_some_and(|m| m.contains_key(id)))
            .map(|c| c.name.clone())
            .collect();
        out.sort();
        out
    }

    fn network_info(&self, name: &str) -> Option<NetworkInfo> {
        let n = self.networks.get(name)?;
        Some(NetworkInfo {
            name: name.to_string(),
            id: n.id.clone(),
            driver: "bridge".into(),
            labels: n.labels.clone(),
            internal: n.internal,
            icc: n.icc,
            containers: self.members(&n.id),
        })
    }

    fn net_not_found(name: &str) -> EngineError {
        EngineError::NotFound {
            what: format!("network {name} not found"),
        }
    }

    /// Names of the networks container `id` is on, sorted.
    fn networks_of(&self, id: &str) -> Vec<String> {
        let ids = self.attached.get(id);
        let mut out: Vec<String> = self
            .networks
            .iter()
            .filter(|(_, n)| ids.is_some_and(|m| m.contains_key(&n.id)))
            .map(|(name, _)| name.clone())
            .collect();
        out.sort();
        out
    }
}

impl MemoryEngine {
    /// Would `from` reach `name` by DNS: do they share a network on which `name` is
    /// the other container's name or one of its aliases? (For tests.)
    pub fn resolves(&self, from: &str, name: &str) -> bool {
        let s = self.inner.lock();
        let Some(me) = s.find(from) else {
            return false;
        };
        let mine = s.attached.get(&me.id).cloned().unwrap_or_default();
        s.containers.values().any(|c| {
            c.name != me.name
                && s.attached.get(&c.id).is_some_and(|theirs| {
                    theirs.iter().any(|(net, aliases)| {
                        mine.contains_key(net)
                            && (c.name == name || aliases.iter().any(|a| a == name))
                    })
                })
        })
    }

    /// Names of the networks that exist.
    pub fn network_names(&self) -> Vec<String> {
        self.inner.lock().networks.keys().cloned().collect()
    }
}

#[async_trait]
impl NetworkEngine for MemoryEngine {
    async fn create_network(&self, spec: &NetworkSpec) -> EngineResult<bool> {
        self.inner.update(|s| {
            s.enter(Op::CreateNetwork)?;
            if s.networks.contains_key(&spec.name) {
                return Ok(false);
            }
            let id = s.new_id();
            s.networks.insert(
                spec.name.clone(),
                Net {
                    id,
                    labels: spec.labels.clone(),
                    internal: spec.internal,
                    icc: spec.icc,
                },
            );
            Ok(true)
        })
    }

    async fn remove_network(&self, name: &str) -> EngineResult<()> {
        self.inner.update(|s| {
            s.enter(Op::RemoveNetwork)?;
            let Some(n) = s.networks.get(name) else {
                return Ok(());
            };
            let busy = s.containers.values().any(|c| {
                c.running() && s.attached.get(&c.id).is_some_and(|m| m.contains_key(&n.id))
            });
            if busy {
                return Err(EngineError::Conflict(format!(
                    "error while removing network: network {name} id {} has active endpoints",
                    n.id
                )));
            }
            s.networks.remove(name);
            Ok(())
        })
    }

    async fn inspect_network(&self, name: &str) -> EngineResult<Option<NetworkInfo>> {
        let mut s = self.inner.lock();
        s.enter(Op::InspectNetwork)?;
        Ok(s.network_info(name))
    }

    async fn networks_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<NetworkInfo>> {
        let mut s = self.inner.lock();
        s.enter(Op::InspectNetwork)?;
        Ok(s.networks
            .iter()
            .filter(|(_, n)| {
                want.iter()
                    .all(|(k, v)| n.labels.get(*k).map(String::as_str) == Some(*v))
            })
            .filter_map(|(name, _)| s.network_info(name))
            .collect())
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        aliases: &[String],
    ) -> EngineResult<()> {
        self.inner.update(|s| {
            s.enter(Op::ConnectNetwork)?;
            let net = s
                .networks
                .get(network)
                .ok_or_else(|| State::net_not_found(network))?
                .id
                .clone();
            let c = s
                .find(container)
                .ok_or_else(|| State::not_found(container))?;
            let (id, name) = (c.id.clone(), c.name.clone());
            let on = s.attached.entry(id).or_default();
            if on.contains_key(&net) {
                return Err(EngineError::Conflict(format!(
                    "endpoint with name {name} already exists in network {network}"
                )));
            }
            on.insert(net, aliases.to_vec());
            Ok(())
        })
    }

    async fn disconnect_network(&self, network: &str, container: &str) -> EngineResult<()> {
        self.inner.update(|s| {
            s.enter(Op::DisconnectNetwork)?;
            let (Some(net), Some(c)) = (s.networks.get(network), s.find(container)) else {
                return Ok(());
            };
            let (net, id) = (net.id.clone(), c.id.clone());
            if let Some(on) = s.attached.get_mut(&id) {
                on.remove(&net);
            }
            Ok(())
        })
    }

    async fn create_service(&self, spec: &ServiceSpec) -> EngineResult<String> {
        self.inner.update(|s| {
            s.enter(Op::CreateService)?;
            if s.containers.contains_key(&spec.container) {
                return Err(EngineError::Conflict(format!(
                    "Conflict. The container name \"/{}\" is already in use",
                    spec.container
                )));
            }
            if !s.images.contains(&spec.image) {
                return Err(EngineError::NotFound {
                    what: format!("No such image: {}", spec.image),
                });
            }
            let net = s
                .networks
                .get(&spec.network)
                .ok_or_else(|| State::net_not_found(&spec.network))?
                .id
                .clone();
            let id = s.new_id();
            let created = s.clock.now_secs();
            s.containers.insert(
                spec.container.clone(),
                Container {
                    memory_limit: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
                    pids_limit: Some(spec.resources.pids).filter(|p| *p > 0),
                    extras: super::Extras {
                        ports: spec.ports.clone(),
                        ..Default::default()
                    },
                    ..Container::new(
                        id.clone(),
                        &spec.container,
                        &spec.image,
                        spec.labels.clone(),
                        created,
                    )
                },
            );
            s.attached
                .entry(id.clone())
                .or_default()
                .insert(net, spec.aliases.clone());
            s.event(&spec.container, "create");
            Ok(id)
        })
    }

    async fn services(&self, workspace: &str) -> EngineResult<Vec<ServiceInfo>> {
        let mut s = self.inner.lock();
        s.enter(Op::Services)?;
        let mut out: Vec<ServiceInfo> = s
            .containers
            .values()
            .filter(|c| {
                c.labels.get(labels::ROLE).map(String::as_str) == Some(labels::ROLE_SIDECAR)
                    && c.labels.get(labels::NAME).map(String::as_str) == Some(workspace)
                    && c.labels.contains_key(labels::SERVICE)
            })
            .map(|c| ServiceInfo {
                name: c.labels[labels::SERVICE].clone(),
                container: c.name.clone(),
                image: c.image.clone(),
                state: c.state,
                ports: c.extras.ports.clone(),
                networks: s.networks_of(&c.id),
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}
