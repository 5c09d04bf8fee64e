//! One layer of configuration (berth's embedded defaults, then the user's file)
//! deserialized and applied over the settings below it. A key a layer does not set
//! keeps the value beneath; a bad value is an error naming the layer's file, line,
//! column and field.
use super::{Config, ConfigError};
use crate::domain::labels::check_extra_labels;
use crate::domain::resources::parse_memory;
use crate::domain::text_pos::line_col;
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawTui {
    mouse: Option<bool>,
    log_lines: Option<toml::Spanned<i64>>,
    egress_records: Option<toml::Spanned<i64>>,
    shell: Option<String>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    theme: Option<String>,
    #[serde(default)]
    tui: RawTui,
    /// Key bindings: read with their lines by [`user_bindings`]; the TUI's keymap
    /// checks them and reports its own errors.
    #[allow(dead_code)]
    keys: Option<toml::Value>,
    image: Option<String>,
    runtime: Option<String>,
    provider: Option<toml::Spanned<String>>,
    profile: Option<String>,
    post_start: Option<String>,
    #[serde(default)]
    ssh: RawSsh,
    #[serde(default)]
    resources: RawResources,
    labels: Option<BTreeMap<String, String>>,
    #[serde(default)]
    env: super::provision::RawEnv,
    #[serde(default)]
    forward: super::provision::RawForward,
    #[serde(default)]
    dotfiles: super::provision::RawDotfiles,
    setup: Option<Vec<String>>,
    workdir: Option<toml::Spanned<String>>,
    #[serde(default)]
    build: RawBuild,
    #[serde(default)]
    docker: super::docker::RawDocker,
    #[serde(default)]
    network: super::network::RawNetwork,
    #[serde(default)]
    logs: super::logs::RawLogs,
    #[serde(default)]
    lifetime: super::lifetime::RawLifetime,
    #[serde(default)]
    cleanup: super::cleanup::RawCleanup,
    #[serde(default)]
    jobs: super::jobs::RawJobs,
    #[serde(default)]
    pool: super::pool::RawPool,
    #[serde(default)]
    activity: super::activity::RawActivity,
    #[serde(default)]
    limits: super::limits::RawLimits,
    #[serde(default)]
    agents: BTreeMap<toml::Spanned<String>, super::agents::RawAgent>,
    engine: Option<toml::Spanned<String>>,
    placement: Option<toml::Spanned<String>>,
    #[serde(default)]
    engines: BTreeMap<toml::Spanned<String>, super::engines::RawEngine>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawBuild {
    ca_bundle: Option<String>,
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

/// A user's `[keys.<mode>]` entry: action = "key" or ["key", ...], with its line.
#[derive(Debug, Clone, PartialEq)]
pub struct UserBinding {
    pub mode: String,
    pub action: String,
    pub keys: Vec<String>,
    pub line: usize,
}

/// "" means "unset" for optional text settings.
fn text_setting(v: String) -> Option<String> {
    Some(v).filter(|v| !v.trim().is_empty())
}

/// Applies the layer `text` (from `path`, for messages) over `cfg`.
pub fn apply(cfg: &mut Config, text: &str, path: &str) -> Result<(), ConfigError> {
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
    if let Some(image) = raw.image.and_then(text_setting) {
        cfg.image = image;
    }
    if let Some(r) = raw.runtime {
        cfg.runtime = text_setting(r);
    }
    if let Some(p) = raw.provider {
        cfg.provider = crate::domain::vm::Provider::parse(p.get_ref())
            .map_err(|e| err_at(p.span().start, format!("provider: {e}")))?;
    }
    if let Some(p) = raw.profile.and_then(text_setting) {
        cfg.profile = p;
    }
    if let Some(p) = raw.post_start {
        cfg.post_start = text_setting(p);
    }
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
                format!(
                    "ssh.bind_address: {:?} is not an IP address (for example 127.0.0.1 or 0.0.0.0)",
                    a.get_ref()
                ),
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
        if !(0.0..=1024.0).contains(&v) {
            return Err(err_at(
                c.span().start,
                "resources.cpus: must be a number of cores (for example 2 or 0.5), or 0 for no limit"
                    .into(),
            ));
        }
        // 0: no CPU limit.
        cfg.resources.cpus = Some(v).filter(|v| *v > 0.0);
    }
    if let Some(t) = raw.theme.and_then(text_setting) {
        cfg.theme = t;
    }
    if let Some(sh) = raw.tui.shell {
        cfg.shell = text_setting(sh);
    }
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
    if let Some(n) = raw.tui.egress_records {
        let v = *n.get_ref();
        if !(100..=10_000_000).contains(&v) {
            return Err(err_at(
                n.span().start,
                "tui.egress_records: must be between 100 and 10000000".into(),
            ));
        }
        cfg.egress_records = v as usize;
    }
    if let Some(labels) = raw.labels {
        let at = text.find("[labels]").unwrap_or(0);
        check_extra_labels(&labels).map_err(|e| err_at(at, format!("labels: {e}")))?;
        cfg.labels.extend(labels);
    }
    if let Some(ca) = raw.build.ca_bundle {
        cfg.build_ca_bundle = text_setting(ca).map(std::path::PathBuf::from);
    }
    super::docker::apply(&mut cfg.docker, raw.docker, &err_at)?;
    super::network::apply(&mut cfg.network, raw.network, &err_at)?;
    super::logs::apply(&mut cfg.logs, raw.logs, &err_at)?;
    super::lifetime::apply(&mut cfg.lifetime, raw.lifetime, &err_at)?;
    super::cleanup::apply(&mut cfg.cleanup, raw.cleanup, &err_at)?;
    super::jobs::apply(&mut cfg.jobs, raw.jobs, &err_at)?;
    super::pool::apply(&mut cfg.pool, raw.pool, &err_at)?;
    super::activity::apply(&mut cfg.activity, raw.activity, &err_at)?;
    super::limits::apply(&mut cfg.limits, raw.limits, &err_at)?;
    super::agents::apply(&mut cfg.agents, raw.agents, path, &err_at)?;
    super::engines::apply(
        &mut cfg.engines,
        raw.engine,
        raw.placement,
        raw.engines,
        &err_at,
    )?;
    let raw_provision = super::provision::RawProvision {
        env: raw.env,
        forward: raw.forward,
        dotfiles: raw.dotfiles,
        setup: raw.setup,
        workdir: raw.workdir,
    };
    super::provision::apply(&mut cfg.provision, raw_provision, &err_at)?;
    cfg.keys.extend(user_bindings(text));
    Ok(())
}

/// Reads `[keys.<mode>]` tables from a config file's text (with line numbers).
pub fn user_bindings(text: &str) -> Vec<UserBinding> {
    #[derive(serde::Deserialize)]
    struct Raw {
        #[serde(default)]
        keys: BTreeMap<String, BTreeMap<String, toml::Spanned<toml::Value>>>,
    }
    let Ok(raw) = toml::from_str::<Raw>(text) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    for (mode, actions) in raw.keys {
        for (action, v) in actions {
            let line = text[..v.span().start.min(text.len())].matches('\n').count() + 1;
            let keys = match v.get_ref() {
                toml::Value::String(s) => vec![s.clone()],
                toml::Value::Array(a) => a
                    .iter()
                    .map(|x| x.as_str().map_or_else(|| x.to_string(), String::from))
                    .collect(),
                other => vec![other.to_string()],
            };
            out.push(UserBinding {
                mode: mode.clone(),
                action,
                keys,
                line,
            });
        }
    }
    out
}
