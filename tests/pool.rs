//! The warm pool against the real engine: a refill makes a slot, `berth create`
//! claims it and the claimed workspace behaves like a cold one (list/status,
//! ssh with the pinned host key, data across stop/start, exec, delete with its
//! volume); a create whose options differ goes cold and leaves the slot.
mod common;
use common::*;
use std::time::Duration;

/// Waits until the detached refill a claim started (its pid in the state dir) has
/// exited, so nothing it makes outlives the test.
fn wait_for_background_refill(sb: &Sandbox) {
    let Ok(pid) = std::fs::read_to_string(sb.state_dir().join("pool-refill.pid")) else {
        return;
    };
    let proc_dir = format!("/proc/{}", pid.trim());
    for _ in 0..1200 {
        if !std::path::Path::new(&proc_dir).exists() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!(
        "the background pool refill (pid {}) did not exit",
        pid.trim()
    );
}

fn pool_json(sb: &Sandbox) -> serde_json::Value {
    sb.json(&["pool", "--json"])[0].clone()
}

/// The fields of `list --json` that must read alike for a warm and a cold workspace.
fn comparable(v: &serde_json::Value) -> serde_json::Value {
    let mut v = v.clone();
    let o = v.as_object_mut().unwrap();
    for k in [
        "name",
        "container",
        "container_id",
        "volume",
        "ssh_port",
        "created",
        "started_at",
        "uptime_secs",
        "labels",
        // Times of its uses: the two were made seconds apart.
        "last_used_at",
        "kill_after_at",
        "ttl_left",
    ] {
        o.remove(k);
    }
    v
}

#[test]
fn a_warm_claim_becomes_a_workspace_like_a_cold_one() {
    let Some(sb) = Sandbox::with_config("pool", (3450, 3469), "\n[pool]\ngeneral = 1\n") else {
        return;
    };
    // Nothing yet; a refill makes one slot, a second does nothing.
    assert_eq!(pool_json(&sb)["ready"], 0);
    let made = sb.json(&["pool", "refill", "--json"]);
    assert_eq!(made["made"].as_array().unwrap().len(), 1, "{made}");
    let again = sb.json(&["pool", "refill", "--json"]);
    assert!(again["made"].as_array().unwrap().is_empty(), "{again}");
    let p = pool_json(&sb);
    assert_eq!(
        (
            p["profile"].as_str(),
            p["size"].as_u64(),
            p["ready"].as_u64()
        ),
        (Some("general"), Some(1), Some(1))
    );
    let slot = p["slots"][0].clone();
    let slot_container = slot["container"].as_str().unwrap().to_string();
    let slot_volume = slot["volume"].as_str().unwrap().to_string();
    assert!(slot_container.starts_with("berth-pool.general."), "{slot}");
    // A slot is nobody's workspace (the engine may hold other runs' workspaces).
    let list = sb.json(&["list", "--json"]);
    assert!(
        list.as_array()
            .unwrap()
            .iter()
            .all(|w| !w["container"].as_str().unwrap().starts_with("berth-pool.")),
        "{list}"
    );

    // A create whose options differ goes cold and leaves the slot.
    let cold_name = sb.name("cold");
    let o = sb.create(&cold_name, &["--env", "MODE=dev"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("no warm workspace matches: env MODE=dev"),
        "{}",
        stderr(&o)
    );
    assert_eq!(pool_json(&sb)["ready"], 1);

    // A plain create claims it.
    let name = sb.name("warm");
    let o = sb.create(&name, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(out.contains("created warm"), "{out}");
    assert!(
        out.contains(&format!("claimed warm workspace {slot_container}")),
        "{out}"
    );
    wait_for_background_refill(&sb);

    // Listed like a cold one: same fields, same values but its identity. The pool
    // is emptied first so this one is made cold.
    sb.ok(&["pool", "drain"]);
    let plain = sb.name("plain");
    let o = sb.create(&plain, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(!out.contains("created warm"), "{out}");
    let list = sb.json(&["list", "--json"]);
    let find = |n: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == n)
            .cloned()
            .unwrap_or_else(|| panic!("{n} not listed: {list}"))
    };
    let (warm, cold) = (find(&name), find(&plain));
    assert_eq!(warm["container"], format!("workspace-{name}"));
    assert_eq!(warm["volume"], slot_volume.as_str());
    assert_eq!(warm["provision"]["status"], "ready");
    assert_eq!(comparable(&warm), comparable(&cold));
    let keys = |v: &serde_json::Value| {
        let mut k: Vec<String> = v.as_object().unwrap().keys().cloned().collect();
        k.sort();
        k
    };
    let status = sb.json(&["status", &name, "--json"]);
    assert_eq!(keys(&status), keys(&sb.json(&["status", &plain, "--json"])));
    assert_eq!(status["name"], name.as_str());

    // ssh with the host key pinned under its name, exec, data across stop/start.
    let o = sb.berth(&["ssh", &name, "--", "whoami; echo kept > ~/note.txt"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "workspace\n");
    let kh = std::fs::read_to_string(
        sb.state_dir()
            .join("known_hosts.d")
            .join(format!("berth-{name}")),
    )
    .unwrap();
    assert!(kh.contains("ssh-ed25519"), "{kh}");
    sb.ok(&["stop", &name]);
    sb.ok(&["start", &name]);
    assert_eq!(
        sb.ok(&["exec", &name, "--", "cat", "/home/workspace/note.txt"]),
        "kept\n"
    );
    let o = sb.berth(&["ssh", &name, "--", "cat ~/note.txt"]);
    assert_eq!(stdout(&o), "kept\n", "{}", stderr(&o));

    // `berth pool` shows the refill the claim started (or the explicit one).
    sb.ok(&["pool", "refill"]);
    let p = pool_json(&sb);
    assert_eq!(p["ready"], 1, "{p}");
    assert_ne!(p["slots"][0]["container"], slot_container.as_str());

    // Delete removes the container and the slot-named volume.
    let d = sb.json(&["delete", &name, "--yes", "--json"]);
    assert_eq!(d["volume"], slot_volume.as_str(), "{d}");
    assert!(!sb.container_exists(&name));
    assert!(!docker(&["volume", "inspect", &slot_volume])
        .status
        .success());
    // A claim with --ttl keeps it (in the store: the slot's labels predate it).
    let timed = sb.name("timed");
    let o = sb.create(&timed, &["--ttl", "2h"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(format!("{}{}", stdout(&o), stderr(&o)).contains("created warm"));
    wait_for_background_refill(&sb);
    let st = sb.json(&["status", &timed, "--json"]);
    assert_eq!(st["ttl"], "2h", "{st}");
    assert_eq!(
        st["kill_after_at"].as_i64(),
        st["last_used_at"].as_i64().map(|t| t + 7200),
        "{st}"
    );
    // delete --all (scoped to this sandbox's labels) leaves the pool alone; drain
    // empties it.
    sb.ok(&["delete", "--all", "--yes"]);
    assert!(!sb.container_exists(&plain));
    assert!(!sb.container_exists(&timed));
    assert_eq!(pool_json(&sb)["ready"], 1);
    let drained = sb.json(&["pool", "drain", "--json"]);
    assert_eq!(drained["removed"].as_array().unwrap().len(), 1, "{drained}");
    assert_eq!(pool_json(&sb)["slots"], serde_json::json!([]));
}

/// A refill whose environment holds no token (a daemon's) still serves a create
/// whose shell does: the claim delivers the claimer's variables, records their
/// names (never values) in the workspace, and every start delivers them again.
#[test]
fn a_claim_passes_through_the_claimers_variables_and_starts_deliver_them_again() {
    let Some(sb) = Sandbox::with_config("poolenv", (3440, 3449), "\n[pool]\ngeneral = 1\n") else {
        return;
    };
    const VAR: &str = "BERTH_POOLTEST_TOKEN";
    let refill = sb
        .cmd(&["pool", "refill"])
        .env_remove(VAR)
        .output()
        .unwrap();
    assert!(refill.status.success(), "{}", stderr(&refill));
    let name = sb.name("env");
    let value = format!("pool-secret-{}", std::process::id());
    let o = sb
        .cmd(&["create", &name])
        .env(VAR, &value)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let out = format!("{}{}", stdout(&o), stderr(&o));
    assert!(out.contains("created warm"), "{out}");
    assert!(
        out.contains(VAR),
        "the create names what it passed through: {out}"
    );
    wait_for_background_refill(&sb);
    let echo = [
        "exec",
        &name,
        "--",
        "sh",
        "-lc",
        "echo \"[$BERTH_POOLTEST_TOKEN]\"",
    ];
    assert_eq!(sb.ok(&echo), format!("[{value}]\n"));
    // A restart delivers the value of the berth doing it, as for a cold one.
    let again = format!("{value}-again");
    let o = sb
        .cmd(&["restart", &name])
        .env(VAR, &again)
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(sb.ok(&echo), format!("[{again}]\n"));
    // Names, never values, are recorded.
    let inspect = docker(&["inspect", &format!("workspace-{name}")]);
    assert!(
        !stdout(&inspect).contains(&value),
        "a value reached the container's config"
    );
    let names = sb.ok(&["exec", &name, "--", "cat", "/etc/berth/env-passthrough"]);
    assert_eq!(names, format!("{VAR}\n"));
    sb.ok(&["delete", &name, "--yes"]);
    sb.ok(&["pool", "drain"]);
}
