//! SSH through the engine, for workspaces without a network (`offline`): nothing
//! is published, so `ssh` runs `berth ssh-proxy NAME` as its `ProxyCommand`,
//! which execs the workspace's sshd in inetd mode (`sshd -i`, its own config, as
//! the workspace user) and pipes the connection through the exec's stdin and
//! stdout. The client side is unchanged: the pinned host key, berth's keys and
//! agent forwarding work as over a port.
use super::{lifecycle, sshd, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{WorkspaceState, WORKSPACE_USER};
use crate::engine::{exec_collect, ExecRequest, Output};
use anyhow::{bail, Context, Result};
use std::path::Path;
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::sync::mpsc;

/// sshd in inetd mode with the workspace's own config: one connection on stdin and
/// stdout. No `-e`: its log lines would land in the client's terminal.
pub const SSHD_INETD: [&str; 4] = ["/usr/sbin/sshd", "-i", "-f", "/etc/berth/sshd_config"];

/// The hidden subcommand ssh runs as its `ProxyCommand`.
pub const SUBCOMMAND: &str = "ssh-proxy";

/// The `ProxyCommand` value that reaches workspace `name` through this berth
/// (`exe`) with its config file: quoted for the shell ssh runs it with, and `%`
/// doubled (ssh would expand `%h`-style tokens).
pub fn proxy_command(exe: &Path, config_file: &Path, name: &str) -> String {
    proxy_command_on(exe, config_file, None, name)
}

/// [`proxy_command`] naming the engine (`--engine`), for a berth of several or a
/// workspace off the `default` engine.
pub fn proxy_command_on(
    exe: &Path,
    config_file: &Path,
    engine: Option<&str>,
    name: &str,
) -> String {
    let mut argv = vec![
        exe.display().to_string(),
        "--config".into(),
        config_file.display().to_string(),
    ];
    if let Some(e) = engine {
        argv.extend(["--engine".into(), e.to_string()]);
    }
    argv.extend([SUBCOMMAND.into(), name.into()]);
    crate::ssh_client::shell_join(&argv).replace('%', "%%")
}

/// This berth's `ProxyCommand` for `name` on `ctx`'s engine: it names the engine
/// (`--engine`) with several engines or off `default`, so the proxy asks no other
/// and never lands on another chosen default.
pub fn proxy_command_here(ctx: &Ctx, name: &str) -> Result<String> {
    let exe = std::env::current_exe().context("cannot find berth's own program")?;
    let here = ctx.engine_name();
    let engine =
        (ctx.engines.several() || here != crate::domain::engines::DEFAULT_ENGINE).then_some(here);
    Ok(proxy_command_on(
        &exe,
        &ctx.paths.config_file,
        engine.as_deref(),
        name,
    ))
}

fn inetd_request(stdin: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>>) -> ExecRequest {
    ExecRequest {
        cmd: SSHD_INETD.iter().map(|s| s.to_string()).collect(),
        user: Some(WORKSPACE_USER.into()),
        stdin,
        ..Default::default()
    }
}

/// Waits until sshd answers through the engine with an `SSH-2.0` banner (an sshd
/// in inetd mode with no client: it says its banner and ends), failing early if
/// the container stops.
pub async fn wait_for_sshd(ctx: &Ctx, name: &WorkspaceName) -> Result<()> {
    let started = Instant::now();
    let container = name.container();
    let mut last_err;
    loop {
        let req = ExecRequest {
            timeout: Some(Duration::from_secs(10)),
            ..inetd_request(None)
        };
        match exec_collect(ctx.engine.as_ref(), &container, req).await {
            Ok((_, out, _)) if out.starts_with(b"SSH-2.0") => return Ok(()),
            Ok((o, out, err)) => {
                last_err = format!(
                    "sshd -i exited with {} ({})",
                    o.exit_code,
                    String::from_utf8_lossy(if err.is_empty() { &out } else { &err }).trim()
                )
            }
            Err(e) => last_err = e.to_string(),
        }
        let ws = ctx.engine.inspect_workspace(&container).await?;
        match ws.map(|w| w.state) {
            Some(WorkspaceState::Running) | Some(WorkspaceState::Restarting) => {}
            other => {
                let logs = sshd::log_tail(ctx, &container, 15).await;
                bail!(
                    "the container is {} instead of running; its last output:\n{logs}",
                    other.map_or("gone", |s| s.as_str())
                );
            }
        }
        if started.elapsed() > sshd::SSH_WAIT {
            bail!(
                "sshd did not answer through the engine within {}s ({last_err})",
                sshd::SSH_WAIT.as_secs()
            );
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// `berth ssh-proxy NAME`: one SSH connection on this process's stdin and stdout,
/// to the workspace's sshd through the engine. sshd's own messages go to stderr.
/// Its exit code is sshd's.
pub async fn proxy(ctx: &Ctx, name: &WorkspaceName) -> Result<i32> {
    let w = lifecycle::find(ctx, name).await?;
    if w.state != WorkspaceState::Running {
        bail!(
            "workspace {name} is {}; start it with `berth start {name}`",
            w.status_word()
        );
    }
    // The connection's bytes flow as they come: one chunk in flight at a time is
    // enough (ssh reads its ProxyCommand's output as fast as it can).
    let (tx, mut rx) = mpsc::channel::<Output>(16);
    let engine = ctx.engine.clone();
    let container = w.container.clone();
    let req = inetd_request(Some(Box::new(tokio::io::stdin())));
    let task = tokio::spawn(async move { engine.exec(&container, req, tx).await });
    let (mut out, mut err) = (tokio::io::stdout(), tokio::io::stderr());
    while let Some(chunk) = rx.recv().await {
        let (w, b): (&mut (dyn tokio::io::AsyncWrite + Unpin + Send), _) = match chunk {
            Output::Stdout(b) => (&mut out, b),
            Output::Stderr(b) => (&mut err, b),
        };
        // ssh gone (it closed our stdout): the connection is over.
        if w.write_all(&b).await.is_err() || w.flush().await.is_err() {
            break;
        }
    }
    let outcome = task.await.context("the exec task failed")??;
    Ok(i32::try_from(outcome.exit_code).unwrap_or(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_proxy_command_is_quoted_for_the_shell_and_for_ssh() {
        let c = proxy_command(
            Path::new("/opt/my tools/berth"),
            Path::new("/h/100%/config.toml"),
            "api",
        );
        assert_eq!(
            c,
            "'/opt/my tools/berth' --config /h/100%%/config.toml ssh-proxy api"
        );
        let c = proxy_command_on(Path::new("/b"), Path::new("/c.toml"), Some("far"), "api");
        assert_eq!(c, "/b --config /c.toml --engine far ssh-proxy api");
    }
}
