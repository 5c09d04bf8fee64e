//! A workspace's activity: recorded uses (store), its TTL, and why it counts as
//! alive now. The cleanup job, `berth status` and the status pane read it here.
use super::Ctx;
use crate::domain::activity::Activity;
use crate::domain::workspace::Workspace;
use anyhow::Result;

/// What berth knows about `ws`'s use at `now` (Unix seconds).
/// (Base version: no recorded uses; the TTL is the config's default.)
pub async fn observe(ctx: &Ctx, ws: &Workspace, now: i64) -> Result<Activity> {
    Ok(Activity::derive(
        now,
        ws.created,
        None,
        ctx.config.lifetime.ttl,
        vec![],
    ))
}
