//! `berth agent run` and `berth agent launch`: start the session, then run the
//! agent (interactive over ssh with a terminal, a prompt as a streamed exec, or
//! detached in tmux), and for `run` remove the session when the agent exits.
use super::agent::{cwd, removed_text, Common};
use super::output::ProgressView;
use crate::backend::agent_session::{self, BranchChoice, StartRequest, Started};
use crate::backend::{agent_remove, ssh_cmd, Ctx};
use crate::domain::agents::{with_secret_env, TMUX_SESSION};
use crate::domain::env::shell_quote;
use crate::domain::workspace::WORKSPACE_USER;
use crate::engine::{ExecRequest, Output};
use anyhow::{anyhow, bail, Result};
use std::io::Write;
use std::path::PathBuf;
use tokio::sync::mpsc;

async fn start(
    ctx: &Ctx,
    agent: String,
    repo: Option<PathBuf>,
    common: &Common,
    branch: BranchChoice,
    ephemeral: bool,
) -> Result<Started> {
    let repo = agent_session::resolve_repo(repo.as_deref(), &cwd()?).await?;
    if repo.is_none() {
        eprintln!("note: no git repository here (and none given): the agent gets an empty workspace and there is no branch to bring back");
    }
    let req = StartRequest {
        agent,
        repo,
        branch,
        no_push: common.no_push,
        net_profile: common.net_profile.clone(),
        force: common.force,
        ephemeral,
    };
    let view = ProgressView::new(false);
    let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
    // Ctrl-C while the workspace is made: the create removes what it made.
    let watcher = tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nberth: cancelling: removing what this session's create made");
            let _ = cancel_tx.send(true);
        }
    });
    let started = agent_session::start(ctx, req, &|p| view.event(p), cancel_rx).await;
    watcher.abort();
    view.finish();
    let started = started?;
    for w in &started.warnings {
        eprintln!("warning: {w}");
    }
    Ok(started)
}

/// The agent's command line inside, as one remote shell command.
fn remote_line(argv: &[String]) -> String {
    argv.iter()
        .map(|a| shell_quote(a))
        .collect::<Vec<_>>()
        .join(" ")
}

pub async fn run(
    ctx: &Ctx,
    agent: String,
    repo: Option<PathBuf>,
    prompt: Option<String>,
    common: Common,
    branch: BranchChoice,
) -> Result<i32> {
    let def = agent_session::agent(ctx, &agent)?;
    if prompt.is_some() && def.prompt.is_empty() {
        bail!("agent {agent} has no prompt command; add prompt = [\"{agent}\", \"-p\"] to [agents.{agent}] in the config file, or run it without --prompt");
    }
    let st = start(ctx, agent, repo, &common, branch, true).await?;
    let s = &st.session;
    match &s.repo {
        Some(_) => eprintln!(
            "Session {}: agent {} on branch {} in {}.",
            s.name, s.agent, s.branch, s.clone
        ),
        None => eprintln!("Session {}: agent {} (no repository).", s.name, s.agent),
    }
    let status = match prompt {
        Some(text) => {
            let mut argv = def.prompt.clone();
            argv.push(text);
            prompt_exec(ctx, &st, with_secret_env(&def.secret_env, &argv)).await
        }
        None => interactive(ctx, &st, with_secret_env(&def.secret_env, &def.command)).await,
    };
    let status = match status {
        Ok(code) => code,
        Err(e) => {
            eprintln!("berth: the agent could not run: {e:#}");
            1
        }
    };
    match agent_remove::remove(ctx, s, !common.no_push).await {
        Ok(r) => {
            eprintln!("{}", removed_text(s, &r));
            Ok(status)
        }
        Err(e) => {
            eprintln!("berth: {e:#}");
            Ok(if status == 0 { 1 } else { status })
        }
    }
}

/// The prompt command as an exec, its output streamed as it comes; its status.
async fn prompt_exec(ctx: &Ctx, st: &Started, argv: Vec<String>) -> Result<i32> {
    // Bounded: the exec waits for this loop to write each chunk out.
    let (tx, mut rx) = mpsc::channel(64);
    let req = ExecRequest {
        cmd: argv,
        user: Some(WORKSPACE_USER.into()),
        workdir: Some(st.session.clone.clone()),
        env: vec!["TERM=dumb".into()],
        ..Default::default()
    };
    let engine = ctx.engine.clone();
    let container = st.workspace.container.clone();
    let mut task = tokio::spawn(async move { engine.exec(&container, req, tx).await });
    let mut interrupted = false;
    loop {
        tokio::select! {
            chunk = rx.recv() => match chunk {
                Some(Output::Stdout(b)) => {
                    let mut o = std::io::stdout().lock();
                    o.write_all(&b)?;
                    o.flush()?;
                }
                Some(Output::Stderr(b)) => {
                    let mut e = std::io::stderr().lock();
                    e.write_all(&b)?;
                    e.flush()?;
                }
                None => break,
            },
            _ = tokio::signal::ctrl_c(), if !interrupted => {
                interrupted = true;
                eprintln!("\nberth: interrupted; removing the session (what the agent committed is brought back)");
                task.abort();
            }
        }
    }
    if interrupted {
        return Ok(130);
    }
    let outcome = (&mut task)
        .await
        .map_err(|e| anyhow!("the agent's exec ended abnormally: {e}"))??;
    Ok(i32::try_from(outcome.exit_code).unwrap_or(1))
}

/// The interactive command over ssh with a terminal; its status.
async fn interactive(ctx: &Ctx, st: &Started, argv: Vec<String>) -> Result<i32> {
    let args = ssh_cmd::target(ctx, &st.workspace).await?.args(&ctx.paths);
    let mut cmd = tokio::process::Command::new("ssh");
    cmd.arg("-t")
        .args(args)
        .arg(ssh_cmd::in_dir(&st.session.clone, &remote_line(&argv)));
    let status = cmd
        .status()
        .await
        .map_err(|e| anyhow!("cannot run ssh ({e}); install the OpenSSH client"))?;
    Ok(status.code().unwrap_or(1))
}

pub async fn launch(
    ctx: &Ctx,
    agent: String,
    repo: Option<PathBuf>,
    common: Common,
    branch: BranchChoice,
) -> Result<i32> {
    let st = start(ctx, agent, repo, &common, branch, false).await?;
    let s = &st.session;
    let argv = with_secret_env(&st.def.secret_env, &st.def.command);
    let script = "TERM=${TERM:-xterm-256color} exec tmux new-session -d -s \"$1\" -c \"$2\" -x 200 -y 50 \"$3\"";
    let r = crate::backend::provision::run_script(
        ctx.engine.as_ref(),
        &st.workspace.container,
        "starting the agent in tmux",
        script,
        &[TMUX_SESSION, &s.clone, &remote_line(&argv)],
        Vec::new(),
    )
    .await;
    if let Err(e) = r {
        bail!(
            "{e:#}; session {} is kept (remove it with `berth agent rm {}`)",
            s.name,
            s.name
        );
    }
    let _ = ctx
        .store
        .audit(
            &s.name,
            "agent-launch",
            &format!("agent {} in tmux", s.agent),
        )
        .await;
    match &s.repo {
        Some(_) => println!(
            "Session {} launched: agent {} on branch {} in {}. Attach with `berth agent connect {}` (Ctrl-b d detaches); `berth agent rm {}` brings the branch back.",
            s.name, s.agent, s.branch, s.clone, s.name, s.name
        ),
        None => println!(
            "Session {} launched: agent {} (no repository). Attach with `berth agent connect {}`.",
            s.name, s.agent, s.name
        ),
    }
    Ok(0)
}
