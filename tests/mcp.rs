//! `berth mcp` driven by a real MCP client, the official Python SDK (made once in
//! its own venv by scripts/mcp-venv.sh, which scripts/setup.sh test runs too):
//! initialize, tools/list, preflight, create with progress notifications, exec
//! (output, a non-zero status, a timeout, refusals), copy_in/copy_out,
//! snapshot/restore, destroy_all refused without confirm then done with it; then
//! the calls as `berth mcp calls --json` shows them, and the audit trail.
mod common;
use common::{repo_root, stderr, stdout, Sandbox};
use std::process::Command;

/// The venv's python with the MCP SDK (made when missing; a failure fails the test).
fn python() -> String {
    let o = Command::new(repo_root().join("scripts/mcp-venv.sh"))
        .output()
        .expect("scripts/mcp-venv.sh");
    assert!(
        o.status.success(),
        "scripts/mcp-venv.sh failed (python3 with pip and PyPI are needed):\n{}",
        stderr(&o)
    );
    stdout(&o).trim().to_string()
}

#[test]
fn an_mcp_client_drives_every_seed_operation() {
    let Some(sb) = Sandbox::new("mcp", (3800, 3829)) else {
        return;
    };
    let py = python();
    let name = sb.name("m");
    let work = sb.dir.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let mut c = Command::new("timeout");
    c.arg("900")
        .arg(&py)
        .arg(repo_root().join("tests/mcp/client.py"))
        .arg(env!("CARGO_BIN_EXE_berth"))
        .arg(&name)
        .arg(&work);
    // The client runs `berth mcp` with its own environment: the sandbox's.
    sb.env(&mut c);
    c.current_dir(&work);
    let o = c.output().expect("run the MCP client");
    assert!(
        o.status.success(),
        "MCP client failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        stdout(&o),
        stderr(&o)
    );
    let last = stdout(&o).lines().last().unwrap_or_default().to_string();
    let summary: serde_json::Value = serde_json::from_str(&last).expect("client summary");
    assert!(summary["server"].as_str().unwrap().starts_with("berth "));
    assert!(summary["create_progress"].as_u64().unwrap() >= 3);

    // Every call was recorded, finished, under the client's name and version.
    let calls = sb.json(&["mcp", "calls", "--json", "--limit", "100"]);
    let calls = calls.as_array().unwrap();
    let ops: Vec<&str> = calls
        .iter()
        .map(|c| c["operation"].as_str().unwrap())
        .collect();
    for op in [
        "preflight",
        "create",
        "exec",
        "exec_interactive_hint",
        "copy_in",
        "copy_out",
        "snapshot",
        "restore",
        "destroy_all",
        "list",
    ] {
        assert!(ops.contains(&op), "{op} not recorded: {ops:?}");
    }
    for c in calls {
        assert_eq!(c["client"], "berth-test-client 1.0", "{c}");
        assert!(
            c["took_ms"].is_u64() && c["ok"].is_boolean(),
            "unfinished: {c}"
        );
    }
    let create = calls.iter().find(|c| c["operation"] == "create").unwrap();
    assert_eq!(create["workspace"], name.as_str());
    assert_eq!(create["ok"], true);
    let failed_exec = calls
        .iter()
        .find(|c| c["operation"] == "exec" && c["result"] == "returncode 7");
    assert!(failed_exec.is_some(), "exit 7 not recorded: {calls:?}");
    let refused: Vec<_> = calls
        .iter()
        .filter(|c| c["operation"] == "destroy_all")
        .collect();
    assert_eq!(refused.len(), 2);
    assert_eq!(refused[0]["ok"], false);
    assert_eq!(refused[1]["ok"], true);
    let table = sb.ok(&["mcp", "calls"]);
    assert!(table.contains("berth-test-client 1.0") && table.contains("destroy_all"));

    // The audit trail: one entry a call, parameter names, never values.
    let db = rusqlite::Connection::open(sb.state_dir().join("berth.db")).unwrap();
    let mut st = db
        .prepare("SELECT name, action, detail FROM audit WHERE action LIKE 'mcp-%' ORDER BY rowid")
        .unwrap();
    let rows: Vec<(String, String, String)> = st
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    let created = rows
        .iter()
        .find(|(n, a, _)| n == &name && a == "mcp-create")
        .unwrap_or_else(|| panic!("no mcp-create for {name}: {rows:?}"));
    assert!(
        created
            .2
            .contains("client berth-test-client 1.0; parameters: env, name; result: ok"),
        "{created:?}"
    );
    assert!(
        rows.iter().all(|(_, _, d)| !d.contains("from-env")),
        "{rows:?}"
    );
    assert!(rows.iter().any(|(n, a, d)| n == &name
        && a == "mcp-exec"
        && d.contains("parameters: command, container")));
    assert!(!sb.container_exists(&name));
}
