//! What the TUI and the backend task say to each other: the commands it sends and
//! the events it gets back (see `backend::service`).
use super::Progress;
use crate::domain::observe::{EngineEvent, Stats};
use crate::domain::workspace::Workspace;
use crate::engine::Engine;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;

/// What the UI asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Create {
        job: u64,
        spec: Box<CreateSpec>,
    },
    Start {
        job: u64,
        name: String,
    },
    Stop {
        job: u64,
        name: String,
    },
    Restart {
        job: u64,
        name: String,
    },
    Delete {
        job: u64,
        name: String,
        keep_volume: bool,
    },
    /// `berth cp SRC DST` (one side `NAME:PATH`), as a job.
    Copy {
        job: u64,
        src: String,
        dst: String,
    },
    /// Follow this workspace's logs and stats (None: stop following).
    Select(Option<String>),
    /// Follow this workspace's egress audit for the audit view (None: stop).
    Egress(Option<String>),
    /// Work out how to open shell `id` on workspace `name` (pins the host key if
    /// needed), running `remote` there instead of the shell when given.
    PrepareShell {
        id: u64,
        name: String,
        remote: Option<String>,
    },
    /// The ssh command line for `name`, to copy.
    SshCommand {
        name: String,
    },
    /// What goes with `name` when it is deleted (its sidecars, services, their
    /// volumes), for the confirmation: answered by [`Event::DeletePlan`].
    PlanDelete {
        name: String,
    },
    /// Cancel every running job (creates roll back); each still reports how it ended.
    CancelJobs,
    /// Shell tab `id` on workspace `name` opened (`open`) or closed: recorded in the
    /// store so any berth sees it as a reason the workspace is alive.
    ShellTab {
        id: u64,
        name: String,
        open: bool,
    },
    /// A shell tab on `name` had input or output lately (a use).
    ShellUsed {
        name: String,
    },
    /// The snapshots of workspace `workspace` (answered with `Event::Snapshots`).
    ListSnapshots {
        workspace: String,
    },
    /// Snapshot workspace `name` (default snapshot name).
    Snapshot {
        job: u64,
        name: String,
    },
    /// Make workspace `name` from snapshot `snapshot`.
    Restore {
        job: u64,
        snapshot: String,
        name: String,
    },
    RemoveSnapshot {
        job: u64,
        snapshot: String,
    },
    /// The agents view opened (`true`: poll the sessions' ahead counts, answered
    /// with `Event::AgentAhead`) or closed (`false`: stop).
    AgentsView(bool),
    /// Agent session `name`'s diff against its base (answered with `Event::AgentDiff`).
    AgentDiff {
        name: String,
    },
    /// An action on agent session `name`, as a job.
    Agent {
        job: u64,
        name: String,
        action: AgentAction,
    },
    /// The MCP activity view opened (poll the calls, `Event::McpCalls`) or closed.
    McpView(bool),
    /// `cmd` for engine `engine` (several engines: `backend::service_multi`
    /// routes it to that engine's service; a command without it goes to the
    /// default engine).
    On {
        engine: String,
        cmd: Box<Command>,
    },
}

/// What the agents view can do to a session (each after a confirmation).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AgentAction {
    /// Bring the branch back into the host repository now.
    BringBack,
    /// Bring it back and merge it into the base branch when that is clean.
    Merge,
    /// Remove the session (brings the branch back first), pushing it if `push`.
    Remove { push: bool },
}

pub use super::create::CreateSpec;

#[derive(Debug, Clone, PartialEq)]
pub enum JobUpdate {
    Progress(Progress),
    Done(String),
    Failed(String),
}

/// One log line from a source (the workspace or a sidecar).
#[derive(Debug, Clone, PartialEq)]
pub struct RawLine {
    pub source: String,
    pub stderr: bool,
    pub ts: Option<String>,
    pub text: String,
}

/// What the backend reports.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Connected {
        endpoint: String,
    },
    Disconnected {
        endpoint: String,
        reason: String,
        retry_in: Duration,
    },
    Workspaces(Vec<Workspace>),
    Engine(EngineEvent),
    Job {
        job: u64,
        update: JobUpdate,
    },
    /// Following `name` from scratch: drop earlier lines.
    LogsReset {
        name: String,
    },
    Logs {
        name: String,
        lines: Vec<RawLine>,
    },
    Stats {
        name: String,
        stats: Stats,
    },
    /// Following `name`'s egress audit from scratch: drop earlier records.
    EgressReset {
        name: String,
    },
    /// New records of `name`'s egress audit, oldest first.
    Egress {
        name: String,
        records: Vec<crate::domain::egress::EgressRecord>,
    },
    /// The live counters of proxy workspace `name` (None: it is gone).
    EgressCounts {
        name: String,
        counts: Option<crate::domain::egress_audit::EgressCounts>,
    },
    /// Run `argv` with `env` in a PTY for shell `id`.
    ShellReady {
        id: u64,
        argv: Vec<String>,
        env: Vec<(String, String)>,
    },
    ShellFailed {
        id: u64,
        reason: String,
    },
    /// The ssh command for `name` (shell-quoted), or why there is none.
    SshCommand {
        name: String,
        command: Result<String, String>,
    },
    /// What goes with `name` when it is deleted, or why berth cannot tell.
    DeletePlan {
        name: String,
        owned: Result<super::sidecars::Owned, String>,
    },
    /// Workspace `workspace`'s snapshots, or why they could not be listed.
    Snapshots {
        workspace: String,
        list: Result<Vec<crate::domain::snapshot::SnapshotInfo>, String>,
    },
    /// Every registered container runtime checked (at connect and every 30 s).
    Runtimes(crate::domain::runtime::Report),
    /// Who runs the background jobs, and their runs that acted or failed.
    Jobs(super::jobs::record::JobsNews),
    /// The selected workspace's activity (every few seconds), or why berth cannot tell.
    Activity {
        name: String,
        observed: Result<super::activity_watch::ActivityView, String>,
    },
    /// Recorded uses and TTLs by container id (when they changed), and the
    /// config's default TTL: the TUI joins them with its workspaces.
    UseRecords {
        records: super::activity_watch::Records,
        default_ttl: crate::domain::ttl::Ttl,
    },
    /// The alerts that hold now (`backend::alerts`, at connect and every 60 s).
    Alerts(Vec<crate::domain::alerts::Alert>),
    /// Home volume sizes in bytes by workspace name, as far as known.
    VolumeSizes(std::collections::BTreeMap<String, u64>),
    /// Commits ahead of base of the running agent sessions, by name (or why not).
    AgentAhead(std::collections::BTreeMap<String, Result<u32, String>>),
    /// Agent session `name`'s diff against its base, or why there is none.
    AgentDiff {
        name: String,
        diff: Result<crate::domain::diff::Diff, String>,
    },
    /// The newest `berth mcp` calls, oldest first (sent when they changed).
    McpCalls(Vec<crate::store::mcp_calls::McpCall>),
    /// `berth mcp` calls running now (sent when the count changed).
    McpRunning(usize),
    /// `event` from engine `engine`'s service (several engines:
    /// `backend::service_multi`).
    On {
        engine: String,
        event: Box<Event>,
    },
}

/// Connects to the engine (called again after it goes away).
pub type Connector =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Engine>, String>> + Send + Sync>;
