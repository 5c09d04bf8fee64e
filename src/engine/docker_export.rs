//! An image's filesystem as one tar stream (what `docker export` gives), for
//! VM base disks: a container is created from the image (never started), its
//! filesystem exported, and the container removed whatever happens (also when
//! the reader gives up half way: a guard removes it then). One a berth killed
//! mid-export left is removed by the next export, once it is an hour old (an
//! export takes seconds; a younger one may be another berth's, under way).
use super::docker::{map_err, DockerEngine};
use super::docker_remove_guard::RemoveOnDrop;
use super::{EngineResult, TarDownload};
use bollard::models::ContainerCreateBody;
use bollard::query_parameters as qp;
use bollard::Docker;
use futures_util::stream::{self, BoxStream, StreamExt};
use std::collections::HashMap;

struct State {
    docker: Docker,
    endpoint: String,
    image: String,
    guard: Option<RemoveOnDrop>,
    inner: Option<BoxStream<'static, Result<bytes::Bytes, bollard::errors::Error>>>,
    done: bool,
}

/// How old an export container must be before another export removes it.
const STALE_AFTER_SECS: i64 = 3600;

/// The export containers (id, created, unix seconds) that are stale at `now`.
fn stale(found: &[(String, i64)], now: i64) -> Vec<String> {
    found
        .iter()
        .filter(|(_, created)| now - created > STALE_AFTER_SECS)
        .map(|(id, _)| id.clone())
        .collect()
}

/// Removes the export containers berths that were killed mid-export left (see
/// the module's note). A failure is logged: it never stops an export.
async fn sweep_stale(docker: &Docker) {
    let opts = qp::ListContainersOptions {
        all: true,
        filters: Some(HashMap::from([(
            "label".to_string(),
            vec![format!("{}=vm-export", crate::domain::labels::ROLE)],
        )])),
        ..Default::default()
    };
    let found: Vec<(String, i64)> = match docker.list_containers(Some(opts)).await {
        Ok(l) => l
            .into_iter()
            .filter_map(|c| Some((c.id?, c.created?)))
            .collect(),
        Err(e) => {
            tracing::warn!("cannot list leftover export containers: {e}");
            return;
        }
    };
    for id in stale(&found, chrono::Utc::now().timestamp()) {
        tracing::info!("removing export container {id}, left by a berth that did not finish");
        if let Err(e) = docker
            .remove_container(&id, Some(super::docker_remove_guard::force()))
            .await
        {
            tracing::warn!("cannot remove leftover export container {id}: {e}");
        }
    }
}

fn body(image: &str) -> ContainerCreateBody {
    ContainerCreateBody {
        image: Some(image.to_string()),
        // never started; an entrypoint that does nothing in case something does
        entrypoint: Some(vec!["true".into()]),
        cmd: Some(Vec::new()),
        labels: Some(HashMap::from([(
            crate::domain::labels::ROLE.to_string(),
            "vm-export".to_string(),
        )])),
        network_disabled: Some(true),
        ..Default::default()
    }
}

pub(super) fn export_filesystem(eng: &DockerEngine, image: &str) -> TarDownload {
    let st = State {
        docker: eng.docker().clone(),
        endpoint: eng.endpoint_str().to_string(),
        image: image.to_string(),
        guard: None,
        inner: None,
        done: false,
    };
    stream::unfold(st, |mut st| async move {
        if st.done {
            return None;
        }
        if st.inner.is_none() {
            sweep_stale(&st.docker).await;
            let made = st
                .docker
                .create_container(None::<qp::CreateContainerOptions>, body(&st.image))
                .await;
            match made {
                Err(e) => {
                    st.done = true;
                    return Some((Err(map_err(&st.endpoint, e)), st));
                }
                Ok(r) => {
                    st.inner = Some(st.docker.export_container(&r.id).boxed());
                    st.guard = Some(RemoveOnDrop {
                        docker: st.docker.clone(),
                        id: Some(r.id),
                        what: "export",
                    });
                }
            }
        }
        let next = st.inner.as_mut()?.next().await;
        let item: Option<EngineResult<bytes::Bytes>> = match next {
            Some(Ok(b)) => return Some((Ok(b), st)),
            Some(Err(e)) => Some(Err(map_err(&st.endpoint, e))),
            None => None,
        };
        st.done = true;
        st.inner = None;
        if let Some(g) = st.guard.as_mut() {
            g.remove_now().await;
        }
        item.map(|i| (i, st))
    })
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_exports_over_an_hour_old_are_stale() {
        let now = 1_000_000;
        let found = [
            ("old".to_string(), now - STALE_AFTER_SECS - 1),
            ("just".to_string(), now - STALE_AFTER_SECS),
            ("young".to_string(), now - 5),
        ];
        assert_eq!(stale(&found, now), vec!["old".to_string()]);
        assert!(stale(&[], now).is_empty());
    }
}
