//! The SSH port allocator against the real engine and real host sockets.
mod common;
use common::*;
use std::collections::BTreeSet;

#[test]
fn busy_host_ports_are_skipped_and_exhaustion_is_explained() {
    let Some(sb) = Sandbox::new("busy", (2690, 2692)) else {
        return;
    };
    // Something else on the host holds the lowest port.
    let _held = std::net::TcpListener::bind(("127.0.0.1", 2690)).expect("bind 2690 for the test");
    let a = sb.name("a");
    assert_eq!(sb.create_ok(&a, &[])["ssh_port"], 2691);
    let b = sb.name("b");
    assert_eq!(sb.create_ok(&b, &[])["ssh_port"], 2692);
    // Range exhausted: a clear error naming the range and the setting; nothing created.
    let c = sb.name("c");
    let o = sb.create(&c, &[]);
    assert_eq!(o.status.code(), Some(1));
    let err = stderr(&o);
    assert!(
        err.contains("2690-2692") && err.contains("ssh.port_range"),
        "{err}"
    );
    assert!(!sb.container_exists(&c) && !sb.volume_exists(&c));
    // doctor agrees.
    let d = sb.berth(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&d.stdout).unwrap();
    let ports = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "free ports")
        .unwrap();
    assert_eq!(ports["status"], "fail");
    assert!(ports["fix"].as_str().unwrap().contains("ssh.port_range"));
}

#[test]
fn stopped_workspaces_keep_their_port_and_engine_refusal_is_retried() {
    let Some(sb) = Sandbox::new("refuse", (2693, 2697)) else {
        return;
    };
    let a = sb.name("a");
    assert_eq!(sb.create_ok(&a, &[])["ssh_port"], 2693);
    // Stopped: its port is no longer bound on the host, yet it stays the workspace's,
    // even for a berth with a separate store.
    sb.ok(&["stop", &a]);
    let other = Sandbox::new("refuse2", (2693, 2697)).unwrap();
    let b = other.name("b");
    assert_eq!(other.create_ok(&b, &[])["ssh_port"], 2694);
    sb.ok(&["start", &a]);
    assert_eq!(sb.json(&["status", &a, "--json"])["ssh_port"], 2693);

    // A port published by a non-berth container that berth's host probe does not see
    // (probe disabled): the engine refuses it at start and berth moves to the next one.
    let blocker = format!("blocker-{}", sb.case);
    let label = format!("berth.test-case={}", sb.case);
    let o = docker(&[
        "run",
        "-d",
        "--name",
        &blocker,
        "--label",
        &label,
        "-p",
        "127.0.0.1:2695:2222",
        "berth/workspace:latest",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let c = sb.name("c");
    let key = format!("{}.pub", sb.key().display());
    let o = sb
        .cmd(&["create", &c, "--ssh-key", &key, "--json"])
        .env("BERTH_DEBUG_NO_HOST_PROBE", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("refused port 2695"), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ssh_port"], 2696);
}

#[test]
fn thirty_concurrent_creates_from_many_processes_get_distinct_ports() {
    let Some(sb) = Sandbox::new("conc", (2700, 2759)) else {
        return;
    };
    let names: Vec<String> = (0..30).map(|i| sb.name(&format!("w{i:02}"))).collect();
    let key = format!("{}.pub", sb.key().display());
    let started = std::time::Instant::now();
    let children: Vec<_> = names
        .iter()
        .map(|n| {
            sb.cmd(&["create", n, "--ssh-key", &key, "--json"])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn berth create")
        })
        .collect();
    let mut ports = BTreeSet::new();
    for (n, c) in names.iter().zip(children) {
        let o = c.wait_with_output().unwrap();
        assert!(o.status.success(), "create {n} failed: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        let p = v["ssh_port"].as_u64().unwrap() as u16;
        assert!((2700..=2759).contains(&p), "{p} out of range");
        assert!(ports.insert(p), "port {p} handed out twice");
    }
    eprintln!(
        "BENCH 30 concurrent creates (30 processes): {:.1}s",
        started.elapsed().as_secs_f64()
    );
    assert_eq!(ports.len(), 30);
    // Each answers SSH on its own port.
    let list = sb.json(&["list", "--json"]);
    let mine: Vec<_> = list
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| names.contains(&w["name"].as_str().unwrap().to_string()))
        .collect();
    assert_eq!(mine.len(), 30);
    assert!(mine.iter().all(|w| w["state"] == "running"));
    // Concurrent deletes free everything.
    let children: Vec<_> = names
        .iter()
        .map(|n| sb.cmd(&["delete", n, "--yes"]).spawn().unwrap())
        .collect();
    for c in children {
        assert!(c.wait_with_output().unwrap().status.success());
    }
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
}
