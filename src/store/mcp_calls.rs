//! MCP tool calls (issue 12), so every berth (the TUI's activity view) sees the
//! calls of every `berth mcp` server live: one row when a call starts, finished
//! with its result and duration when it ends. The newest [`KEPT`] are kept.
use super::Store;
use anyhow::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

/// Calls kept in all.
pub const KEPT: i64 = 500;

pub const SCHEMA: &str = "CREATE TABLE IF NOT EXISTS mcp_calls (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at_ms INTEGER NOT NULL,
    client TEXT NOT NULL,
    pid INTEGER NOT NULL,
    operation TEXT NOT NULL,
    workspace TEXT NOT NULL,
    result TEXT,
    ok INTEGER,
    took_ms INTEGER);";

/// One call.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct McpCall {
    pub id: i64,
    /// Unix milliseconds.
    pub started_at_ms: i64,
    /// The client's name and version from `initialize` (e.g. "claude-code 1.2").
    pub client: String,
    /// The `berth mcp` server's process id.
    pub pid: u32,
    pub operation: String,
    /// The workspace it was about ("" when none).
    pub workspace: String,
    /// None while it runs; then a short result ("ok", "returncode 1", or the error
    /// sentence).
    pub result: Option<String>,
    pub ok: Option<bool>,
    pub took_ms: Option<u64>,
}

fn begin(c: &mut Connection, call: &McpCall) -> Result<i64> {
    let tx = c.transaction()?;
    tx.execute(
        "INSERT INTO mcp_calls (started_at_ms, client, pid, operation, workspace)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![
            call.started_at_ms,
            call.client,
            call.pid,
            call.operation,
            call.workspace
        ],
    )?;
    let id = tx.last_insert_rowid();
    tx.execute(
        "DELETE FROM mcp_calls WHERE id <= ?1 - ?2",
        params![id, KEPT],
    )?;
    tx.commit()?;
    Ok(id)
}

fn recent(c: &mut Connection, limit: i64) -> Result<Vec<McpCall>> {
    let mut st = c.prepare(
        "SELECT id, started_at_ms, client, pid, operation, workspace, result, ok, took_ms
         FROM (SELECT * FROM mcp_calls ORDER BY id DESC LIMIT ?1) ORDER BY id",
    )?;
    let rows = st.query_map([limit], |r| {
        Ok(McpCall {
            id: r.get(0)?,
            started_at_ms: r.get(1)?,
            client: r.get(2)?,
            pid: r.get(3)?,
            operation: r.get(4)?,
            workspace: r.get(5)?,
            result: r.get(6)?,
            ok: r.get(7)?,
            took_ms: r.get::<_, Option<i64>>(8)?.map(|t| t.max(0) as u64),
        })
    })?;
    let mut calls: Vec<McpCall> = rows.collect::<rusqlite::Result<_>>()?;
    for c in calls.iter_mut().filter(|c| c.result.is_none()) {
        if !server_runs(c.pid) {
            c.result = Some(interrupted(c.pid));
            c.ok = Some(false);
        }
    }
    Ok(calls)
}

/// Whether the `berth mcp` server `pid` still runs (a server killed mid-call,
/// as MCP clients do when they shut down, never finishes its calls' rows).
/// Blocking (reads /proc): the store's thread.
fn server_runs(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
}

/// The result of a call whose server stopped before it ended.
fn interrupted(pid: u32) -> String {
    format!("interrupted: its berth mcp server (pid {pid}) stopped before the call ended")
}

impl Store {
    /// Records a call as started; returns its id (for [`Store::mcp_call_finished`]).
    /// `call.id`, `result`, `ok` and `took_ms` are ignored.
    pub async fn mcp_call_started(&self, call: McpCall) -> Result<i64> {
        self.call(move |c| begin(c, &call)).await
    }

    /// Records how call `id` ended.
    pub async fn mcp_call_finished(
        &self,
        id: i64,
        ok: bool,
        result: String,
        took_ms: u64,
    ) -> Result<()> {
        self.call(move |c| {
            c.execute(
                "UPDATE mcp_calls SET result = ?2, ok = ?3, took_ms = ?4 WHERE id = ?1",
                params![id, result, ok, took_ms as i64],
            )?;
            Ok(())
        })
        .await
    }

    /// The newest `limit` calls, oldest first.
    pub async fn mcp_calls(&self, limit: usize) -> Result<Vec<McpCall>> {
        let limit = limit.min(KEPT as usize) as i64;
        self.call(move |c| recent(c, limit)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(op: &str) -> McpCall {
        McpCall {
            id: 0,
            started_at_ms: 1_000,
            client: "test-client 1.0".into(),
            pid: std::process::id(),
            operation: op.into(),
            workspace: "ws".into(),
            result: None,
            ok: None,
            took_ms: None,
        }
    }

    #[tokio::test]
    async fn a_call_shows_running_then_finished_and_old_ones_go() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path().join("berth.db"));
        let id = store.mcp_call_started(call("exec")).await.unwrap();
        let running = store.mcp_calls(10).await.unwrap();
        assert_eq!(running.len(), 1);
        assert_eq!(running[0].result, None);
        store
            .mcp_call_finished(id, true, "returncode 0".into(), 12)
            .await
            .unwrap();
        let done = &store.mcp_calls(10).await.unwrap()[0];
        assert_eq!(
            (done.ok, done.result.as_deref(), done.took_ms),
            (Some(true), Some("returncode 0"), Some(12))
        );
        // A call whose server died never shows as running.
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let dead = child.id();
        child.wait().unwrap();
        let mut orphan = call("exec");
        orphan.pid = dead;
        let oid = store.mcp_call_started(orphan).await.unwrap();
        let mut live = call("exec");
        live.pid = std::process::id();
        let lid = store.mcp_call_started(live).await.unwrap();
        let now = store.mcp_calls(10).await.unwrap();
        let o = now.iter().find(|c| c.id == oid).unwrap();
        assert_eq!(o.ok, Some(false));
        assert!(
            o.result.as_deref().unwrap().contains("interrupted"),
            "{o:?}"
        );
        assert_eq!(now.iter().find(|c| c.id == lid).unwrap().result, None);
        for _ in 0..KEPT + 3 {
            store.mcp_call_started(call("list")).await.unwrap();
        }
        let all = store.mcp_calls(10_000).await.unwrap();
        assert_eq!(all.len() as i64, KEPT);
        assert!(all.iter().all(|c| c.operation == "list"));
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));
    }
}
