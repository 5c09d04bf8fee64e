//! `berth image build|present`: the workspace image from berth's embedded definition.
use super::ImageAction;
use crate::backend::platform::{for_build, verify_built};
use crate::config::{Config, Paths};
use crate::domain::platform::{Platform, Verdict};
use anyhow::{anyhow, Context, Result};
use tokio::sync::mpsc;

use crate::backend::images::{base_status, outdated_sentence, BaseStatus};
pub use crate::backend::images::{context_tar, image_build, DEFAULT_BASE};

pub async fn run(paths: Paths, config: Config, action: ImageAction) -> Result<i32> {
    let ctx = super::connect(paths, config).await?;
    match action {
        ImageAction::Present {
            docker: true, json, ..
        } => super::sidecar_image::present(&ctx, &crate::backend::dind::image::IMAGE, json).await,
        ImageAction::Present {
            logs: true, json, ..
        } => {
            super::sidecar_image::present(&ctx, &crate::backend::log_forward::image::IMAGE, json)
                .await
        }
        ImageAction::Build {
            logs: true,
            base,
            json,
            ..
        } => {
            super::sidecar_image::build(
                &ctx,
                &crate::backend::log_forward::image::IMAGE,
                &base,
                json,
            )
            .await
        }
        ImageAction::Build {
            docker: true,
            base,
            json,
            ..
        } => {
            super::sidecar_image::build(&ctx, &crate::backend::dind::image::IMAGE, &base, json)
                .await
        }
        ImageAction::Present {
            proxy: true, json, ..
        } => super::sidecar_image::present(&ctx, &crate::backend::proxy::image::IMAGE, json).await,
        ImageAction::Build {
            proxy: true,
            base,
            json,
            ..
        } => {
            super::sidecar_image::build(&ctx, &crate::backend::proxy::image::IMAGE, &base, json)
                .await
        }
        ImageAction::Load { name, image, json } => {
            super::dind::load(&ctx, &name, &image, json).await
        }
        ImageAction::Present { json, .. } => {
            let image = &ctx.config.image;
            let status = base_status(&ctx, image).await?;
            let present = status != BaseStatus::Absent;
            let outdated = status == BaseStatus::Outdated;
            if json {
                let v =
                    serde_json::json!({ "image": image, "present": present, "outdated": outdated });
                println!("{v}");
            } else if outdated {
                println!("{}", outdated_sentence(image));
            } else {
                println!(
                    "{image} {}",
                    if present { "is present" } else { "is absent" }
                );
            }
            Ok(if present && !outdated { 0 } else { 1 })
        }
        ImageAction::Build {
            profile: Some(name),
            json,
            ..
        } => super::profiles::build(&ctx, &name, json).await,
        ImageAction::Build {
            tag,
            base,
            json,
            platform,
            ..
        } => {
            let (tag, base, platform) = match platform {
                None => (tag.unwrap_or_else(|| ctx.config.image.clone()), base, None),
                Some(p) => {
                    let wanted = Platform::parse(&p).map_err(|e| anyhow!(e))?;
                    let (tag, base, verdict) =
                        for_build(ctx.engine.as_ref(), wanted, tag, &ctx.config.image, &base)
                            .await
                            .map_err(|e| anyhow!(e))?;
                    match verdict {
                        Verdict::Native => {}
                        Verdict::Emulated(by) => eprintln!("{wanted} runs emulated by {by}: the build is several times slower than a native one"),
                        Verdict::Unchecked(note) => eprintln!("{note}"),
                    }
                    (tag, base, Some(wanted.to_string()))
                }
            };
            let on = platform
                .as_deref()
                .map(|p| format!(" for {p}"))
                .unwrap_or_default();
            eprintln!("Building {tag}{on} on {base} (+ sshd, git, build tools, curl, rsync, a UTF-8 locale) ...");
            let (tx, mut rx) = mpsc::channel::<String>(64);
            let engine = ctx.engine.clone();
            let build = image_build(&ctx.config, &tag, &base, platform.as_deref());
            let ctx_tar = context_tar()?;
            let job = tokio::spawn(async move { engine.build_image(ctx_tar, &build, tx).await });
            let started = std::time::Instant::now();
            while let Some(line) = rx.recv().await {
                eprintln!("  {line}");
            }
            job.await?.with_context(|| {
                format!("building {tag} failed; its base image {base} must be present or pullable (in berth's checkout `sudo scripts/engine.sh images target/release/berth` makes it without a registry)")
            })?;
            if let Some(p) = &platform {
                let wanted = Platform::parse(p).map_err(|e| anyhow!(e))?;
                verify_built(ctx.engine.as_ref(), &tag, wanted)
                    .await
                    .map_err(|e| anyhow!(e))?;
            }
            let secs = started.elapsed().as_secs_f64();
            eprintln!("Built {tag} in {secs:.0}s.");
            if json {
                println!(
                    "{}",
                    serde_json::json!({ "image": tag, "base": base, "platform": platform, "built": true, "seconds": secs })
                );
            }
            Ok(0)
        }
    }
}
