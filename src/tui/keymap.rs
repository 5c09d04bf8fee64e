//! Keys as data: per-mode bindings, embedded defaults, user `[keys.<mode>]` tables
//! from the config file merged over them. Bad entries are reported with file and line
//! and dropped, so the defaults stay usable.
pub use super::chord::{Chord, KeyCodeKey};
use crossterm::event::KeyEvent;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Mode {
    /// Applies in `normal` and `logs` unless they bind the key themselves.
    Global,
    Normal,
    Logs,
    Form,
    Confirm,
    Help,
    /// A focused shell: every key goes to it except these.
    Shell,
    /// The selected workspace's snapshots.
    Snapshots,
    /// The selected workspace's egress audit.
    Egress,
    /// The agent sessions.
    Agents,
    /// An agent session's diff against its base.
    Diff,
    /// Every `berth mcp` call, live.
    Mcp,
    /// The engine picker (several engines).
    Engines,
}

impl Mode {
    pub const ALL: [Mode; 13] = [
        Mode::Global,
        Mode::Normal,
        Mode::Logs,
        Mode::Form,
        Mode::Confirm,
        Mode::Help,
        Mode::Shell,
        Mode::Snapshots,
        Mode::Egress,
        Mode::Agents,
        Mode::Diff,
        Mode::Mcp,
        Mode::Engines,
    ];
    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Normal => "normal",
            Mode::Logs => "logs",
            Mode::Form => "form",
            Mode::Confirm => "confirm",
            Mode::Help => "help",
            Mode::Shell => "shell",
            Mode::Snapshots => "snapshots",
            Mode::Egress => "egress",
            Mode::Agents => "agents",
            Mode::Diff => "diff",
            Mode::Mcp => "mcp",
            Mode::Engines => "engines",
        }
    }
    fn parse(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

macro_rules! actions {
    ($($v:ident = $s:literal : $d:literal,)*) => {
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Action { $($v,)* }
        impl Action {
            pub const ALL: &'static [Action] = &[$(Action::$v,)*];
            pub fn name(self) -> &'static str { match self { $(Action::$v => $s,)* } }
            pub fn describe(self) -> &'static str { match self { $(Action::$v => $d,)* } }
            pub fn parse(s: &str) -> Option<Action> { match s { $($s => Some(Action::$v),)* _ => None } }
        }
    };
}

actions! {
    Quit = "quit": "quit berth",
    Help = "help": "show this help",
    FocusNext = "focus_next": "focus the next pane",
    FocusPrev = "focus_prev": "focus the previous pane",
    ThemeNext = "theme_next": "switch to the next theme",
    Create = "create": "create a workspace",
    Up = "up": "move up",
    Down = "down": "move down",
    Top = "top": "go to the top",
    Bottom = "bottom": "go to the bottom",
    PageUp = "page_up": "page up",
    PageDown = "page_down": "page down",
    Filter = "filter": "filter the list",
    ClearFilter = "clear_filter": "clear the filter",
    SortNext = "sort_next": "sort by the next column",
    SortReverse = "sort_reverse": "reverse the sort order",
    Start = "start": "start the workspace",
    Stop = "stop": "stop the workspace",
    Restart = "restart": "restart the workspace",
    Delete = "delete": "delete the workspace (asks first)",
    CopySsh = "copy_ssh": "copy the ssh command",
    CopyFiles = "copy_files": "copy files to or from the workspace (a form)",
    Search = "search": "search the logs",
    SearchNext = "search_next": "next match",
    SearchPrev = "search_prev": "previous match",
    ClearSearch = "clear_search": "clear the search and follow again",
    ToggleTimestamps = "toggle_timestamps": "show or hide timestamps",
    TogglePause = "toggle_pause": "pause or follow the logs",
    SaveLogs = "save_logs": "save the logs to a file",
    Submit = "submit": "submit the form (create, copy)",
    NextField = "next_field": "next field",
    PrevField = "prev_field": "previous field",
    Cancel = "cancel": "cancel",
    Confirm = "confirm": "confirm",
    ToggleKeep = "toggle_keep": "keep or drop the volume",
    Close = "close": "close",
    OpenShell = "open_shell": "open a shell in the workspace (a new tab)",
    NextTab = "next_tab": "next tab below the list (logs, shells)",
    PrevTab = "prev_tab": "previous tab below the list",
    ShellLeave = "shell_leave": "leave the shell (focus back to the panes)",
    ShellFullscreen = "shell_fullscreen": "shell full screen and back",
    ShellScrollUp = "shell_scroll_up": "scroll the shell back",
    ShellScrollDown = "shell_scroll_down": "scroll the shell forward",
    ShellReconnect = "shell_reconnect": "reconnect a disconnected shell",
    ShellClose = "shell_close": "close a disconnected shell's tab",
    Snapshots = "snapshots": "snapshots: take, restore, remove",
    SnapshotTake = "snapshot_take": "take a snapshot of the workspace",
    SnapshotRestore = "snapshot_restore": "restore the snapshot as a new workspace",
    SnapshotRemove = "snapshot_remove": "remove the snapshot (asks first)",
    Egress = "egress": "egress audit: requests through the proxy",
    EgressDenied = "egress_denied": "show denied requests only, or all",
    Agents = "agents": "agent sessions: attach, diff, bring back, merge, remove",
    McpActivity = "mcp_activity": "MCP activity: every `berth mcp` call, live",
    AgentAttach = "agent_attach": "attach to the agent's tmux session (a new tab)",
    AgentDiff = "agent_diff": "the branch's diff against its base",
    AgentBringBack = "agent_bring_back": "bring the branch back into the host repository (asks first)",
    AgentMerge = "agent_merge": "bring back, then merge into the base branch if clean (asks first)",
    AgentRemove = "agent_remove": "remove the session, its branch brought back (asks first)",
    NextFile = "next_file": "next file",
    PrevFile = "prev_file": "previous file",
    TogglePush = "toggle_push": "push the branch or not (removing an agent session)",
    Engines = "engines": "pick an engine to list, or all",
}

const DEFAULTS: &[(Mode, Action, &[&str])] = &[
    (Mode::Global, Action::Quit, &["q", "ctrl-c"]),
    (Mode::Global, Action::Help, &["?", "f1"]),
    (Mode::Global, Action::FocusNext, &["tab"]),
    (Mode::Global, Action::FocusPrev, &["backtab"]),
    (Mode::Global, Action::ThemeNext, &["ctrl-t"]),
    (Mode::Global, Action::Create, &["c"]),
    (Mode::Global, Action::Up, &["k", "up"]),
    (Mode::Global, Action::Down, &["j", "down"]),
    (Mode::Global, Action::Top, &["g", "home"]),
    (Mode::Global, Action::Bottom, &["G", "end"]),
    (Mode::Global, Action::PageUp, &["pageup", "ctrl-u"]),
    (Mode::Global, Action::PageDown, &["pagedown", "ctrl-d"]),
    (Mode::Global, Action::NextTab, &["]"]),
    (Mode::Global, Action::PrevTab, &["["]),
    (Mode::Normal, Action::OpenShell, &["enter"]),
    (Mode::Normal, Action::Filter, &["/"]),
    (Mode::Normal, Action::ClearFilter, &["esc"]),
    (Mode::Normal, Action::SortNext, &["o"]),
    (Mode::Normal, Action::SortReverse, &["O"]),
    (Mode::Normal, Action::Start, &["s"]),
    (Mode::Normal, Action::Stop, &["x"]),
    (Mode::Normal, Action::Restart, &["r"]),
    (Mode::Normal, Action::Delete, &["d", "delete"]),
    (Mode::Normal, Action::CopySsh, &["y"]),
    (Mode::Normal, Action::CopyFiles, &["C"]),
    (Mode::Normal, Action::Snapshots, &["b"]),
    (Mode::Normal, Action::Egress, &["E"]),
    (Mode::Normal, Action::Agents, &["A"]),
    (Mode::Normal, Action::McpActivity, &["M"]),
    (Mode::Normal, Action::Engines, &["e"]),
    (Mode::Logs, Action::Search, &["/"]),
    (Mode::Logs, Action::SearchNext, &["n"]),
    (Mode::Logs, Action::SearchPrev, &["N"]),
    (Mode::Logs, Action::ClearSearch, &["esc"]),
    (Mode::Logs, Action::ToggleTimestamps, &["t"]),
    (Mode::Logs, Action::TogglePause, &["p", "space"]),
    (Mode::Logs, Action::SaveLogs, &["w"]),
    (Mode::Form, Action::Submit, &["enter", "ctrl-s"]),
    (Mode::Form, Action::NextField, &["tab", "down"]),
    (Mode::Form, Action::PrevField, &["backtab", "up"]),
    (Mode::Form, Action::Cancel, &["esc"]),
    (Mode::Confirm, Action::Confirm, &["y", "enter"]),
    (Mode::Confirm, Action::ToggleKeep, &["k", "space"]),
    (Mode::Confirm, Action::Cancel, &["n", "esc", "q"]),
    (Mode::Confirm, Action::TogglePush, &["p"]),
    (Mode::Help, Action::Close, &["esc", "q", "?"]),
    (Mode::Help, Action::Up, &["k", "up"]),
    (Mode::Help, Action::Down, &["j", "down"]),
    (Mode::Snapshots, Action::SnapshotTake, &["s", "n"]),
    (Mode::Snapshots, Action::SnapshotRestore, &["r", "enter"]),
    (Mode::Snapshots, Action::SnapshotRemove, &["d", "delete"]),
    (Mode::Snapshots, Action::Up, &["k", "up"]),
    (Mode::Snapshots, Action::Down, &["j", "down"]),
    (Mode::Snapshots, Action::Close, &["esc", "q", "b"]),
    (Mode::Egress, Action::Search, &["/"]),
    (Mode::Egress, Action::EgressDenied, &["d"]),
    (Mode::Egress, Action::ClearSearch, &["esc"]),
    (Mode::Egress, Action::Up, &["k", "up"]),
    (Mode::Egress, Action::Down, &["j", "down"]),
    (Mode::Egress, Action::PageUp, &["pageup", "ctrl-u"]),
    (Mode::Egress, Action::PageDown, &["pagedown", "ctrl-d"]),
    (Mode::Egress, Action::Top, &["g", "home"]),
    (Mode::Egress, Action::Bottom, &["G", "end"]),
    (Mode::Egress, Action::Close, &["q", "E"]),
    (Mode::Agents, Action::Up, &["k", "up"]),
    (Mode::Agents, Action::Down, &["j", "down"]),
    (Mode::Agents, Action::AgentAttach, &["enter", "a"]),
    (Mode::Agents, Action::AgentDiff, &["d"]),
    (Mode::Agents, Action::AgentBringBack, &["b"]),
    (Mode::Agents, Action::AgentMerge, &["m"]),
    (Mode::Agents, Action::AgentRemove, &["x", "delete"]),
    (Mode::Agents, Action::Close, &["esc", "q", "A"]),
    (Mode::Diff, Action::Up, &["k", "up"]),
    (Mode::Diff, Action::Down, &["j", "down"]),
    (Mode::Diff, Action::PageUp, &["pageup", "ctrl-u"]),
    (Mode::Diff, Action::PageDown, &["pagedown", "ctrl-d"]),
    (Mode::Diff, Action::Top, &["g", "home"]),
    (Mode::Diff, Action::Bottom, &["G", "end"]),
    (Mode::Diff, Action::NextFile, &["n", "}"]),
    (Mode::Diff, Action::PrevFile, &["N", "{"]),
    (Mode::Diff, Action::Close, &["esc", "q", "d"]),
    (Mode::Mcp, Action::Up, &["k", "up"]),
    (Mode::Mcp, Action::Down, &["j", "down"]),
    (Mode::Mcp, Action::PageUp, &["pageup", "ctrl-u"]),
    (Mode::Mcp, Action::PageDown, &["pagedown", "ctrl-d"]),
    (Mode::Mcp, Action::Top, &["g", "home"]),
    (Mode::Mcp, Action::Bottom, &["G", "end"]),
    (Mode::Mcp, Action::Close, &["esc", "q", "M"]),
    (Mode::Engines, Action::Up, &["k", "up"]),
    (Mode::Engines, Action::Down, &["j", "down"]),
    (Mode::Engines, Action::Confirm, &["enter"]),
    (Mode::Engines, Action::Close, &["esc", "q", "e"]),
    (Mode::Shell, Action::ShellLeave, &["ctrl-]"]),
    (Mode::Shell, Action::ShellFullscreen, &["alt-enter"]),
    (Mode::Shell, Action::ShellScrollUp, &["shift-pageup"]),
    (Mode::Shell, Action::ShellScrollDown, &["shift-pagedown"]),
    (Mode::Shell, Action::ShellReconnect, &["r"]),
    (Mode::Shell, Action::ShellClose, &["x"]),
];

#[derive(Debug, Clone, PartialEq)]
pub struct Keymap {
    /// (mode, action) -> keys, in display order.
    bindings: BTreeMap<(Mode, Action), Vec<Chord>>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: line {line}: {msg}")]
pub struct KeyError {
    pub file: String,
    pub line: usize,
    pub msg: String,
}

pub use crate::config::{user_bindings, UserBinding};

impl Default for Keymap {
    fn default() -> Self {
        let mut bindings = BTreeMap::new();
        for (m, a, keys) in DEFAULTS {
            let chords = keys.iter().filter_map(|k| Chord::parse(k)).collect();
            bindings.insert((*m, *a), chords);
        }
        Self { bindings }
    }
}

/// Which modes see each other's keys (a key may not mean two things there).
fn shares_keys(a: Mode, b: Mode) -> bool {
    a == b
        || matches!(
            (a, b),
            (Mode::Global, Mode::Normal | Mode::Logs) | (Mode::Normal | Mode::Logs, Mode::Global)
        )
}

impl Keymap {
    /// Defaults with `user` merged over them; bad entries are returned as errors and skipped.
    pub fn with_user(user: &[UserBinding], file: &str) -> (Self, Vec<KeyError>) {
        let mut map = Self::default();
        let mut errors = Vec::new();
        for b in user {
            let err = |msg: String| KeyError {
                file: file.to_string(),
                line: b.line,
                msg,
            };
            let Some(mode) = Mode::parse(&b.mode) else {
                let modes: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
                errors.push(err(format!(
                    "unknown key mode `{}`; modes are {}",
                    b.mode,
                    modes.join(", ")
                )));
                continue;
            };
            let Some(action) = Action::parse(&b.action) else {
                errors.push(err(format!(
                    "keys.{}: unknown action `{}`",
                    b.mode, b.action
                )));
                continue;
            };
            let mut chords = Vec::new();
            let mut bad = None;
            for k in &b.keys {
                match Chord::parse(k) {
                    Some(c) => chords.push(c),
                    None => bad = Some(k.clone()),
                }
            }
            if let Some(k) = bad {
                errors.push(err(format!("keys.{}.{}: {k:?} is not a key (examples: \"j\", \"ctrl-c\", \"pagedown\", \"f5\")", b.mode, b.action)));
                continue;
            }
            // A key may not mean two things in the same place.
            let clash = map.bindings.iter().find_map(|((m, a), cs)| {
                let other = (*m, *a) != (mode, action) && shares_keys(*m, mode);
                other
                    .then(|| chords.iter().find(|c| cs.contains(c)).map(|c| (*m, *a, *c)))
                    .flatten()
            });
            if let Some((m, a, c)) = clash {
                errors.push(err(format!(
                    "keys.{}.{}: `{c}` is already bound to `{}` in {}; unbind it there first",
                    b.mode,
                    b.action,
                    a.name(),
                    m.name()
                )));
                continue;
            }
            map.bindings.insert((mode, action), chords);
        }
        (map, errors)
    }

    /// The action a key means in `mode` (mode first, then global where it applies).
    pub fn action(&self, mode: Mode, key: &KeyEvent) -> Option<Action> {
        let chord = Chord::from_event(key)?;
        let find = |m: Mode| {
            self.bindings
                .iter()
                .find(|((bm, _), cs)| *bm == m && cs.contains(&chord))
                .map(|((_, a), _)| *a)
        };
        find(mode).or_else(|| {
            matches!(mode, Mode::Normal | Mode::Logs)
                .then(|| find(Mode::Global))
                .flatten()
        })
    }

    /// Keys bound to `action` in `mode` ("j/down").
    pub fn keys(&self, mode: Mode, action: Action) -> String {
        let cs = self
            .bindings
            .get(&(mode, action))
            .or_else(|| self.bindings.get(&(Mode::Global, action)));
        cs.map(|cs| {
            cs.iter()
                .map(|c| c.to_string())
                .collect::<Vec<_>>()
                .join("/")
        })
        .unwrap_or_default()
    }

    /// The first key bound to `action` in `mode` (for compact hints).
    pub fn first_key(&self, mode: Mode, action: Action) -> String {
        let cs = self
            .bindings
            .get(&(mode, action))
            .or_else(|| self.bindings.get(&(Mode::Global, action)));
        cs.and_then(|cs| cs.first())
            .map(|c| c.to_string())
            .unwrap_or_default()
    }

    /// How many lines the help screen has: per mode a title, its keys and a blank
    /// line, then one closing line (panes::overlays::help draws exactly these).
    pub fn help_len(&self) -> usize {
        Mode::ALL
            .iter()
            .map(|m| self.entries(*m).len() + 2)
            .sum::<usize>()
            + 1
    }

    /// Every binding as `[keys.<mode>]` tables (for `berth config show`); read back
    /// by [`Keymap::with_user`] it gives this keymap.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        for mode in Mode::ALL {
            let entries: Vec<_> = self
                .bindings
                .iter()
                .filter(|((m, _), _)| *m == mode)
                .collect();
            if entries.is_empty() {
                continue;
            }
            out.push_str(&format!("\n[keys.{}]\n", mode.name()));
            for ((_, a), chords) in entries {
                let keys: Vec<String> = chords
                    .iter()
                    .map(|c| toml::Value::String(c.to_string()).to_string())
                    .collect();
                out.push_str(&format!("{} = [{}]\n", a.name(), keys.join(", ")));
            }
        }
        out
    }

    /// Every binding as JSON: {mode: {action: [keys]}}.
    pub fn to_json(&self) -> serde_json::Value {
        let mut modes = serde_json::Map::new();
        for ((m, a), chords) in &self.bindings {
            let keys: Vec<String> = chords.iter().map(|c| c.to_string()).collect();
            let entry = modes
                .entry(m.name().to_string())
                .or_insert_with(|| serde_json::Value::Object(Default::default()));
            if let Some(obj) = entry.as_object_mut() {
                obj.insert(a.name().to_string(), keys.into());
            }
        }
        serde_json::Value::Object(modes)
    }

    /// Every binding of a mode, for the help screen.
    pub fn entries(&self, mode: Mode) -> Vec<(Action, String)> {
        self.bindings
            .iter()
            .filter(|((m, _), cs)| *m == mode && !cs.is_empty())
            .map(|((_, a), _)| (*a, self.keys(mode, *a)))
            .collect()
    }
}

#[cfg(test)]
#[path = "keymap_tests.rs"]
mod tests;
