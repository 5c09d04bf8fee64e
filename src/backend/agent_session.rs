//! Starting an agent session (issue 12): preflight, the session's branch and
//! name, a workspace made through the normal create path (the agent's profile
//! layer, the host repository mounted read-only, its keys as secret files, the
//! `proxy` network profile by default), then a clone of the repository on the
//! session's branch inside it. Removal is `agent_remove`.
use super::agent_git as git;
use super::create::{create, workspace_spec, CreateOutcome, CreateRequest, CreateSpec};
use super::{inventory, keys, lifecycle, provision, Ctx, ProgressFn};
use crate::domain::agent_plan::{self, next_session_branch, session_prefix};
use crate::domain::agents::{session_name, AgentDef, AgentSession, REPO_MOUNT};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{Workspace, WORKSPACE_HOME};
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};
use tokio::sync::watch;

/// The network profile of an agent's workspace unless `--net-profile` says.
pub const DEFAULT_NET_PROFILE: &str = "proxy";

/// Which branch the session works on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BranchChoice {
    /// The next free `AGENT/session-N`.
    Next,
    /// `--branch B`.
    Named(String),
    /// `--use-current-branch`: the host's checked-out branch.
    Current,
}

/// What `berth agent run/launch` asks for.
#[derive(Debug, Clone)]
pub struct StartRequest {
    pub agent: String,
    /// The host repository's top level (None: a session without one).
    pub repo: Option<PathBuf>,
    pub branch: BranchChoice,
    pub no_push: bool,
    pub net_profile: Option<String>,
    /// Uncommitted changes in the repository are allowed.
    pub force: bool,
    /// `run` (removed when the agent exits) rather than `launch`.
    pub ephemeral: bool,
}

/// A session that is ready for its agent.
pub struct Started {
    pub session: AgentSession,
    pub workspace: Workspace,
    pub def: AgentDef,
    /// Said to the user, e.g. a key that is not set.
    pub warnings: Vec<String>,
}

/// The agent `name`, or a sentence listing the ones there are.
pub fn agent(ctx: &Ctx, name: &str) -> Result<AgentDef> {
    ctx.config.agents.get(name).cloned().ok_or_else(|| {
        let names: Vec<&str> = ctx.config.agents.keys().map(String::as_str).collect();
        anyhow!(
            "there is no agent {name:?}; the agents are: {} (add your own as [agents.NAME] in the config file)",
            names.join(", ")
        )
    })
}

/// `ctx` with the agents' profile layers known, so a create (and the profile image
/// machinery) can use them. An agent whose base profile is missing is left out.
pub fn session_ctx(ctx: &Ctx) -> Ctx {
    let mut c = ctx.clone();
    for def in ctx.config.agents.values() {
        if let Ok(p) = agent_plan::agent_profile(&ctx.config.profiles, def) {
            c.config.profiles.insert(p);
        }
    }
    c
}

/// The repository a session works on: `given` (any directory inside one), else the
/// one around `cwd`; None when `cwd` is in none (an empty session).
pub async fn resolve_repo(given: Option<&Path>, cwd: &Path) -> Result<Option<PathBuf>> {
    match given {
        Some(dir) => {
            let dir = if dir.is_absolute() {
                dir.to_path_buf()
            } else {
                cwd.join(dir)
            };
            if !tokio::fs::try_exists(&dir).await.unwrap_or(false) {
                bail!(
                    "{} does not exist; give the path of a git repository",
                    dir.display()
                );
            }
            match git::toplevel(&dir).await? {
                Some(top) => Ok(Some(top)),
                None => bail!(
                    "{} is not in a git repository; give a repository's path (or run `git init` there)",
                    dir.display()
                ),
            }
        }
        None => git::toplevel(cwd).await,
    }
}

/// Every agent session (a workspace whose labels say so), with its workspace.
pub async fn sessions(ctx: &Ctx) -> Result<Vec<(AgentSession, Workspace)>> {
    Ok(inventory::list(ctx)
        .await?
        .into_iter()
        .filter_map(|w| AgentSession::from_labels(&w.name, &w.labels).map(|s| (s, w)))
        .collect())
}

/// The session `name`, or a sentence saying how to see the ones there are.
pub async fn find(ctx: &Ctx, name: &str) -> Result<(AgentSession, Workspace)> {
    let n = WorkspaceName::parse(name)?;
    let w = lifecycle::find(ctx, &n).await?;
    match AgentSession::from_labels(&w.name, &w.labels) {
        Some(s) => Ok((s, w)),
        None => bail!(
            "workspace {name} is not an agent session; `berth agent ls` lists them (`berth delete {name}` removes a plain workspace)"
        ),
    }
}

/// The session's branch, its base branch and base commit.
async fn plan_branch(
    repo: &Path,
    agent: &str,
    choice: &BranchChoice,
    others: &[(AgentSession, Workspace)],
    skip: &[String],
) -> Result<(String, String, String)> {
    let Some(head) = git::commit_of(repo, "HEAD").await? else {
        bail!(
            "the repository {} has no commits yet; commit something first (a session's branch starts from a commit)",
            repo.display()
        );
    };
    let current = git::current_branch(repo).await?;
    let base = current.clone().unwrap_or_else(|| "HEAD".into());
    let repo_s = repo.display().to_string();
    let in_use = |b: &str| {
        others
            .iter()
            .find(|(s, _)| s.repo.as_deref() == Some(repo_s.as_str()) && s.branch == b)
            .map(|(s, _)| s.name.clone())
    };
    let (branch, base_commit) = match choice {
        BranchChoice::Next => {
            let mut taken = git::branches(repo, &session_prefix(agent)).await?;
            taken.extend(
                others
                    .iter()
                    .filter(|(s, _)| s.repo.as_deref() == Some(repo_s.as_str()))
                    .map(|(s, _)| s.branch.clone()),
            );
            taken.extend(skip.iter().cloned());
            (next_session_branch(agent, taken.iter().map(String::as_str)), head)
        }
        BranchChoice::Current => match current {
            Some(b) => (b, head),
            None => bail!(
                "--use-current-branch: the repository {} has a detached HEAD; check out a branch or use --branch NAME",
                repo.display()
            ),
        },
        BranchChoice::Named(b) => {
            if !git::valid_branch(repo, b).await? {
                bail!("--branch {b:?} is not a branch name berth can use (letters, digits, '.', '_', '-', '/')");
            }
            // A branch the host has already: the session continues from its tip.
            let from = git::branch_tip(repo, b).await?.unwrap_or(head);
            (b.clone(), from)
        }
    };
    if let Some(other) = in_use(&branch) {
        bail!("session {other} already works on branch {branch} of {repo_s}; connect to it (`berth agent connect {other}`) or choose another branch with --branch");
    }
    Ok((branch, base, base_commit))
}

/// The secret names the agent reads (its own and its MCP servers'), split into
/// those that are set and those that are not.
async fn agent_secrets(ctx: &Ctx, def: &AgentDef) -> Result<(Vec<String>, Vec<String>)> {
    let wanted = crate::domain::agent_mcp::secret_names(def);
    let all = ctx.store.secrets().await?;
    Ok(wanted
        .into_iter()
        .partition(|n| all.iter().any(|s| s.workspace.is_none() && &s.name == n)))
}

/// Starts a session: everything up to the agent itself.
pub async fn start(
    ctx: &Ctx,
    req: StartRequest,
    progress: ProgressFn<'_>,
    cancel: watch::Receiver<bool>,
) -> Result<Started> {
    let def = agent(ctx, &req.agent)?;
    let ctx = &session_ctx(ctx);
    let profile = agent_plan::profile_name(&def.name);
    ctx.config.profiles.get(&profile).map_err(|_| {
        anyhow!(
            "agent {}: its base profile {:?} does not exist; `berth profiles` lists the profiles",
            def.name,
            def.profile
        )
    })?;
    let pre = super::preflight::run(
        ctx,
        &super::preflight::PreflightRequest {
            repo: req.repo.clone(),
            force: req.force,
            image: None,
            profile: Some(profile.clone()),
        },
    )
    .await;
    if !pre.ready {
        bail!(
            "berth will not start the session; preflight failed:\n  {}",
            pre.failures().join("\n  ")
        );
    }
    let others = sessions(ctx).await?;
    let repo_s = req.repo.as_ref().map(|r| r.display().to_string());
    let dir = repo_s.as_deref().map(agent_plan::repo_dir_name);
    // Branches another berth is starting a session on right now.
    let mut skip: Vec<String> = Vec::new();
    let (branch, base, base_commit, name, claim) = loop {
        let (branch, base, base_commit) = match &req.repo {
            Some(repo) => plan_branch(repo, &def.name, &req.branch, &others, &skip).await?,
            None => (String::new(), String::new(), String::new()),
        };
        let name = match &req.repo {
            Some(_) => session_name(&def.name, dir.as_deref(), &branch),
            None => (1..)
                .map(|n| session_name(&def.name, None, &format!("session-{n}")))
                .find(|n| !others.iter().any(|(s, _)| &s.name == n) && !skip.contains(n))
                .unwrap_or_default(),
        };
        let name = free_name(name, &others, &req.repo).await?;
        if let Some(c) = super::agent_claim::claim(ctx, &name).await? {
            break (branch, base, base_commit, name, c);
        }
        let numbered = req.repo.is_none() || req.branch == BranchChoice::Next;
        if !numbered || skip.len() >= 50 {
            bail!("another berth is starting session {name} right now; wait for it, or choose another branch with --branch");
        }
        skip.push(if branch.is_empty() { name } else { branch });
    };
    let result = start_claimed(
        ctx,
        &req,
        def,
        profile,
        (branch, base, base_commit, name),
        progress,
        cancel,
    )
    .await;
    claim.release().await;
    result
}

#[allow(clippy::too_many_arguments)]
async fn start_claimed(
    ctx: &Ctx,
    req: &StartRequest,
    def: AgentDef,
    profile: String,
    (branch, base, base_commit, name): (String, String, String, String),
    progress: ProgressFn<'_>,
    cancel: watch::Receiver<bool>,
) -> Result<Started> {
    let repo_s = req.repo.as_ref().map(|r| r.display().to_string());
    if inventory::find(ctx, &WorkspaceName::parse(&name)?)
        .await?
        .is_some()
    {
        bail!("a workspace named {name} exists already; remove it (`berth agent rm {name}`) or choose another branch with --branch");
    }
    let session = AgentSession {
        name: name.clone(),
        agent: def.name.clone(),
        repo: repo_s.clone(),
        branch: branch.clone(),
        base,
        base_commit,
        clone: repo_s
            .as_deref()
            .map(agent_plan::clone_path)
            .unwrap_or_else(|| WORKSPACE_HOME.into()),
        ephemeral: req.ephemeral,
        no_push: req.no_push,
    };
    let (set, unset) = agent_secrets(ctx, &def).await?;
    let mut warnings: Vec<String> = unset
        .iter()
        .map(|n| format!("secret {n} is not set, so agent {} starts without it; set it with `berth secret set {n} ...`", def.name))
        .collect();
    let mut mounts = Vec::new();
    if let Some(r) = &repo_s {
        if r.contains(':') {
            bail!("berth cannot mount {r}: its path has a ':'; move or link the repository to a path without one");
        }
        mounts.push(format!("{r}:{REPO_MOUNT}:ro"));
    }
    let spec = CreateSpec {
        name: name.clone(),
        profile: Some(profile),
        mounts,
        secret_files: set,
        net_profile: Some(
            req.net_profile
                .clone()
                .unwrap_or_else(|| DEFAULT_NET_PROFILE.into()),
        ),
        workdir: Some(session.clone.clone()),
        ..Default::default()
    };
    let host_env = super::create::host_env_names();
    let mut spec = workspace_spec(&ctx.config, spec, host_env.iter().map(String::as_str))?;
    if spec.options.provider == crate::domain::vm::Provider::Vm {
        bail!(
            "agent sessions run in containers only: a session mounts its repository and uses the proxy \
             network profile, which a VM workspace cannot have yet. The config or the profile {:?} says \
             provider = \"vm\"; set provider = \"container\" in that profile (or in the config) for agents",
            spec.profile
        );
    }
    spec.options.session_labels = session.labels();
    let keys = keys::for_create(&ctx.paths, None).await?;
    let cr = CreateRequest {
        spec,
        keys: keys.keys,
        identities: keys.identities,
        name_generated: false,
        restore: None,
    };
    let ws = match create(ctx, cr, progress, cancel).await? {
        CreateOutcome::Created(w) | CreateOutcome::Reused(w) => w,
    };
    let _ = ctx
        .store
        .audit(&name, "agent-start", &start_detail(&session))
        .await;
    let prepared = prepare(ctx, &ws, &session, &def).await;
    if let Ok(w) = &prepared {
        warnings.extend(w.iter().cloned());
    }
    if let Err(e) = prepared {
        // Nothing of the agent's yet: the workspace goes, so nothing is half-made.
        let n = WorkspaceName::parse(&name)?;
        let gone = lifecycle::delete(ctx, &n, false).await;
        let left = match gone {
            Ok(_) => String::new(),
            Err(d) => format!("; removing the workspace failed too ({d:#}): `berth delete {name}`"),
        };
        return Err(e.context(format!("preparing session {name} failed{left}")));
    }
    Ok(Started {
        session,
        workspace: ws,
        def,
        warnings,
    })
}

/// The session's name, unless a session of another repository with the same
/// directory name has it (then a numbered one).
async fn free_name(
    name: String,
    others: &[(AgentSession, Workspace)],
    repo: &Option<PathBuf>,
) -> Result<String> {
    let clash = |n: &str| others.iter().any(|(s, _)| s.name == n);
    if repo.is_none() || !clash(&name) {
        return Ok(name);
    }
    (2..100)
        .map(|i| format!("{}-{i}", &name[..name.len().min(58)]))
        .find(|n| !clash(n))
        .context("no free session name")
}

fn start_detail(s: &AgentSession) -> String {
    match &s.repo {
        Some(r) => format!(
            "agent {} on {r}, branch {} from {} ({})",
            s.agent, s.branch, s.base, s.base_commit
        ),
        None => format!("agent {} without a repository", s.agent),
    }
}

/// Inside the workspace: the clone on the session's branch, the host's git
/// identity, the agent's MCP servers.
async fn prepare(
    ctx: &Ctx,
    ws: &Workspace,
    s: &AgentSession,
    def: &AgentDef,
) -> Result<Vec<String>> {
    if let Some(repo) = &s.repo {
        let repo = Path::new(repo);
        let user = git::config(repo, "user.name").await?.unwrap_or_default();
        let email = git::config(repo, "user.email").await?.unwrap_or_default();
        // The mount is the host user's: git (and its upload-pack) trust it only
        // through the user's global config.
        const CLONE: &str = r#"set -e
if [ -f "$1/.git" ]; then
  echo "the repository at $1 keeps its git directory elsewhere (its .git is a file: a git worktree or a separate git dir), and berth mounts only this directory; start the session on the repository's main work tree" >&2
  exit 1
fi
if [ ! -r "$1/.git/HEAD" ]; then
  echo "the workspace user (uid $(id -u)) cannot read the host repository at $1: its permissions on the host keep others out; let them read it (chmod -R o+rX on the host) or start the session on a copy" >&2
  exit 1
fi
for d in "$1" "$1/.git"; do
  git config --global --get-all safe.directory | grep -qxF "$d" || git config --global --add safe.directory "$d"
done
git clone -q --no-hardlinks "$1" "$2"
cd "$2"
git remote set-url origin "$1"
git checkout -q -B "$3" "$4"
if [ -n "$5" ]; then git config user.name "$5"; fi
if [ -n "$6" ]; then git config user.email "$6"; fi
"#;
        provision::run_script(
            ctx.engine.as_ref(),
            &ws.container,
            "cloning the repository into the session",
            CLONE,
            &[
                REPO_MOUNT,
                &s.clone,
                &s.branch,
                &s.base_commit,
                &user,
                &email,
            ],
            Vec::new(),
        )
        .await?;
        let _ = ctx
            .store
            .audit(
                &s.name,
                "agent-clone",
                &format!("cloned into {} on {}", s.clone, s.branch),
            )
            .await;
    }
    if def.mcp_servers.is_empty() {
        return Ok(Vec::new());
    }
    super::agent_setup::configure(ctx, ws, def).await
}
