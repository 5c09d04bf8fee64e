//! Volume readers in the memory engine: a running container on the volume (exec in
//! it goes to the test's handler, like any exec).
use super::state::{Container, State};
use super::Op;
use crate::domain::observe::Stats;
use crate::domain::workspace::WorkspaceState;
use crate::engine::{EngineError, EngineResult, VolumeReader};
use std::collections::BTreeMap;

pub(super) fn start(s: &mut State, spec: &VolumeReader) -> EngineResult<()> {
    s.enter(Op::StartVolumeReader)?;
    if !s.volumes.contains_key(&spec.volume) {
        return Err(EngineError::NotFound {
            what: format!("volume {}", spec.volume),
        });
    }
    if !s.images.contains(&spec.image) {
        return Err(EngineError::NotFound {
            what: format!("image {}", spec.image),
        });
    }
    // One left behind is replaced.
    s.containers.remove(&spec.name);
    let id = s.new_id();
    let created = s.clock.now_secs();
    s.containers.insert(
        spec.name.clone(),
        Container {
            id,
            name: spec.name.clone(),
            image: spec.image.clone(),
            labels: spec.labels.clone(),
            state: WorkspaceState::Created,
            host_port: None,
            volume: spec.volume.clone(),
            files: BTreeMap::new(),
            fs: super::MemFs::default(),
            created,
            started_at: None,
            memory_limit: None,
            pids_limit: None,
            runtime: None,
            run: 0,
            logs: Vec::new(),
            stats: Stats::default(),
            extras: Default::default(),
        },
    );
    s.start(&spec.name)
}
