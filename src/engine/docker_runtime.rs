//! A runtime's probe container on the Docker engine: created with the runtime,
//! started, waited for (bounded), and removed whatever happened, also when the
//! caller gives up half way (a guard removes it then).
use super::docker::{hash, map_err, DockerEngine};
use super::docker_remove_guard::{force, RemoveOnDrop};
use super::probe::{ProbeOutcome, ProbeSpec, PROBE_CMD};
use super::EngineResult;
use bollard::errors::Error as BErr;
use bollard::models::{ContainerCreateBody, HostConfig};
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::StreamExt;
use std::time::Duration;

/// A probe needs next to nothing; these bound a runtime that misbehaves.
const PROBE_MEMORY: i64 = 256 << 20;
const PROBE_PIDS: i64 = 64;
/// How long reading a failed probe's output may take.
const LOGS_WAIT: Duration = Duration::from_secs(5);
/// The lines of a failed probe's output kept for its reason.
const LOGS_TAIL: usize = 20;

/// The engine's create request: `true` as the entrypoint (an image's own does not
/// run), no network, no capabilities, no new privileges, small limits.
pub(super) fn probe_body(spec: &ProbeSpec) -> (ContainerCreateBody, qp::CreateContainerOptions) {
    let host_config = HostConfig {
        runtime: spec.runtime.clone(),
        network_mode: Some("none".into()),
        cap_drop: Some(vec!["ALL".into()]),
        security_opt: Some(vec!["no-new-privileges".into()]),
        memory: Some(PROBE_MEMORY),
        pids_limit: Some(PROBE_PIDS),
        auto_remove: Some(false),
        init: Some(spec.init),
        ..Default::default()
    };
    let body = ContainerCreateBody {
        image: Some(spec.image.clone()),
        entrypoint: Some(vec![PROBE_CMD.into()]),
        cmd: Some(Vec::new()),
        labels: Some(hash(&spec.labels)),
        host_config: Some(host_config),
        ..Default::default()
    };
    let opts = qp::CreateContainerOptions {
        name: Some(spec.name.clone()),
        platform: String::new(),
    };
    (body, opts)
}

pub(super) async fn probe(eng: &DockerEngine, spec: &ProbeSpec) -> EngineResult<ProbeOutcome> {
    // A missing init binary (podman's catatonit) said with what to do.
    let err = |e: BErr| eng.start_err(e);
    let (body, opts) = probe_body(spec);
    let id = eng
        .docker()
        .create_container(Some(opts), body)
        .await
        .map_err(err)?
        .id;
    let mut guard = RemoveOnDrop {
        docker: eng.docker().clone(),
        id: Some(id.clone()),
        what: "probe",
    };
    let outcome = run(eng.docker(), &id, spec.timeout).await.map_err(err);
    match eng.docker().remove_container(&id, Some(force())).await {
        Ok(())
        | Err(BErr::DockerResponseServerError {
            status_code: 404, ..
        }) => guard.id = None,
        // The guard tries once more in the background.
        Err(e) => tracing::warn!("cannot remove probe container {}: {e}", spec.name),
    }
    outcome
}

async fn run(docker: &Docker, id: &str, timeout: Duration) -> Result<ProbeOutcome, BErr> {
    docker
        .start_container(id, None::<qp::StartContainerOptions>)
        .await?;
    let mut wait = docker.wait_container(id, None::<qp::WaitContainerOptions>);
    let mut out = ProbeOutcome::default();
    match tokio::time::timeout(timeout, wait.next()).await {
        Err(_) => out.timed_out = true,
        Ok(Some(Ok(r))) => out.exit_code = Some(r.status_code),
        Ok(Some(Err(BErr::DockerContainerWaitError { code, .. }))) => out.exit_code = Some(code),
        Ok(Some(Err(e))) => return Err(e),
        Ok(None) => {}
    }
    if out.exit_code != Some(0) {
        out.output = tail(docker, id).await;
    }
    Ok(out)
}

/// The last lines a failed probe printed (empty if they cannot be read in time).
async fn tail(docker: &Docker, id: &str) -> String {
    let opts = qp::LogsOptions {
        stdout: true,
        stderr: true,
        tail: LOGS_TAIL.to_string(),
        ..Default::default()
    };
    let read = docker
        .logs(id, Some(opts))
        .fold(String::new(), |mut acc, l| async move {
            if let Ok(l) = l {
                acc.push_str(&String::from_utf8_lossy(&l.into_bytes()));
            }
            acc
        });
    tokio::time::timeout(LOGS_WAIT, read)
        .await
        .unwrap_or_default()
}

/// Probe containers (role=probe) the engine has now, running or not.
pub(super) async fn probes_left(eng: &DockerEngine) -> EngineResult<Vec<super::ProbeLeft>> {
    let want = format!(
        "{}={}",
        crate::domain::labels::ROLE,
        crate::domain::labels::ROLE_PROBE
    );
    let opts = qp::ListContainersOptions {
        all: true,
        filters: Some(std::collections::HashMap::from([(
            "label".to_string(),
            vec![want],
        )])),
        ..Default::default()
    };
    let list = eng
        .docker()
        .list_containers(Some(opts))
        .await
        .map_err(|e| map_err(&crate::engine::Engine::endpoint(eng), e))?;
    let probe = [(
        crate::domain::labels::ROLE,
        crate::domain::labels::ROLE_PROBE,
    )];
    Ok(list
        .into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .is_some_and(|l| super::docker_labelled::has_labels(l, &probe))
        })
        .filter_map(|c| {
            let name = c.names?.first()?.trim_start_matches('/').to_string();
            Some(super::ProbeLeft {
                name,
                running: matches!(
                    c.state,
                    Some(bollard::models::ContainerSummaryStateEnum::RUNNING)
                ),
                created: c.created.unwrap_or(0),
            })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_runs_true_with_nothing_else() {
        let spec = ProbeSpec {
            name: "berth-probe.runsc.1".into(),
            image: "berth/workspace:latest".into(),
            runtime: Some("runsc".into()),
            labels: [("dev.berth.role".to_string(), "probe".to_string())].into(),
            timeout: Duration::from_secs(30),
            init: true,
        };
        let (body, opts) = probe_body(&spec);
        assert_eq!(opts.name.as_deref(), Some("berth-probe.runsc.1"));
        assert_eq!(body.entrypoint.unwrap(), ["true"]);
        assert_eq!(body.cmd, Some(vec![]));
        assert_eq!(body.labels.unwrap()["dev.berth.role"], "probe");
        let hc = body.host_config.unwrap();
        assert_eq!(hc.runtime.as_deref(), Some("runsc"));
        assert_eq!(hc.network_mode.as_deref(), Some("none"));
        assert_eq!(hc.cap_drop.unwrap(), ["ALL"]);
        assert_eq!(hc.security_opt.unwrap(), ["no-new-privileges"]);
        assert_eq!(hc.privileged, None);
        assert_eq!(hc.auto_remove, Some(false), "berth removes it itself");
        assert_eq!(hc.init, Some(true), "as a workspace's");
    }
}
