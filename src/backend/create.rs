//! `create`: a provisioning plan executed step by step, undone on failure.
use super::{sshd, Ctx, Progress, ProgressFn};
use crate::domain::labels::workspace_labels;
use crate::domain::provision::{plan, Step};
use crate::domain::workspace::{
    Workspace, WorkspaceSpec, REPO_DIR, SSHD_CONTAINER_PORT, WORKSPACE_HOME, WORKSPACE_USER,
};
use crate::engine::{ContainerSpec, EngineError, ExecRequest, Output};
use crate::store::EngineView;
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Instant;
use tokio::sync::{mpsc, watch};

/// How many times a port the engine refuses (taken meanwhile) is replaced.
const PORT_ATTEMPTS: usize = 20;

/// What a user asks for (CLI flags or the TUI's form), before config defaults.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CreateSpec {
    pub name: String,
    pub image: Option<String>,
    pub clone_url: Option<String>,
    pub thread: Option<String>,
    pub post_start: Option<String>,
    pub platform: Option<String>,
}

/// The full spec: the request with the configuration's defaults and limits.
pub fn workspace_spec(
    config: &crate::config::Config,
    s: CreateSpec,
) -> Result<WorkspaceSpec, crate::domain::naming::NameError> {
    Ok(WorkspaceSpec {
        name: crate::domain::naming::WorkspaceName::parse(&s.name)?,
        image: s.image.unwrap_or_else(|| config.image.clone()),
        clone_url: s.clone_url,
        thread: s.thread,
        platform: s.platform,
        profile: config.profile.clone(),
        post_start: s.post_start.or_else(|| config.post_start.clone()),
        resources: config.resources,
        runtime: config.runtime.clone(),
        extra_labels: config.labels.clone(),
    })
}

pub struct CreateRequest {
    pub spec: WorkspaceSpec,
    /// Public key lines for authorized_keys.
    pub keys: Vec<String>,
    /// Private keys matching `keys`, remembered for `berth ssh` (paths, never content).
    pub identities: Vec<PathBuf>,
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

/// What this create made, so a failure removes exactly that and nothing else.
#[derive(Default)]
struct Made {
    volume: Option<String>,
    lease: Option<(String, u16)>,
    container: Option<String>,
    pinned: bool,
}

async fn cancelled(rx: &mut watch::Receiver<bool>) {
    while !*rx.borrow() {
        if rx.changed().await.is_err() {
            std::future::pending::<()>().await;
        }
    }
}

pub async fn create(
    ctx: &Ctx,
    req: CreateRequest,
    progress: ProgressFn<'_>,
    mut cancel: watch::Receiver<bool>,
) -> Result<CreateOutcome, CreateError> {
    let spec = &req.spec;
    let refuse = |m: String| CreateError::Refused(m);
    let existing = ctx
        .engine
        .list_workspaces()
        .await
        .map_err(|e| refuse(e.to_string()))?;
    if let Some(thread) = &spec.thread {
        if let Some(w) = existing
            .iter()
            .find(|w| w.thread.as_ref() == Some(thread) && w.platform == spec.platform)
        {
            progress(Progress::Note(format!(
                "thread {thread} already has workspace {}; reusing it",
                w.name
            )));
            let w = super::lifecycle::ensure_running(ctx, w, progress)
                .await
                .map_err(|e| refuse(format!("{e:#}")))?;
            return Ok(CreateOutcome::Reused(w));
        }
    }
    if let Some(w) = existing.iter().find(|w| w.name == spec.name.as_str()) {
        return Err(refuse(format!(
            "workspace {} already exists ({}); use `berth start {}` or pick another name",
            w.name,
            w.state.as_str(),
            w.name
        )));
    }
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
    let view = EngineView {
        ports: existing.iter().filter_map(|w| w.ssh_port).collect(),
        names: existing.iter().map(|w| w.name.clone()).collect(),
    };

    let steps = plan(spec);
    let total = steps.len();
    let mut made = Made::default();
    let mut port = 0u16;
    let token = format!(
        "{}-{}-{}",
        spec.name,
        std::process::id(),
        chrono::Utc::now().timestamp_nanos_opt().unwrap_or(0)
    );
    let mut refused_ports = BTreeSet::new();
    let mut i = 0;
    while i < total {
        let step = &steps[i];
        let started = Instant::now();
        progress(Progress::StepStarted {
            index: i + 1,
            total,
            label: step.label().into(),
            description: step.to_string(),
        });
        let result = tokio::select! {
            r = run_step(ctx, &req, step, &view, &token, &mut port, &refused_ports, &mut made, progress) => r,
            _ = cancelled(&mut cancel) => Err(StepError::Fatal(anyhow!("interrupted"))),
        };
        match result {
            Ok(()) => {
                progress(Progress::StepDone {
                    index: i + 1,
                    total,
                    label: step.label().into(),
                    took: started.elapsed(),
                });
                i += 1;
            }
            Err(StepError::PortRefused(msg)) if refused_ports.len() < PORT_ATTEMPTS => {
                progress(Progress::Note(format!(
                    "the engine refused port {port} ({msg}); trying another"
                )));
                refused_ports.insert(port);
                undo_container_and_lease(ctx, &mut made).await;
                i = steps.iter().position(|s| *s == Step::Port).unwrap_or(0);
            }
            Err(e) => {
                let reason = match e {
                    StepError::Fatal(e) => format!("{e:#}"),
                    StepError::PortRefused(m) => {
                        format!("the engine refused every port tried: {m}")
                    }
                };
                let cleanup = rollback(ctx, spec, made).await;
                let _ = ctx.store.audit(
                    spec.name.as_str(),
                    "create-failed",
                    &format!("{}: {reason}", step.label()),
                );
                return Err(CreateError::StepFailed {
                    name: spec.name.to_string(),
                    step: step.label().into(),
                    description: step.to_string(),
                    reason,
                    cleanup,
                });
            }
        }
    }
    let _ = ctx
        .store
        .audit(spec.name.as_str(), "create", &format!("port {port}"));
    let ws = ctx
        .engine
        .inspect_workspace(&spec.name.container())
        .await
        .map_err(|e| refuse(e.to_string()))?
        .ok_or_else(|| refuse("the workspace vanished right after it was created".into()))?;
    Ok(CreateOutcome::Created(ws))
}

enum StepError {
    PortRefused(String),
    Fatal(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for StepError {
    fn from(e: E) -> Self {
        StepError::Fatal(e.into())
    }
}

#[allow(clippy::too_many_arguments)]
async fn run_step(
    ctx: &Ctx,
    req: &CreateRequest,
    step: &Step,
    view: &EngineView,
    token: &str,
    port: &mut u16,
    refused: &BTreeSet<u16>,
    made: &mut Made,
    progress: ProgressFn<'_>,
) -> Result<(), StepError> {
    let spec = &req.spec;
    let name = &spec.name;
    let version = env!("CARGO_PKG_VERSION");
    match step {
        Step::Volume => {
            let labels = workspace_labels(spec, None, version);
            if ctx.engine.create_volume(&name.volume(), &labels).await? {
                made.volume = Some(name.volume());
            } else {
                progress(Progress::Note(format!(
                    "reusing the existing volume {} (its data is kept)",
                    name.volume()
                )));
            }
        }
        Step::Port => {
            let store = ctx.store.clone();
            let (n, t, range, bind) = (
                name.to_string(),
                token.to_string(),
                ctx.config.port_range,
                ctx.config.bind_address,
            );
            let (view, refused) = (view.clone(), refused.clone());
            // Debug switch (used by tests): trust only the store and the engine's refusal.
            let probe = std::env::var_os("BERTH_DEBUG_NO_HOST_PROBE").is_none();
            let p = tokio::task::spawn_blocking(move || {
                store.reserve_port(&n, &t, range, &view, &refused, |p| {
                    probe && std::net::TcpListener::bind((bind, p)).is_err()
                })
            })
            .await
            .map_err(|e| anyhow!("port reservation task failed: {e}"))??;
            *port = p;
            made.lease = Some((token.to_string(), p));
        }
        Step::Container => {
            let cs = ContainerSpec {
                container: name.container(),
                hostname: name.to_string(),
                image: spec.image.clone(),
                labels: workspace_labels(spec, Some(*port), version),
                volume: name.volume(),
                mount_point: WORKSPACE_HOME.into(),
                ssh_container_port: SSHD_CONTAINER_PORT,
                ssh_host_port: *port,
                bind_address: ctx.config.bind_address,
                resources: spec.resources,
                runtime: spec.runtime.clone(),
                platform: spec.platform.clone(),
                auto_restart: true,
            };
            ctx.engine.create_container(&cs).await?;
            made.container = Some(name.container());
        }
        Step::Start => match ctx.engine.start_container(&name.container()).await {
            Err(EngineError::PortTaken(m)) => return Err(StepError::PortRefused(m)),
            r => r?,
        },
        Step::Keys => sshd::install_keys(ctx, name, &req.keys).await?,
        Step::Ssh => sshd::wait_for_ssh(ctx, name, *port).await?,
        Step::PinHostKey => {
            sshd::pin_host_key(ctx, name).await?;
            made.pinned = true;
            if !req.identities.is_empty() {
                ctx.store.set_identities(name.as_str(), &req.identities)?;
            }
        }
        Step::Clone(url) => {
            let script = format!(
                "if [ -e {REPO_DIR}/.git ]; then echo 'repo already cloned in {REPO_DIR}; leaving it as it is'; \
                 else exec git clone --progress -- \"$0\" {REPO_DIR}; fi"
            );
            let cmd = vec!["/bin/sh".into(), "-c".into(), script, url.clone()];
            run_streamed(
                ctx,
                name.container(),
                cmd,
                vec!["GIT_TERMINAL_PROMPT=0".into()],
                WORKSPACE_HOME,
                "clone",
                progress,
            )
            .await?;
        }
        Step::PostStart(script) => {
            let workdir = if spec.clone_url.is_some() {
                REPO_DIR
            } else {
                WORKSPACE_HOME
            };
            let cmd = vec!["/bin/sh".into(), "-lc".into(), script.clone()];
            run_streamed(
                ctx,
                name.container(),
                cmd,
                vec![],
                workdir,
                "post-start",
                progress,
            )
            .await?;
        }
    }
    Ok(())
}

/// Runs a command as the workspace user, streaming its output lines as progress;
/// a non-zero exit is an error carrying the last lines.
async fn run_streamed(
    ctx: &Ctx,
    container: String,
    cmd: Vec<String>,
    env: Vec<String>,
    workdir: &str,
    label: &str,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let (tx, mut rx) = mpsc::channel(64);
    let req = ExecRequest {
        cmd,
        env,
        workdir: Some(workdir.into()),
        user: Some(WORKSPACE_USER.into()),
        ..Default::default()
    };
    let engine = ctx.engine.clone();
    let run = tokio::spawn(async move { engine.exec(&container, req, tx).await });
    let mut tail: std::collections::VecDeque<String> = Default::default();
    let mut partial = Vec::new();
    while let Some(chunk) = rx.recv().await {
        let (Output::Stdout(b) | Output::Stderr(b)) = chunk;
        partial.extend(b);
        while let Some(pos) = partial.iter().position(|c| *c == b'\n' || *c == b'\r') {
            let line: Vec<u8> = partial.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if line.is_empty() {
                continue;
            }
            progress(Progress::Output {
                label: label.into(),
                line: line.clone(),
            });
            tail.push_back(line);
            if tail.len() > 10 {
                tail.pop_front();
            }
        }
    }
    if !partial.is_empty() {
        tail.push_back(String::from_utf8_lossy(&partial).trim_end().to_string());
    }
    let outcome = run
        .await
        .map_err(|e| anyhow!("{label} task failed: {e}"))??;
    if outcome.exit_code != 0 {
        let tail: Vec<String> = tail.into_iter().collect();
        bail!(
            "{label} exited with status {}; last output:\n{}",
            outcome.exit_code,
            tail.join("\n")
        );
    }
    Ok(())
}

async fn undo_container_and_lease(ctx: &Ctx, made: &mut Made) {
    if let Some(c) = made.container.take() {
        let _ = ctx.engine.remove_container(&c).await;
    }
    if let Some((token, port)) = made.lease.take() {
        let _ = ctx.store.release_lease(&token, port);
    }
}

/// Removes what this create made (never a volume it found already there).
async fn rollback(ctx: &Ctx, spec: &WorkspaceSpec, mut made: Made) -> String {
    let mut removed = Vec::new();
    let mut problems = Vec::new();
    if let Some(c) = made.container.clone() {
        match ctx.engine.remove_container(&c).await {
            Ok(()) => removed.push(format!("container {c}")),
            Err(e) => problems.push(format!("container {c}: {e}")),
        }
        made.container = None;
    }
    undo_container_and_lease(ctx, &mut made).await;
    if let Some(v) = made.volume {
        match ctx.engine.remove_volume(&v).await {
            Ok(()) => removed.push(format!("volume {v}")),
            Err(e) => problems.push(format!("volume {v}: {e}")),
        }
    }
    if made.pinned {
        crate::ssh_client::forget(&ctx.paths, &spec.name.ssh_alias());
    }
    let mut s = String::new();
    if !removed.is_empty() {
        s.push_str(&format!(
            ". Removed what it had created: {}",
            removed.join(", ")
        ));
    } else {
        s.push_str(". Nothing was left behind");
    }
    if !problems.is_empty() {
        s.push_str(&format!(
            ". Could not remove: {} (remove by hand with `berth delete {}`)",
            problems.join("; "),
            spec.name
        ));
    }
    s
}
