//! Keeps the UI's view of the engine current: connect, list, then refresh from the
//! events stream (debounced). When the engine goes away: say so, retry with
//! backoff, and resync from a fresh list when it is back. Lists go through the
//! inventory (provisioning state); while a create runs somewhere (shown as
//! provisioning) the list is also refreshed every few seconds, since a create that
//! is killed, or moves to its next step, makes no engine event.
//!
//! A workspace the engine started by itself (its restart policy, a dockerd restart,
//! `docker start`) has an empty /run/berth tmpfs: after such a start, and for every
//! running workspace when the link comes up, the watcher fills an EMPTY tmpfs with
//! the passed-through values from this process's environment (see
//! `provision::env::refill_if_empty`; a berth start's own delivery always wins).
use super::service::{Connector, Event};
use super::{inventory, provision};
use crate::domain::observe::EngineEvent;
use crate::domain::provision::Provision;
use crate::domain::workspace::{Workspace, WorkspaceState};
use crate::engine::{Engine, EngineResult};
use crate::store::Store;
use futures_util::stream::{BoxStream, StreamExt};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Bursts of events (a 30-workspace create) become one list call.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// How often the list is refreshed while a create runs (see the module doc).
pub const PROVISIONING_REFRESH: Duration = Duration::from_secs(2);

/// A full list this often while connected, events or not: a safety net for an
/// engine that drops events (podman 4.3 matched no label-name filter, so its list
/// went stale without an error). One list call per engine every 30 s is cheap;
/// fixed rather than configured, since nothing but a broken engine needs it.
pub const RESYNC: Duration = Duration::from_secs(30);

/// When to list again without an event: soon while a create runs.
fn next_poll(ws: &[Workspace]) -> Option<Instant> {
    ws.iter()
        .any(|w| matches!(w.provision, Provision::Provisioning { .. }))
        .then(|| Instant::now() + PROVISIONING_REFRESH)
}

/// Retry delays after a failure: 0.5 s doubling up to 5 s.
pub fn backoff(attempt: u32) -> Duration {
    let ms = 500u64.saturating_mul(1u64 << attempt.min(8));
    Duration::from_millis(ms.min(5000))
}

/// Says the engine is away, then waits out the backoff for this attempt.
async fn down(events: &mpsc::Sender<Event>, endpoint: &str, reason: String, attempt: &mut u32) {
    let retry_in = backoff(*attempt);
    *attempt += 1;
    let _ = events
        .send(Event::Disconnected {
            endpoint: endpoint.to_string(),
            reason,
            retry_in,
        })
        .await;
    tokio::time::sleep(retry_in).await;
}

/// Runs until nobody listens to `events` any more (the backend is gone).
pub async fn run(
    connect: Connector,
    store: Store,
    events: mpsc::Sender<Event>,
    on_link: impl Fn(Option<Arc<dyn Engine>>) + Send + 'static,
) {
    tokio::select! {
        _ = events.closed() => {}
        _ = link(connect, &store, &events, on_link) => {}
    }
}

async fn link(
    connect: Connector,
    store: &Store,
    events: &mpsc::Sender<Event>,
    on_link: impl Fn(Option<Arc<dyn Engine>>) + Send + 'static,
) {
    // Until the first connection, the endpoint berth was told to use.
    let mut endpoint = crate::engine::docker::endpoint_from_env();
    let mut attempt = 0u32;
    loop {
        let engine = match connect().await {
            Ok(e) => e,
            Err(reason) => {
                down(events, &endpoint, reason, &mut attempt).await;
                continue;
            }
        };
        endpoint = engine.endpoint();
        // Subscribe before listing so nothing that happens in between is missed.
        let mut stream = engine.events();
        // Refills in flight; dropped (aborted) with this link.
        let mut refills = JoinSet::new();
        let poll = match inventory::list_with(engine.as_ref(), store).await {
            Ok(ws) => {
                attempt = 0;
                // Starts made while nobody watched (a dockerd restart) included.
                let all = ws.iter().map(|w| w.container.clone()).collect();
                refill(&engine, &ws, all, &mut refills);
                // The backend has the engine before the UI hears it is up, so a
                // command sent on seeing "Connected" finds it.
                on_link(Some(engine.clone()));
                let _ = events
                    .send(Event::Connected {
                        endpoint: endpoint.clone(),
                    })
                    .await;
                let poll = next_poll(&ws);
                let _ = events.send(Event::Workspaces(ws)).await;
                poll
            }
            Err(e) => {
                down(events, &endpoint, format!("{e:#}"), &mut attempt).await;
                continue;
            }
        };
        let reason = follow(&engine, store, &mut stream, events, poll, &mut refills).await;
        drop(stream);
        on_link(None);
        tracing::warn!("engine link lost: {reason}");
        down(events, &endpoint, reason, &mut attempt).await;
    }
}

/// Forwards engine events and refreshes the list after each burst (debounced),
/// and at `refresh_at` (see [`next_poll`]), until the events stream fails; returns
/// why it did.
async fn follow(
    engine: &Arc<dyn Engine>,
    store: &Store,
    stream: &mut BoxStream<'static, EngineResult<EngineEvent>>,
    events: &mpsc::Sender<Event>,
    mut refresh_at: Option<Instant>,
    refills: &mut JoinSet<()>,
) -> String {
    let mut list_failures = 0u32;
    // Containers started since the last list (see the module doc).
    let mut started = BTreeSet::new();
    let mut resync_at = Instant::now() + RESYNC;
    loop {
        while refills.try_join_next().is_some() {}
        let at = refresh_at.map_or(resync_at, |r| r.min(resync_at));
        let next = tokio::select! {
                next = stream.next() => next,
                _ = tokio::time::sleep_until(at) => {
                    match inventory::list_with(engine.as_ref(), store).await {
                        Ok(ws) => {
                            list_failures = 0;
                            resync_at = Instant::now() + RESYNC;
                            refresh_at = next_poll(&ws);
                            refill(engine, &ws, std::mem::take(&mut started), refills);
                            let _ = events.send(Event::Workspaces(ws)).await;
                        }
                        Err(e) => {
                            // Not lost: tried again, later and later.
                            tracing::warn!("list after events failed: {e}");
                            refresh_at = Some(Instant::now() + backoff(list_failures));
                            list_failures += 1;
                        }
                    }
                    continue;
                }
        };
        match next {
            Some(Ok(ev)) => {
                if ev.action == "start" {
                    started.insert(ev.container.clone());
                }
                if ev.changes_state() && refresh_at.is_none() {
                    refresh_at = Some(Instant::now() + DEBOUNCE);
                }
                let _ = events.send(Event::Engine(ev)).await;
            }
            Some(Err(e)) => return e.to_string(),
            None => return "the engine closed its events stream".to_string(),
        }
    }
}

/// Fills the empty tmpfs of each running, ready workspace among `containers` that
/// has values to deliver, in the background (one task each).
fn refill(
    engine: &Arc<dyn Engine>,
    ws: &[Workspace],
    containers: BTreeSet<String>,
    refills: &mut JoinSet<()>,
) {
    let due = ws.iter().filter(|w| {
        containers.contains(&w.container)
            && w.state == WorkspaceState::Running
            && w.provision.is_ready()
    });
    for w in due.cloned() {
        let engine = engine.clone();
        refills.spawn(async move {
            match provision::env::refill_if_empty(engine.as_ref(), &w).await {
                Ok(true) => tracing::info!(
                    "workspace {} was started outside berth: its passed-through variables were delivered again",
                    w.name
                ),
                Ok(false) => {}
                Err(e) => tracing::warn!("refilling the environment of {}: {e:#}", w.name),
            }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_caps() {
        assert_eq!(backoff(0), Duration::from_millis(500));
        assert_eq!(backoff(1), Duration::from_secs(1));
        assert_eq!(backoff(3), Duration::from_secs(4));
        assert_eq!(backoff(4), Duration::from_secs(5));
        assert_eq!(backoff(60), Duration::from_secs(5));
    }
}
