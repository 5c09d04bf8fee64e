//! All UI state, owned by the loop. Background tasks never write it; they send
//! messages that `update` applies.
use super::form::CreateForm;
use super::keymap::Keymap;
use super::logbuf::LogBuffer;
use super::theme::Theme;
use crate::backend::service::Command;
use crate::backend::Progress;
use crate::domain::observe::Stats;
use crate::domain::workspace::{Workspace, WorkspaceState};
use std::collections::{BTreeMap, VecDeque};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    List,
    Status,
    Logs,
    /// The active shell tab: keys go to the shell.
    Shell,
}

/// What the pane below the list shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bottom {
    Logs,
    Shell(u64),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShellStatus {
    Connecting,
    Running,
    /// The session ended without the shell exiting (workspace stopped, network).
    Disconnected(String),
}

/// One shell tab: its screen model and where its session stands.
pub struct ShellTab {
    pub id: u64,
    pub workspace: String,
    pub term: crate::terminal::term::Term,
    pub status: ShellStatus,
    /// When a use of its workspace was last sent (see `shell_use`).
    pub used_at: i64,
    /// What it runs instead of the shell (`None`: the shell).
    pub remote: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortKey {
    Name,
    State,
    Port,
    Image,
    Uptime,
}

impl SortKey {
    pub const ALL: [SortKey; 5] = [
        SortKey::Name,
        SortKey::State,
        SortKey::Port,
        SortKey::Image,
        SortKey::Uptime,
    ];
    pub fn next(self) -> Self {
        let i = Self::ALL.iter().position(|k| *k == self).unwrap_or(0);
        Self::ALL[(i + 1) % Self::ALL.len()]
    }
}

/// A one-line text input (filter, log search).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineInput {
    Filter,
    Search,
}

pub enum Overlay {
    None,
    Help {
        scroll: usize,
    },
    Confirm {
        name: String,
        keep_volume: bool,
        /// What goes with it (sidecars, services, their volumes), as the backend
        /// answered; `None` while it has not yet.
        owned: Option<Result<crate::backend::sidecars::Owned, String>>,
    },
    Form(Box<CreateForm>),
    /// The copy form for one workspace.
    Copy(Box<super::copy_form::CopyForm>),
    /// `q` while jobs run: asks first; once confirmed (`waiting`), the jobs are
    /// cancelled and berth quits when every one of them has ended (rolled back).
    Quit {
        waiting: bool,
    },
    /// The selected workspace's snapshots.
    Snapshots(Box<super::snapshot_view::SnapshotView>),
    /// The selected workspace's egress audit.
    Egress(Box<super::egress_view::EgressView>),
    /// The agent sessions (and one's diff).
    Agents(Box<super::agents_view::AgentsView>),
    /// Every `berth mcp` call, live.
    Mcp(Box<super::mcp_view::McpView>),
    /// The engine picker: "all", then each engine (`cursor` on one row).
    Engines {
        cursor: usize,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub enum JobState {
    Running,
    Done(String),
    Failed(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    pub id: u64,
    pub action: String,
    pub name: String,
    /// (index, total, description) of the running step.
    pub step: Option<(usize, usize, String)>,
    pub last_output: Option<String>,
    pub state: JobState,
    /// Tick when it ended (finished jobs fade after a few seconds).
    pub ended_tick: Option<u64>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum EngineLink {
    Connecting,
    Up {
        endpoint: String,
    },
    Down {
        endpoint: String,
        reason: String,
        retry_in_secs: f64,
    },
}

impl EngineLink {
    /// The engine answered, or was found away: no longer connecting.
    pub fn heard_from(&self) -> bool {
        !matches!(self, Self::Connecting)
    }
}

/// Something the loop must do for `update` (which never does I/O itself).
/// Its Debug output may hold what a user typed into a shell: log `kind()` instead.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Backend(Command),
    /// Put text on the clipboard (OSC 52).
    Copy(String),
    /// Write the logs to a file under the state directory.
    SaveLogs {
        name: String,
        content: String,
    },
    /// Remember the create form's choices (a file in the state directory).
    RememberForm(super::form_memory::FormChoices),
    /// Start a shell session in a PTY.
    SpawnShell {
        id: u64,
        argv: Vec<String>,
        env: Vec<(String, String)>,
        rows: u16,
        cols: u16,
    },
    ShellInput {
        id: u64,
        bytes: Vec<u8>,
    },
    ShellResize {
        id: u64,
        rows: u16,
        cols: u16,
    },
    KillShell {
        id: u64,
    },
    Quit,
}

pub struct State {
    pub workspaces: Vec<Workspace>,
    /// Indexes into `workspaces`, filtered and sorted.
    pub view: Vec<usize>,
    pub selected: Option<String>,
    pub list_offset: usize,
    pub filter: String,
    pub input: Option<LineInput>,
    pub input_buf: String,
    pub sort: SortKey,
    pub sort_desc: bool,
    pub focus: Focus,
    pub overlay: Overlay,
    pub logs: LogBuffer,
    pub logs_for: Option<String>,
    pub show_timestamps: bool,
    pub stats: Option<(String, Stats)>,
    /// Recent engine events per workspace: (time, action).
    pub events: BTreeMap<String, VecDeque<(i64, String)>>,
    pub jobs: Vec<Job>,
    pub next_job: u64,
    pub link: EngineLink,
    pub last_error: Option<String>,
    pub notice: Option<String>,
    pub themes: Vec<Theme>,
    pub theme: usize,
    pub keymap: Keymap,
    /// Problems with the user's keymap or themes, shown until dismissed by a key.
    pub config_problems: Vec<String>,
    /// The config file has an error: berth runs on its defaults (shown all along).
    pub config_ignored: bool,
    pub now: i64,
    pub tick: u64,
    pub size: (u16, u16),
    pub mouse: bool,
    pub quit: bool,
    /// Address clients use for published ports (for the copied ssh command).
    pub ssh_host: String,
    pub default_image: String,
    /// The create form's last choices (preselected next time).
    pub form_choices: super::form_memory::FormChoices,
    pub shells: Vec<ShellTab>,
    pub bottom: Bottom,
    /// The active shell fills the screen.
    pub fullscreen: bool,
    pub next_shell: u64,
    /// Live counters of the proxy workspaces (requests, denied), by name.
    pub egress_counts: BTreeMap<String, crate::domain::egress_audit::EgressCounts>,
    /// Records the egress audit view keeps (`[tui] egress_records`).
    pub egress_records: usize,
    /// The latest check of every container runtime (`None` until the first).
    pub runtimes: Option<crate::domain::runtime::Report>,
    /// Who runs the background jobs ("this TUI", "daemon pid 4121"); `None`
    /// until known.
    pub jobs_runner: Option<String>,
    /// The selected workspace's activity as last observed (by name), or why
    /// berth cannot tell.
    pub activity: Option<(
        String,
        Result<crate::backend::activity_watch::ActivityView, String>,
    )>,
    /// When each workspace's TTL runs out (`None`: never), by name.
    pub deadlines: BTreeMap<String, Option<i64>>,
    /// The recorded uses and TTLs the deadlines come from, with the default TTL.
    pub use_records: (
        crate::backend::activity_watch::Records,
        crate::domain::ttl::Ttl,
    ),
    /// The alerts that hold (`backend::alerts`), newest check.
    pub alerts: Vec<crate::domain::alerts::Alert>,
    /// Home volume sizes in bytes by workspace name, as far as known.
    pub volume_sizes: std::collections::BTreeMap<String, u64>,
    /// Agent sessions' commits ahead of base, last known (or why not), by name.
    pub agent_ahead: BTreeMap<String, Result<u32, String>>,
    /// `berth mcp` calls running now (a status bar hint).
    pub mcp_running: usize,
    /// The engines, their links, the engine filter and the selected row's engine.
    pub engines: super::engines::Engines,
}

impl Effect {
    /// What kind of effect, without its content (safe to log).
    pub fn kind(&self) -> &'static str {
        match self {
            Effect::Backend(_) => "backend command",
            Effect::Copy(_) => "copy",
            Effect::SaveLogs { .. } => "save logs",
            Effect::RememberForm(_) => "remember form choices",
            Effect::SpawnShell { .. } => "spawn shell",
            Effect::ShellInput { .. } => "shell input",
            Effect::ShellResize { .. } => "shell resize",
            Effect::KillShell { .. } => "kill shell",
            Effect::Quit => "quit",
        }
    }
}

impl State {
    /// Which keymap mode applies to a key right now (None: a line input or a
    /// focused shell takes keys itself).
    pub fn key_mode(&self) -> super::keymap::Mode {
        use super::keymap::Mode;
        match &self.overlay {
            Overlay::Form(_) | Overlay::Copy(_) => Mode::Form,
            Overlay::Confirm { .. } | Overlay::Quit { .. } => Mode::Confirm,
            Overlay::Help { .. } => Mode::Help,
            Overlay::Snapshots(v) if v.confirming() => Mode::Confirm,
            Overlay::Snapshots(_) => Mode::Snapshots,
            Overlay::Egress(_) => Mode::Egress,
            Overlay::Agents(v) => super::agents_view::mode(v),
            Overlay::Mcp(_) => Mode::Mcp,
            Overlay::Engines { .. } => Mode::Engines,
            Overlay::None if self.focus == Focus::Logs => Mode::Logs,
            Overlay::None if self.focus == Focus::Shell => Mode::Shell,
            Overlay::None => Mode::Normal,
        }
    }

    /// The cursor shape the outer terminal should show: the focused shell's
    /// (DECSCUSR), else the user's own.
    pub fn cursor_shape(&self) -> crate::terminal::screen::CursorShape {
        match self.active_shell() {
            Some(t)
                if self.focus == Focus::Shell
                    && matches!(self.overlay, Overlay::None)
                    && t.status == ShellStatus::Running
                    && t.term.scrollback() == 0 =>
            {
                t.term.cursor().shape
            }
            _ => Default::default(),
        }
    }

    /// Jobs still running.
    pub fn running_jobs(&self) -> usize {
        self.jobs
            .iter()
            .filter(|j| j.state == JobState::Running)
            .count()
    }

    pub fn new(themes: Vec<Theme>, theme: usize, keymap: Keymap, log_lines: usize) -> Self {
        Self {
            workspaces: Vec::new(),
            view: Vec::new(),
            selected: None,
            list_offset: 0,
            filter: String::new(),
            input: None,
            input_buf: String::new(),
            sort: SortKey::Name,
            sort_desc: false,
            focus: Focus::List,
            overlay: Overlay::None,
            logs: LogBuffer::new(log_lines),
            logs_for: None,
            show_timestamps: false,
            stats: None,
            events: BTreeMap::new(),
            jobs: Vec::new(),
            next_job: 1,
            link: EngineLink::Connecting,
            last_error: None,
            notice: None,
            themes,
            theme,
            keymap,
            config_problems: Vec::new(),
            config_ignored: false,
            now: 0,
            tick: 0,
            size: (80, 24),
            mouse: true,
            quit: false,
            ssh_host: "127.0.0.1".into(),
            default_image: String::new(),
            form_choices: Default::default(),
            shells: Vec::new(),
            bottom: Bottom::Logs,
            fullscreen: false,
            next_shell: 1,
            egress_counts: BTreeMap::new(),
            egress_records: super::egress_ring::DEFAULT_RECORDS,
            runtimes: None,
            jobs_runner: None,
            activity: None,
            deadlines: BTreeMap::new(),
            use_records: Default::default(),
            alerts: Vec::new(),
            volume_sizes: Default::default(),
            agent_ahead: BTreeMap::new(),
            mcp_running: 0,
            engines: Default::default(),
        }
    }

    pub fn shell(&self, id: u64) -> Option<&ShellTab> {
        self.shells.iter().find(|t| t.id == id)
    }

    pub fn shell_mut(&mut self, id: u64) -> Option<&mut ShellTab> {
        self.shells.iter_mut().find(|t| t.id == id)
    }

    /// The shell tab shown below the list, if a shell is shown there.
    pub fn active_shell(&self) -> Option<&ShellTab> {
        match self.bottom {
            Bottom::Shell(id) => self.shell(id),
            Bottom::Logs => None,
        }
    }

    /// Layout inputs derived from the state.
    pub fn layout_flags(&self) -> super::layout::Flags {
        super::layout::Flags {
            banner: self.engine_down()
                || self.runtime_banner().is_some()
                || self.alert_banner().is_some(),
            jobs: self.jobs.len(),
            focus: self.focus,
            input: self.input.is_some(),
            tabs: !self.shells.is_empty(),
            shell: self.active_shell().is_some(),
            fullscreen: self.fullscreen
                && self.focus == Focus::Shell
                && self.active_shell().is_some(),
        }
    }

    pub fn theme(&self) -> &Theme {
        &self.themes[self.theme.min(self.themes.len().saturating_sub(1))]
    }

    pub fn selected_workspace(&self) -> Option<&Workspace> {
        self.workspaces.iter().find(|w| self.is_selected(w))
    }

    pub fn selected_index(&self) -> Option<usize> {
        self.view
            .iter()
            .position(|i| self.is_selected(&self.workspaces[*i]))
    }

    /// `w` is the selected workspace (its name, and its engine once known).
    pub fn is_selected(&self, w: &Workspace) -> bool {
        self.selected.as_ref() == Some(&w.name)
            && self
                .engines
                .selected
                .as_ref()
                .is_none_or(|e| *e == w.engine)
    }

    pub fn visible(&self) -> impl Iterator<Item = &Workspace> {
        self.view.iter().map(|i| &self.workspaces[*i])
    }

    /// Finished workspaces in state `s` (unfinished ones are counted apart).
    pub fn count(&self, s: WorkspaceState) -> usize {
        self.workspaces
            .iter()
            .filter(|w| w.state == s && w.provision.is_ready())
            .count()
    }

    /// A line about an unhealthy runtime, for the banner (`None` when all are well).
    pub fn runtime_banner(&self) -> Option<String> {
        self.runtimes.as_ref()?.banner()
    }

    /// A line about the alerts that hold, for the banner (`None` when there are none).
    pub fn alert_banner(&self) -> Option<String> {
        let first = self.alerts.first()?;
        Some(match self.alerts.len() {
            1 => format!("ALERT: {}", first.sentence),
            n => format!("{n} ALERTS (`berth doctor` lists them): {}", first.sentence),
        })
    }

    pub fn engine_down(&self) -> bool {
        matches!(self.link, EngineLink::Down { .. }) || self.engines.any_down()
    }

    pub fn job_progress(&mut self, id: u64, p: Progress) {
        if let Some(j) = self.jobs.iter_mut().find(|j| j.id == id) {
            match p {
                Progress::StepStarted {
                    index,
                    total,
                    description,
                    ..
                } => j.step = Some((index, total, description)),
                Progress::StepDone { .. } => {}
                Progress::Output { line, .. } => j.last_output = Some(line),
                Progress::Note(n) => j.last_output = Some(n),
            }
        }
    }
}
