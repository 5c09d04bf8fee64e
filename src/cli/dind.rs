//! Docker inside a workspace on the command line: `berth image load NAME IMAGE`
//! (`berth image build|present --docker` are in `cli::sidecar_image`).
use crate::backend::dind::load::load as load_image;
use crate::backend::Ctx;
use crate::domain::naming::WorkspaceName;
use anyhow::Result;
use indicatif::{ProgressBar, ProgressStyle};
use std::io::IsTerminal;
use std::time::Instant;

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
