//! The forwarder's image (`berth/logs:<definition hash>`): jq, tail and logger from
//! Debian, and the forwarder script (`assets/logs/`), built locally on the same base
//! as the workspace image, once per definition, under the per-tag build lock.
use crate::backend::images::{tar_of, DEFAULT_BASE};
use crate::backend::{Ctx, Progress, ProgressFn};
use crate::domain::labels;
use crate::domain::log_forward::{IMAGE_REPO, KIND};
use crate::domain::profiles::files_hash;
use crate::engine::ImageBuild;
use anyhow::{anyhow, bail, Context, Result};
use tokio::sync::mpsc;

/// The definition, embedded so an installed berth needs no checkout.
pub const FILES: &[(&str, &str, u32)] = &[
    (
        "Dockerfile",
        include_str!("../../../assets/logs/Dockerfile"),
        0o644,
    ),
    (
        "berth-logfwd",
        include_str!("../../../assets/logs/berth-logfwd"),
        0o755,
    ),
];

/// The hash of the embedded definition.
pub fn definition_hash() -> String {
    files_hash(FILES.iter().map(|(n, t, _)| (*n, *t)))
}

/// The forwarder image this berth runs.
pub fn tag() -> String {
    format!("{IMAGE_REPO}:{}", definition_hash())
}

/// The build: on `base`, with the config's labels, role=image, the definition's
/// hash and the sidecar kind (so older builds can be found and pruned).
pub fn build_spec(config: &crate::config::Config, base: &str) -> ImageBuild {
    let mut l = labels::image_labels(&config.labels, env!("CARGO_PKG_VERSION"));
    l.insert(labels::DEFINITION.into(), definition_hash());
    l.insert(labels::SIDECAR.into(), KIND.into());
    ImageBuild {
        tag: tag(),
        args: [("BASE".to_string(), base.to_string())].into(),
        labels: l,
        platform: None,
    }
}

/// Why the image cannot be had, if it cannot: absent, and its base absent too.
pub async fn missing_sentence(ctx: &Ctx) -> Result<Option<String>> {
    if ctx.engine.image_present(&tag()).await? || ctx.engine.image_present(DEFAULT_BASE).await? {
        return Ok(None);
    }
    Ok(Some(format!(
        "--forward-logs needs berth's log forwarder image {}, which is built on {DEFAULT_BASE}, and that is not present in the engine; `docker pull {DEFAULT_BASE}` (or, without a registry, `sudo scripts/engine.sh images target/release/berth` in berth's checkout) and then `berth image build --logs` make both",
        tag()
    )))
}

/// The image's tag, built first when absent (progress as "logs" output).
pub async fn ensure(ctx: &Ctx, progress: ProgressFn<'_>) -> Result<String> {
    let tag = tag();
    if ctx.engine.image_present(&tag).await? {
        return Ok(tag);
    }
    let _lock = crate::backend::provision::profile::lock(&tag).await?;
    if ctx.engine.image_present(&tag).await? {
        return Ok(tag);
    }
    build(ctx, DEFAULT_BASE, progress).await?;
    Ok(tag)
}

/// Builds the image on `base` (whether present or not), then removes older builds
/// no container uses.
pub async fn build(ctx: &Ctx, base: &str, progress: ProgressFn<'_>) -> Result<String> {
    let spec = build_spec(&ctx.config, base);
    let tag = spec.tag.clone();
    progress
        .report(Progress::Note(format!(
            "building the log forwarder image {tag} on {base} (Debian's jq; once, later creates reuse it)"
        )))
        .await;
    let context = tar_of(FILES.iter().map(|(n, t, m)| (*n, t.as_bytes(), *m)))?;
    let (tx, mut rx) = mpsc::channel::<String>(64);
    let engine = ctx.engine.clone();
    let job = AbortOnDrop(tokio::spawn(async move {
        engine.build_image(context, &spec, tx).await
    }));
    while let Some(line) = rx.recv().await {
        progress
            .report(Progress::Output {
                label: KIND.into(),
                line,
            })
            .await;
    }
    let mut job = job;
    (&mut job.0)
        .await
        .map_err(|e| anyhow!("the image build task failed: {e}"))?
        .with_context(|| {
            format!("building the log forwarder image {tag} on {base} (it installs Debian's jq: the base must be present and Debian's packages reachable)")
        })?;
    if !ctx.engine.image_present(&tag).await? {
        bail!("the build of {tag} ended but the image is not there");
    }
    let want = [(labels::ROLE, labels::ROLE_IMAGE), (labels::SIDECAR, KIND)];
    if let Ok(tags) = ctx.engine.images_labelled(&want).await {
        let prefix = format!("{IMAGE_REPO}:");
        for t in tags.iter().filter(|t| **t != tag && t.starts_with(&prefix)) {
            // Kept (`Ok(false)`) while a forwarder still runs it.
            let _ = ctx.engine.remove_image(t).await;
        }
    }
    Ok(tag)
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
