//! An agent's MCP servers in its own configuration format (issue 12), merged into
//! the file the agent already has. Pure. A server's `secret_env` is never written:
//! its command is wrapped (`agents::with_secret_env`) so the values are read from
//! the secret files at launch. The renderer never sees a secret value: it gets
//! only names.
use super::agents::{with_secret_env, AgentDef, McpFormat, McpServer};
use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// The secrets a session of `def` needs: the agent's keys and its MCP servers'
/// (sorted, each once).
pub fn secret_names(def: &AgentDef) -> Vec<String> {
    let mut v: Vec<String> = def
        .secret_env
        .values()
        .chain(def.mcp_servers.iter().flat_map(|s| s.secret_env.values()))
        .cloned()
        .collect();
    v.sort();
    v.dedup();
    v
}

/// Where `def` keeps its MCP servers, relative to the home; `Err` says why berth
/// cannot write there, `Ok(None)` when the agent has no format.
pub fn config_path(def: &AgentDef) -> Result<Option<String>, String> {
    let Some(format) = def.mcp_format else {
        return Ok(None);
    };
    let path = match format {
        McpFormat::Claude => ".claude.json".to_string(),
        McpFormat::Codex => ".codex/config.toml".into(),
        McpFormat::Gemini => ".gemini/settings.json".into(),
        McpFormat::Copilot => ".copilot/mcp-config.json".into(),
        McpFormat::Json => def.mcp_path.clone().ok_or_else(|| {
            format!(
                "agent {}: mcp_format \"json\" needs mcp_path (the file, relative to the home)",
                def.name
            )
        })?,
    };
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.split('/').any(|p| p == ".." || p.is_empty())
        || path.contains('\0');
    if bad {
        return Err(format!(
            "agent {}: mcp_path {path:?} must be a relative path inside the home, without '..'",
            def.name
        ));
    }
    Ok(Some(path))
}

/// One server as the agent runs it: the command (wrapped when it reads secrets),
/// its arguments and its plain variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub command: String,
    pub args: Vec<String>,
    pub env: BTreeMap<String, String>,
}

/// The servers as entries; a server without a command is left out (with why).
pub fn entries(servers: &[McpServer]) -> (Vec<Entry>, Vec<String>) {
    let mut out = Vec::new();
    let mut warnings = Vec::new();
    for s in servers {
        if s.command.is_empty() {
            warnings.push(format!("MCP server {} has no command; left out", s.name));
            continue;
        }
        let argv = if s.secret_env.is_empty() {
            s.command.clone()
        } else {
            with_secret_env(&s.secret_env, &s.command)
        };
        let mut env = s.env.clone();
        // A secret's variable is the wrapper's to set, never a value in the file.
        env.retain(|k, _| !s.secret_env.contains_key(k));
        out.push(Entry {
            name: s.name.clone(),
            command: argv[0].clone(),
            args: argv[1..].to_vec(),
            env,
        });
    }
    (out, warnings)
}

/// `existing` (the agent's file, None when absent) with `entries` set in it in
/// `format`; other settings and other servers are kept. `Err`: the file is not
/// what the format says (it is left alone).
pub fn merge(
    format: McpFormat,
    existing: Option<&str>,
    entries: &[Entry],
) -> Result<String, String> {
    match format {
        McpFormat::Codex => merge_toml(existing, entries),
        _ => merge_json(format, existing, entries),
    }
}

fn merge_json(
    format: McpFormat,
    existing: Option<&str>,
    entries: &[Entry],
) -> Result<String, String> {
    let mut root: Value = match existing.map(str::trim).filter(|t| !t.is_empty()) {
        None => json!({}),
        Some(t) => serde_json::from_str(t).map_err(|e| format!("it is not valid JSON ({e})"))?,
    };
    let obj = root
        .as_object_mut()
        .ok_or("its top level is not a JSON object")?;
    let servers = obj
        .entry("mcpServers")
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or("its mcpServers is not a JSON object")?;
    for e in entries {
        let mut s = Map::new();
        match format {
            McpFormat::Claude => {
                s.insert("type".into(), "stdio".into());
            }
            McpFormat::Copilot => {
                s.insert("type".into(), "local".into());
                s.insert("tools".into(), json!(["*"]));
            }
            _ => {}
        }
        s.insert("command".into(), e.command.clone().into());
        s.insert("args".into(), json!(e.args));
        s.insert("env".into(), json!(e.env));
        servers.insert(e.name.clone(), Value::Object(s));
    }
    serde_json::to_string_pretty(&root)
        .map(|t| t + "\n")
        .map_err(|e| e.to_string())
}

fn merge_toml(existing: Option<&str>, entries: &[Entry]) -> Result<String, String> {
    let mut root: toml::Table = match existing {
        None => toml::Table::new(),
        Some(t) => t
            .parse()
            .map_err(|e| format!("it is not valid TOML ({e})"))?,
    };
    let servers = root
        .entry("mcp_servers")
        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
        .as_table_mut()
        .ok_or("its mcp_servers is not a table")?;
    for e in entries {
        let mut s = toml::Table::new();
        s.insert("command".into(), e.command.clone().into());
        s.insert(
            "args".into(),
            toml::Value::Array(e.args.iter().cloned().map(Into::into).collect()),
        );
        let env: toml::Table = e
            .env
            .iter()
            .map(|(k, v)| (k.clone(), toml::Value::from(v.clone())))
            .collect();
        s.insert("env".into(), toml::Value::Table(env));
        servers.insert(e.name.clone(), toml::Value::Table(s));
    }
    toml::to_string(&root).map_err(|e| e.to_string())
}

#[cfg(test)]
#[path = "agent_mcp_tests.rs"]
mod tests;
