//! The provisioning pipeline's steps after the container runs (see
//! `domain::provision::plan` for the order): each capability its own module.
pub mod agent_relay;
pub mod dotfiles;
pub mod dotfiles_dir;
pub mod env;
pub mod gh;
pub mod git;
pub mod profile;
pub mod ssh_agent;

use super::{Ctx, Progress, ProgressFn};
use crate::domain::workspace::WORKSPACE_USER;
use crate::engine::{exec_collect, Engine, ExecRequest};
use anyhow::{bail, Result};

/// Runs `script` with `/bin/sh -c` as the workspace user, `stdin` as its input (how
/// values reach the workspace without a command line, a label or the engine's
/// archive API); a non-zero exit is an error with its stderr.
pub async fn run_with_stdin(
    ctx: &Ctx,
    container: &str,
    what: &str,
    script: &str,
    args: &[&str],
    stdin: Vec<u8>,
) -> Result<String> {
    run_script(ctx.engine.as_ref(), container, what, script, args, stdin).await
}

/// [`run_with_stdin`] for callers that hold only the engine (the watcher).
pub async fn run_script(
    engine: &dyn Engine,
    container: &str,
    what: &str,
    script: &str,
    args: &[&str],
    stdin: Vec<u8>,
) -> Result<String> {
    run_script_as(engine, container, WORKSPACE_USER, what, script, args, stdin).await
}

/// [`run_script`] as `user` (root only for files outside the home that hold no
/// secret, e.g. the system git config: the container keeps no capability).
pub async fn run_script_as(
    engine: &dyn Engine,
    container: &str,
    user: &str,
    what: &str,
    script: &str,
    args: &[&str],
    stdin: Vec<u8>,
) -> Result<String> {
    let mut cmd = vec![
        "/bin/sh".to_string(),
        "-c".into(),
        script.into(),
        "berth".into(),
    ];
    cmd.extend(args.iter().map(|a| a.to_string()));
    let req = ExecRequest {
        cmd,
        user: Some(user.into()),
        // Root starts in / (never in a bind-mounted repository whose config it
        // would read); the workspace user in its home.
        workdir: (user == "root").then(|| "/".to_string()),
        stdin: Some(Box::new(std::io::Cursor::new(stdin))),
        ..Default::default()
    };
    let (outcome, out, err) = exec_collect(engine, container, req).await?;
    if outcome.exit_code != 0 {
        bail!(
            "{what} failed (exit {}): {}",
            outcome.exit_code,
            String::from_utf8_lossy(&err).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// A note on the create's progress.
pub async fn note(progress: ProgressFn<'_>, text: String) {
    progress.report(Progress::Note(text)).await;
}
