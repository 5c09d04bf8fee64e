//! `berth agent run/launch/connect/ls/rm`: agent CLIs in workspaces of their own,
//! each session on its own branch of a clone of the host repository, brought back
//! into the host repository (and pushed) when the session is removed.
use crate::backend::agent_session::{self, BranchChoice};
use crate::backend::{agent_remove, provision, ssh_cmd, Ctx};
use crate::domain::agents::{AgentDef, AgentSession, TMUX_SESSION};
use crate::domain::workspace::{Workspace, WorkspaceState};
use anyhow::{bail, Context, Result};
use clap::Subcommand;
use std::path::PathBuf;

#[derive(Subcommand, Debug)]
pub enum AgentAction {
    /// An ephemeral session: the agent runs in a new workspace on its own branch
    /// (`AGENT/session-N`) of a clone of REPO and the session is removed when it
    /// exits (its branch brought back into REPO and pushed). With --prompt, the
    /// agent's prompt command runs, its answer streams, and berth exits with its
    /// status.
    Run {
        /// The agent (`berth agent ls --agents` lists them).
        agent: String,
        /// The host repository (default: the one around the current directory;
        /// outside one, an empty workspace).
        repo: Option<PathBuf>,
        /// Run the prompt command with this text instead of the interactive one.
        #[arg(long, value_name = "TEXT")]
        prompt: Option<String>,
        #[command(flatten)]
        common: Common,
        /// Work on the host's checked-out branch.
        #[arg(long, conflicts_with = "branch")]
        use_current_branch: bool,
    },
    /// A persistent session: the agent runs in a tmux session inside its workspace;
    /// `berth agent connect NAME` attaches, detaching (Ctrl-b d) leaves it running.
    Launch {
        agent: String,
        repo: Option<PathBuf>,
        #[command(flatten)]
        common: Common,
    },
    /// Attach to a launched session's agent (tmux; Ctrl-b d detaches).
    Connect { name: String },
    /// List agent sessions (NAME AGENT REPO BRANCH STATE AHEAD), or with --agents
    /// the agents berth knows.
    Ls {
        #[arg(long)]
        json: bool,
        /// The agents (built-in and from [agents.NAME] in the config) instead.
        #[arg(long)]
        agents: bool,
    },
    /// Remove a session: its branch is brought back into the host repository and
    /// pushed (unless --no-push); a branch that cannot be brought back keeps it.
    Rm {
        name: String,
        /// Bring the branch back without pushing it.
        #[arg(long)]
        no_push: bool,
        /// Do not ask.
        #[arg(long, short)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
}

/// Flags `run` and `launch` share.
#[derive(clap::Args, Debug)]
pub struct Common {
    /// Work on this branch (created from the host's HEAD, or continued from the
    /// host's branch of that name) instead of `AGENT/session-N`.
    #[arg(long, value_name = "B")]
    pub branch: Option<String>,
    /// On removal, bring the branch back without pushing it.
    #[arg(long)]
    pub no_push: bool,
    /// The workspace's network profile (default for agents: proxy).
    #[arg(long, value_name = "P")]
    pub net_profile: Option<String>,
    /// Start even with uncommitted changes in the repository (they are not in the
    /// session's clone).
    #[arg(long)]
    pub force: bool,
}

pub async fn run(ctx: &Ctx, action: AgentAction) -> Result<i32> {
    match action {
        AgentAction::Run {
            agent,
            repo,
            prompt,
            common,
            use_current_branch,
        } => {
            let choice = match (&common.branch, use_current_branch) {
                (_, true) => BranchChoice::Current,
                (Some(b), _) => BranchChoice::Named(b.clone()),
                (None, false) => BranchChoice::Next,
            };
            super::agent_run::run(ctx, agent, repo, prompt, common, choice).await
        }
        AgentAction::Launch {
            agent,
            repo,
            common,
        } => {
            let choice = match &common.branch {
                Some(b) => BranchChoice::Named(b.clone()),
                None => BranchChoice::Next,
            };
            super::agent_run::launch(ctx, agent, repo, common, choice).await
        }
        AgentAction::Connect { name } => connect(ctx, &name).await,
        AgentAction::Ls { json, agents } if agents => list_agents(ctx, json),
        AgentAction::Ls { json, .. } => super::agent_ls::list(ctx, json).await,
        AgentAction::Rm {
            name,
            no_push,
            yes,
            json,
        } => rm(ctx, &name, no_push, yes, json).await,
    }
}

/// Replaces this process with `ssh -t ... tmux attach -t agent`.
async fn connect(ctx: &Ctx, name: &str) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    let (s, w) = agent_session::find(ctx, name).await?;
    if w.state != WorkspaceState::Running {
        bail!(
            "session {name} is {}; start it with `berth start {name}` (its agent then needs `berth agent rm {name}` and a new launch)",
            w.status_word()
        );
    }
    if s.ephemeral {
        eprintln!("note: {name} is a `berth agent run` session; attaching to its tmux session only works for `berth agent launch`");
    }
    let args = ssh_cmd::target(ctx, &w).await?.args(&ctx.paths);
    let mut argv = vec!["-t".to_string()];
    argv.extend(args);
    argv.push(format!(
        "tmux attach -t {TMUX_SESSION} || {{ echo \"berth: the agent's tmux session is gone (it exited); remove the session with berth agent rm {name}\" >&2; exit 1; }}"
    ));
    // exec skips every drop: end an ssh engine's master now.
    crate::engine::ssh_dial::end_all().await;
    let err = std::process::Command::new("ssh")
        .args(&argv)
        .env(
            "TERM",
            std::env::var("TERM").unwrap_or_else(|_| "xterm-256color".into()),
        )
        .exec();
    bail!("cannot run ssh ({err}); install the OpenSSH client (`sudo apt-get install openssh-client`)")
}

fn list_agents(ctx: &Ctx, json: bool) -> Result<i32> {
    let agents: Vec<&AgentDef> = ctx.config.agents.values().collect();
    if json {
        println!("{}", serde_json::to_string_pretty(&agents)?);
        return Ok(0);
    }
    println!(
        "{:<12} {:<10} {:<24} {:<14} DESCRIPTION",
        "AGENT", "PROFILE", "COMMAND", "SOURCE"
    );
    for a in agents {
        let source = if a.source == "built-in" {
            "built-in"
        } else {
            "config"
        };
        println!(
            "{:<12} {:<10} {:<24} {:<14} {}",
            a.name,
            a.profile,
            a.command.join(" "),
            source,
            a.description
        );
    }
    Ok(0)
}

/// Commits on the session's branch beyond its base (None: not running or no repo).
pub(super) async fn ahead(ctx: &Ctx, s: &AgentSession, w: &Workspace) -> Option<u32> {
    if s.repo.is_none() || w.state != WorkspaceState::Running {
        return None;
    }
    let out = provision::run_script(
        ctx.engine.as_ref(),
        &w.container,
        "counting commits",
        "cd \"$1\" && git rev-list --count \"$2..refs/heads/$3\"",
        &[&s.clone, &s.base_commit, &s.branch],
        Vec::new(),
    )
    .await
    .ok()?;
    out.trim().parse().ok()
}

async fn rm(ctx: &Ctx, name: &str, no_push: bool, yes: bool, json: bool) -> Result<i32> {
    let (s, _) = agent_session::find(ctx, name).await?;
    if !yes {
        let what = match &s.repo {
            Some(r) => format!(
                "Remove session {name}? Its branch {} is brought back into {r}{} and its workspace deleted.",
                s.branch,
                if no_push || s.no_push { "" } else { " and pushed" }
            ),
            None => format!("Remove session {name}? Its workspace (without a repository) is deleted with all it holds."),
        };
        if !super::confirm::ask(what, "removed").await? {
            eprintln!("Nothing was removed.");
            return Ok(1);
        }
    }
    let r = agent_remove::remove(ctx, &s, !no_push).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        println!("{}", removed_text(&s, &r));
    }
    Ok(0)
}

/// What a removal did, as a sentence.
pub fn removed_text(s: &AgentSession, r: &agent_remove::Removed) -> String {
    match (&r.brought_back, &s.repo) {
        (Some(b), Some(repo)) => format!(
            "Session {} removed. Branch {} ({} commit(s) ahead, at {}) is in {repo}; {}.",
            r.name,
            b.branch,
            b.ahead,
            &b.commit[..b.commit.len().min(12)],
            match (&r.pushed_to, &r.push_skipped) {
                (Some(remote), _) => format!("pushed to {remote}"),
                (None, Some(why)) => format!("not pushed: {why}"),
                (None, None) => "not pushed".into(),
            }
        ),
        _ => format!("Session {} removed (it had no repository).", r.name),
    }
}

/// The current directory (for REPO's default).
pub fn cwd() -> Result<PathBuf> {
    std::env::current_dir().context("cannot read the current directory")
}
