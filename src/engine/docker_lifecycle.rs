//! A container's lifecycle through the engine API: start, stop, restart, rename and
//! remove (an engine's "nothing to do" answers are not errors).
use super::docker::DockerEngine;
use super::{EngineError, EngineResult};
use bollard::errors::Error as BErr;
use bollard::query_parameters as qp;

pub(super) async fn start(eng: &DockerEngine, container: &str) -> EngineResult<()> {
    match eng
        .docker()
        .start_container(container, None::<qp::StartContainerOptions>)
        .await
    {
        Ok(())
        | Err(BErr::DockerResponseServerError {
            status_code: 304, ..
        }) => Ok(()),
        Err(e) => Err(eng.start_err(e)),
    }
}

pub(super) async fn stop(
    eng: &DockerEngine,
    container: &str,
    timeout_secs: i64,
) -> EngineResult<()> {
    let opts = qp::StopContainerOptions {
        t: Some(timeout_secs as i32),
        signal: None,
    };
    match eng.docker().stop_container(container, Some(opts)).await {
        Ok(())
        | Err(BErr::DockerResponseServerError {
            status_code: 304, ..
        }) => Ok(()),
        Err(e) => Err(eng.err(e)),
    }
}

pub(super) async fn restart(
    eng: &DockerEngine,
    container: &str,
    timeout_secs: i64,
) -> EngineResult<()> {
    let opts = qp::RestartContainerOptions {
        t: Some(timeout_secs as i32),
        signal: None,
    };
    eng.docker()
        .restart_container(container, Some(opts))
        .await
        .map_err(|e| eng.err(e))
}

pub(super) async fn rename(
    eng: &DockerEngine,
    container: &str,
    new_name: &str,
) -> EngineResult<()> {
    let opts = qp::RenameContainerOptions {
        name: new_name.to_string(),
    };
    eng.docker()
        .rename_container(container, opts)
        .await
        .map_err(|e| eng.err(e))
}

pub(super) async fn remove(eng: &DockerEngine, container: &str) -> EngineResult<()> {
    // Anonymous volumes (an image's VOLUME, e.g. a database service's data) go
    // with their container; named ones (a home, a sidecar's data) never do.
    let opts = qp::RemoveContainerOptions {
        force: true,
        v: true,
        link: false,
    };
    match eng.docker().remove_container(container, Some(opts)).await {
        Ok(()) => Ok(()),
        Err(e) => match eng.err(e) {
            EngineError::NotFound { .. } => Ok(()),
            other => Err(other),
        },
    }
}
