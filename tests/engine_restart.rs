//! Workspaces, their data and their ports survive a dockerd restart.
//! Restarts the engine, so scripts/test.sh runs it alone, after everything else.
mod common;
use common::*;

#[test]
#[ignore = "restarts dockerd; scripts/test.sh runs it alone with --ignored"]
fn data_and_port_survive_a_dockerd_restart() {
    let Some(sb) = Sandbox::new("dockerd", (2760, 2764)) else {
        return;
    };
    let name = sb.name("a");
    let port = sb.create_ok(&name, &[])["ssh_port"].clone();
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo survived > ~/data.txt",
    ]);
    let pinned = std::fs::read_to_string(
        sb.state_dir()
            .join("known_hosts.d")
            .join(format!("berth-{name}")),
    )
    .unwrap();

    let script = repo_root().join("scripts/engine.sh");
    let o = std::process::Command::new("bash")
        .arg(&script)
        .arg("restart")
        .output()
        .unwrap();
    assert!(o.status.success(), "engine restart failed: {}", stderr(&o));

    // The workspace comes back by itself (restart policy), on the same port, with its data.
    let mut st = serde_json::Value::Null;
    for _ in 0..100 {
        let o = sb.berth(&["status", &name, "--json"]);
        if o.status.success() {
            st = serde_json::from_slice(&o.stdout).unwrap();
            if st["state"] == "running" {
                break;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(st["state"], "running", "{st}");
    assert_eq!(st["ssh_port"], port);
    sb.ok(&["start", &name]); // waits for sshd
    assert_eq!(
        sb.ok(&["exec", &name, "--", "cat", "/home/workspace/data.txt"]),
        "survived\n"
    );
    let o = sb.berth(&["ssh", &name, "--", "cat ~/data.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "survived\n");
    let again = std::fs::read_to_string(
        sb.state_dir()
            .join("known_hosts.d")
            .join(format!("berth-{name}")),
    )
    .unwrap();
    assert_eq!(again, pinned);
}
