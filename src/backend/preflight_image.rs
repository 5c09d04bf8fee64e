//! The image-integrity check of a preflight: the facts from the engine, the
//! verdict from `domain::integrity`.
use super::images::definition_hash;
use super::provision::profile::wanted_image;
use super::Ctx;
use crate::domain::integrity::{
    self, base_finding, profile_finding, Finding, ImageFacts, ProfilePart,
};
use crate::domain::preflight::Check;
use crate::engine::ImageInfo;

fn facts(i: ImageInfo) -> ImageFacts {
    ImageFacts {
        id: i.id,
        labels: i.labels,
        layers: i.layers,
    }
}

/// Is `image` (the base) built from this berth's definition, and `profile`'s
/// image (when it has one) from its own over that base?
pub async fn check(ctx: &Ctx, image: &str, profile: Option<&str>) -> Check {
    let expected = definition_hash();
    let base = match ctx.engine.image_info(image).await {
        Ok(i) => i.map(facts),
        Err(e) => {
            return Check::fail(
                integrity::NAME,
                format!("cannot inspect {image}: {e}"),
                "see daemon_running",
            )
        }
    };
    let found = base_finding(base.as_ref(), &expected, env!("CARGO_PKG_VERSION"));
    let part = match (profile, &found, &base) {
        (Some(name), Finding::Sound, Some(base)) => {
            match profile_part(ctx, name, image, base).await {
                Ok(p) => p,
                Err(c) => return c,
            }
        }
        _ => None,
    };
    integrity::check(image, &found, &expected, part.as_ref())
}

async fn profile_part(
    ctx: &Ctx,
    name: &str,
    image: &str,
    base: &ImageFacts,
) -> Result<Option<ProfilePart>, Check> {
    let p = ctx
        .config
        .profiles
        .get(name)
        .map_err(|e| Check::fail(integrity::NAME, e, "pick one of `berth profiles`"))?;
    let wanted = wanted_image(ctx, p, image).await.map_err(|e| {
        Check::fail(
            integrity::NAME,
            format!("cannot work out profile {name}'s image: {e:#}"),
            "see the sentence above",
        )
    })?;
    let Some((tag, hash, _)) = wanted else {
        // The profile runs the base as is.
        return Ok(None);
    };
    let info = ctx.engine.image_info(&tag).await.map_err(|e| {
        Check::fail(
            integrity::NAME,
            format!("cannot inspect {tag}: {e}"),
            "see daemon_running",
        )
    })?;
    Ok(Some(ProfilePart {
        profile: name.to_string(),
        finding: profile_finding(info.map(facts).as_ref(), &hash, base),
        tag,
    }))
}
