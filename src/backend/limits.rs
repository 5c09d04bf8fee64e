//! `[limits] max_concurrent` enforced across processes, and the CPU default capped
//! at the host. berth's workspaces are those carrying the config's `[labels]`
//! (every workspace when none are set). A create or start takes a [`Slot`]: it holds a lock file
//! (`<state dir>/limits.lock`, flock) while it counts what runs and makes its own
//! claim visible (a create: its provisioning record; a start: the started
//! container), so two berths at the limit never both slip past it. Creates in
//! progress (live provisioning records) count as running; the records are read
//! before the engine's list, so a create that finishes between the two is seen
//! running.
use super::{Ctx, Progress, ProgressFn};
use crate::domain::limits::{admit, cap_cpus, counted, ours};
use std::fs::File;
use std::time::Duration;

/// How long a create or start waits for another berth's count to finish.
const LOCK_WAIT: Duration = Duration::from_secs(30);
const LOCK_POLL: Duration = Duration::from_millis(20);

/// Held from the count until the new workspace is visible to the next count;
/// dropping it lets the next one count. `None` inside: no limit set.
#[must_use = "the limit is only kept while the slot is held"]
pub struct Slot {
    _lock: Option<File>,
}

impl Slot {
    /// Lets the next create or start count (the same as dropping it).
    pub fn release(self) {}
}

/// Opens (creating) the lock file off the async threads.
async fn open_lock(ctx: &Ctx) -> anyhow::Result<File> {
    let dir = ctx.paths.state_dir.clone();
    tokio::task::spawn_blocking(move || -> anyhow::Result<File> {
        crate::private_fs::ensure_dir(&dir)?;
        Ok(std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(dir.join("limits.lock"))?)
    })
    .await?
}

/// Takes the lock, waiting (on tokio's clock) while another berth counts.
async fn lock(ctx: &Ctx) -> Result<File, String> {
    let file = open_lock(ctx).await.map_err(|e| {
        format!(
            "cannot open berth's limits lock in {}: {e:#}",
            ctx.paths.state_dir.display()
        )
    })?;
    let deadline = tokio::time::Instant::now() + LOCK_WAIT;
    loop {
        // Non-blocking (LOCK_NB): polled, so no thread waits on it.
        match file.try_lock() {
            Ok(()) => return Ok(file),
            Err(std::fs::TryLockError::WouldBlock) if tokio::time::Instant::now() < deadline => {
                tokio::time::sleep(LOCK_POLL).await
            }
            Err(std::fs::TryLockError::WouldBlock) => {
                return Err(format!(
                    "another berth has been counting running workspaces for {} s (it holds {}); \
                     try again, or stop that process",
                    LOCK_WAIT.as_secs(),
                    ctx.paths.state_dir.join("limits.lock").display()
                ))
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(format!("cannot lock berth's limits lock: {e}"))
            }
        }
    }
}

/// A slot for workspace `name` to run, or the sentence saying why not (how many
/// run, the limit, the setting and its file). With no limit set, takes no lock.
pub async fn admit_one(ctx: &Ctx, name: &str) -> Result<Slot, String> {
    let limit = ctx.config.limits.max_concurrent;
    if limit == 0 {
        return Ok(Slot { _lock: None });
    }
    let file = lock(ctx).await?;
    // Records first, then the engine (see the module's note).
    let creating: Vec<String> = ctx
        .store
        .provisioning_on(&ctx.engine_name())
        .await
        .map_err(|e| format!("{e:#}"))?
        .into_iter()
        .filter(|(_, alive)| *alive)
        .map(|(r, _)| r.name)
        .collect();
    let mut workspaces = ctx
        .engine
        .list_workspaces()
        .await
        .map_err(|e| e.to_string())?;
    workspaces.retain(|w| ours(w, &ctx.config.labels));
    let running = counted(&workspaces, &creating, name);
    admit(limit, &running).map_err(|r| r.sentence(&ctx.paths.config_file.display().to_string()))?;
    Ok(Slot { _lock: Some(file) })
}

/// The CPU cores a new workspace asks for, capped at the host's count (with a
/// note); as asked when the engine does not say its count.
pub async fn capped_cpus(ctx: &Ctx, asked: Option<f64>, progress: ProgressFn<'_>) -> Option<f64> {
    asked?;
    let host = match ctx.engine.info().await {
        Ok(i) => i.ncpu,
        Err(_) => 0,
    };
    let (cpus, note) = cap_cpus(asked, host);
    if let Some(n) = note {
        progress.report(Progress::Note(n)).await;
    }
    cpus
}
