//! `berth profiles [--json]` and `berth image build --profile NAME`.
use crate::backend::provision::profile;
use crate::backend::{Ctx, Progress};
use crate::config::{Config, Paths};
use anyhow::{anyhow, Result};

pub async fn list(paths: Paths, config: Config, json: bool) -> Result<i32> {
    let ctx = super::connect(paths, config).await?;
    let base = ctx.config.image.clone();
    let base_present = ctx.engine.image_present(&base).await?;
    let mut rows = Vec::new();
    for p in ctx.config.profiles.iter() {
        let (image, built) = if !base_present {
            (None, false)
        } else {
            match profile::wanted_image(&ctx, p, &base).await? {
                None => (Some(base.clone()), true),
                Some((tag, ..)) => {
                    let built = ctx.engine.image_present(&tag).await?;
                    (Some(tag), built)
                }
            }
        };
        rows.push(serde_json::json!({
            "name": p.name,
            "description": p.description,
            "source": p.source,
            "default": p.name == ctx.config.profile,
            "own_image": p.needs_image(),
            "image": image,
            "built": built,
        }));
    }
    if json {
        println!("{}", serde_json::Value::Array(rows));
        return Ok(0);
    }
    let width = rows
        .iter()
        .filter_map(|r| r["name"].as_str())
        .map(str::len)
        .max()
        .unwrap_or(4);
    println!("{:width$}  {:9}  DESCRIPTION", "NAME", "IMAGE");
    for r in &rows {
        let name = r["name"].as_str().unwrap_or_default();
        let state = match (r["own_image"].as_bool(), r["built"].as_bool()) {
            (Some(false), _) => "base",
            (_, Some(true)) => "built",
            _ => "not built",
        };
        let mut desc = r["description"].as_str().unwrap_or_default().to_string();
        if r["source"] != "built-in" {
            desc.push_str(&format!(" [{}]", r["source"].as_str().unwrap_or_default()));
        }
        let mark = if r["default"] == true {
            " (default)"
        } else {
            ""
        };
        println!("{name:width$}  {state:9}  {desc}{mark}");
    }
    Ok(0)
}

/// Builds the profile's image now (a create would otherwise build it on first use).
pub async fn build(ctx: &Ctx, name: &str, json: bool) -> Result<i32> {
    let p = ctx.config.profiles.get(name).map_err(|e| anyhow!(e))?;
    let started = std::time::Instant::now();
    let show = |ev: Progress| match ev {
        Progress::Output { line, .. } => eprintln!("  {line}"),
        Progress::Note(n) => eprintln!("{n}"),
        _ => {}
    };
    let image = profile::image(ctx, p, &ctx.config.image, None, &show).await?;
    let secs = started.elapsed().as_secs_f64();
    if json {
        println!(
            "{}",
            serde_json::json!({ "profile": name, "image": image, "seconds": secs })
        );
    } else {
        eprintln!("Profile {name} runs {image} (ready in {secs:.0}s).");
    }
    Ok(0)
}
