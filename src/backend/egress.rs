//! The egress audit of a proxy workspace: the records its proxy sidecar
//! (`workspace-NAME.proxy`) wrote to its standard output, read back through the
//! engine's logs API. [`history`] reads what is there; [`follow`] sends the
//! history and then every new record as it comes, across restarts of the sidecar
//! (no record twice: a reopened stream skips what was read, by the engine's
//! timestamps) and while it is absent (it waits for it to start), until the
//! workspace is deleted.
use super::follow::LineSplitter;
use super::watch::backoff;
use crate::domain::egress::{parse_line, EgressRecord, PROXY_KIND};
use crate::domain::egress_audit::{no_audit, profile_of};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use crate::engine::{Engine, EngineError, LogOptions};
use anyhow::{anyhow, Result};
use futures_util::{FutureExt, StreamExt};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Most records in one batch (a flood becomes batches, not one message a record).
pub const BATCH_MAX: usize = 2000;
/// A sidecar's stream opens at most this often, whatever the engine does.
const MIN_REOPEN: Duration = Duration::from_secs(1);
/// While waiting for the proxy to run, it is looked at again this often.
const RECHECK: Duration = Duration::from_secs(5);

/// The proxy sidecar's container of workspace `name`, or the sentence why the
/// workspace has no audit (it does not exist, or its profile is not `proxy`).
pub async fn audit_of(engine: &dyn Engine, name: &WorkspaceName) -> Result<String> {
    let w = engine
        .inspect_workspace(&name.container())
        .await?
        .ok_or_else(|| {
            anyhow!("no workspace named {name}; `berth list` shows the workspaces there are")
        })?;
    if let Some(why) = no_audit(name.as_str(), profile_of(&w.labels)) {
        return Err(anyhow!(why));
    }
    Ok(name.sidecar(PROXY_KIND))
}

/// The records the proxy of `name` has written so far, oldest first.
pub async fn history(engine: &dyn Engine, name: &WorkspaceName) -> Result<Vec<EgressRecord>> {
    let container = audit_of(engine, name).await?;
    let mut s = engine.logs(
        &container,
        LogOptions {
            follow: false,
            tail: None,
            timestamps: false,
        },
    );
    let mut lines = LineSplitter::new(PROXY_KIND.into());
    let (mut raw, mut out) = (Vec::new(), Vec::new());
    while let Some(chunk) = s.next().await {
        match chunk {
            Ok(c) => lines.push(c, &mut raw),
            Err(EngineError::NotFound { .. }) => return Err(absent(name, &container)),
            Err(e) => return Err(e.into()),
        }
        out.extend(raw.drain(..).filter_map(|l| parse_line(&l.text)));
    }
    lines.finish(&mut raw);
    out.extend(raw.drain(..).filter_map(|l| parse_line(&l.text)));
    Ok(out)
}

fn absent(name: &WorkspaceName, container: &str) -> anyhow::Error {
    anyhow!("{name}'s proxy sidecar {container} does not exist (yet): nothing was audited; `berth start {name}` starts it, `berth logs {name}` says what went wrong")
}

/// Sends the records of `name`'s proxy to `tx` in batches, the history first, then
/// each new one as it comes. Returns when `tx` is closed or the workspace is gone;
/// engine errors are retried with backoff. The caller checks the profile first
/// ([`audit_of`]).
pub async fn follow(
    engine: Arc<dyn Engine>,
    name: WorkspaceName,
    tx: mpsc::Sender<Vec<EgressRecord>>,
) {
    let container = name.sidecar(PROXY_KIND);
    let mut lines = LineSplitter::new(PROXY_KIND.into());
    let mut failures = 0u32;
    loop {
        let opened = Instant::now();
        let mut stream = engine.logs(
            &container,
            LogOptions {
                follow: true,
                tail: None,
                timestamps: true,
            },
        );
        let mut raw = Vec::new();
        let ended = loop {
            let chunk = match stream.next().await {
                Some(Ok(c)) => c,
                Some(Err(e)) => break Err(e),
                None => break Ok(()),
            };
            failures = 0;
            lines.push(chunk, &mut raw);
            // Whatever else is ready joins this batch.
            while raw.len() < BATCH_MAX {
                match stream.next().now_or_never() {
                    Some(Some(Ok(c))) => lines.push(c, &mut raw),
                    _ => break,
                }
            }
            if !send(&tx, &mut raw).await {
                return;
            }
        };
        drop(stream);
        lines.finish(&mut raw);
        if !send(&tx, &mut raw).await {
            return;
        }
        // Stopped, restarting or not made yet: wait until it runs (or the
        // workspace is gone, and its audit with it).
        let waited = match ended {
            Ok(()) | Err(EngineError::NotFound { .. }) => {
                wait_for_proxy(engine.as_ref(), &name.container(), &container).await
            }
            Err(e) => Err(e),
        };
        match waited {
            Ok(Proxy::Running) => {}
            Ok(Proxy::Gone) => return,
            Err(e) => {
                tracing::debug!("egress audit of {name}: {e}");
                tokio::time::sleep(backoff(failures)).await;
                failures += 1;
            }
        }
        tokio::time::sleep_until(opened + MIN_REOPEN).await;
        lines.resume();
    }
}

enum Proxy {
    Running,
    /// The workspace was deleted.
    Gone,
}

/// Returns once the proxy sidecar runs (at once if it does, else at its start
/// event), or once its workspace is gone. Errors when the engine cannot tell.
/// An engine may open its events stream only when first read, so an event just
/// before that could be missed: it looks again every [`RECHECK`] as well.
async fn wait_for_proxy(
    engine: &dyn Engine,
    workspace: &str,
    container: &str,
) -> Result<Proxy, EngineError> {
    let mut events = engine.events();
    let mut recheck = tokio::time::interval(RECHECK);
    loop {
        tokio::select! {
            _ = recheck.tick() => {
                if engine.inspect_workspace(workspace).await?.is_none() {
                    return Ok(Proxy::Gone);
                }
                let running = engine
                    .inspect_workspace(container)
                    .await?
                    .is_some_and(|w| w.state == WorkspaceState::Running);
                if running {
                    return Ok(Proxy::Running);
                }
            }
            ev = events.next() => {
                let Some(ev) = ev else {
                    return Err(EngineError::Api("the engine closed its events stream".into()));
                };
                let ev = ev?;
                match ev.action.as_str() {
                    "start" if ev.container == container => return Ok(Proxy::Running),
                    "destroy" if ev.container == workspace => return Ok(Proxy::Gone),
                    _ => {}
                }
            }
        }
    }
}

/// Sends the records among `raw` (emptied); false when nobody listens any more.
async fn send(
    tx: &mpsc::Sender<Vec<EgressRecord>>,
    raw: &mut Vec<super::service::RawLine>,
) -> bool {
    let records: Vec<EgressRecord> = raw.drain(..).filter_map(|l| parse_line(&l.text)).collect();
    records.is_empty() || tx.send(records).await.is_ok()
}
