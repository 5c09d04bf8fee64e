//! The snapshots view of a workspace (an overlay): its snapshots listed, keys to
//! take one, restore the selected one under a new name (a one-line prompt) and
//! remove one (after a confirmation). Pure: keys in, state and effects out.
use super::keymap::{Action, Mode};
use super::state::{Effect, Overlay, State};
use super::update::new_job;
use crate::backend::service::Command;
use crate::domain::naming::WorkspaceName;
use crate::domain::snapshot::SnapshotInfo;
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// What the view asks, if anything.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Prompt {
    None,
    /// The new workspace's name for a restore of `snapshot`.
    RestoreName {
        snapshot: String,
        input: String,
        error: Option<String>,
    },
    /// Remove `snapshot`? (confirm keys)
    Remove(String),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotView {
    pub workspace: String,
    /// `None` while loading; the error when listing failed.
    pub list: Option<Result<Vec<SnapshotInfo>, String>>,
    pub selected: usize,
    pub prompt: Prompt,
}

impl SnapshotView {
    pub fn new(workspace: &str) -> Self {
        Self {
            workspace: workspace.to_string(),
            list: None,
            selected: 0,
            prompt: Prompt::None,
        }
    }

    /// A removal waits for its confirmation (the confirm keys apply).
    pub fn confirming(&self) -> bool {
        matches!(self.prompt, Prompt::Remove(_))
    }

    /// The new name is being typed (keys are text).
    pub fn typing(&self) -> bool {
        matches!(self.prompt, Prompt::RestoreName { .. })
    }

    pub fn snapshots(&self) -> &[SnapshotInfo] {
        match &self.list {
            Some(Ok(l)) => l,
            _ => &[],
        }
    }

    pub fn current(&self) -> Option<&SnapshotInfo> {
        self.snapshots().get(self.selected)
    }
}

fn view(s: &mut State) -> Option<&mut SnapshotView> {
    match &mut s.overlay {
        Overlay::Snapshots(v) => Some(v),
        _ => None,
    }
}

fn list_cmd(workspace: &str) -> Effect {
    Effect::Backend(Command::ListSnapshots {
        workspace: workspace.to_string(),
    })
}

/// Opens the view for the selected workspace and asks for its snapshots.
pub fn open(s: &mut State) -> Vec<Effect> {
    let Some(name) = s.selected_workspace().map(|w| w.name.clone()) else {
        s.notice = Some("no workspace selected".into());
        return vec![];
    };
    s.overlay = Overlay::Snapshots(Box::new(SnapshotView::new(&name)));
    vec![list_cmd(&name)]
}

/// The backend's list: shown if the view is open on that workspace.
pub fn on_list(s: &mut State, workspace: String, list: Result<Vec<SnapshotInfo>, String>) {
    if let Some(v) = view(s).filter(|v| v.workspace == workspace) {
        let n = list.as_ref().map_or(0, Vec::len);
        v.selected = v.selected.min(n.saturating_sub(1));
        v.list = Some(list);
    }
}

/// A snapshot job ended: the open view lists again.
pub fn on_job_end(s: &mut State, action: &str) -> Vec<Effect> {
    if !matches!(action, "snapshot" | "restore" | "snapshot rm") {
        return vec![];
    }
    match view(s) {
        Some(v) => vec![list_cmd(&v.workspace)],
        None => vec![],
    }
}

/// A key while the view is open.
pub fn on_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    let typing = view(s).is_some_and(|v| v.typing());
    if typing {
        return on_name_key(s, k);
    }
    let mode = s.key_mode();
    let action = s.keymap.action(mode, &k);
    if mode == Mode::Confirm {
        return on_confirm(s, action);
    }
    let taken: Vec<String> = s.workspaces.iter().map(|w| w.name.clone()).collect();
    let Some(v) = view(s) else {
        return vec![];
    };
    let n = v.snapshots().len();
    match action {
        Some(Action::Close) => {
            s.overlay = Overlay::None;
            vec![]
        }
        Some(Action::Up) => {
            v.selected = v.selected.saturating_sub(1);
            vec![]
        }
        Some(Action::Down) => {
            v.selected = (v.selected + 1).min(n.saturating_sub(1));
            vec![]
        }
        Some(Action::SnapshotTake) => {
            let name = v.workspace.clone();
            let job = new_job(s, "snapshot", &name);
            vec![Effect::Backend(Command::Snapshot { job, name })]
        }
        Some(Action::SnapshotRestore) => {
            match v.current().map(|c| (c.name.clone(), c.complete)) {
                Some((snapshot, true)) => {
                    let input = free_name(&v.workspace, &taken);
                    v.prompt = Prompt::RestoreName {
                        snapshot,
                        input,
                        error: None,
                    };
                }
                Some((name, false)) => {
                    s.notice = Some(format!("snapshot {name} is incomplete; remove it"))
                }
                None => s.notice = Some("no snapshot selected".into()),
            }
            vec![]
        }
        Some(Action::SnapshotRemove) => {
            if let Some(c) = v.current() {
                v.prompt = Prompt::Remove(c.name.clone());
            }
            vec![]
        }
        _ => vec![],
    }
}

/// A suggested name for a restore: `NAME-copy`, `NAME-copy-2`, ... (valid, free).
pub fn free_name(workspace: &str, taken: &[String]) -> String {
    let base: String = workspace.chars().take(50).collect();
    (1..100)
        .map(|i| match i {
            1 => format!("{base}-copy"),
            i => format!("{base}-copy-{i}"),
        })
        .find(|n| !taken.contains(n))
        .unwrap_or_default()
}

fn on_confirm(s: &mut State, action: Option<Action>) -> Vec<Effect> {
    let Some(v) = view(s) else {
        return vec![];
    };
    let Prompt::Remove(snapshot) = v.prompt.clone() else {
        return vec![];
    };
    match action {
        Some(Action::Confirm) => {
            v.prompt = Prompt::None;
            let job = new_job(s, "snapshot rm", &snapshot);
            vec![Effect::Backend(Command::RemoveSnapshot { job, snapshot })]
        }
        Some(Action::Cancel) => {
            v.prompt = Prompt::None;
            vec![]
        }
        _ => vec![],
    }
}

fn on_name_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    let taken: Vec<String> = s.workspaces.iter().map(|w| w.name.clone()).collect();
    let Some(v) = view(s) else {
        return vec![];
    };
    let Prompt::RestoreName {
        snapshot,
        input,
        error,
    } = &mut v.prompt
    else {
        return vec![];
    };
    let ctrl = k.modifiers.contains(KeyModifiers::CONTROL);
    match k.code {
        KeyCode::Esc => v.prompt = Prompt::None,
        KeyCode::Char('c') if ctrl => v.prompt = Prompt::None,
        KeyCode::Char('u') if ctrl => input.clear(),
        KeyCode::Backspace => {
            input.pop();
        }
        KeyCode::Enter => {
            let problem = match WorkspaceName::parse(input) {
                Err(e) => Some(e.to_string()),
                Ok(n) if taken.iter().any(|t| t == n.as_str()) => {
                    Some(format!("workspace {n} exists already; pick another name"))
                }
                Ok(_) => None,
            };
            if problem.is_some() {
                *error = problem;
                return vec![];
            }
            let (snapshot, name) = (snapshot.clone(), input.clone());
            v.prompt = Prompt::None;
            let job = new_job(s, "restore", &name);
            return vec![Effect::Backend(Command::Restore {
                job,
                snapshot,
                name,
            })];
        }
        KeyCode::Char(c) if !ctrl => {
            input.push(c);
            *error = None;
        }
        _ => {}
    }
    vec![]
}
