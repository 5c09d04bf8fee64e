//! Command-line interface: clap definitions and thin handlers that call the backend.
mod commands;
mod doctor;
mod exec;
mod image;
mod output;

use crate::backend::Ctx;
use crate::config::{Config, Paths};
use crate::engine::docker::DockerEngine;
use anyhow::Result;
use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version,
    about = "Terminal workspace manager for isolated Docker dev and agent environments"
)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/berth/config.toml).
    #[arg(long, global = true, env = "BERTH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a workspace: volume, SSH port, container, keys, clone, post-start.
    Create {
        name: String,
        /// Image to run (default: `image` from the config).
        #[arg(long)]
        image: Option<String>,
        /// Repository to clone into /home/workspace/repo.
        #[arg(long, value_name = "URL")]
        clone: Option<String>,
        /// Thread id: reuse this thread's workspace if it already has one.
        #[arg(long, value_name = "ID")]
        thread: Option<String>,
        /// Script run with `/bin/sh -lc` after provisioning (default: `post_start` from the config).
        #[arg(long, value_name = "CMD")]
        post_start: Option<String>,
        /// Public key to authorize (default: every ~/.ssh/*.pub).
        #[arg(long, value_name = "FILE")]
        ssh_key: Option<PathBuf>,
        /// Image platform, e.g. linux/amd64.
        #[arg(long)]
        platform: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// List workspaces.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one workspace.
    Status {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Start a workspace and wait until its sshd answers.
    Start { name: String },
    /// Stop a workspace (its volume and port are kept).
    Stop { name: String },
    /// Restart a workspace.
    Restart { name: String },
    /// Delete a workspace: its container, its home volume (unless --keep-volume) and its port.
    Delete {
        name: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Keep the home volume (a later `create` with the same name reuses it).
        #[arg(long)]
        keep_volume: bool,
    },
    /// Run a command in a workspace; its exit code becomes berth's.
    Exec {
        name: String,
        /// Environment variable for the command (repeatable).
        #[arg(long = "env", short = 'e', value_name = "K=V")]
        env: Vec<String>,
        /// Working directory inside the workspace.
        #[arg(long, short = 'w', value_name = "DIR")]
        workdir: Option<String>,
        /// Kill the command after this many seconds (exit code 124).
        #[arg(long, value_name = "SECS")]
        timeout: Option<f64>,
        /// Print {returncode, stdout, stderr, timed_out}.
        #[arg(long)]
        json: bool,
        /// The command and its arguments.
        #[arg(last = true, required = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Open SSH to a workspace (with its pinned host key), or run CMD over SSH.
    Ssh {
        name: String,
        #[arg(last = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// Write ~/.ssh/berth.d/berth-NAME.conf for every workspace and include them from ~/.ssh/config.
    SshConfig,
    /// Show a workspace's logs.
    Logs {
        name: String,
        /// Keep following new output.
        #[arg(long, short = 'f')]
        follow: bool,
        /// Only the last N lines.
        #[arg(long, value_name = "N")]
        tail: Option<usize>,
        /// Prefix lines with the engine's timestamps.
        #[arg(long, short = 't')]
        timestamps: bool,
    },
    /// Check the engine, permissions, disk, image, ports and runtimes; print fixes.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Configuration file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// The workspace image.
    Image {
        #[command(subcommand)]
        action: ImageAction,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Print the config file's path.
    Path,
    /// Print the effective configuration.
    Show,
}

#[derive(Subcommand, Debug)]
pub enum ImageAction {
    /// Build the workspace image from berth's embedded definition.
    Build {
        /// Tag (default: `image` from the config).
        #[arg(long)]
        tag: Option<String>,
        /// Base image the workspace image is built on.
        #[arg(long, value_name = "IMG", default_value = image::DEFAULT_BASE)]
        base: String,
    },
    /// Exit 0 if the configured image is present in the engine, 1 if not.
    Present,
}

/// Loads paths and config; errors name the file, line and field.
pub fn load(cli: &Cli) -> Result<(Paths, Config)> {
    let paths = Paths::discover(cli.config.clone())?;
    let config = Config::load(&paths.config_file)?;
    Ok((paths, config))
}

/// Connects to the engine and builds the backend context.
pub async fn connect(paths: Paths, config: Config) -> Result<Ctx> {
    let engine = DockerEngine::connect().await?;
    Ok(Ctx::new(Arc::new(engine), config, paths))
}

fn init_logging(paths: &Paths) {
    let Ok(()) = std::fs::create_dir_all(&paths.state_dir) else {
        return;
    };
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(paths.log_file())
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("BERTH_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::sync::Mutex::new(file))
        .with_ansi(false)
        .try_init();
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
    let (paths, config) = load(&cli)?;
    init_logging(&paths);
    let Some(command) = cli.command else {
        use std::io::IsTerminal;
        if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
            crate::tui::app::run(paths, config).await?;
            return Ok(0);
        }
        return commands::overview(paths, config).await;
    };
    tracing::info!(?command, "command");
    match command {
        Command::Config {
            action: ConfigAction::Path,
        } => {
            println!("{}", paths.config_file.display());
            Ok(0)
        }
        Command::Config {
            action: ConfigAction::Show,
        } => {
            print!("{}", config.to_toml());
            Ok(0)
        }
        Command::Doctor { json } => doctor::run(paths, config, json).await,
        Command::Image { action } => image::run(paths, config, action).await,
        other => {
            let ctx = connect(paths, config).await?;
            commands::run(&ctx, other).await
        }
    }
}
