//! The engine's create request for a workspace container (bollard's models stay
//! in the engine module).
use super::docker::hash;
use super::ContainerSpec;
use bollard::models::{
    ContainerCreateBody, HostConfig, PortBinding, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters as qp;
use std::collections::HashMap;

/// The engine's create request for `spec`: hardened (every capability dropped, no
/// new privileges, init), the home volume and binds, the SSH port and any extra
/// published ports on the bind address.
/// On podman (`podman`), tmpfs ownership is said its way (`domain::podman`).
pub(super) fn create_body(
    spec: &ContainerSpec,
    podman: bool,
) -> (ContainerCreateBody, qp::CreateContainerOptions) {
    let mut bindings: HashMap<String, Option<Vec<PortBinding>>> = HashMap::new();
    let ssh = spec.ssh_host_port.map(|h| (spec.ssh_container_port, h));
    for (container, host) in ssh
        .into_iter()
        .chain(spec.ports.iter().map(|p| (p.container, p.host)))
    {
        // One container port may be published on several host ports.
        bindings
            .entry(format!("{container}/tcp"))
            .or_insert_with(|| Some(Vec::new()))
            .get_or_insert_with(Vec::new)
            .push(PortBinding {
                host_ip: Some(spec.bind_address.to_string()),
                host_port: Some(host.to_string()),
            });
    }
    let mut exposed: Vec<String> = bindings.keys().cloned().collect();
    exposed.sort();
    let mut binds = vec![format!("{}:{}", spec.volume, spec.mount_point)];
    binds.extend(spec.binds.iter().map(|b| {
        let mode = if b.read_only { "ro" } else { "rw" };
        format!("{}:{}:{mode}", b.host.display(), b.path)
    }));
    let host_config = HostConfig {
        binds: Some(binds),
        // Nothing published (no network): no bindings at all, which the engine
        // refuses for network mode `none`.
        port_bindings: (!bindings.is_empty()).then_some(bindings),
        network_mode: spec.network.clone(),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        memory: Some(spec.resources.memory_bytes),
        memory_swap: Some(spec.resources.memory_bytes),
        pids_limit: Some(spec.resources.pids),
        nano_cpus: spec.resources.cpus.map(|c| (c * 1e9) as i64),
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        }),
        init: Some(spec.init),
        runtime: spec.runtime.clone(),
        tmpfs: (!spec.tmpfs.is_empty()).then(|| {
            spec.tmpfs
                .iter()
                .map(|(path, opts)| match podman {
                    true => (path.clone(), crate::domain::podman::tmpfs_options(opts)),
                    false => (path.clone(), opts.clone()),
                })
                .collect()
        }),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        env: (!spec.env.is_empty()).then(|| spec.env.clone()),
        hostname: Some(spec.hostname.clone()),
        image: Some(spec.image.clone()),
        labels: Some(hash(&spec.labels)),
        exposed_ports: (!exposed.is_empty()).then_some(exposed),
        working_dir: spec.workdir.clone(),
        host_config: Some(host_config),
        ..Default::default()
    };
    let opts = qp::CreateContainerOptions {
        name: Some(spec.container.clone()),
        platform: spec.platform.clone().unwrap_or_default(),
    };
    (body, opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::create_options::PortMap;
    use crate::domain::resources::Resources;
    use crate::engine::Bind;

    fn spec() -> ContainerSpec {
        ContainerSpec {
            container: "workspace-a".into(),
            hostname: "a".into(),
            image: "img".into(),
            labels: Default::default(),
            env: vec![],
            tmpfs: vec![],
            volume: "workspace-a".into(),
            mount_point: "/home/workspace".into(),
            ssh_container_port: 2222,
            ssh_host_port: Some(2201),
            network: None,
            bind_address: "127.0.0.1".parse().unwrap(),
            resources: Resources::default(),
            runtime: None,
            platform: None,
            binds: vec![
                Bind {
                    host: "/h/src".into(),
                    path: "/home/workspace/src".into(),
                    read_only: true,
                },
                Bind {
                    host: "/h/data".into(),
                    path: "/data".into(),
                    read_only: false,
                },
            ],
            ports: vec![PortMap {
                host: 8080,
                container: 80,
            }],
            workdir: Some("/home/workspace/src".into()),
            init: true,
            vm: None,
        }
    }

    #[test]
    fn binds_ports_and_workdir_reach_the_request() {
        let (body, opts) = create_body(&spec(), false);
        assert_eq!(opts.name.as_deref(), Some("workspace-a"));
        assert_eq!(body.working_dir.as_deref(), Some("/home/workspace/src"));
        let hc = body.host_config.unwrap();
        assert_eq!(
            hc.binds.unwrap(),
            vec![
                "workspace-a:/home/workspace".to_string(),
                "/h/src:/home/workspace/src:ro".into(),
                "/h/data:/data:rw".into(),
            ]
        );
        let ports = hc.port_bindings.unwrap();
        let host = |k: &str| ports[k].as_ref().unwrap()[0].clone();
        assert_eq!(host("2222/tcp").host_port.as_deref(), Some("2201"));
        assert_eq!(host("80/tcp").host_port.as_deref(), Some("8080"));
        assert_eq!(host("80/tcp").host_ip.as_deref(), Some("127.0.0.1"));
        assert_eq!(
            body.exposed_ports.unwrap(),
            vec!["2222/tcp".to_string(), "80/tcp".into()]
        );
        assert_eq!(hc.cap_drop.unwrap(), vec!["ALL".to_string()]);
        assert_eq!(hc.network_mode, None, "the engine's default bridge");
    }

    #[test]
    fn a_workspace_without_a_network_publishes_nothing() {
        let mut s = spec();
        s.ssh_host_port = None;
        s.ports.clear();
        s.network = Some("none".into());
        let (body, _) = create_body(&s, false);
        let hc = body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.port_bindings, None);
        assert_eq!(body.exposed_ports, None);
        s.network = Some("berth.isolated".into());
        s.ssh_host_port = Some(2201);
        let (body, _) = create_body(&s, false);
        let hc = body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("berth.isolated"));
        assert!(hc.port_bindings.unwrap().contains_key("2222/tcp"));
    }
}
