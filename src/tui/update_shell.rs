//! Shell tabs in `update`: opening, feeding output, keys, resizes, exits and
//! disconnects. The sessions themselves live in the loop; this only asks for them.
use super::keymap::{Action, Mode};
use super::layout;
use super::state::{Bottom, Effect, Focus, ShellStatus, ShellTab, State};
use super::update::current_areas;
use crate::backend::service::Command;
use crate::domain::workspace::WorkspaceState;
use crate::terminal::keys::{encode_key, encode_mouse, encode_paste};
use crate::terminal::session::SessionEvent;
use crate::terminal::term::Term;
use crossterm::event::{KeyEvent, MouseEvent, MouseEventKind};

/// Exit status ssh uses for "the connection went away".
const SSH_LOST: i32 = 255;

fn desired_size(s: &State) -> (u16, u16) {
    let mut probe = s.layout_flags();
    probe.tabs = true;
    probe.shell = true;
    let a = layout::areas(ratatui::layout::Rect::new(0, 0, s.size.0, s.size.1), &probe);
    a.shell.map_or((24, 80), layout::shell_size)
}

/// Opens a new shell tab on the selected workspace.
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some(w) = s.selected_workspace() else {
        s.notice = Some("no workspace selected".into());
        return vec![];
    };
    if w.state != WorkspaceState::Running {
        s.notice = Some(format!(
            "{} is {}; start it first",
            w.name,
            w.state.as_str()
        ));
        return vec![];
    }
    let name = w.name.clone();
    open_on(s, name, None)
}

/// Opens a new shell tab on running workspace `name`, running `remote` there
/// instead of the shell when given (e.g. attaching to an agent's tmux session).
pub fn open_on(s: &mut State, name: String, remote: Option<String>) -> Vec<Effect> {
    let id = s.next_shell;
    s.next_shell += 1;
    let (rows, cols) = desired_size(s);
    s.shells.push(ShellTab {
        id,
        workspace: name.clone(),
        term: Term::new(rows, cols),
        status: ShellStatus::Connecting,
        // Opening it is a use (the backend records it with the tab).
        used_at: s.now,
        remote: remote.clone(),
    });
    s.bottom = Bottom::Shell(id);
    s.focus = Focus::Shell;
    vec![Effect::Backend(Command::PrepareShell { id, name, remote })]
}

/// The backend has the command line: start the session.
pub fn ready(s: &mut State, id: u64, argv: Vec<String>, env: Vec<(String, String)>) -> Vec<Effect> {
    let Some(t) = s.shell_mut(id) else {
        return vec![];
    };
    t.status = ShellStatus::Running;
    let (rows, cols) = t.term.size();
    vec![Effect::SpawnShell {
        id,
        argv,
        env,
        rows,
        cols,
    }]
}

pub fn failed(s: &mut State, id: u64, reason: String) -> Vec<Effect> {
    if let Some(t) = s.shell_mut(id) {
        t.status = ShellStatus::Disconnected(reason);
    }
    vec![]
}

/// Output or exit from a session.
pub fn on_session(s: &mut State, id: u64, ev: SessionEvent) -> Vec<Effect> {
    match ev {
        SessionEvent::Output(bytes) => {
            let Some(t) = s.shell_mut(id) else {
                return vec![];
            };
            let replies = t.term.feed(&bytes);
            t.term.take_bell();
            let mut fx = Vec::new();
            if !replies.is_empty() {
                fx.push(Effect::ShellInput { id, bytes: replies });
            }
            fx.extend(super::shell_use::touched(s, id));
            fx
        }
        SessionEvent::Exited(code) => {
            let Some(t) = s.shell(id) else { return vec![] };
            let running = s
                .workspaces
                .iter()
                .any(|w| w.name == t.workspace && w.state == WorkspaceState::Running);
            if code == Some(SSH_LOST) || !running {
                let why = if running {
                    "connection lost"
                } else {
                    "the workspace stopped"
                };
                if let Some(t) = s.shell_mut(id) {
                    t.status = ShellStatus::Disconnected(why.into());
                }
                return vec![];
            }
            let ws = t.workspace.clone();
            s.notice = Some(match code {
                Some(c) => format!("shell on {ws} exited with status {c}"),
                None => format!("shell on {ws} ended"),
            });
            close(s, id)
        }
    }
}

/// Removes a tab; focus and the bottom pane move somewhere sensible.
pub fn close(s: &mut State, id: u64) -> Vec<Effect> {
    let Some(pos) = s.shells.iter().position(|t| t.id == id) else {
        return vec![];
    };
    s.shells.remove(pos);
    if s.bottom == Bottom::Shell(id) {
        s.bottom = match s.shells.get(pos.min(s.shells.len().saturating_sub(1))) {
            Some(t) => Bottom::Shell(t.id),
            None => Bottom::Logs,
        };
        if s.focus == Focus::Shell {
            s.focus = if s.shells.is_empty() {
                Focus::List
            } else {
                Focus::Shell
            };
        }
    }
    if s.shells.is_empty() {
        s.fullscreen = false;
    }
    vec![Effect::KillShell { id }]
}

/// Shells of workspaces that stopped are marked disconnected (and their sessions ended).
pub fn on_workspaces(s: &mut State) -> Vec<Effect> {
    let mut fx = Vec::new();
    let running: Vec<String> = s
        .workspaces
        .iter()
        .filter(|w| w.state == WorkspaceState::Running)
        .map(|w| w.name.clone())
        .collect();
    for t in &mut s.shells {
        if running.contains(&t.workspace) || t.status == ShellStatus::Connecting {
            continue;
        }
        if t.status == ShellStatus::Running {
            fx.push(Effect::KillShell { id: t.id });
        }
        t.status = ShellStatus::Disconnected("the workspace stopped".into());
    }
    fx
}

/// Keeps every shell's size equal to its pane; the session follows.
pub fn sync_sizes(s: &mut State) -> Vec<Effect> {
    if s.shells.is_empty() {
        return vec![];
    }
    let (rows, cols) = desired_size(s);
    let mut fx = Vec::new();
    for t in &mut s.shells {
        if t.term.size() != (rows, cols) {
            t.term.resize(rows, cols);
            if t.status == ShellStatus::Running {
                fx.push(Effect::ShellResize {
                    id: t.id,
                    rows,
                    cols,
                });
            }
        }
    }
    fx
}

/// Next (`step` 1) or previous (`step` -1) tab below the list: logs, then shells.
pub fn cycle_tab(s: &mut State, step: isize) {
    let mut tabs = vec![Bottom::Logs];
    tabs.extend(s.shells.iter().map(|t| Bottom::Shell(t.id)));
    let i = tabs.iter().position(|b| *b == s.bottom).unwrap_or(0) as isize;
    s.bottom = tabs[(i + step).rem_euclid(tabs.len() as isize) as usize];
    if matches!(s.focus, Focus::Logs | Focus::Shell) {
        s.focus = if s.bottom == Bottom::Logs {
            Focus::Logs
        } else {
            Focus::Shell
        };
    }
}

/// A key while a shell has focus: reserved chords first, everything else to the shell.
pub fn on_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    let Bottom::Shell(id) = s.bottom else {
        s.focus = Focus::List;
        return vec![];
    };
    let page = desired_size(s).0 as usize;
    let action = s.keymap.action(Mode::Shell, &k);
    let Some(t) = s.shell_mut(id) else {
        return vec![];
    };
    match action {
        Some(Action::ShellLeave) => {
            s.focus = Focus::List;
            s.fullscreen = false;
            return sync_sizes(s);
        }
        Some(Action::ShellFullscreen) => {
            s.fullscreen = !s.fullscreen;
            return sync_sizes(s);
        }
        Some(Action::ShellScrollUp) => {
            let n = t.term.scrollback() + page / 2;
            t.term.set_scrollback(n);
            return vec![];
        }
        Some(Action::ShellScrollDown) => {
            let n = t.term.scrollback().saturating_sub(page / 2);
            t.term.set_scrollback(n);
            return vec![];
        }
        _ => {}
    }
    match (&t.status, action) {
        (ShellStatus::Running, _) => {
            t.term.set_scrollback(0);
            let mut fx = match encode_key(&k, t.term.modes()) {
                Some(bytes) => vec![Effect::ShellInput { id, bytes }],
                None => vec![],
            };
            fx.extend(super::shell_use::touched(s, id));
            fx
        }
        (ShellStatus::Disconnected(_), Some(Action::ShellReconnect)) => {
            let (ws, remote) = (t.workspace.clone(), t.remote.clone());
            let (rows, cols) = t.term.size();
            t.term = Term::new(rows, cols);
            t.status = ShellStatus::Connecting;
            vec![Effect::Backend(Command::PrepareShell {
                id,
                name: ws,
                remote,
            })]
        }
        (ShellStatus::Disconnected(_), Some(Action::ShellClose)) => close(s, id),
        _ => vec![],
    }
}

pub fn on_paste(s: &mut State, text: &str) -> Vec<Effect> {
    let Bottom::Shell(id) = s.bottom else {
        return vec![];
    };
    match s.shell(id) {
        Some(t) if t.status == ShellStatus::Running => vec![Effect::ShellInput {
            id,
            bytes: encode_paste(text, t.term.modes()),
        }],
        _ => vec![],
    }
}

/// A mouse event over the shell pane: to the program if it asked for the mouse,
/// else the wheel scrolls back.
pub fn on_mouse(s: &mut State, m: MouseEvent) -> Vec<Effect> {
    let Some(area) = current_areas(s).shell else {
        return vec![];
    };
    let Bottom::Shell(id) = s.bottom else {
        return vec![];
    };
    let (col, row) = (
        m.column.saturating_sub(area.x + 1),
        m.row.saturating_sub(area.y + 1),
    );
    let focused = s.focus == Focus::Shell;
    let Some(t) = s.shell_mut(id) else {
        return vec![];
    };
    let modes = t.term.modes();
    if focused && t.status == ShellStatus::Running {
        if let Some(bytes) = encode_mouse(&m, col, row, modes) {
            return vec![Effect::ShellInput { id, bytes }];
        }
    }
    match m.kind {
        MouseEventKind::ScrollUp => {
            let n = t.term.scrollback() + 3;
            t.term.set_scrollback(n);
        }
        MouseEventKind::ScrollDown => {
            let n = t.term.scrollback().saturating_sub(3);
            t.term.set_scrollback(n);
        }
        MouseEventKind::Down(_) => s.focus = Focus::Shell,
        _ => {}
    }
    vec![]
}
