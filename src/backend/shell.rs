//! The command line that opens an interactive shell in a workspace: `ssh -tt`
//! through its port with the pinned host key (see `crate::shell` for why ssh).
use super::{lifecycle, sshd, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use crate::ssh_client;
use anyhow::{bail, Context, Result};

/// The workspace user's login shell: bash if present, else sh.
pub const DEFAULT_REMOTE: &str =
    "if command -v bash >/dev/null 2>&1; then exec bash -l; else exec sh -l; fi";

pub async fn prepare(ctx: &Ctx, name: &str) -> Result<(Vec<String>, Vec<(String, String)>)> {
    let name = WorkspaceName::parse(name)?;
    let w = lifecycle::find(ctx, &name).await?;
    if w.state != WorkspaceState::Running {
        bail!("{name} is {}; start it first", w.state.as_str());
    }
    let port = w.ssh_port.context("the workspace has no SSH port label")?;
    let alias = name.ssh_alias();
    if !ssh_client::known_hosts_file(&ctx.paths, &alias).exists() {
        sshd::pin_host_key(ctx, &name)
            .await
            .context("cannot pin the workspace's host key")?;
    }
    let identities = ctx.store.identities(name.as_str())?;
    let host = ssh_client::connect_host(ctx.config.bind_address);
    let mut argv = vec!["ssh".to_string(), "-tt".to_string()];
    for o in [
        "LogLevel=ERROR",
        "ServerAliveInterval=10",
        "ServerAliveCountMax=3",
        "SetEnv=COLORTERM=truecolor",
    ] {
        argv.extend(["-o".to_string(), o.to_string()]);
    }
    argv.extend(ssh_client::ssh_args(
        &ctx.paths,
        &alias,
        &host,
        port,
        &identities,
    ));
    argv.push(
        ctx.config
            .shell
            .clone()
            .unwrap_or_else(|| DEFAULT_REMOTE.to_string()),
    );
    Ok((argv, vec![("TERM".into(), "xterm-256color".into())]))
}
