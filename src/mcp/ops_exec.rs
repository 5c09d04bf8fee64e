//! `exec`, `exec_interactive_hint` and the background-job operations berth does
//! not offer. An exec runs as `berth exec` does: the workspace user, its default
//! directory and environment, its secret values hidden from the output.
use super::params::{Args, ToolResult};
use super::Call;
use crate::backend::{hint, lifecycle, provision};
use crate::domain::activity::UseSource;
use crate::domain::env::with_loader_in;
use crate::domain::labels;
use crate::domain::workspace::{WorkspaceState, WORKSPACE_USER};
use crate::engine::{ExecRequest, Output};
use serde_json::{json, Value};
use std::time::Duration;
use tokio::sync::mpsc;

/// The seed's default exec timeout, in seconds.
pub const DEFAULT_TIMEOUT: f64 = 300.0;
/// Output kept per stream; beyond it the rest is counted, not kept.
pub const MAX_OUTPUT: usize = 4 << 20;

/// The sentence for `as_root=true`.
pub const NO_ROOT: &str = "as_root=true is refused: berth workspaces run with every capability dropped and no-new-privileges, so root inside could not install packages or change the system anyway. Put packages in a profile (purpose=..., `berth profiles` lists them) or make a new workspace with setup_commands";

/// The timeout parameter, checked.
pub fn timeout(a: &Args) -> ToolResult<Duration> {
    let t = a.number("timeout")?.unwrap_or(DEFAULT_TIMEOUT);
    if !(t > 0.0 && t.is_finite() && t <= 86_400.0) {
        return Err("timeout must be a number of seconds above 0 (at most 86400)".into());
    }
    Ok(Duration::from_secs_f64(t))
}

/// One stream's output, capped at [`MAX_OUTPUT`].
#[derive(Default)]
struct Capped {
    kept: Vec<u8>,
    dropped: usize,
}

impl Capped {
    fn push(&mut self, b: Vec<u8>) {
        let room = MAX_OUTPUT.saturating_sub(self.kept.len());
        self.kept.extend_from_slice(&b[..room.min(b.len())]);
        self.dropped += b.len().saturating_sub(room);
    }
    fn text(self) -> String {
        let mut s = String::from_utf8_lossy(&self.kept).into_owned();
        if self.dropped > 0 {
            s.push_str(&format!(
                "\n[berth: {} more bytes not kept]\n",
                self.dropped
            ));
        }
        s
    }
}

pub async fn exec(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let ctx = call.ctx;
    let name = a.workspace("container", "exec")?;
    let command = a.required("command", "exec")?;
    let limit = timeout(a)?;
    if a.bool("as_root")? == Some(true) {
        return Err(NO_ROOT.into());
    }
    let w = lifecycle::find(ctx, &name)
        .await
        .map_err(|e| format!("{e:#}"))?;
    if w.state != WorkspaceState::Running {
        return Err(format!(
            "workspace {name} is {}; start it with `berth start {name}`",
            w.state.as_str()
        ));
    }
    let now = chrono::Utc::now().timestamp();
    crate::backend::activity::record(ctx, &w, UseSource::Mcp, now).await;
    let cmd = vec!["/bin/sh".to_string(), "-lc".into(), command];
    let default_dir = w.labels.get(labels::WORKDIR).cloned();
    let (cmd, workdir) = if provision::env::has_loader(&w) {
        (with_loader_in(cmd, default_dir.as_deref()), None)
    } else {
        (cmd, default_dir)
    };
    let req = ExecRequest {
        cmd,
        env: Vec::new(),
        workdir,
        user: Some(WORKSPACE_USER.into()),
        stdin: None,
        timeout: Some(limit),
        // The client's notifications/cancelled kills the command.
        cancel: Some(call.cancel.clone()),
    };
    let (mut red_out, notes) = crate::backend::secrets::redactor_for(ctx, &w).await;
    let mut red_err = red_out.clone();
    for n in notes {
        tracing::warn!(note = %n, "mcp exec");
    }
    let relay = provision::ssh_agent::relay_for(&ctx.paths, &w).await;
    let (tx, mut rx) = mpsc::channel::<Output>(64);
    let engine = ctx.engine.clone();
    let container = w.container.clone();
    let run = async move { engine.exec(&container, req, tx).await };
    let collect = async {
        let (mut out, mut err) = (Capped::default(), Capped::default());
        while let Some(chunk) = rx.recv().await {
            match chunk {
                Output::Stdout(b) => out.push(red_out.push(&b)),
                Output::Stderr(b) => err.push(red_err.push(&b)),
            }
        }
        out.push(red_out.finish());
        err.push(red_err.finish());
        (out, err)
    };
    let (outcome, (out, err)) = tokio::join!(run, collect);
    if let Some(r) = relay {
        r.shutdown().await;
    }
    if *call.cancel.borrow() {
        return Err("cancelled by the client; the command's processes were killed".into());
    }
    let outcome = outcome.map_err(|e| format!("{e:#}"))?;
    Ok(json!({
        "returncode": outcome.exit_code,
        "stdout": out.text(),
        "stderr": err.text(),
        "timed_out": outcome.timed_out,
    }))
}

pub async fn interactive_hint(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let name = a.workspace("container", "exec_interactive_hint")?;
    let h = hint::hint(call.ctx, &name)
        .await
        .map_err(|e| format!("{e:#}"))?;
    Ok(json!({
        "command": h.berth,
        "shell": h.shell,
        "ssh": h.command,
        "docker": h.docker,
        "workdir": h.workdir,
    }))
}

/// exec_background, exec_poll, exec_cancel: not offered; the sentence says what
/// to do instead.
pub fn background(op: &str) -> String {
    format!("{op} is not offered by berth's MCP server: berth keeps no job table of its own. Run the command in a detached tmux session inside the workspace instead (exec with command=\"tmux new-session -d -s job1 'CMD > ~/job1.log 2>&1; echo $? > ~/job1.exit'\"), read its progress with exec (\"tail -n 100 ~/job1.log; cat ~/job1.exit\") and stop it with exec (\"tmux kill-session -t job1\"); a person can watch it with `berth ssh NAME` then `tmux attach -t job1`")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timeouts_default_to_the_seeds_and_bad_ones_are_refused() {
        let m = serde_json::Map::new();
        assert_eq!(timeout(&Args(&m)).unwrap(), Duration::from_secs(300));
        for bad in [
            serde_json::json!(0),
            serde_json::json!(-1),
            serde_json::json!("x"),
        ] {
            let mut m = serde_json::Map::new();
            m.insert("timeout".into(), bad);
            assert!(timeout(&Args(&m)).is_err());
        }
    }

    #[test]
    fn output_beyond_the_cap_is_counted_not_kept() {
        let mut c = Capped::default();
        c.push(vec![b'a'; MAX_OUTPUT - 1]);
        c.push(b"bcd".to_vec());
        let t = c.text();
        assert!(t.starts_with("aaa") && t.contains("ab\n[berth: 2 more bytes not kept]"));
    }

    #[test]
    fn background_jobs_name_the_alternative() {
        let s = background("exec_background");
        assert!(s.contains("tmux new-session -d") && s.contains("exec_background is not offered"));
    }
}
