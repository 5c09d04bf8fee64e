//! Log forwarding in the memory engine: a container's log file is where the Docker
//! engine would write it (json-file unless a test says otherwise), and the
//! forwarder is a sidecar container that keeps what it was created with.
use super::state::{Container, State};
use super::{MemoryEngine, Op};
use crate::engine::{EngineError, EngineResult, LogFile, LogForwarderSpec};

/// The engine's root directory the memory engine pretends to have.
pub const ROOT_DIR: &str = "/var/lib/docker";

pub(super) fn log_file(eng: &MemoryEngine, container: &str) -> EngineResult<LogFile> {
    let mut s = eng.inner.lock();
    s.enter(Op::LogFile)?;
    let c = s
        .find(container)
        .ok_or_else(|| State::not_found(container))?;
    let id = c.id.clone();
    Ok(LogFile {
        driver: c
            .extras
            .log_driver
            .clone()
            .unwrap_or_else(|| crate::domain::log_forward::DRIVER.into()),
        path: format!("{ROOT_DIR}/containers/{id}/{id}-json.log").into(),
        id,
    })
}

pub(super) fn create(eng: &MemoryEngine, spec: &LogForwarderSpec) -> EngineResult<String> {
    eng.inner.update(|s| {
        s.enter(Op::CreateLogForwarder)?;
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
        s.volumes
            .entry(spec.volume.clone())
            .or_insert_with(|| spec.labels.clone());
        let id = s.new_id();
        let created = s.clock.now_secs();
        s.containers.insert(
            spec.container.clone(),
            Container {
                volume: spec.volume.clone(),
                memory_limit: Some(crate::domain::log_forward::MEMORY_BYTES),
                pids_limit: Some(crate::domain::log_forward::PIDS_LIMIT),
                extras: super::Extras {
                    binds: spec.binds.clone(),
                    args: spec.args.clone(),
                    user: Some(spec.user.clone()),
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

impl MemoryEngine {
    /// Makes `container` log with `driver` (as `docker run --log-driver` would).
    pub fn set_log_driver(&self, container: &str, driver: &str) {
        self.inner.update(|s| {
            if let Some(c) = s.find_mut(container) {
                c.extras.log_driver = Some(driver.to_string());
            }
        });
    }
}
