//! The agent and MCP tasks over the in-memory engine, in tokio's paused time:
//! ahead counts only while the agents view is open, diffs (bounded), the MCP
//! poll only while its view is open and only on change, and no task left.
use super::agent_diff::DIFF_MAX;
use super::agent_tasks::AgentTasks;
use super::service::{Command, Event};
use super::test_support::{drain, Harness};
use crate::domain::agents::AgentSession;
use crate::engine::memory::{ExecReply, MemoryEngine};
use crate::store::mcp_calls::McpCall;
use crate::store::Store;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

const DIFF: &str =
    "diff --git a/a.txt b/a.txt\n--- a/a.txt\n+++ b/a.txt\n@@ -1 +1 @@\n-old\n+new\n";

fn session(name: &str) -> AgentSession {
    AgentSession {
        name: name.into(),
        agent: "fake".into(),
        repo: Some("/src/shop".into()),
        branch: "agent/x".into(),
        base: "main".into(),
        base_commit: "abc123".into(),
        clone: "/home/workspace/shop".into(),
        ephemeral: false,
        no_push: false,
    }
}

/// An engine with agent session `a` (running), plain workspace `p`, and git
/// answered: `rev-list` says 3, `diff` says `diff` (or `big` bytes when set).
fn seeded(big: usize) -> (MemoryEngine, Arc<AtomicUsize>) {
    let engine = MemoryEngine::new();
    let c = engine.add_workspace("a", 2300);
    for (k, v) in session("a").labels() {
        engine.set_label(&c, &k, &v);
    }
    engine.add_workspace("p", 2301);
    let counted = Arc::new(AtomicUsize::new(0));
    let seen = counted.clone();
    engine.set_exec_handler(move |call| {
        let has = |w: &str| call.cmd.iter().any(|a| a == w);
        if has("rev-list") {
            assert_eq!(call.user.as_deref(), Some("workspace"));
            assert!(
                call.cmd.contains(&"abc123..agent/x".to_string()),
                "{:?}",
                call.cmd
            );
            seen.fetch_add(1, Ordering::SeqCst);
            return ExecReply {
                stdout: b"3\n".to_vec(),
                ..Default::default()
            };
        }
        if has("diff") {
            let stdout = if big > 0 {
                vec![b'+'; big]
            } else {
                DIFF.as_bytes().to_vec()
            };
            return ExecReply {
                stdout,
                ..Default::default()
            };
        }
        ExecReply::default()
    });
    (engine, counted)
}

fn is_ahead(e: &Event) -> Option<std::collections::BTreeMap<String, Result<u32, String>>> {
    match e {
        Event::AgentAhead(c) => Some(c.clone()),
        _ => None,
    }
}

#[tokio::test(start_paused = true)]
async fn ahead_counts_come_only_while_the_view_is_open() {
    let (engine, reads) = seeded(0);
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.drain(Duration::from_secs(30)).await;
    assert_eq!(
        reads.load(Ordering::SeqCst),
        0,
        "nothing read before the view opens"
    );
    h.send(Command::AgentsView(true));
    let counts = h.wait_for(5, "ahead counts", is_ahead).await;
    assert_eq!(counts.len(), 1, "{counts:?}");
    assert_eq!(counts.get("a"), Some(&Ok(3)));
    // Again about every 10 s.
    let later = h.drain(Duration::from_secs(25)).await;
    let n = later.iter().filter_map(is_ahead).count();
    assert!((2..=3).contains(&n), "{n} refreshes in 25 s");
    h.send(Command::AgentsView(false));
    h.drain(Duration::from_secs(1)).await;
    let before = reads.load(Ordering::SeqCst);
    let after = h.drain(Duration::from_secs(60)).await;
    assert_eq!(after.iter().filter_map(is_ahead).count(), 0);
    assert_eq!(
        reads.load(Ordering::SeqCst),
        before,
        "no git after the view closed"
    );
}

#[tokio::test(start_paused = true)]
async fn the_diff_is_read_parsed_and_cut_when_too_big() {
    let (engine, _) = seeded(0);
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.send(Command::AgentDiff { name: "a".into() });
    let d = h
        .wait_for(5, "the diff", |e| match e {
            Event::AgentDiff { name, diff } if name == "a" => Some(diff.clone()),
            _ => None,
        })
        .await
        .expect("a diff");
    assert_eq!(d.files.len(), 1);
    assert_eq!((d.files[0].added, d.files[0].removed), (1, 1));
    assert!(!d.cut);
    // Not a session: said so.
    h.send(Command::AgentDiff { name: "p".into() });
    let e = h
        .wait_for(5, "the refusal", |e| match e {
            Event::AgentDiff { name, diff } if name == "p" => Some(diff.clone()),
            _ => None,
        })
        .await
        .expect_err("not a session");
    assert!(e.contains("not an agent session"), "{e}");

    let (engine, _) = seeded(DIFF_MAX + 1000);
    let mut h = Harness::start(&engine);
    h.connected().await;
    h.send(Command::AgentDiff { name: "a".into() });
    let d = h
        .wait_for(5, "the big diff", |e| match e {
            Event::AgentDiff { diff, .. } => Some(diff.clone()),
            _ => None,
        })
        .await
        .expect("a diff");
    assert!(d.cut);
    assert_eq!(d.line_count(), 1);
    assert_eq!(d.files[0].lines[0].text.len(), DIFF_MAX);
}

fn call(op: &str) -> McpCall {
    McpCall {
        id: 0,
        started_at_ms: 1_000,
        client: "test 1.0".into(),
        pid: std::process::id(),
        operation: op.into(),
        workspace: "a".into(),
        result: None,
        ok: None,
        took_ms: None,
    }
}

fn calls_in(events: &[Event]) -> Vec<Vec<McpCall>> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::McpCalls(c) => Some(c.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(start_paused = true)]
async fn mcp_calls_are_polled_only_while_the_view_is_open_and_sent_on_change() {
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::inline_for_tests(dir.path().join("berth.db"));
    let (tx, mut rx) = mpsc::channel(64);
    let mut tasks = AgentTasks::new(store.clone(), tx.clone());
    // Closed: nothing, whatever happens in the store.
    store.mcp_call_started(call("list")).await.expect("insert");
    let got = drain(&mut rx, Duration::from_secs(5)).await;
    assert!(calls_in(&got).is_empty());
    // The running-calls hint comes anyway (it is cheap).
    assert!(
        got.iter().any(|e| matches!(e, Event::McpRunning(1))),
        "{got:?}"
    );

    tasks.mcp_view(true, &store, &tx);
    assert_eq!(tasks.polling(), (false, true));
    let got = drain(&mut rx, Duration::from_secs(5)).await;
    let seen = calls_in(&got);
    assert_eq!(seen.len(), 1, "sent once, not every second: {seen:?}");
    assert_eq!(seen[0].len(), 1);
    let id = store.mcp_call_started(call("exec")).await.expect("insert");
    store
        .mcp_call_finished(id, true, "ok".into(), 12)
        .await
        .expect("finish");
    let got = drain(&mut rx, Duration::from_secs(3)).await;
    let seen = calls_in(&got);
    let last = seen.last().expect("the change was sent");
    assert_eq!(last.len(), 2);
    assert_eq!(last[1].result.as_deref(), Some("ok"));

    tasks.mcp_view(false, &store, &tx);
    assert_eq!(tasks.polling(), (false, false));
    store
        .mcp_call_started(call("create"))
        .await
        .expect("insert");
    let got = drain(&mut rx, Duration::from_secs(5)).await;
    assert!(calls_in(&got).is_empty(), "{got:?}");
    drop(tasks);
    // Every task ended with its owner: nothing more arrives, the channel's only
    // other sender is ours.
    drop(tx);
    let rest = drain(&mut rx, Duration::from_secs(10)).await;
    assert!(rest.is_empty(), "{rest:?}");
    assert!(rx.recv().await.is_none(), "a task still holds the channel");
}

#[tokio::test(start_paused = true)]
async fn closing_the_agents_view_leaves_no_task() {
    let (engine, _) = seeded(0);
    let dir = tempfile::tempdir().expect("tmp");
    let store = Store::inline_for_tests(dir.path().join("berth.db"));
    let (tx, mut rx) = mpsc::channel(64);
    let (ctx, _d) = super::test_support::ctx_with(Arc::new(engine));
    let (_link_tx, link) = tokio::sync::watch::channel(Some(ctx));
    let mut tasks = AgentTasks::new(store, tx.clone());
    tasks.agents_view(true, &link, &tx);
    assert_eq!(tasks.polling(), (true, false));
    let got = drain(&mut rx, Duration::from_secs(2)).await;
    assert!(got.iter().any(|e| is_ahead(e).is_some()), "{got:?}");
    tasks.agents_view(false, &link, &tx);
    tokio::task::yield_now().await;
    assert_eq!(tasks.polling(), (false, false));
    tasks.diff("a".into(), &link, &tx);
    drop(tasks);
    drop(tx);
    let rest = drain(&mut rx, Duration::from_secs(30)).await;
    assert!(rest.iter().all(|e| is_ahead(e).is_none()), "{rest:?}");
    assert!(rx.recv().await.is_none(), "a task still holds the channel");
}
