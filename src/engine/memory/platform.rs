//! The in-memory engine's platforms: its own (amd64 unless a test says otherwise),
//! each image's, and the emulators its "machine" has (none unless a test registers
//! one), so the platform checks above the engine are tested against honest answers.
use super::{MemoryEngine, Op};
use crate::domain::platform::{Arch, Emulation, Platform};
use crate::engine::{EngineError, EngineResult, ImageInfo};
use std::collections::BTreeMap;

pub(super) struct Platforms {
    pub native: Arch,
    /// Images of another architecture than the engine's, by tag.
    pub images: BTreeMap<String, Arch>,
    /// Emulators by architecture; an architecture not listed has none.
    pub emulators: BTreeMap<Arch, Emulation>,
}

impl Default for Platforms {
    fn default() -> Self {
        Self {
            native: Arch::Amd64,
            images: BTreeMap::new(),
            emulators: BTreeMap::new(),
        }
    }
}

impl Platforms {
    pub fn image_arch(&self, tag: &str) -> Arch {
        self.images.get(tag).copied().unwrap_or(self.native)
    }

    pub fn emulation(&self, arch: Arch) -> Emulation {
        self.emulators
            .get(&arch)
            .cloned()
            .unwrap_or(Emulation::Missing)
    }

    /// The engine's refusal of a container whose platform is not its image's.
    pub fn check_create(&self, image: &str, platform: Option<&str>) -> EngineResult<()> {
        let Some(wanted) = platform.filter(|p| !p.is_empty()) else {
            return Ok(());
        };
        let actual = Platform::new(self.image_arch(image));
        if Platform::parse(wanted).ok() != Some(actual) {
            return Err(EngineError::NotFound {
                what: format!("image with reference {image} was found but does not match the specified platform: wanted {wanted}, actual: {actual}"),
            });
        }
        Ok(())
    }

    /// Records the architecture a build made `tag` for.
    pub fn built(&mut self, tag: &str, platform: Option<&str>) {
        let arch = platform
            .and_then(|p| Platform::parse(p).ok())
            .map_or(self.native, |p| p.arch);
        if arch == self.native {
            self.images.remove(tag);
        } else {
            self.images.insert(tag.to_string(), arch);
        }
    }
}

impl MemoryEngine {
    pub(super) fn image_info_now(&self, image: &str) -> EngineResult<Option<ImageInfo>> {
        let mut s = self.inner.lock();
        s.enter(Op::ImagePresent)?;
        Ok(s.images.contains(image).then(|| ImageInfo {
            id: image.to_string(),
            labels: s.image_labels.get(image).cloned().unwrap_or_default(),
            os: "linux".into(),
            architecture: s.platforms.image_arch(image).to_string(),
            ..Default::default()
        }))
    }

    pub(super) fn emulation_now(&self, arch: Arch) -> EngineResult<Emulation> {
        let mut s = self.inner.lock();
        s.enter(Op::Info)?;
        Ok(s.platforms.emulation(arch))
    }

    /// A build made `tag` (for `platform`, the engine's own when `None`).
    pub(super) fn built(
        &self,
        tag: &str,
        platform: Option<&str>,
        labels: &std::collections::BTreeMap<String, String>,
    ) {
        self.inner.update(|s| {
            s.images.insert(tag.to_string());
            s.image_labels.insert(tag.to_string(), labels.clone());
            s.platforms.built(tag, platform);
        });
    }

    /// The engine's own architecture (amd64 by default).
    pub fn set_native_arch(&self, arch: Arch) {
        self.inner.update(|s| s.platforms.native = arch);
    }

    /// Makes `tag` present as an image of `arch`.
    pub fn add_image_for(&self, tag: &str, arch: Arch) {
        self.inner.update(|s| {
            s.images.insert(tag.to_string());
            s.platforms.images.insert(tag.to_string(), arch);
        });
    }

    /// What the engine's machine has for emulating `arch`.
    pub fn set_emulation(&self, arch: Arch, e: Emulation) {
        self.inner.update(|s| s.platforms.emulators.insert(arch, e));
    }
}
