//! Configuration: TOML in the XDG config directory, defaults embedded.
use crate::domain::labels::check_extra_labels;
use crate::domain::ports::PortRange;
use crate::domain::resources::{parse_memory, Resources};
use anyhow::{Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

/// The documented default file, embedded (also what `berth config show` starts from).
pub const DEFAULT_TOML: &str = include_str!("../assets/config.toml");

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub image: String,
    pub runtime: Option<String>,
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
    /// Command run for an interactive shell (default: bash -l, else sh -l).
    pub shell: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTui {
    mouse: Option<bool>,
    log_lines: Option<toml::Spanned<i64>>,
    shell: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<String>,
    #[serde(default)]
    tui: RawTui,
    /// Key bindings: checked by the TUI's keymap, which reports its own errors.
    #[allow(dead_code)]
    keys: Option<toml::Value>,
    image: Option<String>,
    runtime: Option<String>,
    profile: Option<String>,
    post_start: Option<String>,
    #[serde(default)]
    ssh: RawSsh,
    #[serde(default)]
    resources: RawResources,
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawSsh {
    port_range: Option<toml::Spanned<String>>,
    bind_address: Option<toml::Spanned<String>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawResources {
    memory: Option<toml::Spanned<String>>,
    pids: Option<toml::Spanned<i64>>,
    cpus: Option<toml::Spanned<f64>>,
}

#[derive(Debug, thiserror::Error)]
#[error("{path}: line {line}, column {col}: {msg}")]
pub struct ConfigError {
    pub path: String,
    pub line: usize,
    pub col: usize,
    pub msg: String,
}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before
        .rfind('\n')
        .map_or(before.len(), |i| before.len() - i - 1)
        + 1;
    (line, col)
}

impl Default for Config {
    fn default() -> Self {
        Self {
            image: "berth/workspace:latest".into(),
            runtime: None,
            profile: crate::domain::workspace::DEFAULT_PROFILE.into(),
            post_start: None,
            port_range: PortRange::default(),
            bind_address: IpAddr::from([127, 0, 0, 1]),
            resources: Resources::default(),
            labels: BTreeMap::new(),
            theme: "default".into(),
            mouse: true,
            log_lines: 10_000,
            shell: None,
        }
    }
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|v| !v.trim().is_empty())
}

impl Config {
    /// Parses a config file's text; `path` is only used in messages.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let err_at = |offset: usize, msg: String| {
            let (line, col) = line_col(text, offset);
            ConfigError {
                path: path.to_string(),
                line,
                col,
                msg,
            }
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            err_at(offset, e.message().to_string())
        })?;
        let mut cfg = Config::default();
        if let Some(image) = non_empty(raw.image) {
            cfg.image = image;
        }
        cfg.runtime = non_empty(raw.runtime);
        if let Some(p) = non_empty(raw.profile) {
            cfg.profile = p;
        }
        cfg.post_start = non_empty(raw.post_start);
        if let Some(r) = raw.ssh.port_range {
            cfg.port_range = r
                .get_ref()
                .parse()
                .map_err(|e| err_at(r.span().start, format!("ssh.port_range: {e}")))?;
        }
        if let Some(a) = raw.ssh.bind_address {
            cfg.bind_address = a.get_ref().trim().parse().map_err(|_| {
                err_at(
                    a.span().start,
                    format!("ssh.bind_address: {:?} is not an IP address (for example 127.0.0.1 or 0.0.0.0)", a.get_ref()),
                )
            })?;
        }
        if let Some(m) = raw.resources.memory {
            cfg.resources.memory_bytes = parse_memory(m.get_ref())
                .map_err(|e| err_at(m.span().start, format!("resources.memory: {e}")))?;
        }
        if let Some(p) = raw.resources.pids {
            if *p.get_ref() < 16 {
                return Err(err_at(
                    p.span().start,
                    "resources.pids: must be at least 16".into(),
                ));
            }
            cfg.resources.pids = *p.get_ref();
        }
        if let Some(c) = raw.resources.cpus {
            let v = *c.get_ref();
            if !(v > 0.0 && v <= 1024.0) {
                return Err(err_at(
                    c.span().start,
                    "resources.cpus: must be a number of cores above 0 (for example 2 or 0.5)"
                        .into(),
                ));
            }
            cfg.resources.cpus = Some(v);
        }
        if let Some(t) = non_empty(raw.theme) {
            cfg.theme = t;
        }
        cfg.shell = non_empty(raw.tui.shell);
        if let Some(m) = raw.tui.mouse {
            cfg.mouse = m;
        }
        if let Some(n) = raw.tui.log_lines {
            let v = *n.get_ref();
            if !(100..=1_000_000).contains(&v) {
                return Err(err_at(
                    n.span().start,
                    "tui.log_lines: must be between 100 and 1000000".into(),
                ));
            }
            cfg.log_lines = v as usize;
        }
        check_extra_labels(&raw.labels).map_err(|e| err_at(0, format!("labels: {e}")))?;
        cfg.labels = raw.labels;
        Ok(cfg)
    }

    /// Loads `path` if it exists, else the defaults.
    pub fn load(path: &Path) -> Result<Self> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Self::parse(&text, &path.display().to_string())?),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(e).with_context(|| format!("cannot read config file {}", path.display())),
        }
    }

    /// The effective configuration as TOML.
    pub fn to_toml(&self) -> String {
        let mut out = String::new();
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        out.push_str(&format!("image = {}\n", q(&self.image)));
        out.push_str(&format!(
            "runtime = {}\n",
            q(self.runtime.as_deref().unwrap_or(""))
        ));
        out.push_str(&format!("profile = {}\n", q(&self.profile)));
        out.push_str(&format!(
            "post_start = {}\n",
            q(self.post_start.as_deref().unwrap_or(""))
        ));
        out.push_str("\n[ssh]\n");
        out.push_str(&format!(
            "port_range = {}\n",
            q(&self.port_range.to_string())
        ));
        out.push_str(&format!(
            "bind_address = {}\n",
            q(&self.bind_address.to_string())
        ));
        out.push_str("\n[resources]\n");
        out.push_str(&format!(
            "memory = {}\n",
            q(&crate::domain::resources::format_memory(
                self.resources.memory_bytes
            ))
        ));
        out.push_str(&format!("pids = {}\n", self.resources.pids));
        if let Some(c) = self.resources.cpus {
            out.push_str(&format!("cpus = {c}\n"));
        }
        out.push_str("\n[labels]\n");
        for (k, v) in &self.labels {
            out.push_str(&format!("{} = {}\n", q(k), q(v)));
        }
        out
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
    fn show_output_parses_back() {
        let mut c = Config::default();
        c.resources.cpus = Some(1.5);
        c.labels.insert("team".into(), "a \"b\"".into());
        c.post_start = Some("echo hi && make".into());
        assert_eq!(Config::parse(&c.to_toml(), "x").unwrap(), c);
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
