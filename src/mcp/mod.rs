//! `berth mcp`: berth as an MCP server over stdio, another face of the backend
//! like the CLI and the TUI. One tool, `containers`, with the container-operator
//! seed's `operation` parameter, parameter names, defaults and result shapes; each
//! operation calls the backend function the matching CLI command calls.
//!
//! Why a small hand-written JSON-RPC layer rather than the rmcp crate: the server
//! needs four methods (initialize, ping, tools/list, tools/call), progress
//! notifications and cancellation, over newline-delimited JSON on stdio: about
//! 300 lines here, tested line by line, on the serde_json and tokio berth already
//! uses. rmcp would add a macro-driven tool router, schemars and its own transport
//! and task model to the build (on machines where every build is shared), for a
//! single tool whose schema is a hand-written table (`schema.rs`) that also
//! refuses unknown parameters by name, and it would own the stdout writer that
//! must never carry anything but protocol. The wire format is checked against the
//! official Python SDK in `tests/mcp.rs`.
//!
//! stdout is the protocol: nothing else is ever printed there (logging goes to
//! berth's log file).
mod ops_create;
mod ops_exec;
mod ops_files;
mod ops_manage;
mod params;
mod progress;
pub mod protocol;
pub mod record;
pub mod schema;
mod server;
#[cfg(test)]
mod server_tests;

pub use server::{serve, serve_until, Shared};

use crate::backend::Ctx;
use params::{Args, ToolResult};
use progress::McpProgress;
use serde_json::Value;
use tokio::sync::watch;

/// What one tool call runs with.
pub struct Call<'a> {
    pub ctx: &'a Ctx,
    pub progress: &'a McpProgress,
    /// Raised by the client's `notifications/cancelled`.
    pub cancel: watch::Receiver<bool>,
}

/// Runs operation `op` (its parameters already checked).
async fn operation(call: &Call<'_>, op: &str, a: &Args<'_>) -> ToolResult<Value> {
    match op {
        "preflight" => ops_manage::preflight(call, a).await,
        "create" => ops_create::run(call, a).await,
        "exec" => ops_exec::exec(call, a).await,
        "exec_interactive_hint" => ops_exec::interactive_hint(call, a).await,
        "exec_background" | "exec_poll" | "exec_cancel" => Err(ops_exec::background(op)),
        "list" => ops_manage::list(call).await,
        "status" => ops_manage::status(call, a).await,
        "destroy" => ops_manage::destroy(call, a).await,
        "destroy_all" => ops_manage::destroy_all(call, a).await,
        "copy_in" => ops_files::copy_in(call, a).await,
        "copy_out" => ops_files::copy_out(call, a).await,
        "snapshot" => ops_files::snapshot(call, a).await,
        "restore" => ops_files::restore(call, a).await,
        "create_network" => ops_manage::create_network(call, a).await,
        "destroy_network" => ops_manage::destroy_network(call, a).await,
        "cache_clear" => Err(ops_manage::cache_clear()),
        other => Err(format!("unknown operation {other:?}")),
    }
}
