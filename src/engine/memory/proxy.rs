//! The memory engine's side of network profile `proxy`: a container created on a
//! network (`ContainerSpec::network_mode`) is attached to it, and publishes no
//! port when that network is internal (as Docker does); the proxy sidecar is on
//! the internal network under its alias and publishes the workspace's SSH port.
use super::state::{Container, State};
use super::{MemoryEngine, Op};
use crate::engine::{EngineError, EngineResult, ProxySidecarSpec};

/// The engine's default bridge: always there, never listed among the networks.
const DEFAULT_BRIDGE: &str = "bridge";

impl State {
    /// For a container created on network `mode`: the network's id and whether it
    /// is internal; an error when it does not exist (the engine refuses that).
    pub fn network_at_create(
        &self,
        mode: Option<&str>,
    ) -> Result<Option<(String, bool)>, EngineError> {
        let Some(name) = mode.filter(|m| *m != DEFAULT_BRIDGE) else {
            return Ok(None);
        };
        let n = self
            .networks
            .get(name)
            .ok_or_else(|| EngineError::NotFound {
                what: format!("network {name} not found"),
            })?;
        Ok(Some((n.id.clone(), n.internal)))
    }
}

pub(super) fn create_sidecar(eng: &MemoryEngine, spec: &ProxySidecarSpec) -> EngineResult<String> {
    eng.inner.update(|s| {
        s.enter(Op::CreateProxySidecar)?;
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
        let (net, _) = s
            .network_at_create(Some(&spec.internal_network))?
            .ok_or_else(|| {
                EngineError::Api("the proxy needs the workspace's own network".into())
            })?;
        let outside = s.network_at_create(Some(&spec.outside_network))?;
        let id = s.new_id();
        let created = s.clock.now_secs();
        s.containers.insert(
            spec.container.clone(),
            Container {
                host_port: Some(spec.ssh_host_port),
                memory_limit: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
                pids_limit: Some(spec.resources.pids).filter(|p| *p > 0),
                extras: super::Extras {
                    env: spec.env.clone(),
                    user: Some(spec.user.clone()),
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
        let on = s.attached.entry(id.clone()).or_default();
        on.insert(net, vec![spec.alias.clone()]);
        if let Some((outside, _)) = outside {
            on.insert(outside, vec![]);
        }
        s.event(&spec.container, "create");
        Ok(id)
    })
}
