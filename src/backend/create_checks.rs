//! The checks a create makes on the host before it makes anything: the pure rules
//! of `domain::create_checks`, every mounted host path present, every published
//! host port free on the bind address; and `--platform`: runnable by the engine,
//! and the image for it.
use super::{Ctx, Progress, ProgressFn};
use crate::domain::create_checks;
use crate::domain::platform::{Platform, Verdict};
use crate::domain::workspace::WorkspaceSpec;
use std::net::SocketAddr;

/// A sentence saying what is wrong, or `Ok` when the create may go ahead.
pub async fn check(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<(), String> {
    let o = &spec.options;
    create_checks::check(o, ctx.config.port_range)?;
    if o.net_profile == crate::domain::net_profile::NetProfile::Isolated {
        super::net_isolated::preflight(ctx).await?;
    }
    super::networks::check_exist(ctx, &o.networks).await?;
    for m in &o.mounts {
        if let Err(e) = tokio::fs::metadata(&m.host).await {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "it does not exist".to_string()
            } else {
                e.to_string()
            };
            return Err(format!(
                "cannot mount {} at {}: {why}; create it first or fix the path",
                m.host.display(),
                m.path
            ));
        }
    }
    for p in &o.ports {
        let addr = SocketAddr::new(ctx.config.bind_address, p.host);
        // Bound and released at once: only a probe (the engine's refusal at start
        // is the final word, see `create_steps`).
        if let Err(e) = tokio::net::TcpListener::bind(addr).await {
            return Err(format!(
                "host port {} is taken on {} ({e}); pick another for --port {}:{}",
                p.host, ctx.config.bind_address, p.host, p.container
            ));
        }
    }
    Ok(())
}

/// For `--platform`: a sentence when the engine cannot run `platform` (no emulator
/// registered where it runs) or has no image for it; else the image to run (`image`,
/// or its platform tag `IMAGE-ARCH`). Notes say when it runs emulated or unchecked.
pub async fn platform(
    ctx: &Ctx,
    image: &str,
    platform: &str,
    progress: ProgressFn<'_>,
) -> Result<String, String> {
    let wanted = Platform::parse(platform)?;
    let engine = ctx.engine.as_ref();
    let verdict = super::platform::check_runnable(engine, wanted).await?;
    match &verdict {
        Verdict::Native => {}
        Verdict::Emulated(by) => {
            let note = format!("{wanted} runs emulated by {by} (slower than native)");
            progress.report(Progress::Note(note)).await;
        }
        Verdict::Unchecked(note) => progress.report(Progress::Note(note.clone())).await,
    }
    use super::platform::{build_hint, image_for, Found};
    match image_for(engine, image, wanted).await? {
        Found::Suits(chosen) if chosen != image => {
            let note = format!("running {chosen}, the {wanted} image of {image}");
            progress.report(Progress::Note(note)).await;
            Ok(chosen)
        }
        Found::Suits(chosen) => Ok(chosen),
        // Said as for any absent image, by the caller.
        Found::Absent if verdict == Verdict::Native => Ok(image.to_string()),
        Found::Absent => Err(format!(
            "image {image} is not present in the engine; {}",
            build_hint(image, wanted)
        )),
        other => Err(other
            .mismatch(wanted, &build_hint(image, wanted))
            .unwrap_or_default()),
    }
}
