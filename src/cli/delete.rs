//! `berth delete NAME` and `berth delete --all`: say what goes, ask, then remove it.
use crate::backend::{delete_all, lifecycle, Ctx};
use crate::domain::naming::WorkspaceName;
use anyhow::Result;

fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Asks; "Nothing was deleted." when the answer is no.
async fn confirm(question: String) -> Result<bool> {
    let yes = super::confirm::ask(question, "deleted").await?;
    if !yes {
        eprintln!("Nothing was deleted.");
    }
    Ok(yes)
}

/// What one delete removed, as a sentence's parts.
fn removed_parts(name: &WorkspaceName, d: &lifecycle::Deleted) -> Vec<String> {
    let mut parts = Vec::new();
    if let Some(c) = &d.container {
        parts.push(format!("removed container {c}"));
    }
    if let Some(v) = &d.volume {
        parts.push(format!("removed volume {v}"));
    }
    for c in &d.sidecars {
        parts.push(format!("removed sidecar {c}"));
    }
    for v in &d.volumes {
        parts.push(format!("removed sidecar volume {v}"));
    }
    for n in &d.networks {
        parts.push(format!("removed network {n}"));
    }
    if d.volume_kept {
        let v = d.kept_volume.clone().unwrap_or_else(|| name.volume());
        parts.push(format!("kept volume {v}"));
    }
    parts
}

pub async fn one(
    ctx: &Ctx,
    name: &WorkspaceName,
    yes: bool,
    keep_volume: bool,
    json: bool,
) -> Result<i32> {
    let plan = lifecycle::plan_delete(ctx, name, keep_volume).await?;
    // Snapshots outlive their workspace (that is what they are for): say so.
    let snapshots: Vec<String> = crate::backend::snapshot::of_workspace(ctx, name.as_str())
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|s| s.name)
        .collect();
    let remain = (!snapshots.is_empty()).then(|| {
        format!(
            "Its snapshots remain: {} (`berth restore SNAP NAME` brings one back, `berth snapshot rm SNAP` removes one).",
            snapshots.join(", ")
        )
    });
    if !yes
        && !confirm(format!(
            "Delete workspace {name}? This removes {}.{}",
            plan.describe(name),
            remain.as_ref().map(|r| format!(" {r}")).unwrap_or_default()
        ))
        .await?
    {
        return Ok(1);
    }
    let d = lifecycle::delete(ctx, name, keep_volume).await?;
    if json {
        let mut v = serde_json::to_value(&d)?;
        v["name"] = name.as_str().into();
        v["snapshots_kept"] = snapshots.into();
        print_json(&v)?;
        return Ok(0);
    }
    println!(
        "Deleted workspace {name}: {}.",
        removed_parts(name, &d).join(", ")
    );
    if let Some(r) = remain {
        println!("{r}");
    }
    Ok(0)
}

pub async fn all(
    ctx: &Ctx,
    snapshots: bool,
    yes: bool,
    keep_volume: bool,
    json: bool,
) -> Result<i32> {
    let plan = delete_all::plan(ctx, keep_volume, snapshots).await?;
    let on = super::engine_note::suffix(ctx);
    for (name, why) in &plan.skipped {
        eprintln!("Skipping {name}: {why}");
    }
    if plan.is_empty() {
        if json {
            print_json(&with_engine(
                ctx,
                serde_json::json!({
                    "workspaces": [], "snapshots": {"images": [], "volumes": []},
                    "failed": [], "skipped": skipped_json(&plan),
                }),
            ))?;
        } else {
            println!(
                "Nothing to delete{on}: there are no workspaces{}.",
                if snapshots { " or snapshots" } else { "" }
            );
        }
        return Ok(if plan.skipped.is_empty() { 0 } else { 1 });
    }
    if plan.snapshots_kept > 0 {
        eprintln!(
            "{} snapshot(s) are kept (`berth snapshots` lists them; add --snapshots to remove them too).",
            plan.snapshots_kept
        );
    }
    if !yes {
        match super::engine_note::engine(ctx) {
            Some(e) => eprintln!(
                "This removes, on {e} only (the other engines, {}, are untouched; `--engine NAME` picks another):",
                super::engine_note::others(ctx)
            ),
            None => eprintln!("This removes:"),
        }
        for line in plan.lines() {
            eprintln!("  - {line}");
        }
        if !confirm("Delete all of it?".into()).await? {
            return Ok(1);
        }
    }
    let done = delete_all::run(ctx, &plan).await;
    let ok = done.failed.is_empty() && plan.skipped.is_empty();
    if json {
        let workspaces: Vec<serde_json::Value> = done
            .workspaces
            .iter()
            .map(|(n, d)| {
                let mut v = serde_json::to_value(d).unwrap_or_default();
                v["name"] = n.as_str().into();
                v
            })
            .collect();
        let failed: Vec<serde_json::Value> = done
            .failed
            .iter()
            .map(|(what, why)| serde_json::json!({"name": what, "error": why}))
            .collect();
        print_json(&with_engine(
            ctx,
            serde_json::json!({
                "workspaces": workspaces,
                "snapshots": done.snapshots,
                "failed": failed,
                "skipped": skipped_json(&plan),
            }),
        ))?;
        return Ok(if ok { 0 } else { 1 });
    }
    for (n, d) in &done.workspaces {
        let name = WorkspaceName::parse(n)?;
        println!(
            "Deleted workspace {n}{on}: {}.",
            removed_parts(&name, d).join(", ")
        );
    }
    for i in &done.snapshots.images {
        println!("Removed snapshot image {i}.");
    }
    for v in &done.snapshots.volumes {
        println!("Removed snapshot volume {v}.");
    }
    for (what, why) in &done.failed {
        eprintln!("Could not delete {what}: {why}");
    }
    if yes && !on.is_empty() {
        eprintln!(
            "The other engines ({}) were not touched.",
            super::engine_note::others(ctx)
        );
    }
    if !ok {
        eprintln!("Some things were not deleted (above); `berth list` shows what is left.");
    }
    Ok(if ok { 0 } else { 1 })
}

fn skipped_json(plan: &delete_all::AllPlan) -> Vec<serde_json::Value> {
    plan.skipped
        .iter()
        .map(|(n, why)| serde_json::json!({"name": n, "reason": why}))
        .collect()
}

/// `v` with `"engine"` when berth knows several engines.
fn with_engine(ctx: &Ctx, mut v: serde_json::Value) -> serde_json::Value {
    if ctx.engines.several() {
        v["engine"] = ctx.engine_name().into();
    }
    v
}
