//! The server loop: lines in, each request answered; tool calls run side by side
//! (a ping or a list is answered while a create runs), each owned by the loop's
//! JoinSet; every line out goes through one bounded channel to one writer task.
use super::params::Args;
use super::progress::McpProgress;
use super::record::{self, Recorder};
use super::{operation, protocol, schema, Call};
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::domain::preflight::{Check, Preflight};
use crate::store::Store;
use anyhow::Result;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;
use tokio::io::{AsyncBufRead, AsyncBufReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, watch, Mutex};
use tokio::task::JoinSet;

/// Lines waiting for the writer (a slow client slows the senders down).
const OUT_CAPACITY: usize = 256;

/// What every call shares.
pub struct Shared {
    /// The backend context; None while the engine cannot be reached (tried again
    /// at each call when `reconnect` is set).
    ctx: Mutex<Option<Ctx>>,
    reconnect: Option<(Paths, Config)>,
    recorder: Recorder,
}

impl Shared {
    /// A server on `ctx` (tests: the in-memory engine).
    pub fn with_ctx(ctx: Ctx) -> Self {
        let store = ctx.store.clone();
        Self {
            ctx: Mutex::new(Some(ctx)),
            reconnect: None,
            recorder: Recorder {
                store,
                pid: std::process::id(),
            },
        }
    }

    /// A server that connects to the engine (again at each call while it cannot).
    pub fn connecting(ctx: Option<Ctx>, paths: Paths, config: Config, store: Store) -> Self {
        Self {
            ctx: Mutex::new(ctx),
            reconnect: Some((paths, config)),
            recorder: Recorder {
                store,
                pid: std::process::id(),
            },
        }
    }

    async fn ctx(&self) -> Result<Ctx, String> {
        let mut slot = self.ctx.lock().await;
        if let Some(c) = slot.as_ref() {
            return Ok(c.clone());
        }
        let Some((paths, config)) = &self.reconnect else {
            return Err("no engine".into());
        };
        // The engine `--engine` (or BERTH_ENGINE, the config's `engine`) names.
        let connected =
            crate::cli::connect_typed(paths.clone(), config.clone(), self.recorder.store.clone())
                .await;
        match connected {
            Ok(Ok(c)) => {
                *slot = Some(c.clone());
                Ok(c)
            }
            Ok(Err(e)) => Err(format!("{e}")),
            Err(e) => Err(format!("{e:#}")),
        }
    }
}

/// Serves one client until its input ends and the calls it started are answered.
/// A call the client cancels (`notifications/cancelled`) is cancelled in the
/// backend (a create rolls back, a copy or snapshot undoes itself).
pub async fn serve<R, W>(shared: Arc<Shared>, input: R, output: W) -> Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
{
    serve_until(shared, input, output, std::future::pending()).await
}

/// [`serve`] until `stop` (SIGTERM or SIGINT for `berth mcp`) completes: then every
/// call still running is cancelled the way a client's `notifications/cancelled`
/// cancels it (a create rolls back, an exec's processes are killed), and the
/// server ends once they have. MCP clients end a server by closing its input,
/// then SIGTERM, then SIGKILL: the calls get their chance to undo before that.
pub async fn serve_until<R, W, S>(shared: Arc<Shared>, input: R, output: W, stop: S) -> Result<()>
where
    R: AsyncBufRead + Unpin,
    W: AsyncWrite + Unpin + Send + 'static,
    S: std::future::Future<Output = ()>,
{
    tokio::pin!(stop);
    let mut stopped = false;
    let (tx, rx) = mpsc::channel::<Value>(OUT_CAPACITY);
    let writer = tokio::spawn(write_lines(rx, output));
    let mut calls: JoinSet<String> = JoinSet::new();
    let mut cancels: HashMap<String, watch::Sender<bool>> = HashMap::new();
    let mut client = String::from("unknown client");
    let mut lines = input.lines();
    loop {
        tokio::select! {
            line = lines.next_line() => {
                let line = match line {
                    Ok(Some(l)) => l,
                    Ok(None) => break,
                    Err(e) => {
                        tracing::warn!(error = %e, "mcp: reading the client's input");
                        break;
                    }
                };
                if line.trim().is_empty() {
                    continue;
                }
                match protocol::parse(&line) {
                    protocol::Incoming::Request { id, method, params } => {
                        if method == "tools/call" {
                            match start_call(&shared, &client, &id, &params, &tx) {
                                Ok((fut, cancel)) => {
                                    cancels.insert(id.to_string(), cancel);
                                    calls.spawn(fut);
                                }
                                Err(reply) => send(&tx, reply).await,
                            }
                            continue;
                        }
                        if method == "initialize" {
                            client = protocol::client_of(&params);
                            tracing::info!(client = %client, "mcp: client connected");
                        }
                        send(&tx, answer(&id, &method, &params)).await;
                    }
                    protocol::Incoming::Notification { method, params } => {
                        if method == "notifications/cancelled" {
                            let key = params["requestId"].to_string();
                            if let Some(c) = cancels.get(&key) {
                                let _ = c.send(true);
                            }
                        }
                    }
                    protocol::Incoming::Response => {}
                    protocol::Incoming::Invalid { id, code, message } => {
                        send(&tx, protocol::error(&id, code, &message)).await;
                    }
                }
            }
            Some(done) = calls.join_next(), if !calls.is_empty() => {
                if let Ok(key) = done {
                    cancels.remove(&key);
                }
            }
            () = &mut stop, if !stopped => {
                stopped = true;
                cancel_all(&cancels, calls.len());
                break;
            }
        }
    }
    // Input ended: the calls running finish (a create half-done is neither left
    // nor undone) and their answers are still written, for a client that closed
    // its side after sending; unless the server is told to stop meanwhile.
    loop {
        tokio::select! {
            done = calls.join_next() => match done {
                None => break,
                Some(Ok(key)) => {
                    cancels.remove(&key);
                }
                Some(Err(_)) => {}
            },
            () = &mut stop, if !stopped => {
                stopped = true;
                cancel_all(&cancels, calls.len());
            }
        }
    }
    drop(tx);
    writer.await??;
    Ok(())
}

/// Cancels every running call (the server is stopping).
fn cancel_all(cancels: &HashMap<String, watch::Sender<bool>>, running: usize) {
    if running > 0 {
        tracing::info!(running, "mcp: stopping; cancelling the calls still running");
    }
    for c in cancels.values() {
        let _ = c.send(true);
    }
}

async fn send(tx: &mpsc::Sender<Value>, v: Value) {
    // Only fails once the writer stopped (the client is gone).
    let _ = tx.send(v).await;
}

async fn write_lines<W: AsyncWrite + Unpin>(
    mut rx: mpsc::Receiver<Value>,
    mut out: W,
) -> Result<()> {
    while let Some(v) = rx.recv().await {
        let mut line = serde_json::to_vec(&v)?;
        line.push(b'\n');
        if let Err(e) = async {
            out.write_all(&line).await?;
            out.flush().await
        }
        .await
        {
            tracing::info!(error = %e, "mcp: the client stopped reading");
            break;
        }
    }
    Ok(())
}

/// Every request but tools/call.
fn answer(id: &Value, method: &str, params: &Value) -> Value {
    match method {
        "initialize" => {
            let version = protocol::negotiate(params["protocolVersion"].as_str());
            protocol::result(
                id,
                protocol::initialize_result(version, env!("CARGO_PKG_VERSION")),
            )
        }
        "ping" => protocol::result(id, json!({})),
        "tools/list" => protocol::result(id, json!({"tools": [schema::tool()]})),
        other => protocol::error(
            id,
            protocol::METHOD_NOT_FOUND,
            &format!("berth's MCP server has no method {other}; it serves initialize, ping, tools/list and tools/call"),
        ),
    }
}

type CallFuture = std::pin::Pin<Box<dyn std::future::Future<Output = String> + Send>>;

/// Checks a tools/call and returns the future that runs it (its result keyed by
/// the request id), or the protocol error to send at once.
fn start_call(
    shared: &Arc<Shared>,
    client: &str,
    id: &Value,
    params: &Value,
    tx: &mpsc::Sender<Value>,
) -> Result<(CallFuture, watch::Sender<bool>), Value> {
    if params["name"].as_str() != Some(schema::TOOL) {
        return Err(protocol::error(
            id,
            protocol::INVALID_PARAMS,
            &format!(
                "unknown tool {}; berth serves one tool, {}",
                params["name"],
                schema::TOOL
            ),
        ));
    }
    let args = match &params["arguments"] {
        Value::Object(m) => m.clone(),
        Value::Null => Map::new(),
        _ => {
            return Err(protocol::error(
                id,
                protocol::INVALID_PARAMS,
                "arguments must be an object",
            ))
        }
    };
    let (cancel_tx, cancel_rx) = watch::channel(false);
    let token = protocol::progress_token(params);
    let fut = run_call(
        shared.clone(),
        client.to_string(),
        id.clone(),
        args,
        token,
        cancel_rx,
        tx.clone(),
    );
    Ok((Box::pin(fut), cancel_tx))
}

async fn run_call(
    shared: Arc<Shared>,
    client: String,
    id: Value,
    args: Map<String, Value>,
    token: Option<Value>,
    cancel: watch::Receiver<bool>,
    tx: mpsc::Sender<Value>,
) -> String {
    let key = id.to_string();
    let op = args
        .get("operation")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    let workspace = record::workspace_of(&op, &args);
    let names = record::param_names(&args);
    let started = Instant::now();
    let rec = &shared.recorder;
    let rec_id = rec.started(&client, &op, &workspace).await;
    tracing::info!(operation = %op, workspace = %workspace, client = %client, "mcp: call");
    let progress = McpProgress::new(tx.clone(), token);
    let result = call(&shared, &op, &args, &progress, cancel.clone()).await;
    let took = started.elapsed().as_millis() as u64;
    let short = record::short_result(&result);
    tracing::info!(operation = %op, workspace = %workspace, took_ms = took, ok = result.is_ok(), "mcp: call done");
    let ok = result.is_ok();
    // A call the client cancelled gets no answer (the protocol's rule). The answer
    // goes before the records are written (two store writes the client need not
    // wait for); the session ends only once they are.
    if !*cancel.borrow() {
        let body = match result {
            Ok(v) => protocol::tool_ok(v),
            Err(sentence) => protocol::tool_error(&sentence),
        };
        send(&tx, protocol::result(&id, body)).await;
    }
    rec.finished(rec_id, &client, &op, &workspace, &names, ok, short, took)
        .await;
    key
}

async fn call(
    shared: &Shared,
    op: &str,
    args: &Map<String, Value>,
    progress: &McpProgress,
    cancel: watch::Receiver<bool>,
) -> Result<Value, String> {
    if op.is_empty() {
        return Err(format!(
            "the containers tool needs an operation: one of {}",
            schema::operation_names().join(", ")
        ));
    }
    schema::check_params(op, args)?;
    let ctx = match shared.ctx().await {
        Ok(c) => c,
        Err(e) if op == "preflight" => return Ok(unreachable_preflight(&e)),
        Err(e) => return Err(format!("the Docker engine cannot be reached ({e}); start it (`systemctl start docker`) and check DOCKER_HOST; operation=preflight says more")),
    };
    let c = Call {
        ctx: &ctx,
        progress,
        cancel,
    };
    operation(&c, op, &Args(args)).await
}

/// Preflight when not even a connection could be made.
fn unreachable_preflight(e: &str) -> Value {
    let p = Preflight::new(
        "unknown",
        vec![Check::fail(
            "daemon_running",
            format!("the Docker engine does not answer: {e}"),
            "start it (`systemctl start docker`, or `bash scripts/engine.sh ensure` in a berth checkout) and check DOCKER_HOST",
        )],
    );
    serde_json::to_value(p).unwrap_or_default()
}
