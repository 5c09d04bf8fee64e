//! The TUI backend's egress tasks: live counters (requests, denied) for every proxy
//! workspace, one bounded stream each, started and stopped as proxy workspaces
//! come and go (woken by the engine's events, not by polling); and the records of
//! the one workspace whose audit view is open.
//!
//! Every task lives in a `JoinSet` or a handle owned here: aborting the counters
//! task, or dropping [`EgressTasks`], ends every stream they opened.
use super::egress;
use super::service::Event;
use super::watch::backoff;
use crate::domain::egress::EgressRecord;
use crate::domain::egress_audit::{profile_of, EgressCounts};
use crate::domain::naming::WorkspaceName;
use crate::domain::net_profile::NetProfile;
use crate::engine::Engine;
use futures_util::StreamExt;
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::{AbortHandle, JoinHandle, JoinSet};

/// Batches in flight from one follower (each holds up to `egress::BATCH_MAX`).
const BATCHES: usize = 16;
/// Engine events that come together make one new look at the workspaces.
const SETTLE: Duration = Duration::from_millis(200);

/// The counters task and the view's follower, owned by the backend task.
#[derive(Default)]
pub struct EgressTasks {
    counters: Option<JoinHandle<()>>,
    view: Option<(String, JoinHandle<()>)>,
}

impl EgressTasks {
    /// A (new) engine connection: the counters and the open view start over on it.
    pub fn connected(&mut self, engine: &Arc<dyn Engine>, events: &mpsc::Sender<Event>) {
        if let Some(h) = self.counters.take() {
            h.abort();
        }
        self.counters = Some(tokio::spawn(counters(engine.clone(), events.clone())));
        if let Some((name, _)) = &self.view {
            let name = name.clone();
            self.view(Some(engine), Some(name), events);
        }
    }

    /// Follow the audit of `name` for the view (None: the view closed).
    pub fn view(
        &mut self,
        engine: Option<&Arc<dyn Engine>>,
        name: Option<String>,
        events: &mpsc::Sender<Event>,
    ) {
        if let Some((_, h)) = self.view.take() {
            h.abort();
        }
        let Some(name) = name else { return };
        let handle = match (engine, WorkspaceName::parse(&name)) {
            (Some(e), Ok(ws)) => tokio::spawn(view_records(e.clone(), ws, events.clone())),
            // Not connected yet: started by `connected`.
            _ => tokio::spawn(async {}),
        };
        self.view = Some((name, handle));
    }
}

impl Drop for EgressTasks {
    fn drop(&mut self) {
        if let Some(h) = self.counters.take() {
            h.abort();
        }
        if let Some((_, h)) = self.view.take() {
            h.abort();
        }
    }
}

/// The view's records: a reset, then the history and new records in batches.
async fn view_records(engine: Arc<dyn Engine>, ws: WorkspaceName, events: mpsc::Sender<Event>) {
    let name = ws.as_str().to_string();
    if events
        .send(Event::EgressReset { name: name.clone() })
        .await
        .is_err()
    {
        return;
    }
    let (tx, mut rx) = mpsc::channel::<Vec<EgressRecord>>(BATCHES);
    let forward = async {
        while let Some(records) = rx.recv().await {
            let ev = Event::Egress {
                name: name.clone(),
                records,
            };
            if events.send(ev).await.is_err() {
                return;
            }
        }
    };
    // Ends when the follower ends (workspace gone) or the UI stops listening.
    tokio::join!(egress::follow(engine, ws.clone(), tx), forward);
}

/// Counts the records of one proxy workspace, sending the totals after each batch.
async fn count(engine: Arc<dyn Engine>, ws: WorkspaceName, events: mpsc::Sender<Event>) {
    let name = ws.as_str().to_string();
    let mut counts = EgressCounts::default();
    let first = Event::EgressCounts {
        name: name.clone(),
        counts: Some(counts),
    };
    if events.send(first).await.is_err() {
        return;
    }
    let (tx, mut rx) = mpsc::channel::<Vec<EgressRecord>>(BATCHES);
    let counter = async {
        while let Some(batch) = rx.recv().await {
            for r in &batch {
                counts.add(r);
            }
            let ev = Event::EgressCounts {
                name: name.clone(),
                counts: Some(counts),
            };
            if events.send(ev).await.is_err() {
                return;
            }
        }
    };
    tokio::join!(egress::follow(engine, ws.clone(), tx), counter);
}

/// Follows the counters of every proxy workspace until aborted.
pub async fn counters(engine: Arc<dyn Engine>, events: mpsc::Sender<Event>) {
    // Dropped with this future: every follower is aborted then.
    let mut tasks = JoinSet::new();
    let mut followed: HashMap<String, AbortHandle> = HashMap::new();
    let mut failures = 0u32;
    loop {
        // Subscribed before listing, so a change in between is not missed.
        let mut changes = engine.events();
        let listed = engine.list_workspaces().await;
        let proxies: BTreeSet<String> = match listed {
            Ok(ws) => ws
                .into_iter()
                .filter(|w| profile_of(&w.labels) == NetProfile::Proxy)
                .map(|w| w.name)
                .collect(),
            Err(e) => {
                tracing::debug!("egress counters: {e}");
                drop(changes);
                tokio::time::sleep(backoff(failures)).await;
                failures += 1;
                continue;
            }
        };
        failures = 0;
        let gone: Vec<String> = followed
            .keys()
            .filter(|n| !proxies.contains(*n))
            .cloned()
            .collect();
        for name in gone {
            if let Some(h) = followed.remove(&name) {
                h.abort();
            }
            if events
                .send(Event::EgressCounts { name, counts: None })
                .await
                .is_err()
            {
                return;
            }
        }
        for name in proxies {
            if followed.get(&name).is_some_and(|h| !h.is_finished()) {
                continue;
            }
            if let Ok(ws) = WorkspaceName::parse(&name) {
                let h = tasks.spawn(count(engine.clone(), ws, events.clone()));
                followed.insert(name, h);
            }
        }
        // Wait for a workspace to come or go (finished followers are reaped).
        loop {
            tokio::select! {
                ev = changes.next() => match ev {
                    Some(Ok(ev)) if matches!(ev.action.as_str(), "create" | "destroy" | "rename") => {
                        tokio::time::sleep(SETTLE).await;
                        break;
                    }
                    Some(Ok(_)) => {}
                    Some(Err(_)) | None => {
                        tokio::time::sleep(backoff(failures)).await;
                        failures += 1;
                        break;
                    }
                },
                Some(_) = tasks.join_next(), if !tasks.is_empty() => {}
            }
        }
    }
}
