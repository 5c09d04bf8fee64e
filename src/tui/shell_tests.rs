//! update() tests for shell tabs: no PTY, no engine; sessions are effects.
use super::keymap::Keymap;
use super::state::{Bottom, Effect, Focus, ShellStatus, State};
use super::theme::Theme;
use super::update::{update, Msg};
use super::update_tests::ws;
use crate::backend::service::{Command, Event};
use crate::domain::workspace::WorkspaceState;
use crate::terminal::session::SessionEvent;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn state(stateof: WorkspaceState) -> State {
    let mut s = State::new(vec![Theme::default_theme()], 0, Keymap::default(), 1000);
    s.size = (120, 40);
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![ws("api", stateof, 2200)])),
    );
    s
}

fn key(code: KeyCode, m: KeyModifiers) -> Msg {
    Msg::Key(KeyEvent::new(code, m))
}

fn opened() -> State {
    let mut s = state(WorkspaceState::Running);
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::PrepareShell {
            id: 1,
            name: "api".into(),
            remote: None,
        })]
    );
    let fx = update(
        &mut s,
        Msg::Backend(Event::ShellReady {
            id: 1,
            argv: vec!["ssh".into()],
            env: vec![],
        }),
    );
    let [Effect::SpawnShell {
        id: 1, rows, cols, ..
    }] = fx.as_slice()
    else {
        panic!("{fx:?}")
    };
    assert_eq!(s.shell(1).unwrap().term.size(), (*rows, *cols));
    s
}

#[test]
fn a_stopped_workspace_gets_no_shell() {
    let mut s = state(WorkspaceState::Stopped);
    assert!(update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE)).is_empty());
    assert!(s.notice.as_deref().unwrap().contains("start it first"));
    assert!(s.shells.is_empty());
}

#[test]
fn every_key_goes_to_the_shell_except_the_reserved_chords() {
    let mut s = opened();
    assert_eq!(s.focus, Focus::Shell);
    assert_eq!(s.bottom, Bottom::Shell(1));
    for (k, m, bytes) in [
        (KeyCode::Char('q'), KeyModifiers::NONE, b"q".to_vec()),
        (KeyCode::Tab, KeyModifiers::NONE, b"\t".to_vec()),
        (KeyCode::Char('c'), KeyModifiers::CONTROL, vec![3]),
        (KeyCode::Char('d'), KeyModifiers::CONTROL, vec![4]),
        (KeyCode::Esc, KeyModifiers::NONE, vec![0x1b]),
        (KeyCode::Char('x'), KeyModifiers::ALT, b"\x1bx".to_vec()),
        (KeyCode::F(5), KeyModifiers::NONE, b"\x1b[15~".to_vec()),
        (KeyCode::Char('?'), KeyModifiers::NONE, b"?".to_vec()),
    ] {
        assert_eq!(
            update(&mut s, key(k, m)),
            vec![Effect::ShellInput { id: 1, bytes }],
            "{k:?}"
        );
    }
    // Application cursor mode switches the arrows.
    update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Output(b"\x1b[?1h".to_vec()),
        },
    );
    assert_eq!(
        update(&mut s, key(KeyCode::Up, KeyModifiers::NONE)),
        vec![Effect::ShellInput {
            id: 1,
            bytes: b"\x1bOA".to_vec()
        }]
    );
    // ctrl-] (0x1d, reported as ctrl-5) leaves.
    assert!(update(&mut s, key(KeyCode::Char('5'), KeyModifiers::CONTROL)).is_empty());
    assert_eq!(s.focus, Focus::List);
    // Tab from the list reaches the shell again.
    update(&mut s, key(KeyCode::Tab, KeyModifiers::NONE));
    update(&mut s, key(KeyCode::Tab, KeyModifiers::NONE));
    assert_eq!(s.focus, Focus::Shell);
}

#[test]
fn output_is_parsed_and_queries_answered() {
    let mut s = opened();
    let fx = update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Output(b"hello\x1b[6n".to_vec()),
        },
    );
    assert_eq!(
        fx,
        vec![Effect::ShellInput {
            id: 1,
            bytes: b"\x1b[1;6R".to_vec()
        }]
    );
    assert!(s.shell(1).unwrap().term.contents().starts_with("hello"));
}

#[test]
fn paste_is_bracketed_when_asked() {
    let mut s = opened();
    update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Output(b"\x1b[?2004h".to_vec()),
        },
    );
    assert_eq!(
        update(&mut s, Msg::Paste("ls\n".into())),
        vec![Effect::ShellInput {
            id: 1,
            bytes: b"\x1b[200~ls\r\x1b[201~".to_vec()
        }]
    );
}

#[test]
fn resizes_follow_the_terminal_and_full_screen() {
    let mut s = opened();
    let before = s.shell(1).unwrap().term.size();
    let fx = update(&mut s, key(KeyCode::Enter, KeyModifiers::ALT));
    let [Effect::ShellResize { id: 1, rows, cols }] = fx.as_slice() else {
        panic!("{fx:?}")
    };
    assert!(
        *rows > before.0 && *cols >= before.1,
        "full screen is bigger: {before:?} -> {rows}x{cols}"
    );
    assert_eq!((*rows, *cols), (37, 118));
    let fx = update(&mut s, Msg::Resize(100, 30));
    assert_eq!(
        fx,
        vec![Effect::ShellResize {
            id: 1,
            rows: 27,
            cols: 98
        }]
    );
    assert!(
        update(&mut s, Msg::Resize(100, 30)).is_empty(),
        "no resize when nothing changed"
    );
}

#[test]
fn exit_closes_the_tab_and_says_the_status() {
    let mut s = opened();
    let fx = update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Exited(Some(3)),
        },
    );
    assert_eq!(fx, vec![Effect::KillShell { id: 1 }]);
    assert!(s.shells.is_empty());
    assert_eq!(s.bottom, Bottom::Logs);
    assert_eq!(s.focus, Focus::List);
    assert_eq!(
        s.notice.as_deref(),
        Some("shell on api exited with status 3")
    );
}

#[test]
fn a_stopped_workspace_disconnects_its_shells_and_r_reconnects() {
    let mut s = opened();
    let fx = update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![ws(
            "api",
            WorkspaceState::Stopped,
            2200,
        )])),
    );
    assert!(fx.contains(&Effect::KillShell { id: 1 }), "{fx:?}");
    assert_eq!(
        s.shell(1).unwrap().status,
        ShellStatus::Disconnected("the workspace stopped".into())
    );
    // The ssh exit that follows does not close the tab.
    update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Exited(Some(255)),
        },
    );
    assert_eq!(s.shells.len(), 1);
    // Keys do not go to a dead session; r reconnects, x closes.
    assert!(update(&mut s, key(KeyCode::Char('a'), KeyModifiers::NONE)).is_empty());
    let fx = update(&mut s, key(KeyCode::Char('r'), KeyModifiers::NONE));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::PrepareShell {
            id: 1,
            name: "api".into(),
            remote: None,
        })]
    );
    assert_eq!(s.shell(1).unwrap().status, ShellStatus::Connecting);
    update(
        &mut s,
        Msg::Backend(Event::ShellFailed {
            id: 1,
            reason: "api is stopped; start it first".into(),
        }),
    );
    let fx = update(&mut s, key(KeyCode::Char('x'), KeyModifiers::NONE));
    assert_eq!(fx, vec![Effect::KillShell { id: 1 }]);
    assert!(s.shells.is_empty());
}

#[test]
fn several_tabs_and_switching() {
    let mut s = opened();
    update(&mut s, key(KeyCode::Char('5'), KeyModifiers::CONTROL));
    update(&mut s, key(KeyCode::Enter, KeyModifiers::NONE));
    assert_eq!(s.shells.len(), 2);
    assert_eq!(s.bottom, Bottom::Shell(2));
    update(&mut s, key(KeyCode::Char('5'), KeyModifiers::CONTROL));
    update(&mut s, key(KeyCode::Char(']'), KeyModifiers::NONE));
    assert_eq!(s.bottom, Bottom::Logs);
    update(&mut s, key(KeyCode::Char(']'), KeyModifiers::NONE));
    assert_eq!(s.bottom, Bottom::Shell(1));
    update(&mut s, key(KeyCode::Char('['), KeyModifiers::NONE));
    assert_eq!(s.bottom, Bottom::Logs);
    assert_eq!(
        s.focus,
        Focus::List,
        "switching tabs from the list keeps focus on the list"
    );
}

#[test]
fn the_focused_shells_cursor_shape_reaches_the_real_cursor() {
    use crate::terminal::screen::CursorShape;
    let mut s = opened();
    assert_eq!(s.cursor_shape(), CursorShape::Default);
    update(
        &mut s,
        Msg::Shell {
            id: 1,
            event: SessionEvent::Output(b"\x1b[6 q".to_vec()),
        },
    );
    assert_eq!(s.cursor_shape(), CursorShape::Bar { blinking: false });
    // Leaving the shell gives the user's own cursor back.
    update(&mut s, key(KeyCode::Char(']'), KeyModifiers::CONTROL));
    assert_eq!(s.cursor_shape(), CursorShape::Default);
}
