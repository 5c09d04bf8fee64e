//! The host's git, for agent sessions (issue 12): every call through
//! tokio::process, never prompting (`GIT_TERMINAL_PROMPT=0`), stdin closed.
use anyhow::{anyhow, bail, Result};
use std::path::{Path, PathBuf};
use std::process::Stdio;

/// What one git call printed.
pub struct GitOut {
    pub ok: bool,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `git -C dir ARGS...`.
pub async fn run(dir: &Path, args: &[&str]) -> Result<GitOut> {
    let out = tokio::process::Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .map_err(|e| anyhow!("cannot run git ({e}); install it (`sudo apt-get install git`)"))?;
    Ok(GitOut {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).trim_end().to_string(),
        stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
    })
}

/// [`run`], a failure an error with git's words.
pub async fn ok(dir: &Path, args: &[&str]) -> Result<String> {
    let o = run(dir, args).await?;
    if !o.ok {
        bail!(
            "git {} in {} failed: {}",
            args.join(" "),
            dir.display(),
            o.stderr
        );
    }
    Ok(o.stdout)
}

/// The repository around `dir` (its top level), None outside one.
pub async fn toplevel(dir: &Path) -> Result<Option<PathBuf>> {
    let o = run(dir, &["rev-parse", "--show-toplevel"]).await?;
    Ok((o.ok && !o.stdout.is_empty()).then(|| PathBuf::from(o.stdout)))
}

/// The checked-out branch (None: a detached HEAD).
pub async fn current_branch(repo: &Path) -> Result<Option<String>> {
    let o = run(repo, &["symbolic-ref", "-q", "--short", "HEAD"]).await?;
    Ok((o.ok && !o.stdout.is_empty()).then_some(o.stdout))
}

/// The commit `rev` names (None: it names none).
pub async fn commit_of(repo: &Path, rev: &str) -> Result<Option<String>> {
    let spec = format!("{rev}^{{commit}}");
    let o = run(repo, &["rev-parse", "-q", "--verify", &spec]).await?;
    Ok((o.ok && !o.stdout.is_empty()).then_some(o.stdout))
}

/// The tip of branch `b` (None: the host has no such branch).
pub async fn branch_tip(repo: &Path, b: &str) -> Result<Option<String>> {
    commit_of(repo, &format!("refs/heads/{b}")).await
}

/// The host's branches under `prefix` (e.g. `fake/session-`).
pub async fn branches(repo: &Path, prefix: &str) -> Result<Vec<String>> {
    let pattern = format!("refs/heads/{prefix}*");
    let out = ok(
        repo,
        &["for-each-ref", "--format=%(refname:short)", &pattern],
    )
    .await?;
    Ok(out.lines().map(String::from).collect())
}

/// A configuration value as git reads it in `repo` (None: unset).
pub async fn config(repo: &Path, key: &str) -> Result<Option<String>> {
    let o = run(repo, &["config", "--get", key]).await?;
    Ok((o.ok && !o.stdout.is_empty()).then_some(o.stdout))
}

/// Is `name` a valid branch name (git's own rules)?
pub async fn valid_branch(repo: &Path, name: &str) -> Result<bool> {
    Ok(run(repo, &["check-ref-format", "--branch", name]).await?.ok
        && crate::domain::agent_plan::plausible_branch(name))
}

/// Is branch `b` checked out in any of the repository's worktrees?
pub async fn checked_out(repo: &Path, b: &str) -> Result<bool> {
    let out = ok(repo, &["worktree", "list", "--porcelain"]).await?;
    let want = format!("branch refs/heads/{b}");
    Ok(out.lines().any(|l| l == want))
}

/// Is commit `a` an ancestor of (or equal to) commit `b`?
pub async fn is_ancestor(repo: &Path, a: &str, b: &str) -> Result<bool> {
    Ok(run(repo, &["merge-base", "--is-ancestor", a, b]).await?.ok)
}

/// Commits on `tip` beyond `base`.
pub async fn ahead(repo: &Path, base: &str, tip: &str) -> Result<u32> {
    let range = format!("{base}..{tip}");
    let n = ok(repo, &["rev-list", "--count", &range]).await?;
    n.trim()
        .parse()
        .map_err(|_| anyhow!("git rev-list --count said {n:?}"))
}

/// Where a branch based on `base` is pushed: the base branch's upstream remote,
/// else `origin` when there is one (None: no remote at all).
pub async fn push_remote(repo: &Path, base: &str) -> Result<Option<String>> {
    if !base.is_empty() {
        if let Some(r) = config(repo, &format!("branch.{base}.remote")).await? {
            if r != "." {
                return Ok(Some(r));
            }
        }
    }
    let remotes = ok(repo, &["remote"]).await?;
    Ok(remotes
        .lines()
        .any(|r| r == "origin")
        .then(|| "origin".to_string()))
}
