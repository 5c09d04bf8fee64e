//! Whole files written into and read from a container (`write_file`, `read_file`),
//! kept by path apart from the archive API's filesystem.
use super::state::State;
use super::{MemoryEngine, Op};
use crate::engine::EngineResult;

pub(super) fn write(
    eng: &MemoryEngine,
    container: &str,
    path: &str,
    contents: &[u8],
) -> EngineResult<()> {
    eng.inner.update(|s| {
        s.enter(Op::WriteFile)?;
        let c = s
            .find_mut(container)
            .ok_or_else(|| State::not_found(container))?;
        c.files.insert(path.to_string(), contents.to_vec());
        let name = c.name.clone();
        // Docker reports an archive upload as this event.
        s.event(&name, "extract-to-dir");
        Ok(())
    })
}

pub(super) fn read(
    eng: &MemoryEngine,
    container: &str,
    path: &str,
    limit: usize,
) -> EngineResult<Option<Vec<u8>>> {
    let mut s = eng.inner.lock();
    s.enter(Op::ReadFile)?;
    let c = s
        .find(container)
        .ok_or_else(|| State::not_found(container))?;
    Ok(c.files.get(path).map(|b| b[..b.len().min(limit)].to_vec()))
}
