//! The TUI as a runner of the acting jobs: it tries the jobs lock at start and
//! every [`RETRY`], never on the UI loop; while it holds it, it runs them (until
//! it quits). It tells the UI who runs them ("this TUI", "daemon pid 4121").
use super::lock::{self, Attempt, Holder, Kind};
use super::record::{JobsNews, Out, Recorder};
use super::registry;
use super::runner::{wall_clock, Runner, Setup};
use crate::backend::engines::EngineSet;
use crate::backend::service::Event;
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// How often a TUI not holding the lock tries it again.
pub const RETRY: Duration = Duration::from_secs(30);

/// What the status bar says for a holder seen from a TUI.
pub fn runner_text(h: &Holder) -> String {
    h.describe()
}

/// The link's context, over every engine of `engines` when given.
fn widen(link: &watch::Receiver<Option<Ctx>>, engines: &Option<Arc<EngineSet>>) -> Option<Ctx> {
    let c = link.borrow().clone()?;
    Some(match engines {
        Some(set) => Ctx::with_all(set.clone(), c.engine, c.config, c.paths, c.store),
        None => c,
    })
}

/// The task; it ends when the UI stops listening, and is aborted with the backend
/// (dropping its runner aborts the jobs, and the lock is released).
pub fn spawn(
    link: watch::Receiver<Option<Ctx>>,
    paths: Paths,
    config: Config,
    store: Store,
    events: mpsc::Sender<Event>,
    engines: Option<Arc<EngineSet>>,
) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut told: Option<String> = None;
        loop {
            let text = match lock::try_acquire(&paths.state_dir, Kind::Tui).await {
                Ok(Attempt::Held(held)) => {
                    let _ = events
                        .send(Event::Jobs(JobsNews::Runner("this TUI".into())))
                        .await;
                    let (_gate, gate) = watch::channel(true);
                    let sink = Arc::new(Recorder::new(store, Kind::Tui, Out::Tui(events)));
                    let (jobs_tx, jobs_rx) = watch::channel(widen(&link, &engines));
                    let setup = Setup {
                        ctx: jobs_rx,
                        gate,
                        sink,
                        clock: wall_clock(),
                    };
                    let _runner = Runner::spawn(registry::acting(), &config, setup);
                    let _held = held;
                    // Held until this task ends with the TUI; the jobs' context
                    // follows the link (over every engine of `engines`).
                    let mut link = link;
                    while link.changed().await.is_ok() {
                        jobs_tx.send_replace(widen(&link, &engines));
                    }
                    std::future::pending::<()>().await;
                    return;
                }
                Ok(Attempt::Taken(h)) => runner_text(&h),
                Err(e) => format!("none ({e:#})"),
            };
            if told.as_deref() != Some(text.as_str()) {
                if events
                    .send(Event::Jobs(JobsNews::Runner(text.clone())))
                    .await
                    .is_err()
                {
                    return;
                }
                told = Some(text);
            }
            tokio::time::sleep(RETRY).await;
        }
    })
}
