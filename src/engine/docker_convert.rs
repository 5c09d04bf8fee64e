//! bollard's models and errors turned into berth's domain types and errors.
use super::EngineError;
use crate::domain::labels;
use crate::domain::provision::Provision;
use crate::domain::workspace::{Workspace, WorkspaceState};
use bollard::errors::Error as BErr;
use bollard::models::ContainerInspectResponse;
use std::collections::BTreeMap;

/// Turns a bollard error into a sentence-sized domain error.
pub(super) fn map_err(endpoint: &str, e: BErr) -> EngineError {
    let unreachable = |reason: String| {
        if reason.to_lowercase().contains("permission denied") {
            EngineError::PermissionDenied {
                endpoint: endpoint.to_string(),
            }
        } else {
            EngineError::Unreachable {
                endpoint: endpoint.to_string(),
                reason,
            }
        }
    };
    match e {
        // Answered with a 404 (20.10) or a 500, but nothing is missing: every
        // default address range already has a network (about 30 with Docker's
        // defaults). Newer engines say "fully subnetted".
        BErr::DockerResponseServerError { message, .. }
            if message.contains("available, non-overlapping IPv4 address pool")
                || message.contains("address pools have been fully subnetted") =>
        {
            let host = match endpoint.starts_with("ssh://") || endpoint.starts_with("tcp://") {
                true => "on the engine's host",
                false => "in /etc/docker/daemon.json",
            };
            EngineError::Api(format!("{message}. The engine has no free address range for another network: remove networks nothing uses (`docker network prune`), or give dockerd more ranges with \"default-address-pools\" {host} and restart it"))
        }
        BErr::DockerResponseServerError {
            status_code: 404,
            message,
        } => EngineError::NotFound { what: message },
        BErr::DockerResponseServerError {
            status_code: 409,
            message,
        } => conflict(message),
        BErr::DockerResponseServerError { message, .. }
            if message.contains("port is already allocated")
                || message.contains("address already in use") =>
        {
            EngineError::PortTaken(message)
        }
        BErr::DockerResponseServerError { message, .. } => EngineError::Api(message),
        BErr::IOError { err } => unreachable(err.to_string()),
        BErr::SocketNotFoundError(s) => unreachable(format!("socket {s} not found")),
        BErr::RequestTimeoutError => unreachable("the request timed out".into()),
        e @ (BErr::HyperLegacyError { .. }
        | BErr::HyperResponseError { .. }
        | BErr::HttpClientError { .. }) => {
            let mut reason = e.to_string();
            let mut src = std::error::Error::source(&e);
            while let Some(s) = src {
                reason = s.to_string();
                src = s.source();
            }
            unreachable(reason)
        }
        other => EngineError::Api(other.to_string()),
    }
}

/// A 409 told apart: a removal already under way (`removal of container X is
/// already in progress`) is not a conflict to report; anything else (a running
/// container, a name in use) is.
pub(super) fn conflict(message: String) -> EngineError {
    let m = message.to_ascii_lowercase();
    if m.contains("removal of container") && m.contains("already in progress") {
        EngineError::RemovalInProgress(message)
    } else {
        EngineError::Conflict(message)
    }
}

fn rfc3339_secs(s: &str) -> Option<i64> {
    let t = chrono::DateTime::parse_from_rfc3339(s).ok()?.timestamp();
    (t > 0).then_some(t)
}

pub(super) fn to_workspace(c: ContainerInspectResponse) -> Option<Workspace> {
    let config = c.config.unwrap_or_default();
    let labels: BTreeMap<String, String> = config.labels.unwrap_or_default().into_iter().collect();
    let container = c
        .name
        .unwrap_or_default()
        .trim_start_matches('/')
        .to_string();
    let name = crate::domain::pool::workspace_name(&labels, &container)?;
    let state = c.state.unwrap_or_default();
    let status = state.status.map(|s| s.to_string()).unwrap_or_default();
    let volume = c
        .mounts
        .unwrap_or_default()
        .into_iter()
        .find(|m| m.destination.as_deref() == Some(crate::domain::workspace::WORKSPACE_HOME))
        .and_then(|m| m.name)
        .unwrap_or_default();
    // Workspaces made before berth recorded provisioning count as finished; the
    // others are finished once their marker is seen (backend::inventory).
    let legacy = !labels.contains_key(labels::PROVISION);
    Some(Workspace {
        engine: String::new(),
        state: WorkspaceState::from_engine(&status),
        ssh_port: labels::ssh_port(&labels),
        image: config.image.unwrap_or_default(),
        container,
        container_id: c.id.unwrap_or_default(),
        volume,
        // Empty: emptied by a snapshot's image (a container inherits its image's labels).
        thread: labels
            .get(labels::THREAD)
            .filter(|t| !t.is_empty())
            .cloned(),
        platform: labels
            .get(labels::PLATFORM)
            .filter(|p| !p.is_empty())
            .cloned(),
        profile: labels.get(labels::PROFILE).cloned(),
        created: c.created.as_deref().and_then(rfc3339_secs).unwrap_or(0),
        started_at: state.started_at.as_deref().and_then(rfc3339_secs),
        memory_limit: c
            .host_config
            .as_ref()
            .and_then(|h| h.memory)
            .filter(|m| *m > 0),
        pids_limit: c
            .host_config
            .as_ref()
            .and_then(|h| h.pids_limit)
            .filter(|m| *m > 0),
        cpus_limit: c
            .host_config
            .as_ref()
            .and_then(|h| h.nano_cpus)
            .filter(|n| *n > 0)
            .map(|n| n as f64 / 1e9),
        provision: Provision::from_engine(legacy),
        // As the engine recorded it: it fills in its default when none was asked for.
        // podman says `oci` for its default.
        runtime: crate::domain::podman::container_runtime(c.host_config.and_then(|h| h.runtime)),
        name,
        labels,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16, message: &str) -> EngineError {
        map_err(
            "unix:///e.sock",
            BErr::DockerResponseServerError {
                status_code: code,
                message: message.into(),
            },
        )
    }

    #[test]
    fn status_codes_are_told_apart_as_cleanup_needs() {
        // 404: gone (a removal or a stop of it is done).
        assert!(status(404, "No such container: workspace-a").is_not_found());
        // 409 for a removal under way: done; any other 409 is a real conflict.
        let busy = status(409, "removal of container 3f2a is already in progress");
        assert!(busy.is_removal_in_progress(), "{busy:?}");
        let running = status(
            409,
            "cannot remove container \"/workspace-a\": container is running: stop the container before removing or force remove",
        );
        assert!(matches!(running, EngineError::Conflict(_)), "{running:?}");
        assert!(!running.is_removal_in_progress());
        // 500: an engine error, retried.
        assert!(matches!(status(500, "driver failed"), EngineError::Api(_)));
        // No address range left for a network: not a "not found", and said as what
        // to do.
        let pools = status(404, "could not find an available, non-overlapping IPv4 address pool among the defaults to assign to the network");
        assert!(!pools.is_not_found(), "{pools:?}");
        let said = pools.to_string();
        assert!(
            said.contains("docker network prune") && said.contains("default-address-pools"),
            "{said}"
        );
        assert!(!said.ends_with("not found"), "{said}");
        let newer = status(
            500,
            "all predefined address pools have been fully subnetted",
        );
        assert!(
            newer.to_string().contains("docker network prune"),
            "{newer}"
        );
        let remote = map_err(
            "ssh://me@far",
            BErr::DockerResponseServerError {
                status_code: 500,
                message: "all predefined address pools have been fully subnetted".into(),
            },
        );
        assert!(
            remote.to_string().contains("on the engine's host"),
            "{remote}"
        );
        // bollard 0.21 answers 304 (a stop of a stopped container) with Ok itself
        // (`Docker::process_request` takes 2xx and 304 as success): it never
        // becomes an error here, so stop_container's Ok covers it.
    }
}
