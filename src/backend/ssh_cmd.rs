//! The one place that builds an ssh command line for a workspace: its port, the
//! pinned host key (pinned now through the engine if it is missing) and the
//! identities to offer. Used by `berth ssh`, shell tabs in the TUI and the TUI's
//! "copy the ssh command".
use super::ssh_route::{self, Route};
use super::{keys, lifecycle, sshd, Ctx};
use crate::domain::env::shell_quote;
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::net_isolation::ssh_through_engine;
use crate::domain::workspace::{Workspace, WorkspaceState};
use crate::ssh_client::{self, Target};
use anyhow::{bail, Context, Result};

/// The workspace user's login shell in a shell tab: bash if present, else sh.
pub const DEFAULT_REMOTE: &str =
    "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";

/// The user's login shell, for `berth ssh NAME` in a default directory.
const LOGIN_SHELL: &str = "exec \"${SHELL:-/bin/sh}\" -l";

/// A remote command run in `dir` (the workspace's default directory); a missing
/// directory is said and the command runs in the home instead.
pub fn in_dir(dir: &str, remote: &str) -> String {
    let q = shell_quote(dir);
    format!(
        "cd {q} 2>/dev/null || echo \"berth: {} is missing; staying in the home\" >&2; {remote}",
        dir.replace(['"', '\\', '$', '`'], "")
    )
}

/// What the command is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purpose {
    /// `berth ssh NAME [-- CMD...]`.
    Ssh { cmd: Vec<String> },
    /// An interactive shell in a TUI tab (`ssh -tt` and the configured remote
    /// command, or `remote` when given, e.g. attaching to an agent's tmux session).
    Tab { remote: Option<String> },
    /// A command line a person can paste.
    Copy,
}

/// argv (program first) and extra environment for the ssh process.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshCommand {
    pub argv: Vec<String>,
    pub env: Vec<(String, String)>,
}

/// Can ssh reach `w` at all: through its port, or through the engine (offline)?
pub fn reachable(w: &Workspace) -> bool {
    w.ssh_port.is_some() || ssh_through_engine(w.net_profile())
}

/// How ssh reaches workspace `w`: its port (or, offline, `berth ssh-proxy` through
/// the engine), its host key (pinned now through the engine when missing and it
/// runs) and the identities to offer.
pub async fn target(ctx: &Ctx, w: &Workspace) -> Result<Target> {
    let name = WorkspaceName::parse(&w.name)?;
    // The workspace's own engine decides where its port is.
    let on;
    let ctx = if w.engine.is_empty() || w.engine == ctx.engine_name() {
        ctx
    } else {
        on = ctx.on(&w.engine).await?;
        &on
    };
    let host = ssh_client::connect_host(ctx.config.bind_address);
    let through_engine = || super::ssh_exec::proxy_command_here(ctx, name.as_str());
    let (port, proxy) = match (w.ssh_port, ssh_route::route_of(ctx)) {
        (Some(p), Route::Here) => (p, None),
        (Some(p), Route::Jump(h)) => (p, Some(ssh_route::jump_command(&h, &host, p))),
        (Some(_), Route::ThroughEngine) => (0, Some(through_engine()?)),
        (None, _) if ssh_through_engine(w.net_profile()) => (0, Some(through_engine()?)),
        (None, _) => bail!("the workspace has no SSH port label"),
    };
    let alias = ssh_route::alias_here(ctx, &name);
    let pinned = ssh_client::known_hosts_file(&ctx.paths, &alias);
    if w.state == WorkspaceState::Running && !tokio::fs::try_exists(&pinned).await.unwrap_or(false)
    {
        sshd::pin_host_key(ctx, &name)
            .await
            .context("cannot pin the workspace's host key")?;
    }
    Ok(Target {
        alias,
        host,
        port,
        identities: keys::identities(ctx, name.as_str()).await?,
        forward_agent: super::provision::ssh_agent::ssh_forwards_agent(w),
        proxy,
    })
}

pub async fn build(ctx: &Ctx, name: &WorkspaceName, purpose: Purpose) -> Result<SshCommand> {
    let w = lifecycle::find(ctx, name).await?;
    if w.state != WorkspaceState::Running {
        bail!(
            "workspace {name} is {}; start it with `berth start {name}`",
            w.status_word()
        );
    }
    let args = target(ctx, &w).await?.args(&ctx.paths);
    let workdir = w.labels.get(labels::WORKDIR).map(String::as_str);
    let mut argv = vec!["ssh".to_string()];
    let mut env = Vec::new();
    match purpose {
        Purpose::Ssh { cmd } => match workdir {
            // A login shell in the default directory needs a terminal of its own.
            Some(dir) if cmd.is_empty() => {
                argv.push("-t".into());
                argv.extend(args);
                argv.push(in_dir(dir, LOGIN_SHELL));
            }
            Some(dir) => {
                argv.extend(args);
                argv.push(in_dir(dir, &cmd.join(" ")));
            }
            None => {
                argv.extend(args);
                argv.extend(cmd);
            }
        },
        Purpose::Copy => argv.extend(args),
        Purpose::Tab { remote } => {
            argv.push("-tt".into());
            for o in [
                "LogLevel=ERROR",
                "ServerAliveInterval=10",
                "ServerAliveCountMax=3",
                "SetEnv=COLORTERM=truecolor",
            ] {
                argv.extend(["-o".to_string(), o.to_string()]);
            }
            argv.extend(args);
            let shell = remote
                .as_deref()
                .or(ctx.config.shell.as_deref())
                .unwrap_or(DEFAULT_REMOTE);
            argv.push(match workdir {
                Some(dir) => in_dir(dir, shell),
                None => shell.to_string(),
            });
            env.push(("TERM".into(), "xterm-256color".into()));
        }
    }
    Ok(SshCommand { argv, env })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_commands_start_in_the_default_directory() {
        assert_eq!(
            in_dir("/home/workspace/repo", "make test"),
            "cd '/home/workspace/repo' 2>/dev/null || echo \"berth: /home/workspace/repo is missing; staying in the home\" >&2; make test"
        );
        // Quoted for the remote shell, whatever the directory's name.
        let c = in_dir("/w/it's $x", LOGIN_SHELL);
        assert!(c.starts_with("cd '/w/it'\\''s $x' "), "{c}");
        assert!(c.ends_with("exec \"${SHELL:-/bin/sh}\" -l"), "{c}");
    }
}
