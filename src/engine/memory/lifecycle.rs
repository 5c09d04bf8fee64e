//! A container's lifecycle in the memory engine: start (its host port bound when
//! publishing), stop, restart, rename and remove, each recorded as events.
use super::{MemoryEngine, Op};
use crate::engine::{EngineError, EngineResult};

pub(super) fn start(eng: &MemoryEngine, container: &str) -> EngineResult<()> {
    let publish = eng.inner.publisher.on;
    let mut listener = None;
    let port = eng
        .inner
        .lock()
        .find(container)
        .and_then(|c| (!c.running()).then_some(c.host_port).flatten());
    if let (true, Some(p)) = (publish, port) {
        listener =
            Some(eng.inner.publisher.bind(p).map_err(|e| {
                EngineError::PortTaken(format!("Bind for 127.0.0.1:{p} failed: {e}"))
            })?);
    }
    eng.inner.update(|s| {
        s.enter(Op::StartContainer)?;
        s.start(container)
    })?;
    if let (Some(l), Some(p)) = (listener, port) {
        eng.inner.publisher.serve(p, l);
    }
    Ok(())
}

pub(super) fn stop(eng: &MemoryEngine, container: &str) -> EngineResult<()> {
    let r = eng.inner.update(|s| {
        s.enter(Op::StopContainer)?;
        s.stop(container)
    });
    eng.republish();
    r
}

pub(super) fn restart(eng: &MemoryEngine, container: &str) -> EngineResult<()> {
    eng.inner.update(|s| {
        s.enter(Op::RestartContainer)?;
        s.stop(container)?;
        s.start(container)?;
        let name = s
            .find(container)
            .map(|c| c.name.clone())
            .unwrap_or_default();
        s.event(&name, "restart");
        Ok(())
    })
}

pub(super) fn rename(eng: &MemoryEngine, container: &str, new_name: &str) -> EngineResult<()> {
    eng.inner.update(|s| {
        s.enter(Op::RenameContainer)?;
        let Some(old) = s.find(container).map(|c| c.name.clone()) else {
            return Err(EngineError::NotFound {
                what: format!("container {container}"),
            });
        };
        if s.containers.contains_key(new_name) {
            return Err(EngineError::Conflict(format!(
                "the container name \"/{new_name}\" is already in use"
            )));
        }
        if let Some(mut c) = s.containers.remove(&old) {
            c.name = new_name.to_string();
            s.containers.insert(new_name.to_string(), c);
        }
        s.event(new_name, "rename");
        Ok(())
    })
}

pub(super) fn remove(eng: &MemoryEngine, container: &str) -> EngineResult<()> {
    let r = eng.inner.update(|s| {
        s.enter(Op::RemoveContainer)?;
        let Some(name) = s.find(container).map(|c| c.name.clone()) else {
            return Ok(());
        };
        s.stop(&name)?;
        s.event(&name, "destroy");
        s.containers.remove(&name);
        Ok(())
    });
    eng.republish();
    r
}
