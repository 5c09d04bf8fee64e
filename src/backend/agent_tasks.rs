//! The TUI backend's agent and MCP tasks: the ahead counts of the agent sessions
//! while the agents view is open (every [`AHEAD_EVERY`]), one diff at a time on
//! request, the `berth mcp` calls while the MCP view is open (every
//! [`MCP_EVERY`], sent only when they changed), and the count of running calls
//! for the status bar (every [`HINT_EVERY`], sent only when it changed).
//!
//! Every task is owned here: closing a view aborts its poll, and dropping
//! [`AgentTasks`] (the backend task ending) aborts them all.
use super::service::{AgentAction, Event};
use super::{agent_diff, Ctx};
use crate::domain::agents::AgentSession;
use crate::domain::naming::WorkspaceName;
use crate::store::Store;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::{JoinHandle, JoinSet};

pub const AHEAD_EVERY: Duration = Duration::from_secs(10);
pub const MCP_EVERY: Duration = Duration::from_secs(1);
pub const HINT_EVERY: Duration = Duration::from_secs(3);
/// Calls the MCP view shows.
pub const MCP_ROWS: usize = 200;

type Link = watch::Receiver<Option<Ctx>>;

pub struct AgentTasks {
    ahead: Option<JoinHandle<()>>,
    mcp: Option<JoinHandle<()>>,
    hint: JoinHandle<()>,
    /// Diffs being read (one per request; finished ones are reaped as new come).
    once: JoinSet<()>,
}

impl AgentTasks {
    /// Starts the running-calls hint.
    pub fn new(store: Store, events: mpsc::Sender<Event>) -> Self {
        Self {
            ahead: None,
            mcp: None,
            hint: tokio::spawn(hint(store, events)),
            once: JoinSet::new(),
        }
    }

    /// The agents view opened (poll the ahead counts) or closed (stop).
    pub fn agents_view(&mut self, open: bool, link: &Link, events: &mpsc::Sender<Event>) {
        if let Some(h) = self.ahead.take() {
            h.abort();
        }
        if open {
            self.ahead = Some(tokio::spawn(ahead(link.clone(), events.clone())));
        }
    }

    /// The MCP view opened (poll the calls) or closed (stop).
    pub fn mcp_view(&mut self, open: bool, store: &Store, events: &mpsc::Sender<Event>) {
        if let Some(h) = self.mcp.take() {
            h.abort();
        }
        if open {
            self.mcp = Some(tokio::spawn(mcp(store.clone(), events.clone())));
        }
    }

    /// Reads session `name`'s diff and sends it.
    pub fn diff(&mut self, name: String, link: &Link, events: &mpsc::Sender<Event>) {
        while self.once.try_join_next().is_some() {}
        let (link, events) = (link.clone(), events.clone());
        self.once.spawn(async move {
            let diff = match session(link, &name).await {
                Ok((ctx, s)) => agent_diff::diff(&ctx, &s)
                    .await
                    .map(|d| crate::domain::diff::parse(&d.text, d.cut))
                    .map_err(|e| format!("{e:#}")),
                Err(e) => Err(e),
            };
            let _ = events.send(Event::AgentDiff { name, diff }).await;
        });
    }

    /// Which polls run: (ahead counts, MCP calls), for tests.
    pub fn polling(&self) -> (bool, bool) {
        let live = |h: &Option<JoinHandle<()>>| h.as_ref().is_some_and(|h| !h.is_finished());
        (live(&self.ahead), live(&self.mcp))
    }
}

impl Drop for AgentTasks {
    fn drop(&mut self) {
        for h in [self.ahead.take(), self.mcp.take()].into_iter().flatten() {
            h.abort();
        }
        self.hint.abort();
        self.once.abort_all();
    }
}

/// The engine context (waiting for a connection) and session `name` as its
/// workspace's labels say now.
async fn session(mut link: Link, name: &str) -> Result<(Ctx, AgentSession), String> {
    let ctx = link
        .wait_for(|c| c.is_some())
        .await
        .map_err(|_| "the backend is shutting down".to_string())?
        .clone()
        .ok_or("no engine")?;
    let n = WorkspaceName::parse(name).map_err(|e| e.to_string())?;
    let w = super::lifecycle::find(&ctx, &n)
        .await
        .map_err(|e| format!("{e:#}"))?;
    let s = AgentSession::from_labels(&w.name, &w.labels)
        .ok_or_else(|| format!("{name} is not an agent session"))?;
    Ok((ctx, s))
}

async fn ahead(mut link: Link, events: mpsc::Sender<Event>) {
    loop {
        let Ok(ctx) = link.wait_for(|c| c.is_some()).await.map(|c| c.clone()) else {
            return;
        };
        if let Some(ctx) = ctx {
            if let Ok(ws) = super::inventory::list(&ctx).await {
                let counts = agent_diff::ahead_all(&ctx, &ws).await;
                if events.send(Event::AgentAhead(counts)).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(AHEAD_EVERY).await;
    }
}

async fn mcp(store: Store, events: mpsc::Sender<Event>) {
    let mut last = None;
    loop {
        if let Ok(calls) = store.mcp_calls(MCP_ROWS).await {
            if last.as_ref() != Some(&calls) {
                last = Some(calls.clone());
                if events.send(Event::McpCalls(calls)).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(MCP_EVERY).await;
    }
}

async fn hint(store: Store, events: mpsc::Sender<Event>) {
    let mut last = 0;
    loop {
        if let Ok(calls) = store.mcp_calls(MCP_ROWS).await {
            let running = calls.iter().filter(|c| c.result.is_none()).count();
            if running != last {
                last = running;
                if events.send(Event::McpRunning(running)).await.is_err() {
                    return;
                }
            }
        }
        tokio::time::sleep(HINT_EVERY).await;
    }
}

/// An action on an agent session, as a job: its sentence when done.
pub async fn job(ctx: &Ctx, name: &str, action: AgentAction) -> anyhow::Result<String> {
    let n = WorkspaceName::parse(name)?;
    let w = super::lifecycle::find(ctx, &n).await?;
    let Some(s) = AgentSession::from_labels(&w.name, &w.labels) else {
        anyhow::bail!("{name} is not an agent session");
    };
    Ok(match action {
        AgentAction::BringBack => {
            let b = super::agent_return::bring_back(ctx, &s).await?;
            format!(
                "brought {} back ({} commit(s) ahead, {})",
                b.branch,
                b.ahead,
                &b.commit[..b.commit.len().min(12)]
            )
        }
        AgentAction::Merge => super::agent_merge::merge(ctx, &s)
            .await?
            .sentence(&s.branch, &s.base),
        AgentAction::Remove { push } => {
            let r = super::agent_remove::remove(ctx, &s, push).await?;
            let mut out = format!("removed {}", r.name);
            if let Some(remote) = r.pushed_to {
                out.push_str(&format!(", pushed {} to {remote}", s.branch));
            } else if let Some(why) = r.push_skipped {
                out.push_str(&format!(", not pushed: {why}"));
            }
            out
        }
    })
}
