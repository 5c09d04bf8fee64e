//! Talking to a workspace's sshd: wait for its banner, pin its host key, install keys.
use super::Ctx;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{WorkspaceState, HOST_KEY_PUB, WORKSPACE_USER};
use crate::engine::{exec_collect, ExecRequest};
use crate::ssh_client;
use anyhow::{anyhow, bail, Context, Result};
use std::time::{Duration, Instant};
use tokio::io::AsyncBufReadExt;

/// How long a fresh workspace may take to answer on its SSH port.
pub const SSH_WAIT: Duration = Duration::from_secs(90);

/// Reads the SSH identification line from `host:port` (one attempt).
pub(super) async fn banner(host: &str, port: u16) -> Result<String> {
    let stream = tokio::time::timeout(
        Duration::from_secs(2),
        tokio::net::TcpStream::connect((host, port)),
    )
    .await
    .context("connect timed out")??;
    let mut reader = tokio::io::BufReader::new(stream);
    let mut line = String::new();
    tokio::time::timeout(Duration::from_secs(3), reader.read_line(&mut line))
        .await
        .context("no banner")??;
    Ok(line.trim_end().to_string())
}

/// Waits until sshd answers with an `SSH-2.0` banner, failing early if the
/// container stops (with the tail of its log in the message).
pub async fn wait_for_ssh(ctx: &Ctx, name: &WorkspaceName, port: u16) -> Result<()> {
    let host = ssh_client::connect_host(ctx.config.bind_address);
    let started = Instant::now();
    let mut last_err;
    let mut tries = 0u32;
    loop {
        match banner(&host, port).await {
            Ok(b) if b.starts_with("SSH-2.0") => return Ok(()),
            Ok(b) => last_err = format!("unexpected banner {b:?}"),
            Err(e) => last_err = e.to_string(),
        }
        tries += 1;
        if tries.is_multiple_of(10) {
            let ws = ctx.engine.inspect_workspace(&name.container()).await?;
            match ws.map(|w| w.state) {
                Some(WorkspaceState::Running) | Some(WorkspaceState::Restarting) => {}
                other => {
                    let logs = log_tail(ctx, &name.container(), 15).await;
                    bail!(
                        "the container is {} instead of running; its last output:\n{logs}",
                        other.map_or("gone", |s| s.as_str())
                    );
                }
            }
        }
        if started.elapsed() > SSH_WAIT {
            bail!(
                "sshd did not answer on {host}:{port} within {}s ({last_err})",
                SSH_WAIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The last `n` log lines of a container, for error messages.
pub async fn log_tail(ctx: &Ctx, container: &str, n: usize) -> String {
    use futures_util::StreamExt;
    let opts = crate::engine::LogOptions {
        follow: false,
        tail: Some(n),
        timestamps: false,
    };
    let mut s = ctx.engine.logs(container, opts);
    let mut text = Vec::new();
    while let Some(Ok(chunk)) = s.next().await {
        match chunk {
            crate::engine::Output::Stdout(b) | crate::engine::Output::Stderr(b) => text.extend(b),
        }
    }
    String::from_utf8_lossy(&text).trim_end().to_string()
}

/// Appends public keys to authorized_keys, skipping lines already there.
pub async fn install_keys(ctx: &Ctx, name: &WorkspaceName, keys: &[String]) -> Result<()> {
    let script = "umask 077; mkdir -p ~/.ssh; f=~/.ssh/authorized_keys; touch \"$f\"; \
                  while IFS= read -r k; do [ -z \"$k\" ] && continue; grep -qxF \"$k\" \"$f\" || printf '%s\\n' \"$k\" >> \"$f\"; done";
    let input = keys.join("\n") + "\n";
    let req = ExecRequest {
        cmd: vec!["/bin/sh".into(), "-c".into(), script.into()],
        user: Some(WORKSPACE_USER.into()),
        stdin: Some(Box::new(std::io::Cursor::new(input.into_bytes()))),
        ..Default::default()
    };
    let (out, _, err) = exec_collect(ctx.engine.as_ref(), &name.container(), req).await?;
    if out.exit_code != 0 {
        bail!(
            "writing authorized_keys exited with {}: {}",
            out.exit_code,
            String::from_utf8_lossy(&err).trim()
        );
    }
    Ok(())
}

/// Reads the workspace's host key through the engine (a trusted channel) and pins it.
pub async fn pin_host_key(ctx: &Ctx, name: &WorkspaceName) -> Result<()> {
    let container = name.container();
    // The entrypoint writes the key before starting sshd, which already answered.
    let req = ExecRequest {
        cmd: vec!["cat".into(), HOST_KEY_PUB.into()],
        ..Default::default()
    };
    let (out, stdout, stderr) = exec_collect(ctx.engine.as_ref(), &container, req).await?;
    if out.exit_code != 0 {
        bail!(
            "cannot read {HOST_KEY_PUB}: {}",
            String::from_utf8_lossy(&stderr).trim()
        );
    }
    let line = String::from_utf8_lossy(&stdout).to_string();
    let (kind, key) = ssh_client::parse_public_key(&line)
        .ok_or_else(|| anyhow!("{HOST_KEY_PUB} does not hold a public key"))?;
    let (paths, alias) = (ctx.paths.clone(), super::ssh_route::alias_here(ctx, name));
    tokio::task::spawn_blocking(move || ssh_client::pin_host_key(&paths, &alias, &kind, &key))
        .await
        .map_err(|e| anyhow!("pinning the host key failed: {e}"))??;
    Ok(())
}
