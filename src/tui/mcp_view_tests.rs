//! The MCP activity view: opening and closing it starts and stops the backend's
//! poll, calls arrive and follow, scrolling back, the status bar hint, and how
//! it looks.
use super::agents_view_tests::{press, state_with, text};
use super::state::{Effect, Overlay};
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{Command, Event};
use crate::domain::workspace::WorkspaceState;
use crate::store::mcp_calls::McpCall;
use crossterm::event::KeyCode;

fn call(id: i64, op: &str, result: Option<(&str, bool, u64)>) -> McpCall {
    McpCall {
        id,
        started_at_ms: 1_767_225_600_000 + id * 1_500,
        client: "claude-code 1.2".into(),
        pid: 4242,
        operation: op.into(),
        workspace: if op == "list" {
            String::new()
        } else {
            "api".into()
        },
        result: result.map(|(r, _, _)| r.to_string()),
        ok: result.map(|(_, ok, _)| ok),
        took_ms: result.map(|(_, _, t)| t),
    }
}

fn calls() -> Vec<McpCall> {
    vec![
        call(1, "list", Some(("ok", true, 12))),
        call(2, "exec", Some(("returncode 1", false, 2_340))),
        call(
            3,
            "create",
            Some(("workspace api exists already", false, 40)),
        ),
        call(4, "exec", None),
    ]
}

fn back(s: &super::state::State) -> usize {
    match &s.overlay {
        Overlay::Mcp(v) => v.back,
        _ => usize::MAX,
    }
}

#[test]
fn m_opens_the_view_and_closing_it_stops_the_poll() {
    let mut s = state_with(vec![ws("api", WorkspaceState::Running, 2200)], (100, 12));
    assert_eq!(
        press(&mut s, KeyCode::Char('M')),
        vec![Effect::Backend(Command::McpView(true))]
    );
    assert_eq!(s.key_mode(), super::keymap::Mode::Mcp);
    assert_eq!(
        press(&mut s, KeyCode::Char('q')),
        vec![Effect::Backend(Command::McpView(false))]
    );
    assert!(matches!(s.overlay, Overlay::None));
    // Calls after it closed are dropped.
    update(&mut s, Msg::Backend(Event::McpCalls(calls())));
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn scrolling_back_and_following_again() {
    let mut s = state_with(vec![], (100, 8));
    press(&mut s, KeyCode::Char('M'));
    let many: Vec<McpCall> = (1..=20)
        .map(|i| call(i, "exec", Some(("ok", true, 5))))
        .collect();
    update(&mut s, Msg::Backend(Event::McpCalls(many)));
    press(&mut s, KeyCode::Up);
    press(&mut s, KeyCode::Up);
    assert_eq!(back(&s), 2);
    // At most back to the oldest screenful (20 calls, 3 rows).
    press(&mut s, KeyCode::Char('g'));
    assert_eq!(back(&s), 17);
    press(&mut s, KeyCode::Char('G'));
    assert_eq!(back(&s), 0);
}

#[test]
fn the_status_bar_says_when_calls_run() {
    let mut s = state_with(vec![ws("api", WorkspaceState::Running, 2200)], (140, 10));
    assert!(!text(&s).contains("MCP:"));
    update(&mut s, Msg::Backend(Event::McpRunning(2)));
    assert!(
        text(&s).contains("MCP: 2 running (M shows)"),
        "{}",
        text(&s)
    );
    update(&mut s, Msg::Backend(Event::McpRunning(0)));
    assert!(!text(&s).contains("MCP:"));
}

#[test]
fn mcp_view_looks() {
    let mut s = state_with(vec![], (110, 10));
    press(&mut s, KeyCode::Char('M'));
    insta::assert_snapshot!("mcp_loading", text(&s));
    update(&mut s, Msg::Backend(Event::McpCalls(vec![])));
    insta::assert_snapshot!("mcp_empty", text(&s));
    update(&mut s, Msg::Backend(Event::McpCalls(calls())));
    insta::assert_snapshot!("mcp_rows", text(&s));
    let mut s = state_with(vec![], (64, 10));
    press(&mut s, KeyCode::Char('M'));
    update(&mut s, Msg::Backend(Event::McpCalls(calls())));
    insta::assert_snapshot!("mcp_narrow", text(&s));
}
