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

#[path = "common/tmux.rs"]
mod tmux;

#[test]
#[ignore = "stops dockerd; scripts/test.sh runs it alone with --ignored"]
fn tui_survives_the_engine_going_away_and_resyncs() {
    let Some(sb) = Sandbox::new("tuidown", (2795, 2799)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let t = tmux::Tmux::start("down", 120, 30, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["/"]);
    t.text(&name);
    t.keys(&["Enter"]);
    t.wait_for("the workspace listed", 20, |s| {
        tmux::list_row(s, &name).is_some_and(|r| r.contains("running"))
    });

    let script = repo_root().join("scripts/engine.sh");
    let o = std::process::Command::new("bash")
        .arg(&script)
        .arg("kill")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let s = t.wait_for("the banner", 30, |s| s.contains("ENGINE DOWN"));
    assert!(
        s.contains(&name),
        "the last known list stays on screen:\n{s}"
    );
    // Still responsive while the engine is away.
    t.keys(&["?"]);
    t.wait_for("help while down", 5, |s| s.contains("global keys"));
    t.keys(&["Escape"]);
    // Bring the engine back: the banner goes and the list resyncs from the engine.
    let o = std::process::Command::new("bash")
        .arg(&script)
        .arg("start")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    t.wait_for("the banner gone and the list back", 60, |s| {
        !s.contains("ENGINE DOWN")
            && tmux::list_row(s, &name).is_some_and(|r| r.contains("running"))
    });
    // Changes after the reconnect arrive through the events stream again.
    sb.ok(&["stop", &name]);
    t.wait_for("the stop seen live", 30, |s| {
        tmux::list_row(s, &name).is_some_and(|r| r.contains("stopped"))
    });
    t.keys(&["q"]);
    t.wait_for("a clean exit", 10, |s| s.contains("berth-exit=0"));
}
