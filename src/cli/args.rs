//! The command line as clap definitions (also the source of completions and the
//! man page). Every command that prints data takes `--json`.
use clap::{Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// `berth --version`: the version and the commit it was built from.
pub const VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("BERTH_COMMIT"),
    ")"
);

#[derive(Parser, Debug)]
#[command(
    name = "berth",
    version = VERSION,
    about = "Terminal workspace manager for isolated Docker dev and agent environments",
    long_about = "Terminal workspace manager for isolated Docker dev and agent environments.\n\nWith no command on a terminal, berth opens its terminal UI; every action is also a command over the same backend."
)]
pub struct Cli {
    /// Config file (default: $XDG_CONFIG_HOME/berth/config.toml).
    #[arg(long, global = true, env = "BERTH_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The engine to work on (see `berth engines`); default: BERTH_ENGINE, the
    /// config's `engine`, the current Docker context, else DOCKER_HOST or the
    /// default socket.
    #[arg(long, global = true, value_name = "NAME")]
    pub engine: Option<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Create a workspace: volume, SSH port, container, keys, environment, credentials,
    /// dotfiles, profile, clone, setup and post-start, each step shown as it runs.
    Create(Box<super::create_args::CreateArgs>),
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
    /// Show a workspace's TTL (how long it may stay unused before the cleanup job
    /// deletes it), or set it: 8h, 3d, 1d12h or never.
    Ttl {
        name: String,
        /// The new TTL (kept in berth's store; it counts from the last use).
        #[arg(value_name = "DURATION")]
        duration: Option<String>,
        /// {"name", "ttl", "ttl_source", "last_used_at", "kill_after_at", "idle_for"}.
        #[arg(long)]
        json: bool,
    },
    /// Start a workspace and wait until its sshd answers.
    Start {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Stop a workspace (its volume and port are kept).
    Stop {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Restart a workspace.
    Restart {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Delete a workspace: its container, its home volume (unless --keep-volume), its
    /// sidecars and its port. `--all` deletes every workspace (listed first).
    Delete {
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        /// Delete every workspace, with its volume and sidecars (asks first).
        #[arg(long)]
        all: bool,
        /// With --all: remove every snapshot too (kept otherwise).
        #[arg(long, requires = "all")]
        snapshots: bool,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// Keep the home volume (a later `create` with the same name reuses it).
        #[arg(long)]
        keep_volume: bool,
        #[arg(long)]
        json: bool,
    },
    /// Snapshot a workspace's filesystem and home as one consistent point (it is
    /// paused for the copy), or manage snapshots (`berth snapshot rm SNAP`).
    Snapshot(Box<super::snapshot::SnapshotArgs>),
    /// List snapshots: workspace, name, when, size.
    Snapshots {
        #[arg(long)]
        json: bool,
    },
    /// Create workspace NAME from a snapshot: the same files, a new SSH port and host key.
    Restore {
        /// The snapshot (`berth snapshots` lists them).
        snapshot: String,
        /// The new workspace's name.
        name: String,
        /// Print the new workspace as JSON (with `restored_from` and its steps).
        #[arg(long)]
        json: bool,
    },
    /// Copy a workspace into a new one (a snapshot, restored at once, then removed).
    Fork {
        /// The workspace to copy (paused while its snapshot is taken).
        name: String,
        /// The new workspace's name.
        new_name: String,
        /// Keep the snapshot the fork goes through (NEW_NAME-fork-YYYYMMDD-HHMMSS).
        #[arg(long)]
        keep_snapshot: bool,
        /// Print the new workspace as JSON (with `forked_from`, the snapshot and `paused_ms`).
        #[arg(long)]
        json: bool,
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
    /// Copy files and directories between the host and a workspace, as `docker cp`
    /// does: one side is NAME:PATH (relative paths start at /home/workspace), the other
    /// a host path, or - for a tar on standard input or output. Trees are recursive,
    /// modes and mtimes kept, symlinks copied as links; files copied in belong to the
    /// workspace user. Works on a stopped workspace.
    Cp {
        /// A host path, NAME:PATH, or - (a tar read from standard input). SRC/. copies
        /// a directory's contents rather than the directory.
        src: String,
        /// A host path, NAME:PATH, or - (a tar written to standard output).
        dst: String,
        /// Keep the host's uid and gid on files copied in (default: the workspace user's).
        #[arg(long, short = 'a')]
        archive: bool,
        /// Print {direction, target, files, dirs, links, skipped, bytes, seconds}.
        #[arg(long)]
        json: bool,
    },
    /// Open SSH to a workspace (with its pinned host key), or run CMD over SSH.
    Ssh {
        name: String,
        #[arg(last = true, value_name = "CMD")]
        cmd: Vec<String>,
    },
    /// One SSH connection to an offline workspace's sshd through the engine, on
    /// stdin and stdout: the `ProxyCommand` berth's ssh commands use for it.
    #[command(name = "ssh-proxy", hide = true)]
    SshProxy { name: String },
    /// Print the exact commands a person runs to connect (ssh alias, berth ssh,
    /// docker exec) and the workspace user's login shell.
    Hint {
        name: String,
        /// {"command", "docker", "shell", "berth", "workdir"}.
        #[arg(long)]
        json: bool,
    },
    /// Write ~/.ssh/berth.d/berth-NAME.conf for every workspace and include them from ~/.ssh/config.
    SshConfig {
        #[arg(long)]
        json: bool,
    },
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
        /// One JSON object per line: {"stream", "ts", "text"}.
        #[arg(long)]
        json: bool,
    },
    /// A proxy workspace's egress audit: every request its proxy passed or denied
    /// (time, method, host, status, bytes, allowed/denied).
    Egress {
        name: String,
        /// Keep following new requests (with --json: one object per line).
        #[arg(long, short = 'f')]
        follow: bool,
        /// Only the requests the proxy denied.
        #[arg(long)]
        denied: bool,
        /// Only requests whose host, URL, method, status or result contains TEXT
        /// (case ignored).
        #[arg(long, value_name = "TEXT")]
        grep: Option<String>,
        /// A JSON array of records {"time_ms", "method", "host", "port", "status",
        /// "bytes", "result", "url", "allowed"}.
        #[arg(long)]
        json: bool,
    },
    /// Named networks: the workspaces on one reach each other by their names.
    Net {
        #[command(subcommand)]
        action: super::net::NetAction,
    },
    /// The MCP server over stdio (for AI agents: the `containers` tool), or with
    /// `calls` the tool calls its clients made.
    Mcp {
        #[command(subcommand)]
        action: Option<super::mcp::McpAction>,
    },
    /// Services beside a workspace (a database, a cache), reachable from it by name.
    Service {
        #[command(subcommand)]
        action: super::service::ServiceAction,
    },
    /// Secrets as files on a tmpfs inside (/run/berth/secrets/NAME): berth records
    /// where each comes from (a variable, a file, a command), never its value.
    Secret {
        #[command(subcommand)]
        action: super::secret::SecretAction,
    },
    /// Agent CLIs (claude, codex, copilot, gemini, your own) in workspaces of their
    /// own, each session on its own branch, brought back into the host repository.
    Agent {
        #[command(subcommand)]
        action: super::agent::AgentAction,
    },
    /// Run the cleanup job once: stop idle workspaces, delete expired ones (unsaved
    /// work in them is snapshotted first, or they are kept: `[cleanup] unpushed`),
    /// and say what was done and why. Exit code 1 when an action failed.
    Gc {
        /// Decide and check, change nothing (not even a snapshot).
        #[arg(long)]
        dry_run: bool,
        /// Print the report as JSON (a line per workspace: decision, why, what was
        /// done, snapshot, retries, errors).
        #[arg(long)]
        json: bool,
    },
    /// The background jobs (cleanup, pool refill, health, alerts) headless, for
    /// systemd (assets/systemd/berth.service) or a terminal; one process per state
    /// directory runs the acting ones (a second daemon waits as a standby).
    /// SIGTERM or Ctrl-C stops it cleanly.
    #[command(args_conflicts_with_subcommands = true)]
    Daemon {
        #[command(subcommand)]
        action: Option<super::daemon::DaemonAction>,
        /// Run every job once and exit (for cron); 1 if a job failed.
        #[arg(long)]
        once: bool,
    },
    /// The warm pool: pre-booted workspaces per profile (`[pool]` in the config) that
    /// `berth create` claims. With no action: each pool, its ready slots and their ages.
    Pool {
        #[command(subcommand)]
        action: Option<super::pool::PoolAction>,
        #[arg(long)]
        json: bool,
    },
    /// Every engine berth knows (DOCKER_HOST, Docker contexts, `[engines.NAME]`):
    /// where it is, whether it answers, its version, API version, runtimes and
    /// workspaces; each asked at once with a timeout.
    Engines {
        /// [{"name", "url", "source", "default", "reachable", "error", "version",
        /// "api_version", "runtimes", "default_runtime", "running", "workspaces"}].
        #[arg(long)]
        json: bool,
    },
    /// Check every engine, permissions, disk, image, ports and runtimes; print fixes.
    Doctor {
        #[arg(long)]
        json: bool,
    },
    /// Check what an agent session needs: the engine, permissions, disk, the
    /// image's integrity and (with --repo) the repository's state; exit 1 when not ready.
    Preflight {
        /// The host repository a session would mount (its uncommitted changes are refused).
        #[arg(long, value_name = "PATH")]
        repo: Option<std::path::PathBuf>,
        /// Allow uncommitted changes in the repository.
        #[arg(long)]
        force: bool,
        /// Also check this profile's image (built over the workspace image).
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Configuration file.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// List the purpose profiles (built-in and yours), and whether their image is built.
    Profiles {
        #[arg(long)]
        json: bool,
    },
    /// The workspace image, the Docker engine image, and images loaded into a
    /// workspace's own Docker engine.
    Image {
        #[command(subcommand)]
        action: ImageAction,
    },
    /// Print a shell completion script (e.g. `berth completions bash > /etc/bash_completion.d/berth`).
    Completions {
        #[arg(value_enum)]
        shell: CompletionShell,
    },
    /// Print the man page, roff (e.g. `berth man | man -l -`); `berth man create` for one command.
    Man {
        /// A command to document on its own page.
        command: Option<String>,
    },
}

#[derive(Subcommand, Debug)]
pub enum ConfigAction {
    /// Print the config file's path.
    Path {
        #[arg(long)]
        json: bool,
    },
    /// Print every effective setting (key bindings included), as TOML or JSON.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand, Debug)]
pub enum ImageAction {
    /// Build the workspace image from berth's embedded definition (or, with
    /// --profile, a profile's image over the configured workspace image).
    Build {
        /// Tag (default: `image` from the config).
        #[arg(long, conflicts_with_all = ["profile", "docker", "logs", "proxy"])]
        tag: Option<String>,
        /// Build this profile's image (over `image` from the config) if not built yet.
        #[arg(long, value_name = "NAME")]
        profile: Option<String>,
        /// Build the Docker engine image of `create --docker` (berth/docker:HASH) instead.
        #[arg(long, conflicts_with = "profile")]
        docker: bool,
        /// Build the log forwarder image of `create --forward-logs` (berth/logs:HASH) instead.
        #[arg(long, conflicts_with_all = ["profile", "docker", "proxy"])]
        logs: bool,
        /// Build the egress proxy image of `create --net-profile proxy`
        /// (berth/proxy:HASH) instead.
        #[arg(long, conflicts_with_all = ["profile", "docker", "platform", "logs"])]
        proxy: bool,
        /// Base image the workspace image (or the Docker engine image) is built on.
        #[arg(long, value_name = "IMG", default_value = super::image::DEFAULT_BASE)]
        base: String,
        /// Build for this platform (linux/amd64 or linux/arm64); another than the
        /// engine's needs an emulator and a base for it, and is tagged IMAGE-ARCH.
        #[arg(long, value_name = "OS/ARCH", conflicts_with = "profile")]
        platform: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Exit 0 if the configured image is present and built from this berth's
    /// definition, 1 if absent or outdated.
    Present {
        /// The Docker engine image of `create --docker` instead.
        #[arg(long)]
        docker: bool,
        /// The log forwarder image of `create --forward-logs` instead.
        #[arg(long, conflicts_with = "docker")]
        logs: bool,
        /// The egress proxy image of `create --net-profile proxy` instead.
        #[arg(long, conflicts_with_all = ["docker", "logs"])]
        proxy: bool,
        #[arg(long)]
        json: bool,
    },
    /// Copy an image from the host's engine into a workspace's own Docker engine
    /// (`create --docker`), streamed; there is no registry to pull from.
    Load {
        /// The workspace.
        name: String,
        /// The image on the host (`docker images` lists them), e.g. debian:bookworm-slim.
        image: String,
        /// {"workspace", "image", "sidecar", "bytes", "loaded", "seconds"}.
        #[arg(long)]
        json: bool,
    },
}

#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum CompletionShell {
    Bash,
    Zsh,
    Fish,
}

impl Command {
    /// The subcommand's name, for logs (never its arguments).
    pub fn name(&self) -> &'static str {
        match self {
            Command::Create(_) => "create",
            Command::List { .. } => "list",
            Command::Status { .. } => "status",
            Command::Ttl { .. } => "ttl",
            Command::Start { .. } => "start",
            Command::Stop { .. } => "stop",
            Command::Restart { .. } => "restart",
            Command::Delete { .. } => "delete",
            Command::Snapshot(_) => "snapshot",
            Command::Snapshots { .. } => "snapshots",
            Command::Restore { .. } => "restore",
            Command::Fork { .. } => "fork",
            Command::Exec { .. } => "exec",
            Command::Cp { .. } => "cp",
            Command::Ssh { .. } => "ssh",
            Command::SshConfig { .. } => "ssh-config",
            Command::SshProxy { .. } => "ssh-proxy",
            Command::Hint { .. } => "hint",
            Command::Logs { .. } => "logs",
            Command::Egress { .. } => "egress",
            Command::Net { .. } => "net",
            Command::Mcp { .. } => "mcp",
            Command::Service { .. } => "service",
            Command::Secret { .. } => "secret",
            Command::Agent { .. } => "agent",
            Command::Gc { .. } => "gc",
            Command::Daemon { .. } => "daemon",
            Command::Pool { .. } => "pool",
            Command::Engines { .. } => "engines",
            Command::Doctor { .. } => "doctor",
            Command::Preflight { .. } => "preflight",
            Command::Config { .. } => "config",
            Command::Image { .. } => "image",
            Command::Profiles { .. } => "profiles",
            Command::Completions { .. } => "completions",
            Command::Man { .. } => "man",
        }
    }
}
