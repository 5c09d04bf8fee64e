//! `preflight`, `list`, `status`, `destroy`, `destroy_all`, `create_network`,
//! `destroy_network` and `cache_clear`: the backend functions `berth doctor`'s
//! preflight, `berth list/status/delete` and `berth net` call.
use super::params::{Args, ToolResult};
use super::Call;
use crate::backend::preflight::{self, PreflightRequest};
use crate::backend::{delete_all, inventory, lifecycle, networks};
use crate::cli::workspace_json;
use crate::domain::networks::NetworkName;
use serde_json::{json, Value};

fn sentence(e: anyhow::Error) -> String {
    format!("{e:#}")
}

pub async fn preflight(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let req = PreflightRequest {
        image: a.string("image")?,
        profile: a.string("purpose")?,
        ..PreflightRequest::default()
    };
    let p = preflight::run(call.ctx, &req).await;
    serde_json::to_value(p).map_err(|e| e.to_string())
}

pub async fn list(call: &Call<'_>) -> ToolResult<Value> {
    let ws = inventory::list(call.ctx).await.map_err(sentence)?;
    let all: Vec<Value> = ws.iter().map(workspace_json).collect();
    Ok(json!({"containers": all}))
}

pub async fn status(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let name = a.workspace("container", "status")?;
    a.bool("health_check")?;
    let w = lifecycle::find(call.ctx, &name).await.map_err(sentence)?;
    let mut v = workspace_json(&w);
    v["running"] = (w.state == crate::domain::workspace::WorkspaceState::Running).into();
    v["ready"] = w.provision.is_ready().into();
    Ok(v)
}

pub async fn destroy(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let name = a.workspace("container", "destroy")?;
    a.bool("force")?;
    let d = lifecycle::delete(call.ctx, &name, false)
        .await
        .map_err(sentence)?;
    let mut v = serde_json::to_value(&d).map_err(|e| e.to_string())?;
    v["success"] = true.into();
    v["container"] = name.as_str().into();
    Ok(v)
}

/// The refusal without confirm=true: what would go, and that nothing went.
pub fn unconfirmed(lines: &[String]) -> String {
    if lines.is_empty() {
        return "destroy_all needs confirm=true; there are no workspaces now, so nothing would be removed".into();
    }
    format!(
        "destroy_all removes every berth workspace with its home volume and sidecars ({}); snapshots are kept. Call it again with confirm=true to go ahead. Nothing was removed",
        lines.join("; ")
    )
}

pub async fn destroy_all(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let confirm = a.bool("confirm")?.unwrap_or(false);
    let plan = delete_all::plan(call.ctx, false, false)
        .await
        .map_err(sentence)?;
    if !confirm {
        return Err(unconfirmed(&plan.lines()));
    }
    let names: Vec<String> = plan.workspaces.iter().map(|(n, _)| n.to_string()).collect();
    call.progress
        .say(&format!(
            "removing {} workspace(s): {}",
            names.len(),
            names.join(", ")
        ))
        .await;
    let done = delete_all::run(call.ctx, &plan).await;
    call.progress
        .say(&format!(
            "removed {}, {} failed",
            done.workspaces.len(),
            done.failed.len()
        ))
        .await;
    let removed: Vec<&str> = done.workspaces.iter().map(|(n, _)| n.as_str()).collect();
    let failed: Vec<Value> = done
        .failed
        .iter()
        .map(|(n, why)| json!({"name": n, "error": why}))
        .collect();
    let skipped: Vec<Value> = plan
        .skipped
        .iter()
        .map(|(n, why)| json!({"name": n, "reason": why}))
        .collect();
    Ok(json!({
        "success": failed.is_empty() && skipped.is_empty(),
        "destroyed": removed,
        "failed": failed,
        "skipped": skipped,
    }))
}

fn network(a: &Args, op: &str) -> ToolResult<NetworkName> {
    NetworkName::parse(&a.required("name", op)?).map_err(|e| e.to_string())
}

pub async fn create_network(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let n = network(a, "create_network")?;
    let v = networks::create(call.ctx, &n).await.map_err(sentence)?;
    let mut v = serde_json::to_value(&v).map_err(|e| e.to_string())?;
    v["success"] = true.into();
    Ok(v)
}

pub async fn destroy_network(call: &Call<'_>, a: &Args<'_>) -> ToolResult<Value> {
    let n = network(a, "destroy_network")?;
    let force = a.bool("force")?.unwrap_or(false);
    let r = networks::remove(call.ctx, &n, force)
        .await
        .map_err(sentence)?;
    let mut v = serde_json::to_value(&r).map_err(|e| e.to_string())?;
    v["success"] = true.into();
    Ok(v)
}

/// cache_clear: berth's profile images are rebuilt when their definition changes
/// and are shared with the CLI; the sentence names the command for them.
pub fn cache_clear() -> String {
    "cache_clear is not offered by berth's MCP server: berth's profile images are shared with every berth on this engine and rebuilt by themselves when a profile's definition changes. A person can remove one with `docker image rm berth/profile-NAME:TAG` (`docker images --filter label=dev.berth.profile` lists them)".into()
}

#[cfg(test)]
mod tests {
    #[test]
    fn destroy_all_without_confirm_says_what_would_go_and_that_nothing_went() {
        let s = super::unconfirmed(&["workspace a: container workspace-a".into()]);
        assert!(
            s.contains("confirm=true")
                && s.contains("Nothing was removed")
                && s.contains("workspace a")
        );
        assert!(super::unconfirmed(&[]).contains("no workspaces"));
    }
}
