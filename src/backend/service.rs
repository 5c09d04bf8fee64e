//! The backend task the TUI talks to: commands in, events out. It owns the engine
//! connection, runs lifecycle jobs concurrently, and follows the selected
//! workspace's logs and stats. It never touches UI state; it only sends events.
pub use super::service_api::{
    AgentAction, Command, Connector, CreateSpec, Event, JobUpdate, RawLine,
};
use super::service_jobs::{job_id, spawn_job};
use super::ssh_cmd::{self, Purpose};
use super::{follow, watch, Ctx};
use crate::config::{Config, Paths};
use crate::domain::engines::EngineDef;
use crate::domain::naming::WorkspaceName;
use crate::engine::Engine;
use crate::store::Store;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Commands queued for the backend; the UI never waits for room (it says the
/// backend is busy instead), and one person's keys do not fill this.
pub const COMMAND_QUEUE: usize = 256;

pub struct Backend {
    pub commands: mpsc::Sender<Command>,
    pub events: mpsc::Receiver<Event>,
}

enum Internal {
    Connected(Arc<dyn Engine>),
    Disconnected,
}

/// Starts the backend task on the current runtime; `store` serves it and every job.
pub fn spawn(paths: Paths, config: Config, connect: Connector, store: Store) -> Backend {
    start(paths, config, connect, store, false, Vec::new())
}

/// [`spawn`], and the background jobs when this process gets the jobs lock
/// (`backend::jobs::tui`): what the TUI runs.
pub fn spawn_with_jobs(paths: Paths, config: Config, connect: Connector, store: Store) -> Backend {
    start(paths, config, connect, store, true, Vec::new())
}

/// [`spawn_with_jobs`] under berth's definitions of its engines (`defs`), so the
/// engine's own (its port range, its host) is what its operations see.
pub fn spawn_with_jobs_on(
    paths: Paths,
    config: Config,
    connect: Connector,
    store: Store,
    defs: Vec<EngineDef>,
) -> Backend {
    start(paths, config, connect, store, true, defs)
}

/// The backend task; `defs`: every engine berth knows (empty: just the one
/// `connect` reaches), so the engine's own definition (its host, its port
/// range) is what its operations see.
pub(super) fn start(
    paths: Paths,
    config: Config,
    connect: Connector,
    store: Store,
    jobs: bool,
    defs: Vec<EngineDef>,
) -> Backend {
    start_with(None, paths, config, connect, store, jobs, defs)
}

/// The background jobs run here, over every engine of the set when one is given
/// (else the connected engine alone).
struct JobsOver(Option<Arc<super::engines::EngineSet>>);

/// [`start`]; the jobs (when `jobs`) act on every engine of `engines` when given.
pub(super) fn start_with(
    engines: Option<Arc<super::engines::EngineSet>>,
    paths: Paths,
    config: Config,
    connect: Connector,
    store: Store,
    jobs: bool,
    defs: Vec<EngineDef>,
) -> Backend {
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(1024);
    let jobs = jobs.then_some(JobsOver(engines));
    let link = Link {
        paths,
        config,
        store,
        defs,
    };
    tokio::spawn(run(link, connect, cmd_rx, ev_tx, jobs));
    Backend {
        commands: cmd_tx,
        events: ev_rx,
    }
}

/// What a backend task builds its context from on each connect.
struct Link {
    paths: Paths,
    config: Config,
    store: Store,
    defs: Vec<EngineDef>,
}

impl Link {
    /// The context on `engine`, under berth's definitions of its engines.
    fn ctx(&self, engine: Arc<dyn Engine>) -> Ctx {
        let set =
            super::engines::EngineSet::fixed(vec![engine.clone()], self.config.engines.placement)
                .with_defs(self.defs.clone());
        Ctx::with_all(
            Arc::new(set),
            engine,
            self.config.clone(),
            self.paths.clone(),
            self.store.clone(),
        )
    }
}

async fn run(
    link: Link,
    connect: Connector,
    mut cmds: mpsc::Receiver<Command>,
    events: mpsc::Sender<Event>,
    jobs: Option<JobsOver>,
) {
    let (paths, config, store) = (link.paths.clone(), link.config.clone(), link.store.clone());
    // Link changes from the watcher: one per connect or loss, each waited for by the
    // watcher's backoff, so this cannot grow without bound.
    let (int_tx, mut int_rx) = mpsc::unbounded_channel();
    let watcher = tokio::spawn(watch::run(
        connect,
        store.clone(),
        events.clone(),
        move |up: Option<Arc<dyn Engine>>| {
            let _ = int_tx.send(match up {
                Some(e) => Internal::Connected(e),
                None => Internal::Disconnected,
            });
        },
    ));
    let mut ctx: Option<Ctx> = None;
    // Jobs and shells sent before the first connection wait for it (a user can press
    // a key before berth has reached the engine).
    let (link_tx, link_rx) = tokio::sync::watch::channel::<Option<Ctx>>(None);
    // The acting jobs while this process holds the jobs lock.
    let background = jobs.map(|JobsOver(engines)| {
        super::jobs::tui::spawn(
            link_rx.clone(),
            paths.clone(),
            config.clone(),
            store.clone(),
            events.clone(),
            engines,
        )
    });
    let mut selected: Option<String> = None;
    let mut follower: Option<JoinHandle<()>> = None;
    let mut egress = super::egress_tasks::EgressTasks::default();
    let mut agents = super::agent_tasks::AgentTasks::new(store.clone(), events.clone());
    // Checks the runtimes while connected; replaced on every connect.
    let mut health: Option<JoinHandle<()>> = None;
    // Observes the selected workspace; replaced on every connect and selection.
    let mut activity: Option<JoinHandle<()>> = None;
    let watch_activity =
        |ctx: &Option<Ctx>, sel: &Option<String>, task: &mut Option<JoinHandle<()>>| {
            if let Some(h) = task.take() {
                h.abort();
            }
            *task = ctx
                .clone()
                .map(|c| super::activity_watch::spawn(c, sel.clone(), events.clone()));
        };
    // Checks the alerts (and measures volume sizes) while connected; likewise.
    let mut alerts: Option<JoinHandle<()>> = None;
    let mut jobs: HashMap<u64, (tokio::sync::watch::Sender<bool>, JoinHandle<()>)> = HashMap::new();
    loop {
        jobs.retain(|_, (_, h)| !h.is_finished());
        tokio::select! {
            // Link changes first: a command sent after the UI saw "Connected"
            // must find the engine the watcher handed over just before.
            biased;
            Some(i) = int_rx.recv() => {
                match i {
                    Internal::Connected(engine) => {
                        ctx = Some(link.ctx(engine));
                        link_tx.send_replace(ctx.clone());
                        follow::restart(&ctx, &selected, &mut follower, &events);
                        watch_activity(&ctx, &selected, &mut activity);
                        if let Some(c) = &ctx {
                            egress.connected(&c.engine, &events);
                        }
                        if let Some(h) = health.take() {
                            h.abort();
                        }
                        health = ctx.clone().map(|c| super::runtime_health::spawn(c, events.clone()));
                        if let Some(h) = alerts.take() {
                            h.abort();
                        }
                        alerts = ctx.clone().map(|c| super::alerts::spawn(c, events.clone()));
                    }
                    Internal::Disconnected => {
                        // Keep the context: jobs fail with the engine's own message, and
                        // followers retry until the watcher reconnects.
                    }
                }
            }
            cmd = cmds.recv() => {
                let Some(cmd) = cmd else { break };
                // Already routed to this engine (`service_multi`).
                let cmd = match cmd {
                    Command::On { cmd, .. } => *cmd,
                    cmd => cmd,
                };
                match cmd {
                    Command::Select(name) => {
                        selected = name;
                        follow::restart(&ctx, &selected, &mut follower, &events);
                        watch_activity(&ctx, &selected, &mut activity);
                    }
                    Command::Egress(name) => {
                        egress.view(ctx.as_ref().map(|c| &c.engine), name, &events);
                    }
                    Command::AgentsView(open) => agents.agents_view(open, &link_rx, &events),
                    Command::AgentDiff { name } => agents.diff(name, &link_rx, &events),
                    Command::McpView(open) => agents.mcp_view(open, &store, &events),
                    Command::PrepareShell { id, name, remote } => {
                        let (link, events) = (link_rx.clone(), events.clone());
                        tokio::spawn(async move {
                            let ev = match ssh_for(link.clone(), &name, Purpose::Tab { remote }).await {
                                Ok(c) => Event::ShellReady { id, argv: c.argv, env: c.env },
                                Err(reason) => Event::ShellFailed { id, reason },
                            };
                            let ready = matches!(ev, Event::ShellReady { .. });
                            let _ = events.send(ev).await;
                            // The open tab is a reason the workspace is alive (closed
                            // by the TUI's KillShell, or dead with this process).
                            if let (true, Ok(ctx)) = (ready, linked(link).await) {
                                super::activity_watch::shell_tab(&ctx, id, &name, true).await;
                            }
                        });
                    }
                    Command::SshCommand { name } => {
                        let (link, events) = (link_rx.clone(), events.clone());
                        tokio::spawn(async move {
                            let command = ssh_for(link, &name, Purpose::Copy)
                                .await
                                .map(|c| crate::ssh_client::shell_join(&c.argv));
                            let _ = events.send(Event::SshCommand { name, command }).await;
                        });
                    }
                    Command::PlanDelete { name } => {
                        let (link, events) = (link_rx.clone(), events.clone());
                        tokio::spawn(async move {
                            let owned = plan_delete(link, &name).await;
                            let _ = events.send(Event::DeletePlan { name, owned }).await;
                        });
                    }
                    Command::ListSnapshots { workspace } => {
                        let (link, events) = (link_rx.clone(), events.clone());
                        tokio::spawn(async move {
                            let list = match linked(link).await {
                                Ok(ctx) => super::snapshot::of_workspace(&ctx, &workspace)
                                    .await
                                    .map_err(|e| format!("{e:#}")),
                                Err(e) => Err(e),
                            };
                            let _ = events.send(Event::Snapshots { workspace, list }).await;
                        });
                    }
                    Command::ShellTab { id, name, open } => {
                        let link = link_rx.clone();
                        tokio::spawn(async move {
                            if let Ok(ctx) = linked(link).await {
                                super::activity_watch::shell_tab(&ctx, id, &name, open).await;
                            }
                        });
                    }
                    Command::ShellUsed { name } => {
                        let link = link_rx.clone();
                        tokio::spawn(async move {
                            if let Ok(ctx) = linked(link).await {
                                super::activity_watch::shell_used(&ctx, &name).await;
                            }
                        });
                    }
                    Command::CancelJobs => {
                        for (cancel, _) in jobs.values() {
                            let _ = cancel.send(true);
                        }
                    }
                    job => {
                        if let Some(id) = job_id(&job) {
                            let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
                            let h = spawn_job(link_rx.clone(), job, events.clone(), cancel_rx);
                            jobs.insert(id, (cancel_tx, h));
                        }
                    }
                }
            }
        }
    }
    watcher.abort();
    for task in [follower, health, background, activity, alerts]
        .into_iter()
        .flatten()
    {
        task.abort();
    }
}

/// How long a job sent before the first connection waits for it.
pub const FIRST_CONNECT_WAIT: Duration = Duration::from_secs(30);

/// The engine context, waiting for the first connection if there was none yet.
pub(super) async fn linked(
    mut link: tokio::sync::watch::Receiver<Option<Ctx>>,
) -> Result<Ctx, String> {
    let waited = tokio::time::timeout(FIRST_CONNECT_WAIT, link.wait_for(|c| c.is_some())).await;
    match waited {
        Ok(Ok(c)) => c.clone().ok_or_else(|| "no engine".to_string()),
        _ => Err(format!(
            "the container engine is not reachable (berth has waited {} s for it); start it (`sudo systemctl start docker`, or `sudo scripts/engine.sh ensure` in berth's checkout) and try again",
            FIRST_CONNECT_WAIT.as_secs()
        )),
    }
}

async fn plan_delete(
    link: tokio::sync::watch::Receiver<Option<Ctx>>,
    name: &str,
) -> Result<super::sidecars::Owned, String> {
    let ctx = linked(link).await?;
    let name = WorkspaceName::parse(name).map_err(|e| e.to_string())?;
    super::sidecars::owned(&ctx, &name)
        .await
        .map_err(|e| format!("{e:#}"))
}

async fn ssh_for(
    link: tokio::sync::watch::Receiver<Option<Ctx>>,
    name: &str,
    purpose: Purpose,
) -> Result<ssh_cmd::SshCommand, String> {
    let ctx = linked(link).await?;
    let name = WorkspaceName::parse(name).map_err(|e| e.to_string())?;
    ssh_cmd::build(&ctx, &name, purpose)
        .await
        .map_err(|e| format!("{e:#}"))
}
