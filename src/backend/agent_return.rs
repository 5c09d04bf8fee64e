//! Bringing an agent session's branch back into the host repository (issue 12),
//! from the host side: the agent never gets write access to the host's repository.
//! A bundle of the branch is made inside the workspace, copied out through the
//! engine, verified and fetched by the host's git into a hidden ref
//! (`refs/berth/agents/NAME`), and the branch is then created or fast-forwarded
//! with `git update-ref` (never a checked-out branch, never the working tree).
use super::agent_git as git;
use super::{lifecycle, provision, Ctx};
use crate::domain::agents::AgentSession;
use crate::domain::naming::WorkspaceName;
use anyhow::{anyhow, bail, Context, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// What a bring-back did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BroughtBack {
    /// The branch now in the host repository (the session's branch).
    pub branch: String,
    /// Its tip commit.
    pub commit: String,
    /// Commits on it beyond the session's base commit.
    pub ahead: u32,
}

/// `push` found no remote to push to (not a failure of the push itself).
#[derive(Debug, thiserror::Error)]
#[error("the repository {repo} has no remote (no upstream for {base} and no origin): the branch stays local")]
pub struct NoRemote {
    pub repo: String,
    pub base: String,
}

/// The largest bundle berth copies out (it passes through memory).
const MAX_BUNDLE: usize = 512 * 1024 * 1024;
/// The bundle inside the workspace (in the home volume: the engine's archive API
/// reads it there).
const INSIDE_BUNDLE: &str = "/home/workspace/.berth/agent-session.bundle";

/// The hidden ref the session's commits are fetched into first (kept when the
/// branch cannot be moved, so the work is in the host repository either way).
pub fn hidden_ref(s: &AgentSession) -> String {
    format!("refs/berth/agents/{}", s.name)
}

/// `$1` clone, `$2` branch, `$3` bundle, `$4` base commit. The first line says
/// what was found. The clone's config is the agent's: untracked files are listed
/// whatever it says. Work the branch does not hold (another branch, a detached
/// HEAD, a stash) is `stray`, each ref with how many commits only it has.
const BUNDLE: &str = r#"cd "$1" 2>/dev/null || { echo noclone; exit 0; }
st=$(git status --porcelain --untracked-files=all --ignore-submodules=none 2>&1) || { echo "nogit $st"; exit 0; }
if [ -n "$st" ]; then echo dirty; printf '%s\n' "$st" | head -n 10; exit 0; fi
tip=$(git rev-parse -q --verify "refs/heads/$2^{commit}") || { echo nobranch; exit 0; }
refs=$(git for-each-ref --format='%(refname)' refs/heads refs/stash) || exit 1
git symbolic-ref -q HEAD >/dev/null || refs="HEAD $refs"
stray=""
for r in $refs; do
  [ "$r" = "refs/heads/$2" ] && continue
  n=$(git rev-list --count "$r" --not "refs/heads/$2" --remotes --) || exit 1
  [ "$n" -gt 0 ] && stray="$stray$r $n
"
done
if [ -n "$stray" ]; then echo stray; printf '%s' "$stray" | head -n 10; exit 0; fi
echo "tip $tip"
rm -f "$3"
if ! git merge-base --is-ancestor "$tip" "$4" 2>/dev/null; then
  mkdir -p "$(dirname "$3")" || exit 1
  if git cat-file -e "$4^{commit}" 2>/dev/null; then
    git bundle create -q "$3" "refs/heads/$2" "^$4" || exit 1
  else
    git bundle create -q "$3" "refs/heads/$2" || exit 1
  fi
  echo bundled
fi
"#;

fn repo_of(s: &AgentSession) -> Result<PathBuf> {
    match &s.repo {
        Some(r) => Ok(PathBuf::from(r)),
        None => bail!(
            "session {} has no repository: there is nothing to bring back",
            s.name
        ),
    }
}

/// Fetches the session's branch from its clone into the host repository as
/// `refs/heads/BRANCH` (never moving a branch the host has elsewhere: a branch that
/// diverged is an error that says so). Pushes nothing.
pub async fn bring_back(ctx: &Ctx, s: &AgentSession) -> Result<BroughtBack> {
    let repo = repo_of(s)?;
    if !tokio::fs::try_exists(repo.join(".git"))
        .await
        .unwrap_or(false)
        && git::toplevel(&repo).await?.is_none()
    {
        bail!("the host repository {} is gone; the session's work stays in workspace {} (`berth ssh {}`)", repo.display(), s.name, s.name);
    }
    let n = WorkspaceName::parse(&s.name)?;
    let w = lifecycle::find(ctx, &n).await?;
    let w = lifecycle::ensure_running(ctx, &w, &|_| {})
        .await
        .with_context(|| format!("workspace {} must run to bring its branch back", s.name))?;
    let out = provision::run_script(
        ctx.engine.as_ref(),
        &w.container,
        "bundling the session's branch",
        BUNDLE,
        &[&s.clone, &s.branch, INSIDE_BUNDLE, &s.base_commit],
        Vec::new(),
    )
    .await?;
    let mut lines = out.lines();
    let first = lines.next().unwrap_or_default();
    let tip = match first.split_once(' ') {
        Some(("tip", t)) => t.to_string(),
        _ if first == "dirty" => {
            let files: Vec<&str> = lines.collect();
            bail!(
                "the clone {} in session {} has uncommitted changes ({}); commit them on {} (`berth agent connect {}` or `berth ssh {}`), or discard everything with `berth delete {}`",
                s.clone, s.name, files.join(", "), s.branch, s.name, s.name, s.name
            )
        }
        _ if first == "stray" => {
            let refs: Vec<&str> = lines.collect();
            bail!(
                "the clone {} in session {} has commits that branch {} does not hold ({}: ref and commits only it has); merge them into {} or delete them (`berth agent connect {}` or `berth ssh {}`), or discard everything with `berth delete {}`",
                s.clone, s.name, s.branch, refs.join(", "), s.branch, s.name, s.name, s.name
            )
        }
        _ if first == "nobranch" => bail!(
            "the clone {} in session {} has no branch {} (deleted or renamed?); bring the work back by hand (`berth ssh {}`)",
            s.clone, s.name, s.branch, s.name
        ),
        _ => bail!(
            "the clone {} in session {} is missing or not a git repository ({first}); look with `berth ssh {}`",
            s.clone, s.name, s.name
        ),
    };
    let bundled = out.lines().any(|l| l == "bundled");
    let hidden = hidden_ref(s);
    // What the workspace printed is the agent's to forge: the tip is what the
    // host's git fetched, or a commit the host has under the base.
    let tip = if bundled {
        fetch_bundle(ctx, &w.container, &repo, s).await?;
        git::commit_of(&repo, &hidden)
            .await?
            .ok_or_else(|| anyhow!("the bundle of {} brought no commit", s.branch))?
    } else {
        let known = match git::commit_of(&repo, &tip).await? {
            Some(c) if c == tip => git::is_ancestor(&repo, &c, &s.base_commit).await?,
            _ => false,
        };
        if !known {
            bail!("the host repository {} does not have the session's tip {tip} under its base commit {}; the work stays in workspace {}", repo.display(), s.base_commit, s.name);
        }
        git::ok(&repo, &["update-ref", &hidden, &tip]).await?;
        tip
    };
    move_branch(&repo, s, &tip, &hidden).await?;
    let _ = git::run(&repo, &["update-ref", "-d", &hidden]).await;
    let ahead = match git::commit_of(&repo, &s.base_commit).await? {
        Some(_) => git::ahead(&repo, &s.base_commit, &tip).await?,
        None => 0,
    };
    let _ = ctx
        .store
        .audit(
            &s.name,
            "agent-bring-back",
            &format!(
                "{} at {tip} ({ahead} ahead) into {}",
                s.branch,
                repo.display()
            ),
        )
        .await;
    Ok(BroughtBack {
        branch: s.branch.clone(),
        commit: tip,
        ahead,
    })
}

/// Copies the bundle out, verifies it and fetches it into the hidden ref.
async fn fetch_bundle(ctx: &Ctx, container: &str, repo: &Path, s: &AgentSession) -> Result<()> {
    let bytes = ctx
        .engine
        .read_file(container, INSIDE_BUNDLE, MAX_BUNDLE)
        .await?
        .ok_or_else(|| anyhow!("the bundle of {} vanished inside {}", s.branch, s.name))?;
    if bytes.len() >= MAX_BUNDLE {
        bail!(
            "the session's branch is too large to copy out as one bundle (over {} MiB); fetch it by hand (`berth cp {}:{} .`)",
            MAX_BUNDLE / 1024 / 1024,
            s.name,
            INSIDE_BUNDLE
        );
    }
    let dir = ctx.paths.state_dir.join("agent-bundles");
    tokio::fs::create_dir_all(&dir).await?;
    let file = dir.join(format!("{}.bundle", s.name));
    tokio::fs::write(&file, &bytes).await?;
    let file_s = file.display().to_string();
    let result = async {
        let v = git::run(repo, &["bundle", "verify", "-q", &file_s]).await?;
        if !v.ok {
            bail!(
                "the bundle of {} does not verify against {}: {}",
                s.branch,
                repo.display(),
                v.stderr
            );
        }
        let spec = format!("+refs/heads/{}:{}", s.branch, hidden_ref(s));
        // The bundle is the agent's: its objects are checked before they enter
        // the host's object store.
        git::ok(
            repo,
            &[
                "-c",
                "fetch.fsckObjects=true",
                "fetch",
                "-q",
                "--no-tags",
                &file_s,
                &spec,
            ],
        )
        .await?;
        Ok(())
    }
    .await;
    let _ = tokio::fs::remove_file(&file).await;
    let _ = provision::run_script(
        ctx.engine.as_ref(),
        container,
        "removing the bundle",
        "rm -f \"$1\"",
        &[INSIDE_BUNDLE],
        Vec::new(),
    )
    .await;
    result
}

/// Creates or fast-forwards `refs/heads/BRANCH` to `tip` in the host repository.
async fn move_branch(repo: &Path, s: &AgentSession, tip: &str, hidden: &str) -> Result<()> {
    let b = &s.branch;
    let r = repo.display();
    let refname = format!("refs/heads/{b}");
    let msg = format!("berth: agent session {}", s.name);
    match git::branch_tip(repo, b).await? {
        None => {
            git::ok(repo, &["update-ref", "-m", &msg, &refname, tip, ""]).await?;
        }
        Some(old) if old == tip => {}
        Some(old) => {
            if !git::is_ancestor(repo, &old, tip).await? {
                bail!(
                    "branch {b} in {r} has commits the session's branch does not have (it diverged); berth does not overwrite it. The session's commits are in {r} as {hidden}: merge them (`git -C {r} merge {hidden}` on {b}), then `berth agent rm {}` again",
                    s.name
                );
            }
            if git::checked_out(repo, b).await? {
                bail!(
                    "branch {b} is checked out in {r}, and berth never touches your working tree. The session's commits are in {r} as {hidden}: run `git -C {r} merge --ff-only {hidden}`, then `berth agent rm {}` again",
                    s.name
                );
            }
            git::ok(repo, &["update-ref", "-m", &msg, &refname, tip, &old]).await?;
        }
    }
    Ok(())
}

/// Pushes the session's branch from the host repository to its remote (the
/// upstream of the base branch, else `origin`); returns the remote's name. No
/// remote at all is a [`NoRemote`] error.
pub async fn push(s: &AgentSession) -> Result<String> {
    let repo = repo_of(s)?;
    let Some(remote) = git::push_remote(&repo, &s.base).await? else {
        return Err(NoRemote {
            repo: repo.display().to_string(),
            base: s.base.clone(),
        }
        .into());
    };
    let spec = format!("refs/heads/{0}:refs/heads/{0}", s.branch);
    let o = git::run(&repo, &["push", "-q", &remote, &spec]).await?;
    if !o.ok {
        bail!("git push {remote} {} failed: {}", s.branch, o.stderr);
    }
    Ok(remote)
}
