//! The backend the TUI talks to when berth knows several engines: one backend
//! service (`backend::service`: its own watcher, reconnect and backoff) per
//! engine, their events fanned into one stream where each says its engine
//! ([`Event::On`]), and a router that hands each command to the service of its
//! engine ([`Command::On`]; a command without one goes to the default engine).
//!
//! One engine slow or down never holds up another: each service has its own
//! bounded queue, the router only `try_send`s into it (a full queue fails that
//! command with a sentence instead of waiting), and each engine's events are
//! forwarded by their own task, which waits only for the UI.
//!
//! The background jobs run in the default engine's service only; the cleanup
//! and the alerts there act on every engine (`jobs::every_engine`), the warm
//! pool stays on the default engine.
use super::service::{self, Backend, Command, Connector, Event, JobUpdate, COMMAND_QUEUE};
use crate::config::{Config, Paths};
use crate::domain::engines::EngineDef;
use crate::store::Store;
use std::collections::BTreeMap;
use tokio::sync::mpsc;
use tokio::sync::mpsc::error::TrySendError;
use tokio::task::JoinSet;

/// Events waiting for the UI, from all engines together.
pub const EVENT_QUEUE: usize = 1024;

/// Starts one service per engine in `defs` (the one named `default` runs the
/// background jobs when `jobs` is given: cleanup and alerts then act on every
/// engine of that set), and the router; `connect_for` makes each
/// engine's connector. Everything ends once the returned command sender is
/// dropped (the router drops the services' queues, each service ends, and its
/// forwarder with it).
pub fn spawn(
    paths: Paths,
    config: Config,
    defs: &[EngineDef],
    default: &str,
    connect_for: impl Fn(&EngineDef) -> Connector,
    store: Store,
    jobs: Option<std::sync::Arc<super::engines::EngineSet>>,
) -> Backend {
    let (cmd_tx, cmd_rx) = mpsc::channel(COMMAND_QUEUE);
    let (ev_tx, ev_rx) = mpsc::channel(EVENT_QUEUE);
    let mut services = BTreeMap::new();
    let mut forwards = JoinSet::new();
    for def in defs {
        let runs_jobs = jobs.is_some() && def.name == default;
        let b = service::start_with(
            jobs.clone().filter(|_| runs_jobs),
            paths.clone(),
            config.clone(),
            connect_for(def),
            store.clone(),
            runs_jobs,
            defs.to_vec(),
        );
        services.insert(def.name.clone(), b.commands);
        forwards.spawn(forward(def.name.clone(), b.events, ev_tx.clone()));
    }
    let router = Router {
        services,
        default: default.to_string(),
        events: ev_tx,
        following: None,
        egress: None,
    };
    tokio::spawn(router.run(cmd_rx, forwards));
    Backend {
        commands: cmd_tx,
        events: ev_rx,
    }
}

/// Tags engine `engine`'s events and passes them on; waits only for the UI.
async fn forward(engine: String, mut from: mpsc::Receiver<Event>, to: mpsc::Sender<Event>) {
    while let Some(event) = from.recv().await {
        let tagged = Event::On {
            engine: engine.clone(),
            event: Box::new(event),
        };
        if to.send(tagged).await.is_err() {
            break;
        }
    }
}

struct Router {
    services: BTreeMap<String, mpsc::Sender<Command>>,
    default: String,
    events: mpsc::Sender<Event>,
    /// The engine whose service follows the selected workspace (logs, stats).
    following: Option<String>,
    /// The engine whose service follows an egress audit.
    egress: Option<String>,
}

impl Router {
    async fn run(mut self, mut cmds: mpsc::Receiver<Command>, forwards: JoinSet<()>) {
        while let Some(cmd) = cmds.recv().await {
            let (engine, cmd) = match cmd {
                Command::On { engine, cmd } => (engine, *cmd),
                cmd => (self.default.clone(), cmd),
            };
            self.route(engine, cmd).await;
        }
        // Dropping the queues ends each service; the forwarders end with them
        // (and are aborted here in case a service's last task lingers).
        self.services.clear();
        drop(forwards);
    }

    async fn route(&mut self, engine: String, cmd: Command) {
        match cmd {
            // Every engine's jobs; every engine's agent sessions.
            Command::CancelJobs | Command::AgentsView(_) => {
                let names: Vec<String> = self.services.keys().cloned().collect();
                for name in names {
                    self.deliver(&name, cmd.clone()).await;
                }
            }
            // The MCP calls are in the store, not on an engine.
            Command::McpView(open) => {
                let default = self.default.clone();
                self.deliver(&default, Command::McpView(open)).await;
            }
            Command::Select(sel) => {
                // The engine that followed the old selection stops.
                if let Some(prev) = self.following.take().filter(|p| *p != engine) {
                    self.deliver(&prev, Command::Select(None)).await;
                }
                self.following = sel.is_some().then(|| engine.clone());
                self.deliver(&engine, Command::Select(sel)).await;
            }
            Command::Egress(sel) => {
                if let Some(prev) = self.egress.take().filter(|p| *p != engine) {
                    self.deliver(&prev, Command::Egress(None)).await;
                }
                self.egress = sel.is_some().then(|| engine.clone());
                self.deliver(&engine, Command::Egress(sel)).await;
            }
            cmd => self.deliver(&engine, cmd).await,
        }
    }

    /// Hands `cmd` to `engine`'s service without waiting for room; a command that
    /// cannot go ends its job (or shell) with why, so nothing waits forever.
    async fn deliver(&mut self, engine: &str, cmd: Command) {
        let why = match self.services.get(engine) {
            None => format!(
                "there is no engine named {engine:?}; berth knows {}",
                self.services.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
            Some(tx) => match tx.try_send(cmd.clone()) {
                Ok(()) => return,
                Err(TrySendError::Full(_)) => {
                    format!("engine {engine} is busy (its queue is full); try again in a moment")
                }
                Err(TrySendError::Closed(_)) => format!("engine {engine}'s backend has ended"),
            },
        };
        tracing::warn!("a command for engine {engine} was not sent: {why}");
        if let Some(event) = refusal(&cmd, why) {
            let tagged = Event::On {
                engine: engine.to_string(),
                event: Box::new(event),
            };
            // Waits for the UI only (never for another engine).
            let _ = self.events.send(tagged).await;
        }
    }
}

/// What the UI hears when `cmd` could not be sent: its job or shell failed.
fn refusal(cmd: &Command, why: String) -> Option<Event> {
    if let Command::PrepareShell { id, .. } = cmd {
        return Some(Event::ShellFailed {
            id: *id,
            reason: why,
        });
    }
    super::service_jobs::job_id(cmd).map(|job| Event::Job {
        job,
        update: JobUpdate::Failed(why),
    })
}

#[cfg(test)]
#[path = "service_multi_tests.rs"]
mod tests;
