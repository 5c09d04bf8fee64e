//! Keeps the UI's view of the engine current: connect, list, then refresh from the
//! events stream (debounced). When the engine goes away: say so, retry with
//! backoff, and resync from a fresh list when it is back.
use super::inventory;
use super::service::{Connector, Event};
use crate::engine::Engine;
use crate::store::Store;
use futures_util::StreamExt;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Bursts of events (a 30-workspace create) become one list call.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

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

pub async fn run(
    connect: Connector,
    store: Store,
    events: mpsc::Sender<Event>,
    on_link: impl Fn(Option<Arc<dyn Engine>>) + Send + 'static,
) {
    let endpoint = crate::engine::docker::endpoint_from_env();
    let mut attempt = 0u32;
    loop {
        let engine = match connect().await {
            Ok(e) => e,
            Err(reason) => {
                down(&events, &endpoint, reason, &mut attempt).await;
                continue;
            }
        };
        // Subscribe before listing so nothing that happens in between is missed.
        let mut stream = engine.events();
        match inventory::list_with(engine.as_ref(), &store).await {
            Ok(ws) => {
                let _ = events
                    .send(Event::Connected {
                        endpoint: engine.endpoint(),
                    })
                    .await;
                on_link(Some(engine.clone()));
                let _ = events.send(Event::Workspaces(ws)).await;
            }
            Err(e) => {
                down(&events, &endpoint, format!("{e:#}"), &mut attempt).await;
                continue;
            }
        }
        let reason = loop {
            let mut refresh_at: Option<tokio::time::Instant> = None;
            // Collect a burst, then list once.
            let next = stream.next().await;
            match next {
                Some(Ok(ev)) => {
                    let changes = ev.changes_state();
                    let _ = events.send(Event::Engine(ev)).await;
                    if changes {
                        refresh_at = Some(tokio::time::Instant::now() + DEBOUNCE);
                    }
                }
                Some(Err(e)) => break e.to_string(),
                None => break "the engine closed its events stream".to_string(),
            }
            while let Some(at) = refresh_at {
                tokio::select! {
                    more = stream.next() => match more {
                        Some(Ok(ev)) => {
                            let _ = events.send(Event::Engine(ev)).await;
                        }
                        Some(Err(_)) | None => break,
                    },
                    _ = tokio::time::sleep_until(at) => {
                        refresh_at = None;
                        match inventory::list_with(engine.as_ref(), &store).await {
                            Ok(ws) => {
                                let _ = events.send(Event::Workspaces(ws)).await;
                            }
                            Err(e) => tracing::warn!("list after events failed: {e}"),
                        }
                    }
                }
            }
        };
        on_link(None);
        tracing::warn!("engine link lost: {reason}");
        attempt = 0;
        down(&events, &endpoint, reason, &mut attempt).await;
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
