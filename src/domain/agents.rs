//! Agents as data (issue 12): what makes an agent CLI (how to install it in a
//! profile layer, its interactive and prompt commands, the secrets it reads, where
//! it keeps its MCP servers), the built-in entries, and what an agent session's
//! workspace carries in its labels. Pure: no I/O here.
use serde::Serialize;
use std::collections::BTreeMap;

/// Where the host repository is bind-mounted, read-only, inside a session.
pub const REPO_MOUNT: &str = "/mnt/berth/repo";
/// The tmux session a persistent (`launch`) agent runs in.
pub const TMUX_SESSION: &str = "agent";

/// Session labels (on the workspace's container and volume).
pub const LABEL_AGENT: &str = "dev.berth.agent";
/// The host repository's absolute path ("" for a session without one).
pub const LABEL_REPO: &str = "dev.berth.agent.repo";
/// The session's branch (`AGENT/session-N` or the one named).
pub const LABEL_BRANCH: &str = "dev.berth.agent.branch";
/// The branch the session started from (the host's current branch then).
pub const LABEL_BASE: &str = "dev.berth.agent.base";
/// The commit the session started from (commits ahead are counted from it).
pub const LABEL_BASE_COMMIT: &str = "dev.berth.agent.base-commit";
/// The clone inside the workspace (an absolute path under /home/workspace).
pub const LABEL_CLONE: &str = "dev.berth.agent.clone";
/// `run` (ephemeral: removed when the agent exits) or `launch` (persistent).
pub const LABEL_MODE: &str = "dev.berth.agent.mode";
/// `--no-push` given at the start: removal brings the branch back without pushing.
pub const LABEL_NO_PUSH: &str = "dev.berth.agent.no-push";

/// How an agent keeps its MCP servers, so berth can write that file inside.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum McpFormat {
    /// `~/.claude.json`, `{"mcpServers": {NAME: {"command", "args", "env"}}}`.
    Claude,
    /// `~/.codex/config.toml`, `[mcp_servers.NAME] command, args, env`.
    Codex,
    /// `~/.gemini/settings.json`, `{"mcpServers": {...}}`.
    Gemini,
    /// `~/.copilot/mcp-config.json`, `{"mcpServers": {...}}`.
    Copilot,
    /// `~/.mcp.json`-style `{"mcpServers": {...}}` at a path given by the entry.
    Json,
}

/// An MCP server an agent gets inside its workspace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct McpServer {
    pub name: String,
    /// The command and its arguments, run inside the workspace.
    pub command: Vec<String>,
    /// Plain (public) variables.
    pub env: BTreeMap<String, String>,
    /// Variables whose values are berth secrets (`VAR` -> secret name): delivered
    /// as secret files and read at launch by a wrapper, never written into the
    /// agent's config.
    pub secret_env: BTreeMap<String, String>,
}

/// One agent CLI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentDef {
    pub name: String,
    pub description: String,
    /// The purpose profile its layer builds on (e.g. "node" for npm-installed CLIs).
    pub profile: String,
    /// Extra Debian packages for its layer.
    pub packages: Vec<String>,
    /// Commands run as root while building its layer (installs the CLI).
    pub install: Vec<String>,
    /// The interactive command (argv).
    pub command: Vec<String>,
    /// The one-shot prompt command (argv); the prompt text is appended as the last
    /// argument.
    pub prompt: Vec<String>,
    /// Variables the agent reads its keys from (`VAR` -> berth secret name).
    pub secret_env: BTreeMap<String, String>,
    /// Where its MCP servers are configured (None: berth cannot configure them).
    pub mcp_format: Option<McpFormat>,
    /// For [`McpFormat::Json`]: the file, relative to the home.
    pub mcp_path: Option<String>,
    pub mcp_servers: Vec<McpServer>,
    /// "built-in" or the config file it came from.
    pub source: String,
}

fn entry(
    name: &str,
    description: &str,
    package: &str,
    command: &str,
    prompt: &[&str],
    key: (&str, &str),
    mcp: McpFormat,
) -> AgentDef {
    AgentDef {
        name: name.into(),
        description: description.into(),
        profile: "node".into(),
        packages: Vec::new(),
        install: vec![format!(
            "npm install -g --no-fund --no-audit --prefix /usr/local {package}"
        )],
        command: vec![command.into()],
        prompt: prompt.iter().map(|s| s.to_string()).collect(),
        secret_env: [(key.0.to_string(), key.1.to_string())].into(),
        mcp_format: Some(mcp),
        mcp_path: None,
        mcp_servers: Vec::new(),
        source: "built-in".into(),
    }
}

/// The built-in agents: claude, codex, copilot and gemini.
pub fn built_in() -> Vec<AgentDef> {
    vec![
        entry(
            "claude",
            "Anthropic's Claude Code",
            "@anthropic-ai/claude-code",
            "claude",
            &["claude", "-p"],
            ("ANTHROPIC_API_KEY", "anthropic-api-key"),
            McpFormat::Claude,
        ),
        entry(
            "codex",
            "OpenAI's Codex CLI",
            "@openai/codex",
            "codex",
            &["codex", "exec"],
            ("OPENAI_API_KEY", "openai-api-key"),
            McpFormat::Codex,
        ),
        entry(
            "copilot",
            "GitHub Copilot CLI",
            "@github/copilot",
            "copilot",
            &["copilot", "-p"],
            ("GH_TOKEN", "github-token"),
            McpFormat::Copilot,
        ),
        entry(
            "gemini",
            "Google's Gemini CLI",
            "@google/gemini-cli",
            "gemini",
            &["gemini", "-p"],
            ("GEMINI_API_KEY", "gemini-api-key"),
            McpFormat::Gemini,
        ),
    ]
}

/// Lowercases `raw` and turns every run of other characters into one '-',
/// trimmed: a piece of a workspace name.
pub fn sanitize_piece(raw: &str) -> String {
    let mut out = String::new();
    for c in raw.chars() {
        let c = c.to_ascii_lowercase();
        if c.is_ascii_lowercase() || c.is_ascii_digit() {
            out.push(c);
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// A session's workspace name, `{agent}-{repo}-{branch}` sanitized to the workspace
/// name rules (`[a-z][a-z0-9-]*`, at most 63 characters; a name that would not
/// start with a letter gets an `a-` prefix; a long one is cut, keeping the end of
/// the branch distinct by a short hash).
pub fn session_name(agent: &str, repo: Option<&str>, branch: &str) -> String {
    let pieces: Vec<String> = [Some(agent), repo, Some(branch)]
        .into_iter()
        .flatten()
        .map(sanitize_piece)
        .filter(|p| !p.is_empty())
        .collect();
    let mut name = pieces.join("-");
    if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
        name = format!("a-{name}");
    }
    let max = super::naming::MAX_NAME_LEN;
    if name.len() > max {
        let hash = super::profiles::files_hash([("n", name.as_str())]);
        let keep = max - 9;
        name = format!("{}-{}", name[..keep].trim_end_matches('-'), &hash[..8]);
    }
    name
}

/// `argv` run with the agent's keys in its environment: a `sh -c` wrapper reads
/// each secret file at launch (the command line names only paths; a missing file
/// leaves its variable unset). Runs inside the workspace.
pub fn with_secret_env(secret_env: &BTreeMap<String, String>, argv: &[String]) -> Vec<String> {
    let mut script = String::new();
    for (var, secret) in secret_env {
        let path = format!("{}/{secret}", super::secrets::DIR);
        script.push_str(&format!(
            "if [ -r '{path}' ]; then {var}=\"$(cat '{path}')\"; export {var}; fi; "
        ));
    }
    script.push_str("exec \"$@\"");
    let mut out = vec!["sh".to_string(), "-c".into(), script, "berth-agent".into()];
    out.extend(argv.iter().cloned());
    out
}

/// An agent session, as its workspace's labels say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentSession {
    /// The workspace's name.
    pub name: String,
    pub agent: String,
    /// The host repository (None: a session without one).
    pub repo: Option<String>,
    pub branch: String,
    pub base: String,
    pub base_commit: String,
    /// The clone inside the workspace.
    pub clone: String,
    /// True for `berth agent run` (removed when the agent exits).
    pub ephemeral: bool,
    pub no_push: bool,
}

impl AgentSession {
    /// The session a workspace's labels describe (None: not an agent session).
    pub fn from_labels(name: &str, l: &BTreeMap<String, String>) -> Option<Self> {
        let agent = l.get(LABEL_AGENT)?.clone();
        let get = |k: &str| l.get(k).cloned().unwrap_or_default();
        Some(Self {
            name: name.into(),
            agent,
            repo: l.get(LABEL_REPO).filter(|r| !r.is_empty()).cloned(),
            branch: get(LABEL_BRANCH),
            base: get(LABEL_BASE),
            base_commit: get(LABEL_BASE_COMMIT),
            clone: get(LABEL_CLONE),
            ephemeral: l.get(LABEL_MODE).is_some_and(|m| m == "run"),
            no_push: l.get(LABEL_NO_PUSH).is_some_and(|v| v == "true"),
        })
    }

    /// The labels that describe this session (added to the workspace's own).
    pub fn labels(&self) -> BTreeMap<String, String> {
        let mut l = BTreeMap::new();
        l.insert(LABEL_AGENT.into(), self.agent.clone());
        l.insert(LABEL_REPO.into(), self.repo.clone().unwrap_or_default());
        l.insert(LABEL_BRANCH.into(), self.branch.clone());
        l.insert(LABEL_BASE.into(), self.base.clone());
        l.insert(LABEL_BASE_COMMIT.into(), self.base_commit.clone());
        l.insert(LABEL_CLONE.into(), self.clone.clone());
        l.insert(
            LABEL_MODE.into(),
            if self.ephemeral { "run" } else { "launch" }.into(),
        );
        l.insert(LABEL_NO_PUSH.into(), self.no_push.to_string());
        l
    }
}

/// Are these labels berth's own (so a user's `[labels]` cannot set them)?
pub fn is_agent_label(key: &str) -> bool {
    key == LABEL_AGENT || key.starts_with("dev.berth.agent.")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::naming::WorkspaceName;
    use proptest::prelude::*;

    #[test]
    fn built_ins_have_commands_and_a_key() {
        let all = built_in();
        let names: Vec<&str> = all.iter().map(|a| a.name.as_str()).collect();
        assert_eq!(names, ["claude", "codex", "copilot", "gemini"]);
        for a in &all {
            assert!(!a.command.is_empty() && a.prompt.len() >= 2, "{}", a.name);
            assert_eq!(a.secret_env.len(), 1);
        }
    }

    #[test]
    fn session_names_follow_the_workspace_rules() {
        assert_eq!(
            session_name("claude", Some("My_Repo"), "claude/session-1"),
            "claude-my-repo-claude-session-1"
        );
        assert_eq!(session_name("codex", None, "x"), "codex-x");
        assert_eq!(session_name("9x", None, "b"), "a-9x-b");
        let long = session_name("claude", Some(&"r".repeat(80)), "feature/thing");
        assert!(long.len() <= 63);
        WorkspaceName::parse(&long).unwrap();
        assert_ne!(
            long,
            session_name("claude", Some(&"r".repeat(80)), "feature/other")
        );
    }

    #[test]
    fn labels_round_trip() {
        let s = AgentSession {
            name: "claude-r-b".into(),
            agent: "claude".into(),
            repo: Some("/src/r".into()),
            branch: "claude/session-1".into(),
            base: "main".into(),
            base_commit: "abc".into(),
            clone: "/home/workspace/r".into(),
            ephemeral: true,
            no_push: false,
        };
        assert_eq!(
            AgentSession::from_labels("claude-r-b", &s.labels()),
            Some(s)
        );
        assert_eq!(AgentSession::from_labels("x", &BTreeMap::new()), None);
    }

    #[test]
    fn the_secret_wrapper_names_paths_only() {
        let env: BTreeMap<String, String> = [("API_KEY".into(), "my-key".into())].into();
        let argv = with_secret_env(&env, &["claude".into(), "-p".into(), "hi there".into()]);
        assert_eq!(&argv[..2], ["sh", "-c"]);
        assert!(argv[2].contains("/run/berth/secrets/my-key"));
        assert_eq!(&argv[3..], ["berth-agent", "claude", "-p", "hi there"]);
    }

    proptest! {
        #[test]
        fn any_session_name_is_a_workspace_name(
            a in "[A-Za-z0-9_./-]{1,30}",
            r in proptest::option::of("[A-Za-z0-9_./ -]{0,70}"),
            b in "[A-Za-z0-9_./-]{1,70}",
        ) {
            let n = session_name(&a, r.as_deref(), &b);
            prop_assert!(WorkspaceName::parse(&n).is_ok(), "{n}");
        }
    }
}
