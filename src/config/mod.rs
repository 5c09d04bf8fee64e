//! Configuration: TOML in the XDG config directory, read once, deserialized over
//! the embedded defaults (`assets/config.toml`). The CLI refuses a bad file with its
//! file, line and field; the TUI runs on the defaults and shows the same sentence.
pub mod activity;
pub mod agents;
pub mod cleanup;
pub mod docker;
pub mod engines;
pub mod jobs;
mod layer;
pub mod lifetime;
pub mod limits;
pub mod logs;
pub mod network;
pub mod pool;
pub mod profiles;
pub mod provision;
mod show;

pub use layer::{user_bindings, UserBinding};

use crate::domain::ports::PortRange;
use crate::domain::resources::Resources;
use anyhow::{Context, Result};
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The documented default file, embedded (also what `berth config show` starts from).
pub const DEFAULT_TOML: &str = include_str!("../../assets/config.toml");

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub image: String,
    pub runtime: Option<String>,
    /// `provider`: new workspaces' provider (a profile's `provider` and
    /// `--provider` override it).
    pub provider: crate::domain::vm::Provider,
    pub profile: String,
    pub post_start: Option<String>,
    pub port_range: PortRange,
    pub bind_address: IpAddr,
    pub resources: Resources,
    pub labels: BTreeMap<String, String>,
    /// TUI theme name (a preset or a file in `<config dir>/themes/`).
    pub theme: String,
    /// Mouse support in the TUI.
    pub mouse: bool,
    /// Lines kept in the logs pane.
    pub log_lines: usize,
    /// Records kept by the egress audit view.
    pub egress_records: usize,
    /// Command run for an interactive shell (default: bash -l, else sh -l).
    pub shell: Option<String>,
    /// The user's `[keys.<mode>]` entries, with their lines (checked by the TUI's keymap).
    pub keys: Vec<UserBinding>,
    /// Provisioning defaults: environment, forwarding, dotfiles, setup, workdir.
    pub provision: provision::ProvisionConfig,
    /// Purpose profiles: the built-ins and the user's `<config dir>/profiles/*.toml`.
    pub profiles: crate::domain::profiles::ProfileSet,
    /// `[build] ca_bundle`: a CA bundle profile image builds trust (their tools
    /// only, during the build); `None` (set to ""): none.
    pub build_ca_bundle: Option<PathBuf>,
    /// `[docker]`: Docker inside workspaces.
    pub docker: docker::DockerConfig,
    /// `[network]`: network profile of new workspaces, the proxy's allowlist.
    pub network: network::NetworkConfig,
    /// `[logs]`: where new workspaces forward their logs.
    pub logs: logs::LogsConfig,
    /// `[lifetime]`: the default TTL of new workspaces.
    pub lifetime: lifetime::LifetimeConfig,
    /// `[cleanup]`: the cleanup job (`berth gc`).
    pub cleanup: cleanup::CleanupConfig,
    /// `[jobs]`: intervals of the background jobs.
    pub jobs: jobs::JobsConfig,
    /// `[pool]`: warm workspaces kept ready per profile.
    pub pool: pool::PoolConfig,
    /// `[activity]`: what counts as a workspace being in use.
    pub activity: activity::ActivityConfig,
    /// `[limits]`: running workspaces at once, disk and aggregate alerts.
    pub limits: limits::LimitsConfig,
    /// Agent CLIs for `berth agent run/launch` (built-ins, then `[agents.NAME]`).
    pub agents: agents::Agents,
    /// `engine`, `placement` and `[engines.NAME]`: the engines beyond DOCKER_HOST
    /// and the Docker contexts.
    pub engines: engines::EnginesConfig,
}

/// The CA bundle profile builds trust by default (used when it exists).
pub const DEFAULT_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";

#[derive(Debug, thiserror::Error)]
#[error("{path}: line {line}, column {col}: {msg}")]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            image: "berth/workspace:latest".into(),
            runtime: None,
            provider: Default::default(),
            profile: crate::domain::workspace::DEFAULT_PROFILE.into(),
            post_start: None,
            port_range: PortRange::default(),
            bind_address: IpAddr::from([127, 0, 0, 1]),
            resources: Resources::default(),
            labels: BTreeMap::new(),
            theme: "default".into(),
            mouse: true,
            log_lines: 10_000,
            egress_records: 100_000,
            shell: None,
            keys: Vec::new(),
            provision: Default::default(),
            profiles: Default::default(),
            build_ca_bundle: Some(PathBuf::from(DEFAULT_CA_BUNDLE)),
            docker: Default::default(),
            network: Default::default(),
            logs: Default::default(),
            lifetime: Default::default(),
            cleanup: Default::default(),
            jobs: Default::default(),
            pool: Default::default(),
            activity: Default::default(),
            limits: Default::default(),
            agents: agents::defaults(),
            engines: Default::default(),
        }
    }
}

/// How the embedded defaults are named in messages.
pub const DEFAULTS_NAME: &str = "<berth's built-in defaults>";

impl Config {
    /// The embedded defaults with the user's file `text` (from `path`) over them.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let mut cfg = Config::default();
        layer::apply(&mut cfg, DEFAULT_TOML, DEFAULTS_NAME)?;
        layer::apply(&mut cfg, text, path)?;
        Ok(cfg)
    }

    /// The file's text, `None` when there is no file.
    fn read(path: &Path) -> Result<Option<String>> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read config file {}", path.display())),
        }
    }

    /// For the TUI: the settings, or the defaults and the sentence that says why
    /// the file was not used.
    pub fn load_or_defaults(path: &Path) -> (Self, Option<String>) {
        match Self::load(path) {
            Ok(c) => (c, None),
            Err(e) => (
                Self::parse("", "").unwrap_or_default(),
                Some(format!(
                    "{e:#}; berth runs with its defaults until it is fixed"
                )),
            ),
        }
    }

    /// Loads `path` if it exists, else the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        let text = Self::read(path)?.unwrap_or_default();
        let mut cfg = Self::parse(&text, &path.display().to_string())?;
        cfg.profiles = profiles::load(&profiles::dir(path))?;
        Ok(cfg)
    }
}

/// Where berth keeps its files.
#[derive(Debug, Clone)]
pub struct Paths {
    pub config_file: PathBuf,
    pub state_dir: PathBuf,
    pub home: PathBuf,
}

impl Paths {
    /// XDG locations (XDG_CONFIG_HOME, XDG_STATE_HOME, HOME), with an optional config override.
    pub fn discover(config_override: Option<PathBuf>) -> Result<Self> {
        let base =
            directories::BaseDirs::new().context("cannot find the home directory; set HOME")?;
        let home = base.home_dir().to_path_buf();
        let config_file =
            config_override.unwrap_or_else(|| base.config_dir().join("berth").join("config.toml"));
        let state_dir = base
            .state_dir()
            .map(|d| d.join("berth"))
            .unwrap_or_else(|| home.join(".local/state/berth"));
        Ok(Self {
            config_file,
            state_dir,
            home,
        })
    }

    /// Every file under one directory (`config/`, `state/berth/`, `home/`): for
    /// tests and sandboxes.
    pub fn under(root: &Path) -> Self {
        Self {
            config_file: root.join("config/berth/config.toml"),
            state_dir: root.join("state/berth"),
            home: root.join("home"),
        }
    }

    pub fn known_hosts_dir(&self) -> PathBuf {
        self.state_dir.join("known_hosts.d")
    }

    pub fn store_file(&self) -> PathBuf {
        self.state_dir.join("berth.db")
    }

    pub fn log_file(&self) -> PathBuf {
        self.state_dir.join("berth.log")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_default_file_parses_to_the_defaults() {
        assert_eq!(
            Config::parse(DEFAULT_TOML, "default").unwrap(),
            Config::default()
        );
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(Config::parse("", "x").unwrap(), Config::default());
    }

    #[test]
    fn show_output_parses_back_and_holds_every_setting() {
        let mut c = Config::default();
        c.resources.cpus = Some(1.5);
        c.labels.insert("team".into(), "a \"b\"".into());
        c.post_start = Some("echo hi && make".into());
        c.theme = "light".into();
        c.mouse = false;
        c.log_lines = 500;
        c.shell = Some("zsh -l".into());
        let shown = c.to_toml();
        for key in [
            "theme",
            "[tui]",
            "mouse",
            "log_lines",
            "shell",
            "[ssh]",
            "[resources]",
        ] {
            assert!(shown.contains(key), "{key} missing:\n{shown}");
        }
        assert_eq!(Config::parse(&shown, "x").unwrap(), c);
    }

    #[test]
    fn the_user_file_goes_over_the_defaults_and_an_empty_value_unsets() {
        let c = Config::parse("runtime = \"runsc\"\n[tui]\nmouse = false\n", "a").unwrap();
        assert_eq!(c.runtime.as_deref(), Some("runsc"));
        assert!(!c.mouse);
        assert_eq!(c.log_lines, 10_000, "untouched settings keep the default");
        let c = Config::parse("runtime = \"\"\n", "a").unwrap();
        assert_eq!(c.runtime, None);
    }

    #[test]
    fn a_bad_file_gives_the_tui_defaults_and_a_sentence() {
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("config.toml");
        std::fs::write(&f, "theme = \"light\"\n[resources]\nmemory = \"lots\"\n").unwrap();
        let (c, problem) = Config::load_or_defaults(&f);
        assert_eq!(c, Config::default());
        let p = problem.unwrap();
        assert!(
            p.contains("config.toml: line 3")
                && p.contains("resources.memory")
                && p.contains("defaults"),
            "{p}"
        );
        std::fs::write(&f, "[keys.normal]\nstart = \"S\"\n").unwrap();
        let (c, problem) = Config::load_or_defaults(&f);
        assert!(problem.is_none());
        assert_eq!(c.keys.len(), 1);
        assert_eq!((c.keys[0].action.as_str(), c.keys[0].line), ("start", 2));
    }

    #[test]
    fn values_are_read() {
        let c = Config::parse(
            "image = \"x:1\"\n[ssh]\nport_range = \"3000-3010\"\nbind_address = \"0.0.0.0\"\n[resources]\nmemory = \"512m\"\npids = 100\ncpus = 0.5\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(c.image, "x:1");
        assert_eq!(
            c.port_range,
            PortRange {
                start: 3000,
                end: 3010
            }
        );
        assert_eq!(c.bind_address.to_string(), "0.0.0.0");
        assert_eq!(c.resources.memory_bytes, 512 << 20);
        assert_eq!(c.resources.cpus, Some(0.5));
    }

    #[test]
    fn errors_name_file_line_and_field() {
        let cases = [
            ("[ssh]\nport_range = \"22-80\"\n", 2, "ssh.port_range"),
            (
                "\n\n[resources]\nmemory = \"lots\"\n",
                4,
                "resources.memory",
            ),
            ("imag = \"x\"\n", 1, "unknown field `imag`"),
            (
                "[ssh]\nbind_address = \"localhost\"\n",
                2,
                "ssh.bind_address",
            ),
            ("[resources]\npids = \"many\"\n", 2, "invalid type"),
            ("image = \n", 1, ""),
            ("[labels]\n\"dev.berth.name\" = \"x\"\n", 1, "reserved"),
        ];
        for (text, line, field) in cases {
            let e = Config::parse(text, "/cfg/config.toml").unwrap_err();
            assert_eq!(e.line, line, "{text:?}: {e}");
            let msg = e.to_string();
            assert!(msg.starts_with("/cfg/config.toml: line"), "{msg}");
            assert!(msg.contains(field), "{text:?}: {msg}");
        }
    }
}
