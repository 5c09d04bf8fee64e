//! Docker inside a workspace on the command line: `berth image build --docker`,
//! `berth image present --docker` and `berth image load NAME IMAGE`.
use crate::backend::dind::{image, load::load as load_image};
use crate::backend::{Ctx, Progress};
use crate::domain::naming::WorkspaceName;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

/// `berth image present --docker`: 0 when this berth's engine image is there.
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
        println!("{tag} is absent; `berth image build --docker` builds it (a create --docker builds it too)");
    }
    Ok(if present { 0 } else { 1 })
}

/// `berth image build --docker`: the engine image on `base`, progress on stderr.
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

/// `berth image load NAME IMAGE`: a byte counter on a terminal, one line at the end.
pub async fn load(ctx: &Ctx, name: &str, image: &str, json: bool) -> Result<i32> {
    let name = WorkspaceName::parse(name)?;
    let bar = std::io::stderr().is_terminal().then(|| {
        let b = ProgressBar::new_spinner();
        b.set_style(
            ProgressStyle::with_template("{spinner} {msg} {bytes} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        b.set_message(format!("copying {image} into {name}'s Docker engine:"));
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b
    });
    let started = Instant::now();
    let on_bytes = |n: u64| {
        if let Some(b) = &bar {
            b.set_position(n);
        }
    };
    let result = load_image(ctx, &name, image, &on_bytes).await;
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    let done = result?;
    let secs = started.elapsed().as_secs_f64();
    if json {
        let mut v = serde_json::to_value(&done)?;
        v["seconds"] = secs.into();
        println!("{v}");
    } else {
        for l in &done.loaded {
            eprintln!("  {l}");
        }
        println!(
            "Loaded {image} into workspace {name}'s Docker engine ({:.1} MB in {secs:.1}s).",
            done.bytes as f64 / 1e6
        );
    }
    Ok(0)
}
