//! A `proxy` workspace's egress proxy sidecar on the Docker engine: created on the
//! workspace's internal network under its alias, then attached to its way out
//! (its published SSH port needs a network that is not internal).
use super::docker::{hash, map_err, DockerEngine};
use super::network::NetworkEngine;
use super::{Engine, EngineResult, ProxySidecarSpec};
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkingConfig, PortBinding,
    RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters as qp;
use std::collections::HashMap;

/// The engine's create request: every capability dropped, no new privileges, an
/// init, its user, limits, the SSH port published on the bind address, and the
/// same restart policy as its workspace.
pub(super) fn create_body(
    spec: &ProxySidecarSpec,
) -> (ContainerCreateBody, qp::CreateContainerOptions) {
    let port = format!("{}/tcp", spec.ssh_forward_port);
    let bindings = HashMap::from([(
        port.clone(),
        Some(vec![PortBinding {
            host_ip: Some(spec.bind_address.to_string()),
            host_port: Some(spec.ssh_host_port.to_string()),
        }]),
    )]);
    let host_config = HostConfig {
        network_mode: Some(spec.internal_network.clone()),
        port_bindings: Some(bindings),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        memory: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
        memory_swap: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
        pids_limit: Some(spec.resources.pids).filter(|p| *p > 0),
        nano_cpus: spec.resources.cpus.map(|c| (c * 1e9) as i64),
        init: Some(true),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        }),
        ..Default::default()
    };
    let endpoint = EndpointSettings {
        aliases: Some(vec![spec.alias.clone()]),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        user: Some(spec.user.clone()),
        env: Some(spec.env.clone()),
        labels: Some(hash(&spec.labels)),
        exposed_ports: Some(vec![port]),
        host_config: Some(host_config),
        networking_config: Some(NetworkingConfig {
            endpoints_config: Some(HashMap::from([(spec.internal_network.clone(), endpoint)])),
        }),
        ..Default::default()
    };
    let opts = qp::CreateContainerOptions {
        name: Some(spec.container.clone()),
        platform: String::new(),
    };
    (body, opts)
}

/// Creates the sidecar and attaches it to its way out; a failure to attach removes
/// it again (nothing half-made is left).
pub(super) async fn create_sidecar(
    eng: &DockerEngine,
    spec: &ProxySidecarSpec,
) -> EngineResult<String> {
    let (body, opts) = create_body(spec);
    let r = eng
        .docker()
        .create_container(Some(opts), body)
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))?;
    if let Err(e) = eng
        .connect_network(&spec.outside_network, &spec.container, &[])
        .await
    {
        let _ = eng.remove_container(&spec.container).await;
        return Err(e);
    }
    Ok(r.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::resources::Resources;

    #[test]
    fn the_sidecar_is_hardened_on_the_internal_network_and_publishes_ssh() {
        let spec = ProxySidecarSpec {
            container: "workspace-a.proxy".into(),
            image: "berth/proxy:abc".into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            env: vec!["BERTH_ALLOW_DOMAINS=a.test".into()],
            internal_network: "workspace-a".into(),
            alias: "proxy".into(),
            outside_network: "bridge".into(),
            ssh_host_port: 2201,
            ssh_forward_port: 2222,
            bind_address: "127.0.0.1".parse().unwrap(),
            user: "proxy".into(),
            resources: Resources {
                memory_bytes: 1 << 28,
                pids: 256,
                cpus: None,
            },
        };
        let (body, opts) = create_body(&spec);
        assert_eq!(opts.name.as_deref(), Some("workspace-a.proxy"));
        assert_eq!(body.user.as_deref(), Some("proxy"));
        let hc = body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("workspace-a"));
        assert_eq!(hc.cap_drop.unwrap(), ["ALL"]);
        assert_eq!(hc.cap_add, None);
        assert_eq!(hc.privileged, None);
        assert_eq!(hc.security_opt.unwrap(), ["no-new-privileges:true"]);
        assert_eq!((hc.memory, hc.pids_limit), (Some(1 << 28), Some(256)));
        let b = hc.port_bindings.unwrap()["2222/tcp"].clone().unwrap();
        assert_eq!(b[0].host_port.as_deref(), Some("2201"));
        assert_eq!(b[0].host_ip.as_deref(), Some("127.0.0.1"));
        let eps = body.networking_config.unwrap().endpoints_config.unwrap();
        assert_eq!(eps["workspace-a"].aliases.clone().unwrap(), ["proxy"]);
    }
}
