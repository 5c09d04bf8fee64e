//! Snapshots in the memory engine: pause, commit (an image with the container's
//! labels and files), volume copies (of the files tests put in volumes), lists by
//! label. Plus test controls to put files in volumes and read them back.
use super::state::State;
use super::{MemoryEngine, Op};
use crate::domain::workspace::WorkspaceState;
use crate::engine::snapshot::{ImageSummary, SnapshotEngine, VolumeCopy, VolumeSummary};
use crate::engine::{EngineError, EngineResult};
use async_trait::async_trait;
use std::collections::BTreeMap;

fn holds(labels: &BTreeMap<String, String>, want: &[(&str, &str)]) -> bool {
    want.iter()
        .all(|(k, v)| labels.get(*k).map(String::as_str) == Some(*v))
}

fn bytes(files: &BTreeMap<String, Vec<u8>>) -> u64 {
    files.values().map(|f| f.len() as u64).sum()
}

fn volumes_exist(s: &State, copy: &VolumeCopy) -> EngineResult<()> {
    for v in [&copy.from, &copy.to] {
        if !s.volumes.contains_key(v) {
            return Err(EngineError::NotFound {
                what: format!("no such volume: {v}"),
            });
        }
    }
    Ok(())
}

/// Moves a container between running and paused, like the engine (which refuses
/// to pause what does not run, and to unpause what is not paused).
fn set_paused(s: &mut State, key: &str, paused: bool) -> EngineResult<()> {
    let c = s.find_mut(key).ok_or_else(|| State::not_found(key))?;
    let (from, to, action) = if paused {
        (WorkspaceState::Running, WorkspaceState::Paused, "pause")
    } else {
        (WorkspaceState::Paused, WorkspaceState::Running, "unpause")
    };
    if c.state != from {
        return Err(EngineError::Conflict(format!(
            "Container {} is not {}",
            c.id,
            if paused { "running" } else { "paused" }
        )));
    }
    c.state = to;
    let name = c.name.clone();
    s.event(&name, action);
    Ok(())
}

#[async_trait]
impl SnapshotEngine for MemoryEngine {
    async fn pause_container(&self, container: &str) -> EngineResult<()> {
        self.inner.update(|s| {
            s.enter(Op::Pause)?;
            set_paused(s, container, true)
        })
    }

    async fn unpause_container(&self, container: &str) -> EngineResult<()> {
        self.inner.update(|s| {
            s.enter(Op::Unpause)?;
            set_paused(s, container, false)
        })
    }

    async fn commit_container(
        &self,
        container: &str,
        tag: &str,
        labels: &BTreeMap<String, String>,
    ) -> EngineResult<String> {
        self.inner.update(|s| {
            s.enter(Op::Commit)?;
            let c = s
                .find(container)
                .ok_or_else(|| State::not_found(container))?;
            // Like the engine: the container's labels, overridden by the given ones.
            let mut all = c.labels.clone();
            all.extend(labels.clone());
            let files = c.files.clone();
            s.images.insert(tag.to_string());
            s.image_labels.insert(tag.to_string(), all);
            s.image_files.insert(tag.to_string(), files);
            Ok(format!("sha256:{tag}"))
        })
    }

    async fn start_copy_helper(&self, copy: &VolumeCopy) -> EngineResult<()> {
        let mut s = self.inner.lock();
        s.enter(Op::CopyVolume)?;
        volumes_exist(&s, copy)
    }

    async fn copy_volume(&self, copy: &VolumeCopy) -> EngineResult<u64> {
        self.inner.update(|s| {
            s.enter(Op::CopyVolume)?;
            volumes_exist(s, copy)?;
            let mut files = s.volume_files.get(&copy.from).cloned().unwrap_or_default();
            files.retain(|path, _| {
                !copy
                    .skip
                    .iter()
                    .any(|p| path == p || path.starts_with(&format!("{p}/")))
            });
            let target = s.volume_files.entry(copy.to.clone()).or_default();
            target.extend(files);
            Ok(bytes(target))
        })
    }

    async fn images_by_label(&self, want: &[(&str, &str)]) -> EngineResult<Vec<ImageSummary>> {
        let mut s = self.inner.lock();
        s.enter(Op::ImagesByLabel)?;
        Ok(s.image_labels
            .iter()
            .filter(|(tag, l)| s.images.contains(*tag) && holds(l, want))
            .map(|(tag, l)| ImageSummary {
                id: format!("sha256:{tag}"),
                tags: vec![tag.clone()],
                labels: l.clone(),
                created: 0,
                own_bytes: s.image_files.get(tag).map(bytes),
            })
            .collect())
    }

    async fn volumes_by_label(&self, want: &[(&str, &str)]) -> EngineResult<Vec<VolumeSummary>> {
        let mut s = self.inner.lock();
        s.enter(Op::VolumesByLabel)?;
        Ok(s.volumes
            .iter()
            .filter(|(_, l)| holds(l, want))
            .map(|(name, l)| VolumeSummary {
                name: name.clone(),
                labels: l.clone(),
            })
            .collect())
    }

    async fn untag_image(&self, image: &str) -> EngineResult<()> {
        self.inner.update(|s| {
            s.enter(Op::UntagImage)?;
            // Containers made from it keep the files they started with.
            s.images.remove(image);
            s.image_labels.remove(image);
            s.image_files.remove(image);
            Ok(())
        })
    }
}

impl MemoryEngine {
    /// Puts a file (path relative to the volume's root) in a volume.
    pub fn write_volume_file(&self, volume: &str, path: &str, contents: &[u8]) {
        self.inner.update(|s| {
            s.volume_files
                .entry(volume.to_string())
                .or_default()
                .insert(path.to_string(), contents.to_vec())
        });
    }

    /// A file in a volume, `None` when absent.
    pub fn volume_file(&self, volume: &str, path: &str) -> Option<Vec<u8>> {
        self.inner
            .lock()
            .volume_files
            .get(volume)?
            .get(path)
            .cloned()
    }

    /// An image's labels, `None` when no such image was committed.
    pub fn image_labels(&self, image: &str) -> Option<BTreeMap<String, String>> {
        self.inner.lock().image_labels.get(image).cloned()
    }

    /// Names of the volumes that exist.
    pub fn volumes(&self) -> Vec<String> {
        self.inner.lock().volumes.keys().cloned().collect()
    }

    /// Tags of the images that exist.
    pub fn images(&self) -> Vec<String> {
        self.inner.lock().images.iter().cloned().collect()
    }

    /// A container's state word, `None` when absent.
    pub fn state_of(&self, container: &str) -> Option<WorkspaceState> {
        self.inner.lock().find(container).map(|c| c.state)
    }
}
