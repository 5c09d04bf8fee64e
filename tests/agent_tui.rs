//! The TUI's agents and MCP views, driven in a real terminal (tmux) against the
//! real engine: an agent session made by `berth agent launch` shows with its
//! commits ahead of base and its diff; `berth mcp` calls recorded in the store
//! show live in the MCP view (and as a hint in the status bar).
//!
//! The agent session needs `berth agent launch` (the agent-sessions part of
//! issue 12); the MCP part needs only the store.
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use berth::store::mcp_calls::McpCall;
use berth::store::Store;
use common::*;
use std::path::Path;
use std::process::Command;
use tmux::Tmux;

/// A scripted agent: in the repository it runs in (its clone), it commits one
/// change, then stays (a launched agent lives in tmux until removed).
const FAKE_AGENT: &str = r#"
[agents.fake]
description = "a shell script standing in for an agent CLI"
profile = "clean"
install = ["printf '#!/bin/sh\nfor d in \"$PWD\" /home/workspace/*/; do if git -C \"$d\" rev-parse --git-dir >/dev/null 2>&1; then cd \"$d\"; break; fi; done\ngit config user.name fake-agent\ngit config user.email fake@agent.invalid\necho written-by-the-agent > agent.txt\ngit add agent.txt\ngit commit -qm \"the agent was here\"\necho agent-is-ready\nexec sleep 100000\n' > /usr/local/bin/fake-agent && chmod 755 /usr/local/bin/fake-agent"]
command = ["fake-agent"]
prompt = ["fake-agent", "-p"]
"#;

fn git(dir: &Path, args: &[&str]) {
    let o = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git");
    assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
}

/// Every string under a `name` key in `v` (the sessions `berth agent ls --json` lists).
fn names(v: &serde_json::Value, out: &mut Vec<String>) {
    match v {
        serde_json::Value::Array(a) => a.iter().for_each(|x| names(x, out)),
        serde_json::Value::Object(o) => {
            if let Some(serde_json::Value::String(n)) = o.get("name") {
                out.push(n.clone());
            }
            o.values().for_each(|x| names(x, out));
        }
        _ => {}
    }
}

#[test]
fn an_agent_session_shows_with_its_ahead_count_and_diff() {
    let Some(sb) = Sandbox::with_config("agenttui", (3920, 3929), FAKE_AGENT) else {
        return;
    };
    let repo = sb.dir.path().join("shop");
    std::fs::create_dir_all(&repo).expect("repo dir");
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("README.md"), "shop\n").expect("write");
    git(&repo, &["add", "README.md"]);
    git(&repo, &["commit", "-qm", "start"]);
    let repo_s = repo.display().to_string();
    sb.ok(&["agent", "launch", "fake", &repo_s]);
    let mut sessions = Vec::new();
    names(&sb.json(&["agent", "ls", "--json"]), &mut sessions);
    let name = sessions
        .iter()
        .find(|n| n.starts_with("fake-"))
        .unwrap_or_else(|| panic!("no fake session in {sessions:?}"))
        .clone();

    let t = Tmux::start("agents", 140, 36, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["A"]);
    // The session's row with one commit ahead (the agent's), polled every 10 s.
    t.wait_for("the session with one commit ahead", 90, |s| {
        s.contains("Agent sessions")
            && s.lines().any(|l| {
                // The last column before the border: AHEAD.
                l.contains("fake")
                    && l.contains("running")
                    && l.split_whitespace().rev().nth(1) == Some("1")
            })
    });
    // Its diff: the agent's file, which file of how many.
    t.keys(&["d"]);
    let s = t.wait_for("the diff", 30, |s| s.contains("file 1/1: agent.txt"));
    assert!(s.contains("+written-by-the-agent"), "{s}");
    assert!(s.contains(&format!("Diff of {name}")), "{s}");
    t.keys(&["Escape"]);
    t.wait_for("the list again", 10, |s| s.contains("Agent sessions"));

    // Enter attaches a shell tab to the agent's tmux session.
    t.keys(&["Enter"]);
    t.wait_for("the agent's tmux in a tab", 60, |s| {
        s.contains("agent-is-ready")
    });
    t.keys(&["C-]"]);
    t.wait_for("the workspaces again", 10, |s| s.contains("Workspaces ("));
    t.keys(&["A"]);
    t.wait_for("the agents view again", 10, |s| {
        s.contains("Agent sessions")
    });

    // Bring the branch back now: it appears in the host repository.
    let branch = session_branch(&sb.json(&["agent", "ls", "--json"]), &name);
    let has_branch = || {
        Command::new("git")
            .args(["-C", &repo_s, "rev-parse", "-q", "--verify"])
            .arg(format!("refs/heads/{branch}"))
            .output()
            .is_ok_and(|o| o.status.success())
    };
    assert!(
        !has_branch(),
        "{branch} is in the host repo before any bring-back"
    );
    t.keys(&["b"]);
    t.wait_for("the bring-back question", 10, |s| {
        s.contains("back into the host repository now?")
    });
    t.keys(&["y"]);
    t.wait_for("the branch in the host repo", 60, |_| has_branch());

    // Merge it into main (checked out, clean): a fast-forward the host sees.
    t.keys(&["m"]);
    t.wait_for("the merge question", 10, |s| {
        s.contains("merge it into its base")
    });
    t.keys(&["y"]);
    t.wait_for("the agent's file on the host's main", 60, |_| {
        repo.join("agent.txt").exists()
    });
    assert_eq!(
        std::fs::read_to_string(repo.join("agent.txt")).expect("agent.txt"),
        "written-by-the-agent\n"
    );

    // Remove the session: its workspace goes, the branch stays in the host repo.
    t.keys(&["x"]);
    t.wait_for("the remove question", 10, |s| {
        s.contains("Remove") && s.contains("push")
    });
    t.keys(&["y"]);
    t.wait_for("the session's workspace gone", 90, |_| {
        let o = Command::new("docker")
            .args(["ps", "-aq", "--filter"])
            .arg(format!("name=^workspace-{name}$"))
            .output()
            .expect("docker ps");
        o.status.success() && o.stdout.is_empty()
    });
    assert!(has_branch(), "{branch} left the host repo with the session");
    t.keys(&["Escape"]);
    t.wait_for("the workspaces again", 10, |s| {
        !s.contains("Agent sessions")
    });
    t.keys(&["q"]);
    let s = t.wait_for("berth to exit", 10, |s| s.contains("berth-exit="));
    assert!(s.contains("berth-exit=0"), "{s}");
}

/// The branch of session `name` in `berth agent ls --json`.
fn session_branch(v: &serde_json::Value, name: &str) -> String {
    v.as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == name)
        .and_then(|e| e["branch"].as_str())
        .unwrap_or_else(|| panic!("no branch for {name} in {v}"))
        .to_string()
}

fn call(op: &str, workspace: &str) -> McpCall {
    McpCall {
        id: 0,
        started_at_ms: chrono_now_ms(),
        client: "tui-test-client 0.1".into(),
        pid: std::process::id(),
        operation: op.into(),
        workspace: workspace.into(),
        result: None,
        ok: None,
        took_ms: None,
    }
}

fn chrono_now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

#[test]
fn mcp_calls_show_live_in_the_running_tui() {
    let Some(sb) = Sandbox::new("mcptui", (3930, 3939)) else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let t = Tmux::start("mcp", 140, 30, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    // The TUI has made the store; this process writes to it like `berth mcp` does.
    let store = Store::new(sb.state_dir().join("berth.db"));
    let id = rt
        .block_on(store.mcp_call_started(call("exec", "shop")))
        .expect("record a call");
    // A running call shows in the status bar even with the view closed.
    t.wait_for("the running-call hint", 20, |s| {
        s.contains("MCP: 1 running")
    });
    t.keys(&["M"]);
    t.wait_for("the running call in the view", 10, |s| {
        s.contains("MCP activity")
            && s.lines().any(|l| {
                l.contains("tui-test-client") && l.contains("exec") && l.contains("running")
            })
    });
    rt.block_on(store.mcp_call_finished(id, false, "returncode 3".into(), 1_500))
        .expect("finish the call");
    let id2 = rt
        .block_on(store.mcp_call_started(call("list", "")))
        .expect("record a call");
    rt.block_on(store.mcp_call_finished(id2, true, "ok".into(), 7))
        .expect("finish the call");
    let s = t.wait_for("both calls finished", 10, |s| {
        s.contains("returncode 3") && s.contains("7 ms")
    });
    assert!(s.contains("1.5 s"), "{s}");
    assert!(
        !s.lines()
            .any(|l| l.contains("tui-test-client") && l.contains("running")),
        "{s}"
    );
    t.keys(&["Escape"]);
    t.wait_for("the view closed, no hint", 15, |s| {
        !s.contains("MCP activity") && !s.contains("MCP: 1 running")
    });
    t.keys(&["q"]);
    let s = t.wait_for("berth to exit", 10, |s| s.contains("berth-exit="));
    assert!(s.contains("berth-exit=0"), "{s}");
}
