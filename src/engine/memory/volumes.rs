//! Volumes in the memory engine: create (not if the name is taken), check, list by
//! label, and remove (refused while a container uses it).
use super::{MemoryEngine, Op};
use crate::engine::{EngineError, EngineResult};
use std::collections::BTreeMap;

pub(super) fn create(
    eng: &MemoryEngine,
    name: &str,
    labels: &BTreeMap<String, String>,
) -> EngineResult<bool> {
    eng.inner.update(|s| {
        s.enter(Op::CreateVolume)?;
        if s.volumes.contains_key(name) {
            return Ok(false);
        }
        s.volumes.insert(name.to_string(), labels.clone());
        Ok(true)
    })
}

pub(super) fn exists(eng: &MemoryEngine, name: &str) -> EngineResult<bool> {
    let mut s = eng.inner.lock();
    s.enter(Op::VolumeExists)?;
    Ok(s.volumes.contains_key(name))
}

pub(super) fn labelled(eng: &MemoryEngine, want: &[(&str, &str)]) -> EngineResult<Vec<String>> {
    let mut s = eng.inner.lock();
    s.enter(Op::VolumeExists)?;
    Ok(s.volumes
        .iter()
        .filter(|(_, l)| {
            want.iter()
                .all(|(k, v)| l.get(*k).map(String::as_str) == Some(*v))
        })
        .map(|(n, _)| n.clone())
        .collect())
}

pub(super) fn remove(eng: &MemoryEngine, name: &str) -> EngineResult<()> {
    eng.inner.update(|s| {
        s.enter(Op::RemoveVolume)?;
        if let Some(c) = s.containers.values().find(|c| c.volume == name) {
            return Err(EngineError::Conflict(format!(
                "remove {name}: volume is in use - [{}]",
                c.id
            )));
        }
        s.volumes.remove(name);
        s.volume_files.remove(name);
        Ok(())
    })
}
