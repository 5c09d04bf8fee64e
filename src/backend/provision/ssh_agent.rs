//! SSH forwarding (`--forward-ssh`, `[forward] ssh`): the host's ssh-agent made
//! available inside, keys never entering the workspace; without an agent, the
//! host's `~/.ssh` bound read-only beside the workspace's own, with a warning.
//!
//! Why a relay: the workspace runs as uid 1000 with every capability dropped, so the
//! host's agent socket (another uid's, mode 0600) cannot be used through a plain
//! bind. Instead each workspace made with an agent gets a directory of its own on the
//! host, `<state>/agent/<name>` (0711 inside the 0700 state directory, so no other
//! host user reaches it), bound at `/run/berth-agent`. `SSH_AUTH_SOCK` inside is
//! `/run/berth-agent/agent.sock` (container config and /etc/berth/env: public, a
//! path). That socket is served by a berth process ([`super::agent_relay`]) which
//! forwards each connection to its own `$SSH_AUTH_SOCK`.
//!
//! What works when:
//! - during the create, from this step on: a relay runs until the create ends, so
//!   dotfiles, setup commands and `--post-start` can clone private repositories;
//! - `berth exec NAME`: a relay runs while the command does;
//! - `berth ssh NAME`, the TUI's shell tabs and `ssh berth-NAME` (after `berth
//!   ssh-config`): ssh's own agent forwarding (`ForwardAgent yes` for workspaces
//!   made with `--forward-ssh`); sshd sets `SSH_AUTH_SOCK` to its forwarded socket,
//!   which wins over /etc/berth/env. This needs nothing from berth while it lasts;
//! - a plain `docker exec`: only while some berth relay for the workspace runs.
//!
//! The relay and the binds need the engine on this machine (a bind's source is the
//! engine's host); with a remote engine only ssh's forwarding works.
//!
//! The workspace's mounts are fixed at create: the mode chosen then (label
//! [`ssh_forward::LABEL`]) stays. Deleting the workspace removes its directory,
//! which ends any relay still serving it.
use super::agent_relay::Relay;
use super::note;
use crate::backend::{Ctx, ProgressFn};
use crate::config::Paths;
use crate::domain::create_options::Forward;
use crate::domain::labels;
use crate::domain::ssh_forward::{self as sf, NoAgent, SshForward};
use crate::domain::workspace::Workspace;
use crate::engine::Bind;
use anyhow::{Context, Result};
use std::path::PathBuf;
use std::time::Duration;

/// How long the host's agent has to accept a connection before it counts as absent.
const AGENT_CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// The per-workspace directory's mode: the workspace user traverses it, no listing.
const DIR_MODE: u32 = 0o711;

/// The host directory bound at [`sf::AGENT_DIR`] in workspace `name`.
pub fn host_dir(paths: &Paths, name: &str) -> PathBuf {
    paths.state_dir.join("agent").join(name)
}

/// The relay's socket on the host for workspace `name`.
pub fn host_socket(paths: &Paths, name: &str) -> PathBuf {
    host_dir(paths, name).join(sf::SOCKET_NAME)
}

/// This process's agent: `$SSH_AUTH_SOCK` when something accepts connections there.
pub async fn host_agent() -> Result<PathBuf, NoAgent> {
    let Some(p) = std::env::var_os("SSH_AUTH_SOCK").filter(|p| !p.is_empty()) else {
        return Err(NoAgent::Unset);
    };
    let p = PathBuf::from(p);
    match tokio::time::timeout(AGENT_CONNECT_TIMEOUT, tokio::net::UnixStream::connect(&p)).await {
        Ok(Ok(_)) => Ok(p),
        Ok(Err(e)) => Err(NoAgent::Unreachable(format!("{}: {e}", p.display()))),
        Err(_) => Err(NoAgent::Unreachable(format!("{}: timed out", p.display()))),
    }
}

/// What the container step decided for `--forward-ssh`.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub mode: SshForward,
    why: Option<NoAgent>,
    upstream: Option<PathBuf>,
    socket: PathBuf,
    host_ssh: PathBuf,
    owner_uid: u32,
}

impl Prepared {
    /// The container's binds for this mode.
    pub fn binds(&self) -> Vec<Bind> {
        match self.mode {
            SshForward::Agent => self
                .socket
                .parent()
                // Read-only: connecting to a socket needs no write access, and the
                // workspace can then never swap the relay's socket for a link (the
                // relay sets the socket's mode by path).
                .map(|d| Bind {
                    host: d.to_path_buf(),
                    path: sf::AGENT_DIR.into(),
                    read_only: true,
                })
                .into_iter()
                .collect(),
            SshForward::HostSshDir => vec![Bind {
                host: self.host_ssh.clone(),
                path: sf::HOST_SSH_DIR.into(),
                read_only: true,
            }],
            SshForward::Nothing => vec![],
        }
    }
}

/// Looks at the host (its agent, its `~/.ssh`) and makes the workspace's agent
/// directory when there is an agent. Called before the container is created.
pub async fn prepare(ctx: &Ctx, name: &str) -> Result<Prepared> {
    let agent = host_agent().await;
    let host_ssh = ctx.paths.home.join(".ssh");
    let ssh_meta = tokio::fs::metadata(&host_ssh)
        .await
        .ok()
        .filter(|m| m.is_dir());
    use std::os::unix::fs::MetadataExt;
    let owner_uid = ssh_meta.as_ref().map(|m| m.uid()).unwrap_or(0);
    let mode = SshForward::choose(agent.is_ok(), ssh_meta.is_some());
    let socket = host_socket(&ctx.paths, name);
    if mode == SshForward::Agent {
        make_dir(host_dir(&ctx.paths, name)).await?;
    }
    Ok(Prepared {
        mode,
        why: agent.as_ref().err().cloned(),
        upstream: agent.ok(),
        socket,
        host_ssh,
        owner_uid,
    })
}

/// Makes `dir` (0711) under the 0700 `agent` directory of the state directory.
async fn make_dir(dir: PathBuf) -> Result<()> {
    tokio::task::spawn_blocking(move || -> Result<()> {
        use std::os::unix::fs::PermissionsExt;
        if let Some(parent) = dir.parent() {
            crate::private_fs::ensure_dir(parent)?;
        }
        match std::fs::create_dir(&dir) {
            Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                return Err(e).with_context(|| format!("cannot create {}", dir.display()))
            }
            _ => {}
        }
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(DIR_MODE))
            .with_context(|| format!("cannot set the mode of {}", dir.display()))
    })
    .await?
}

/// The create's ssh-agent step: starts the relay that serves the create's later
/// steps, and says what was forwarded (a warning for the `~/.ssh` fallback).
pub async fn at_create(
    name: &str,
    p: &Prepared,
    progress: ProgressFn<'_>,
) -> Result<Option<Relay>> {
    let host_ssh = p.host_ssh.display().to_string();
    let why = p.why.clone().unwrap_or(NoAgent::Unset);
    match (p.mode, &p.upstream) {
        (SshForward::Agent, Some(up)) => {
            note(progress, sf::agent_note(name)).await;
            Ok(Some(Relay::start(p.socket.clone(), up.clone()).await))
        }
        (SshForward::HostSshDir, _) => {
            note(progress, sf::fallback_warning(&why, &host_ssh, p.owner_uid)).await;
            Ok(None)
        }
        _ => {
            note(progress, sf::nothing_note(&why, &host_ssh)).await;
            Ok(None)
        }
    }
}

/// What `--forward-ssh` gave workspace `w` (`None`: it was made without).
pub fn mode_of(w: &Workspace) -> Option<SshForward> {
    ssh_forwards_agent(w)
        .then(|| {
            w.labels
                .get(sf::LABEL)
                .and_then(|l| SshForward::from_label(l))
        })
        .flatten()
}

/// Whether ssh into `w` forwards the client's agent (`ForwardAgent yes`): for every
/// workspace made with `--forward-ssh`, whatever agent the host had then.
pub fn ssh_forwards_agent(w: &Workspace) -> bool {
    w.labels
        .get(labels::FORWARD)
        .is_some_and(|f| Forward::from_label(f).ssh)
}

/// A relay for a berth command working in `w` (`berth exec`), while it runs.
pub async fn relay_for(paths: &Paths, w: &Workspace) -> Option<Relay> {
    if mode_of(w) != Some(SshForward::Agent) {
        return None;
    }
    let dir = host_dir(paths, &w.name);
    if !tokio::fs::try_exists(&dir).await.unwrap_or(false) {
        return None;
    }
    match host_agent().await {
        Ok(up) => Some(Relay::start(host_socket(paths, &w.name), up).await),
        Err(_) => None,
    }
}

/// Before a start: makes the agent directory again if it went missing (the engine
/// refuses to start a container whose bind source is gone).
pub async fn ensure_dir(paths: &Paths, w: &Workspace) -> Result<()> {
    if mode_of(w) == Some(SshForward::Agent) {
        make_dir(host_dir(paths, &w.name)).await?;
    }
    Ok(())
}

/// Removes workspace `name`'s agent directory (delete, rollback): a relay still
/// serving it ends by itself.
pub async fn forget(paths: &Paths, name: &str) {
    let dir = host_dir(paths, name);
    if let Err(e) = tokio::fs::remove_dir_all(&dir).await {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!("cannot remove {}: {e}", dir.display());
        }
    }
}

#[cfg(test)]
#[path = "ssh_agent_tests.rs"]
mod tests;
