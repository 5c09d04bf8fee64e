//! berth's shared network for `isolated` workspaces (see `domain::net_isolation`):
//! checked before a create, made on demand (a bridge with inter-container
//! communication off, labelled as berth's), refused when a network of that name is
//! not berth's or lets containers reach each other, and removed when the last
//! workspace on it is gone.
use super::Ctx;
use crate::domain::net_isolation::{self, check_found, Found};
use crate::domain::net_profile::NetProfile;
use crate::engine::{EngineError, NetworkInfo, NetworkSpec};
use serde::Serialize;

/// The network's engine name (config `[network] isolated_network`).
pub fn name(ctx: &Ctx) -> &str {
    &ctx.config.network.isolated_network
}

fn check_info(info: &NetworkInfo) -> Result<(), String> {
    check_found(&Found {
        name: &info.name,
        driver: &info.driver,
        labels: &info.labels,
        icc: info.icc,
        internal: info.internal,
    })
}

/// Before a create: a sentence when a network of that name exists that berth may
/// not use. An absent one is fine (the create makes it).
pub async fn preflight(ctx: &Ctx) -> Result<(), String> {
    match ctx.engine.inspect_network(name(ctx)).await {
        Ok(Some(info)) => check_info(&info),
        Ok(None) => Ok(()),
        Err(e) => Err(e.to_string()),
    }
}

/// The network, made now if absent; its name. Another create making it at the
/// same moment is fine (the engine keeps one); what exists is checked either way.
/// Returns whether this call made it.
pub async fn ensure(ctx: &Ctx) -> anyhow::Result<(String, bool)> {
    let net = name(ctx).to_string();
    let made = match ctx.engine.inspect_network(&net).await? {
        Some(info) => {
            check_info(&info).map_err(anyhow::Error::msg)?;
            false
        }
        None => {
            // Held until the network exists: see `creation_lock`.
            let _lock = creation_lock(ctx).await?;
            if let Some(info) = ctx.engine.inspect_network(&net).await? {
                check_info(&info).map_err(anyhow::Error::msg)?;
                return Ok((net, false));
            }
            let spec = NetworkSpec {
                name: net.clone(),
                labels: net_isolation::network_labels(&ctx.config.labels),
                internal: false,
                icc: false,
            };
            let made = ctx.engine.create_network(&spec).await?;
            let info =
                ctx.engine.inspect_network(&net).await?.ok_or_else(|| {
                    anyhow::anyhow!("network {net} vanished right after it was made")
                })?;
            check_info(&info).map_err(anyhow::Error::msg)?;
            made
        }
    };
    Ok((net, made))
}

/// Serializes making the shared network among this user's berth processes: an
/// engine before API 1.44 lets creates of one name at the same moment make several
/// networks of that name (which then makes the name ambiguous for every later
/// create; seen with thirty concurrent creates). A lock file in the state
/// directory (0600, empty), released when the returned file is dropped.
async fn creation_lock(ctx: &Ctx) -> anyhow::Result<std::fs::File> {
    use anyhow::Context as _;
    use std::os::unix::fs::OpenOptionsExt;
    let path = ctx.paths.state_dir.join("isolated-network.lock");
    tokio::task::spawn_blocking(move || {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let f = std::fs::OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .mode(0o600)
            .open(&path)?;
        f.lock()?;
        Ok::<_, std::io::Error>(f)
    })
    .await?
    .context("cannot take the lock that serializes making berth's isolated network")
}

/// The network a workspace with `profile` is created on (see
/// `domain::net_isolation::container_network`); for `isolated`, berth's shared
/// network, made now if absent (`made` turns true when this call made it).
pub async fn for_container(
    ctx: &Ctx,
    profile: NetProfile,
    made: &mut bool,
) -> anyhow::Result<Option<String>> {
    if profile != NetProfile::Isolated {
        return Ok(net_isolation::container_network(profile, name(ctx)));
    }
    let (net, made_now) = ensure(ctx).await?;
    *made |= made_now;
    Ok(Some(net))
}

/// Creates a workspace's container. An isolated one whose network went between
/// [`ensure`] and now (a delete of the last isolated workspace removed it) gets the
/// network made again and one more try.
pub async fn create_container(
    ctx: &Ctx,
    cs: &crate::engine::ContainerSpec,
    profile: NetProfile,
    made: &mut bool,
) -> anyhow::Result<()> {
    match ctx.engine.create_container(cs).await {
        Err(e) if e.is_not_found() && profile == NetProfile::Isolated => {
            tracing::info!("the isolated network went during a create ({e}); making it again");
            let (_, made_now) = ensure(ctx).await?;
            *made |= made_now;
            ctx.engine.create_container(cs).await?;
        }
        r => {
            r?;
        }
    }
    Ok(())
}

/// Removes the network when no container is on it any more (stopped ones count:
/// the engine would let it go under them and they could not start again). Ours
/// only; one still in use (or taken meanwhile) stays. Returns whether it went.
pub async fn release(ctx: &Ctx) -> bool {
    let net = name(ctx);
    // Not while another berth of this user is making it (see `creation_lock`).
    let Ok(_lock) = creation_lock(ctx).await else {
        return false;
    };
    let Ok(Some(info)) = ctx.engine.inspect_network(net).await else {
        return false;
    };
    if !info.containers.is_empty() || check_info(&info).is_err() {
        return false;
    }
    match ctx.engine.remove_network(net).await {
        Ok(()) => true,
        // In use after all (a create attached a container meanwhile): it stays.
        Err(EngineError::Conflict(_)) => false,
        Err(e) => {
            tracing::warn!("cannot remove the isolated network {net}: {e}");
            false
        }
    }
}

/// `berth doctor`'s view of the isolated network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Health {
    pub name: String,
    /// It exists now (else the first isolated create makes it).
    pub exists: bool,
    /// Why berth would refuse it (not its own, ICC on, no way out).
    pub problem: Option<String>,
    /// Containers on it.
    pub containers: usize,
}

impl Health {
    pub fn ok(&self) -> bool {
        self.problem.is_none()
    }

    /// One line for people.
    pub fn text(&self) -> String {
        match (&self.problem, self.exists) {
            (Some(p), _) => p.clone(),
            (None, true) => format!(
                "{} exists, is berth's, inter-container communication off ({} container(s) on it)",
                self.name, self.containers
            ),
            (None, false) => format!(
                "{} will be made by the first isolated create (a bridge with inter-container communication off)",
                self.name
            ),
        }
    }
}

/// How the isolated network `name` stands in `engine`.
pub async fn health(engine: &dyn crate::engine::NetworkEngine, name: &str) -> Health {
    let name = name.to_string();
    match engine.inspect_network(&name).await {
        Ok(Some(info)) => Health {
            problem: check_info(&info).err(),
            exists: true,
            containers: info.containers.len(),
            name,
        },
        Ok(None) => Health {
            name,
            exists: false,
            problem: None,
            containers: 0,
        },
        Err(e) => Health {
            name,
            exists: false,
            problem: Some(format!("cannot inspect the isolated network: {e}")),
            containers: 0,
        },
    }
}

#[cfg(test)]
#[path = "net_isolated_tests.rs"]
mod tests;
