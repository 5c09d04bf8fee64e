//! Every tool call recorded live: a row in the store's MCP calls when it starts
//! (the TUI's activity view and `berth mcp calls` show it running), finished with
//! its result and duration; and one audit-trail entry naming the parameters it
//! was given (names only: values can hold secrets, commands and file contents).
use crate::store::{McpCall, Store};
use serde_json::{Map, Value};

/// The workspace a call is about ("" when none): `container`, or `name` for the
/// operations that make a workspace.
pub fn workspace_of(op: &str, args: &Map<String, Value>) -> String {
    let key = match op {
        "create" | "restore" => "name",
        _ => "container",
    };
    args.get(key)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// The parameter names, sorted, without `operation`.
pub fn param_names(args: &Map<String, Value>) -> Vec<String> {
    let mut v: Vec<String> = args.keys().filter(|k| *k != "operation").cloned().collect();
    v.sort();
    v
}

/// A short result for the calls list: "ok", "returncode N", "timed out" or the
/// error sentence (cut to 300 characters).
pub fn short_result(result: &Result<Value, String>) -> String {
    match result {
        Ok(v) if v.get("timed_out") == Some(&Value::Bool(true)) => "timed out".into(),
        Ok(v) => match v.get("returncode").and_then(Value::as_i64) {
            Some(c) => format!("returncode {c}"),
            None => "ok".into(),
        },
        Err(e) if e.chars().count() > 300 => {
            let cut: String = e.chars().take(299).collect();
            format!("{cut}…")
        }
        Err(e) => e.clone(),
    }
}

/// The audit trail's detail: the client, the parameter names and the result.
pub fn audit_detail(client: &str, names: &[String], result: &str) -> String {
    let params = if names.is_empty() {
        "none".to_string()
    } else {
        names.join(", ")
    };
    format!("client {client}; parameters: {params}; result: {result}")
}

/// Writes the records; a store that fails is logged and never fails the call.
pub struct Recorder {
    pub store: Store,
    pub pid: u32,
}

impl Recorder {
    pub async fn started(&self, client: &str, op: &str, workspace: &str) -> Option<i64> {
        let call = McpCall {
            id: 0,
            started_at_ms: chrono::Utc::now().timestamp_millis(),
            client: client.into(),
            pid: self.pid,
            operation: op.into(),
            workspace: workspace.into(),
            result: None,
            ok: None,
            took_ms: None,
        };
        match self.store.mcp_call_started(call).await {
            Ok(id) => Some(id),
            Err(e) => {
                tracing::warn!(error = %format!("{e:#}"), "recording an MCP call");
                None
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    pub async fn finished(
        &self,
        id: Option<i64>,
        client: &str,
        op: &str,
        workspace: &str,
        names: &[String],
        ok: bool,
        result: String,
        took_ms: u64,
    ) {
        let detail = audit_detail(client, names, &result);
        if let Some(id) = id {
            if let Err(e) = self.store.mcp_call_finished(id, ok, result, took_ms).await {
                tracing::warn!(error = %format!("{e:#}"), "recording an MCP call's end");
            }
        }
        let action = format!("mcp-{op}");
        if let Err(e) = self.store.audit(workspace, &action, &detail).await {
            tracing::warn!(error = %format!("{e:#}"), "writing the audit trail");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn m(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap_or_default()
    }

    #[test]
    fn the_workspace_comes_from_container_or_the_new_name() {
        assert_eq!(workspace_of("exec", &m(json!({"container": "a"}))), "a");
        assert_eq!(workspace_of("create", &m(json!({"name": "b"}))), "b");
        assert_eq!(
            workspace_of("restore", &m(json!({"snapshot": "s", "name": "c"}))),
            "c"
        );
        assert_eq!(
            workspace_of("snapshot", &m(json!({"container": "d", "name": "s"}))),
            "d"
        );
        assert_eq!(workspace_of("list", &m(json!({}))), "");
    }

    #[test]
    fn the_audit_names_parameters_never_values() {
        let args = m(json!({"operation": "create", "env": {"API_KEY": "sekrit"}, "name": "x"}));
        let d = audit_detail("py 1.0", &param_names(&args), "ok");
        assert_eq!(d, "client py 1.0; parameters: env, name; result: ok");
        assert!(!d.contains("sekrit"));
    }

    #[test]
    fn results_are_short() {
        assert_eq!(
            short_result(&Ok(json!({"returncode": 3, "timed_out": false}))),
            "returncode 3"
        );
        assert_eq!(
            short_result(&Ok(json!({"returncode": -1, "timed_out": true}))),
            "timed out"
        );
        assert_eq!(short_result(&Ok(json!({"success": true}))), "ok");
        assert_eq!(short_result(&Err("x".repeat(400))).chars().count(), 300);
    }
}
