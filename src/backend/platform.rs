//! `--platform` on create and image build: can the engine run the platform
//! (natively, or through an emulator where it runs), and which image is the
//! platform's. Asked before anything is made, so a platform the engine cannot run
//! is refused at once with what to install, never left to hang or half-made.
use crate::domain::platform::{decide, image_suits, platform_tag, Platform, Verdict};
use crate::engine::Engine;

/// The engine's own platform (`None` when berth does not know it) and its words.
pub async fn engine_platform(engine: &dyn Engine) -> Result<(Option<Platform>, String), String> {
    let info = engine.info().await.map_err(|e| e.to_string())?;
    let native = info
        .platform
        .split_once('/')
        .and_then(|(os, arch)| Platform::from_parts(os, arch));
    let text = native.map_or_else(|| info.platform.clone(), |p| p.to_string());
    Ok((native, text))
}

/// Whether `wanted` can run on the engine, or a sentence saying why not and what
/// to install.
pub async fn check_runnable(engine: &dyn Engine, wanted: Platform) -> Result<Verdict, String> {
    let (native, text) = engine_platform(engine).await?;
    if native == Some(wanted) {
        return Ok(Verdict::Native);
    }
    let emulation = engine
        .emulation(wanted.arch)
        .await
        .map_err(|e| e.to_string())?;
    decide(wanted, native, &text, &emulation)
}

/// What the engine has of `image` for a platform.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Found {
    /// This image (`image` itself or its platform tag) is built for it.
    Suits(String),
    /// `image` is present for another platform (`actual`), and its platform tag
    /// (`tagged`, when it has one) is not present for this one.
    Other {
        image: String,
        actual: String,
        tagged: Option<String>,
    },
    /// Neither is present.
    Absent,
}

impl Found {
    /// The sentence for `Other`, ending with how to get an image for `wanted`.
    pub fn mismatch(&self, wanted: Platform, how: &str) -> Option<String> {
        let Found::Other {
            image,
            actual,
            tagged,
        } = self
        else {
            return None;
        };
        Some(match tagged {
            Some(t) => format!(
                "image {image} is for {actual}, not {wanted}, and {t} is not present; {how}"
            ),
            None => format!("image {image} is for {actual}, not {wanted}; {how}"),
        })
    }
}

/// The image for `wanted` when `image` is asked for: `image` itself when it is
/// built for `wanted`, else its platform tag (`IMAGE-ARCH`: what `berth image build
/// --platform` makes) when that is.
pub async fn image_for(
    engine: &dyn Engine,
    image: &str,
    wanted: Platform,
) -> Result<Found, String> {
    let tagged = platform_tag(image, wanted.arch);
    let mut other: Option<(String, String)> = None;
    for candidate in std::iter::once(image.to_string()).chain(tagged.clone()) {
        let info = engine
            .image_info(&candidate)
            .await
            .map_err(|e| e.to_string())?;
        let Some(info) = info else { continue };
        let (os, arch) = (info.os.as_str(), info.architecture.as_str());
        if image_suits(Some(os), Some(arch), wanted) {
            return Ok(Found::Suits(candidate));
        }
        other.get_or_insert((candidate, format!("{os}/{arch}")));
    }
    Ok(match other {
        Some((image, actual)) => Found::Other {
            image,
            actual,
            tagged,
        },
        None => Found::Absent,
    })
}

/// How to get a workspace image for `wanted`.
pub fn build_hint(image: &str, wanted: Platform) -> String {
    let makes = platform_tag(image, wanted.arch)
        .map(|t| format!(" (it makes {t})"))
        .unwrap_or_default();
    format!("build it with `berth image build --platform {wanted}`{makes}, or give an image built for {wanted} with --image")
}

/// How to get a base image for `wanted`: berth builds on one, it never makes one
/// for another platform.
pub fn base_hint(base: &str, wanted: Platform) -> String {
    let tag = platform_tag(base, wanted.arch).unwrap_or_else(|| format!("{base}-{}", wanted.arch));
    format!(
        "give a {wanted} base with --base IMG, or tag one as {tag}. berth does not make one for another platform: pull it where a registry answers (`docker pull --platform {wanted} {base}`, then `docker tag` it as {tag}; the pull replaces the local {base}, so pull the native one back after), or make a root filesystem with `debootstrap --foreign --arch {arch} bookworm DIR`, finish it under the emulator (`chroot DIR /debootstrap/debootstrap --second-stage`) and `tar -C DIR -c . | docker import --platform {wanted} - {tag}`",
        arch = wanted.arch
    )
}

/// For `berth image build --platform`: refuses a platform the engine cannot run
/// (the build runs the image's programs) and a base present only for another
/// platform; else the tag to build (`tag`, else the configured image for the
/// engine's own platform and its platform tag for another) and the base to build
/// on (`base` or its platform tag). An absent base is pulled by the engine, for
/// the platform.
pub async fn for_build(
    engine: &dyn Engine,
    wanted: Platform,
    tag: Option<String>,
    image: &str,
    base: &str,
) -> Result<(String, String, Verdict), String> {
    let verdict = check_runnable(engine, wanted).await?;
    let base = match image_for(engine, base, wanted).await? {
        Found::Suits(b) => b,
        Found::Absent => base.to_string(),
        other => {
            return Err(other
                .mismatch(wanted, &base_hint(base, wanted))
                .unwrap_or_default()
                .replacen("image ", "the base image ", 1))
        }
    };
    let tag = tag.unwrap_or_else(|| match verdict {
        Verdict::Native => image.to_string(),
        _ => platform_tag(image, wanted.arch).unwrap_or_else(|| image.to_string()),
    });
    Ok((tag, base, verdict))
}

/// After a build for `wanted`: the image really is for it. (Docker's classic
/// builder builds on a local base of another platform as it is, silently; the
/// checks before the build avoid that, this makes sure.) A wrong one is removed.
pub async fn verify_built(engine: &dyn Engine, tag: &str, wanted: Platform) -> Result<(), String> {
    match image_for(engine, tag, wanted).await? {
        Found::Suits(t) if t == tag => Ok(()),
        _ => {
            let actual = engine
                .image_info(tag)
                .await
                .ok()
                .flatten()
                .map(|i| format!("{}/{}", i.os, i.architecture))
                .unwrap_or_else(|| "nothing".into());
            let _ = engine.remove_image(tag).await;
            Err(format!(
                "the engine built {actual} instead of {wanted} for {tag} (removed); give a base image built for {wanted} with --base"
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::platform::{Arch, Emulation};
    use crate::engine::memory::MemoryEngine;

    const ARM: Platform = Platform { arch: Arch::Arm64 };
    const AMD: Platform = Platform { arch: Arch::Amd64 };

    #[tokio::test]
    async fn the_engines_platform_decides_not_the_hosts() {
        let e = MemoryEngine::new();
        assert_eq!(check_runnable(&e, AMD).await, Ok(Verdict::Native));
        let err = check_runnable(&e, ARM).await.unwrap_err();
        assert!(err.contains("its platform is linux/amd64"), "{err}");
        // An arm64 engine (a remote one, say) runs arm64 natively.
        e.set_native_arch(Arch::Arm64);
        assert_eq!(check_runnable(&e, ARM).await, Ok(Verdict::Native));
        assert!(check_runnable(&e, AMD).await.is_err());
        e.set_emulation(Arch::Amd64, Emulation::Ready("qemu-x86_64".into()));
        assert_eq!(
            check_runnable(&e, AMD).await,
            Ok(Verdict::Emulated("qemu-x86_64".into()))
        );
    }

    #[tokio::test]
    async fn the_platforms_image_is_the_tag_or_its_platform_tag() {
        let e = MemoryEngine::new();
        e.add_image("ws:1");
        assert_eq!(
            image_for(&e, "ws:1", AMD).await,
            Ok(Found::Suits("ws:1".into()))
        );
        let other = image_for(&e, "ws:1", ARM).await.unwrap();
        assert_eq!(
            other.mismatch(ARM, &build_hint("ws:1", ARM)).unwrap(),
            "image ws:1 is for linux/amd64, not linux/arm64, and ws:1-arm64 is not present; build it with `berth image build --platform linux/arm64` (it makes ws:1-arm64), or give an image built for linux/arm64 with --image"
        );
        e.add_image_for("ws:1-arm64", Arch::Arm64);
        assert_eq!(
            image_for(&e, "ws:1", ARM).await,
            Ok(Found::Suits("ws:1-arm64".into()))
        );
        e.add_image_for("mine:arm", Arch::Arm64);
        assert_eq!(
            image_for(&e, "mine:arm", ARM).await,
            Ok(Found::Suits("mine:arm".into()))
        );
        assert_eq!(image_for(&e, "absent:1", ARM).await, Ok(Found::Absent));
    }

    #[tokio::test]
    async fn a_build_for_a_platform_checks_the_emulator_then_the_base() {
        let e = MemoryEngine::new();
        e.add_image("debian:12");
        // Native: the configured tag, the base as is.
        let (tag, base, v) = for_build(&e, AMD, None, "ws:1", "debian:12").await.unwrap();
        assert_eq!(
            (tag.as_str(), base.as_str(), v),
            ("ws:1", "debian:12", Verdict::Native)
        );
        // Foreign without an emulator: refused before the base is looked at.
        let err = for_build(&e, ARM, None, "ws:1", "debian:12")
            .await
            .unwrap_err();
        assert!(err.contains("Install an emulator"), "{err}");
        // With one: the base present only for amd64 is refused, saying how to get one.
        e.set_emulation(Arch::Arm64, Emulation::Ready("qemu-aarch64".into()));
        let err = for_build(&e, ARM, None, "ws:1", "debian:12")
            .await
            .unwrap_err();
        assert!(err.starts_with("the base image debian:12 is for linux/amd64, not linux/arm64, and debian:12-arm64 is not present; give a linux/arm64 base"), "{err}");
        assert!(err.contains("debootstrap --foreign --arch arm64"), "{err}");
        // Its platform tag is used; the workspace image gets its platform tag.
        e.add_image_for("debian:12-arm64", Arch::Arm64);
        let (tag, base, _) = for_build(&e, ARM, None, "ws:1", "debian:12").await.unwrap();
        assert_eq!(
            (tag.as_str(), base.as_str()),
            ("ws:1-arm64", "debian:12-arm64")
        );
        // An absent base is the engine's to pull (for the platform).
        let (_, base, _) = for_build(&e, ARM, Some("t".into()), "ws:1", "other:1")
            .await
            .unwrap();
        assert_eq!(base, "other:1");
        // What was built is checked: an image of another platform is refused.
        e.add_image_for("built:arm", Arch::Arm64);
        assert_eq!(verify_built(&e, "built:arm", ARM).await, Ok(()));
        e.add_image("built:amd");
        let err = verify_built(&e, "built:amd", ARM).await.unwrap_err();
        assert!(
            err.starts_with("the engine built linux/amd64 instead of linux/arm64"),
            "{err}"
        );
    }
}
