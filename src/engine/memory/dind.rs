//! Docker inside a workspace in the memory engine: the sidecar is a container that
//! starts only while the workspace whose network it joins runs; an exported image
//! is a few chunks of bytes; a copy puts a file in the other container.
use super::state::{Container, State};
use super::{MemoryEngine, Op};
use crate::engine::{DockerSidecarSpec, EngineError, EngineResult};
use futures_util::stream::{self, BoxStream, StreamExt};

/// Size of each of the chunks an exported image comes in.
pub const EXPORT_CHUNK: usize = 1024;
/// How many chunks an exported image comes in.
pub const EXPORT_CHUNKS: usize = 3;

pub(super) fn create_sidecar(eng: &MemoryEngine, spec: &DockerSidecarSpec) -> EngineResult<String> {
    eng.inner.update(|s| {
        s.enter(Op::CreateDockerSidecar)?;
        if s.containers.contains_key(&spec.container) {
            return Err(EngineError::Conflict(format!(
                "Conflict. The container name \"/{}\" is already in use",
                spec.container
            )));
        }
        if !s.images.contains(&spec.image) {
            return Err(EngineError::NotFound {
                what: format!("No such image: {}", spec.image),
            });
        }
        if s.find(&spec.workspace).is_none() {
            return Err(State::not_found(&spec.workspace));
        }
        s.volumes.entry(spec.volume.clone()).or_default();
        let id = s.new_id();
        let created = s.clock.now_secs();
        s.containers.insert(
            spec.container.clone(),
            Container {
                volume: spec.volume.clone(),
                memory_limit: Some(spec.resources.memory_bytes).filter(|m| *m > 0),
                pids_limit: Some(crate::domain::dind::PIDS_LIMIT),
                extras: super::Extras {
                    joins: Some(spec.workspace.clone()),
                    args: spec.args.clone(),
                    ..Default::default()
                },
                ..Container::new(
                    id.clone(),
                    &spec.container,
                    &spec.image,
                    spec.labels.clone(),
                    created,
                )
            },
        );
        s.event(&spec.container, "create");
        Ok(id)
    })
}

pub(super) fn export_image(
    eng: &MemoryEngine,
    image: &str,
) -> BoxStream<'static, EngineResult<bytes::Bytes>> {
    let present = {
        let mut s = eng.inner.lock();
        s.enter(Op::ExportImage).map(|()| s.images.contains(image))
    };
    match present {
        Err(e) => stream::iter([Err(e)]).boxed(),
        Ok(false) => stream::iter([Err(EngineError::NotFound {
            what: format!("No such image: {image}"),
        })])
        .boxed(),
        Ok(true) => stream::iter(
            (0..EXPORT_CHUNKS).map(|i| Ok(bytes::Bytes::from(vec![b'a' + i as u8; EXPORT_CHUNK]))),
        )
        .boxed(),
    }
}

pub(super) fn copy_between(
    eng: &MemoryEngine,
    from: &str,
    path: &str,
    to: &str,
    dir: &str,
) -> EngineResult<()> {
    eng.inner.update(|s| {
        s.enter(Op::CopyBetween)?;
        if s.find(from).is_none() {
            return Err(State::not_found(from));
        }
        let base = path.rsplit('/').next().unwrap_or(path);
        let target = format!("{}/{base}", dir.trim_end_matches('/'));
        let c = s.find_mut(to).ok_or_else(|| State::not_found(to))?;
        c.files
            .insert(target, format!("copied from {from}:{path}").into_bytes());
        Ok(())
    })
}
