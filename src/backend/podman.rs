//! podman as an engine (`domain::podman`): a create refuses what podman would
//! silently give less of, and says what to know; whether a workspace gets an
//! init process follows the engine's `init` setting.
use super::Ctx;
use crate::domain::podman::{self, Asked};
use crate::domain::workspace::WorkspaceSpec;

/// Whether workspaces on this context's engine get an init process (unless its
/// definition says `init = false`).
pub fn wants_init(ctx: &Ctx) -> bool {
    podman::wants_init(ctx.engines.def(&ctx.engine_name()).and_then(|d| d.init))
}

/// Before a create: `Err(sentence)` when the engine is podman and the workspace
/// asks for what podman cannot give; else notes for the create's output.
pub async fn preflight(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<Vec<String>, String> {
    let info = ctx.engine.info().await.map_err(|e| e.to_string())?;
    let o = &spec.options;
    let asked = Asked {
        net_profile: o.net_profile,
        docker: o.docker,
        forward_logs: o.forward_logs.is_some(),
    };
    let mut notes = podman::check_create(info.flavor, &ctx.engine_name(), asked)?;
    if !wants_init(ctx) {
        notes.push(format!(
            "engine {:?}: {}",
            ctx.engine_name(),
            podman::NO_INIT
        ));
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::engines::EngineSet;
    use crate::domain::engines::Placement;
    use crate::domain::net_profile::NetProfile;
    use crate::domain::podman::Flavor;
    use crate::engine::memory::MemoryEngine;
    use crate::engine::Engine;
    use std::sync::Arc;

    fn ctx_on(engine: MemoryEngine) -> (Ctx, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let paths = crate::config::Paths::under(dir.path());
        let engine: Arc<dyn Engine> = Arc::new(engine);
        let set = Arc::new(EngineSet::fixed(vec![engine.clone()], Placement::Default));
        let ctx = Ctx::with_engines(set, engine, Default::default(), paths);
        (ctx, dir)
    }

    fn spec(profile: NetProfile) -> WorkspaceSpec {
        let mut s = WorkspaceSpec {
            name: crate::domain::naming::WorkspaceName::parse("w").unwrap(),
            image: "berth/workspace:latest".into(),
            clone_url: None,
            thread: None,
            platform: None,
            profile: "general".into(),
            post_start: None,
            resources: Default::default(),
            runtime: None,
            extra_labels: Default::default(),
            options: Default::default(),
        };
        s.options.net_profile = profile;
        s
    }

    #[tokio::test]
    async fn a_podman_engine_refuses_an_isolated_workspace_and_notes_restarts() {
        let (ctx, _d) = ctx_on(MemoryEngine::new().named("pod").flavored(Flavor::Podman));
        let e = preflight(&ctx, &spec(NetProfile::Isolated))
            .await
            .unwrap_err();
        assert!(e.contains("\"pod\" is podman"), "{e}");
        let notes = preflight(&ctx, &spec(NetProfile::Open)).await.unwrap();
        assert!(
            notes.iter().any(|n| n.contains("podman-restart.service")),
            "{notes:?}"
        );
        assert!(wants_init(&ctx));
    }

    #[tokio::test]
    async fn docker_gets_no_notes() {
        let (ctx, _d) = ctx_on(MemoryEngine::new());
        let notes = preflight(&ctx, &spec(NetProfile::Isolated)).await.unwrap();
        assert!(notes.is_empty(), "{notes:?}");
    }
}
