//! update() tests: keys and backend events in, state and effects out. No I/O.
use super::keymap::Keymap;
use super::state::{Effect, EngineLink, Focus, JobState, LineInput, Overlay, SortKey, State};
use super::theme::Theme;
use super::update::{update, Msg};
use crate::backend::service::{Command, Event, JobUpdate, RawLine};
use crate::backend::Progress;
use crate::domain::workspace::{Workspace, WorkspaceState};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind};
use std::time::Duration;

pub fn ws(name: &str, state: WorkspaceState, port: u16) -> Workspace {
    Workspace {
        engine: String::new(),
        name: name.into(),
        state,
        ssh_port: Some(port),
        image: "berth/workspace:latest".into(),
        container: format!("workspace-{name}"),
        container_id: "0123456789abcdef".into(),
        volume: format!("workspace-{name}"),
        thread: None,
        platform: None,
        profile: Some("general".into()),
        created: 1_000,
        started_at: (state == WorkspaceState::Running).then_some(1_000 + i64::from(port)),
        runtime: None,
        memory_limit: Some(4 << 30),
        pids_limit: Some(256),
        cpus_limit: None,
        provision: crate::domain::provision::Provision::Ready,
        labels: Default::default(),
    }
}

fn state() -> State {
    let mut s = State::new(vec![Theme::default_theme()], 0, Keymap::default(), 1000);
    s.size = (120, 40);
    s.now = 10_000;
    s
}

pub(super) fn key(c: char) -> Msg {
    Msg::Key(KeyEvent::new(
        KeyCode::Char(c),
        if c.is_uppercase() {
            KeyModifiers::SHIFT
        } else {
            KeyModifiers::NONE
        },
    ))
}

pub(super) fn code(c: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(c, KeyModifiers::NONE))
}

pub(super) fn typed(s: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| update(s, key(c))).collect()
}

pub(super) fn with_list(names: &[(&str, WorkspaceState)]) -> State {
    let mut s = state();
    let list = names
        .iter()
        .enumerate()
        .map(|(i, (n, st))| ws(n, *st, 2200 + i as u16))
        .collect();
    update(&mut s, Msg::Backend(Event::Workspaces(list)));
    s
}

#[test]
fn first_list_selects_the_first_row_and_follows_it() {
    let mut s = state();
    let fx = update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![
            ws("b", WorkspaceState::Running, 2201),
            ws("a", WorkspaceState::Stopped, 2200),
        ])),
    );
    assert_eq!(s.selected.as_deref(), Some("a"));
    assert_eq!(fx, vec![Effect::Backend(Command::Select(Some("a".into())))]);
    assert_eq!(
        s.visible().map(|w| w.name.as_str()).collect::<Vec<_>>(),
        ["a", "b"]
    );
}

#[test]
fn selection_is_stable_while_the_list_changes_underneath() {
    let mut s = with_list(&[
        ("b", WorkspaceState::Running),
        ("d", WorkspaceState::Running),
    ]);
    update(&mut s, key('j'));
    assert_eq!(s.selected.as_deref(), Some("d"));
    let fx = update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![
            ws("a", WorkspaceState::Running, 1),
            ws("b", WorkspaceState::Running, 2),
            ws("c", WorkspaceState::Running, 3),
            ws("d", WorkspaceState::Stopped, 4),
        ])),
    );
    assert_eq!(s.selected.as_deref(), Some("d"));
    assert!(
        fx.is_empty(),
        "no re-follow when the selection did not change"
    );
    // The selected workspace disappears: the selection stays on its row.
    update(
        &mut s,
        Msg::Backend(Event::Workspaces(vec![
            ws("a", WorkspaceState::Running, 1),
            ws("b", WorkspaceState::Running, 2),
            ws("c", WorkspaceState::Running, 3),
        ])),
    );
    assert_eq!(s.selected.as_deref(), Some("c"));
    update(&mut s, Msg::Backend(Event::Workspaces(vec![])));
    assert_eq!(s.selected, None);
}

#[test]
fn navigation_keys() {
    let mut s = with_list(&[
        ("a", WorkspaceState::Running),
        ("b", WorkspaceState::Running),
        ("c", WorkspaceState::Running),
    ]);
    update(&mut s, key('G'));
    assert_eq!(s.selected.as_deref(), Some("c"));
    update(&mut s, key('k'));
    assert_eq!(s.selected.as_deref(), Some("b"));
    update(&mut s, code(KeyCode::Home));
    assert_eq!(s.selected.as_deref(), Some("a"));
    update(&mut s, code(KeyCode::Up));
    assert_eq!(s.selected.as_deref(), Some("a"));
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Status);
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Logs);
    update(&mut s, code(KeyCode::BackTab));
    assert_eq!(s.focus, Focus::Status);
}

#[test]
fn long_lists_scroll_to_keep_the_selection_visible() {
    let names: Vec<String> = (0..200).map(|i| format!("w{i:03}")).collect();
    let mut s = state();
    s.size = (80, 24);
    let list = names
        .iter()
        .map(|n| ws(n, WorkspaceState::Running, 2200))
        .collect();
    update(&mut s, Msg::Backend(Event::Workspaces(list)));
    update(&mut s, key('G'));
    assert_eq!(s.selected.as_deref(), Some("w199"));
    assert!(s.list_offset > 150);
    update(&mut s, key('g'));
    assert_eq!(s.list_offset, 0);
    update(&mut s, code(KeyCode::PageDown));
    assert!(s.selected_index().unwrap() > 3);
}

#[test]
fn filter_is_live_and_esc_clears_it() {
    let mut s = with_list(&[
        ("api", WorkspaceState::Running),
        ("web", WorkspaceState::Stopped),
        ("api-2", WorkspaceState::Stopped),
    ]);
    update(&mut s, key('/'));
    assert_eq!(s.input, Some(LineInput::Filter));
    typed(&mut s, "api");
    assert_eq!(s.view.len(), 2);
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.input, None);
    assert_eq!(s.filter, "api");
    // Keys work normally again with the filter kept.
    update(&mut s, key('j'));
    assert_eq!(s.selected.as_deref(), Some("api-2"));
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.view.len(), 3);
    // Filter by state too.
    update(&mut s, key('/'));
    typed(&mut s, "stopped");
    assert_eq!(s.view.len(), 2);
    update(&mut s, code(KeyCode::Esc));
    assert_eq!(s.filter, "");
}

#[test]
fn sort_cycles_and_reverses() {
    let mut s = with_list(&[
        ("a", WorkspaceState::Stopped),
        ("b", WorkspaceState::Running),
        ("c", WorkspaceState::Running),
    ]);
    update(&mut s, key('o'));
    assert_eq!(s.sort, SortKey::State);
    assert_eq!(s.visible().next().unwrap().name, "b");
    update(&mut s, key('O'));
    assert_eq!(s.visible().next().unwrap().name, "a");
    for _ in 0..4 {
        update(&mut s, key('o'));
    }
    assert_eq!(s.sort, SortKey::Name);
}

#[test]
fn lifecycle_keys_start_jobs_and_jobs_report_progress() {
    let mut s = with_list(&[("a", WorkspaceState::Stopped)]);
    let fx = update(&mut s, key('s'));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::Start {
            job: 1,
            name: "a".into()
        })]
    );
    assert_eq!(s.jobs.len(), 1);
    let step = Progress::StepStarted {
        index: 2,
        total: 7,
        label: "ssh port".into(),
        description: "reserve an SSH port".into(),
    };
    update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 1,
            update: JobUpdate::Progress(step),
        }),
    );
    assert_eq!(s.jobs[0].step, Some((2, 7, "reserve an SSH port".into())));
    update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 1,
            update: JobUpdate::Done("started a".into()),
        }),
    );
    assert_eq!(s.jobs[0].state, JobState::Done("started a".into()));
    // Several at once, each with its own id.
    assert_eq!(
        update(&mut s, key('x')),
        vec![Effect::Backend(Command::Stop {
            job: 2,
            name: "a".into()
        })]
    );
    assert_eq!(
        update(&mut s, key('r')),
        vec![Effect::Backend(Command::Restart {
            job: 3,
            name: "a".into()
        })]
    );
    update(
        &mut s,
        Msg::Backend(Event::Job {
            job: 3,
            update: JobUpdate::Failed("boom".into()),
        }),
    );
    assert_eq!(s.last_error.as_deref(), Some("restart a: boom"));
    // Finished jobs fade after a few ticks; running ones stay.
    for t in 0..12 {
        update(&mut s, Msg::Tick { now: 10_000 + t });
    }
    assert_eq!(s.jobs.iter().map(|j| j.id).collect::<Vec<_>>(), [2]);
}

#[test]
fn delete_asks_and_can_keep_the_volume() {
    let mut s = with_list(&[("a", WorkspaceState::Running)]);
    // The dialog asks the backend what goes with the workspace.
    assert_eq!(
        update(&mut s, key('d')),
        vec![Effect::Backend(Command::PlanDelete { name: "a".into() })]
    );
    assert!(matches!(
        s.overlay,
        Overlay::Confirm {
            keep_volume: false,
            owned: None,
            ..
        }
    ));
    // Global keys do not leak into the dialog.
    assert!(update(&mut s, key('q')).is_empty());
    assert!(matches!(s.overlay, Overlay::None));
    update(&mut s, key('d'));
    update(&mut s, key('k'));
    // Not confirmed before the answer is shown; an answer for another is ignored.
    assert!(update(&mut s, code(KeyCode::Enter)).is_empty());
    let owned = crate::backend::sidecars::Owned {
        sidecars: vec![("db".into(), "workspace-a.db".into())],
        ..Default::default()
    };
    for name in ["other", "a"] {
        update(
            &mut s,
            Msg::Backend(Event::DeletePlan {
                name: name.into(),
                owned: Ok(owned.clone()),
            }),
        );
    }
    assert!(matches!(&s.overlay, Overlay::Confirm { owned: Some(Ok(o)), .. } if *o == owned));
    let fx = update(&mut s, code(KeyCode::Enter));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::Delete {
            job: 1,
            name: "a".into(),
            keep_volume: true
        })]
    );
    assert!(matches!(s.overlay, Overlay::None));
    update(&mut s, key('d'));
    assert!(update(&mut s, code(KeyCode::Esc)).is_empty());
    // An answer after the dialog closed changes nothing.
    update(
        &mut s,
        Msg::Backend(Event::DeletePlan {
            name: "a".into(),
            owned: Err("gone".into()),
        }),
    );
    assert!(matches!(s.overlay, Overlay::None));
}

#[test]
fn logs_follow_the_selection_and_search() {
    let mut s = with_list(&[
        ("a", WorkspaceState::Running),
        ("b", WorkspaceState::Running),
    ]);
    let line = |t: &str| RawLine {
        source: "workspace".into(),
        stderr: false,
        ts: None,
        text: t.into(),
    };
    update(
        &mut s,
        Msg::Backend(Event::Logs {
            name: "a".into(),
            lines: (0..30).map(|i| line(&format!("line {i}"))).collect(),
        }),
    );
    update(
        &mut s,
        Msg::Backend(Event::Logs {
            name: "b".into(),
            lines: vec![line("not mine")],
        }),
    );
    assert_eq!(s.logs.len(), 30);
    update(&mut s, code(KeyCode::Tab));
    update(&mut s, code(KeyCode::Tab));
    assert_eq!(s.focus, Focus::Logs);
    update(&mut s, key('/'));
    assert_eq!(s.input, Some(LineInput::Search));
    typed(&mut s, "line 1");
    update(&mut s, code(KeyCode::Enter));
    assert_eq!(s.logs.current, Some(19));
    // Searching starts at the newest line: n goes further back, N comes forward.
    update(&mut s, key('n'));
    assert_eq!(s.logs.current, Some(18));
    update(&mut s, key('N'));
    assert_eq!(s.logs.current, Some(19));
    assert!(s.logs.paused);
    update(&mut s, code(KeyCode::Esc));
    assert!(!s.logs.paused && s.logs.query.is_none());
    update(&mut s, key('t'));
    assert!(s.show_timestamps);
    let fx = update(&mut s, key('w'));
    assert!(
        matches!(&fx[..], [Effect::SaveLogs { name, content }] if name == "a" && content.contains("line 29"))
    );
    // Switching workspaces starts a fresh, following buffer.
    update(&mut s, code(KeyCode::BackTab));
    update(&mut s, code(KeyCode::BackTab));
    let fx = update(&mut s, key('j'));
    assert_eq!(fx, vec![Effect::Backend(Command::Select(Some("b".into())))]);
    assert!(s.logs.is_empty());
}

#[test]
fn engine_link_changes_show() {
    let mut s = with_list(&[("a", WorkspaceState::Running)]);
    update(
        &mut s,
        Msg::Backend(Event::Disconnected {
            endpoint: "unix:///x".into(),
            reason: "gone".into(),
            retry_in: Duration::from_secs(2),
        }),
    );
    assert!(s.engine_down());
    assert_eq!(s.workspaces.len(), 1, "the last known state stays");
    update(
        &mut s,
        Msg::Backend(Event::Connected {
            endpoint: "unix:///x".into(),
        }),
    );
    assert_eq!(
        s.link,
        EngineLink::Up {
            endpoint: "unix:///x".into()
        }
    );
}

#[test]
fn help_mouse_copy_and_quit() {
    let mut s = with_list(&[
        ("a", WorkspaceState::Running),
        ("b", WorkspaceState::Running),
        ("c", WorkspaceState::Running),
    ]);
    update(&mut s, key('?'));
    assert!(matches!(s.overlay, Overlay::Help { .. }));
    update(&mut s, code(KeyCode::Esc));
    assert!(matches!(s.overlay, Overlay::None));
    // Click the third row (border + header above it).
    let click = MouseEvent {
        kind: MouseEventKind::Down(MouseButton::Left),
        column: 5,
        row: 4,
        modifiers: KeyModifiers::NONE,
    };
    update(&mut s, Msg::Mouse(click));
    assert_eq!(s.selected.as_deref(), Some("c"));
    s.mouse = false;
    update(&mut s, Msg::Mouse(MouseEvent { row: 2, ..click }));
    assert_eq!(
        s.selected.as_deref(),
        Some("c"),
        "mouse off: clicks ignored"
    );
    // The backend builds the command (the same builder as `berth ssh`).
    let fx = update(&mut s, key('y'));
    assert_eq!(
        fx,
        vec![Effect::Backend(Command::SshCommand { name: "c".into() })]
    );
    let cmd = "ssh -p 2202 -o HostKeyAlias=berth-c workspace@127.0.0.1".to_string();
    let fx = update(
        &mut s,
        Msg::Backend(Event::SshCommand {
            name: "c".into(),
            command: Ok(cmd.clone()),
        }),
    );
    assert_eq!(fx, vec![Effect::Copy(cmd)]);
    assert!(s
        .notice
        .as_deref()
        .unwrap()
        .starts_with("copied: ssh -p 2202"));
    assert_eq!(update(&mut s, key('q')), vec![Effect::Quit]);
    assert!(s.quit);
}

#[test]
fn engine_events_are_kept_per_workspace_and_bounded() {
    let mut s = with_list(&[("a", WorkspaceState::Running)]);
    for i in 0..50 {
        let ev = crate::domain::observe::EngineEvent {
            name: "a".into(),
            container: "workspace-a".into(),
            action: format!("e{i}"),
            time: i,
        };
        update(&mut s, Msg::Backend(Event::Engine(ev)));
    }
    let q = &s.events["a"];
    assert_eq!(q.len(), 20);
    assert_eq!(q.back().unwrap().1, "e49");
}
