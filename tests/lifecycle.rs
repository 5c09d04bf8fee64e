//! create / list / status / stop / start / restart / delete against the real engine.
mod common;
use common::*;

#[test]
fn full_lifecycle_keeps_data_and_port_until_delete() {
    let Some(sb) = Sandbox::new("life", (2600, 2609)) else {
        return;
    };
    let name = sb.name("a");
    let created = sb.create_ok(&name, &[]);
    assert_eq!(created["name"], name.as_str());
    assert_eq!(created["state"], "running");
    assert_eq!(created["ssh_port"], 2600);
    assert_eq!(created["reused"], false);

    // The container is hardened as promised.
    let c = format!("workspace-{name}");
    let hc = stdout(&docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig.CapDrop}} {{json .HostConfig.SecurityOpt}} {{.HostConfig.Memory}} {{.HostConfig.PidsLimit}} {{(index (index .HostConfig.PortBindings \"2222/tcp\") 0).HostIp}}",
        &c,
    ]));
    assert_eq!(
        hc.trim(),
        format!(
            "[\"ALL\"] [\"no-new-privileges:true\"] {} 256 127.0.0.1",
            4u64 << 30
        )
    );
    let labels = stdout(&docker(&["inspect", "-f", "{{json .Config.Labels}}", &c]));
    let labels: serde_json::Value = serde_json::from_str(&labels).unwrap();
    assert_eq!(labels["dev.berth.role"], "workspace");
    assert_eq!(labels["dev.berth.name"], name.as_str());
    assert_eq!(labels["dev.berth.ssh-port"], "2600");
    assert_eq!(labels["dev.berth.profile"], "general");
    assert!(labels["dev.berth.version"].is_string());
    let vlabels = stdout(&docker(&[
        "volume",
        "inspect",
        "-f",
        "{{json .Labels}}",
        &c,
    ]));
    assert!(
        vlabels.contains("\"dev.berth.role\":\"workspace\""),
        "{vlabels}"
    );

    // list and status, human and JSON.
    let list = sb.json(&["list", "--json"]);
    let me = list
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name.as_str())
        .expect("in list");
    assert_eq!(me["state"], "running");
    assert_eq!(me["ssh_port"], 2600);
    let table = sb.ok(&["list"]);
    assert!(
        table.starts_with("NAME") && table.contains(&name),
        "{table}"
    );
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(st["volume"], c.as_str());
    assert_eq!(st["image"], "berth/workspace:latest");
    assert!(st["uptime_secs"].as_i64().unwrap() >= 0);
    assert!(st["created"].as_i64().unwrap() > 1_700_000_000);
    let human = sb.ok(&["status", &name]);
    assert!(
        human.contains("ssh port   2600") && human.contains("memory     4g"),
        "{human}"
    );

    // Data in /home/workspace survives stop/start and restart.
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo precious > /home/workspace/data.txt",
    ]);
    sb.ok(&["stop", &name]);
    assert_eq!(sb.json(&["status", &name, "--json"])["state"], "stopped");
    assert!(sb.json(&["status", &name, "--json"])["uptime_secs"].is_null());
    sb.ok(&["start", &name]);
    assert_eq!(
        sb.ok(&["exec", &name, "--", "cat", "/home/workspace/data.txt"]),
        "precious\n"
    );
    sb.ok(&["restart", &name]);
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(
        (st["state"].as_str(), st["ssh_port"].as_u64()),
        (Some("running"), Some(2600))
    );
    assert_eq!(
        sb.ok(&["exec", &name, "--", "cat", "/home/workspace/data.txt"]),
        "precious\n"
    );

    // A second workspace takes the next port; deleting the first frees its port.
    let other = sb.name("b");
    assert_eq!(sb.create_ok(&other, &[])["ssh_port"], 2601);
    let out = sb.ok(&["delete", &name, "--yes"]);
    assert!(out.contains("removed volume"), "{out}");
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
    assert!(!sb
        .state_dir()
        .join("known_hosts.d")
        .join(format!("berth-{name}"))
        .exists());
    let again = sb.name("c");
    assert_eq!(sb.create_ok(&again, &[])["ssh_port"], 2600);

    // Creating over an existing name is refused and touches nothing.
    let o = sb.create(&other, &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("already exists"), "{}", stderr(&o));
    assert!(sb.container_exists(&other));
}

#[test]
fn delete_asks_and_can_keep_the_volume() {
    let Some(sb) = Sandbox::new("del", (2610, 2619)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    sb.ok(&["exec", &name, "--", "sh", "-c", "echo kept > ~/notes.txt"]);

    // No --yes and no answer: refused, nothing removed.
    let o = sb.berth(&["delete", &name]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("--yes")
            && stderr(&o).contains("everything in /home/workspace is lost"),
        "{}",
        stderr(&o)
    );
    assert!(sb.container_exists(&name) && sb.volume_exists(&name));

    // Answering "no" keeps everything.
    let mut c = sb.cmd(&["delete", &name]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"no\n").unwrap();
    assert!(!child.wait_with_output().unwrap().status.success());
    assert!(sb.container_exists(&name));

    // --keep-volume: the container goes, the volume and its data stay, and a new create reuses them.
    let mut c = sb.cmd(&["delete", &name, "--keep-volume"]);
    c.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(b"yes\n").unwrap();
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("kept volume"), "{}", stdout(&o));
    assert!(!sb.container_exists(&name) && sb.volume_exists(&name));
    let o = sb.create(&name, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("reusing the existing volume"),
        "{}",
        stderr(&o)
    );
    assert_eq!(
        sb.ok(&["exec", &name, "--", "cat", "/home/workspace/notes.txt"]),
        "kept\n"
    );

    // A failing create on a kept volume never removes that volume.
    sb.ok(&["delete", &name, "--yes", "--keep-volume"]);
    let o = sb.create(&name, &["--post-start", "exit 3"]);
    assert!(!o.status.success());
    assert!(
        sb.volume_exists(&name),
        "a failed create removed a volume it did not create"
    );
    assert!(!sb.container_exists(&name));

    // delete of a kept volume alone removes it (after --yes).
    sb.ok(&["delete", &name, "--yes"]);
    assert!(!sb.volume_exists(&name));
    let o = sb.berth(&["delete", &name, "--yes"]);
    assert!(
        !o.status.success() && stderr(&o).contains("no workspace named"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn logs_show_the_workspace_output() {
    let Some(sb) = Sandbox::new("logs", (2770, 2774)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    // sshd logs to stderr, and berth keeps the streams apart like the engine does.
    let o = sb.berth(&["logs", &name, "--tail", "50"]);
    assert!(o.status.success());
    assert!(
        stderr(&o).contains("Server listening on 0.0.0.0 port 2222"),
        "{}",
        stderr(&o)
    );
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo to-pid1-stdout > /proc/1/fd/1",
    ]);
    let o = sb.berth(&["logs", &name, "--tail", "1"]);
    assert_eq!(stdout(&o), "to-pid1-stdout\n");
    let ts = stderr(&sb.berth(&["logs", &name, "--timestamps"]));
    let first = ts.lines().next().unwrap_or_default();
    assert!(
        first.len() > 30 && first.as_bytes()[4] == b'-' && first.contains('T'),
        "{first}"
    );
    // -f follows new output until stopped.
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_berth"));
    c.args(["logs", &name, "-f", "--tail", "0"])
        .stderr(std::process::Stdio::piped());
    sb.env(&mut c);
    let mut child = c.spawn().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(500));
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo followed-line > /proc/1/fd/2",
    ]);
    std::thread::sleep(std::time::Duration::from_millis(800));
    let _ = child.kill();
    let o = child.wait_with_output().unwrap();
    assert!(
        stderr(&o).contains("followed-line"),
        "follow saw: {}",
        stderr(&o)
    );
}
