//! Commands a create runs inside the workspace as its user: the working
//! directory, setup and post-start scripts, and any command with its output
//! streamed as progress.
use super::{Ctx, Progress, ProgressFn};
use crate::domain::workspace::{WorkspaceSpec, REPO_DIR, WORKSPACE_HOME, WORKSPACE_USER};
use crate::engine::{exec_collect, ExecRequest, Output};
use anyhow::{anyhow, bail, Result};
use tokio::sync::mpsc;
/// Makes `--workdir` as the workspace user (so it is theirs, unlike a directory
/// the engine would make); a directory the user cannot make is an error.
pub(super) async fn make_workdir(ctx: &Ctx, container: &str, dir: &str) -> Result<()> {
    let req = ExecRequest {
        cmd: vec!["mkdir".into(), "-p".into(), "--".into(), dir.into()],
        user: Some(WORKSPACE_USER.into()),
        timeout: Some(std::time::Duration::from_secs(30)),
        ..Default::default()
    };
    let (outcome, _, err) = exec_collect(ctx.engine.as_ref(), container, req).await?;
    if outcome.exit_code != 0 {
        bail!(
            "cannot make the working directory {dir} as the workspace user ({}); pick one inside {WORKSPACE_HOME} or a --mount",
            String::from_utf8_lossy(&err).trim()
        );
    }
    Ok(())
}

/// Where setup and post-start commands run: `--workdir`, else the clone, else home.
pub fn work_dir(spec: &crate::domain::workspace::WorkspaceSpec) -> String {
    match (&spec.options.workdir, &spec.clone_url) {
        (Some(w), _) => w.clone(),
        (None, Some(_)) => REPO_DIR.into(),
        (None, None) => WORKSPACE_HOME.into(),
    }
}

/// A setup or post-start script: `/bin/sh -lc` as the workspace user in the
/// workspace's default directory, its output streamed.
pub(super) async fn run_login_script(
    ctx: &Ctx,
    spec: &WorkspaceSpec,
    script: &str,
    label: &str,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let cmd = vec!["/bin/sh".into(), "-lc".into(), script.into()];
    let dir = work_dir(spec);
    run_streamed(
        ctx,
        spec.name.container(),
        cmd,
        vec![],
        &dir,
        label,
        progress,
    )
    .await
}

/// Runs a command as the workspace user, streaming its output lines as progress;
/// a non-zero exit is an error carrying the last lines.
pub async fn run_streamed(
    ctx: &Ctx,
    container: String,
    cmd: Vec<String>,
    env: Vec<String>,
    workdir: &str,
    label: &str,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let (tx, mut rx) = mpsc::channel(64);
    let req = ExecRequest {
        cmd,
        env,
        workdir: Some(workdir.into()),
        user: Some(WORKSPACE_USER.into()),
        ..Default::default()
    };
    let engine = ctx.engine.clone();
    let run = tokio::spawn(async move { engine.exec(&container, req, tx).await });
    // Aborted if this create is cancelled (the future holding it is dropped).
    let mut run = AbortOnDrop(run);
    let mut tail: std::collections::VecDeque<String> = Default::default();
    // One buffer per stream: a line (and a secret in it, for the redactor) is never
    // split by the other stream's output.
    let mut partials = [Vec::new(), Vec::new()];
    while let Some(chunk) = rx.recv().await {
        let (partial, b) = match chunk {
            Output::Stdout(b) => (&mut partials[0], b),
            Output::Stderr(b) => (&mut partials[1], b),
        };
        partial.extend(b);
        while let Some(pos) = partial.iter().position(|c| *c == b'\n' || *c == b'\r') {
            let line: Vec<u8> = partial.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if line.is_empty() {
                continue;
            }
            progress
                .report(Progress::Output {
                    label: label.into(),
                    line: line.clone(),
                })
                .await;
            tail.push_back(line);
            if tail.len() > 10 {
                tail.pop_front();
            }
        }
    }
    for partial in partials.iter().filter(|p| !p.is_empty()) {
        tail.push_back(String::from_utf8_lossy(partial).trim_end().to_string());
    }
    let outcome = (&mut run.0)
        .await
        .map_err(|e| anyhow!("{label} task failed: {e}"))??;
    if outcome.exit_code != 0 {
        let tail: Vec<String> = tail.into_iter().collect();
        bail!(
            "{label} exited with status {}; last output:\n{}",
            outcome.exit_code,
            tail.join("\n")
        );
    }
    Ok(())
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
