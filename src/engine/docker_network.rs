//! [`NetworkEngine`] for Docker: networks (create, remove, inspect, list, connect,
//! disconnect) and service containers. Bollard's models stay here.
use super::docker::{hash, map_err, DockerEngine};
use super::network::{NetworkEngine, NetworkInfo, NetworkSpec, ServiceInfo, ServiceSpec};
use super::{Engine, EngineError, EngineResult};
use crate::domain::create_options::PortMap;
use crate::domain::labels;
use crate::domain::workspace::WorkspaceState;
use async_trait::async_trait;
use bollard::errors::Error as BErr;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkConnectRequest, NetworkCreateRequest,
    NetworkDisconnectRequest, NetworkingConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters as qp;
use futures_util::StreamExt;
use std::collections::HashMap;

/// The bridge driver's option that turns inter-container communication off.
const ICC_OPTION: &str = "com.docker.network.bridge.enable_icc";

/// Inter-container communication of a network with driver `options`: on unless
/// the bridge option says "false".
fn icc_of(options: Option<&HashMap<String, String>>) -> bool {
    options
        .and_then(|o| o.get(ICC_OPTION))
        .is_none_or(|v| v != "false")
}

impl DockerEngine {
    fn net_err(&self, e: BErr) -> EngineError {
        match e {
            // The engine says 403 for "in use" and "already attached".
            BErr::DockerResponseServerError {
                status_code: 403,
                message,
            } => EngineError::Conflict(message),
            e => map_err(&self.endpoint(), e),
        }
    }

    /// Names of the containers attached to `network`, stopped ones included (the
    /// network's own inspect lists only running ones).
    async fn attached(&self, network: &str) -> EngineResult<Vec<String>> {
        let filters = HashMap::from([("network".to_string(), vec![network.to_string()])]);
        let opts = qp::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let list = self
            .docker()
            .list_containers(Some(opts))
            .await
            .map_err(|e| self.net_err(e))?;
        let mut names: Vec<String> = list
            .into_iter()
            .filter_map(|c| c.names?.first().cloned())
            .map(|n| n.trim_start_matches('/').to_string())
            .collect();
        names.sort();
        Ok(names)
    }
}

#[async_trait]
impl NetworkEngine for DockerEngine {
    async fn create_network(&self, spec: &NetworkSpec) -> EngineResult<bool> {
        let req = NetworkCreateRequest {
            name: spec.name.clone(),
            driver: Some("bridge".into()),
            labels: Some(hash(&spec.labels)),
            internal: Some(spec.internal),
            options: (!spec.icc)
                .then(|| HashMap::from([(ICC_OPTION.to_string(), "false".to_string())])),
            ..Default::default()
        };
        match self.docker().create_network(req).await {
            // Engines before API 1.44 make a second network of the same name and
            // only warn: that one is removed again (by id), the first one stays.
            Ok(r) if r.warning.contains("already exists") => {
                self.docker()
                    .remove_network(&r.id)
                    .await
                    .map_err(|e| self.net_err(e))?;
                Ok(false)
            }
            Ok(_) => Ok(true),
            Err(e) => match self.net_err(e) {
                EngineError::Conflict(_) => Ok(false),
                other => Err(other),
            },
        }
    }

    async fn remove_network(&self, name: &str) -> EngineResult<()> {
        match self.docker().remove_network(name).await {
            Ok(()) => Ok(()),
            Err(e) => match self.net_err(e) {
                EngineError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn inspect_network(&self, name: &str) -> EngineResult<Option<NetworkInfo>> {
        let n = match self
            .docker()
            .inspect_network(name, None::<qp::InspectNetworkOptions>)
            .await
        {
            Ok(n) => n,
            Err(e) => {
                return match self.net_err(e) {
                    EngineError::NotFound { .. } => Ok(None),
                    other => Err(other),
                }
            }
        };
        let found = n.name.unwrap_or_default();
        // The engine also answers for an id or a prefix of one: only the name counts.
        if found != name {
            return Ok(None);
        }
        Ok(Some(NetworkInfo {
            containers: self.attached(&found).await?,
            name: found,
            id: n.id.unwrap_or_default(),
            driver: n.driver.unwrap_or_default(),
            internal: n.internal.unwrap_or(false),
            icc: icc_of(n.options.as_ref()),
            labels: n.labels.unwrap_or_default().into_iter().collect(),
        }))
    }

    async fn networks_labelled(&self, want: &[(&str, &str)]) -> EngineResult<Vec<NetworkInfo>> {
        let filters = super::docker_labelled::label_filter(want);
        let list = self
            .docker()
            .list_networks(Some(qp::ListNetworksOptions {
                filters: Some(filters),
            }))
            .await
            .map_err(|e| self.net_err(e))?;
        let list = list.into_iter().filter(|n| {
            n.labels.as_ref().map_or(want.is_empty(), |l| {
                super::docker_labelled::has_labels(l, want)
            })
        });
        let found = futures_util::stream::iter(list)
            .map(|n| async move {
                let name = n.name.unwrap_or_default();
                Ok::<_, EngineError>(NetworkInfo {
                    containers: self.attached(&name).await?,
                    name,
                    id: n.id.unwrap_or_default(),
                    driver: n.driver.unwrap_or_default(),
                    internal: n.internal.unwrap_or(false),
                    icc: icc_of(n.options.as_ref()),
                    labels: n.labels.unwrap_or_default().into_iter().collect(),
                })
            })
            .buffer_unordered(8)
            .collect::<Vec<_>>()
            .await;
        let mut out = found.into_iter().collect::<EngineResult<Vec<_>>>()?;
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }

    async fn connect_network(
        &self,
        network: &str,
        container: &str,
        aliases: &[String],
    ) -> EngineResult<()> {
        let req = NetworkConnectRequest {
            container: container.to_string(),
            endpoint_config: Some(EndpointSettings {
                aliases: (!aliases.is_empty()).then(|| aliases.to_vec()),
                ..Default::default()
            }),
        };
        self.docker()
            .connect_network(network, req)
            .await
            .map_err(|e| self.net_err(e))
    }

    async fn disconnect_network(&self, network: &str, container: &str) -> EngineResult<()> {
        let req = NetworkDisconnectRequest {
            container: container.to_string(),
            force: Some(true),
        };
        match self.docker().disconnect_network(network, req).await {
            Ok(()) => Ok(()),
            Err(BErr::DockerResponseServerError { message, .. })
                if message.contains("is not connected") =>
            {
                Ok(())
            }
            Err(e) => match self.net_err(e) {
                EngineError::NotFound { .. } => Ok(()),
                other => Err(other),
            },
        }
    }

    async fn create_service(&self, spec: &ServiceSpec) -> EngineResult<String> {
        let (body, opts) = service_body(spec);
        let r = self
            .docker()
            .create_container(Some(opts), body)
            .await
            .map_err(|e| self.net_err(e))?;
        Ok(r.id)
    }

    async fn services(&self, workspace: &str) -> EngineResult<Vec<ServiceInfo>> {
        let filters = HashMap::from([(
            "label".to_string(),
            vec![
                format!("{}={}", labels::ROLE, labels::ROLE_SIDECAR),
                format!("{}={workspace}", labels::NAME),
                labels::SERVICE.to_string(),
            ],
        )]);
        let opts = qp::ListContainersOptions {
            all: true,
            filters: Some(filters),
            ..Default::default()
        };
        let list = self
            .docker()
            .list_containers(Some(opts))
            .await
            .map_err(|e| self.net_err(e))?;
        let want = [
            (labels::ROLE, labels::ROLE_SIDECAR),
            (labels::NAME, workspace),
        ];
        let mut out: Vec<ServiceInfo> = list
            .into_iter()
            .filter(|c| {
                c.labels.as_ref().is_some_and(|l| {
                    super::docker_labelled::has_labels(l, &want) && l.contains_key(labels::SERVICE)
                })
            })
            .map(|c| {
                let container = c
                    .names
                    .and_then(|n| n.first().cloned())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string();
                let mut ports: Vec<PortMap> = c
                    .ports
                    .unwrap_or_default()
                    .into_iter()
                    .filter_map(|p| {
                        Some(PortMap {
                            host: p.public_port?,
                            container: p.private_port,
                        })
                    })
                    .collect();
                ports.sort_by_key(|p| (p.host, p.container));
                ports.dedup();
                let mut networks: Vec<String> = c
                    .network_settings
                    .and_then(|n| n.networks)
                    .map(|n| n.into_keys().collect())
                    .unwrap_or_default();
                networks.sort();
                ServiceInfo {
                    name: c
                        .labels
                        .and_then(|l| l.get(labels::SERVICE).cloned())
                        .unwrap_or_else(|| container.clone()),
                    container,
                    image: c.image.unwrap_or_default(),
                    state: WorkspaceState::from_engine(
                        &c.state.map(|s| s.to_string()).unwrap_or_default(),
                    ),
                    ports,
                    networks,
                }
            })
            .collect();
        out.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(out)
    }
}

/// The engine's create request for a service: on its network with its aliases, its
/// ports on the bind address, no new privileges, an init, the limits, restarted
/// unless stopped (like a workspace). Capabilities stay the engine's defaults:
/// database images need them to drop to their own user.
fn service_body(spec: &ServiceSpec) -> (ContainerCreateBody, qp::CreateContainerOptions) {
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    for p in &spec.ports {
        bindings
            .entry(format!("{}/tcp", p.container))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(spec.bind_address.to_string()),
                host_port: Some(p.host.to_string()),
            });
    }
    let mut exposed: Vec<String> = bindings.keys().cloned().collect();
    exposed.sort();
    let host_config = HostConfig {
        network_mode: Some(spec.network.clone()),
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        memory: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
        memory_swap: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
        pids_limit: Some(spec.resources.pids).filter(|p| *p > 0),
        nano_cpus: spec.resources.cpus.map(|c| (c * 1e9) as i64),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        }),
        init: Some(true),
        ..Default::default()
    };
    let endpoint = EndpointSettings {
        aliases: (!spec.aliases.is_empty()).then(|| spec.aliases.clone()),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        labels: Some(hash(&spec.labels)),
        env: (!spec.env.is_empty()).then(|| spec.env.clone()),
        cmd: (!spec.cmd.is_empty()).then(|| spec.cmd.clone()),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        host_config: Some(host_config),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(spec.network.clone(), endpoint)])),
        }),
        ..Default::default()
    };
    let opts = qp::CreateContainerOptions {
        name: Some(spec.container.clone()),
        platform: String::new(),
    };
    (body, opts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_service_is_on_its_network_with_its_alias_and_ports_on_the_bind_address() {
        let spec = ServiceSpec {
            container: "workspace-w.db".into(),
            image: "postgres:16".into(),
            labels: Default::default(),
            env: vec!["A=1".into()],
            cmd: vec![],
            network: "workspace-w".into(),
            aliases: vec!["db".into()],
            ports: vec![PortMap {
                host: 5433,
                container: 5432,
            }],
            bind_address: "127.0.0.1".parse().unwrap(),
            resources: Default::default(),
        };
        let (body, opts) = service_body(&spec);
        assert_eq!(opts.name.as_deref(), Some("workspace-w.db"));
        assert!(body.cmd.is_none(), "the image's own command");
        assert!(
            body.hostname.is_none(),
            "the engine would make it an alias everywhere"
        );
        let hc = body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("workspace-w"));
        let b = &hc.port_bindings.unwrap()["5432/tcp"].clone().unwrap()[0];
        assert_eq!(
            (b.host_ip.as_deref(), b.host_port.as_deref()),
            (Some("127.0.0.1"), Some("5433"))
        );
        assert_eq!(
            hc.security_opt.unwrap(),
            vec!["no-new-privileges:true".to_string()]
        );
        assert!(hc.cap_drop.is_none());
        let eps = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(
            eps["workspace-w"].aliases.as_deref(),
            Some(&["db".to_string()][..])
        );
    }
}

#[cfg(test)]
mod icc_tests {
    use super::*;

    #[test]
    fn icc_is_on_unless_the_bridge_option_turns_it_off() {
        assert!(icc_of(None));
        assert!(icc_of(Some(&HashMap::new())));
        let off = HashMap::from([(ICC_OPTION.to_string(), "false".to_string())]);
        assert!(!icc_of(Some(&off)));
        let on = HashMap::from([(ICC_OPTION.to_string(), "true".to_string())]);
        assert!(icc_of(Some(&on)));
    }
}
