//! exec in the memory engine: the test's handler decides output and status.
use super::state::State;
use super::{MemoryEngine, Op};
use crate::engine::{
    exec_cancelled, EngineError, EngineResult, ExecOutcome, ExecRequest, Output, EXEC_CANCELLED,
};
use std::sync::Arc;
use std::time::Duration;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

/// An exec as the handler sees it.
#[derive(Debug, Clone)]
pub struct ExecCall {
    pub container: String,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: Option<String>,
    pub workdir: Option<String>,
    pub stdin: Vec<u8>,
}

/// What an exec does: its output, exit code and how long it runs (tokio time).
#[derive(Debug, Clone, Default)]
pub struct ExecReply {
    pub stdout: Vec<u8>,
    pub stderr: Vec<u8>,
    pub exit_code: i64,
    pub takes: Duration,
}

pub type ExecHandler = Arc<dyn Fn(&ExecCall) -> ExecReply + Send + Sync>;

pub(super) async fn run(
    eng: &MemoryEngine,
    container: &str,
    mut req: ExecRequest,
    out: mpsc::Sender<Output>,
) -> EngineResult<ExecOutcome> {
    let (name, handler) = {
        let mut s = eng.inner.lock();
        s.enter(Op::Exec)?;
        let c = s
            .find(container)
            .ok_or_else(|| State::not_found(container))?;
        if !c.running() {
            return Err(EngineError::Conflict(format!(
                "Container {} is not running",
                c.id
            )));
        }
        (c.name.clone(), s.exec.clone())
    };
    let mut stdin = Vec::new();
    if let Some(mut src) = req.stdin.take() {
        src.read_to_end(&mut stdin)
            .await
            .map_err(|e| EngineError::Api(format!("exec stdin: {e}")))?;
    }
    let call = ExecCall {
        container: name.clone(),
        cmd: req.cmd.clone(),
        env: req.env.clone(),
        user: req.user.clone(),
        workdir: req.workdir.clone(),
        stdin,
    };
    let action = format!("exec_start: {}", req.cmd.join(" "));
    eng.inner.update(|s| s.event(&name, &action));
    let reply = handler(&call);
    for (chunk, wrap) in [
        (reply.stdout, Output::Stdout as fn(Vec<u8>) -> Output),
        (reply.stderr, Output::Stderr),
    ] {
        if !chunk.is_empty() && out.send(wrap(chunk)).await.is_err() {
            break;
        }
    }
    let (takes, outcome) = match req.timeout {
        Some(limit) if reply.takes > limit => (
            limit,
            ExecOutcome {
                exit_code: 124,
                timed_out: true,
            },
        ),
        _ => (
            reply.takes,
            ExecOutcome {
                exit_code: reply.exit_code,
                timed_out: false,
            },
        ),
    };
    let outcome = tokio::select! {
        _ = tokio::time::sleep(takes) => Ok(outcome),
        _ = exec_cancelled(req.cancel.take()) => Err(EngineError::Api(EXEC_CANCELLED.into())),
    };
    eng.inner.update(|s| s.event(&name, "exec_die"));
    outcome
}
