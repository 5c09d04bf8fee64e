//! Handlers for the workspace commands.
use super::output::{self, ProgressView};
use super::Command;
use crate::backend::create::{create, workspace_spec, CreateOutcome, CreateRequest};
use crate::backend::ssh_cmd::{self, Purpose};
use crate::backend::{inventory, keys, lifecycle, Ctx};
use crate::config::{Config, Paths};
use crate::domain::activity::UseSource;
use crate::domain::naming::WorkspaceName;
use crate::domain::net_isolation::ssh_summary;
use crate::engine::LogOptions;
use crate::ssh_client;
use anyhow::{bail, Context, Result};

fn name(raw: &str) -> Result<WorkspaceName> {
    Ok(WorkspaceName::parse(raw)?)
}

/// The list's TTL column by workspace name.
fn ttl_cells(
    act: &std::collections::HashMap<
        String,
        (
            crate::domain::activity::Activity,
            crate::domain::ttl_source::TtlSource,
        ),
    >,
    now: i64,
) -> std::collections::HashMap<String, String> {
    act.iter()
        .map(|(n, (a, _))| (n.clone(), crate::backend::activity::countdown(a, now)))
        .collect()
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    println!("{}", serde_json::to_string_pretty(v)?);
    Ok(())
}

/// `berth` with no subcommand: what exists and what to do next.
pub async fn overview(paths: Paths, config: Config) -> Result<i32> {
    let ctx = super::connect(paths, config).await?;
    let ws = inventory::list(&ctx).await?;
    if ws.is_empty() {
        println!("No workspaces yet. Create one with `berth create NAME`; `berth --help` lists every command.");
    } else {
        let now = output::now();
        let act = crate::backend::activity::recorded(&ctx, &ws, now).await;
        // Only sizes already measured: this overview never waits for one.
        let sizes = crate::backend::disk::sizes(&ctx, &ws, i64::MAX, std::time::Duration::ZERO)
            .await
            .into_iter()
            .map(|(n, k)| (n, k.bytes))
            .collect();
        print!("{}", output::table(&ws, &ttl_cells(&act, now), &sizes));
    }
    Ok(0)
}

/// Runs `cmd` on `ctx`'s engine; `placed` says where a create goes and why.
pub async fn run(
    ctx: &Ctx,
    cmd: Command,
    placed: Option<&crate::backend::placement::Placed>,
) -> Result<i32> {
    let cmd_name = cmd.name();
    match cmd {
        Command::Create(args) => {
            let request = args.request()?;
            let json = args.json;
            if let Some(n) = &args.name {
                name(n)?; // refuse a bad name before reading keys
            }
            let keys = keys::for_create(&ctx.paths, args.ssh_key.clone()).await?;
            for n in &keys.notes {
                eprintln!("note: {n}");
            }
            let host_env = crate::backend::create::host_env_names();
            let name_generated = request.name.trim().is_empty();
            let spec = workspace_spec(&ctx.config, request, host_env.iter().map(String::as_str))?;
            // Where it goes, said when there is a choice (several engines).
            let placed = placed.filter(|_| ctx.engines.several());
            if let (Some(p), false) = (placed, json) {
                println!("engine: {} ({})", p.engine, p.reason);
            }
            let view = ProgressView::new(json);
            let (cancel_tx, cancel_rx) = tokio::sync::watch::channel(false);
            tokio::spawn(async move {
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("\nberth: cancelling: removing what this create made (Ctrl-C again to leave it; it then shows as incomplete)");
                    let _ = cancel_tx.send(true);
                }
                if tokio::signal::ctrl_c().await.is_ok() {
                    eprintln!("berth: left unfinished; `berth create` again starts it over, `berth delete` removes it");
                    std::process::exit(130);
                }
            });
            let req = CreateRequest {
                spec,
                keys: keys.keys,
                identities: keys.identities,
                name_generated,
                restore: None,
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
                // Claimed from the warm pool just now (pool-born, not reused).
                v["warm"] = serde_json::Value::Bool(!reused && crate::backend::pool::is_warm(&ws));
                v["steps"] = serde_json::to_value(view.steps())?;
                if let Some(p) = placed {
                    v["placement"] = serde_json::to_value(p)?;
                }
                print_json(&v)?;
            } else {
                let verb = match (reused, crate::backend::pool::is_warm(&ws)) {
                    (true, _) => "reused",
                    (false, true) => "created warm (claimed from the pool)",
                    (false, false) => "created",
                };
                let route = crate::backend::ssh_route::route_of(ctx);
                let at = match ws.ssh_port {
                    Some(_) if route != crate::backend::ssh_route::Route::Here => {
                        crate::backend::ssh_route::how_reached(&route, &ws.engine, ws.ssh_port)
                    }
                    Some(p) => format!(
                        "SSH on {}:{p}",
                        ssh_client::connect_host(ctx.config.bind_address)
                    ),
                    None => ssh_summary(None, ws.net_profile()),
                };
                println!(
                    "Workspace {} {verb}: {}, network {}, {at}. Connect with `berth ssh {}`.",
                    ws.name,
                    ws.state.as_str(),
                    ws.net_profile(),
                    ws.name
                );
                if ws.provider() == crate::domain::vm::Provider::Vm {
                    // The tcg warning was said as the create began.
                    println!("provider: {}", crate::domain::vm_view::describe(&ws));
                }
                if let Some(d) = crate::domain::dind::DockerInside::of(&ws) {
                    println!(
                        "Docker inside: DOCKER_HOST={}; its engine runs in sidecar {}, which is PRIVILEGED ({}). `berth image load {} IMAGE` copies an image in.",
                        d.docker_host, d.sidecar, d.privileges, ws.name
                    );
                }
                if let Some(f) = crate::domain::log_forward::Forwarding::of(&ws) {
                    println!("Logs forwarded {}.", f.summary());
                }
                if let Some(e) = crate::domain::proxy::status_line(&ws) {
                    println!(
                        "Network profile proxy: the workspace reaches the network only {e}. `berth egress {}` shows each request.",
                        ws.name
                    );
                }
            }
            Ok(0)
        }
        Command::List { json } => {
            let ws = inventory::list(ctx).await?;
            let now = output::now();
            let act = crate::backend::activity::recorded(ctx, &ws, now).await;
            let sizes = super::limits::list_sizes(ctx, &ws).await;
            if json {
                let mut v: Vec<_> = ws
                    .iter()
                    .map(|w| {
                        let mut v = output::workspace_json(w);
                        super::activity::add_list_json(&mut v, act.get(&w.name), now);
                        v
                    })
                    .collect();
                super::limits::add_list_json(&mut v, &sizes);
                print_json(&serde_json::Value::Array(v))?;
            } else if ws.is_empty() {
                println!("No workspaces. Create one with `berth create NAME`.");
            } else {
                print!("{}", output::table(&ws, &ttl_cells(&act, now), &sizes));
            }
            Ok(0)
        }
        Command::Status { name: n, json } => {
            let n = name(&n)?;
            let w = lifecycle::find(ctx, &n).await?;
            let extra = super::service::StatusExtra::of(ctx, &n).await?;
            // With Docker inside: whether its (privileged) sidecar runs.
            let docker = crate::backend::dind::inside(ctx, &w).await;
            let logs = crate::backend::log_forward::status(ctx, &w).await;
            let proxy = crate::backend::proxy::view(ctx, &w).await;
            let default_runtime = super::runtime::engine_default(ctx).await;
            let now = output::now();
            let act = crate::backend::activity::observe_full(ctx, &w, now).await;
            let size = super::limits::status_size(ctx, &w).await;
            if json {
                let mut v = output::workspace_json(&w);
                super::activity::add_json(&mut v, &act)?;
                extra.add_json(&mut v)?;
                super::limits::add_status_json(&mut v, size.as_ref());
                v["docker"] = serde_json::to_value(&docker)?;
                v["forward_logs"] = serde_json::to_value(&logs)?;
                v["proxy"] = serde_json::to_value(&proxy)?;
                super::runtime::add_json(&mut v, &w, &default_runtime);
                v["accel_warning"] = crate::domain::vm_view::warning(&w).into();
                v["init"] = (!crate::domain::podman::lacks_init(&w.labels)).into();
                print_json(&v)?;
            } else {
                print!(
                    "{}{}{}{}",
                    output::details(&w, &default_runtime),
                    super::limits::status_line(size.as_ref(), now),
                    super::activity::status_text(&w, &act, now),
                    extra.text()
                );
                if let Some(l) = crate::domain::podman::init_status_line(&w.labels) {
                    print!("{l}");
                }
                if let Some(d) = &docker {
                    print!("{}", output::docker_line(d));
                }
                if let Some(f) = &logs {
                    print!("{}", super::log_forward::status_line(f));
                }
                if let Some(p) = &proxy {
                    println!("{:<10} {}", "proxy", p.describe());
                }
                let route = crate::backend::ssh_route::route_of(ctx);
                if route != crate::backend::ssh_route::Route::Here {
                    let how = crate::backend::ssh_route::how_reached(&route, &w.engine, w.ssh_port);
                    println!("{:<10} {how}", "reached");
                }
            }
            Ok(0)
        }
        Command::Ttl {
            name: n,
            duration,
            json,
        } => super::activity::ttl(ctx, &name(&n)?, duration, json).await,
        Command::Start { name: n, json } => {
            let view = ProgressView::new(json);
            let w = lifecycle::start(ctx, &name(&n)?, &|p| view.event(p)).await?;
            view.finish();
            if json {
                print_json(&output::workspace_json(&w))?;
            } else {
                println!(
                    "Workspace {} is running ({}).",
                    w.name,
                    ssh_summary(w.ssh_port, w.net_profile())
                );
            }
            Ok(0)
        }
        Command::Stop { name: n, json } => {
            let view = ProgressView::new(json);
            let w = lifecycle::stop(ctx, &name(&n)?, &|p| view.event(p)).await?;
            view.finish();
            if json {
                print_json(&output::workspace_json(&w))?;
            } else {
                println!("Workspace {} is {}.", w.name, w.status_word());
            }
            Ok(0)
        }
        Command::Restart { name: n, json } => {
            let view = ProgressView::new(json);
            let w = lifecycle::restart(ctx, &name(&n)?, &|p| view.event(p)).await?;
            view.finish();
            if json {
                print_json(&output::workspace_json(&w))?;
            } else {
                println!(
                    "Workspace {} restarted ({}).",
                    w.name,
                    ssh_summary(w.ssh_port, w.net_profile())
                );
            }
            Ok(0)
        }
        Command::Delete {
            name: n,
            all,
            snapshots,
            yes,
            keep_volume,
            json,
        } => match n {
            Some(n) if !all => super::delete::one(ctx, &name(&n)?, yes, keep_volume, json).await,
            _ => super::delete::all(ctx, snapshots, yes, keep_volume, json).await,
        },
        Command::Exec {
            name: n,
            env,
            workdir,
            timeout,
            json,
            cmd,
        } => super::exec::run(ctx, &name(&n)?, env, workdir, timeout, json, cmd).await,
        Command::Cp {
            src,
            dst,
            archive,
            json,
        } => super::cp::run(ctx, &src, &dst, archive, json).await,
        Command::Ssh { name: n, cmd } => ssh(ctx, &name(&n)?, cmd).await,
        Command::SshConfig { json } => super::ssh_config::run(ctx, json).await,
        Command::SshProxy { name: n } => crate::backend::ssh_exec::proxy(ctx, &name(&n)?).await,
        Command::Hint { name: n, json } => super::hint::run(ctx, &name(&n)?, json).await,
        Command::Logs {
            name: n,
            follow,
            tail,
            timestamps,
            json,
        } => {
            let opts = LogOptions {
                follow,
                tail,
                timestamps,
            };
            super::logs::run(ctx, &name(&n)?, opts, json).await
        }
        Command::Egress {
            name: n,
            follow,
            denied,
            grep,
            json,
        } => {
            let filter = crate::domain::egress_audit::AuditFilter::new(
                denied,
                grep.as_deref().unwrap_or(""),
            );
            super::egress::run(ctx, &name(&n)?, follow, &filter, json).await
        }
        Command::Net { action } => super::net::run(ctx, action).await,
        Command::Pool { action, json } => super::pool::run(ctx, action, json).await,
        Command::Service { action } => super::service::run(ctx, action).await,
        Command::Secret { action } => super::secret::run(ctx, action).await,
        Command::Agent { action } => super::agent::run(ctx, action).await,
        Command::Gc { dry_run, json } => super::gc::run(ctx, dry_run, json).await,
        Command::Snapshot(_)
        | Command::Snapshots { .. }
        | Command::Restore { .. }
        | Command::Fork { .. } => super::snapshot::run(ctx, cmd).await,
        Command::Doctor { .. }
        | Command::Preflight { .. }
        | Command::Daemon { .. }
        | Command::Config { .. }
        | Command::Image { .. }
        | Command::Profiles { .. }
        | Command::Mcp { .. }
        | Command::Engines { .. }
        | Command::Completions { .. }
        | Command::Man { .. } => bail!("berth {} is not a workspace command", cmd_name),
    }
}

async fn ssh(ctx: &Ctx, name: &WorkspaceName, cmd: Vec<String>) -> Result<i32> {
    use std::os::unix::process::CommandExt;
    let c = ssh_cmd::build(ctx, name, Purpose::Ssh { cmd }).await?;
    crate::backend::activity::record_name(ctx, name.as_str(), UseSource::Ssh).await;
    let (program, args) = c.argv.split_first().context("empty ssh command")?;
    // Replaces this process: nothing async is left to run, and no drop runs, so
    // an ssh engine's master is ended now rather than lingering.
    crate::engine::ssh_dial::end_all().await;
    let err = std::process::Command::new(program)
        .args(args)
        .envs(c.env)
        .exec();
    bail!("cannot run ssh ({err}); install the OpenSSH client (`sudo apt-get install openssh-client`)")
}
