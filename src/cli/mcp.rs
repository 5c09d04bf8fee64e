//! `berth mcp`: the MCP server over stdio (`crate::mcp`), and `berth mcp calls`,
//! the tool calls its clients made (what the TUI's activity view shows).
use crate::config::{Config, Paths};
use crate::mcp::{serve_until, Shared};
use crate::store::{McpCall, Store};
use anyhow::Result;
use clap::Subcommand;
use std::sync::Arc;

#[derive(Subcommand, Debug)]
pub enum McpAction {
    /// The tool calls MCP clients made (newest last): time, client, operation,
    /// workspace, result and duration; "running" while one runs.
    Calls {
        /// How many (the newest; at most 500 are kept).
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// [{"id", "started_at_ms", "client", "pid", "operation", "workspace",
        /// "result", "ok", "took_ms"}].
        #[arg(long)]
        json: bool,
    },
}

/// Completes on SIGTERM or SIGINT (how MCP clients end a server that does not
/// leave after its input closed); never when the handlers cannot be installed.
async fn stop_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let (Ok(mut term), Ok(mut int)) = (
        signal(SignalKind::terminate()),
        signal(SignalKind::interrupt()),
    ) else {
        tracing::warn!("mcp: cannot watch for SIGTERM/SIGINT; calls are not undone on them");
        return std::future::pending().await;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
}

pub async fn run(paths: Paths, config: Config, action: Option<McpAction>) -> Result<i32> {
    match action {
        None => {
            let store = Store::new(paths.store_file());
            // The server starts without an engine too: preflight says what is wrong,
            // and each call tries to connect again.
            let ctx =
                match super::connect_typed(paths.clone(), config.clone(), store.clone()).await? {
                    Ok(c) => Some(c),
                    Err(e) => {
                        tracing::warn!(error = %e, "mcp: no engine yet");
                        None
                    }
                };
            let shared = Arc::new(Shared::connecting(ctx, paths, config, store));
            let input = tokio::io::BufReader::new(tokio::io::stdin());
            serve_until(shared, input, tokio::io::stdout(), stop_signal()).await?;
            Ok(0)
        }
        Some(McpAction::Calls { limit, json }) => {
            let calls = Store::new(paths.store_file()).mcp_calls(limit).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&calls)?);
            } else if calls.is_empty() {
                println!("No MCP calls yet. Register `berth mcp` with an MCP client (README: `berth mcp`).");
            } else {
                print!("{}", table(&calls));
            }
            Ok(0)
        }
    }
}

fn table(calls: &[McpCall]) -> String {
    let rows: Vec<[String; 6]> = calls
        .iter()
        .map(|c| {
            let time = chrono::DateTime::from_timestamp_millis(c.started_at_ms)
                .map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default();
            let ws = if c.workspace.is_empty() {
                "-"
            } else {
                &c.workspace
            };
            let took = c
                .took_ms
                .map_or("-".into(), |t| format!("{:.1}s", t as f64 / 1000.0));
            [
                time,
                c.client.clone(),
                c.operation.clone(),
                ws.to_string(),
                c.result.clone().unwrap_or_else(|| "running".into()),
                took,
            ]
        })
        .collect();
    super::service::table(
        [
            "TIME (UTC)",
            "CLIENT",
            "OPERATION",
            "WORKSPACE",
            "RESULT",
            "TOOK",
        ],
        &rows,
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_running_call_shows_running() {
        let c = crate::store::McpCall {
            id: 1,
            started_at_ms: 0,
            client: "py 1".into(),
            pid: 1,
            operation: "exec".into(),
            workspace: "".into(),
            result: None,
            ok: None,
            took_ms: None,
        };
        let t = super::table(&[c]);
        assert!(
            t.contains("running") && t.contains("1970-01-01 00:00:00") && t.contains(" - "),
            "{t}"
        );
    }
}
