//! The in-memory engine's container runtimes: which are registered, which one is
//! the default, and how each behaves when a probe container starts with it
//! (healthy unless a test says otherwise), so runtime checks above the engine are
//! tested against honest answers: an unknown runtime is refused at create, a probe
//! container exists while it runs and is removed afterwards, a hanging runtime
//! hangs in tokio time.
use super::state::Container;
use super::{MemoryEngine, Op};
use crate::engine::{EngineError, EngineResult, ProbeOutcome, ProbeSpec};
use std::collections::BTreeMap;

/// What a container started with a runtime does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuntimeBehaviour {
    /// Runs containers (a probe exits 0).
    Works,
    /// A probe exits with `code`, printing `output`.
    Exits { code: i64, output: String },
    /// A probe never exits (until its timeout).
    Hangs,
    /// The engine cannot start a container with it (this error).
    FailsToStart(String),
}

pub(super) struct Runtimes {
    pub default: String,
    pub registered: BTreeMap<String, RuntimeBehaviour>,
}

impl Default for Runtimes {
    fn default() -> Self {
        Self {
            default: "runc".into(),
            registered: [("runc".to_string(), RuntimeBehaviour::Works)].into(),
        }
    }
}

impl Runtimes {
    /// The runtime a container asking for `requested` gets, or the engine's refusal.
    pub fn resolve(&self, requested: Option<&str>) -> EngineResult<String> {
        let name = requested.filter(|r| !r.is_empty()).unwrap_or(&self.default);
        if self.registered.contains_key(name) {
            Ok(name.to_string())
        } else {
            Err(EngineError::Api(format!(
                "Unknown runtime specified {name}"
            )))
        }
    }

    pub fn names(&self) -> Vec<String> {
        self.registered.keys().cloned().collect()
    }
}

impl MemoryEngine {
    /// Registers runtime `name` (or changes how it behaves).
    pub fn register_runtime(&self, name: &str, behaviour: RuntimeBehaviour) {
        self.inner.update(|s| {
            s.runtimes.registered.insert(name.to_string(), behaviour);
        });
    }

    /// Unregisters runtime `name`.
    pub fn unregister_runtime(&self, name: &str) {
        self.inner.update(|s| {
            s.runtimes.registered.remove(name);
        });
    }

    /// The runtime containers get when they name none.
    pub fn set_default_runtime(&self, name: &str) {
        self.inner.update(|s| s.runtimes.default = name.to_string());
    }

    pub(super) fn runtimes_now(&self) -> (Vec<String>, String) {
        let s = self.inner.lock();
        (s.runtimes.names(), s.runtimes.default.clone())
    }

    /// Probe containers as `probes_left` reports them.
    pub(super) fn probes_now(&self) -> Vec<crate::engine::ProbeLeft> {
        self.inner
            .lock()
            .containers
            .values()
            .filter(|c| {
                c.labels
                    .get(crate::domain::labels::ROLE)
                    .map(String::as_str)
                    == Some(crate::domain::labels::ROLE_PROBE)
            })
            .map(|c| crate::engine::ProbeLeft {
                name: c.name.clone(),
                running: c.state == crate::domain::workspace::WorkspaceState::Running,
                created: c.created,
            })
            .collect()
    }

    /// Probe containers that exist right now.
    pub fn probe_containers(&self) -> Vec<String> {
        self.inner
            .lock()
            .containers
            .values()
            .filter(|c| {
                c.labels
                    .get(crate::domain::labels::ROLE)
                    .map(String::as_str)
                    == Some(crate::domain::labels::ROLE_PROBE)
            })
            .map(|c| c.name.clone())
            .collect()
    }

    pub(super) async fn probe(&self, spec: &ProbeSpec) -> EngineResult<ProbeOutcome> {
        let behaviour = self.inner.update(|s| {
            s.enter(Op::ProbeRuntime)?;
            if s.containers.contains_key(&spec.name) {
                return Err(EngineError::Conflict(format!(
                    "Conflict. The container name \"/{}\" is already in use",
                    spec.name
                )));
            }
            if !s.images.contains(&spec.image) {
                return Err(EngineError::NotFound {
                    what: format!("No such image: {}", spec.image),
                });
            }
            let runtime = s.runtimes.resolve(spec.runtime.as_deref())?;
            let behaviour = s.runtimes.registered[&runtime].clone();
            let id = s.new_id();
            let created = s.clock.now_secs();
            let mut c = Container::new(id, &spec.name, &spec.image, spec.labels.clone(), created);
            c.runtime = Some(runtime);
            // In flight it runs (`true`, or a hanging runtime's process).
            c.state = crate::domain::workspace::WorkspaceState::Running;
            s.containers.insert(spec.name.clone(), c);
            Ok(behaviour)
        })?;
        // Removed however this ends, also when the caller drops this future.
        let _remove = RemoveOnDrop {
            eng: self.clone(),
            name: spec.name.clone(),
        };
        Ok(match behaviour {
            RuntimeBehaviour::Works => ProbeOutcome {
                exit_code: Some(0),
                ..Default::default()
            },
            RuntimeBehaviour::Exits { code, output } => ProbeOutcome {
                exit_code: Some(code),
                timed_out: false,
                output,
            },
            RuntimeBehaviour::Hangs => {
                tokio::time::sleep(spec.timeout).await;
                ProbeOutcome {
                    timed_out: true,
                    ..Default::default()
                }
            }
            RuntimeBehaviour::FailsToStart(e) => return Err(EngineError::Api(e)),
        })
    }
}

struct RemoveOnDrop {
    eng: MemoryEngine,
    name: String,
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        self.eng.inner.update(|s| s.containers.remove(&self.name));
    }
}
