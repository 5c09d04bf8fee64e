//! A volume reader on the Docker engine (see [`super::VolumeReader`]): an idle
//! container with the volume mounted read-only, no network, no capabilities.
use super::docker::{hash, DockerEngine};
use super::{Engine, EngineResult, VolumeReader};
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters as qp;

const READER_MEMORY: i64 = 256 << 20;
const READER_PIDS: i64 = 128;

/// The create request: `sleep LIFETIME` under an init (so a stop is quick), then
/// the engine removes it (auto-remove), whatever happened to its caller.
pub(super) fn reader_body(r: &VolumeReader) -> ContainerCreateBody {
    let host_config = HostConfig {
        binds: Some(vec![format!("{}:{}:ro", r.volume, r.mount)]),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges:true".into()]),
        network_mode: Some("none".into()),
        init: Some(true),
        auto_remove: Some(true),
        memory: Some(READER_MEMORY),
        pids_limit: Some(READER_PIDS),
        ..Default::default()
    };
    ContainerCreateBody {
        image: Some(r.image.clone()),
        user: Some(r.user.clone()),
        entrypoint: Some(vec![
            "sleep".into(),
            r.lifetime.as_secs().max(1).to_string(),
        ]),
        cmd: Some(vec![]),
        labels: Some(hash(&r.labels)),
        network_disabled: Some(true),
        host_config: Some(host_config),
        ..Default::default()
    }
}

pub(super) async fn start(eng: &DockerEngine, r: &VolumeReader) -> EngineResult<()> {
    // One left behind by a killed berth (it would go by itself, later).
    eng.remove_container(&r.name).await?;
    let opts = qp::CreateContainerOptions {
        name: Some(r.name.clone()),
        platform: String::new(),
    };
    eng.docker()
        .create_container(Some(opts), reader_body(r))
        .await
        .map_err(|e| super::docker::map_err(&eng.endpoint(), e))?;
    eng.start_container(&r.name).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn a_reader_mounts_the_volume_read_only_with_no_network_nor_capabilities() {
        let r = VolumeReader {
            name: "berth-gc-check-a".into(),
            volume: "workspace-a".into(),
            mount: "/home/workspace".into(),
            image: "berth/workspace:latest".into(),
            user: "1000:1000".into(),
            labels: Default::default(),
            lifetime: Duration::from_secs(600),
        };
        let b = reader_body(&r);
        let h = b.host_config.unwrap();
        assert_eq!(
            h.binds.unwrap(),
            ["workspace-a:/home/workspace:ro".to_string()]
        );
        assert_eq!(h.cap_drop.unwrap(), ["ALL".to_string()]);
        assert_eq!(h.network_mode.as_deref(), Some("none"));
        assert_eq!(h.auto_remove, Some(true));
        assert_eq!(b.user.as_deref(), Some("1000:1000"));
        assert_eq!(
            b.entrypoint.unwrap(),
            ["sleep".to_string(), "600".to_string()]
        );
    }
}
