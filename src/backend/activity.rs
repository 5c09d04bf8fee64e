//! A workspace's activity: recorded uses (store), its TTL, and why it counts as
//! alive now. The cleanup job, `berth status` and the status pane read it here.
use super::Ctx;
use crate::domain::activity::Activity;
use crate::domain::ttl::Ttl;
use crate::domain::workspace::Workspace;
use anyhow::Result;

/// What berth knows about `ws`'s use at `now` (Unix seconds).
/// (Base version: no recorded uses and no TTL yet; the activity work fills it in.)
pub async fn observe(_ctx: &Ctx, ws: &Workspace, now: i64) -> Result<Activity> {
    Ok(Activity::derive(now, ws.created, None, Ttl::Never, vec![]))
}
