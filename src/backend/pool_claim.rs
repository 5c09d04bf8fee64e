//! A create claiming a warm pool slot: the slot's container renamed to the
//! workspace's (the engine's rename is the claim lock: of two claimers exactly one
//! wins, the other tries the next slot or goes cold), then the rest of the plan.
use super::create_state::StepState;
use super::{Ctx, Progress, ProgressFn};
use crate::domain::pool::{is_slot, mismatch, Shape, POOL, POOL_IMAGE, POOL_SHAPE};
use crate::domain::workspace::{Workspace, WorkspaceSpec, WorkspaceState};
use crate::engine::EngineError;

/// The slot a create took over.
#[derive(Debug, Clone)]
pub struct Claimed {
    /// The slot's container name before the rename.
    pub slot: String,
    /// Its home volume (it keeps the slot's name).
    pub volume: String,
    pub port: Option<u16>,
    pub image: String,
}

impl Claimed {
    /// The create's state as if its own steps had made the slot: a failure of a
    /// later step removes the claimed container and its volume.
    pub fn adopt(&self, spec: &WorkspaceSpec, st: &mut StepState) {
        st.port = self.port.unwrap_or(0);
        st.image = self.image.clone();
        st.made.container = Some(spec.name.container());
        st.made.volume = Some(self.volume.clone());
    }
}

async fn note(progress: ProgressFn<'_>, s: String) {
    progress.report(Progress::Note(s)).await
}

/// Claims a ready slot of `spec`'s profile when the pool has one and `spec` asks
/// for nothing a slot lacks; `None` (having said why, when a pool exists): create
/// it cold. Starts a background refill after a claim.
pub async fn claim(ctx: &Ctx, spec: &WorkspaceSpec, progress: ProgressFn<'_>) -> Option<Claimed> {
    if spec.name.is_pool_slot() || ctx.config.pool.size(&spec.profile) == 0 {
        return None;
    }
    let version = super::pool::VERSION;
    let pool = match super::pool::pool_spec(ctx, &spec.profile) {
        Ok(p) => p,
        Err(e) => {
            note(
                progress,
                format!("no warm workspace: {e:#}; creating it cold"),
            )
            .await;
            return None;
        }
    };
    if let Some(why) = mismatch(spec, version, &Shape::of(&pool, version)) {
        note(progress, why).await;
        return None;
    }
    let shape = Shape::of(spec, version).hash();
    let image = match super::pool::image_id(ctx, spec, progress).await {
        Ok(id) => id,
        Err(e) => {
            note(
                progress,
                format!("no warm workspace: {e:#}; creating it cold"),
            )
            .await;
            return None;
        }
    };
    let slots = match super::pool::slots(ctx).await {
        Ok(s) => s,
        Err(e) => {
            note(
                progress,
                format!("cannot list warm workspaces ({e:#}); creating it cold"),
            )
            .await;
            return None;
        }
    };
    let label = |w: &Workspace, k: &str| w.labels.get(k).cloned().unwrap_or_default();
    for w in slots.iter().filter(|w| {
        is_slot(w)
            && w.state == WorkspaceState::Running
            && label(w, POOL) == spec.profile
            && label(w, POOL_SHAPE) == shape
            && label(w, POOL_IMAGE) == image
    }) {
        if !super::pool::is_ready(ctx, w).await {
            continue;
        }
        match ctx
            .engine
            .rename_container(&w.container, &spec.name.container())
            .await
        {
            Ok(()) => {
                note(
                    progress,
                    format!(
                        "claimed warm workspace {} of pool {} (renamed to {}; home volume {})",
                        w.container,
                        spec.profile,
                        spec.name.container(),
                        w.volume
                    ),
                )
                .await;
                spawn_refill(ctx).await;
                return Some(Claimed {
                    slot: w.container.clone(),
                    volume: w.volume.clone(),
                    port: w.ssh_port,
                    image: w.image.clone(),
                });
            }
            // Another create took it first: try the next.
            Err(EngineError::NotFound { .. }) => continue,
            Err(e) => {
                note(
                    progress,
                    format!("claiming {} failed ({e}); creating it cold", w.container),
                )
                .await;
                return None;
            }
        }
    }
    note(
        progress,
        format!(
            "no warm workspace of pool {} is ready; creating it cold",
            spec.profile
        ),
    )
    .await;
    spawn_refill(ctx).await;
    None
}

/// Starts `berth pool refill` detached (its own process group, output to
/// `pool-refill.log` in the state dir, its pid in `pool-refill.pid`) unless a
/// refill runs already. Never in unit tests (the binary is the test runner).
pub async fn spawn_refill(ctx: &Ctx) {
    if cfg!(test) || super::pool::busy(ctx).await {
        return;
    }
    if let Err(e) = spawn(ctx).await {
        tracing::warn!("cannot start a background pool refill: {e:#}");
    }
}

async fn spawn(ctx: &Ctx) -> anyhow::Result<()> {
    let exe = std::env::current_exe()?;
    let dir = ctx.paths.state_dir.clone();
    tokio::fs::create_dir_all(&dir).await?;
    let log = tokio::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join("pool-refill.log"))
        .await?
        .into_std()
        .await;
    let err = log.try_clone()?;
    let mut cmd = tokio::process::Command::new(exe);
    if tokio::fs::try_exists(&ctx.paths.config_file).await? {
        cmd.arg("--config").arg(&ctx.paths.config_file);
    }
    let child = cmd
        .args(["pool", "refill"])
        .stdin(std::process::Stdio::null())
        .stdout(log)
        .stderr(err)
        .process_group(0)
        .spawn()?;
    if let Some(pid) = child.id() {
        tokio::fs::write(dir.join("pool-refill.pid"), format!("{pid}\n")).await?;
    }
    // Not waited for: it outlives this process and exits by itself once the pool
    // is full (the engine reaps nothing of ours; init adopts it).
    drop(child);
    Ok(())
}
