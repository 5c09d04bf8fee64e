use super::*;
use crate::domain::agents::built_in;
use proptest::prelude::*;

fn server(secret: bool) -> McpServer {
    McpServer {
        name: "files".into(),
        command: vec!["/usr/bin/mcp-files".into(), "--root".into(), "/w".into()],
        env: [("MODE".to_string(), "ro".to_string())].into(),
        secret_env: if secret {
            [("FILES_TOKEN".to_string(), "files-token".to_string())].into()
        } else {
            BTreeMap::new()
        },
    }
}

fn agent(format: McpFormat) -> AgentDef {
    let mut a = built_in().remove(0);
    a.mcp_format = Some(format);
    a.mcp_servers = vec![server(true)];
    a
}

#[test]
fn secret_names_are_the_keys_and_the_servers_secrets() {
    let a = agent(McpFormat::Claude);
    assert_eq!(secret_names(&a), ["anthropic-api-key", "files-token"]);
}

#[test]
fn each_format_has_its_file() {
    let path = |f| config_path(&agent(f)).unwrap().unwrap();
    assert_eq!(path(McpFormat::Claude), ".claude.json");
    assert_eq!(path(McpFormat::Codex), ".codex/config.toml");
    assert_eq!(path(McpFormat::Gemini), ".gemini/settings.json");
    assert_eq!(path(McpFormat::Copilot), ".copilot/mcp-config.json");
    let mut j = agent(McpFormat::Json);
    assert!(config_path(&j).unwrap_err().contains("mcp_path"));
    j.mcp_path = Some(".config/x/mcp.json".into());
    assert_eq!(config_path(&j).unwrap().unwrap(), ".config/x/mcp.json");
    for bad in ["/etc/x", "../x", "a//b", ""] {
        j.mcp_path = Some(bad.into());
        assert!(config_path(&j).is_err(), "{bad}");
    }
    let mut none = agent(McpFormat::Claude);
    none.mcp_format = None;
    assert_eq!(config_path(&none), Ok(None));
}

#[test]
fn a_server_with_secrets_is_wrapped_and_its_variable_never_written() {
    let mut s = server(true);
    s.env
        .insert("FILES_TOKEN".into(), "plain-would-be-wrong".into());
    let (e, w) = entries(&[
        s,
        McpServer {
            command: vec![],
            ..server(false)
        },
    ]);
    assert_eq!(w.len(), 1);
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].command, "sh");
    assert!(e[0].args[1].contains("/run/berth/secrets/files-token"));
    assert_eq!(&e[0].args[3..], ["/usr/bin/mcp-files", "--root", "/w"]);
    assert!(!e[0].env.contains_key("FILES_TOKEN"));
    let (plain, _) = entries(&[server(false)]);
    assert_eq!(plain[0].command, "/usr/bin/mcp-files");
}

#[test]
fn json_formats_merge_into_the_existing_file() {
    let (e, _) = entries(&[server(false)]);
    let existing = r#"{"theme": "dark", "mcpServers": {"other": {"command": "x"}}}"#;
    for f in [
        McpFormat::Claude,
        McpFormat::Gemini,
        McpFormat::Copilot,
        McpFormat::Json,
    ] {
        let out = merge(f, Some(existing), &e).unwrap();
        let v: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["theme"], "dark");
        assert_eq!(v["mcpServers"]["other"]["command"], "x");
        assert_eq!(v["mcpServers"]["files"]["command"], "/usr/bin/mcp-files");
        assert_eq!(v["mcpServers"]["files"]["args"], json!(["--root", "/w"]));
        assert_eq!(v["mcpServers"]["files"]["env"]["MODE"], "ro");
    }
    let claude: Value = serde_json::from_str(&merge(McpFormat::Claude, None, &e).unwrap()).unwrap();
    assert_eq!(claude["mcpServers"]["files"]["type"], "stdio");
    assert!(merge(McpFormat::Claude, Some("[1]"), &e).is_err());
    assert!(merge(McpFormat::Claude, Some("{oops"), &e)
        .unwrap_err()
        .contains("not valid JSON"));
}

#[test]
fn codex_gets_mcp_servers_tables_merged_into_its_toml() {
    let (e, _) = entries(&[server(true)]);
    let existing = "model = \"o4\"\n[mcp_servers.other]\ncommand = \"x\"\n";
    let out = merge(McpFormat::Codex, Some(existing), &e).unwrap();
    let t: toml::Table = out.parse().unwrap();
    assert_eq!(t["model"].as_str(), Some("o4"));
    assert_eq!(t["mcp_servers"]["other"]["command"].as_str(), Some("x"));
    assert_eq!(t["mcp_servers"]["files"]["command"].as_str(), Some("sh"));
    assert_eq!(
        t["mcp_servers"]["files"]["env"]["MODE"].as_str(),
        Some("ro")
    );
    assert!(merge(McpFormat::Codex, Some("= nope"), &e).is_err());
}

proptest! {
    /// Whatever the servers and their secrets' names, a value never appears: the
    /// renderer only ever gets names, and a secret's variable is never set in the
    /// file (only the wrapper reading the secret file sets it).
    #[test]
    fn no_secret_value_can_appear(
        vars in proptest::collection::btree_map("[A-Z][A-Z_]{0,8}", "[a-z][a-z0-9-]{0,10}", 1..4),
        value in "VALUE-[A-Za-z0-9]{12}",
        plain in proptest::collection::btree_map("[A-Z][A-Z_]{0,8}", "[a-z]{0,6}", 0..3),
        fmt in 0usize..5,
    ) {
        let format = [McpFormat::Claude, McpFormat::Codex, McpFormat::Gemini, McpFormat::Copilot, McpFormat::Json][fmt];
        let s = McpServer {
            name: "srv".into(),
            command: vec!["run-it".into()],
            env: plain,
            secret_env: vars.clone(),
        };
        let (e, _) = entries(&[s]);
        let out = merge(format, None, &e).unwrap();
        prop_assert!(!out.contains(&value));
        for (var, secret) in &vars {
            prop_assert!(!e[0].env.contains_key(var));
            let path = format!("/run/berth/secrets/{secret}");
            prop_assert!(e[0].args.iter().any(|a| a.contains(&path)));
        }
    }
}
