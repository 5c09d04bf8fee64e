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
    // This engine's SSH range; its host's ports are probed only when they are
    // this machine's (a remote engine's refusal at start is the word there).
    let (_, range, local) = super::engine_ports::of(ctx);
    create_checks::check(o, range)?;
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
    for p in o.ports.iter().filter(|_| local) {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::engines::EngineSet;
    use crate::domain::create_options::PortMap;
    use crate::domain::engines::{EngineDef, EngineHost, EngineSource, Placement};
    use crate::engine::memory::MemoryEngine;
    use crate::engine::Engine;
    use std::sync::Arc;

    fn ctx_on(host: &str, range: &str) -> (Ctx, tempfile::TempDir) {
        let engine: Arc<dyn Engine> = Arc::new(MemoryEngine::new().named("far"));
        let mut def = EngineDef::plain(
            "far",
            EngineHost::parse(host).unwrap(),
            EngineSource::Config,
        );
        def.port_range = Some(range.parse().unwrap());
        let set = EngineSet::fixed(vec![engine.clone()], Placement::Default).with_defs(vec![def]);
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::config::Paths::under(dir.path());
        let ctx = Ctx::with_engines(
            Arc::new(set),
            engine,
            crate::config::Config::default(),
            paths,
        );
        (ctx, dir)
    }

    fn spec(host_port: u16) -> WorkspaceSpec {
        let options = crate::domain::create_options::Options {
            ports: vec![PortMap {
                host: host_port,
                container: 80,
            }],
            ..Default::default()
        };
        WorkspaceSpec {
            name: crate::domain::naming::WorkspaceName::parse("w").unwrap(),
            image: "i".into(),
            clone_url: None,
            thread: None,
            platform: None,
            profile: "general".into(),
            post_start: None,
            resources: Default::default(),
            runtime: None,
            extra_labels: Default::default(),
            options,
        }
    }

    #[tokio::test]
    async fn published_ports_are_checked_against_the_engines_range_and_probed_only_here() {
        let held = std::net::TcpListener::bind(("127.0.0.1", 0)).unwrap();
        let busy = held.local_addr().unwrap().port();
        // A local engine: the port held here is refused.
        let (local, _d) = ctx_on("unix:///far.sock", "41000-41010");
        let e = check(&local, &spec(busy)).await.unwrap_err();
        assert!(e.contains(&format!("host port {busy} is taken")), "{e}");
        // A remote engine's ports are its host's: no probe here (its refusal at
        // start says it), and the range is that engine's own.
        let (remote, _d) = ctx_on("ssh://me@far", "41000-41010");
        check(&remote, &spec(busy)).await.unwrap();
        let e = check(&remote, &spec(41005)).await.unwrap_err();
        assert!(e.contains("41005"), "{e}");
        check(&remote, &spec(2205)).await.unwrap();
    }
}
