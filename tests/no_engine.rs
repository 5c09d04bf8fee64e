//! With no engine reachable every command says so in one sentence and exits non-zero.
mod common;
use common::*;

#[test]
fn every_command_explains_a_missing_engine() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[&[&str]] = &[
        &["list"],
        &["list", "--json"],
        &["status", "x"],
        &["create", "x"],
        &["start", "x"],
        &["stop", "x"],
        &["restart", "x"],
        &["delete", "x", "--yes"],
        &["exec", "x", "--", "true"],
        &["ssh", "x"],
        &["ssh-config"],
        &["logs", "x"],
        &["net", "ls"],
        &["net", "create", "n"],
        &["net", "rm", "n"],
        &["service", "ls", "x"],
        &["service", "add", "x", "db", "--image", "img"],
        &["service", "rm", "x", "db", "--yes"],
        &["image", "build"],
        &["image", "present"],
        &[],
    ];
    for endpoint in ["unix:///nonexistent/docker.sock", "tcp://127.0.0.1:1"] {
        for args in cases {
            let o = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
                .args(*args)
                .env("DOCKER_HOST", endpoint)
                .env("HOME", dir.path())
                .env("XDG_CONFIG_HOME", dir.path().join("c"))
                .env("XDG_STATE_HOME", dir.path().join("s"))
                .stdin(std::process::Stdio::null())
                .output()
                .unwrap();
            let err = stderr(&o);
            assert_ne!(o.status.code(), Some(0), "{args:?}");
            assert!(
                err.contains("cannot reach the container engine") && err.contains("DOCKER_HOST"),
                "{args:?}: {err}"
            );
            assert_eq!(err.trim().lines().count(), 1, "{args:?}: {err}");
        }
    }
    // doctor reports it as a failed check with the fix, and exits non-zero.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_berth"))
        .args(["doctor", "--json"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("HOME", dir.path())
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["ok"], false);
    let d = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "daemon reachable")
        .unwrap();
    assert_eq!(d["status"], "fail");
    assert!(d["fix"].as_str().unwrap().contains("start"));
}

#[test]
fn doctor_passes_on_a_healthy_machine() {
    let Some(sb) = Sandbox::new("doctor", (2765, 2769)) else {
        return;
    };
    let v = sb.json(&["doctor", "--json"]);
    assert_eq!(v["ok"], true, "{v:#}");
    let names: Vec<&str> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["check"].as_str().unwrap())
        .collect();
    for want in [
        "engine installed",
        "daemon reachable",
        "permissions",
        "disk space",
        "image present",
        "image integrity",
        "free ports",
        "runtime runc",
    ] {
        assert!(names.contains(&want), "missing check {want}: {names:?}");
    }
    let human = sb.ok(&["doctor"]);
    assert!(human.contains("[ok  ] image present"), "{human}");
}
