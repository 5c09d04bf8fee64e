//! Async orchestration: lifecycle operations run as plans against the engine and the
//! store, reporting progress as events. The CLI (and later the TUI) only call these.
pub mod create;
pub mod follow;
pub mod lifecycle;
pub mod service;
pub mod shell;
pub mod sshd;
pub mod watch;

#[cfg(test)]
mod follow_tests;
#[cfg(test)]
mod service_tests;
#[cfg(test)]
mod test_support;

use crate::config::{Config, Paths};
use crate::engine::Engine;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// What every operation needs.
#[derive(Clone)]
pub struct Ctx {
    pub engine: Arc<dyn Engine>,
    pub store: Store,
    pub config: Config,
    pub paths: Paths,
}

impl Ctx {
    pub fn new(engine: Arc<dyn Engine>, config: Config, paths: Paths) -> Self {
        let store = Store::new(paths.store_file());
        Self {
            engine,
            store,
            config,
            paths,
        }
    }
}

/// Progress of a long operation, as events.
#[derive(Debug, Clone, PartialEq)]
pub enum Progress {
    /// Step `index` (1-based) of `total` began.
    StepStarted {
        index: usize,
        total: usize,
        label: String,
        description: String,
    },
    /// The step finished.
    StepDone {
        index: usize,
        total: usize,
        label: String,
        took: Duration,
    },
    /// A line of output from a step (clone, post-start, image build).
    Output { label: String, line: String },
    /// Something worth saying that is not a step.
    Note(String),
}

/// Receives progress events.
pub type ProgressFn<'a> = &'a (dyn Fn(Progress) + Send + Sync);

/// Seconds the engine waits for a workspace to stop before killing it.
pub const STOP_TIMEOUT_SECS: i64 = 10;
