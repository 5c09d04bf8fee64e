//! The checks a create makes on the host before it makes anything: the pure rules
//! of `domain::create_checks`, every mounted host path present, every published
//! host port free on the bind address.
use super::Ctx;
use crate::domain::create_checks;
use crate::domain::workspace::WorkspaceSpec;
use std::net::SocketAddr;

/// A sentence saying what is wrong, or `Ok` when the create may go ahead.
pub async fn check(ctx: &Ctx, spec: &WorkspaceSpec) -> Result<(), String> {
    let o = &spec.options;
    create_checks::check(o, ctx.config.port_range)?;
    super::networks::check_exist(ctx, &o.networks).await?;
    for m in &o.mounts {
        if let Err(e) = tokio::fs::metadata(&m.host).await {
            let why = if e.kind() == std::io::ErrorKind::NotFound {
                "it does not exist".to_string()
            } else {
                e.to_string()
            };
            return Err(format!(
                "cannot mount {} at {}: {why}; create it first or fix the path",
                m.host.display(),
                m.path
            ));
        }
    }
    for p in &o.ports {
        let addr = SocketAddr::new(ctx.config.bind_address, p.host);
        // Bound and released at once: only a probe (the engine's refusal at start
        // is the final word, see `create_steps`).
        if let Err(e) = tokio::net::TcpListener::bind(addr).await {
            return Err(format!(
                "host port {} is taken on {} ({e}); pick another for --port {}:{}",
                p.host, ctx.config.bind_address, p.host, p.container
            ));
        }
    }
    Ok(())
}
