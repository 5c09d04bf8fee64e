//! The steps of a create, one at a time, remembering what each made so a failure
//! removes exactly that (and never a volume it found already there).
use super::create::CreateRequest;
use super::{provision, sshd, Ctx, Progress, ProgressFn};
use crate::domain::create_checks::mentions_port;
use crate::domain::labels::{workspace_labels, Maker, PROFILE};
use crate::domain::provision::{Step, MARKER_PATH};
use crate::domain::ssh_forward;
use crate::domain::vm::{Provider, ACCEL_LABEL, PROVIDER_LABEL};
use crate::domain::workspace::{
    WorkspaceSpec, REPO_DIR, SSHD_CONTAINER_PORT, WORKSPACE_HOME, WORKSPACE_USER,
};
use crate::engine::{exec_collect, Bind, ContainerSpec, EngineError, ExecRequest, Output};
use crate::store::LeaseRequest;
use anyhow::{anyhow, bail, Result};
use std::collections::BTreeSet;
use tokio::sync::mpsc;

/// What this create made so far.
#[derive(Default)]
pub struct Made {
    pub volume: Option<String>,
    pub lease: bool,
    pub container: Option<String>,
    pub pinned: bool,
    /// The Docker engine sidecar and its volume (`--docker`).
    pub docker: super::dind::Made,
    /// The log forwarder, its volume and the log file (`--forward-logs`).
    pub logs: super::log_forward::Made,
    /// A restore's volume-copy helper, while it runs.
    pub helper: Option<String>,
    /// This create made berth's isolated network (removed on failure if no other
    /// workspace took it meanwhile).
    pub isolated_network: bool,
    /// The proxy sidecar and the internal network (`--net-profile proxy`).
    pub proxy: super::proxy::Made,
}

/// A create's working state across steps.
pub struct StepState {
    /// Identifies this create in the store (its record and its lease).
    pub token: String,
    /// The same token and this process, as labels on what it makes.
    pub maker: Maker,
    /// A start-over found the home volume and reuses it: if this create fails too,
    /// its record stays (abandoned) so the volume stays listed as incomplete.
    pub reused_leftover: bool,
    pub port: u16,
    /// The image the container runs (the profile's, once the image step ran).
    pub image: String,
    /// The profile `try-repo` picked (empty: the spec's own).
    pub profile: String,
    /// Ports the engine refused (taken meanwhile), skipped from then on.
    pub refused: BTreeSet<u16>,
    pub made: Made,
    /// What `--forward-ssh` gives this workspace (decided at the container step).
    pub ssh: Option<provision::ssh_agent::Prepared>,
    /// The agent relay serving the create's later steps (stopped when it ends).
    pub relay: Option<provision::agent_relay::Relay>,
}

pub enum StepError {
    PortRefused(String),
    Fatal(anyhow::Error),
}

impl<E: Into<anyhow::Error>> From<E> for StepError {
    fn from(e: E) -> Self {
        StepError::Fatal(e.into())
    }
}

impl StepState {
    pub fn new(token: String, reused_leftover: bool) -> Self {
        Self {
            maker: Maker {
                token: token.clone(),
                creator: crate::store::Creator::current().label(),
            },
            reused_leftover,
            token,
            port: 0,
            image: String::new(),
            profile: String::new(),
            refused: BTreeSet::new(),
            made: Made::default(),
            ssh: None,
            relay: None,
        }
    }

    /// Public variables: the spec's, `SSH_AUTH_SOCK` when an agent is forwarded, and
    /// `DOCKER_HOST` with Docker inside (unless `--env` set it).
    fn public_env(&self, spec: &WorkspaceSpec) -> Vec<(String, String)> {
        let mut env = spec.options.env.clone();
        if spec.options.docker && !env.iter().any(|(k, _)| k == "DOCKER_HOST") {
            env.push((
                "DOCKER_HOST".into(),
                crate::domain::dind::DOCKER_HOST.into(),
            ));
        }
        if let Some(v) = self.ssh.as_ref().and_then(|p| p.mode.env()) {
            env.retain(|(k, _)| *k != v.0);
            env.push(v);
        }
        super::proxy::public_env(spec, &mut env);
        env
    }

    /// The profile the workspace gets: the one try-repo picked, else the spec's.
    pub fn profile_name<'a>(&'a self, spec: &'a WorkspaceSpec) -> &'a str {
        if self.profile.is_empty() {
            &spec.profile
        } else {
            &self.profile
        }
    }

    /// Removes the container (and the proxy sidecar, which publishes the port) and
    /// frees the lease (before trying another port).
    pub async fn undo_container_and_lease(&mut self, ctx: &Ctx) {
        if let Some(c) = self.made.container.take() {
            let _ = ctx.engine.remove_container(&c).await;
        }
        if let Some(c) = self.made.proxy.container.take() {
            let _ = ctx.engine.remove_container(&c).await;
        }
        if std::mem::take(&mut self.made.lease) {
            let _ = ctx.store.release_lease(&self.token).await;
        }
    }
}

pub async fn run_step(
    ctx: &Ctx,
    req: &CreateRequest,
    step: &Step,
    st: &mut StepState,
    progress: ProgressFn<'_>,
) -> Result<(), StepError> {
    let spec = &req.spec;
    let name = &spec.name;
    let version = env!("CARGO_PKG_VERSION");
    match step {
        Step::Volume => {
            let volume = name.volume();
            if ctx.engine.volume_exists(&volume).await? {
                progress
                    .report(Progress::Note(format!(
                        "reusing the existing volume {volume} (its data is kept)"
                    )))
                    .await;
            } else {
                // Recorded before it exists, so a kill or a cancel right after still
                // knows it is ours.
                ctx.store
                    .provision_made_volume(name.as_str(), &st.token, true)
                    .await?;
                st.made.volume = Some(volume.clone());
                let labels = workspace_labels(spec, None, version, &st.maker);
                if !ctx.engine.create_volume(&volume, &labels).await? {
                    // Someone made it meanwhile: not ours to remove.
                    st.made.volume = None;
                    ctx.store
                        .provision_made_volume(name.as_str(), &st.token, false)
                        .await?;
                }
            }
        }
        Step::Seed(_) => super::restore::seed(ctx, req, st, progress).await?,
        Step::Port => {
            // This engine's range; the bind probe only where its ports are this
            // machine's. Debug switch (used by tests): trust only the store and
            // the engine's refusal.
            let (engine, range, local) = super::engine_ports::of(ctx);
            let probe = (local && std::env::var_os("BERTH_DEBUG_NO_HOST_PROBE").is_none())
                .then_some(ctx.config.bind_address);
            // Read now, not when the create began: a start-over or another create may
            // have changed which ports workspaces hold.
            let workspaces = ctx
                .engine
                .list_workspaces()
                .await?
                .iter()
                .filter_map(|w| w.ssh_port)
                .collect();
            let lease = LeaseRequest {
                engine,
                name: name.to_string(),
                token: st.token.clone(),
                range,
                workspaces,
                skip: st.refused.clone(),
                probe,
            };
            st.port = ctx.store.reserve_port(lease).await?;
            st.made.lease = true;
        }
        Step::Detect(url) => st.profile = provision::profile::detect(url, progress).await?,
        Step::Image => {
            let profile = ctx
                .config
                .profiles
                .get(st.profile_name(spec))
                .map_err(|e| anyhow!(e))?;
            st.image = provision::profile::image(
                ctx,
                profile,
                &spec.image,
                spec.platform.as_deref(),
                progress,
            )
            .await?;
        }
        Step::Profile => {
            let profile = ctx
                .config
                .profiles
                .get(st.profile_name(spec))
                .map_err(|e| anyhow!(e))?;
            provision::profile::setup(ctx, &name.container(), profile, progress).await?;
        }
        Step::Container => {
            let o = &spec.options;
            if o.forward.ssh && st.ssh.is_none() {
                st.ssh = Some(provision::ssh_agent::prepare(ctx, name.as_str()).await?);
            }
            let publishes = crate::domain::provision::publishes_ssh_port(spec);
            let mut labels =
                workspace_labels(spec, publishes.then_some(st.port), version, &st.maker);
            let vm = super::create_vm::shape(spec)?;
            if let Some(shape) = &vm {
                labels.insert(PROVIDER_LABEL.into(), Provider::Vm.as_str().into());
                labels.insert(ACCEL_LABEL.into(), shape.accel.as_str().into());
            }
            if let Some(p) = &st.ssh {
                labels.insert(ssh_forward::LABEL.into(), p.mode.label().into());
            }
            // try-repo: the label names the profile it picked.
            labels.insert(PROFILE.into(), st.profile_name(spec).into());
            super::proxy::workspace_labels(spec, &mut labels);
            if let Some(r) = &req.restore {
                labels = r.labels(labels);
            }
            let init = super::podman::wants_init(ctx);
            if !init {
                labels.insert(
                    crate::domain::labels::INIT.into(),
                    crate::domain::labels::INIT_NONE.into(),
                );
            }
            let cs = ContainerSpec {
                container: name.container(),
                hostname: name.to_string(),
                image: if st.image.is_empty() {
                    spec.image.clone()
                } else {
                    st.image.clone()
                },
                labels,
                env: st
                    .public_env(spec)
                    .iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect(),
                tmpfs: vec![(
                    provision::env::TMPFS.into(),
                    provision::env::TMPFS_OPTIONS.into(),
                )],
                volume: name.volume(),
                mount_point: WORKSPACE_HOME.into(),
                ssh_container_port: SSHD_CONTAINER_PORT,
                ssh_host_port: publishes.then_some(st.port),
                // A proxy workspace: only its internal network (the engine publishes
                // nothing from there; its proxy sidecar carries the SSH port).
                // A VM's network is its shape's (QEMU's user-mode networking).
                network: if vm.is_some() {
                    None
                } else if super::proxy::wanted(spec) {
                    Some(crate::domain::networks::workspace_network(name))
                } else {
                    super::net_isolated::for_container(
                        ctx,
                        o.net_profile,
                        &mut st.made.isolated_network,
                    )
                    .await?
                },
                bind_address: ctx.config.bind_address,
                resources: spec.resources,
                runtime: spec.runtime.clone(),
                platform: spec.platform.clone(),
                binds: o
                    .mounts
                    .iter()
                    .map(|m| Bind {
                        host: m.host.clone(),
                        path: m.path.clone(),
                        read_only: m.read_only,
                    })
                    .chain(st.ssh.as_ref().map(|p| p.binds()).unwrap_or_default())
                    .collect(),
                ports: o.ports.clone(),
                // Only a directory that is surely there: the engine would make a
                // missing one owned by root (in the home volume too). Others are
                // made as the workspace user once it runs (see `Step::Start`).
                workdir: o
                    .workdir
                    .clone()
                    .filter(|w| o.mounts.iter().any(|m| m.path == *w)),
                init,
                vm,
            };
            if cs.vm.is_some() {
                super::create_vm::track_home(ctx, name, &cs.volume, st, progress).await?;
            }
            // Noted first, so a cancel during the call still removes it.
            st.made.container = Some(name.container());
            super::net_isolated::create_container(
                ctx,
                &cs,
                o.net_profile,
                &mut st.made.isolated_network,
            )
            .await?;
            if super::proxy::wanted(spec) {
                super::proxy::configure_workspace(ctx, &name.container()).await?;
            }
            super::networks::join(ctx, name, &o.networks).await?;
        }
        Step::Start => {
            match ctx.engine.start_container(&name.container()).await {
                Err(EngineError::PortTaken(m)) => {
                    // One of `--port`'s host ports: no use trying another SSH port.
                    if let Some(p) = spec
                        .options
                        .ports
                        .iter()
                        .find(|p| mentions_port(&m, p.host))
                    {
                        return Err(StepError::Fatal(anyhow!(
                            "host port {} is taken ({m}); pick another for --port {}:{}",
                            p.host,
                            p.host,
                            p.container
                        )));
                    }
                    return Err(StepError::PortRefused(m));
                }
                r => r?,
            }
            if let Some(dir) = &spec.options.workdir {
                make_workdir(ctx, &name.container(), dir).await?;
            }
        }
        Step::Keys => sshd::install_keys(ctx, name, &req.keys).await?,
        Step::Ssh if !crate::domain::provision::publishes_ssh_port(spec) => {
            super::ssh_exec::wait_for_sshd(ctx, name).await?
        }
        Step::Ssh => super::ssh_route::wait(ctx, name, st.port).await?,
        Step::PinHostKey => {
            sshd::pin_host_key(ctx, name).await?;
            st.made.pinned = true;
            if !req.identities.is_empty() {
                ctx.store
                    .set_identities(&ctx.engine_name(), name.as_str(), &req.identities)
                    .await?;
            }
        }
        Step::Env if req.restore.is_some() => {
            super::restore::deliver_env(ctx, spec, progress).await?
        }
        Step::Env => {
            provision::env::at_create(
                ctx,
                &name.container(),
                name.as_str(),
                &st.public_env(spec),
                &spec.options.secrets,
                progress,
            )
            .await?
        }
        Step::Secrets => {
            super::secrets::at_create(ctx, name, &spec.options.secret_files, progress).await?
        }
        Step::Docker => super::dind::provision(ctx, spec, &mut st.made.docker, progress).await?,
        Step::Logs => super::log_forward::provision(ctx, spec, &mut st.made.logs, progress).await?,
        Step::Proxy => {
            use super::proxy::{provision, StartError};
            match provision(ctx, spec, st.port, &mut st.made.proxy, progress).await {
                Ok(()) => {}
                Err(StartError::PortTaken(m)) => return Err(StepError::PortRefused(m)),
                Err(StartError::Other(e)) => return Err(StepError::Fatal(e)),
            }
        }
        Step::Git => {
            provision::git::forward(ctx, &name.container(), &ctx.paths.home, progress).await?
        }
        Step::Gh => {
            provision::gh::forward(ctx, &name.container(), &spec.options.secrets, progress).await?
        }
        Step::SshAgent => {
            if let Some(p) = &st.ssh {
                st.relay = provision::ssh_agent::at_create(name.as_str(), p, progress).await?;
            }
        }
        Step::Dotfiles => {
            provision::dotfiles::install(ctx, &name.container(), &spec.options.dotfiles, progress)
                .await?;
            // An install script may have replaced ~/.ssh/authorized_keys: berth's keys
            // go back in (added where missing), so `berth ssh` still gets in.
            sshd::install_keys(ctx, name, &req.keys).await?;
            // ... or brought the host's `gh auth setup-git` lines, which would cancel
            // berth's GitHub helper.
            if spec.options.forward.gh {
                provision::gh::unblock(ctx, &name.container(), progress).await?;
            }
        }
        Step::Setup(i, script) => {
            run_login_script(ctx, spec, script, &format!("setup {}", i + 1), progress).await?
        }
        Step::Clone(url) => {
            let script = format!(
                "if [ -e {REPO_DIR}/.git ]; then echo 'repo already cloned in {REPO_DIR}; leaving it as it is'; \
                 else exec git clone --progress -- \"$0\" {REPO_DIR}; fi"
            );
            let cmd = vec!["/bin/sh".into(), "-c".into(), script, url.clone()];
            let env = vec!["GIT_TERMINAL_PROMPT=0".into()];
            run_streamed(
                ctx,
                name.container(),
                cmd,
                env,
                WORKSPACE_HOME,
                "clone",
                progress,
            )
            .await?;
        }
        Step::PostStart(script) => {
            run_login_script(ctx, spec, script, "post-start", progress).await?
        }
        Step::Commit => {
            let w = ctx
                .engine
                .inspect_workspace(&name.container())
                .await?
                .ok_or_else(|| anyhow!("the container {} is gone", name.container()))?;
            let id = w.container_id;
            let marker = format!("{id}\n");
            ctx.engine
                .write_file(&id, MARKER_PATH, marker.as_bytes(), 0o644)
                .await?;
            // A cache of a fact that never changes for this id; the marker is the truth.
            let _ = ctx.store.record_provisioned(vec![id], None).await;
        }
    }
    Ok(())
}

/// Makes `--workdir` as the workspace user (so it is theirs, unlike a directory
/// the engine would make); a directory the user cannot make is an error.
async fn make_workdir(ctx: &Ctx, container: &str, dir: &str) -> Result<()> {
    let req = ExecRequest {
        cmd: vec!["mkdir".into(), "-p".into(), "--".into(), dir.into()],
        user: Some(WORKSPACE_USER.into()),
        timeout: Some(std::time::Duration::from_secs(30)),
        ..Default::default()
    };
    let (outcome, _, err) = exec_collect(ctx.engine.as_ref(), container, req).await?;
    if outcome.exit_code != 0 {
        bail!(
            "cannot make the working directory {dir} as the workspace user ({}); pick one inside {WORKSPACE_HOME} or a --mount",
            String::from_utf8_lossy(&err).trim()
        );
    }
    Ok(())
}

/// Where setup and post-start commands run: `--workdir`, else the clone, else home.
pub fn work_dir(spec: &crate::domain::workspace::WorkspaceSpec) -> String {
    match (&spec.options.workdir, &spec.clone_url) {
        (Some(w), _) => w.clone(),
        (None, Some(_)) => REPO_DIR.into(),
        (None, None) => WORKSPACE_HOME.into(),
    }
}

/// A setup or post-start script: `/bin/sh -lc` as the workspace user in the
/// workspace's default directory, its output streamed.
async fn run_login_script(
    ctx: &Ctx,
    spec: &WorkspaceSpec,
    script: &str,
    label: &str,
    progress: ProgressFn<'_>,
) -> Result<()> {
    let cmd = vec!["/bin/sh".into(), "-lc".into(), script.into()];
    let dir = work_dir(spec);
    run_streamed(
        ctx,
        spec.name.container(),
        cmd,
        vec![],
        &dir,
        label,
        progress,
    )
    .await
}

/// Runs a command as the workspace user, streaming its output lines as progress;
/// a non-zero exit is an error carrying the last lines.
pub async fn run_streamed(
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
    // Aborted if this create is cancelled (the future holding it is dropped).
    let mut run = AbortOnDrop(run);
    let mut tail: std::collections::VecDeque<String> = Default::default();
    // One buffer per stream: a line (and a secret in it, for the redactor) is never
    // split by the other stream's output.
    let mut partials = [Vec::new(), Vec::new()];
    while let Some(chunk) = rx.recv().await {
        let (partial, b) = match chunk {
            Output::Stdout(b) => (&mut partials[0], b),
            Output::Stderr(b) => (&mut partials[1], b),
        };
        partial.extend(b);
        while let Some(pos) = partial.iter().position(|c| *c == b'\n' || *c == b'\r') {
            let line: Vec<u8> = partial.drain(..=pos).collect();
            let line = String::from_utf8_lossy(&line).trim_end().to_string();
            if line.is_empty() {
                continue;
            }
            progress
                .report(Progress::Output {
                    label: label.into(),
                    line: line.clone(),
                })
                .await;
            tail.push_back(line);
            if tail.len() > 10 {
                tail.pop_front();
            }
        }
    }
    for partial in partials.iter().filter(|p| !p.is_empty()) {
        tail.push_back(String::from_utf8_lossy(partial).trim_end().to_string());
    }
    let outcome = (&mut run.0)
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

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}
