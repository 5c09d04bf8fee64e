//! The steps of a create, one at a time, remembering what each made so a failure
//! removes exactly that (and never a volume it found already there).
use super::create::CreateRequest;
use super::create_exec::{make_workdir, run_login_script, run_streamed};
use super::create_state::{StepError, StepState};
use super::{provision, sshd, Ctx, Progress, ProgressFn};
use crate::domain::create_checks::mentions_port;
use crate::domain::labels::{workspace_labels, PROFILE};
use crate::domain::provision::{Step, MARKER_PATH};
use crate::domain::ssh_forward;
use crate::domain::vm::{Provider, ACCEL_LABEL, PROVIDER_LABEL};
use crate::domain::workspace::{REPO_DIR, SSHD_CONTAINER_PORT, WORKSPACE_HOME};
use crate::engine::{Bind, ContainerSpec, EngineError};
use crate::store::LeaseRequest;
use anyhow::anyhow;

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
