//! Watching the engine: the events stream, stats, and sidecar discovery.
use super::docker::{map_err, DockerEngine};
use super::{Engine, EngineResult};
use crate::domain::labels;
use crate::domain::observe::{cpu_percent, EngineEvent, Sidecar, Stats};
use bollard::models::EventMessageTypeEnum;
use bollard::query_parameters as qp;
use futures_util::stream::{BoxStream, StreamExt};
use std::collections::HashMap;

/// Container events, filtered to berth's objects HERE (by the `dev.berth.name`
/// label among the event's attributes), not by the engine: podman 4.3 matches a
/// label filter only as `key=value`, so `label=dev.berth.name` let nothing through.
pub(super) fn events(eng: &DockerEngine) -> BoxStream<'static, EngineResult<EngineEvent>> {
    let filters = HashMap::from([("type".to_string(), vec!["container".to_string()])]);
    let opts = qp::EventsOptions {
        filters: Some(filters),
        ..Default::default()
    };
    let endpoint = eng.endpoint();
    eng.docker()
        .events(Some(opts))
        .filter_map(move |r| {
            let out = match r {
                Err(e) => Some(Err(map_err(&endpoint, e))),
                Ok(m) if m.typ != Some(EventMessageTypeEnum::CONTAINER) => None,
                Ok(m) => {
                    let actor = m.actor.unwrap_or_default();
                    let attrs = actor.attributes.unwrap_or_default();
                    let container = attrs
                        .get("name")
                        .cloned()
                        .unwrap_or_else(|| actor.id.clone().unwrap_or_default());
                    // A pool-born container is named by its container name (a
                    // claim's `rename` event carries the new one).
                    let labels = attrs.into_iter().collect();
                    crate::domain::pool::workspace_name(&labels, &container).map(|name| {
                        Ok(EngineEvent {
                            name,
                            container,
                            action: m.action.unwrap_or_default(),
                            time: m.time.unwrap_or_default(),
                        })
                    })
                }
            };
            std::future::ready(out)
        })
        .boxed()
}

pub(super) fn stats(
    eng: &DockerEngine,
    container: &str,
) -> BoxStream<'static, EngineResult<Stats>> {
    let endpoint = eng.endpoint();
    let mut ended = false;
    eng.docker()
        .stats(
            container,
            Some(qp::StatsOptions {
                stream: true,
                one_shot: false,
            }),
        )
        .map(move |r| {
            let s = r.map_err(|e| map_err(&endpoint, e))?;
            let cpu = s.cpu_stats.unwrap_or_default();
            let pre = s.precpu_stats.unwrap_or_default();
            let total = |c: &bollard::models::ContainerCpuStats| {
                c.cpu_usage
                    .as_ref()
                    .and_then(|u| u.total_usage)
                    .unwrap_or(0)
            };
            let mem = s.memory_stats.unwrap_or_default();
            // Like `docker stats`: page cache is not counted as used memory.
            let cache = mem
                .stats
                .as_ref()
                .and_then(|m| {
                    m.get("total_inactive_file")
                        .or(m.get("inactive_file"))
                        .copied()
                })
                .unwrap_or(0);
            Ok(Stats {
                cpu_percent: cpu_percent(
                    total(&cpu),
                    total(&pre),
                    cpu.system_cpu_usage.unwrap_or(0),
                    pre.system_cpu_usage.unwrap_or(0),
                    cpu.online_cpus.unwrap_or(1),
                ),
                mem_bytes: mem.usage.unwrap_or(0).saturating_sub(cache),
                mem_limit: mem.limit.unwrap_or(0),
                pids: s.pids_stats.and_then(|p| p.current).unwrap_or(0),
            })
        })
        // Docker ends the stream when the container stops; podman keeps sending
        // empty samples (no processes) for a stopped one: it ends here after the
        // first, which says it stopped.
        .take_while(move |r| {
            let go = !ended;
            ended = ended || matches!(r, Ok(s) if stopped(s));
            std::future::ready(go)
        })
        .boxed()
}

/// A sample of a container with no process left: it has stopped.
fn stopped(s: &Stats) -> bool {
    s.pids == 0 && s.mem_bytes == 0
}

pub(super) async fn sidecars(eng: &DockerEngine, name: &str) -> EngineResult<Vec<Sidecar>> {
    let filters = HashMap::from([(
        "label".to_string(),
        vec![
            format!("{}={}", labels::ROLE, labels::ROLE_SIDECAR),
            format!("{}={name}", labels::NAME),
        ],
    )]);
    let opts = qp::ListContainersOptions {
        all: true,
        filters: Some(filters),
        ..Default::default()
    };
    let list = eng
        .docker()
        .list_containers(Some(opts))
        .await
        .map_err(|e| map_err(&eng.endpoint(), e))?;
    let want = [(labels::ROLE, labels::ROLE_SIDECAR), (labels::NAME, name)];
    let mut out: Vec<Sidecar> = list
        .into_iter()
        .filter(|c| {
            c.labels
                .as_ref()
                .is_some_and(|l| super::docker_labelled::has_labels(l, &want))
        })
        .map(|c| {
            let container = c
                .names
                .unwrap_or_default()
                .first()
                .cloned()
                .unwrap_or_default()
                .trim_start_matches('/')
                .to_string();
            let l = c.labels.unwrap_or_default();
            let source = l
                .get(labels::SIDECAR)
                .cloned()
                .unwrap_or_else(|| container.clone());
            Sidecar {
                source,
                container,
                running: c.state == Some(bollard::models::ContainerSummaryStateEnum::RUNNING),
                paused: c.state == Some(bollard::models::ContainerSummaryStateEnum::PAUSED),
                joins_workspace: l.get(labels::NETNS).map(String::as_str)
                    == Some(labels::NETNS_WORKSPACE),
            }
        })
        .collect();
    out.sort_by(|a, b| a.source.cmp(&b.source));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sample_without_processes_or_memory_is_a_stopped_container() {
        let s = |pids, mem_bytes| Stats {
            cpu_percent: 0.0,
            mem_bytes,
            mem_limit: 1 << 30,
            pids,
        };
        assert!(stopped(&s(0, 0)));
        assert!(!stopped(&s(1, 0)));
        assert!(!stopped(&s(0, 4096)));
    }
}
