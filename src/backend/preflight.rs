//! Preflight before an agent session or an MCP client's work (issue 12): the
//! engine, the repository's state and the image's integrity, as checks with the fix
//! for each one that fails (`domain::preflight`).
use super::Ctx;
use crate::domain::preflight::{Check, Preflight};
use std::path::PathBuf;

/// What to check beyond the engine.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PreflightRequest {
    /// The host repository a session will mount (its state is checked).
    pub repo: Option<PathBuf>,
    /// `--force`: uncommitted changes in the repository are allowed.
    pub force: bool,
    /// The image the session will run (None: the configured workspace image).
    pub image: Option<String>,
    /// The profile whose image will run (its layer is checked too).
    pub profile: Option<String>,
}

/// Runs every check; never fails (a check that cannot run is a failed check).
pub async fn run(ctx: &Ctx, _req: &PreflightRequest) -> Preflight {
    let checks = vec![engine_check(ctx).await];
    Preflight::new(runtime_name(ctx).await, checks)
}

async fn runtime_name(ctx: &Ctx) -> String {
    match ctx.engine.info().await {
        Ok(_) => "docker".into(),
        Err(_) => "unknown".into(),
    }
}

/// The engine answers.
pub async fn engine_check(ctx: &Ctx) -> Check {
    match ctx.engine.info().await {
        Ok(info) => Check::pass(
            "daemon_running",
            format!(
                "Docker {} (API {}) answers at {}",
                info.version, info.api_version, info.endpoint
            ),
        ),
        Err(e) => Check::fail(
            "daemon_running",
            format!("the Docker engine does not answer: {e}"),
            "start it (`systemctl start docker`, or `bash scripts/engine.sh ensure` in a berth checkout) and check DOCKER_HOST",
        ),
    }
}
