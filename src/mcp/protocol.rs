//! The JSON-RPC 2.0 messages of MCP's stdio transport (one JSON object a line),
//! as pure functions: parsing what the client sends and building what the server
//! answers. No I/O here.
use serde_json::{json, Map, Value};

/// The protocol revisions this server speaks through `initialize`, oldest first.
/// Its surface (tools/list, tools/call, progress, ping) is the same in all of them.
pub const VERSIONS: &[&str] = &["2024-11-05", "2025-03-26", "2025-06-18", "2025-11-25"];

/// JSON-RPC error codes.
pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;

/// One line from the client.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Request {
        id: Value,
        method: String,
        params: Value,
    },
    Notification {
        method: String,
        params: Value,
    },
    /// An answer to a request of ours (this server sends none): ignored.
    Response,
    /// Not a message: answered with this error (id null when unknown).
    Invalid {
        id: Value,
        code: i64,
        message: String,
    },
}

/// Parses one line.
pub fn parse(line: &str) -> Incoming {
    let v: Value = match serde_json::from_str(line) {
        Ok(v) => v,
        Err(e) => {
            return Incoming::Invalid {
                id: Value::Null,
                code: PARSE_ERROR,
                message: format!("not JSON: {e}"),
            }
        }
    };
    let Some(o) = v.as_object() else {
        return invalid(
            Value::Null,
            "a message is a JSON object (batches are not used by MCP)",
        );
    };
    let id = o.get("id").cloned();
    let params = o
        .get("params")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    match (o.get("method").and_then(Value::as_str), id) {
        (Some(m), Some(id)) if id.is_string() || id.is_number() => Incoming::Request {
            id,
            method: m.to_string(),
            params,
        },
        (Some(_), Some(id)) => invalid(id, "the id must be a string or a number"),
        (Some(m), None) => Incoming::Notification {
            method: m.to_string(),
            params,
        },
        (None, Some(_)) if o.contains_key("result") || o.contains_key("error") => {
            Incoming::Response
        }
        (None, id) => invalid(id.unwrap_or(Value::Null), "no method"),
    }
}

fn invalid(id: Value, message: &str) -> Incoming {
    Incoming::Invalid {
        id,
        code: INVALID_REQUEST,
        message: message.into(),
    }
}

pub fn result(id: &Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

pub fn error(id: &Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

/// `notifications/progress` for the request that sent `token`; `progress` must
/// grow from one notification to the next.
pub fn progress(token: &Value, progress: u64, message: &str) -> Value {
    json!({
        "jsonrpc": "2.0",
        "method": "notifications/progress",
        "params": {"progressToken": token, "progress": progress, "message": message},
    })
}

/// The revision to answer `initialize` with: the client's when this server knows
/// it, else the newest this server speaks (the client then decides).
pub fn negotiate(requested: Option<&str>) -> &'static str {
    requested
        .and_then(|r| VERSIONS.iter().find(|v| **v == r))
        .copied()
        .unwrap_or(VERSIONS[VERSIONS.len() - 1])
}

/// The `initialize` result.
pub fn initialize_result(version: &str, server_version: &str) -> Value {
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "berth", "version": server_version},
        "instructions": "berth manages isolated Docker workspaces. One tool, `containers`, \
            with an `operation` parameter: run operation=preflight first, then create, exec, \
            copy_in/copy_out, snapshot/restore and destroy.",
    })
}

/// The client's name and version from `initialize` params ("NAME VERSION").
pub fn client_of(params: &Value) -> String {
    let info = &params["clientInfo"];
    let name = info["name"].as_str().unwrap_or("unknown client");
    match info["version"].as_str() {
        Some(v) if !v.is_empty() => format!("{name} {v}"),
        _ => name.to_string(),
    }
}

/// The `_meta.progressToken` of a request, if the client wants progress.
pub fn progress_token(params: &Value) -> Option<Value> {
    params
        .get("_meta")
        .and_then(|m| m.get("progressToken"))
        .filter(|t| t.is_string() || t.is_number())
        .cloned()
}

/// A successful tool result: the JSON as text (what every client shows) and as
/// structured content (for clients that read it).
pub fn tool_ok(value: Value) -> Value {
    let text = serde_json::to_string_pretty(&value).unwrap_or_else(|_| value.to_string());
    let mut r = json!({"content": [{"type": "text", "text": text}], "isError": false});
    if value.is_object() {
        r["structuredContent"] = value;
    }
    r
}

/// A failed tool call: the sentence a person would get from the CLI.
pub fn tool_error(sentence: &str) -> Value {
    json!({"content": [{"type": "text", "text": sentence}], "isError": true})
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_notifications_and_garbage_are_told_apart() {
        let r = parse(r#"{"jsonrpc":"2.0","id":1,"method":"ping"}"#);
        assert_eq!(
            r,
            Incoming::Request {
                id: json!(1),
                method: "ping".into(),
                params: json!({})
            }
        );
        let n = parse(r#"{"jsonrpc":"2.0","method":"notifications/initialized"}"#);
        assert!(
            matches!(n, Incoming::Notification { method, .. } if method == "notifications/initialized")
        );
        assert!(matches!(
            parse("{"),
            Incoming::Invalid {
                code: PARSE_ERROR,
                ..
            }
        ));
        assert!(matches!(
            parse("[1]"),
            Incoming::Invalid {
                code: INVALID_REQUEST,
                ..
            }
        ));
        assert!(matches!(
            parse(r#"{"id":{},"method":"x"}"#),
            Incoming::Invalid {
                code: INVALID_REQUEST,
                ..
            }
        ));
        assert_eq!(parse(r#"{"id":3,"result":{}}"#), Incoming::Response);
    }

    #[test]
    fn known_versions_are_echoed_and_unknown_ones_get_the_newest() {
        assert_eq!(negotiate(Some("2025-03-26")), "2025-03-26");
        assert_eq!(negotiate(Some("2099-01-01")), "2025-11-25");
        assert_eq!(negotiate(None), "2025-11-25");
    }

    #[test]
    fn initialize_names_berth_and_the_client_is_name_and_version() {
        let r = initialize_result("2025-06-18", "0.1.0");
        assert_eq!(r["serverInfo"]["name"], "berth");
        assert_eq!(r["protocolVersion"], "2025-06-18");
        assert!(r["capabilities"]["tools"].is_object());
        let p = json!({"clientInfo": {"name": "claude-code", "version": "1.2"}});
        assert_eq!(client_of(&p), "claude-code 1.2");
        assert_eq!(client_of(&json!({})), "unknown client");
    }

    #[test]
    fn progress_tokens_and_results_have_the_spec_shape() {
        let p = json!({"name": "containers", "_meta": {"progressToken": "t1"}});
        assert_eq!(progress_token(&p), Some(json!("t1")));
        assert_eq!(progress_token(&json!({})), None);
        let n = progress(&json!("t1"), 3, "step 3");
        assert_eq!(n["method"], "notifications/progress");
        assert_eq!(n["params"]["progress"], 3);
        let ok = tool_ok(json!({"returncode": 0}));
        assert_eq!(ok["isError"], false);
        assert_eq!(ok["structuredContent"]["returncode"], 0);
        let err = tool_error("no workspace named x");
        assert_eq!(err["isError"], true);
        assert_eq!(err["content"][0]["text"], "no workspace named x");
    }
}
