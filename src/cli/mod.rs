//! Command-line interface: clap definitions (`args`) and thin handlers that call
//! the backend.
mod activity;
mod agent;
mod agent_ls;
mod agent_run;
mod args;
mod commands;
mod confirm;
mod cp;
mod create_args;
mod daemon;
mod delete;
mod dind;
mod docs;
mod doctor;
mod doctor_engines;
mod doctor_podman;
mod doctor_state;
mod doctor_vm;
mod egress;
mod engine_note;
mod engine_route;
mod engines;
mod exec;
mod gc;
mod hint;
mod image;
mod limits;
mod list_all;
mod log_forward;
mod logs;
mod logs_tagged;
mod mcp;
mod net;
mod output;
mod pool;
mod preflight;
mod profiles;
mod runtime;
mod secret;
mod service;
mod sidecar_image;
mod snapshot;
mod ssh_config;
#[cfg(test)]
mod vm_output_tests;

use crate::backend::engines::{EngineConnector, EngineSet};
use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::domain::engines::{EngineChoice, EngineDef};
use crate::engine::docker::DockerEngine;
use anyhow::Result;
use std::sync::Arc;

pub use args::{Cli, Command, CompletionShell, ConfigAction, ImageAction, VERSION};
pub use output::workspace_json;

/// Loads paths and config; errors name the file, line and field. Blocking.
pub fn load(config_override: Option<std::path::PathBuf>) -> Result<(Paths, Config)> {
    let paths = Paths::discover(config_override)?;
    let config = Config::load(&paths.config_file)?;
    Ok((paths, config))
}

/// Connects to the engine commands use (`--engine`, BERTH_ENGINE, the config's
/// `engine`, the current Docker context, else DOCKER_HOST or the default socket)
/// and builds the backend context; the other engines connect when first used.
pub async fn connect(paths: Paths, config: Config) -> Result<Ctx> {
    let set = Arc::new(engine_set_async(&config).await?);
    let engine = set.get(set.default_name()).await?;
    Ok(Ctx::with_engines(set, engine, config, paths))
}

/// Connects to the engine commands use, keeping the engine's own error (a
/// refused permission, a missing socket) for callers that say what to do about
/// it; the context shares `store`. Each call connects anew (reconnecting
/// callers: the daemon, the MCP server).
pub async fn connect_typed(
    paths: Paths,
    config: Config,
    store: crate::store::Store,
) -> Result<std::result::Result<Ctx, crate::engine::EngineError>> {
    let set = Arc::new(engine_set_async(&config).await?);
    let def = set
        .def(set.default_name())
        .cloned()
        .ok_or_else(|| anyhow::anyhow!("there is no engine named {:?}", set.default_name()))?;
    Ok(DockerEngine::connect_def(&def).await.map(|e| {
        let engine = crate::engine::vm::wrap(Arc::new(e), &def, &paths);
        Ctx::with_all(set, engine, config, paths, store)
    }))
}

/// Every engine this berth knows (not connected yet): DOCKER_HOST, the Docker
/// contexts and the config. Blocking (reads the contexts' files): call it from
/// `spawn_blocking` in async code.
pub fn engine_set(config: &Config) -> Result<EngineSet> {
    let contexts = crate::engine::contexts::load();
    for note in &contexts.notes {
        tracing::info!("docker contexts: {note}");
    }
    let choice = EngineChoice {
        docker_context: contexts.current,
        ..Default::default()
    };
    EngineSet::load(config, contexts.defs, choice, docker_connector())
}

/// [`engine_set`] off the async threads.
pub async fn engine_set_async(config: &Config) -> Result<EngineSet> {
    let c = config.clone();
    tokio::task::spawn_blocking(move || engine_set(&c)).await?
}

/// Connects to an engine definition with bollard.
pub fn docker_connector() -> EngineConnector {
    Arc::new(|def: EngineDef| {
        Box::pin(async move {
            let docker = DockerEngine::connect_def(&def).await?;
            let docker = Arc::new(docker) as Arc<dyn crate::engine::Engine>;
            // The VMs live in this user's state directory; without one (no
            // HOME) there are none to see.
            Ok(match Paths::discover(None) {
                Ok(paths) => crate::engine::vm::wrap(docker, &def, &paths),
                Err(_) => docker,
            })
        })
    })
}

fn init_logging(paths: &Paths) {
    // Before the runtime does anything else: a private file in a private directory.
    let Ok(file) = crate::private_fs::open_append(&paths.log_file()) else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::new(log_directives(
        std::env::var("BERTH_LOG").ok().as_deref(),
    ));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
}

/// `BERTH_LOG` is a level for berth's own messages (error, warn, info, debug,
/// trace). Libraries stay at `warn` whatever it says: at debug level the engine
/// client logs request bodies, which carry exec environments and scripts.
pub fn log_directives(berth_log: Option<&str>) -> String {
    let level = berth_log
        .and_then(|v| {
            v.trim()
                .parse::<tracing_subscriber::filter::LevelFilter>()
                .ok()
        })
        .unwrap_or(tracing_subscriber::filter::LevelFilter::INFO);
    format!("warn,berth={level}")
}

/// Runs the parsed command; returns the process exit code.
pub async fn run(cli: Cli) -> i32 {
    match dispatch(cli).await {
        Ok(code) => code,
        Err(e) => {
            eprintln!("berth: {e:#}");
            1
        }
    }
}

async fn dispatch(cli: Cli) -> Result<i32> {
    use std::io::IsTerminal;
    if cli.command.is_none() && std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        // The TUI runs on the defaults when the file is bad, and shows why.
        let paths = Paths::discover(cli.config.clone())?;
        let p = paths.clone();
        let (mut config, problem) = tokio::task::spawn_blocking(move || {
            init_logging(&p);
            Config::load_or_defaults(&p.config_file)
        })
        .await?;
        config.engines.flag = cli.engine.clone();
        crate::tui::app::run(paths, config, problem).await?;
        return Ok(0);
    }
    // What works without a (valid) config file.
    match &cli.command {
        Some(Command::Completions { shell }) => return docs::completions(*shell),
        Some(Command::Man { command }) => return docs::man(command.as_deref()),
        Some(Command::Config {
            action: ConfigAction::Path { json },
        }) => {
            let paths = Paths::discover(cli.config.clone())?;
            return docs::config(
                &paths,
                &Config::default(),
                ConfigAction::Path { json: *json },
            );
        }
        _ => {}
    }
    let cfg = cli.config.clone();
    let (paths, mut config) = tokio::task::spawn_blocking(move || {
        let loaded = load(cfg);
        if let Ok((paths, _)) = &loaded {
            init_logging(paths);
        }
        loaded
    })
    .await??;
    config.engines.flag = cli.engine.clone();
    // An engine set that cannot be made is said by the command that needs it.
    let several = engine_set_async(&config).await.is_ok_and(|s| s.several());
    let Some(command) = cli.command else {
        if several {
            return list_all::run(paths, config, false, true).await;
        }
        return commands::overview(paths, config).await;
    };
    // The command's name only: its arguments can hold secrets (exec -e K=V, scripts).
    tracing::info!(command = command.name(), "command");
    match command {
        Command::Config { action } => docs::config(&paths, &config, action),
        Command::Completions { shell } => docs::completions(shell),
        Command::Man { command } => docs::man(command.as_deref()),
        Command::Doctor { json } => doctor::run(paths, config, json).await,
        Command::Preflight {
            repo,
            force,
            profile,
            json,
        } => preflight::run(paths, config, repo, force, profile, json).await,
        Command::Daemon { action, once } => daemon::run(paths, config, action, once).await,
        Command::Image { action } => image::run(paths, config, action).await,
        Command::Profiles { json } => profiles::list(paths, config, json).await,
        Command::Mcp { action } => mcp::run(paths, config, action).await,
        Command::Engines { json } => engines::run(paths, config, json).await,
        Command::List { json } if several => list_all::run(paths, config, json, false).await,
        other => {
            let (ctx, placed) = engine_route::connect_for(paths, config, &other).await?;
            commands::run(&ctx, other, placed.as_ref()).await
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn berth_log_sets_berths_level_and_never_the_libraries() {
        assert_eq!(super::log_directives(None), "warn,berth=info");
        assert_eq!(super::log_directives(Some("debug")), "warn,berth=debug");
        assert_eq!(
            super::log_directives(Some("bollard=trace")),
            "warn,berth=info"
        );
    }
}
