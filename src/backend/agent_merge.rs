//! Merging an agent session's branch into its base branch in the host repository,
//! only when that is clean: after a bring-back, a fast-forward, or a merge that
//! `git merge-tree --write-tree` says has no conflicts. A base checked out in a
//! work tree is merged there with `git merge`, and only when that work tree is
//! clean; a base checked out nowhere gets `git commit-tree` + `git update-ref`
//! with its old value, so a concurrent change to it is never overwritten. A
//! conflicted merge is refused with the files in conflict and no ref moved.
use super::Ctx;
use crate::domain::agents::AgentSession;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a merge did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Merged {
    /// The base already held the branch: nothing to do.
    AlreadyMerged,
    /// The base moved forward to the branch's tip.
    FastForward { commit: String },
    /// A merge commit was made on the base.
    MergeCommit { commit: String },
}

impl Merged {
    pub fn sentence(&self, branch: &str, base: &str) -> String {
        match self {
            Merged::AlreadyMerged => format!("{base} already holds {branch}"),
            Merged::FastForward { commit } => {
                format!("{base} fast-forwarded to {branch} ({})", short(commit))
            }
            Merged::MergeCommit { commit } => {
                format!("merged {branch} into {base} ({})", short(commit))
            }
        }
    }
}

fn short(c: &str) -> &str {
    &c[..c.len().min(12)]
}

/// Runs host git in `repo`; Ok((exit code, stdout, stderr)).
async fn run(repo: &Path, args: &[&str]) -> Result<(i32, String, String)> {
    let out = tokio::process::Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("LC_ALL", "C")
        .stdin(std::process::Stdio::null())
        .kill_on_drop(true)
        .output()
        .await
        .context("cannot run git on this machine; install it")?;
    Ok((
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).trim().to_string(),
    ))
}

/// `run` that must succeed; its stdout, trimmed.
async fn ok(repo: &Path, args: &[&str]) -> Result<String> {
    let (code, out, err) = run(repo, args).await?;
    if code != 0 {
        bail!("git {} failed in {}: {err}", args.join(" "), repo.display());
    }
    Ok(out.trim().to_string())
}

/// The work tree where `refs/heads/BRANCH` is checked out, if any.
async fn checked_out_in(repo: &Path, branch: &str) -> Result<Option<PathBuf>> {
    let list = ok(repo, &["worktree", "list", "--porcelain"]).await?;
    let want = format!("branch refs/heads/{branch}");
    let mut current: Option<PathBuf> = None;
    for line in list.lines() {
        if let Some(p) = line.strip_prefix("worktree ") {
            current = Some(PathBuf::from(p));
        } else if line == want {
            return Ok(current);
        }
    }
    Ok(None)
}

/// Merges `branch` into `base` in host repository `repo` when that is clean.
pub async fn merge_branch(repo: &Path, base: &str, branch: &str) -> Result<Merged> {
    let base_ref = format!("refs/heads/{base}");
    let branch_ref = format!("refs/heads/{branch}");
    let verify = |r: String, what: &'static str| async move {
        ok(
            repo,
            &[
                "rev-parse",
                "--verify",
                "--quiet",
                &format!("{r}^{{commit}}"),
            ],
        )
        .await
        .with_context(|| format!("{what} {r} is not in {}", repo.display()))
    };
    let old = verify(base_ref.clone(), "the base branch").await?;
    let tip = verify(branch_ref.clone(), "the session's branch").await?;
    let is_ancestor = |a: String, b: String| async move {
        let (code, _, err) = run(repo, &["merge-base", "--is-ancestor", &a, &b]).await?;
        match code {
            0 => Ok(true),
            1 => Ok(false),
            _ => bail!("git merge-base failed in {}: {err}", repo.display()),
        }
    };
    if is_ancestor(tip.clone(), old.clone()).await? {
        return Ok(Merged::AlreadyMerged);
    }
    let ff = is_ancestor(old.clone(), tip.clone()).await?;
    // The merged tree (written to the object store only; no ref moves).
    let tree = if ff {
        None
    } else {
        let (code, out, err) = run(
            repo,
            &[
                "merge-tree",
                "--write-tree",
                "--name-only",
                "--no-messages",
                &old,
                &tip,
            ],
        )
        .await?;
        match code {
            0 => Some(out.lines().next().unwrap_or_default().trim().to_string()),
            1 => {
                let files: Vec<&str> = out.lines().skip(1).filter(|l| !l.is_empty()).collect();
                bail!(
                    "{branch} does not merge cleanly into {base}: conflicts in {}; nothing was changed. Merge it by hand (`git merge {branch}` on {base}) and resolve them",
                    files.join(", ")
                );
            }
            _ => bail!("git merge-tree failed in {}: {err}", repo.display()),
        }
    };
    let message = format!("Merge branch '{branch}' into {base}");
    match checked_out_in(repo, base).await? {
        Some(wt) => {
            let dirty = ok(&wt, &["status", "--porcelain", "--untracked-files=no"]).await?;
            if !dirty.is_empty() {
                bail!(
                    "{base} is checked out in {} with uncommitted changes; commit or stash them, then merge again",
                    wt.display()
                );
            }
            let mode = if ff { "--ff-only" } else { "--no-ff" };
            let (code, _, err) =
                run(&wt, &["merge", mode, "--no-edit", "-m", &message, &tip]).await?;
            if code != 0 {
                // Leave the work tree as it was.
                let _ = run(&wt, &["merge", "--abort"]).await;
                bail!(
                    "git merge of {branch} into {base} failed in {}: {err}",
                    wt.display()
                );
            }
            let commit = ok(&wt, &["rev-parse", "HEAD"]).await?;
            Ok(if ff {
                Merged::FastForward { commit }
            } else {
                Merged::MergeCommit { commit }
            })
        }
        None => {
            let commit = match &tree {
                None => tip.clone(),
                Some(tree) => {
                    ok(
                        repo,
                        &["commit-tree", tree, "-p", &old, "-p", &tip, "-m", &message],
                    )
                    .await?
                }
            };
            let (code, _, err) = run(
                repo,
                &["update-ref", "-m", &message, &base_ref, &commit, &old],
            )
            .await?;
            if code != 0 {
                bail!("{base} changed while merging ({err}); nothing was overwritten, merge again");
            }
            Ok(if ff {
                Merged::FastForward { commit }
            } else {
                Merged::MergeCommit { commit }
            })
        }
    }
}

/// Brings the session's branch back into its host repository, then merges it
/// into the base branch when that is clean.
pub async fn merge(ctx: &Ctx, s: &AgentSession) -> Result<Merged> {
    let Some(repo) = s.repo.clone() else {
        bail!("{} has no host repository to merge into", s.name);
    };
    if s.base.is_empty() {
        bail!("{} does not say which branch it started from", s.name);
    }
    super::agent_return::bring_back(ctx, s).await?;
    merge_branch(Path::new(&repo), &s.base, &s.branch).await
}

#[cfg(test)]
#[path = "agent_merge_tests.rs"]
mod tests;
