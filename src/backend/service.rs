//! The backend task the TUI talks to: commands in, events out. It owns the engine
//! connection, runs lifecycle jobs concurrently, and follows the selected
//! workspace's logs and stats. It never touches UI state; it only sends events.
use super::create::{create, CreateOutcome, CreateRequest};
use super::{follow, lifecycle, sshd, watch, Ctx, Progress};
use crate::config::{Config, Paths};
use crate::domain::naming::WorkspaceName;
use crate::domain::observe::{EngineEvent, Stats};
use crate::domain::workspace::Workspace;
use crate::engine::Engine;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// What the UI asks for.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Create {
        job: u64,
        spec: CreateSpec,
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
    /// Follow this workspace's logs and stats (None: stop following).
    Select(Option<String>),
    /// Work out how to open shell `id` on workspace `name` (pins the host key if needed).
    PrepareShell {
        id: u64,
        name: String,
    },
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
}

/// Connects to the engine (called again after it goes away).
pub type Connector =
    Arc<dyn Fn() -> BoxFuture<'static, Result<Arc<dyn Engine>, String>> + Send + Sync>;

pub struct Backend {
    pub commands: mpsc::UnboundedSender<Command>,
    pub events: mpsc::Receiver<Event>,
}

enum Internal {
    Connected(Arc<dyn Engine>),
    Disconnected,
}

/// Starts the backend task on the current runtime.
pub fn spawn(paths: Paths, config: Config, connect: Connector) -> Backend {
    let (cmd_tx, cmd_rx) = mpsc::unbounded_channel();
    let (ev_tx, ev_rx) = mpsc::channel(1024);
    tokio::spawn(run(paths, config, connect, cmd_rx, ev_tx));
    Backend {
        commands: cmd_tx,
        events: ev_rx,
    }
}

async fn run(
    paths: Paths,
    config: Config,
    connect: Connector,
    mut cmds: mpsc::UnboundedReceiver<Command>,
    events: mpsc::Sender<Event>,
) {
    let (int_tx, mut int_rx) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(watch::run(
        connect,
        events.clone(),
        move |up: Option<Arc<dyn Engine>>| {
            let _ = int_tx.send(match up {
                Some(e) => Internal::Connected(e),
                None => Internal::Disconnected,
            });
        },
    ));
    let mut ctx: Option<Ctx> = None;
    let mut selected: Option<String> = None;
    let mut follower: Option<JoinHandle<()>> = None;
    loop {
        tokio::select! {
            cmd = cmds.recv() => {
                let Some(cmd) = cmd else { break };
                match cmd {
                    Command::Select(name) => {
                        selected = name;
                        restart_follower(&ctx, &selected, &mut follower, &events);
                    }
                    Command::PrepareShell { id, name } => {
                        let (ctx, events) = (ctx.clone(), events.clone());
                        tokio::spawn(async move {
                            let ev = match ctx {
                                None => Event::ShellFailed { id, reason: "the container engine is not reachable".into() },
                                Some(ctx) => match super::shell::prepare(&ctx, &name).await {
                                    Ok((argv, env)) => Event::ShellReady { id, argv, env },
                                    Err(e) => Event::ShellFailed { id, reason: format!("{e:#}") },
                                },
                            };
                            let _ = events.send(ev).await;
                        });
                    }
                    job => spawn_job(ctx.clone(), job, events.clone()),
                }
            }
            Some(i) = int_rx.recv() => {
                match i {
                    Internal::Connected(engine) => {
                        ctx = Some(Ctx::new(engine, config.clone(), paths.clone()));
                        restart_follower(&ctx, &selected, &mut follower, &events);
                    }
                    Internal::Disconnected => {
                        // Keep the context: jobs fail with the engine's own message, and
                        // followers retry until the watcher reconnects.
                    }
                }
            }
        }
    }
    watcher.abort();
    if let Some(f) = follower {
        f.abort();
    }
}

fn restart_follower(
    ctx: &Option<Ctx>,
    selected: &Option<String>,
    follower: &mut Option<JoinHandle<()>>,
    events: &mpsc::Sender<Event>,
) {
    if let Some(f) = follower.take() {
        f.abort();
    }
    if let (Some(ctx), Some(name)) = (ctx, selected) {
        *follower = Some(tokio::spawn(follow::run(
            ctx.engine.clone(),
            name.clone(),
            events.clone(),
        )));
    }
}

fn spawn_job(ctx: Option<Ctx>, cmd: Command, events: mpsc::Sender<Event>) {
    let job = match &cmd {
        Command::Create { job, .. }
        | Command::Start { job, .. }
        | Command::Stop { job, .. }
        | Command::Restart { job, .. }
        | Command::Delete { job, .. } => *job,
        Command::Select(_) | Command::PrepareShell { .. } => return,
    };
    tokio::spawn(async move {
        let update = match ctx {
            None => JobUpdate::Failed(
                "the container engine is not reachable yet; try again when the banner is gone"
                    .into(),
            ),
            Some(ctx) => match run_job(&ctx, cmd, job, &events).await {
                Ok(msg) => JobUpdate::Done(msg),
                Err(e) => JobUpdate::Failed(format!("{e:#}")),
            },
        };
        let _ = events.send(Event::Job { job, update }).await;
    });
}

async fn run_job(
    ctx: &Ctx,
    cmd: Command,
    job: u64,
    events: &mpsc::Sender<Event>,
) -> anyhow::Result<String> {
    let tx = events.clone();
    let progress = move |p: Progress| {
        let _ = tx.try_send(Event::Job {
            job,
            update: JobUpdate::Progress(p),
        });
    };
    match cmd {
        Command::Create { spec, .. } => {
            let keys = sshd::host_public_keys(&ctx.paths.home, None)?;
            let ws = super::create::workspace_spec(&ctx.config, spec)?;
            let (_never, cancel) = tokio::sync::watch::channel(false);
            let req = CreateRequest {
                spec: ws,
                keys,
                identities: sshd::identity_files(&ctx.paths.home, None),
            };
            Ok(match create(ctx, req, &progress, cancel).await? {
                CreateOutcome::Created(w) => format!(
                    "created {} (SSH port {})",
                    w.name,
                    w.ssh_port.unwrap_or_default()
                ),
                CreateOutcome::Reused(w) => format!("reused {} for its thread", w.name),
            })
        }
        Command::Start { name, .. } => {
            let w = lifecycle::start(ctx, &WorkspaceName::parse(&name)?, &progress).await?;
            Ok(format!("started {}", w.name))
        }
        Command::Stop { name, .. } => {
            lifecycle::stop(ctx, &WorkspaceName::parse(&name)?).await?;
            Ok(format!("stopped {name}"))
        }
        Command::Restart { name, .. } => {
            lifecycle::restart(ctx, &WorkspaceName::parse(&name)?, &progress).await?;
            Ok(format!("restarted {name}"))
        }
        Command::Delete {
            name, keep_volume, ..
        } => {
            let d = lifecycle::delete(ctx, &WorkspaceName::parse(&name)?, keep_volume).await?;
            Ok(if d.volume_kept {
                format!("deleted {name} (volume kept)")
            } else {
                format!("deleted {name}")
            })
        }
        Command::Select(_) | Command::PrepareShell { .. } => Ok(String::new()),
    }
}
