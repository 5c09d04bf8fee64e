//! Provisioning defaults in the config file: `[env]`, `[forward]`, `[dotfiles]`,
//! `setup` and `workdir`. `berth create`'s flags override each of them.
use super::ConfigError;
use crate::domain::create_options::{Forward, DOTFILES_TARGET};
use crate::domain::env::{valid_name, Passthrough, DEFAULT_PATTERNS};
use serde::Deserialize;
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq)]
pub struct ProvisionConfig {
    /// Which host variables a create passes through.
    pub passthrough: Passthrough,
    /// Patterns `auto` matches.
    pub patterns: Vec<String>,
    pub forward: Forward,
    pub dotfiles: DotfilesConfig,
    /// Commands run after the profile's setup, in order.
    pub setup: Vec<String>,
    /// Default directory for exec, ssh and shells.
    pub workdir: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct DotfilesConfig {
    pub url: Option<String>,
    pub branch: Option<String>,
    pub target: String,
    pub script: Option<String>,
    pub dir: Option<PathBuf>,
    /// Files written into the home (path relative to it, content), like `--dotfile`.
    pub files: std::collections::BTreeMap<String, String>,
}

impl Default for ProvisionConfig {
    fn default() -> Self {
        Self {
            passthrough: Passthrough::Auto,
            patterns: DEFAULT_PATTERNS.iter().map(|s| s.to_string()).collect(),
            forward: Forward::default(),
            dotfiles: DotfilesConfig {
                target: DOTFILES_TARGET.into(),
                ..Default::default()
            },
            setup: Vec::new(),
            workdir: None,
        }
    }
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawEnv {
    passthrough: Option<toml::Spanned<String>>,
    patterns: Option<toml::Spanned<Vec<String>>>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawForward {
    git: Option<bool>,
    gh: Option<bool>,
    ssh: Option<bool>,
}

#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct RawDotfiles {
    url: Option<String>,
    branch: Option<String>,
    target: Option<String>,
    script: Option<String>,
    dir: Option<String>,
    files: Option<toml::Spanned<std::collections::BTreeMap<String, String>>>,
}

/// The provisioning parts of one config layer.
pub(super) struct RawProvision {
    pub env: RawEnv,
    pub forward: RawForward,
    pub dotfiles: RawDotfiles,
    pub setup: Option<Vec<String>>,
    pub workdir: Option<toml::Spanned<String>>,
}

fn text(v: String) -> Option<String> {
    Some(v).filter(|v| !v.trim().is_empty())
}

/// Applies `raw` over `p`; `err_at(offset, msg)` makes an error with a line.
pub(super) fn apply(
    p: &mut ProvisionConfig,
    raw: RawProvision,
    err_at: &dyn Fn(usize, String) -> ConfigError,
) -> Result<(), ConfigError> {
    if let Some(m) = raw.env.passthrough {
        p.passthrough = m
            .get_ref()
            .parse()
            .map_err(|e| err_at(m.span().start, format!("env.passthrough: {e}")))?;
    }
    if let Some(pats) = raw.env.patterns {
        let bad = pats
            .get_ref()
            .iter()
            .find(|s| s.is_empty() || !valid_name(&s.replace('*', "X")));
        if let Some(bad) = bad {
            return Err(err_at(
                pats.span().start,
                format!("env.patterns: {bad:?} is not a variable name pattern (letters, digits, _ and *)"),
            ));
        }
        p.patterns = pats.into_inner();
    }
    let f = raw.forward;
    p.forward.git = f.git.unwrap_or(p.forward.git);
    p.forward.gh = f.gh.unwrap_or(p.forward.gh);
    p.forward.ssh = f.ssh.unwrap_or(p.forward.ssh);
    let d = raw.dotfiles;
    if let Some(u) = d.url {
        p.dotfiles.url = text(u);
    }
    if let Some(b) = d.branch {
        p.dotfiles.branch = text(b);
    }
    if let Some(t) = d.target.and_then(text) {
        p.dotfiles.target = t;
    }
    if let Some(s) = d.script {
        p.dotfiles.script = text(s);
    }
    if let Some(dir) = d.dir {
        p.dotfiles.dir = text(dir).map(PathBuf::from);
    }
    if let Some(files) = d.files {
        let at = files.span().start;
        for (path, content) in files.into_inner() {
            let (rel, _) = crate::domain::create_options::parse_dotfile(&format!("{path}="))
                .map_err(|e| err_at(at, format!("dotfiles.files: {e}")))?;
            p.dotfiles.files.insert(rel, content);
        }
    }
    if let Some(s) = raw.setup {
        p.setup = s.into_iter().filter_map(text).collect();
    }
    if let Some(w) = raw.workdir {
        let v = w.get_ref().trim();
        if !v.is_empty() && !v.starts_with('/') {
            return Err(err_at(
                w.span().start,
                format!("workdir: {v:?} must be an absolute path inside the workspace, like /home/workspace/repo"),
            ));
        }
        p.workdir = text(v.to_string());
    }
    Ok(())
}

impl ProvisionConfig {
    /// The settings as TOML, for `berth config show` (top-level keys first).
    pub fn top_level_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let list = |v: &[String]| {
            toml::Value::Array(v.iter().map(|s| toml::Value::String(s.clone())).collect())
                .to_string()
        };
        format!(
            "setup = {}\nworkdir = {}\n",
            list(&self.setup),
            q(self.workdir.as_deref().unwrap_or(""))
        )
    }

    pub fn sections_toml(&self) -> String {
        let q = |s: &str| toml::Value::String(s.to_string()).to_string();
        let o = |s: &Option<String>| q(s.as_deref().unwrap_or(""));
        let list = toml::Value::Array(
            self.patterns
                .iter()
                .map(|s| toml::Value::String(s.clone()))
                .collect(),
        );
        let d = &self.dotfiles;
        format!(
            "\n[env]\npassthrough = {}\npatterns = {list}\n\n[forward]\ngit = {}\ngh = {}\nssh = {}\n\n[dotfiles]\nurl = {}\nbranch = {}\ntarget = {}\nscript = {}\ndir = {}\nfiles = {}\n",
            q(&self.passthrough.to_string()),
            self.forward.git,
            self.forward.gh,
            self.forward.ssh,
            o(&d.url),
            o(&d.branch),
            q(&d.target),
            o(&d.script),
            q(&d.dir.as_ref().map(|p| p.display().to_string()).unwrap_or_default()),
            toml::Value::Table(
                d.files
                    .iter()
                    .map(|(k, v)| (k.clone(), toml::Value::String(v.clone())))
                    .collect()
            ),
        )
    }

    pub fn to_json(&self) -> serde_json::Value {
        let d = &self.dotfiles;
        serde_json::json!({
            "setup": self.setup,
            "workdir": self.workdir,
            "env": {"passthrough": self.passthrough.to_string(), "patterns": self.patterns},
            "forward": {"git": self.forward.git, "gh": self.forward.gh, "ssh": self.forward.ssh},
            "dotfiles": {
                "url": d.url, "branch": d.branch, "target": d.target, "script": d.script,
                "dir": d.dir.as_ref().map(|p| p.display().to_string()),
                "files": d.files,
            },
        })
    }
}
