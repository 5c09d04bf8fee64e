//! The server loop over the in-memory engine: lines in, answers out, calls recorded.
use super::server::{serve, Shared};
use crate::backend::test_support::ctx_with;
use crate::engine::memory::MemoryEngine;
use serde_json::{json, Value};
use std::sync::Arc;
use tokio::io::AsyncReadExt;

/// Runs a session of `lines` to its end; returns the answers by id and the rest.
async fn session(lines: &[Value]) -> (Vec<Value>, crate::backend::Ctx, tempfile::TempDir) {
    let (ctx, dir) = ctx_with(Arc::new(MemoryEngine::new()));
    let mut input = String::new();
    for l in lines {
        input.push_str(&l.to_string());
        input.push('\n');
    }
    input.push_str("not json\n");
    let (w, mut r) = tokio::io::duplex(1 << 16);
    let reader = tokio::spawn(async move {
        let mut out = String::new();
        r.read_to_string(&mut out).await.map(|_| out)
    });
    let shared = Arc::new(Shared::with_ctx(ctx.clone()));
    serve(shared, tokio::io::BufReader::new(input.as_bytes()), w)
        .await
        .unwrap();
    let out = reader.await.unwrap().unwrap();
    let answers = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (answers, ctx, dir)
}

fn by_id(answers: &[Value], id: i64) -> &Value {
    answers
        .iter()
        .find(|a| a["id"] == json!(id))
        .unwrap_or_else(|| panic!("no answer {id}: {answers:?}"))
}

fn call(id: i64, args: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "method": "tools/call",
           "params": {"name": "containers", "arguments": args, "_meta": {"progressToken": id}}})
}

#[tokio::test]
async fn a_session_is_answered_and_every_call_recorded() {
    let (answers, ctx, _dir) = session(&[
        json!({"jsonrpc": "2.0", "id": 1, "method": "initialize",
               "params": {"protocolVersion": "2025-06-18", "capabilities": {},
                          "clientInfo": {"name": "unit", "version": "9"}}}),
        json!({"jsonrpc": "2.0", "method": "notifications/initialized"}),
        json!({"jsonrpc": "2.0", "id": 2, "method": "tools/list"}),
        call(3, json!({"operation": "list"})),
        call(
            4,
            json!({"operation": "exec", "container": "ghost", "command": "true"}),
        ),
        call(5, json!({"operation": "destroy_all"})),
        call(
            6,
            json!({"operation": "exec_background", "container": "a", "command": "x"}),
        ),
        json!({"jsonrpc": "2.0", "id": 7, "method": "resources/list"}),
        json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call", "params": {"name": "other"}}),
        json!({"jsonrpc": "2.0", "id": 9, "method": "ping"}),
        call(10, json!({"operation": "preflight"})),
    ])
    .await;
    assert_eq!(by_id(&answers, 1)["result"]["serverInfo"]["name"], "berth");
    assert_eq!(
        by_id(&answers, 2)["result"]["tools"][0]["name"],
        "containers"
    );
    assert_eq!(
        by_id(&answers, 3)["result"]["structuredContent"],
        json!({"containers": []})
    );
    let e = &by_id(&answers, 4)["result"];
    assert_eq!(e["isError"], true);
    assert!(e["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("no workspace named ghost"));
    assert!(by_id(&answers, 5)["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("confirm=true"));
    assert!(by_id(&answers, 6)["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .contains("tmux"));
    assert_eq!(by_id(&answers, 7)["error"]["code"], -32601);
    assert_eq!(by_id(&answers, 8)["error"]["code"], -32602);
    assert_eq!(by_id(&answers, 9)["result"], json!({}));
    // The in-memory engine has no socket, image or disk to judge: only the shape
    // and the engine's own check are asserted here (tests/mcp.rs asserts ready).
    let pre = &by_id(&answers, 10)["result"]["structuredContent"];
    assert!(pre["ready"].is_boolean(), "{pre}");
    let checks = pre["checks"].as_array().unwrap();
    let daemon = checks
        .iter()
        .find(|c| c["name"] == "daemon_running")
        .unwrap();
    assert_eq!(daemon["passed"], true, "{pre}");
    assert!(answers
        .iter()
        .any(|a| a["error"]["code"] == -32700 && a["id"].is_null()));

    let calls = ctx.store.mcp_calls(50).await.unwrap();
    let ops: Vec<&str> = calls.iter().map(|c| c.operation.as_str()).collect();
    assert_eq!(ops.len(), 5, "{ops:?}");
    for op in [
        "list",
        "exec",
        "destroy_all",
        "exec_background",
        "preflight",
    ] {
        assert!(ops.contains(&op), "{op}: {ops:?}");
    }
    assert!(calls
        .iter()
        .all(|c| c.client == "unit 9" && c.took_ms.is_some()));
    let exec = calls.iter().find(|c| c.operation == "exec").unwrap();
    assert_eq!((exec.workspace.as_str(), exec.ok), ("ghost", Some(false)));
    let audit = ctx.store.audit_trail("ghost").await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "mcp-exec");
    assert_eq!(
        audit[0].detail,
        "client unit 9; parameters: command, container; result: no workspace named ghost; `berth list` shows the workspaces there are"
    );
}

#[tokio::test]
async fn a_missing_operation_names_them_all() {
    let (answers, _ctx, _dir) = session(&[call(1, json!({}))]).await;
    let text = by_id(&answers, 1)["result"]["content"][0]["text"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        text.contains("needs an operation") && text.contains("snapshot"),
        "{text}"
    );
}

/// notifications/cancelled for an exec stops the command in the engine (no
/// answer is sent, and the call is recorded as cancelled, not as its status).
#[tokio::test(start_paused = true)]
async fn a_cancelled_exec_is_stopped_in_the_engine() {
    use crate::engine::memory::ExecReply;
    let engine = MemoryEngine::new();
    engine.add_workspace("w", 2300);
    engine.set_exec_handler(|_| ExecReply {
        stdout: b"begun\n".to_vec(),
        takes: std::time::Duration::from_secs(1000),
        ..Default::default()
    });
    let (ctx, _dir) = ctx_with(Arc::new(engine));
    let mut input = String::new();
    for l in [
        call(
            1,
            json!({"operation": "exec", "container": "w", "command": "sleep 1000"}),
        ),
        json!({"jsonrpc": "2.0", "method": "notifications/cancelled",
               "params": {"requestId": 1, "reason": "the user gave up"}}),
    ] {
        input.push_str(&l.to_string());
        input.push('\n');
    }
    let (w, mut r) = tokio::io::duplex(1 << 16);
    let shared = Arc::new(Shared::with_ctx(ctx.clone()));
    let t0 = tokio::time::Instant::now();
    serve(shared, tokio::io::BufReader::new(input.as_bytes()), w)
        .await
        .unwrap();
    // (paused time: the command's 1000 s would have passed had it run on)
    assert!(t0.elapsed() < std::time::Duration::from_secs(1000));
    let mut out = String::new();
    r.read_to_string(&mut out).await.unwrap();
    assert!(
        !out.lines().any(|l| l.contains("\"result\"")),
        "a cancelled call is not answered: {out}"
    );
    let calls = ctx.store.mcp_calls(10).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].ok, Some(false), "{calls:?}");
    assert!(
        calls[0]
            .result
            .as_deref()
            .unwrap_or_default()
            .contains("cancelled"),
        "{calls:?}"
    );
}

/// Told to stop (SIGTERM for `berth mcp`) while its client still talks, the
/// server cancels the calls running (the exec's processes are killed) and ends.
#[tokio::test(start_paused = true)]
async fn a_stopped_server_cancels_its_running_calls_and_ends() {
    use super::server::serve_until;
    use crate::engine::memory::ExecReply;
    use tokio::io::AsyncWriteExt;
    let engine = MemoryEngine::new();
    engine.add_workspace("w", 2300);
    engine.set_exec_handler(|_| ExecReply {
        takes: std::time::Duration::from_secs(1000),
        ..Default::default()
    });
    let (ctx, _dir) = ctx_with(Arc::new(engine));
    // The client's side stays open: only the stop ends the session.
    let (mut client_w, server_r) = tokio::io::duplex(1 << 16);
    let line = call(
        1,
        json!({"operation": "exec", "container": "w", "command": "sleep 1000"}),
    );
    client_w
        .write_all(format!("{line}\n").as_bytes())
        .await
        .unwrap();
    let (w, _r) = tokio::io::duplex(1 << 16);
    let shared = Arc::new(Shared::with_ctx(ctx.clone()));
    let t0 = tokio::time::Instant::now();
    serve_until(
        shared,
        tokio::io::BufReader::new(server_r),
        w,
        tokio::time::sleep(std::time::Duration::from_secs(5)),
    )
    .await
    .unwrap();
    assert!(t0.elapsed() < std::time::Duration::from_secs(1000));
    let calls = ctx.store.mcp_calls(10).await.unwrap();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].ok, Some(false), "{calls:?}");
    assert!(
        calls[0]
            .result
            .as_deref()
            .unwrap_or_default()
            .contains("cancelled"),
        "{calls:?}"
    );
    drop(client_w);
}
