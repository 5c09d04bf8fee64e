//! `berth image build|present`: the workspace image from berth's embedded definition.
use super::ImageAction;
use crate::config::{Config, Paths};
use anyhow::{Context, Result};
use tokio::sync::mpsc;

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
        ImageAction::Build { tag, json } => {
            let tag = tag.unwrap_or_else(|| ctx.config.image.clone());
            eprintln!("Building {tag} (Debian bookworm + openssh-server, git, sudo) ...");
            let (tx, mut rx) = mpsc::channel::<String>(64);
            let engine = ctx.engine.clone();
            let t = tag.clone();
            let ctx_tar = context_tar()?;
            let build = tokio::spawn(async move { engine.build_image(ctx_tar, &t, tx).await });
            let started = std::time::Instant::now();
            while let Some(line) = rx.recv().await {
                eprintln!("  {line}");
            }
            build.await?.with_context(|| {
                format!("building {tag} failed; the base image debian:bookworm-slim must be present or pullable (`sudo scripts/engine.sh images` makes it without a registry)")
            })?;
            let secs = started.elapsed().as_secs_f64();
            eprintln!("Built {tag} in {secs:.0}s.");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "image": tag, "built": true, "seconds": secs })
                );
            }
            Ok(0)
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn context_holds_the_image_files() {
        let tar = super::context_tar().unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["Dockerfile", "sshd_config", "entrypoint.sh"]);
    }
}
