//! The log forwarder on the Docker engine: where a container's json-file log is
//! (its inspect's `LogPath`, else the engine's root directory), and the forwarder's
//! hardened create request. Its host paths go through the Mounts API, which refuses
//! a missing source instead of making a directory there as root (as `Binds` would).
use super::docker::{hash, map_err, DockerEngine};
use super::{EngineError, EngineResult, LogFile, LogForwarderSpec};
use crate::domain::log_forward as lf;
use bollard::models::{
    ContainerCreateBody, HostConfig, Mount, MountType, RestartPolicy, RestartPolicyNameEnum,
};
use bollard::query_parameters as qp;
use std::path::PathBuf;

pub(super) async fn log_file(eng: &DockerEngine, container: &str) -> EngineResult<LogFile> {
    let c = eng
        .docker()
        .inspect_container(container, None::<qp::InspectContainerOptions>)
        .await
        .map_err(|e| map_err(eng.endpoint_str(), e))?;
    let id = c.id.unwrap_or_default();
    if id.is_empty() {
        return Err(EngineError::Api(format!(
            "the engine gave no id for container {container}"
        )));
    }
    let driver = c
        .host_config
        .and_then(|h| h.log_config)
        .and_then(|l| l.typ)
        .unwrap_or_default();
    let path = match c.log_path.filter(|p| !p.is_empty()) {
        Some(p) => PathBuf::from(p),
        // Not started yet: the engine names the file when it first starts it.
        None => {
            let info = eng
                .docker()
                .info()
                .await
                .map_err(|e| map_err(eng.endpoint_str(), e))?;
            let root = info
                .docker_root_dir
                .unwrap_or_else(|| "/var/lib/docker".into());
            PathBuf::from(format!("{root}/containers/{id}/{id}-json.log"))
        }
    };
    Ok(LogFile { id, driver, path })
}

pub(super) fn body(spec: &LogForwarderSpec) -> (ContainerCreateBody, qp::CreateContainerOptions) {
    let mut mounts: Vec<Mount> = spec
        .binds
        .iter()
        .map(|b| Mount {
            typ: Some(MountType::BIND),
            source: Some(b.host.display().to_string()),
            target: Some(b.path.clone()),
            read_only: Some(b.read_only),
            ..Default::default()
        })
        .collect();
    mounts.push(Mount {
        typ: Some(MountType::VOLUME),
        source: Some(spec.volume.clone()),
        target: Some(lf::STATE_DIR.into()),
        read_only: Some(false),
        ..Default::default()
    });
    let host_config = HostConfig {
        mounts: Some(mounts),
        network_mode: Some(if spec.host_network { "host" } else { "none" }.into()),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        readonly_rootfs: Some(true),
        tmpfs: Some(
            [(
                "/tmp".to_string(),
                "rw,nosuid,nodev,noexec,size=16m".to_string(),
            )]
            .into(),
        ),
        group_add: Some(spec.group_add.clone()).filter(|g| !g.is_empty()),
        memory: Some(lf::MEMORY_BYTES),
        memory_swap: Some(lf::MEMORY_BYTES),
        pids_limit: Some(lf::PIDS_LIMIT),
        // Back after an engine restart, like the workspace's other sidecars.
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        }),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: Some(spec.args.clone()),
        user: Some(spec.user.clone()),
        labels: Some(hash(&spec.labels)),
        host_config: Some(host_config),
        ..Default::default()
    };
    let opts = qp::CreateContainerOptions {
        name: Some(spec.container.clone()),
        platform: String::new(),
    };
    (body, opts)
}

pub(super) async fn create(eng: &DockerEngine, spec: &LogForwarderSpec) -> EngineResult<String> {
    let (body, opts) = body(spec);
    let r = eng
        .docker()
        .create_container(Some(opts), body)
        .await
        .map_err(|e| map_err(eng.endpoint_str(), e))?;
    Ok(r.id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::Bind;

    #[test]
    fn the_forwarder_is_hardened_and_sees_only_what_it_is_given() {
        let spec = LogForwarderSpec {
            container: "workspace-a.logs".into(),
            image: "berth/logs:abc".into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            args: vec!["file".into(), "/out/forward.log".into()],
            user: "1000:1000".into(),
            group_add: vec!["0".into()],
            binds: vec![Bind {
                host: "/var/lib/docker/containers/x".into(),
                path: "/logs/workspace".into(),
                read_only: true,
            }],
            volume: "workspace-a.logs".into(),
            host_network: false,
        };
        let (req, opts) = body(&spec);
        assert_eq!(opts.name.as_deref(), Some("workspace-a.logs"));
        assert_eq!(req.user.as_deref(), Some("1000:1000"));
        let hc = req.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.cap_drop.unwrap(), ["ALL"]);
        assert_eq!(hc.cap_add, None);
        assert_eq!(hc.privileged, None);
        assert_eq!(hc.security_opt.unwrap(), ["no-new-privileges:true"]);
        assert_eq!(hc.readonly_rootfs, Some(true));
        assert_eq!(hc.pids_limit, Some(lf::PIDS_LIMIT));
        assert_eq!(hc.memory, Some(lf::MEMORY_BYTES));
        assert_eq!(hc.group_add.unwrap(), ["0"]);
        assert!(hc.binds.is_none(), "binds would make a missing source");
        let mounts = hc.mounts.unwrap();
        assert_eq!(mounts.len(), 2);
        assert_eq!(mounts[0].typ, Some(MountType::BIND));
        assert_eq!(mounts[0].read_only, Some(true));
        assert_eq!(mounts[1].target.as_deref(), Some(lf::STATE_DIR));
        // No engine socket anywhere.
        assert!(!mounts
            .iter()
            .any(|m| m.source.as_deref().unwrap_or("").contains("docker.sock")));
        let syslog = LogForwarderSpec {
            host_network: true,
            ..spec
        };
        let (req, _) = body(&syslog);
        assert_eq!(
            req.host_config.unwrap().network_mode.as_deref(),
            Some("host")
        );
    }
}
