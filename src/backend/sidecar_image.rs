//! The images of berth's sidecars (Docker inside, the egress proxy, the log
//! forwarder): each built locally from a definition embedded in berth, on the same
//! base as the workspace image, once per definition (the tag names it:
//! `REPO:<definition hash>`), under the per-tag build lock profile images use so
//! concurrent creates build it once; older builds no sidecar runs are pruned.
use crate::backend::images::{tar_of, DEFAULT_BASE};
use crate::backend::{Ctx, Progress, ProgressFn};
use crate::domain::labels;
use crate::domain::profiles::files_hash;
use crate::engine::ImageBuild;
use anyhow::{anyhow, bail, Context, Result};
use tokio::sync::mpsc;

/// A sidecar's image: what berth builds and the words it uses for it.
#[derive(Debug)]
pub struct SidecarImage {
    /// The sidecar's kind: its `dev.berth.sidecar` label and its progress tag.
    pub kind: &'static str,
    /// The image repository (`berth/docker`).
    pub repo: &'static str,
    /// What it is, in sentences ("Docker engine image").
    pub what: &'static str,
    /// What its build installs, in sentences ("Debian's docker.io").
    pub installs: &'static str,
    /// The create option that needs it ("--docker").
    pub needed_by: &'static str,
    /// `berth image build|present`'s flag for it ("--docker").
    pub flag: &'static str,
    /// The definition (name, text, mode), embedded so an installed berth needs no
    /// checkout.
    pub files: &'static [(&'static str, &'static str, u32)],
}

impl SidecarImage {
    /// The hash of the embedded definition.
    pub fn definition_hash(&self) -> String {
        files_hash(self.files.iter().map(|(n, t, _)| (*n, *t)))
    }

    /// The image this berth runs.
    pub fn tag(&self) -> String {
        format!("{}:{}", self.repo, self.definition_hash())
    }

    /// The build: on `base`, with the config's labels, role=image, the definition's
    /// hash and the sidecar kind (so older builds can be found and pruned), for the
    /// engine's own platform (a sidecar never runs emulated).
    pub fn build_spec(&self, config: &crate::config::Config, base: &str) -> ImageBuild {
        let mut l = labels::image_labels(&config.labels, env!("CARGO_PKG_VERSION"));
        l.insert(labels::DEFINITION.into(), self.definition_hash());
        l.insert(labels::SIDECAR.into(), self.kind.into());
        ImageBuild {
            tag: self.tag(),
            args: [("BASE".to_string(), base.to_string())].into(),
            labels: l,
            platform: None,
        }
    }

    /// Why the image cannot be had, if it cannot: absent, and its base absent too
    /// (no registry is assumed).
    pub async fn missing_sentence(&self, ctx: &Ctx) -> Result<Option<String>> {
        let tag = self.tag();
        if ctx.engine.image_present(&tag).await? || ctx.engine.image_present(DEFAULT_BASE).await? {
            return Ok(None);
        }
        Ok(Some(format!(
            "{} needs berth's {} {tag}, which is built on {DEFAULT_BASE}, and that is not present in the engine; `docker pull {DEFAULT_BASE}` (or, without a registry, `sudo scripts/engine.sh images target/release/berth` in berth's checkout) and then `berth image build {}` make both",
            self.needed_by, self.what, self.flag
        )))
    }

    /// The image's tag, built first when absent (progress as output of `kind`).
    pub async fn ensure(&self, ctx: &Ctx, progress: ProgressFn<'_>) -> Result<String> {
        let tag = self.tag();
        if ctx.engine.image_present(&tag).await? {
            return Ok(tag);
        }
        let _lock = crate::backend::provision::profile::lock(&tag).await?;
        if ctx.engine.image_present(&tag).await? {
            return Ok(tag);
        }
        self.build(ctx, DEFAULT_BASE, progress).await?;
        Ok(tag)
    }

    /// Builds the image on `base` (whether present or not), then removes older
    /// builds no container uses.
    pub async fn build(&self, ctx: &Ctx, base: &str, progress: ProgressFn<'_>) -> Result<String> {
        let spec = self.build_spec(&ctx.config, base);
        let tag = spec.tag.clone();
        progress
            .report(Progress::Note(format!(
                "building the {} {tag} on {base} ({}; once, later creates reuse it)",
                self.what, self.installs
            )))
            .await;
        let context = tar_of(self.files.iter().map(|(n, t, m)| (*n, t.as_bytes(), *m)))?;
        // Bounded: the build waits while progress is being shown.
        let (tx, mut rx) = mpsc::channel::<String>(64);
        let engine = ctx.engine.clone();
        let mut job = AbortOnDrop(tokio::spawn(async move {
            engine.build_image(context, &spec, tx).await
        }));
        while let Some(line) = rx.recv().await {
            progress
                .report(Progress::Output {
                    label: self.kind.into(),
                    line,
                })
                .await;
        }
        (&mut job.0)
            .await
            .map_err(|e| anyhow!("the image build task failed: {e}"))?
            .with_context(|| {
                format!(
                    "building the {} {tag} on {base} (it installs {}: the base must be present and Debian's packages reachable)",
                    self.what, self.installs
                )
            })?;
        if !ctx.engine.image_present(&tag).await? {
            bail!("the build of {tag} ended but the image is not there");
        }
        self.prune_older(ctx, &tag, progress).await;
        Ok(tag)
    }

    /// Removes this kind's images of other definitions, except those a sidecar still
    /// runs (the engine keeps those: `Ok(false)`).
    async fn prune_older(&self, ctx: &Ctx, keep: &str, progress: ProgressFn<'_>) {
        let want = [
            (labels::ROLE, labels::ROLE_IMAGE),
            (labels::SIDECAR, self.kind),
        ];
        let Ok(tags) = ctx.engine.images_labelled(&want).await else {
            return;
        };
        let prefix = format!("{}:", self.repo);
        for t in tags.iter().filter(|t| *t != keep && t.starts_with(&prefix)) {
            if let Ok(true) = ctx.engine.remove_image(t).await {
                progress
                    .report(Progress::Note(format!(
                        "removed the older {} {t} (no sidecar runs it)",
                        self.what
                    )))
                    .await;
            }
        }
    }
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

#[cfg(test)]
mod tests {
    use crate::backend::{dind, log_forward, proxy};
    use crate::config::Config;

    #[test]
    fn each_sidecar_image_is_tagged_by_its_own_definition() {
        let images = [
            &dind::image::IMAGE,
            &proxy::image::IMAGE,
            &log_forward::image::IMAGE,
        ];
        assert_eq!(
            dind::image::IMAGE.tag(),
            crate::domain::dind::image_tag(&dind::image::IMAGE.definition_hash())
        );
        assert_eq!(
            proxy::image::IMAGE.tag(),
            crate::domain::proxy::image_tag(&proxy::image::IMAGE.definition_hash())
        );
        let tags: std::collections::BTreeSet<String> = images.iter().map(|i| i.tag()).collect();
        assert_eq!(tags.len(), 3, "{tags:?}");
        for i in images {
            let b = i.build_spec(&Config::default(), "base:1");
            assert_eq!(b.tag, i.tag());
            assert_eq!(b.args["BASE"], "base:1");
            assert_eq!(b.labels[crate::domain::labels::SIDECAR], i.kind);
            assert_eq!(
                b.labels[crate::domain::labels::DEFINITION],
                i.definition_hash()
            );
            assert!(i.files.iter().any(|(n, _, _)| *n == "Dockerfile"));
        }
    }
}
