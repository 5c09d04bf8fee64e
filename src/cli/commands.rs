//! Handlers for the workspace commands.
use super::output::{self, ProgressView};
use super::Command;
use crate::backend::create::{create, workspace_spec, CreateOutcome, CreateRequest, CreateSpec};
use crate::backend::{lifecycle, sshd, Ctx};
use crate::config::{Config, Paths};
use crate::domain::naming::WorkspaceName;
use crate::domain::workspace::WorkspaceState;
use crate::engine::{LogOptions, Output};
use crate::ssh_client;
use anyhow::{bail, Context, Result};
use futures_util::StreamExt;
use std::io::{BufRead, Write};

fn name(raw: &str) -> Result<WorkspaceName> {
    Ok(WorkspaceName::parse(raw)?)
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// `berth` with no subcommand: what exists and what to do next.
pub async fn overview(paths: Paths, config: Config) -> Result<i32> {
    let ctx = super::connect(paths, config).await?;
    let ws = ctx.engine.list_workspaces().await?;
    if ws.is_empty() {
        println!("No workspaces yet. Create one with `berth create NAME`; `berth --help` lists every command.");
    } else {
        print!("{}", output::table(&ws));
    }
    Ok(0)
}

pub async fn run(ctx: &Ctx, cmd: Command) -> Result<i32> {
    match cmd {
        Command::Create {
            name: n,
            image,
            clone,
            thread,
            post_start,
            ssh_key,
            platform,
            json,
        } => {
            name(&n)?; // refuse a bad name before reading keys
            let keys = sshd::host_public_keys(&ctx.paths.home, ssh_key.as_deref())?;
            let identities = sshd::identity_files(&ctx.paths.home, ssh_key.as_deref());
            let spec = workspace_spec(
                &ctx.config,
                CreateSpec {
                    name: n,
                    image,
                    clone_url: clone,
                    thread,
                    post_start,
                    platform,
                },
            )?;
            let view = ProgressView::new(json);
            let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    let _ = cancel_tx.send(true);
                }
            });
            let req = CreateRequest {
                spec,
                keys,
                identities,
            };
            let result = create(ctx, req, &|p| view.event(p), cancel_rx).await;
            view.finish();
            let (ws, reused) = match result? {
                CreateOutcome::Created(w) => (w, false),
                CreateOutcome::Reused(w) => (w, true),
            };
            if json {
                let mut v = output::workspace_json(&ws);
                v["reused"] = serde_json::Value::Bool(reused);
                print_json(&v)?;
            } else {
                let verb = if reused { "reused" } else { "created" };
                println!(
                    "Workspace {} {verb}: {}, SSH on {}:{}. Connect with `berth ssh {}`.",
                    ws.name,
                    ws.state.as_str(),
                    ssh_client::connect_host(ctx.config.bind_address),
                    ws.ssh_port.map_or("-".into(), |p| p.to_string()),
                    ws.name
                );
            }
            Ok(0)
        }
        Command::List { json } => {
            let ws = ctx.engine.list_workspaces().await?;
            if json {
                print_json(&serde_json::Value::Array(
                    ws.iter().map(output::workspace_json).collect(),
                ))?;
            } else if ws.is_empty() {
                println!("No workspaces. Create one with `berth create NAME`.");
            } else {
                print!("{}", output::table(&ws));
            }
            Ok(0)
        }
        Command::Status { name: n, json } => {
            let w = lifecycle::find(ctx, &name(&n)?).await?;
            if json {
                print_json(&output::workspace_json(&w))?;
            } else {
                print!("{}", output::details(&w));
            }
            Ok(0)
        }
        Command::Start { name: n } => {
            let view = ProgressView::new(false);
            let w = lifecycle::start(ctx, &name(&n)?, &|p| view.event(p)).await?;
            view.finish();
            println!(
                "Workspace {} is running (SSH port {}).",
                w.name,
                w.ssh_port.unwrap_or_default()
            );
            Ok(0)
        }
        Command::Stop { name: n } => {
            let w = lifecycle::stop(ctx, &name(&n)?).await?;
            println!("Workspace {} is {}.", w.name, w.state.as_str());
            Ok(0)
        }
        Command::Restart { name: n } => {
            let view = ProgressView::new(false);
            let w = lifecycle::restart(ctx, &name(&n)?, &|p| view.event(p)).await?;
            view.finish();
            println!(
                "Workspace {} restarted (SSH port {}).",
                w.name,
                w.ssh_port.unwrap_or_default()
            );
            Ok(0)
        }
        Command::Delete {
            name: n,
            yes,
            keep_volume,
        } => delete(ctx, &name(&n)?, yes, keep_volume).await,
        Command::Exec {
            name: n,
            env,
            workdir,
            timeout,
            json,
            cmd,
        } => super::exec::run(ctx, &name(&n)?, env, workdir, timeout, json, cmd).await,
        Command::Ssh { name: n, cmd } => ssh(ctx, &name(&n)?, cmd).await,
        Command::SshConfig => ssh_config(ctx).await,
        Command::Logs {
            name: n,
            follow,
            tail,
            timestamps,
        } => {
            let w = lifecycle::find(ctx, &name(&n)?).await?;
            let mut s = ctx.engine.logs(
                &w.container,
                LogOptions {
                    follow,
                    tail,
                    timestamps,
                },
            );
            let (mut out, mut err) = (std::io::stdout(), std::io::stderr());
            while let Some(chunk) = s.next().await {
                match chunk? {
                    Output::Stdout(b) => {
                        out.write_all(&b)?;
                        out.flush()?;
                    }
                    Output::Stderr(b) => err.write_all(&b)?,
                }
            }
            Ok(0)
        }
        Command::Doctor { .. } | Command::Config { .. } | Command::Image { .. } => {
            unreachable!("handled in dispatch")
        }
    }
}

async fn delete(ctx: &Ctx, name: &WorkspaceName, yes: bool, keep_volume: bool) -> Result<i32> {
    let exists = ctx
        .engine
        .inspect_workspace(&name.container())
        .await?
        .is_some();
    let volume = ctx.engine.volume_exists(&name.volume()).await?;
    if !exists && (!volume || keep_volume) {
        bail!("no workspace named {name}; `berth list` shows the workspaces there are");
    }
    if !yes {
        let what = if keep_volume || !volume {
            format!(
                "container {} (the volume {} is kept)",
                name.container(),
                name.volume()
            )
        } else {
            format!(
                "container {} AND volume {}: everything in /home/workspace is lost",
                name.container(),
                name.volume()
            )
        };
        eprint!("Delete workspace {name}? This removes {what}. Type 'yes' to confirm: ");
        std::io::stderr().flush()?;
        let mut answer = String::new();
        let read = std::io::stdin().lock().read_line(&mut answer).unwrap_or(0);
        if read == 0 {
            eprintln!();
            bail!("no confirmation (standard input is closed); nothing was deleted. Pass --yes to delete without asking");
        }
        if !matches!(answer.trim(), "y" | "yes") {
            eprintln!("Nothing was deleted.");
            return Ok(1);
        }
    }
    let d = lifecycle::delete(ctx, name, keep_volume).await?;
    let mut parts = Vec::new();
    if let Some(c) = d.container {
        parts.push(format!("removed container {c}"));
    }
    if let Some(v) = d.volume {
        parts.push(format!("removed volume {v}"));
    }
    if d.volume_kept {
        parts.push(format!("kept volume {}", name.volume()));
    }
    println!("Deleted workspace {name}: {}.", parts.join(", "));
    Ok(0)
}

async fn ssh(ctx: &Ctx, name: &WorkspaceName, cmd: Vec<String>) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    let w = lifecycle::find(ctx, name).await?;
    if w.state != WorkspaceState::Running {
        bail!(
            "workspace {name} is {}; start it with `berth start {name}`",
            w.state.as_str()
        );
    }
    let port = w.ssh_port.context("the workspace has no SSH port label")?;
    let alias = name.ssh_alias();
    if !ssh_client::known_hosts_file(&ctx.paths, &alias).exists() {
        sshd::pin_host_key(ctx, name)
            .await
            .context("cannot pin the workspace's host key")?;
    }
    let identities = ctx.store.identities(name.as_str())?;
    let host = ssh_client::connect_host(ctx.config.bind_address);
    let mut args = ssh_client::ssh_args(&ctx.paths, &alias, &host, port, &identities);
    args.extend(cmd);
    let err = std::process::Command::new("ssh").args(&args).exec();
    bail!("cannot run ssh ({err}); install the OpenSSH client (`sudo apt-get install openssh-client`)")
}

async fn ssh_config(ctx: &Ctx) -> Result<i32> {
    let ws = ctx.engine.list_workspaces().await?;
    let host = ssh_client::connect_host(ctx.config.bind_address);
    let mut blocks = Vec::new();
    for w in &ws {
        let (Ok(n), Some(port)) = (WorkspaceName::parse(&w.name), w.ssh_port) else {
            continue;
        };
        let alias = n.ssh_alias();
        if !ssh_client::known_hosts_file(&ctx.paths, &alias).exists()
            && w.state == WorkspaceState::Running
        {
            let _ = sshd::pin_host_key(ctx, &n).await;
        }
        let identities = ctx.store.identities(n.as_str())?;
        blocks.push((
            alias.clone(),
            ssh_client::host_block(&ctx.paths, &alias, &host, port, &identities),
        ));
    }
    let files = ssh_client::write_ssh_config(&ctx.paths, &blocks)?;
    println!(
        "Wrote {} file(s) in {} and included them from {}. Use `ssh berth-NAME`.",
        files.len(),
        ssh_client::berth_d(&ctx.paths).display(),
        ctx.paths.home.join(".ssh/config").display()
    );
    Ok(0)
}
