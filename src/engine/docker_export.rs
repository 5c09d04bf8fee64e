//! An image's filesystem as one tar stream (what `docker export` gives), for
//! VM base disks: a container is created from the image (never started), its
//! filesystem exported, and the container removed whatever happens (also when
//! the reader gives up half way: a guard removes it then).
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
