//! `berth snapshot`, `snapshots`, `restore` and `fork`.
//!
//! `berth snapshot NAME` snapshots workspace NAME; `berth snapshot rm SNAP` and
//! `berth snapshot ls` manage snapshots. A subcommand's name wins over a workspace's:
//! a workspace called `rm`, `ls` or `create` is snapshotted with `berth snapshot
//! create NAME` (the explicit form of the shorthand).
use super::output::{self, ProgressView};
use super::Command;
use crate::backend::restore::{self, RestoreRequest};
use crate::backend::snapshot::{self as snap, Taken};
use crate::backend::{keys, Ctx};
use crate::domain::naming::WorkspaceName;
use crate::domain::snapshot::{human_bytes, SnapshotInfo, SnapshotName};
use anyhow::{bail, Result};
use clap::{Args, Subcommand};
use tokio::sync::watch;

#[derive(Args, Debug)]
#[command(args_conflicts_with_subcommands = true, subcommand_negates_reqs = true)]
pub struct SnapshotArgs {
    #[command(subcommand)]
    pub action: Option<SnapshotAction>,
    /// The workspace to snapshot (one called `rm`, `ls` or `create`: `berth snapshot create NAME`).
    #[arg(required = true)]
    pub name: Option<String>,
    #[command(flatten)]
    pub take: TakeArgs,
}

#[derive(Args, Debug)]
pub struct TakeArgs {
    /// The snapshot's name (default: NAME-YYYYMMDD-HHMMSS, UTC).
    #[arg(long = "as", value_name = "SNAP")]
    pub as_name: Option<String>,
    /// Print the snapshot as JSON, with `paused_ms` (how long the workspace was paused).
    #[arg(long)]
    pub json: bool,
}

#[derive(Subcommand, Debug)]
pub enum SnapshotAction {
    /// Snapshot workspace NAME (what `berth snapshot NAME` does).
    Create {
        name: String,
        #[command(flatten)]
        take: TakeArgs,
    },
    /// Remove snapshots (their image and volume); asks first unless --yes.
    Rm {
        #[arg(required = true, value_name = "SNAP")]
        snapshots: Vec<String>,
        #[arg(long, short = 'y')]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// List snapshots (what `berth snapshots` does).
    Ls {
        #[arg(long)]
        json: bool,
    },
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// Ctrl-C once cancels (the workspace is resumed, partial results removed); twice
/// leaves things as they are, and says how to finish the cleanup.
fn cancel_on_ctrl_c() -> watch::Receiver<bool> {
    let (tx, rx) = watch::channel(false);
    tokio::spawn(async move {
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("\nberth: cancelling: resuming the workspace and removing what was made (Ctrl-C again to leave it)");
            let _ = tx.send(true);
        }
        if tokio::signal::ctrl_c().await.is_ok() {
            eprintln!("berth: left as it is: `berth start NAME` resumes a paused workspace, `berth snapshots` and `berth list` show what is half made");
            std::process::exit(130);
        }
    });
    rx
}

pub async fn run(ctx: &Ctx, cmd: Command) -> Result<i32> {
    super::engine_note::say(ctx, "the snapshots");
    match cmd {
        Command::Snapshot(a) => match a.action {
            Some(SnapshotAction::Create { name, take }) => take_one(ctx, &name, take).await,
            Some(SnapshotAction::Rm {
                snapshots,
                yes,
                json,
            }) => remove(ctx, &snapshots, yes, json).await,
            Some(SnapshotAction::Ls { json }) => list(ctx, json).await,
            None => take_one(ctx, a.name.as_deref().unwrap_or_default(), a.take).await,
        },
        Command::Snapshots { json } => list(ctx, json).await,
        Command::Restore {
            snapshot,
            name,
            json,
        } => restore_one(ctx, &snapshot, &name, json).await,
        Command::Fork {
            name,
            new_name,
            keep_snapshot,
            json,
        } => fork(ctx, &name, &new_name, keep_snapshot, json).await,
        other => bail!("berth {} is not a snapshot command", other.name()),
    }
}

async fn take_one(ctx: &Ctx, name: &str, a: TakeArgs) -> Result<i32> {
    let name = WorkspaceName::parse(name)?;
    let as_name = a.as_name.as_deref().map(SnapshotName::parse).transpose()?;
    let view = ProgressView::new(a.json);
    let r = snap::take(ctx, &name, as_name, &|p| view.event(p), cancel_on_ctrl_c()).await;
    view.finish();
    let t = r?;
    if a.json {
        print_json(&serde_json::to_value(&t)?)?;
    } else {
        println!(
            "Snapshot {} of {name} taken in {:.1}s ({}). Restore it with `berth restore {} NEW_NAME`.",
            t.info.name,
            t.seconds,
            taken_detail(&t),
            t.info.name
        );
    }
    Ok(0)
}

fn taken_detail(t: &Taken) -> String {
    let home = t.info.home_bytes.map_or("-".into(), human_bytes);
    match t.paused_ms {
        Some(ms) => format!("home {home}; the workspace was paused {ms} ms"),
        None => format!("home {home}; the workspace was not running, so not paused"),
    }
}

/// The table of `berth snapshots`.
pub fn table(list: &[SnapshotInfo]) -> String {
    let mut rows = vec![[
        "WORKSPACE".to_string(),
        "SNAPSHOT".into(),
        "CREATED".into(),
        "SIZE".into(),
        "STATE".into(),
    ]];
    for s in list {
        rows.push([
            s.workspace.clone(),
            s.name.clone(),
            s.created.replace('T', " "),
            s.size().map_or("-".into(), human_bytes),
            if s.complete { "ready" } else { "incomplete" }.into(),
        ]);
    }
    let widths: Vec<usize> = (0..5)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in rows {
        let cells: Vec<String> = r
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn info_json(s: &SnapshotInfo) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(s)?;
    v["size"] = s.size().into();
    Ok(v)
}

async fn list(ctx: &Ctx, json: bool) -> Result<i32> {
    let all = snap::list(ctx).await?;
    if json {
        let v: Result<Vec<_>> = all.iter().map(info_json).collect();
        print_json(&serde_json::Value::Array(v?))?;
    } else if all.is_empty() {
        println!("No snapshots. Take one with `berth snapshot NAME`.");
    } else {
        print!("{}", table(&all));
    }
    Ok(0)
}

async fn remove(ctx: &Ctx, names: &[String], yes: bool, json: bool) -> Result<i32> {
    let snaps: Vec<SnapshotName> = names
        .iter()
        .map(|n| SnapshotName::parse(n))
        .collect::<Result<_, _>>()?;
    for s in &snaps {
        if snap::find(ctx, s).await?.is_none() {
            bail!("no snapshot named {s}; `berth snapshots` lists them. Nothing was removed");
        }
    }
    if !yes {
        let list: Vec<&str> = snaps.iter().map(SnapshotName::as_str).collect();
        let q = format!(
            "Remove snapshot(s) {}? Their image and home volume are deleted.",
            list.join(", ")
        );
        if !super::confirm::ask(q, "removed").await? {
            eprintln!("Nothing was removed.");
            return Ok(1);
        }
    }
    let mut out = Vec::new();
    for s in &snaps {
        let r = snap::remove(ctx, s).await?;
        if !json {
            let mut line = format!("Removed snapshot {s}.");
            if !r.still_used_by.is_empty() {
                line.push_str(&format!(
                    " Its image's layers stay while {} run(s) on them.",
                    r.still_used_by.join(", ")
                ));
            }
            println!("{line}");
        }
        out.push(serde_json::to_value(&r)?);
    }
    if json {
        print_json(&serde_json::Value::Array(out))?;
    }
    Ok(0)
}

async fn keys_for(ctx: &Ctx) -> Result<(Vec<String>, Vec<std::path::PathBuf>)> {
    let keys = keys::for_create(&ctx.paths, None).await?;
    for n in &keys.notes {
        eprintln!("note: {n}");
    }
    Ok((keys.keys, keys.identities))
}

async fn restore_one(ctx: &Ctx, snapshot: &str, name: &str, json: bool) -> Result<i32> {
    let snapshot = SnapshotName::parse(snapshot)?;
    let name = WorkspaceName::parse(name)?;
    let (keys, identities) = keys_for(ctx).await?;
    let view = ProgressView::new(json);
    let req = RestoreRequest {
        snapshot: snapshot.clone(),
        name,
        keys,
        identities,
    };
    let r = restore::restore(ctx, req, &|p| view.event(p), cancel_on_ctrl_c()).await;
    view.finish();
    let w = r?;
    if json {
        let mut v = output::workspace_json(&w);
        v["restored_from"] = snapshot.as_str().into();
        v["steps"] = serde_json::to_value(view.steps())?;
        print_json(&v)?;
    } else {
        println!(
            "Workspace {} restored from snapshot {snapshot}: {}, {}. Connect with `berth ssh {}`.",
            w.name,
            w.status_word(),
            crate::domain::net_isolation::ssh_summary(w.ssh_port, w.net_profile()),
            w.name
        );
    }
    Ok(0)
}

async fn fork(ctx: &Ctx, from: &str, new: &str, keep: bool, json: bool) -> Result<i32> {
    let from = WorkspaceName::parse(from)?;
    let new = WorkspaceName::parse(new)?;
    let keys = keys_for(ctx).await?;
    let view = ProgressView::new(json);
    let r = restore::fork(
        ctx,
        &from,
        new,
        keys,
        keep,
        &|p| view.event(p),
        cancel_on_ctrl_c(),
    )
    .await;
    view.finish();
    let f = r?;
    let s = &f.snapshot;
    if json {
        let mut v = output::workspace_json(&f.workspace);
        v["forked_from"] = from.as_str().into();
        v["snapshot"] = serde_json::to_value(s)?;
        v["snapshot_kept"] = f.snapshot_kept.into();
        v["paused_ms"] = s.paused_ms.into();
        v["steps"] = serde_json::to_value(view.steps())?;
        print_json(&v)?;
    } else {
        let kept = if f.snapshot_kept {
            format!("kept as {}", s.info.name)
        } else {
            format!("{}, removed once restored", s.info.name)
        };
        println!(
            "Forked {from} into {}: {}, {} (through snapshot {kept}; {}).",
            f.workspace.name,
            f.workspace.status_word(),
            crate::domain::net_isolation::ssh_summary(
                f.workspace.ssh_port,
                f.workspace.net_profile()
            ),
            taken_detail(s)
        );
    }
    Ok(0)
}
