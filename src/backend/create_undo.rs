//! Undoing a create: the rollback of a failed one, and cleaning up after one that
//! was interrupted (killed, crashed) before a new create of the same name starts.
use super::create_state::StepState;
use super::{provision, Ctx, Progress, ProgressFn};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceSpec;
use crate::store::ProvisionRecord;
use anyhow::{bail, Result};

/// Removes what this create made (never a volume it found already there) and frees
/// its lease. Returns the sentence that ends the error message, and whether
/// something could not be removed (the engine went away, say).
pub async fn rollback(ctx: &Ctx, spec: &WorkspaceSpec, mut st: StepState) -> (String, bool) {
    let mut removed = Vec::new();
    let mut problems = Vec::new();
    let (r, p) = std::mem::take(&mut st.made.logs).undo(ctx).await;
    removed.extend(r);
    problems.extend(p);
    // The Docker sidecar first: it joins the workspace container's network.
    let docker = std::mem::take(&mut st.made.docker);
    if let Some(c) = &docker.container {
        match ctx.engine.remove_container(c).await {
            Ok(()) => removed.push(format!("sidecar {c}")),
            Err(e) => problems.push(format!("sidecar {c}: {e}")),
        }
    }
    if let Some(c) = st.made.container.take() {
        match ctx.engine.remove_container(&c).await {
            Ok(()) => removed.push(format!("container {c}")),
            Err(e) => problems.push(format!("container {c}: {e}")),
        }
    }
    // The proxy sidecar, then its network (once nothing is on it).
    super::proxy::undo_sidecar(ctx, &mut st.made.proxy, &mut removed, &mut problems).await;
    super::proxy::undo_network(ctx, &mut st.made.proxy, &mut removed, &mut problems).await;
    st.undo_container_and_lease(ctx).await;
    // A restore's copy cancelled midway: its helper still holds the volume.
    if let Some(h) = st.made.helper.take() {
        if let Err(e) = ctx.engine.remove_container(&h).await {
            problems.push(format!("helper container {h}: {e}"));
        }
    }
    // berth's isolated network, when this create made it and nobody else is on it.
    if std::mem::take(&mut st.made.isolated_network) && super::net_isolated::release(ctx).await {
        removed.push(format!("network {}", super::net_isolated::name(ctx)));
    }
    for v in st.made.volume.take().into_iter().chain(docker.volume) {
        match ctx.engine.remove_volume(&v).await {
            Ok(()) => removed.push(format!("volume {v}")),
            Err(e) => problems.push(format!("volume {v}: {e}")),
        }
    }
    if st.made.pinned {
        crate::ssh_client::forget(&ctx.paths, &super::ssh_route::alias_here(ctx, &spec.name)).await;
    }
    if let Some(relay) = st.relay.take() {
        relay.shutdown().await;
    }
    if st.ssh.take().is_some() {
        provision::ssh_agent::forget(&ctx.paths, spec.name.as_str()).await;
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
            ". Could not remove: {} (it is listed as incomplete; `berth delete {}` removes it)",
            problems.join("; "),
            spec.name
        ));
    }
    (s, !problems.is_empty())
}

/// Cleans up what an interrupted create of `name` left before a new create starts
/// over: its container (never a finished one) and the pinned host key. The home
/// volume is kept and reused, whoever made it: the workspace may have been used
/// while it was incomplete, and nothing a user wrote is removed without a `delete`.
/// Its lease is already free (its process ended). Returns whether a volume is
/// there to reuse; says what it did.
pub async fn start_over(
    ctx: &Ctx,
    name: &WorkspaceName,
    previous: Option<&ProvisionRecord>,
    progress: ProgressFn<'_>,
) -> Result<bool> {
    let step = previous.map_or("an unknown step".to_string(), |r| {
        format!("step {} ({}/{})", r.step, r.index, r.total)
    });
    progress
        .report(Progress::Note(format!(
            "an earlier create of {name} stopped at {step} and never finished; removing its container and starting over"
        )))
        .await;
    let mut removed = Vec::new();
    if let Some(w) = super::inventory::find(ctx, name).await? {
        if w.provision.is_ready() {
            bail!("workspace {name} exists and is complete; use `berth start {name}` or pick another name");
        }
        // A claim of a warm workspace that never finished: its home is the slot's
        // volume, which a cold create would not reuse; never dropped unasked.
        if !w.volume.is_empty() && w.volume != name.volume() {
            bail!(
                "an earlier create of {name} claimed a warm workspace and never finished; `berth delete {name}` removes it (container {} and its home volume {}), then create it again",
                w.container,
                w.volume
            );
        }
        // Sidecars in its network namespace (its Docker engine) go with the container;
        // their volumes stay and are reused.
        for s in ctx.engine.sidecars(name.as_str()).await? {
            if s.joins_workspace {
                ctx.engine.remove_container(&s.container).await?;
                removed.push(format!("sidecar {}", s.container));
            }
        }
        if w.state != crate::domain::workspace::WorkspaceState::Absent {
            ctx.engine.remove_container(&w.container).await?;
            removed.push(format!("container {}", w.container));
        }
    }
    // Its proxy sidecar (made again by the create's proxy step), even when the
    // create stopped before making the workspace's container.
    for s in ctx.engine.sidecars(name.as_str()).await? {
        if s.source == crate::domain::proxy::KIND {
            ctx.engine.remove_container(&s.container).await?;
            removed.push(format!("sidecar {}", s.container));
        }
    }
    let volume = name.volume();
    let kept = ctx.engine.volume_exists(&volume).await?;
    if kept {
        progress
            .report(Progress::Note(format!(
                "keeping volume {volume} and reusing it (`berth delete {name}` removes it)"
            )))
            .await;
    }
    crate::ssh_client::forget(&ctx.paths, &super::ssh_route::alias_here(ctx, name)).await;
    provision::ssh_agent::forget(&ctx.paths, name.as_str()).await;
    if !removed.is_empty() {
        progress
            .report(Progress::Note(format!("removed {}", removed.join(", "))))
            .await;
    }
    let _ = ctx
        .store
        .audit(name.as_str(), "create-restarted", &format!("was at {step}"))
        .await;
    Ok(kept)
}
