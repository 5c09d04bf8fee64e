//! The proxy image (`berth/proxy:<definition hash>`): Debian's Squid and socat with
//! the sidecar's entrypoint (`assets/proxy/`), built locally on the same base as
//! the workspace image, once per definition (the tag names it), under the same
//! per-tag build lock as the other images so concurrent creates build it once.
use crate::backend::images::{tar_of, DEFAULT_BASE};
use crate::backend::{Ctx, Progress, ProgressFn};
use crate::domain::labels;
use crate::domain::profiles::files_hash;
use crate::domain::proxy;
use crate::engine::ImageBuild;
use anyhow::{anyhow, bail, Context, Result};
use tokio::sync::mpsc;

/// The definition, embedded so an installed berth needs no checkout.
pub const FILES: &[(&str, &str, u32)] = &[
    (
        "Dockerfile",
        include_str!("../../../assets/proxy/Dockerfile"),
        0o644,
    ),
    (
        "entrypoint.sh",
        include_str!("../../../assets/proxy/entrypoint.sh"),
        0o755,
    ),
];

/// The hash of the embedded definition.
pub fn definition_hash() -> String {
    files_hash(FILES.iter().map(|(n, t, _)| (*n, *t)))
}

/// The proxy image this berth runs.
pub fn tag() -> String {
    proxy::image_tag(&definition_hash())
}

/// The build: on `base`, with the config's labels, role=image, the definition's
/// hash and the sidecar kind (so older builds can be found and pruned).
pub fn build_spec(config: &crate::config::Config, base: &str) -> ImageBuild {
    let mut l = labels::image_labels(&config.labels, env!("CARGO_PKG_VERSION"));
    l.insert(labels::DEFINITION.into(), definition_hash());
    l.insert(labels::SIDECAR.into(), proxy::KIND.into());
    ImageBuild {
        tag: tag(),
        args: [("BASE".to_string(), base.to_string())].into(),
        labels: l,
        platform: None,
    }
}

/// Why the proxy image cannot be had, if it cannot: absent, and its base absent
/// too (no registry is assumed).
pub async fn missing_sentence(ctx: &Ctx) -> Result<Option<String>> {
    if ctx.engine.image_present(&tag()).await? || ctx.engine.image_present(DEFAULT_BASE).await? {
        return Ok(None);
    }
    Ok(Some(format!(
        "--net-profile proxy needs berth's proxy image {}, which is built on {DEFAULT_BASE}, and that is not present in the engine; `docker pull {DEFAULT_BASE}` (or, without a registry, `sudo scripts/engine.sh images target/release/berth` in berth's checkout) and then `berth image build --proxy` make both",
        tag()
    )))
}

/// The proxy image's tag, built first when absent (progress as "proxy" output).
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

/// Builds the proxy image on `base` (whether present or not), then removes older
/// builds no container uses.
pub async fn build(ctx: &Ctx, base: &str, progress: ProgressFn<'_>) -> Result<String> {
    let spec = build_spec(&ctx.config, base);
    let tag = spec.tag.clone();
    progress
        .report(Progress::Note(format!(
            "building the proxy image {tag} on {base} (Debian's squid and socat; once, later creates reuse it)"
        )))
        .await;
    let context = tar_of(FILES.iter().map(|(n, t, m)| (*n, t.as_bytes(), *m)))?;
    let (tx, mut rx) = mpsc::channel::<String>(64);
    let engine = ctx.engine.clone();
    let mut job = AbortOnDrop(tokio::spawn(async move {
        engine.build_image(context, &spec, tx).await
    }));
    while let Some(line) = rx.recv().await {
        progress
            .report(Progress::Output {
                label: proxy::KIND.into(),
                line,
            })
            .await;
    }
    (&mut job.0)
        .await
        .map_err(|e| anyhow!("the image build task failed: {e}"))?
        .with_context(|| {
            format!("building the proxy image {tag} on {base} (it installs Debian's squid and socat: the base must be present and Debian's packages reachable)")
        })?;
    if !ctx.engine.image_present(&tag).await? {
        bail!("the build of {tag} ended but the image is not there");
    }
    prune_older(ctx, &tag, progress).await;
    Ok(tag)
}

/// Removes proxy images of other definitions, except those a sidecar still runs.
async fn prune_older(ctx: &Ctx, keep: &str, progress: ProgressFn<'_>) {
    let want = [
        (labels::ROLE, labels::ROLE_IMAGE),
        (labels::SIDECAR, proxy::KIND),
    ];
    let Ok(tags) = ctx.engine.images_labelled(&want).await else {
        return;
    };
    let prefix = format!("{}:", proxy::IMAGE_REPO);
    for t in tags.iter().filter(|t| *t != keep && t.starts_with(&prefix)) {
        if let Ok(true) = ctx.engine.remove_image(t).await {
            progress
                .report(Progress::Note(format!(
                    "removed the older proxy image {t} (no sidecar runs it)"
                )))
                .await;
        }
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
