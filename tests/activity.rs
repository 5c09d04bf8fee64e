//! Activity and TTL against the real engine: why a workspace counts as alive (an
//! ssh session, a background process, CPU), uses recorded by exec, and the TTL
//! from create --ttl and berth ttl.
mod common;
use common::*;
use serde_json::Value;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

fn kinds(status: &Value) -> Vec<String> {
    status["alive_because"]
        .as_array()
        .unwrap_or_else(|| panic!("no alive_because in {status}"))
        .iter()
        .map(|r| r["kind"].as_str().unwrap().to_string())
        .collect()
}

/// Polls `berth status --json` until `want` holds (a deadline for failing, not a
/// timed assertion).
fn status_until(sb: &Sandbox, name: &str, what: &str, want: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = sb.json(&["status", name, "--json"]);
        if want(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what} never showed: {s}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Stops a child we started (timeout(1) relays SIGTERM to what it runs) by its PID.
fn stop(mut child: Child) {
    let st = std::process::Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let _ = child.wait();
}

#[test]
fn activity_reasons_uses_and_ttl_on_a_real_workspace() {
    let Some(sb) = Sandbox::new("activity", (3200, 3219)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &["--ttl", "1h"]);

    // Fresh: idle, last used at its create, the deadline one hour after that.
    let s = sb.json(&["status", &name, "--json"]);
    assert_eq!(kinds(&s), Vec::<String>::new(), "{s}");
    assert_eq!(s["ttl"], "1h");
    assert_eq!(s["ttl_source"], "create");
    let created_use = s["last_used_at"].as_i64().expect("a recorded use");
    assert_eq!(s["kill_after_at"].as_i64(), Some(created_use + 3600));
    let text = sb.ok(&["status", &name]);
    assert!(text.contains("idle: nothing counts as alive"), "{text}");

    // berth exec bumps the last use (a second apart: times are whole seconds).
    std::thread::sleep(Duration::from_millis(1100));
    sb.ok(&["exec", &name, "--", "true"]);
    let s = sb.json(&["status", &name, "--json"]);
    let exec_use = s["last_used_at"].as_i64().unwrap();
    assert!(exec_use > created_use, "{s}");
    assert_eq!(s["kill_after_at"].as_i64(), Some(exec_use + 3600));

    // A live ssh session: an ssh reason naming it, and not idle.
    let mut c = sb.cmd(&["ssh", &name, "--", "sleep", "120"]);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let ssh = c.spawn().expect("berth ssh");
    let s = status_until(&sb, &name, "the ssh session", |s| {
        kinds(s).contains(&"ssh-sessions".to_string())
    });
    let session = &s["alive_because"][0]["sessions"][0];
    assert!(session.as_str().unwrap().starts_with("notty"), "{session}");
    // The session's command is the session's, not a process beyond the baseline.
    assert!(!kinds(&s).contains(&"processes".to_string()), "{s}");
    let text = sb.ok(&["status", &name]);
    assert!(text.contains("1 ssh session (notty"), "{text}");
    stop(ssh);
    status_until(&sb, &name, "the end of the ssh session", |s| {
        !kinds(s).contains(&"ssh-sessions".to_string())
    });

    // A background process outlives its exec and keeps the workspace alive.
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "nohup sleep 1000 >/dev/null 2>&1 &",
    ]);
    let s = status_until(&sb, &name, "the background process", |s| {
        kinds(s).contains(&"processes".to_string())
    });
    let procs = s["alive_because"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == "processes")
        .unwrap()["processes"]
        .to_string();
    assert!(procs.contains("sleep 1000"), "{procs}");

    // A busy loop is CPU above the threshold.
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "nohup sh -c 'while :; do :; done' >/dev/null 2>&1 &",
    ]);
    status_until(&sb, &name, "CPU use", |s| {
        kinds(s).contains(&"cpu".to_string())
    });
    sb.ok(&["exec", &name, "--", "pkill", "-f", "while :"]);

    // berth ttl changes it later; never clears the deadline.
    let t = sb.json(&["ttl", &name, "never", "--json"]);
    assert_eq!(t["ttl"], "never");
    let s = sb.json(&["status", &name, "--json"]);
    assert_eq!(s["ttl"], "never");
    assert_eq!(s["ttl_source"], "set");
    assert!(s["kill_after_at"].is_null(), "{s}");
    let list = sb.json(&["list", "--json"]);
    let mine = list
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name.as_str())
        .unwrap()
        .clone();
    assert_eq!(mine["ttl"], "never");
    assert!(mine["ttl_left"].is_null());
    sb.ok(&["ttl", &name, "2d"]);
    let table = sb.ok(&["list"]);
    let row = table.lines().find(|l| l.starts_with(&name)).unwrap();
    assert!(row.contains(" 2d ") || row.contains(" 1d23h "), "{table}");

    // Bad durations are refused with the sentence, before anything is made.
    let o = sb.berth(&["ttl", &name, "soon"]);
    assert_refused(&o, "duration \"soon\" is not understood");
    let other = sb.name("b");
    let o = sb.create(&other, &["--ttl", "0h"]);
    assert_refused(&o, "--ttl: duration \"0h\" is not understood");
    assert!(!sb.container_exists(&other));
}

#[test]
fn a_stopped_workspace_is_idle_and_start_is_a_use() {
    let Some(sb) = Sandbox::new("activity-stop", (3220, 3229)) else {
        return;
    };
    let name = sb.name("s");
    sb.create_ok(&name, &[]);
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "nohup sleep 1000 >/dev/null 2>&1 &",
    ]);
    sb.ok(&["stop", &name]);
    let s = sb.json(&["status", &name, "--json"]);
    assert_eq!(kinds(&s), Vec::<String>::new(), "{s}");
    assert!(sb.ok(&["status", &name]).contains("idle: not running"));
    // No TTL anywhere: the config's default, never.
    assert_eq!(s["ttl"], "never");
    assert_eq!(s["ttl_source"], "config");
    let before = s["last_used_at"].as_i64().unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    sb.ok(&["start", &name]);
    let s = sb.json(&["status", &name, "--json"]);
    assert!(s["last_used_at"].as_i64().unwrap() > before, "{s}");
    assert!(kinds(&s).is_empty(), "the sleep went with the stop: {s}");
}
