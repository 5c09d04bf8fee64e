//! The warm pool (see `domain::pool`): refill, drain and what `berth pool` shows.
//! Slots are made by the normal create (its slot plan), under a cross-process lock
//! (a lock file in the state dir) so two refills never overfill a pool.
use super::create::{create, workspace_spec, CreateOutcome, CreateRequest, CreateSpec};
use super::{Ctx, Progress, ProgressFn};
use crate::domain::labels;
use crate::domain::naming::WorkspaceName;
use crate::domain::pool::{
    is_slot, plan_refill, unpoolable, PoolWant, Shape, SlotView, POOL, POOL_IMAGE, POOL_OWNER,
    POOL_SHAPE, READY_PATH,
};
use crate::domain::workspace::{Workspace, WorkspaceSpec, WorkspaceState};
use anyhow::{anyhow, Context, Result};
use serde::Serialize;
use std::path::PathBuf;

pub use super::pool_claim::{claim, spawn_refill, Claimed};

/// The berth version recorded in the labels (part of a slot's shape).
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Every workspace the user has (the engine's list without unclaimed slots).
pub async fn workspaces(ctx: &Ctx) -> Result<Vec<Workspace>> {
    let mut ws = ctx.engine.list_workspaces().await?;
    ws.retain(|w| !is_slot(w));
    Ok(ws)
}

/// Was `w` born in the warm pool (claimed by a create)?
pub fn is_warm(w: &Workspace) -> bool {
    w.labels.contains_key(POOL) && !is_slot(w)
}

/// Every unclaimed slot, oldest first.
pub async fn slots(ctx: &Ctx) -> Result<Vec<Workspace>> {
    let mut ws = ctx.engine.list_workspaces().await?;
    let me = own(ctx);
    ws.retain(|w| is_slot(w) && w.labels.get(POOL_OWNER) == Some(&me));
    ws.sort_by(|a, b| (a.created, &a.container).cmp(&(b.created, &b.container)));
    Ok(ws)
}

/// The spec a plain `berth create --profile PROFILE` makes in this environment:
/// what the pool of `profile` holds (its name is a placeholder).
pub fn pool_spec(ctx: &Ctx, profile: &str) -> Result<WorkspaceSpec> {
    let req = CreateSpec {
        name: "pool-slot".into(),
        profile: Some(profile.to_string()),
        ..Default::default()
    };
    let env = super::create::host_env_names();
    let mut spec = workspace_spec(&ctx.config, req, env.iter().map(String::as_str))
        .with_context(|| format!("pool.{profile} in {}", ctx.paths.config_file.display()))?;
    // A slot passes nothing through: the claim delivers the claimer's variables
    // and records their names in the workspace (`pool::ENV_NAMES_PATH`).
    spec.options.secrets.clear();
    Ok(spec)
}

/// The id of the image workspaces of `spec`'s profile run now (built if missing,
/// as a create would).
pub async fn image_id(ctx: &Ctx, spec: &WorkspaceSpec, progress: ProgressFn<'_>) -> Result<String> {
    let profile = ctx
        .config
        .profiles
        .get(&spec.profile)
        .map_err(|e| anyhow!(e))?;
    let tag = super::provision::profile::image(
        ctx,
        profile,
        &spec.image,
        spec.platform.as_deref(),
        progress,
    )
    .await?;
    let info = ctx
        .engine
        .image_info(&tag)
        .await?
        .ok_or_else(|| anyhow!("image {tag} is not present in the engine"))?;
    Ok(info.id)
}

/// Has the slot's plan finished (its ready file holds its id)?
pub async fn is_ready(ctx: &Ctx, w: &Workspace) -> bool {
    match ctx.engine.read_file(&w.container_id, READY_PATH, 256).await {
        Ok(Some(b)) => crate::domain::provision::marker_matches(&b, &w.container_id),
        _ => false,
    }
}

async fn sshd_answers(ctx: &Ctx, w: &Workspace) -> bool {
    let Some(port) = w.ssh_port else {
        return false;
    };
    let host = crate::ssh_client::connect_host(ctx.config.bind_address);
    matches!(super::sshd::banner(&host, port).await, Ok(b) if b.starts_with("SSH-2.0"))
}

/// What a refill did.
#[derive(Debug, Default, Serialize)]
pub struct PoolReport {
    /// Slots made (their containers).
    pub made: Vec<String>,
    /// Slots removed, each with why.
    pub removed: Vec<(String, String)>,
    /// Slots that could not be made or removed, each with why.
    pub failed: Vec<(String, String)>,
    /// Pools no slot can be made for, and why.
    pub notes: Vec<String>,
}

/// The pool lock: held (a lock on a file in the state dir) while a refill or a
/// drain changes the slots; released when dropped.
pub struct PoolLock(#[allow(dead_code)] std::fs::File);

fn lock_path(ctx: &Ctx) -> PathBuf {
    ctx.paths.state_dir.join("pool.lock")
}

/// How often a wait for the pool lock tries it again.
const LOCK_POLL: std::time::Duration = std::time::Duration::from_millis(200);

/// Waits for the pool lock: tries it on a blocking thread, never waits there (a
/// blocking flock cannot be cancelled: a dropped wait would leave a thread parked
/// in the kernel, and a runtime shutting down waits for it).
pub async fn lock(ctx: &Ctx) -> Result<PoolLock> {
    let path = lock_path(ctx);
    loop {
        let p = path.clone();
        let got = tokio::task::spawn_blocking(move || {
            if let Some(d) = p.parent() {
                std::fs::create_dir_all(d)?;
            }
            let f = std::fs::OpenOptions::new()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&p)?;
            match f.try_lock() {
                Ok(()) => Ok(Some(PoolLock(f))),
                Err(std::fs::TryLockError::WouldBlock) => Ok(None),
                Err(std::fs::TryLockError::Error(e)) => Err(e),
            }
        })
        .await
        .map_err(|e| anyhow!("locking the pool failed: {e}"))?
        .with_context(|| format!("cannot lock {}", path.display()))?;
        match got {
            Some(l) => return Ok(l),
            None => tokio::time::sleep(LOCK_POLL).await,
        }
    }
}

/// Is a refill or a drain running right now (someone holds the lock)?
pub async fn busy(ctx: &Ctx) -> bool {
    let path = lock_path(ctx);
    tokio::task::spawn_blocking(move || {
        let Ok(f) = std::fs::OpenOptions::new().write(true).open(&path) else {
            return false;
        };
        matches!(f.try_lock(), Err(std::fs::TryLockError::WouldBlock))
    })
    .await
    .unwrap_or(false)
}

/// Tops every pool up to its size and removes the slots no pool wants (size
/// lowered, options or image changed) and broken ones, under the pool lock.
pub async fn refill(ctx: &Ctx) -> Result<PoolReport> {
    let _lock = lock(ctx).await?;
    let mut report = PoolReport::default();
    let quiet = |_: Progress| {};
    let mut wants = Vec::new();
    let mut specs = Vec::new();
    for (profile, size) in &ctx.config.pool.sizes {
        let mut want = PoolWant {
            profile: profile.clone(),
            size: *size,
            shape: None,
            image_id: None,
        };
        match pool_spec(ctx, profile) {
            Err(e) => report.notes.push(format!("{e:#}")),
            Ok(spec) => match unpoolable(&spec) {
                Some(why) => report.notes.push(format!(
                    "pool.{profile}: no warm workspace can be made: {why}"
                )),
                None => match image_id(ctx, &spec, &quiet).await {
                    Ok(id) => {
                        want.shape = Some(Shape::of(&spec, VERSION).hash());
                        want.image_id = Some(id);
                        specs.push(spec);
                    }
                    Err(e) => report.notes.push(format!("pool.{profile}: {e:#}")),
                },
            },
        }
        wants.push(want);
    }
    let slots = slots(ctx).await?;
    let mut views = Vec::new();
    for w in &slots {
        views.push(SlotView {
            container: w.container.clone(),
            profile: w.labels.get(POOL).cloned().unwrap_or_default(),
            shape: w.labels.get(POOL_SHAPE).cloned().unwrap_or_default(),
            image_id: w.labels.get(POOL_IMAGE).cloned().unwrap_or_default(),
            ready: is_ready(ctx, w).await,
            healthy: w.state == WorkspaceState::Running && sshd_answers(ctx, w).await,
            created: w.created,
        });
    }
    let plan = plan_refill(&wants, &views);
    for (container, why) in plan.remove {
        match slots.iter().find(|w| w.container == container) {
            Some(w) => match remove_slot(ctx, w).await {
                Ok(()) => report.removed.push((container, why)),
                Err(e) => report.failed.push((container, format!("{e:#}"))),
            },
            None => continue,
        }
    }
    leftovers(ctx, &slots, &mut report).await;
    for (profile, n) in plan.make {
        let (Some(spec), Some(want)) = (
            specs.iter().find(|s| s.profile == profile),
            wants.iter().find(|w| w.profile == profile),
        ) else {
            continue;
        };
        for _ in 0..n {
            match make_slot(ctx, spec, want).await {
                Ok(c) => report.made.push(c),
                Err(e) => report
                    .failed
                    .push((format!("a {profile} slot"), format!("{e:#}"))),
            }
        }
    }
    Ok(report)
}

/// What a refill killed before it made a slot's container left: the slot's volume
/// (made first) and its record. Its record is dead (run under the pool lock, so no
/// refill of this state dir is making it) and no container has its name; a claimed
/// slot's record ended when the slot was finished, so this is never a home.
async fn leftovers(ctx: &Ctx, slots: &[Workspace], report: &mut PoolReport) {
    let records = match ctx.store.provisioning_on(&ctx.engine_name()).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!("cannot read provisioning records: {e:#}");
            return;
        }
    };
    for (r, alive) in records {
        if alive
            || !r.name.starts_with(crate::domain::naming::POOL_SLOT_PREFIX)
            || slots.iter().any(|w| w.name == r.name)
        {
            continue;
        }
        let volume = format!("berth-{}", r.name);
        let removed = match ctx.engine.volume_exists(&volume).await {
            Ok(true) if r.made_volume => ctx.engine.remove_volume(&volume).await.map(|()| true),
            Ok(_) => Ok(false),
            Err(e) => Err(e),
        };
        match removed {
            Ok(gone) => {
                if let Err(e) = ctx.store.forget(&r.name, &ctx.engine_name()).await {
                    tracing::warn!("cannot forget {} in the store: {e:#}", r.name);
                }
                if gone {
                    report.removed.push((
                        volume,
                        format!(
                            "a refill stopped at step {} before it made the container",
                            r.step
                        ),
                    ));
                }
            }
            Err(e) => report.failed.push((volume, e.to_string())),
        }
    }
}

/// A short random id for a slot's name.
/// This berth's [`POOL_OWNER`].
fn own(ctx: &Ctx) -> String {
    crate::domain::pool::owner(&ctx.paths.state_dir.display().to_string())
}

fn slot_id() -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    let seed = (t ^ (u64::from(std::process::id()) << 40)).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    format!("{:08x}", seed >> 32)
}

/// Makes one slot with the create's slot plan; returns its container.
async fn make_slot(ctx: &Ctx, pool: &WorkspaceSpec, want: &PoolWant) -> Result<String> {
    let mut spec = pool.clone();
    spec.name = WorkspaceName::pool_slot(&pool.profile, &slot_id());
    for (k, v) in [
        (POOL, Some(pool.profile.clone())),
        (POOL_SHAPE, want.shape.clone()),
        (POOL_IMAGE, want.image_id.clone()),
        (POOL_OWNER, Some(own(ctx))),
    ] {
        spec.extra_labels.insert(k.into(), v.unwrap_or_default());
    }
    let keys = super::keys::for_create(&ctx.paths, None).await?;
    let req = CreateRequest {
        spec,
        keys: keys.keys,
        identities: vec![],
        name_generated: false,
        restore: None,
    };
    let (_tx, rx) = tokio::sync::watch::channel(false);
    let w = match create(ctx, req, &|_: Progress| {}, rx).await? {
        CreateOutcome::Created(w) | CreateOutcome::Reused(w) => w,
    };
    let id = format!("{}\n", w.container_id);
    if let Err(e) = ctx
        .engine
        .write_file(&w.container_id, READY_PATH, id.as_bytes(), 0o644)
        .await
    {
        let _ = remove_slot(ctx, &w).await;
        return Err(e.into());
    }
    Ok(w.container)
}

/// Removes a slot: its container, its volume and its records.
async fn remove_slot(ctx: &Ctx, w: &Workspace) -> Result<()> {
    ctx.engine.remove_container(&w.container).await?;
    if !w.volume.is_empty() {
        ctx.engine.remove_volume(&w.volume).await?;
    }
    let _ = ctx.store.forget(&w.name, &ctx.engine_name()).await;
    Ok(())
}

/// Removes every slot (`berth pool drain`), under the pool lock.
pub async fn drain(ctx: &Ctx) -> Result<PoolReport> {
    let _lock = lock(ctx).await?;
    let mut report = PoolReport::default();
    for w in slots(ctx).await? {
        match remove_slot(ctx, &w).await {
            Ok(()) => report
                .removed
                .push((w.container.clone(), "drained".to_string())),
            Err(e) => report.failed.push((w.container.clone(), format!("{e:#}"))),
        }
    }
    Ok(report)
}

/// One slot as `berth pool` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct SlotStatus {
    pub container: String,
    pub volume: String,
    /// ready, making (a refill is making it) or broken (a refill removes it).
    pub state: &'static str,
    pub port: Option<u16>,
    pub age_secs: i64,
}

/// One pool as `berth pool` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct PoolStatus {
    pub profile: String,
    /// The configured size (0: no longer configured; its slots go at the next refill).
    pub size: usize,
    pub ready: usize,
    pub in_flight: usize,
    pub slots: Vec<SlotStatus>,
}

/// Every configured pool and every pool that still has slots, at `now`.
pub async fn status(ctx: &Ctx, now: i64) -> Result<Vec<PoolStatus>> {
    let mut out: Vec<PoolStatus> = ctx
        .config
        .pool
        .sizes
        .iter()
        .map(|(p, n)| PoolStatus {
            profile: p.clone(),
            size: *n,
            ready: 0,
            in_flight: 0,
            slots: vec![],
        })
        .collect();
    for w in slots(ctx).await? {
        let profile = w.labels.get(POOL).cloned().unwrap_or_default();
        let state = if is_ready(ctx, &w).await && w.state == WorkspaceState::Running {
            "ready"
        } else if creator_alive(&w).await {
            "making"
        } else {
            "broken"
        };
        let slot = SlotStatus {
            container: w.container.clone(),
            volume: w.volume.clone(),
            state,
            port: w.ssh_port,
            age_secs: (now - w.created).max(0),
        };
        let i = match out.iter().position(|p| p.profile == profile) {
            Some(i) => i,
            None => {
                out.push(PoolStatus {
                    profile,
                    size: 0,
                    ready: 0,
                    in_flight: 0,
                    slots: vec![],
                });
                out.len() - 1
            }
        };
        let p = &mut out[i];
        match state {
            "ready" => p.ready += 1,
            "making" => p.in_flight += 1,
            _ => {}
        }
        p.slots.push(slot);
    }
    Ok(out)
}

async fn creator_alive(w: &Workspace) -> bool {
    let Some(label) = w.labels.get(labels::CREATOR).cloned() else {
        return false;
    };
    tokio::task::spawn_blocking(move || {
        crate::store::Creator::liveness_of_label(&label) == crate::store::process::Liveness::Alive
    })
    .await
    .unwrap_or(false)
}
