//! What an agent session's branch holds, read from its clone inside the running
//! workspace (as the workspace user): how many commits it is ahead of the
//! session's base commit, and its diff against it (bounded in size). For the
//! TUI's agents view; never on the UI loop.
use super::Ctx;
use crate::domain::agents::AgentSession;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{Workspace, WorkspaceState, WORKSPACE_USER};
use crate::engine::{ExecRequest, Output};
use anyhow::{bail, Context, Result};
use std::collections::BTreeMap;
use std::time::Duration;
use tokio::sync::mpsc;

/// The most diff text read (the rest is cut, and the view says so).
pub const DIFF_MAX: usize = 2 * 1024 * 1024;
/// How long one git command in the workspace may take.
const GIT_TIMEOUT: Duration = Duration::from_secs(30);

/// A diff's text as read, and whether it was cut at [`DIFF_MAX`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffText {
    pub text: String,
    pub cut: bool,
}

/// Runs `cmd` in workspace `name` as its user; stdout up to `max` bytes (the rest
/// is read and dropped), and whether it was cut. A non-zero exit is an error with
/// git's own words.
async fn git(ctx: &Ctx, name: &str, cmd: Vec<String>, max: usize) -> Result<(Vec<u8>, bool)> {
    let container = WorkspaceName::parse(name)?.container();
    let req = ExecRequest {
        cmd,
        user: Some(WORKSPACE_USER.into()),
        env: vec!["GIT_TERMINAL_PROMPT=0".into(), "LC_ALL=C".into()],
        timeout: Some(GIT_TIMEOUT),
        ..Default::default()
    };
    let (tx, mut rx) = mpsc::channel(64);
    let collect = async {
        let (mut out, mut err, mut cut) = (Vec::new(), Vec::new(), false);
        while let Some(chunk) = rx.recv().await {
            match chunk {
                Output::Stdout(b) => {
                    let room = max.saturating_sub(out.len());
                    cut |= b.len() > room;
                    out.extend_from_slice(&b[..b.len().min(room)]);
                }
                Output::Stderr(b) if err.len() < 4096 => err.extend_from_slice(&b),
                Output::Stderr(_) => {}
            }
        }
        (out, err, cut)
    };
    let (outcome, (out, err, cut)) = tokio::join!(ctx.engine.exec(&container, req, tx), collect);
    let outcome = outcome.with_context(|| format!("cannot run git in {name}"))?;
    if outcome.exit_code != 0 {
        let why = String::from_utf8_lossy(&err).trim().to_string();
        bail!(
            "git in {name} exited with {}: {}",
            outcome.exit_code,
            if why.is_empty() { "no message" } else { &why }
        );
    }
    Ok((out, cut))
}

fn range(s: &AgentSession) -> Result<String> {
    if s.clone.is_empty() || s.branch.is_empty() || s.base_commit.is_empty() {
        bail!(
            "{} does not say where its clone, branch or base commit is (labels missing)",
            s.name
        );
    }
    Ok(format!("{}..{}", s.base_commit, s.branch))
}

/// Commits on the session's branch beyond its base commit.
pub async fn ahead(ctx: &Ctx, s: &AgentSession) -> Result<u32> {
    let cmd = vec![
        "git".into(),
        "-C".into(),
        s.clone.clone(),
        "rev-list".into(),
        "--count".into(),
        range(s)?,
        "--".into(),
    ];
    let (out, _) = git(ctx, &s.name, cmd, 64).await?;
    let text = String::from_utf8_lossy(&out);
    text.trim()
        .parse()
        .with_context(|| format!("git rev-list said {:?}, not a count", text.trim()))
}

/// The branch's diff against its base commit, at most [`DIFF_MAX`] bytes.
pub async fn diff(ctx: &Ctx, s: &AgentSession) -> Result<DiffText> {
    let cmd = vec![
        "git".into(),
        "-C".into(),
        s.clone.clone(),
        "diff".into(),
        "--no-color".into(),
        "--no-ext-diff".into(),
        range(s)?,
        "--".into(),
    ];
    let (out, cut) = git(ctx, &s.name, cmd, DIFF_MAX).await?;
    Ok(DiffText {
        text: String::from_utf8_lossy(&out).into_owned(),
        cut,
    })
}

/// Ahead counts of every running agent session among `workspaces` (stopped ones
/// are left out: the view keeps what it knew), or why one could not be read.
pub async fn ahead_all(
    ctx: &Ctx,
    workspaces: &[Workspace],
) -> BTreeMap<String, Result<u32, String>> {
    let mut out = BTreeMap::new();
    for w in workspaces {
        if w.state != WorkspaceState::Running {
            continue;
        }
        if let Some(s) = AgentSession::from_labels(&w.name, &w.labels) {
            let n = ahead(ctx, &s).await.map_err(|e| format!("{e:#}"));
            out.insert(w.name.clone(), n);
        }
    }
    out
}
