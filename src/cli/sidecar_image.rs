//! `berth image present|build --docker|--proxy|--logs`: a sidecar's image
//! (`backend::sidecar_image`).
use crate::backend::sidecar_image::SidecarImage;
use crate::backend::{Ctx, Progress};
use anyhow::Result;
use std::time::Instant;

/// `berth image present FLAG`: exit 0 when this berth's image of that kind is there.
pub async fn present(ctx: &Ctx, image: &SidecarImage, json: bool) -> Result<i32> {
    let tag = image.tag();
    let present = ctx.engine.image_present(&tag).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "image": tag, "present": present })
        );
    } else if present {
        println!("{tag} is present");
    } else {
        println!(
            "{tag} is absent; `berth image build {}` builds it (a create {} builds it too)",
            image.flag, image.needed_by
        );
    }
    Ok(if present { 0 } else { 1 })
}

/// `berth image build FLAG`: the image on `base`, progress on stderr.
pub async fn build(ctx: &Ctx, image: &SidecarImage, base: &str, json: bool) -> Result<i32> {
    let started = Instant::now();
    let show = |p: Progress| match p {
        Progress::Output { line, .. } => eprintln!("  {line}"),
        Progress::Note(n) => eprintln!("{n}"),
        _ => {}
    };
    let tag = image.build(ctx, base, &show).await?;
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
