//! Docker inside a workspace, on the Docker engine: the sidecar's create request
//! (its privileges come from `domain::dind`), image export and container-to-container
//! copies, all streamed (nothing is held whole in memory).
use super::docker::{hash, map_err, DockerEngine};
use super::{DockerSidecarSpec, Engine, EngineResult};
use crate::domain::dind;
use bollard::models::{
    ContainerCreateBody, HostConfig, HostConfigCgroupnsModeEnum, RestartPolicy,
    RestartPolicyNameEnum,
};
use bollard::query_parameters as qp;
use futures_util::stream::{BoxStream, StreamExt, TryStreamExt};

/// The engine's create request for the sidecar. `/run` is a tmpfs: the runtime
/// state dockerd and containerd keep there (pid files, sockets, runc's state) must
/// not outlive a run, or the engine refuses to start again after an unclean stop.
pub(super) fn sidecar_body(
    spec: &DockerSidecarSpec,
) -> (ContainerCreateBody, qp::CreateContainerOptions) {
    let list = |l: &[&str]| Some(l.iter().map(|s| s.to_string()).collect());
    let host_config = HostConfig {
        binds: Some(vec![format!("{}:{}", spec.volume, dind::DATA_DIR)]),
        network_mode: Some(format!("container:{}", spec.workspace)),
        cap_add: list(dind::CAP_ADD),
        cap_drop: list(dind::CAP_DROP),
        security_opt: list(dind::SECURITY_OPT),
        masked_paths: dind::UNMASK_SYSTEM_PATHS.then(Vec::new),
        readonly_paths: dind::UNMASK_SYSTEM_PATHS.then(Vec::new),
        cgroupns_mode: Some(HostConfigCgroupnsModeEnum::PRIVATE),
        tmpfs: Some([("/run".to_string(), "rw,nosuid,nodev,mode=755".to_string())].into()),
        memory: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
        memory_swap: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
        nano_cpus: spec.resources.cpus.map(|c| (c * 1e9) as i64),
        pids_limit: Some(dind::PIDS_LIMIT),
        // Back after an engine restart when the workspace is (if it comes up
        // first; `berth start` starts it otherwise).
        restart_policy: Some(RestartPolicy {
            name: Some(RestartPolicyNameEnum::UNLESS_STOPPED),
            maximum_retry_count: None,
        }),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        cmd: Some(spec.args.clone()),
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

pub(super) async fn create_sidecar(
    eng: &DockerEngine,
    spec: &DockerSidecarSpec,
) -> EngineResult<String> {
    let (body, opts) = sidecar_body(spec);
    let r = eng
        .docker()
        .create_container(Some(opts), body)
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))?;
    Ok(r.id)
}

pub(super) fn export_image(
    eng: &DockerEngine,
    image: &str,
) -> BoxStream<'static, EngineResult<bytes::Bytes>> {
    let endpoint = eng.endpoint();
    eng.docker()
        .export_image(image)
        .map_err(move |e| map_err(&endpoint, e))
        .boxed()
}

pub(super) async fn copy_between(
    eng: &DockerEngine,
    from: &str,
    path: &str,
    to: &str,
    dir: &str,
) -> EngineResult<()> {
    let opts = qp::DownloadFromContainerOptions { path: path.into() };
    let tar = eng
        .docker()
        .download_from_container(from, Some(opts))
        .map_err(|e| std::io::Error::other(e.to_string()));
    let opts = qp::UploadToContainerOptions {
        path: dir.into(),
        ..Default::default()
    };
    eng.docker()
        .upload_to_container(to, Some(opts), bollard::body_try_stream(tar))
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::resources::Resources;

    #[test]
    fn the_sidecar_joins_the_workspace_with_the_documented_privileges() {
        let spec = DockerSidecarSpec {
            container: "workspace-a.docker".into(),
            image: "berth/docker:abc".into(),
            labels: [("k".to_string(), "v".to_string())].into(),
            workspace: "workspace-a".into(),
            volume: "workspace-a.docker".into(),
            args: vec!["--registry-mirror".into(), "http://m".into()],
            resources: Resources::default(),
        };
        let (body, opts) = sidecar_body(&spec);
        assert_eq!(opts.name.as_deref(), Some("workspace-a.docker"));
        assert_eq!(body.cmd.unwrap(), ["--registry-mirror", "http://m"]);
        let hc = body.host_config.unwrap();
        assert_eq!(hc.network_mode.as_deref(), Some("container:workspace-a"));
        assert_eq!(hc.cap_add.unwrap(), ["ALL"]);
        assert_eq!(hc.cap_drop.unwrap(), ["SYS_RESOURCE"]);
        assert_eq!(hc.privileged, None, "never --privileged");
        assert_eq!(hc.cgroupns_mode, Some(HostConfigCgroupnsModeEnum::PRIVATE));
        assert_eq!(
            hc.binds.unwrap(),
            ["workspace-a.docker:/var/lib/docker".to_string()]
        );
        assert!(hc.tmpfs.unwrap().contains_key("/run"));
        assert_eq!(hc.memory, Some(Resources::default().memory_bytes));
        assert!(hc
            .security_opt
            .unwrap()
            .contains(&"seccomp=unconfined".to_string()));
        assert_eq!(hc.masked_paths, Some(vec![]));
        assert_eq!(hc.readonly_paths, Some(vec![]));
    }
}
