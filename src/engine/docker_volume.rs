//! Volumes through the engine API: create (ours only if it carries our labels),
//! check and remove.
use super::docker::{hash, DockerEngine};
use super::{EngineError, EngineResult};
use bollard::models::VolumeCreateRequest;
use bollard::query_parameters as qp;
use std::collections::BTreeMap;

pub(super) async fn create(
    eng: &DockerEngine,
    name: &str,
    labels: &BTreeMap<String, String>,
) -> EngineResult<bool> {
    if exists(eng, name).await? {
        return Ok(false);
    }
    let req = VolumeCreateRequest {
        name: Some(name.to_string()),
        labels: Some(hash(labels)),
        ..Default::default()
    };
    let v = eng
        .docker()
        .create_volume(req)
        .await
        .map_err(|e| eng.err(e))?;
    // The engine answers with the existing volume when one of that name appeared
    // since the check: ours only if it carries exactly our labels (a create's
    // labels hold its unique token).
    Ok(v.labels == hash(labels))
}

pub(super) async fn exists(eng: &DockerEngine, name: &str) -> EngineResult<bool> {
    match eng.docker().inspect_volume(name).await {
        Ok(_) => Ok(true),
        Err(e) => match eng.err(e) {
            EngineError::NotFound { .. } => Ok(false),
            other => Err(other),
        },
    }
}

pub(super) async fn remove(eng: &DockerEngine, name: &str) -> EngineResult<()> {
    match eng
        .docker()
        .remove_volume(name, None::<qp::RemoveVolumeOptions>)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) => match eng.err(e) {
            EngineError::NotFound { .. } => Ok(()),
            other => Err(other),
        },
    }
}
