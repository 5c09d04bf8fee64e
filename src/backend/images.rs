//! berth's images: the base workspace image, built from the definition embedded in
//! berth (`assets/image/`) and labelled with that definition's hash, so an image
//! built by an older berth is known as outdated.
use super::Ctx;
use crate::config::Config;
use crate::domain::labels;
use crate::domain::profiles::files_hash;
use crate::engine::ImageBuild;
use anyhow::Result;

/// The base image when none is given: the default of the Dockerfile's `ARG BASE`.
pub const DEFAULT_BASE: &str = "debian:bookworm-slim";

/// The image definition, embedded so an installed berth needs no checkout.
pub const FILES: &[(&str, &str, u32)] = &[
    (
        "Dockerfile",
        include_str!("../../assets/image/Dockerfile"),
        0o644,
    ),
    (
        "sshd_config",
        include_str!("../../assets/image/sshd_config"),
        0o644,
    ),
    ("env.sh", include_str!("../../assets/image/env.sh"), 0o644),
    (
        "entrypoint.sh",
        include_str!("../../assets/image/entrypoint.sh"),
        0o755,
    ),
];

/// The hash of the embedded definition (the `dev.berth.definition` label).
pub fn definition_hash() -> String {
    files_hash(FILES.iter().map(|(n, t, _)| (*n, *t)))
}

/// A tar archive of `files` (name, content, mode): a build context.
pub fn tar_of<'a>(files: impl IntoIterator<Item = (&'a str, &'a [u8], u32)>) -> Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, data, mode) in files {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, data)?;
    }
    Ok(b.into_inner()?)
}

/// The base image's build context.
pub fn context_tar() -> Result<Vec<u8>> {
    tar_of(FILES.iter().map(|(n, t, m)| (*n, t.as_bytes(), *m)))
}

/// What to build: `tag` on `base` (for `platform` when given), carrying the
/// config's `[labels]` (every object berth creates carries them), the image's role,
/// berth's version, the definition's hash and the platform asked for.
pub fn image_build(config: &Config, tag: &str, base: &str, platform: Option<&str>) -> ImageBuild {
    let mut labels = labels::image_labels(&config.labels, env!("CARGO_PKG_VERSION"));
    labels.insert(labels::DEFINITION.into(), definition_hash());
    if let Some(p) = platform {
        labels.insert(labels::PLATFORM.into(), p.to_string());
    }
    ImageBuild {
        tag: tag.to_string(),
        args: [("BASE".to_string(), base.to_string())].into(),
        labels,
        platform: platform.map(String::from),
    }
}

/// Where the base image stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BaseStatus {
    Absent,
    /// Built by berth from this definition.
    Current,
    /// Built by berth from another definition (an older or newer berth).
    Outdated,
    /// Not one of berth's images (a user's own): not judged.
    Foreign,
}

pub async fn base_status(ctx: &Ctx, image: &str) -> Result<BaseStatus> {
    let Some(info) = ctx.engine.image_info(image).await? else {
        return Ok(BaseStatus::Absent);
    };
    Ok(
        match (
            info.labels.get(labels::ROLE).map(String::as_str),
            info.labels.get(labels::DEFINITION),
        ) {
            (Some(labels::ROLE_IMAGE), Some(d)) if *d == definition_hash() => BaseStatus::Current,
            (Some(labels::ROLE_IMAGE), _) => BaseStatus::Outdated,
            _ => BaseStatus::Foreign,
        },
    )
}

/// The sentence for an outdated base image.
pub fn outdated_sentence(image: &str) -> String {
    format!("{image} was built from an older definition of berth's workspace image; run `berth image build` to rebuild it")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dockerfile_builds_on_the_base_argument_and_carries_the_tools() {
        let dockerfile = FILES[0].1;
        assert!(dockerfile.contains(&format!("ARG BASE={DEFAULT_BASE}\n")));
        assert!(dockerfile.contains("FROM ${BASE}\n"));
        // The general profile's tools are in the base (it builds no image).
        for p in [
            "git",
            "curl",
            "build-essential",
            "wget",
            "jq",
            "tree",
            "tmux",
            "vim-tiny",
            "less",
            "make",
            "rsync",
            "tar",
            "locales",
        ] {
            assert!(
                dockerfile.split_whitespace().any(|w| w == p),
                "{p} missing from the base image"
            );
        }
    }

    #[test]
    fn the_build_carries_base_config_and_definition_labels() {
        let mut config = Config::default();
        config.labels.insert("berth.test-run".into(), "r42".into());
        let b = image_build(&config, "x/ws:latest", "x/debian:bookworm", None);
        assert!(b.platform.is_none() && !b.labels.contains_key(labels::PLATFORM));
        let arm = image_build(&config, "x/ws:latest-arm64", "d", Some("linux/arm64"));
        assert_eq!(arm.platform.as_deref(), Some("linux/arm64"));
        assert_eq!(arm.labels[labels::PLATFORM], "linux/arm64");
        assert_eq!(b.tag, "x/ws:latest");
        assert_eq!(b.args["BASE"], "x/debian:bookworm");
        assert_eq!(b.labels["berth.test-run"], "r42");
        assert_eq!(b.labels[labels::ROLE], labels::ROLE_IMAGE);
        assert_eq!(b.labels[labels::DEFINITION], definition_hash());
        assert_eq!(definition_hash().len(), 16);
    }

    #[test]
    fn context_holds_the_image_files() {
        let tar = context_tar().unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(
            names,
            ["Dockerfile", "sshd_config", "env.sh", "entrypoint.sh"]
        );
    }
}
