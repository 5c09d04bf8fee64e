//! `--json` on every command that prints data, against the real engine: each prints
//! one parseable document (or one per line for logs) and nothing else on stdout.
mod common;
use common::*;

fn doc(sb: &Sandbox, args: &[&str]) -> serde_json::Value {
    sb.json(args)
}

#[test]
fn every_data_command_speaks_json() {
    let Some(sb) = Sandbox::new("json", (2945, 2949)) else {
        return;
    };
    let name = sb.name("a");
    let w = sb.create_ok(&name, &["--post-start", "echo hello-json"]);
    assert_eq!(
        (w["name"].as_str(), w["state"].as_str()),
        (Some(name.as_str()), Some("running"))
    );

    let list = doc(&sb, &["list", "--json"]);
    assert!(list.as_array().unwrap().iter().any(|x| x["name"] == name));
    assert_eq!(
        doc(&sb, &["status", &name, "--json"])["provision"]["status"],
        "ready"
    );
    assert_eq!(doc(&sb, &["stop", &name, "--json"])["state"], "stopped");
    assert_eq!(doc(&sb, &["start", &name, "--json"])["state"], "running");
    assert_eq!(doc(&sb, &["restart", &name, "--json"])["state"], "running");

    let o = sb.berth(&[
        "exec",
        &name,
        "--json",
        "--",
        "sh",
        "-c",
        "echo out; exit 3",
    ]);
    assert_eq!(o.status.code(), Some(3), "the command's status is berth's");
    let r: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        (r["returncode"].as_i64(), r["stdout"].as_str()),
        (Some(3), Some("out\n"))
    );

    let cfg = doc(&sb, &["ssh-config", "--json"]);
    // (Other workspaces on this engine get their files too.)
    let mine = format!("berth-{name}.conf");
    assert!(
        cfg["files"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f.as_str().unwrap().ends_with(&mine)),
        "{cfg}"
    );

    // Logs: one object per line.
    let o = sb.berth(&["logs", &name, "--json", "--timestamps"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let lines: Vec<serde_json::Value> = stdout(&o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect();
    assert!(!lines.is_empty());
    assert!(lines
        .iter()
        .all(|l| l["stream"].is_string() && l["ts"].is_string()));

    assert_eq!(doc(&sb, &["config", "path", "--json"])["exists"], true);
    assert!(doc(&sb, &["config", "show", "--json"])["ssh"]["port_range"] == "2945-2949");
    let img = doc(&sb, &["image", "present", "--json"]);
    assert_eq!(img["present"], true);
    let dr = sb.berth(&["doctor", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&dr.stdout).unwrap();
    assert!(d["checks"].is_array());

    let del = doc(&sb, &["delete", &name, "--yes", "--json"]);
    assert_eq!(del["name"], name);
    assert_eq!(del["volume"], format!("workspace-{name}"));
    assert_eq!(del["volume_kept"], false);
}
