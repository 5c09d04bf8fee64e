//! A workspace under gVisor (runtime = "runsc"), SSH through its published port.
mod common;
use common::*;

#[test]
fn workspace_runs_under_gvisor_when_configured() {
    let Some(sb) = Sandbox::with_config("gvisor", (2815, 2819), "") else {
        return;
    };
    let runtimes = stdout(&docker(&["info", "--format", "{{json .Runtimes}}"]));
    if !runtimes.contains("\"runsc\"") {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(!ci, "runsc is not registered with dockerd; scripts/engine.sh ensure installs and registers it");
        eprintln!(
            "\n!!!!!!!! SKIPPED gVisor test: runsc is not registered with this engine !!!!!!!!\n"
        );
        return;
    }
    // Top-level keys go before the tables of the generated config.
    let text = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(sb.config_file(), format!("runtime = \"runsc\"\n{text}")).unwrap();
    let name = sb.name("a");
    // A passed-through value reaches the workspace's shells under gVisor too (its
    // tmpfs: `stat` there fails with EINVAL on this machine, reading works).
    let key = format!("{}.pub", sb.key().display());
    let o = sb
        .cmd(&[
            "create",
            &name,
            "--ssh-key",
            &key,
            "--json",
            "--post-start",
            "echo under-gvisor > ~/where.txt",
        ])
        .env("GV_API_KEY", "gvisor-passed-value")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let w: serde_json::Value = serde_json::from_str(&stdout(&o)).unwrap();
    assert_eq!(w["runtime"], "runsc");
    let seen = sb.ok(&["exec", &name, "--", "sh", "-c", "echo $GV_API_KEY"]);
    assert_eq!(seen, "gvisor-passed-value\n");
    let o = sb.berth(&["ssh", &name, "--", "echo $GV_API_KEY"]);
    assert_eq!(stdout(&o), "gvisor-passed-value\n", "{}", stderr(&o));
    // Provisioning finished is recorded the same way under gVisor (through the
    // engine, not the runtime), also for a berth with another store.
    assert_eq!(w["state"], "running", "{w}");
    assert_eq!(w["provision"]["status"], "ready", "{w}");
    sb.ok(&["stop", &name]);
    std::fs::remove_dir_all(sb.state_dir()).unwrap();
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(st["provision"]["status"], "ready", "{st}");
    sb.ok(&["start", &name]);
    let runtime = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.HostConfig.Runtime}}",
        &format!("workspace-{name}"),
    ]));
    assert_eq!(runtime.trim(), "runsc");
    let o = sb.berth(&["ssh", &name, "--", "dmesg | head -1; cat ~/where.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = stdout(&o);
    assert!(
        out.contains("gVisor") && out.contains("under-gvisor"),
        "{out}"
    );
    sb.ok(&["delete", &name, "--yes"]);
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
}
