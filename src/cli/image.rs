//! `berth image build|present`: the workspace image from berth's embedded definition.
use super::ImageAction;
use crate::config::{Config, Paths};
use crate::domain::labels;
use crate::engine::ImageBuild;
use anyhow::{Context, Result};
use tokio::sync::mpsc;

/// The base image when none is given: the default of the Dockerfile's `ARG BASE`.
pub const DEFAULT_BASE: &str = "debian:bookworm-slim";

/// The image definition, embedded so an installed berth needs no checkout.
const FILES: &[(&str, &str, u32)] = &[
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

/// A tar archive of the build context.
pub fn context_tar() -> Result<Vec<u8>> {
    let mut b = tar::Builder::new(Vec::new());
    for (name, text, mode) in FILES {
        let mut h = tar::Header::new_gnu();
        h.set_size(text.len() as u64);
        h.set_mode(*mode);
        h.set_mtime(0);
        h.set_cksum();
        b.append_data(&mut h, name, text.as_bytes())?;
    }
    Ok(b.into_inner()?)
}

/// What to build: `tag` on `base`, carrying the config's `[labels]` (every object
/// berth creates carries them) plus the image's role and berth's version.
pub fn image_build(config: &Config, tag: &str, base: &str) -> ImageBuild {
    ImageBuild {
        tag: tag.to_string(),
        args: [("BASE".to_string(), base.to_string())].into(),
        labels: labels::image_labels(&config.labels, env!("CARGO_PKG_VERSION")),
    }
}

pub async fn run(paths: Paths, config: Config, action: ImageAction) -> Result<i32> {
    let ctx = super::connect(paths, config).await?;
    match action {
        ImageAction::Present { json } => {
            let present = ctx.engine.image_present(&ctx.config.image).await?;
            if json {
                let v = serde_json::json!({ "image": ctx.config.image, "present": present });
                println!("{v}");
            } else {
                println!(
                    "{} {}",
                    ctx.config.image,
                    if present { "is present" } else { "is absent" }
                );
            }
            Ok(if present { 0 } else { 1 })
        }
        ImageAction::Build { tag, base, json } => {
            let tag = tag.unwrap_or_else(|| ctx.config.image.clone());
            eprintln!("Building {tag} on {base} (+ openssh-server, git, sudo) ...");
            let (tx, mut rx) = mpsc::channel::<String>(64);
            let engine = ctx.engine.clone();
            let build = image_build(&ctx.config, &tag, &base);
            let ctx_tar = context_tar()?;
            let job = tokio::spawn(async move { engine.build_image(ctx_tar, &build, tx).await });
            let started = std::time::Instant::now();
            while let Some(line) = rx.recv().await {
                eprintln!("  {line}");
            }
            job.await?.with_context(|| {
                format!("building {tag} failed; its base image {base} must be present or pullable (in berth's checkout `sudo scripts/engine.sh images target/release/berth` makes it without a registry)")
            })?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!("Built {tag} in {secs:.0}s.");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "image": tag, "base": base, "built": true, "seconds": secs })
                );
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_dockerfile_builds_on_the_base_argument() {
        let dockerfile = FILES[0].1;
        assert!(dockerfile.contains(&format!("ARG BASE={DEFAULT_BASE}\n")));
        assert!(dockerfile.contains("FROM ${BASE}\n"));
    }

    #[test]
    fn the_build_carries_base_and_config_labels() {
        let mut config = Config::default();
        config.labels.insert("berth.test-run".into(), "r42".into());
        let b = image_build(&config, "x/ws:latest", "x/debian:bookworm");
        assert_eq!(b.tag, "x/ws:latest");
        assert_eq!(b.args["BASE"], "x/debian:bookworm");
        assert_eq!(b.labels["berth.test-run"], "r42");
        assert_eq!(b.labels[labels::ROLE], labels::ROLE_IMAGE);
    }

    #[test]
    fn context_holds_the_image_files() {
        let tar = super::context_tar().unwrap();
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
