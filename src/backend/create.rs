//! `create`: a provisioning plan executed step by step, undone on failure, and
//! crash-consistent: every step is recorded in the store before it runs, the
//! container only becomes "ready" at the last step (see `domain::provision`), so a
//! create killed at any point leaves a workspace shown as incomplete, which a later
//! `create` of the same name cleans up and starts over.
use super::create_state::{StepError, StepState};
use super::create_steps::run_step;
use super::create_undo::{rollback, start_over};
use super::{inventory, Ctx, Progress, ProgressFn};
use crate::domain::naming::{generated_name, WorkspaceName};
use crate::domain::provision::{plan, restore_plan, Provision, Step};
use crate::domain::workspace::{Workspace, WorkspaceSpec};
use crate::store::Begin;
use anyhow::anyhow;
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::watch;

/// How many times a port the engine refuses (taken meanwhile) is replaced.
const PORT_ATTEMPTS: usize = 20;

pub use super::create_spec::{workspace_spec, CreateSpec, DotfilesRequest};

/// The names (only) of this process's environment variables.
pub fn host_env_names() -> Vec<String> {
    std::env::vars_os()
        .filter_map(|(k, _)| k.into_string().ok())
        .collect()
}

pub struct CreateRequest {
    pub spec: WorkspaceSpec,
    /// Public key lines for authorized_keys.
    pub keys: Vec<String>,
    /// Private keys matching `keys`, remembered for `berth ssh` (paths, never content).
    pub identities: Vec<PathBuf>,
    /// The name was made up (none given): one taken by a workspace is replaced.
    pub name_generated: bool,
    /// `restore`: the snapshot whose image and home the workspace gets.
    pub restore: Option<super::restore::RestoreSource>,
}

#[derive(Debug)]
pub enum CreateOutcome {
    Created(Workspace),
    /// `--thread` found an existing workspace for the thread.
    Reused(Workspace),
}

#[derive(Debug, thiserror::Error)]
pub enum CreateError {
    /// Refused before anything was created.
    #[error("{0}")]
    Refused(String),
    /// A step failed; what had been created was removed.
    #[error(
        "creating workspace {name} failed at step \"{step}\" ({description}): {reason}{cleanup}"
    )]
    StepFailed {
        name: String,
        step: String,
        description: String,
        reason: String,
        cleanup: String,
    },
}

/// `first` if no workspace has it, else another made-up name no workspace has.
fn free_generated_name(first: &WorkspaceName, taken: &[&str]) -> Option<WorkspaceName> {
    std::iter::once(first.clone())
        .chain((0..50).filter_map(|_| WorkspaceName::parse(&generated_name()).ok()))
        .find(|n| !taken.contains(&n.as_str()))
}

async fn cancelled(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

/// Test seam (debug builds only): `BERTH_DEBUG_STALL_AT=<step label>` makes a create
/// stop at the start of that step, after recording it, so tests can kill it there.
async fn debug_stall(label: &str) {
    #[cfg(debug_assertions)]
    if std::env::var("BERTH_DEBUG_STALL_AT").ok().as_deref() == Some(label) {
        eprintln!("berth-debug: stalled at step {label}");
        std::future::pending::<()>().await;
    }
    #[cfg(not(debug_assertions))]
    let _ = label;
}

pub async fn create(
    ctx: &Ctx,
    req: CreateRequest,
    progress: ProgressFn<'_>,
    cancel: watch::Receiver<bool>,
) -> Result<CreateOutcome, CreateError> {
    // The commands of the later steps run with the passed-through values (and the
    // GitHub token) in their environment: whatever they print is redacted before
    // it reaches the terminal, the TUI, an error or the audit trail.
    let o = &req.spec.options;
    let secrets = super::provision::env::gather(&o.secrets, o.forward.gh).await;
    let redactor = crate::domain::redact::Redactor::new(secrets.vars);
    let redacting = super::Redacting {
        inner: progress,
        redactor: &redactor,
    };
    create_redacted(ctx, req, &redacting, &redactor, cancel)
        .await
        .map_err(|e| match e {
            CreateError::Refused(m) => CreateError::Refused(redactor.apply(&m).into_owned()),
            CreateError::StepFailed {
                name,
                step,
                description,
                reason,
                cleanup,
            } => CreateError::StepFailed {
                name,
                step,
                description: redactor.apply(&description).into_owned(),
                reason: redactor.apply(&reason).into_owned(),
                cleanup,
            },
        })
}

async fn create_redacted(
    ctx: &Ctx,
    req: CreateRequest,
    progress: ProgressFn<'_>,
    redactor: &crate::domain::redact::Redactor,
    mut cancel: watch::Receiver<bool>,
) -> Result<CreateOutcome, CreateError> {
    let refuse = |m: String| CreateError::Refused(m);
    let existing = inventory::list(ctx)
        .await
        .map_err(|e| refuse(format!("{e:#}")))?;
    let mut req = req;
    if req.name_generated {
        let taken: Vec<&str> = existing.iter().map(|w| w.name.as_str()).collect();
        req.spec.name = free_generated_name(&req.spec.name, &taken)
            .ok_or_else(|| refuse("cannot make up a name no workspace has; give one".into()))?;
    }
    // The provider's rules first (a VM's accelerator is chosen here, and said).
    let restoring = req.restore.is_some();
    if let Some(accel) = super::create_vm::preflight(ctx, &req.spec, restoring, progress)
        .await
        .map_err(refuse)?
    {
        req.spec.options.accel = crate::domain::vm::AccelChoice::Only(accel);
    }
    if let Some(p) = req.spec.platform.clone() {
        req.spec.image = super::create_checks::platform(ctx, &req.spec.image, &p, progress)
            .await
            .map_err(refuse)?;
    }
    // The engine refuses more CPUs than the host has: the default (2) on a smaller host.
    req.spec.resources.cpus =
        super::limits::capped_cpus(ctx, req.spec.resources.cpus, progress).await;
    let req = req;
    let spec = &req.spec;
    let name = &spec.name;
    if let Some(thread) = &spec.thread {
        if let Some(w) = existing
            .iter()
            .find(|w| {
                w.thread.as_ref() == Some(thread)
                    && w.platform == spec.platform
                    // Never a workspace of the other provider (no fallback between them).
                    && w.provider() == spec.options.provider
            })
            .filter(|w| w.provision.is_ready())
        {
            progress
                .report(Progress::Note(format!(
                    "thread {thread} already has workspace {}; reusing it",
                    w.name
                )))
                .await;
            let w = super::lifecycle::ensure_running(ctx, w, progress)
                .await
                .map_err(|e| refuse(format!("{e:#}")))?;
            return Ok(CreateOutcome::Reused(w));
        }
    }
    let found = existing.iter().find(|w| w.name == name.as_str());
    match found.map(|w| &w.provision) {
        Some(Provision::Ready) => {
            let w = found.map_or("", |w| w.state.as_str());
            return Err(refuse(format!(
                "workspace {name} already exists ({w}); use `berth start {name}` or pick another name"
            )));
        }
        Some(p @ Provision::Provisioning { .. }) => {
            return Err(refuse(format!(
                "workspace {name} is {}; wait for it or stop that process",
                p.explain(name.as_str()).unwrap_or_default()
            )))
        }
        _ => {}
    }
    // A home kept by `delete --keep-volume` is reused only by its own provider.
    super::create_vm::check_kept_home(ctx, spec)
        .await
        .map_err(refuse)?;
    match ctx.engine.image_present(&spec.image).await {
        Ok(true) => {}
        Ok(false) => {
            return Err(refuse(format!(
                "image {} is not present in the engine; build it with `berth image build` or set `image` in {}",
                spec.image,
                ctx.paths.config_file.display()
            )))
        }
        Err(e) => return Err(refuse(e.to_string())),
    }
    // What podman cannot give is refused, never silently left out.
    for note in super::podman::preflight(ctx, spec).await.map_err(refuse)? {
        progress.report(Progress::Note(note)).await;
    }
    // The runtime it asks for (or the engine's default) is registered and healthy:
    // never a silent fallback to another.
    super::runtime_health::preflight(ctx, spec)
        .await
        .map_err(refuse)?;
    super::provision::dotfiles::preflight(&spec.options.dotfiles, &ctx.paths.home)
        .await
        .map_err(|e| refuse(format!("{e:#}")))?;
    super::create_checks::check(ctx, spec)
        .await
        .map_err(refuse)?;
    super::dind::preflight(ctx, spec).await.map_err(refuse)?;
    super::log_forward::preflight(ctx, spec)
        .await
        .map_err(refuse)?;
    super::proxy::preflight(ctx, spec).await.map_err(refuse)?;

    let mut steps = match &req.restore {
        Some(r) => restore_plan(r.snapshot.as_str(), spec),
        None if name.is_pool_slot() => crate::domain::pool::slot_plan(spec),
        None => plan(spec),
    };
    let mut total = steps.len();
    let token = format!(
        "{}-{}-{}",
        name,
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    // `[limits] max_concurrent`: counted and claimed (the record) under one lock.
    let slot = super::limits::admit_one(ctx, name.as_str())
        .await
        .map_err(refuse)?;
    let begun = ctx
        .store
        .begin_provisioning(&ctx.engine_name(), name.as_str(), &token, total)
        .await;
    slot.release();
    let previous = match begun.map_err(|e| refuse(format!("{e:#}")))? {
        Begin::Busy(r) => {
            return Err(refuse(format!(
                "workspace {name} is being created by berth process {} (at step {}); wait for it or stop that process",
                r.creator.pid, r.step
            )))
        }
        Begin::Started { previous } => previous,
    };
    let mut reused_leftover = false;
    if previous.is_some() || found.is_some() {
        match start_over(ctx, name, previous.as_ref(), progress).await {
            Ok(kept) => reused_leftover = kept,
            Err(e) => {
                // Keep a record (nobody's) so what is left stays listed as incomplete.
                let _ = ctx.store.abandon_provisioning(name.as_str(), &token).await;
                return Err(refuse(format!("{e:#}")));
            }
        }
    }

    let mut st = StepState::new(token.clone(), reused_leftover);
    // A warm pool slot that matches becomes this workspace: only the name-dependent
    // and per-user steps remain.
    let mut claimed = false;
    // Never a VM: its machine and home disk are made for it (`domain::pool::unpoolable`).
    if req.restore.is_none() && spec.options.provider != crate::domain::vm::Provider::Vm {
        if let Some(c) = super::pool::claim(ctx, spec, progress).await {
            claimed = true;
            c.adopt(spec, &mut st);
            steps = crate::domain::pool::claim_plan(spec);
            total = steps.len();
        }
    }
    let mut i = 0;
    while i < total {
        let step = &steps[i];
        let started = Instant::now();
        let recorded = ctx
            .store
            .provision_step(name.as_str(), &token, step.label(), i + 1, total)
            .await;
        progress
            .report(Progress::StepStarted {
                index: i + 1,
                total,
                label: step.label().into(),
                description: step.to_string(),
            })
            .await;
        let result = match recorded {
            Err(e) => Err(StepError::Fatal(
                e.context("cannot record progress in the store"),
            )),
            Ok(()) => tokio::select! {
                r = async {
                    debug_stall(step.label()).await;
                    run_step(ctx, &req, step, &mut st, progress).await
                } => r,
                _ = cancelled(&mut cancel) => Err(StepError::Fatal(anyhow!("interrupted"))),
            },
        };
        match result {
            Ok(()) => {
                progress
                    .report(Progress::StepDone {
                        index: i + 1,
                        total,
                        label: step.label().into(),
                        took: started.elapsed(),
                    })
                    .await;
                i += 1;
            }
            Err(StepError::PortRefused(msg)) if st.refused.len() < PORT_ATTEMPTS => {
                progress
                    .report(Progress::Note(format!(
                        "the engine refused port {} ({msg}); trying another",
                        st.port
                    )))
                    .await;
                st.refused.insert(st.port);
                st.undo_container_and_lease(ctx).await;
                i = steps.iter().position(|s| *s == Step::Port).unwrap_or(0);
            }
            Err(e) => {
                let reason = match e {
                    StepError::Fatal(e) => format!("{e:#}"),
                    StepError::PortRefused(m) => {
                        format!("the engine refused every port tried: {m}")
                    }
                };
                let reused = st.reused_leftover;
                let (cleanup, left_something) = rollback(ctx, spec, st).await;
                // Something stays behind: keep its record (nobody's) so it stays listed.
                let ended = if reused || left_something {
                    ctx.store.abandon_provisioning(name.as_str(), &token).await
                } else {
                    ctx.store.end_provisioning(name.as_str(), &token).await
                };
                if let Err(e) = ended {
                    tracing::warn!("cannot close the provisioning record of {name}: {e:#}");
                }
                let _ = ctx
                    .store
                    .audit(
                        name.as_str(),
                        "create-failed",
                        &redactor.apply(&format!("{}: {reason}", step.label())),
                    )
                    .await;
                return Err(CreateError::StepFailed {
                    name: name.to_string(),
                    step: step.label().into(),
                    description: step.to_string(),
                    reason,
                    cleanup,
                });
            }
        }
    }
    // Finished: the workspace's label holds its port from now on.
    if let Some(relay) = st.relay.take() {
        relay.shutdown().await;
    }
    debug_stall("finish").await;
    let _ = ctx.store.release_lease(&token).await;
    if let Err(e) = ctx.store.end_provisioning(name.as_str(), &token).await {
        tracing::warn!("cannot close the provisioning record of {name}: {e:#}");
    }
    let _ = ctx
        .store
        .audit(name.as_str(), "create", &format!("port {}", st.port))
        .await;
    let ws = inventory::find(ctx, name)
        .await
        .map_err(|e| refuse(format!("{e:#}")))?
        .ok_or_else(|| refuse("the workspace vanished right after it was created".into()))?;
    let now = crate::store::now();
    super::activity::record(ctx, &ws, crate::domain::activity::UseSource::Create, now).await;
    if claimed && !spec.options.secrets.is_empty() {
        // Its labels predate the claim: the names go into the workspace, where
        // every start finds them.
        if let Err(e) =
            super::provision::env::record_claimed_names(ctx, &ws.container, &spec.options.secrets)
                .await
        {
            tracing::warn!("{name}: {e:#}");
            progress
                .report(Progress::Note(format!(
                    "{e:#}: its passed-through variables are delivered now but not again on a start; recreate it cold to keep them"
                )))
                .await;
        }
    }
    if claimed {
        // A claimed slot's labels were written before its name and TTL were known:
        // `--ttl` goes to the store, where `berth ttl` would put it.
        if let Some(ttl) = spec.options.ttl {
            if let Err(e) = super::activity::set_ttl(ctx, &ws, ttl).await {
                tracing::warn!("cannot record the TTL of {name}: {e:#}");
                progress
                    .report(Progress::Note(format!(
                        "its TTL ({ttl}) could not be recorded ({e:#}); set it with `berth ttl {name} {ttl}`"
                    )))
                    .await;
            }
        }
    }
    Ok(CreateOutcome::Created(ws))
}
