//! `berth image present|build --proxy`: the egress proxy image of network profile
//! `proxy` (`backend::proxy::image`).
use crate::backend::proxy::image;
use crate::backend::{Ctx, Progress};
use anyhow::Result;
use std::time::Instant;

/// `berth image present --proxy`: exit 0 when this berth's proxy image is there.
pub async fn present(ctx: &Ctx, json: bool) -> Result<i32> {
    let tag = image::tag();
    let present = ctx.engine.image_present(&tag).await?;
    if json {
        println!(
            "{}",
            serde_json::json!({ "image": tag, "present": present })
        );
    } else if present {
        println!("{tag} is present");
    } else {
        println!("{tag} is absent; `berth image build --proxy` builds it (a create --net-profile proxy builds it too)");
    }
    Ok(if present { 0 } else { 1 })
}

/// `berth image build --proxy`: the proxy image on `base`, progress on stderr.
pub async fn build(ctx: &Ctx, base: &str, json: bool) -> Result<i32> {
    let started = Instant::now();
    let show = |p: Progress| match p {
        Progress::Output { line, .. } => eprintln!("  {line}"),
        Progress::Note(n) => eprintln!("{n}"),
        _ => {}
    };
    let tag = image::build(ctx, base, &show).await?;
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
