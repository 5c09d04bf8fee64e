//! Preflight before an agent session or an MCP client's work (issue 12): the
//! engine, the repository's state and the image's integrity, as checks with the fix
//! for each one that fails (`domain::preflight`). The host side is in
//! `preflight_host`, the image side in `preflight_image`.
use super::{preflight_host, preflight_image, Ctx};
use crate::domain::preflight::{Check, Preflight};
use crate::engine::EngineError;
use std::path::{Path, PathBuf};

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
/// In order: `runtime_installed`, `daemon_running`, `user_permissions`,
/// `disk_space`, `image_integrity`, then `repo_state` when a repository is given.
pub async fn run(ctx: &Ctx, req: &PreflightRequest) -> Preflight {
    let info = ctx.engine.info().await;
    let endpoint = match &info {
        Ok(i) => i.endpoint.clone(),
        Err(e) => endpoint_of(e),
    };
    let answers = info.is_ok();
    let denied = matches!(&info, Err(EngineError::PermissionDenied { .. }));
    let mut checks = vec![
        preflight_host::runtime_check(&endpoint, answers).await,
        engine_check_of(&info),
        preflight_host::permissions_check(&endpoint, answers, denied).await,
    ];
    // The engine's root dir when it is on this machine, else berth's state dir.
    let root = info.as_ref().ok().map(|i| PathBuf::from(&i.root_dir));
    let mut disk: Vec<&Path> = root
        .iter()
        .filter(|p| !p.as_os_str().is_empty())
        .map(PathBuf::as_path)
        .collect();
    disk.push(&ctx.paths.state_dir);
    checks.push(preflight_host::disk_check(&disk).await);
    let image = req
        .image
        .clone()
        .unwrap_or_else(|| ctx.config.image.clone());
    checks.push(if answers {
        preflight_image::check(ctx, &image, req.profile.as_deref()).await
    } else {
        not_checked_image(&image)
    });
    if let Some(repo) = &req.repo {
        checks.push(preflight_host::repo_check(repo, req.force).await);
    }
    let runtime = if answers { "docker" } else { "unknown" };
    Preflight::new(runtime, checks)
}

/// The preflight when berth could not even connect to the engine (`err`): the
/// checks that need it fail with why, the others still run. `image`: the
/// configured workspace image.
pub async fn without_engine(
    err: &EngineError,
    state_dir: &Path,
    req: &PreflightRequest,
    image: &str,
) -> Preflight {
    let endpoint = endpoint_of(err);
    let denied = matches!(err, EngineError::PermissionDenied { .. });
    let mut checks = vec![
        preflight_host::runtime_check(&endpoint, false).await,
        engine_check_of(&Err(err.clone())),
        preflight_host::permissions_check(&endpoint, false, denied).await,
        preflight_host::disk_check(&[state_dir]).await,
        not_checked_image(req.image.as_deref().unwrap_or(image)),
    ];
    if let Some(repo) = &req.repo {
        checks.push(preflight_host::repo_check(repo, req.force).await);
    }
    Preflight::new("unknown", checks)
}

fn not_checked_image(image: &str) -> Check {
    Check::fail(
        crate::domain::integrity::NAME,
        format!("{image} not checked: the engine does not answer"),
        "start the engine first (see daemon_running)",
    )
}

fn endpoint_of(e: &EngineError) -> String {
    match e {
        EngineError::Unreachable { endpoint, .. } | EngineError::PermissionDenied { endpoint } => {
            endpoint.clone()
        }
        _ => crate::engine::docker::endpoint_from_env(),
    }
}

fn engine_check_of(info: &Result<crate::engine::EngineInfo, EngineError>) -> Check {
    match info {
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
            "start it (`sudo systemctl start docker`, or `bash scripts/engine.sh ensure` in a berth checkout) and check DOCKER_HOST",
        ),
    }
}

/// The engine answers.
pub async fn engine_check(ctx: &Ctx) -> Check {
    engine_check_of(&ctx.engine.info().await)
}
