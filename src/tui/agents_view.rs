//! The agents view (an overlay): the agent sessions among the workspaces (agent,
//! repository, branch, state, commits ahead of base), with keys to attach to a
//! session's tmux session in a new shell tab, read its diff, and (after a
//! confirmation) bring its branch back, merge it into its base, or remove it.
//! Pure: keys and backend events in, state and effects out.
use super::diff_view::DiffView;
use super::keymap::{Action, Mode};
use super::state::{Effect, Overlay, State};
use super::update::new_job;
use crate::backend::service::{AgentAction, Command};
use crate::domain::agents::{AgentSession, TMUX_SESSION};
use crate::domain::workspace::WorkspaceState;
use crossterm::event::KeyEvent;

/// An action waiting for its confirmation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub name: String,
    pub action: AgentAction,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct AgentsView {
    pub selected: usize,
    pub confirm: Option<Pending>,
    /// The diff of a session, shown over the list.
    pub diff: Option<DiffView>,
}

/// One row: a session and its workspace's state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    pub session: AgentSession,
    pub state: WorkspaceState,
}

/// The agent sessions among the workspaces, by name.
pub fn rows(s: &State) -> Vec<Row> {
    let mut out: Vec<Row> = s
        .workspaces
        .iter()
        .filter_map(|w| {
            AgentSession::from_labels(&w.name, &w.labels).map(|session| Row {
                session,
                state: w.state,
            })
        })
        .collect();
    out.sort_by(|a, b| a.session.name.cmp(&b.session.name));
    out
}

/// The ahead count to show: the last known one ("-" when none; "?" when it
/// could not be read).
pub fn ahead_text(s: &State, name: &str) -> String {
    match s.agent_ahead.get(name) {
        Some(Ok(n)) => n.to_string(),
        Some(Err(_)) => "?".into(),
        None => "-".into(),
    }
}

pub(super) fn view(s: &mut State) -> Option<&mut AgentsView> {
    match &mut s.overlay {
        Overlay::Agents(v) => Some(v),
        _ => None,
    }
}

/// The remote command that attaches to the agent's tmux session.
pub fn attach_command() -> String {
    format!("tmux attach -t {TMUX_SESSION}")
}

/// Opens the view; the backend polls the ahead counts while it is open.
pub fn open(s: &mut State) -> Vec<Effect> {
    s.overlay = Overlay::Agents(Box::default());
    vec![Effect::Backend(Command::AgentsView(true))]
}

fn close(s: &mut State) -> Vec<Effect> {
    s.overlay = Overlay::None;
    vec![Effect::Backend(Command::AgentsView(false))]
}

/// New ahead counts (kept while the view is closed: the last known values).
pub fn on_ahead(s: &mut State, counts: std::collections::BTreeMap<String, Result<u32, String>>) {
    for (name, n) in counts {
        // A failed read keeps a value known before.
        match (n, s.agent_ahead.get(&name)) {
            (Err(_), Some(Ok(_))) => {}
            (n, _) => {
                s.agent_ahead.insert(name, n);
            }
        }
    }
    let names: Vec<String> = s.workspaces.iter().map(|w| w.name.clone()).collect();
    s.agent_ahead.retain(|n, _| names.contains(n));
}

/// Which keymap mode applies in the view.
pub fn mode(v: &AgentsView) -> Mode {
    if v.confirm.is_some() {
        Mode::Confirm
    } else if v.diff.is_some() {
        Mode::Diff
    } else {
        Mode::Agents
    }
}

/// A key while the view is open.
pub fn on_key(s: &mut State, k: KeyEvent) -> Vec<Effect> {
    let Some(v) = view(s) else { return vec![] };
    let mode = mode(v);
    let action = s.keymap.action(mode, &k);
    match mode {
        Mode::Confirm => on_confirm(s, action),
        Mode::Diff => super::diff_view::on_action(s, action),
        _ => on_action(s, action),
    }
}

fn on_action(s: &mut State, action: Option<Action>) -> Vec<Effect> {
    let rows = rows(s);
    let Some(v) = view(s) else { return vec![] };
    v.selected = v.selected.min(rows.len().saturating_sub(1));
    let current = rows.get(v.selected).cloned();
    match action {
        Some(Action::Close) => return close(s),
        Some(Action::Up) => v.selected = v.selected.saturating_sub(1),
        Some(Action::Down) => v.selected = (v.selected + 1).min(rows.len().saturating_sub(1)),
        Some(
            a @ (Action::AgentAttach
            | Action::AgentDiff
            | Action::AgentBringBack
            | Action::AgentMerge
            | Action::AgentRemove),
        ) => {
            let Some(row) = current else {
                s.notice = Some("no agent session selected".into());
                return vec![];
            };
            return on_session(s, a, row);
        }
        _ => {}
    }
    vec![]
}

fn on_session(s: &mut State, a: Action, row: Row) -> Vec<Effect> {
    let name = row.session.name.clone();
    let running = row.state == WorkspaceState::Running;
    let needs_repo = matches!(a, Action::AgentBringBack | Action::AgentMerge);
    if (a == Action::AgentAttach || a == Action::AgentDiff) && !running {
        s.notice = Some(format!("{name} is {}; start it first", row.state.as_str()));
        return vec![];
    }
    if needs_repo && row.session.repo.is_none() {
        s.notice = Some(format!("{name} has no host repository to bring back to"));
        return vec![];
    }
    let Some(v) = view(s) else { return vec![] };
    let action = match a {
        Action::AgentAttach => {
            // The tab takes the keys; the view closes (its poll with it).
            let mut fx = close(s);
            fx.extend(super::update_shell::open_on(
                s,
                name,
                Some(attach_command()),
            ));
            return fx;
        }
        Action::AgentDiff => {
            v.diff = Some(DiffView::new(&name));
            return vec![Effect::Backend(Command::AgentDiff { name })];
        }
        Action::AgentBringBack => AgentAction::BringBack,
        Action::AgentMerge => AgentAction::Merge,
        _ => AgentAction::Remove {
            push: !row.session.no_push && row.session.repo.is_some(),
        },
    };
    v.confirm = Some(Pending { name, action });
    vec![]
}

fn on_confirm(s: &mut State, action: Option<Action>) -> Vec<Effect> {
    let Some(v) = view(s) else { return vec![] };
    let Some(p) = v.confirm.clone() else {
        return vec![];
    };
    match action {
        Some(Action::Cancel) => v.confirm = None,
        Some(Action::TogglePush) => {
            if let Some(Pending {
                action: AgentAction::Remove { push },
                ..
            }) = &mut v.confirm
            {
                *push = !*push;
            }
        }
        Some(Action::Confirm) => {
            v.confirm = None;
            let what = match p.action {
                AgentAction::BringBack => "bring back",
                AgentAction::Merge => "merge",
                AgentAction::Remove { .. } => "remove",
            };
            let job = new_job(s, what, &p.name);
            return vec![Effect::Backend(Command::Agent {
                job,
                name: p.name,
                action: p.action,
            })];
        }
        _ => {}
    }
    vec![]
}

/// The question the confirmation asks.
pub fn question(p: &Pending, branch: &str) -> String {
    match p.action {
        AgentAction::BringBack => format!("Bring {branch} back into the host repository now?"),
        AgentAction::Merge => {
            format!("Bring {branch} back and merge it into its base (only if clean)?")
        }
        AgentAction::Remove { push: true } => {
            format!("Remove {} (bring {branch} back, push it)?", p.name)
        }
        AgentAction::Remove { push: false } => {
            format!("Remove {} (bring {branch} back, no push)?", p.name)
        }
    }
}
