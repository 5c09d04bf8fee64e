//! `berth exec`: run a command in a workspace through the engine.
use crate::backend::{lifecycle, provision, Ctx};
use crate::domain::env::with_loader_in;
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::{WorkspaceState, WORKSPACE_USER};
use crate::engine::{ExecRequest, Output};
use anyhow::{bail, Result};
use std::io::{IsTerminal, Write};
use std::time::Duration;
use tokio::sync::mpsc;

pub async fn run(
    ctx: &Ctx,
    name: &WorkspaceName,
    env: Vec<String>,
    workdir: Option<String>,
    timeout: Option<f64>,
    json: bool,
    cmd: Vec<String>,
) -> Result<i32> {
    if let Some(bad) = env.iter().find(|e| !e.contains('=') || e.starts_with('=')) {
        bail!("--env {bad:?} is not of the form KEY=VALUE");
    }
    let timeout = match timeout {
        Some(t) if !(t > 0.0 && t.is_finite()) => {
            bail!("--timeout must be a positive number of seconds")
        }
        Some(t) => Some(Duration::from_secs_f64(t)),
        None => None,
    };
    let w = lifecycle::find(ctx, name).await?;
    if w.state != WorkspaceState::Running {
        bail!(
            "workspace {name} is {}; start it with `berth start {name}`",
            w.state.as_str()
        );
    }
    let now = super::output::now();
    let use_ = crate::domain::activity::UseSource::Exec;
    crate::backend::activity::record(ctx, &w, use_, now).await;
    // Piped input is forwarded; an interactive terminal is not (use `berth ssh` for that).
    let stdin: Option<Box<dyn tokio::io::AsyncRead + Send + Unpin>> =
        (!std::io::stdin().is_terminal()).then(|| Box::new(tokio::io::stdin()) as _);
    // The workspace's default directory (`--workdir` at create, else the clone),
    // unless -w was given; and its environment (public and passed-through values).
    let default_dir = match workdir {
        None => w.labels.get(labels::WORKDIR).cloned(),
        Some(_) => None,
    };
    let (cmd, workdir) = if provision::env::has_loader(&w) {
        // The wrapper falls back to the home when that directory is gone.
        (with_loader_in(cmd, default_dir.as_deref()), workdir)
    } else {
        (cmd, workdir.or(default_dir))
    };
    let req = ExecRequest {
        cmd,
        env,
        workdir,
        user: Some(WORKSPACE_USER.into()),
        stdin,
        timeout,
        cancel: None,
    };
    // Its secret files' values are hidden from the output (`[secret NAME]`), also
    // when one is split across chunks.
    let (mut red_out, notes) = crate::backend::secrets::redactor_for(ctx, &w).await;
    let mut red_err = red_out.clone();
    for n in notes {
        eprintln!("berth: note: {n}");
    }
    // Workspaces made with --forward-ssh reach this process's agent while it runs.
    let relay = crate::backend::provision::ssh_agent::relay_for(&ctx.paths, &w).await;
    let (tx, mut rx) = mpsc::channel::<Output>(64);
    let engine = ctx.engine.clone();
    let container = w.container.clone();
    let task = tokio::spawn(async move { engine.exec(&container, req, tx).await });
    let (mut out_buf, mut err_buf) = (Vec::new(), Vec::new());
    let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
    while let Some(chunk) = rx.recv().await {
        match (json, chunk) {
            (true, Output::Stdout(b)) => out_buf.extend(red_out.push(&b)),
            (true, Output::Stderr(b)) => err_buf.extend(red_err.push(&b)),
            (false, Output::Stdout(b)) => {
                out.write_all(&red_out.push(&b))?;
                out.flush()?;
            }
            (false, Output::Stderr(b)) => err.write_all(&red_err.push(&b))?,
        }
    }
    if json {
        out_buf.extend(red_out.finish());
        err_buf.extend(red_err.finish());
    } else {
        out.write_all(&red_out.finish())?;
        out.flush()?;
        err.write_all(&red_err.finish())?;
    }
    let outcome = task.await??;
    if let Some(r) = relay {
        r.shutdown().await;
    }
    if json {
        let v = serde_json::json!({
            "returncode": outcome.exit_code,
            "stdout": String::from_utf8_lossy(&out_buf),
            "stderr": String::from_utf8_lossy(&err_buf),
            "timed_out": outcome.timed_out,
        });
        println!("{}", serde_json::to_string(&v)?);
    } else if outcome.timed_out {
        eprintln!("berth: the command did not finish within its timeout and was killed");
    }
    let code = exit_status(outcome.exit_code);
    if code.is_none() && !json {
        eprintln!(
            "berth: the engine reported no usable exit status ({}); treating it as a failure",
            outcome.exit_code
        );
    }
    Ok(code.unwrap_or(1))
}

/// berth's exit status for a command's: 0-255 as they are; anything else (-1 when
/// the engine could not tell) is not a success.
pub fn exit_status(code: i64) -> Option<i32> {
    (0..=255).contains(&code).then_some(code as i32)
}

#[cfg(test)]
mod tests {
    #[test]
    fn unknown_exit_codes_are_failures() {
        assert_eq!(super::exit_status(0), Some(0));
        assert_eq!(super::exit_status(3), Some(3));
        assert_eq!(super::exit_status(255), Some(255));
        assert_eq!(super::exit_status(-1), None);
        assert_eq!(super::exit_status(256), None);
    }
}
