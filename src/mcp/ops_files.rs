//! `copy_in`, `copy_out`, `snapshot` and `restore`: `berth cp`, `berth snapshot`
//! and `berth restore`'s backend functions, with their progress sent to the client.
use super::params::{Args, ToolResult};
use super::Call;
use crate::backend::copy::{self, Meter, Sink, Source, WORKSPACE_IDS};
use crate::backend::restore::{self, RestoreRequest};
use crate::backend::snapshot;
use crate::domain::activity::UseSource;
use crate::domain::copy::human_bytes;
use crate::domain::naming::WorkspaceName;
use crate::domain::snapshot::SnapshotName;
use serde_json::{json, Value};
use std::sync::Arc;
use std::time::Duration;

fn sentence(e: anyhow::Error) -> String {
    format!("{e:#}")
}

/// Sends the bytes copied so far every second while `work` runs.
async fn with_meter<T>(
    call: &Call<'_>,
    meter: &Arc<Meter>,
    work: impl std::future::Future<Output = T>,
) -> T {
    tokio::pin!(work);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    tick.tick().await;
    loop {
        tokio::select! {
            r = &mut work => return r,
            _ = tick.tick() => {
                let total = meter.total().map(|t| format!(" of {}", human_bytes(t))).unwrap_or_default();
                call.progress.say(&format!("copied {}{total}", human_bytes(meter.bytes()))).await;
            }
        }
    }
}

fn summary(s: &copy::CopySummary) -> ToolResult<Value> {
    let mut v = serde_json::to_value(s).map_err(|e| e.to_string())?;
    v["success"] = true.into();
    Ok(v)
}

pub async fn copy_in(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let name = a.workspace("container", "copy_in")?;
    let host = a.required("host_path", "copy_in")?;
    let to = a.required("container_path", "copy_in")?;
    crate::backend::activity::record_name(call.ctx, name.as_str(), UseSource::Mcp).await;
    call.progress
        .say(&format!("copying {host} into {name}:{to}"))
        .await;
    let meter = Arc::new(Meter::default());
    let work = copy::copy_in(
        call.ctx,
        &name,
        Source::Host(host),
        &to,
        Some(WORKSPACE_IDS),
        &meter,
        call.cancel.clone(),
    );
    let s = with_meter(call, &meter, work).await.map_err(sentence)?;
    summary(&s)
}

pub async fn copy_out(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let name = a.workspace("container", "copy_out")?;
    let from = a.required("container_path", "copy_out")?;
    let host = a.required("host_path", "copy_out")?;
    crate::backend::activity::record_name(call.ctx, name.as_str(), UseSource::Mcp).await;
    call.progress
        .say(&format!("copying {name}:{from} to {host}"))
        .await;
    let meter = Arc::new(Meter::default());
    let work = copy::copy_out(
        call.ctx,
        &name,
        &from,
        Sink::Host(host),
        &meter,
        call.cancel.clone(),
    );
    let s = with_meter(call, &meter, work).await.map_err(sentence)?;
    summary(&s)
}

pub async fn snapshot(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let name = a.workspace("container", "snapshot")?;
    let as_ = a
        .string("name")?
        .map(|s| SnapshotName::parse(&s))
        .transpose()
        .map_err(|e| e.to_string())?;
    let t = snapshot::take(call.ctx, &name, as_, call.progress, call.cancel.clone())
        .await
        .map_err(sentence)?;
    let mut v = serde_json::to_value(&t).map_err(|e| e.to_string())?;
    v["success"] = true.into();
    v["snapshot"] = t.info.name.clone().into();
    v["container"] = name.as_str().into();
    Ok(v)
}

pub async fn restore(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let snap =
        SnapshotName::parse(&a.required("snapshot", "restore")?).map_err(|e| e.to_string())?;
    let name: WorkspaceName = a.workspace("name", "restore")?;
    let keys = crate::backend::keys::for_create(&call.ctx.paths, None)
        .await
        .map_err(sentence)?;
    let req = RestoreRequest {
        snapshot: snap.clone(),
        name,
        keys: keys.keys,
        identities: keys.identities,
    };
    let w = restore::restore(call.ctx, req, call.progress, call.cancel.clone())
        .await
        .map_err(sentence)?;
    Ok(json!({
        "success": true,
        "container": w.name,
        "snapshot": snap.as_str(),
        "workspace": crate::cli::workspace_json(&w),
    }))
}
