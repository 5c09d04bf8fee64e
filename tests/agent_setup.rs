//! An agent's MCP servers inside its workspace, against the real engine
//! (`backend::agent_setup::configure` through the library): the configuration
//! file in the agent's format, merged with what was there, 0600 and the
//! workspace user's; the server's secret never in it nor in the container's
//! layer, and the wrapped command sees the value from the secret file.
mod common;
use berth::domain::agents::{built_in, AgentDef, McpFormat, McpServer};
use common::*;
use std::io::Write;
use std::process::Stdio;
use std::sync::Arc;

fn set_from_stdin(sb: &Sandbox, name: &str, ws: &str, value: &str) {
    let mut c = sb.cmd(&["secret", "set", name, "--workspace", ws]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{value}").unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
}

fn dexec(c: &str, args: &[&str]) -> String {
    let mut a = vec!["exec", "-u", "workspace", c];
    a.extend_from_slice(args);
    let o = docker(&a);
    assert!(o.status.success(), "docker exec {args:?}: {}", stderr(&o));
    stdout(&o)
}

fn agent(format: McpFormat, token: &str) -> AgentDef {
    let mut a = built_in().remove(0);
    a.name = "recorder".into();
    a.secret_env = [("AGENT_KEY".to_string(), "pf-agent-key".to_string())].into();
    a.mcp_format = Some(format);
    a.mcp_servers = vec![McpServer {
        name: "rec".into(),
        // Records what it sees (on stdout: nothing of it lands on a disk).
        command: vec![
            "sh".into(),
            "-c".into(),
            "printf 'token=%s\\n' \"$REC_TOKEN\"".into(),
        ],
        env: [("MODE".to_string(), "ro".to_string())].into(),
        secret_env: [("REC_TOKEN".to_string(), token.to_string())].into(),
    }];
    a
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mcp_servers_are_configured_without_their_secrets() {
    let Some(sb) = Sandbox::new("agentsetup", (3870, 3874)) else {
        return;
    };
    let name = sb.name("a");
    let container = format!("workspace-{name}");
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let value = format!("pf-secret-{}-{:x}", run_id(), t % 0xffff_ffff);
    let key_file = sb.dir.path().join("agent-key");
    std::fs::write(&key_file, format!("key-{value}")).unwrap();
    sb.ok(&[
        "secret",
        "set",
        "pf-agent-key",
        "--from-file",
        key_file.to_str().unwrap(),
    ]);
    sb.create_ok(&name, &["--secret", "pf-agent-key"]);
    set_from_stdin(&sb, "rec-token", &name, &value);
    // The agent's file exists already: berth merges into it.
    let mut c = std::process::Command::new("docker");
    c.args(["exec", "-i", "-u", "workspace", &container, "sh", "-c"])
        .arg("cat > /home/workspace/.claude.json")
        .stdin(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(br#"{"theme": "dark", "mcpServers": {"mine": {"command": "x"}}}"#)
        .unwrap();
    assert!(child.wait().unwrap().success());

    let paths = berth::config::Paths::under(sb.dir.path());
    let config = berth::config::Config::load(&paths.config_file).unwrap();
    let engine = berth::engine::docker::DockerEngine::connect()
        .await
        .unwrap();
    let ctx = berth::backend::Ctx::new(Arc::new(engine), config, paths);
    let wname = berth::domain::naming::WorkspaceName::parse(&name).unwrap();
    let ws = berth::backend::inventory::find(&ctx, &wname)
        .await
        .unwrap()
        .unwrap();

    let warnings =
        berth::backend::agent_setup::configure(&ctx, &ws, &agent(McpFormat::Claude, "rec-token"))
            .await
            .unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    let text = dexec(&container, &["cat", "/home/workspace/.claude.json"]);
    assert!(
        !text.contains(&value),
        "the secret is in the config: {text}"
    );
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["theme"], "dark", "{v:#}");
    assert_eq!(v["mcpServers"]["mine"]["command"], "x");
    let rec = &v["mcpServers"]["rec"];
    assert_eq!(rec["env"]["MODE"], "ro");
    assert!(rec["env"].get("REC_TOKEN").is_none(), "{rec}");
    let st = dexec(
        &container,
        &["stat", "-c", "%a %U", "/home/workspace/.claude.json"],
    );
    assert_eq!(st.trim(), "600 workspace");
    // The wrapped command, run as the agent would, sees the value.
    let mut argv = vec![rec["command"].as_str().unwrap().to_string()];
    argv.extend(
        rec["args"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a.as_str().unwrap().to_string()),
    );
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let out = dexec(&container, &argv);
    assert_eq!(out.trim(), format!("token={value}"));
    // Through berth the value is shown as its name (berth's redaction).
    let mut args = vec!["exec", name.as_str(), "--"];
    args.extend(argv);
    let out = sb.ok(&args);
    assert!(out.contains("token=[secret rec-token]"), "{out}");

    // Codex: a TOML table of its own, and a secret the workspace lacks is a warning.
    let warnings =
        berth::backend::agent_setup::configure(&ctx, &ws, &agent(McpFormat::Codex, "absent-token"))
            .await
            .unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert!(warnings[0].contains("absent-token"), "{warnings:?}");
    let toml_text = dexec(&container, &["cat", "/home/workspace/.codex/config.toml"]);
    let t: toml::Table = toml_text.parse().unwrap();
    assert_eq!(t["mcp_servers"]["rec"]["command"].as_str(), Some("sh"));

    // Nowhere on the container's layer either.
    let upper = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.GraphDriver.Data.UpperDir}}",
        &container,
    ]));
    let upper = upper.trim();
    let grep = std::process::Command::new("grep")
        .args(["-r", "-l", "-F", &value, upper])
        .output()
        .unwrap();
    assert!(
        stdout(&grep).trim().is_empty(),
        "the secret is in the container's layer: {}",
        stdout(&grep)
    );
}
