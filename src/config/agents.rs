//! `[agents.NAME]`: agent CLIs beyond (or replacing) the built-in ones
//! (`domain::agents::built_in`). A user entry with a built-in's name replaces it
//! whole. Bad values are reported with the file, line and field.
use super::ConfigError;
use crate::domain::agents::{built_in, AgentDef, McpFormat, McpServer};
use serde::Deserialize;
use std::collections::BTreeMap;
use toml::Spanned;

/// The agents `berth agent run/launch` know, by name.
pub type Agents = BTreeMap<String, AgentDef>;

/// The built-in agents, by name.
pub fn defaults() -> Agents {
    built_in()
        .into_iter()
        .map(|a| (a.name.clone(), a))
        .collect()
}

/// The base profile of an entry that does not name one.
pub const DEFAULT_PROFILE: &str = "node";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawAgent {
    description: Option<String>,
    profile: Option<Spanned<String>>,
    #[serde(default)]
    packages: Vec<Spanned<String>>,
    #[serde(default)]
    install: Vec<String>,
    command: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    prompt: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    secret_env: BTreeMap<Spanned<String>, Spanned<String>>,
    mcp_format: Option<Spanned<String>>,
    mcp_path: Option<Spanned<String>>,
    #[serde(default)]
    mcp_servers: Vec<Spanned<RawServer>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct RawServer {
    name: Spanned<String>,
    command: Spanned<Vec<String>>,
    #[serde(default)]
    env: BTreeMap<Spanned<String>, String>,
    #[serde(default)]
    secret_env: BTreeMap<Spanned<String>, Spanned<String>>,
}

/// An environment variable's name: `[A-Z_][A-Z0-9_]*`.
pub fn valid_var(name: &str) -> bool {
    let mut c = name.chars();
    c.next().is_some_and(|f| f.is_ascii_uppercase() || f == '_')
        && c.all(|ch| ch.is_ascii_uppercase() || ch.is_ascii_digit() || ch == '_')
}

/// A workspace-name-friendly agent name (it starts the session's workspace name
/// and names its profile image).
pub fn valid_name(name: &str) -> bool {
    crate::domain::profiles::valid_name(name) && name.len() <= 30
}

type ErrAt<'a> = &'a dyn Fn(usize, String) -> ConfigError;

fn secret_env(
    field: &str,
    raw: BTreeMap<Spanned<String>, Spanned<String>>,
    err_at: ErrAt,
) -> Result<BTreeMap<String, String>, ConfigError> {
    let mut out = BTreeMap::new();
    for (var, secret) in raw {
        if !valid_var(var.get_ref()) {
            return Err(err_at(
                var.span().start,
                format!(
                    "{field}: {:?} is not a variable name (capital letters, digits and '_', not starting with a digit)",
                    var.get_ref()
                ),
            ));
        }
        crate::domain::secrets::check_name(secret.get_ref())
            .map_err(|e| err_at(secret.span().start, format!("{field}: {e}")))?;
        out.insert(var.into_inner(), secret.into_inner());
    }
    Ok(out)
}

fn argv(field: &str, raw: Spanned<Vec<String>>, err_at: ErrAt) -> Result<Vec<String>, ConfigError> {
    if raw.get_ref().is_empty() || raw.get_ref()[0].trim().is_empty() {
        return Err(err_at(
            raw.span().start,
            format!("{field}: give the command and its arguments, e.g. [\"my-agent\", \"--flag\"]"),
        ));
    }
    Ok(raw.into_inner())
}

fn server(at: &str, raw: Spanned<RawServer>, err_at: ErrAt) -> Result<McpServer, ConfigError> {
    let start = raw.span().start;
    let raw = raw.into_inner();
    if raw.name.get_ref().trim().is_empty() {
        return Err(err_at(start, format!("{at}.name: give the server a name")));
    }
    let mut env = BTreeMap::new();
    for (k, v) in raw.env {
        if !valid_var(k.get_ref()) {
            return Err(err_at(
                k.span().start,
                format!("{at}.env: {:?} is not a variable name", k.get_ref()),
            ));
        }
        env.insert(k.into_inner(), v);
    }
    Ok(McpServer {
        name: raw.name.into_inner(),
        command: argv(&format!("{at}.command"), raw.command, err_at)?,
        env,
        secret_env: secret_env(&format!("{at}.secret_env"), raw.secret_env, err_at)?,
    })
}

fn entry(
    name: &str,
    raw: RawAgent,
    path: &str,
    table_at: usize,
    err_at: ErrAt,
) -> Result<AgentDef, ConfigError> {
    let at = format!("agents.{name}");
    if !valid_name(name) {
        return Err(err_at(
            table_at,
            format!("{at}: an agent's name is lowercase letters, digits and '-', starting with a letter, at most 30 characters"),
        ));
    }
    let Some(command) = raw.command else {
        return Err(err_at(
            table_at,
            format!("{at}.command: every agent needs its interactive command, e.g. command = [\"{name}\"]"),
        ));
    };
    let profile = match raw.profile {
        Some(p) if !crate::domain::profiles::valid_name(p.get_ref()) => {
            return Err(err_at(
                p.span().start,
                format!("{at}.profile: {:?} is not a profile name", p.get_ref()),
            ))
        }
        Some(p) => p.into_inner(),
        None => DEFAULT_PROFILE.into(),
    };
    let mut packages = Vec::new();
    for p in raw.packages {
        let ok = p
            .get_ref()
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "+-.:=~".contains(c))
            && !p.get_ref().is_empty()
            && !p.get_ref().starts_with(['-', '.']);
        if !ok {
            return Err(err_at(
                p.span().start,
                format!(
                    "{at}.packages: {:?} is not a Debian package name",
                    p.get_ref()
                ),
            ));
        }
        packages.push(p.into_inner());
    }
    let mcp_format = match raw.mcp_format {
        None => None,
        Some(f) => Some(
            McpFormat::deserialize(toml::Value::String(f.get_ref().clone())).map_err(|_| {
                err_at(
                    f.span().start,
                    format!(
                        "{at}.mcp_format: {:?} is not one of claude, codex, gemini, copilot, json",
                        f.get_ref()
                    ),
                )
            })?,
        ),
    };
    let mcp_path = raw.mcp_path.map(|p| {
        let v = p.get_ref().trim().to_string();
        (p.span().start, v)
    });
    if let Some((pos, p)) = &mcp_path {
        if p.is_empty() || p.starts_with('/') || p.split('/').any(|c| c == "..") {
            return Err(err_at(
                *pos,
                format!("{at}.mcp_path: a file relative to the home, e.g. \".mcp.json\""),
            ));
        }
    }
    if mcp_format == Some(McpFormat::Json) && mcp_path.is_none() {
        return Err(err_at(
            table_at,
            format!("{at}.mcp_path: mcp_format = \"json\" needs the file, e.g. mcp_path = \".mcp.json\""),
        ));
    }
    let mut mcp_servers = Vec::new();
    for (i, s) in raw.mcp_servers.into_iter().enumerate() {
        mcp_servers.push(server(&format!("{at}.mcp_servers[{i}]"), s, err_at)?);
    }
    Ok(AgentDef {
        name: name.into(),
        description: raw.description.unwrap_or_default(),
        profile,
        packages,
        install: raw.install,
        command: argv(&format!("{at}.command"), command, err_at)?,
        prompt: match raw.prompt {
            Some(p) => argv(&format!("{at}.prompt"), p, err_at)?,
            None => Vec::new(),
        },
        secret_env: secret_env(&format!("{at}.secret_env"), raw.secret_env, err_at)?,
        mcp_format,
        mcp_path: mcp_path.map(|(_, p)| p),
        mcp_servers,
        source: path.into(),
    })
}

/// Applies a layer's `[agents.*]` entries over `agents`.
pub(super) fn apply(
    agents: &mut Agents,
    raw: BTreeMap<Spanned<String>, RawAgent>,
    path: &str,
    err_at: ErrAt,
) -> Result<(), ConfigError> {
    for (name, entry_raw) in raw {
        let table_at = name.span().start;
        let def = entry(name.get_ref(), entry_raw, path, table_at, err_at)?;
        agents.insert(def.name.clone(), def);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::config::Config;
    use crate::domain::agents::McpFormat;

    const FAKE: &str = r#"
[agents.fake]
profile = "clean"
install = ["printf 'x' > /usr/local/bin/fake-agent"]
command = ["fake-agent"]
prompt = ["fake-agent", "-p"]
secret_env = { FAKE_KEY = "fake-key" }

[[agents.fake.mcp_servers]]
name = "files"
command = ["mcp-files", "--root", "/home/workspace"]
env = { LEVEL = "debug" }
secret_env = { FILES_TOKEN = "files-token" }
"#;

    #[test]
    fn user_entries_join_the_built_ins() {
        let c = Config::parse(FAKE, "/u/config.toml").unwrap();
        let names: Vec<&str> = c.agents.keys().map(String::as_str).collect();
        assert_eq!(names, ["claude", "codex", "copilot", "fake", "gemini"]);
        let f = &c.agents["fake"];
        assert_eq!(f.profile, "clean");
        assert_eq!(f.command, ["fake-agent"]);
        assert_eq!(f.prompt, ["fake-agent", "-p"]);
        assert_eq!(f.secret_env["FAKE_KEY"], "fake-key");
        assert_eq!(f.source, "/u/config.toml");
        assert_eq!(f.mcp_servers[0].command[0], "mcp-files");
        assert_eq!(f.mcp_servers[0].secret_env["FILES_TOKEN"], "files-token");
        assert_eq!(Config::default().agents.len(), 4);
    }

    #[test]
    fn a_user_entry_replaces_a_built_in_whole() {
        let c = Config::parse("[agents.claude]\ncommand = [\"my-claude\"]\n", "u").unwrap();
        let a = &c.agents["claude"];
        assert_eq!(a.command, ["my-claude"]);
        assert_eq!(a.profile, "node");
        assert!(a.install.is_empty() && a.secret_env.is_empty() && a.mcp_format.is_none());
    }

    #[test]
    fn bad_entries_name_the_line_and_field() {
        let cases = [
            ("[agents.x]\nprofile = \"clean\"\n", 1, "agents.x.command"),
            ("[agents.x]\ncommand = []\n", 2, "agents.x.command"),
            ("[agents.Bad]\ncommand = [\"a\"]\n", 1, "agents.Bad"),
            (
                "[agents.x]\ncommand = [\"a\"]\nsecret_env = { lower = \"k\" }\n",
                3,
                "agents.x.secret_env",
            ),
            (
                "[agents.x]\ncommand = [\"a\"]\nsecret_env = { K = \"bad name\" }\n",
                3,
                "agents.x.secret_env",
            ),
            (
                "[agents.x]\ncommand = [\"a\"]\nmcp_format = \"yaml\"\n",
                3,
                "agents.x.mcp_format",
            ),
            (
                "[agents.x]\ncommand = [\"a\"]\nmcp_format = \"json\"\n",
                1,
                "agents.x.mcp_path",
            ),
            (
                "[agents.x]\ncommand = [\"a\"]\n\n[[agents.x.mcp_servers]]\nname = \"s\"\ncommand = [\"\"]\n",
                6,
                "agents.x.mcp_servers[0].command",
            ),
            ("[agents.x]\ncommand = [\"a\"]\ncolour = 1\n", 3, "colour"),
        ];
        for (text, line, field) in cases {
            let e = Config::parse(text, "c.toml").unwrap_err();
            assert_eq!(e.line, line, "{text}: {e}");
            assert!(e.to_string().contains(field), "{text}: {e}");
        }
    }

    #[test]
    fn formats_parse() {
        let c = Config::parse(
            "[agents.x]\ncommand = [\"a\"]\nmcp_format = \"json\"\nmcp_path = \".mcp.json\"\n",
            "u",
        )
        .unwrap();
        assert_eq!(c.agents["x"].mcp_format, Some(McpFormat::Json));
        assert_eq!(c.agents["x"].mcp_path.as_deref(), Some(".mcp.json"));
    }
}
