//! Shared by the backend's tests: the backend service over the in-memory engine,
//! and helpers that read its events in tokio's (paused) time.
use super::service::{self, Backend, Command, Connector, Event};
use crate::config::{Config, Paths};
use crate::engine::memory::MemoryEngine;
use crate::engine::Engine;
use futures_util::FutureExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Connects to `engine` like the Docker connector does: fails while it is down.
pub fn connector(engine: &MemoryEngine) -> Connector {
    let engine = engine.clone();
    Arc::new(move || {
        let engine = engine.clone();
        async move {
            engine.info().await.map_err(|e| e.to_string())?;
            Ok(Arc::new(engine) as Arc<dyn Engine>)
        }
        .boxed()
    })
}

pub fn paths(dir: &std::path::Path) -> Paths {
    Paths {
        config_file: dir.join("config.toml"),
        state_dir: dir.join("state"),
        home: dir.join("home"),
    }
}

/// Waits for the next event `pick` accepts, skipping the others; panics after
/// `secs` of tokio time.
pub async fn wait_for<T>(
    events: &mut mpsc::Receiver<Event>,
    secs: u64,
    what: &str,
    mut pick: impl FnMut(&Event) -> Option<T>,
) -> T {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(secs);
    loop {
        match tokio::time::timeout_at(deadline, events.recv()).await {
            Ok(Some(ev)) => {
                if let Some(t) = pick(&ev) {
                    return t;
                }
            }
            Ok(None) => panic!("the event channel closed while waiting for {what}"),
            Err(_) => panic!("no {what} within {secs} s"),
        }
    }
}

/// Everything that arrives in the next `d` of tokio time.
pub async fn drain(events: &mut mpsc::Receiver<Event>, d: Duration) -> Vec<Event> {
    let deadline = tokio::time::Instant::now() + d;
    let mut out = Vec::new();
    while let Ok(Some(ev)) = tokio::time::timeout_at(deadline, events.recv()).await {
        out.push(ev);
    }
    out
}

/// The backend service over an in-memory engine, with its files in a temp dir.
pub struct Harness {
    pub backend: Backend,
    _dir: tempfile::TempDir,
}

impl Harness {
    pub fn start(engine: &MemoryEngine) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let p = paths(dir.path());
        let store = crate::store::Store::inline_for_tests(p.store_file());
        let backend = service::spawn(p, Config::default(), connector(engine), store);
        Self { backend, _dir: dir }
    }

    pub fn send(&self, cmd: Command) {
        self.backend
            .commands
            .try_send(cmd)
            .expect("backend task alive, queue not full");
    }

    pub async fn wait_for<T>(
        &mut self,
        secs: u64,
        what: &str,
        pick: impl FnMut(&Event) -> Option<T>,
    ) -> T {
        wait_for(&mut self.backend.events, secs, what, pick).await
    }

    pub async fn drain(&mut self, d: Duration) -> Vec<Event> {
        drain(&mut self.backend.events, d).await
    }

    /// Waits until the backend is connected and has sent its first list.
    pub async fn connected(&mut self) {
        self.wait_for(10, "Connected", |e| {
            matches!(e, Event::Connected { .. }).then_some(())
        })
        .await;
        self.wait_for(10, "Workspaces", |e| {
            matches!(e, Event::Workspaces(_)).then_some(())
        })
        .await;
    }
}

/// The text of every log line in `events` for workspace `name`, with its source.
pub fn log_lines(events: &[Event], name: &str) -> Vec<(String, String)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Logs { name: n, lines } if n == name => Some(lines),
            _ => None,
        })
        .flatten()
        .map(|l| (l.source.clone(), l.text.clone()))
        .collect()
}

/// A context over `engine` with a private state directory (kept while the guard lives).
pub fn ctx_with(engine: Arc<MemoryEngine>) -> (super::Ctx, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("temp dir");
    let paths = Paths::under(dir.path());
    let store = crate::store::Store::inline_for_tests(paths.store_file());
    let engine: Arc<dyn Engine> = engine;
    (
        super::Ctx::with_store(engine, Config::default(), paths, store),
        dir,
    )
}
