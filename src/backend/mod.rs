//! Async orchestration: lifecycle operations run as plans against the engine and the
//! store, reporting progress as events. The CLI (and later the TUI) only call these.
pub mod activity;
pub mod activity_watch;
pub mod agent_claim;
pub mod agent_diff;
pub mod agent_git;
pub mod agent_merge;
pub mod agent_remove;
pub mod agent_return;
pub mod agent_session;
pub mod agent_setup;
pub mod agent_tasks;
#[cfg(test)]
mod agent_tasks_tests;
#[cfg(test)]
mod agent_tests;
pub mod alerts;
pub mod cleanup;
#[cfg(test)]
mod cleanup_tests;
pub mod cleanup_work;
pub mod copy;
pub mod copy_job;
mod copy_pack;
#[cfg(test)]
mod copy_tests;
mod copy_unpack;
pub mod create;
mod create_checks;
#[cfg(test)]
mod create_engines_tests;
mod create_exec;
#[cfg(test)]
mod create_network_tests;
#[cfg(test)]
mod create_options_tests;
mod create_spec;
mod create_state;
mod create_steps;
#[cfg(test)]
pub(super) mod create_tests;
mod create_undo;
mod create_vm;
#[cfg(test)]
mod create_vm_tests;
pub mod delete_all;
pub mod dind;
pub mod disk;
pub mod egress;
pub mod egress_tasks;
pub mod engine_list;
pub mod engine_pick;
mod engine_ports;
pub mod engines;
#[cfg(test)]
mod env_delivery_tests;
pub mod follow;
pub mod follow_redact;
pub mod hint;
pub mod images;
pub mod inventory;
pub mod jobs;
pub mod keys;
pub mod lifecycle;
pub mod limits;
#[cfg(test)]
mod limits_tests;
pub mod log_forward;
pub mod net_isolated;
pub mod networks;
pub mod placement;
pub mod platform;
pub mod podman;
#[cfg(test)]
mod podman_tests;
pub mod pool;
mod pool_claim;
#[cfg(test)]
mod pool_tests;
pub mod preflight;
pub mod preflight_host;
pub mod preflight_image;
#[cfg(test)]
mod preflight_tests;
pub mod provision;
pub mod proxy;
pub mod restore;
pub mod retry;
pub mod runtime_health;
pub mod secret_files;
pub mod secrets;
#[cfg(test)]
mod secrets_tests;
pub mod service;
pub mod service_api;
mod service_jobs;
pub mod service_multi;
pub mod services;
pub mod sidecar_image;
pub mod sidecars;
pub mod snapshot;
pub mod ssh_cmd;
pub mod ssh_exec;
pub mod ssh_route;
pub mod sshd;
pub mod watch;

#[cfg(test)]
mod egress_tests;
#[cfg(test)]
mod follow_tests;
#[cfg(test)]
mod platform_tests;
#[cfg(test)]
mod profile_tests;
#[cfg(test)]
mod service_tests;
#[cfg(test)]
pub(crate) mod test_support;

use crate::config::{Config, Paths};
use crate::engine::Engine;
use crate::store::Store;
use std::sync::Arc;
use std::time::Duration;

/// What every operation needs.
#[derive(Clone)]
pub struct Ctx {
    /// The engine this context works on (one of `engines`).
    pub engine: Arc<dyn Engine>,
    /// Every engine of this berth (`engines::EngineSet`).
    pub engines: Arc<engines::EngineSet>,
    pub store: Store,
    pub config: Config,
    pub paths: Paths,
    /// The latest check of each container runtime (shared by clones).
    pub runtimes: runtime_health::Cache,
    /// What this host offers for hardware-assisted VMs, asked when a VM is
    /// created (`engine::vm::host::host_virt`; tests give their own).
    pub host_virt: fn() -> crate::domain::vm::HostVirt,
}

impl Ctx {
    pub fn new(engine: Arc<dyn Engine>, config: Config, paths: Paths) -> Self {
        let store = Store::new(paths.store_file());
        Self::with_store(engine, config, paths, store)
    }

    pub fn with_store(engine: Arc<dyn Engine>, config: Config, paths: Paths, store: Store) -> Self {
        let set = engines::EngineSet::fixed(vec![engine.clone()], config.engines.placement);
        Self::with_all(Arc::new(set), engine, config, paths, store)
    }

    /// A context on `engine`, one of `engines`.
    pub fn with_engines(
        engines: Arc<engines::EngineSet>,
        engine: Arc<dyn Engine>,
        config: Config,
        paths: Paths,
    ) -> Self {
        let store = Store::new(paths.store_file());
        Self::with_all(engines, engine, config, paths, store)
    }

    pub fn with_all(
        engines: Arc<engines::EngineSet>,
        engine: Arc<dyn Engine>,
        config: Config,
        paths: Paths,
        store: Store,
    ) -> Self {
        Self {
            engine,
            engines,
            store,
            config,
            paths,
            runtimes: Default::default(),
            host_virt: crate::engine::vm::host::host_virt,
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

/// Receives progress events. Awaited, so a slow receiver slows the operation down
/// rather than losing its progress (a plain `Fn(Progress)` is one too).
#[async_trait::async_trait]
pub trait Report: Send + Sync {
    async fn report(&self, p: Progress);
}

#[async_trait::async_trait]
impl<F: Fn(Progress) + Send + Sync> Report for F {
    async fn report(&self, p: Progress) {
        self(p)
    }
}

/// Receives progress events.
pub type ProgressFn<'a> = &'a dyn Report;

/// Seconds the engine waits for a workspace to stop before killing it.
pub const STOP_TIMEOUT_SECS: i64 = 10;

/// Progress with secret values hidden (see `domain::redact`), for operations whose
/// commands run with passed-through values in their environment.
pub struct Redacting<'a> {
    pub inner: ProgressFn<'a>,
    pub redactor: &'a crate::domain::redact::Redactor,
}

#[async_trait::async_trait]
impl Report for Redacting<'_> {
    async fn report(&self, p: Progress) {
        let r = |s: String| self.redactor.apply(&s).into_owned();
        let p = match p {
            Progress::Output { label, line } => Progress::Output {
                label,
                line: r(line),
            },
            Progress::Note(n) => Progress::Note(r(n)),
            Progress::StepStarted {
                index,
                total,
                label,
                description,
            } => Progress::StepStarted {
                index,
                total,
                label,
                description: r(description),
            },
            done @ Progress::StepDone { .. } => done,
        };
        self.inner.report(p).await
    }
}
