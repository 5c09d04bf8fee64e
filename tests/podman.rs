//! podman as an engine, through its Docker-compatible socket (a rootful podman
//! service this test starts itself; see `common::podman`), from one berth that
//! also has the default dockerd: create/list/exec/ssh/delete with `--engine pod`,
//! what podman lacks refused or said, `init = false` honoured, doctor's podman
//! lines, and events and stats from podman as berth's watcher sees them.
//! One podman service for the whole binary (one test, in phases).
mod common;
use common::podman::Podman;
use common::*;

const PORTS: (u16, u16) = (4160, 4179);
const PORTS_NO_INIT: (u16, u16) = (4180, 4189);

#[test]
fn podman_engine() {
    let Some(p) = Podman::start("pod", 219) else {
        return;
    };
    let Some(sb) = Sandbox::with_config("podman", PORTS, &p.config("pod", "")) else {
        return;
    };
    refuses_what_podman_lacks(&sb);
    lifecycle(&sb, &p);
    doctor_lines(&sb, &p);
    events_and_stats(&sb, &p);
    drop(sb);
    let Some(sb) = Sandbox::with_config(
        "podman-noinit",
        PORTS_NO_INIT,
        &p.config("pod", "init = false"),
    ) else {
        return;
    };
    no_init(&sb, &p);
}

fn on_pod<'a>(args: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec!["--engine", "pod"];
    v.extend_from_slice(args);
    v
}

/// The default profile (`isolated`) would not be isolated on podman: refused,
/// with the reason and what to use; nothing is left on the engine.
fn refuses_what_podman_lacks(sb: &Sandbox) {
    let name = sb.name("iso");
    let o = sb.create(&name, &["--engine", "pod"]);
    assert_refused(&o, "podman");
    let err = stderr(&o);
    assert!(err.contains("inter-container"), "{err}");
    assert!(err.contains("--net-profile open"), "{err}");
    let o = sb.create(
        &name,
        &["--engine", "pod", "--net-profile", "open", "--docker"],
    );
    assert_refused(&o, "--docker");
    assert!(!sb.container_exists(&name));
}

fn lifecycle(sb: &Sandbox, p: &Podman) {
    // berth engines: podman reachable, with its version.
    let rows = sb.json(&["engines", "--json"]);
    let pod = rows
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["name"] == "pod")
        .unwrap_or_else(|| panic!("no pod in {rows}"));
    assert_eq!(pod["reachable"], true, "{rows}");
    assert!(
        pod["version"].as_str().is_some_and(|v| v.starts_with("4.")),
        "no podman version: {pod}"
    );
    let name = sb.name("pw");
    let out = sb.create_ok(&name, &["--engine", "pod", "--net-profile", "open"]);
    assert_eq!(out["name"], name.as_str(), "{out}");
    // It is on podman, not on the default dockerd.
    let container = format!("workspace-{name}");
    let o = p.podman(&[
        "inspect",
        &container,
        "--format",
        "{{.State.Running}} {{.HostConfig.Init}}",
    ]);
    assert_eq!(stdout(&o).trim(), "true true", "{}", stderr(&o));
    assert!(!sb.container_exists(&name), "not on the default engine");
    let list = sb.json(&on_pod(&["list", "--json"]));
    assert!(
        list.as_array().is_some_and(|a| a
            .iter()
            .any(|w| w["name"] == name.as_str() && w["engine"] == "pod")),
        "{name} not on pod in {list}"
    );
    assert_eq!(
        sb.ok(&on_pod(&["exec", &name, "--", "echo", "hi-from-podman"]))
            .trim(),
        "hi-from-podman"
    );
    assert_eq!(
        sb.ok(&on_pod(&["ssh", &name, "--", "echo", "ssh-into-podman"]))
            .trim(),
        "ssh-into-podman"
    );
    // The runtime podman calls `oci` shows as the engine's default.
    let st = sb.json(&on_pod(&["status", &name, "--json"]));
    assert_ne!(st["runtime"], "oci", "{st}");
    sb.ok(&on_pod(&["delete", &name, "--yes"]));
    let o = p.podman(&["ps", "-a", "-q", "--filter", &format!("name={container}")]);
    assert_eq!(stdout(&o).trim(), "", "container left on podman");
    let o = p.podman(&[
        "volume",
        "ls",
        "-q",
        "--filter",
        &format!("name={container}"),
    ]);
    assert_eq!(stdout(&o).trim(), "", "volume left on podman");
}

/// doctor's section for the configured podman engine (`pod: ...` checks).
fn doctor_lines(sb: &Sandbox, _p: &Podman) {
    let o = sb.cmd(&["doctor", "--json"]).output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("doctor --json: {e}: {}", stdout(&o)));
    let checks = v["checks"].as_array().unwrap();
    let find = |name: &str| {
        let name = format!("pod: {name}");
        checks
            .iter()
            .find(|c| c["check"] == name.as_str())
            .unwrap_or_else(|| panic!("no {name:?} check in {v}"))
    };
    assert!(
        find("podman")["detail"]
            .as_str()
            .unwrap()
            .contains("podman 4"),
        "{v}"
    );
    assert_eq!(find("podman: init")["status"], "ok", "{v}");
    // The default engine (Docker) has no podman lines.
    assert!(
        !checks.iter().any(|c| c["check"] == "podman"),
        "podman lines for Docker: {v}"
    );
    let icc = find("podman: isolated network");
    assert_eq!(icc["status"], "warn");
    assert!(
        icc["fix"].as_str().unwrap().contains("--net-profile"),
        "{icc}"
    );
    let restart = find("podman: restart on boot");
    assert!(restart["fix"]
        .as_str()
        .unwrap()
        .contains("podman-restart.service"));
    // Runtimes podman lists but berth would not use are not probed (nor failed).
    assert!(
        !checks.iter().any(|c| c["check"] == "pod: runtime kata"),
        "kata probed: {v}"
    );
    assert_eq!(find("runtime runc")["status"], "ok", "{v}");
}

/// Events from podman reach berth's engine watcher (filtered by berth, not by
/// podman's label filter), and stats following ends when the container stops.
fn events_and_stats(sb: &Sandbox, p: &Podman) {
    use berth::engine::docker::DockerEngine;
    use berth::engine::Engine;
    use futures_util::StreamExt;
    let name = sb.name("ev");
    sb.create_ok(&name, &["--engine", "pod", "--net-profile", "offline"]);
    let container = format!("workspace-{name}");
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let eng = DockerEngine::connect_to(&p.host())
            .await
            .unwrap()
            .named("pod");
        let info = eng.info().await.unwrap();
        assert!(info.flavor.is_podman(), "{info:?}");
        // The engine's events stream subscribes when first polled: read it on a
        // task, and know it is live once a marker container's event came through
        // (made again until one does: there is no other sign of the subscription).
        let (tx, mut rx) = tokio::sync::mpsc::channel(256);
        let mut events = eng.events();
        let reader = tokio::spawn(async move {
            while let Some(e) = events.next().await {
                if tx.send(e).await.is_err() {
                    break;
                }
            }
        });
        let marker = format!("{container}-marker");
        let mut live = false;
        for _ in 0..30 {
            let _ = p.podman(&["rm", "-f", &marker]);
            let o = p.podman(&[
                "create",
                "--name",
                &marker,
                "--label",
                &format!("dev.berth.name={name}-marker"),
                "berth/workspace:latest",
                "true",
            ]);
            assert!(o.status.success(), "{}", stderr(&o));
            let seen = tokio::time::timeout(std::time::Duration::from_secs(2), async {
                while let Some(e) = rx.recv().await {
                    if e.expect("event").container == marker {
                        return true;
                    }
                }
                false
            })
            .await;
            if seen == Ok(true) {
                live = true;
                break;
            }
        }
        let _ = p.podman(&["rm", "-f", &marker]);
        assert!(live, "no event from podman reached berth");
        let mut stats = eng.stats(&container);
        let first = tokio::time::timeout(std::time::Duration::from_secs(60), stats.next())
            .await
            .expect("a stats sample from podman")
            .expect("stream open")
            .expect("sample");
        assert!(first.pids > 0, "{first:?}");
        let o = p.podman(&["stop", "-t", "1", &container]);
        assert!(o.status.success(), "{}", stderr(&o));
        let ev = tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Some(e) = rx.recv().await {
                let e = e.expect("event");
                if e.container == container && (e.action == "die" || e.action == "stop") {
                    return e;
                }
            }
            panic!("events stream ended");
        })
        .await
        .expect("podman's stop event reached berth");
        reader.abort();
        assert_eq!(ev.name, name);
        // The stats stream ends (podman would stream empty samples forever).
        tokio::time::timeout(std::time::Duration::from_secs(60), async {
            while let Some(s) = stats.next().await {
                if s.is_err() {
                    break;
                }
            }
        })
        .await
        .expect("stats of a stopped container end");
    });
    sb.ok(&on_pod(&["delete", &name, "--yes"]));
}

/// `init = false` on the engine: created without an init process, and said.
fn no_init(sb: &Sandbox, p: &Podman) {
    let name = sb.name("ni");
    let o = sb.create(&name, &["--engine", "pod", "--net-profile", "open"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let all = format!("{}{}", stdout(&o), stderr(&o));
    assert!(all.contains("zombie"), "no word of the missing init: {all}");
    let container = format!("workspace-{name}");
    let o = p.podman(&["inspect", &container, "--format", "{{.HostConfig.Init}}"]);
    assert_eq!(stdout(&o).trim(), "false", "{}", stderr(&o));
    assert_eq!(
        sb.ok(&on_pod(&["exec", &name, "--", "echo", "ok"])).trim(),
        "ok"
    );
    // Its status says so too, not only the create.
    let st = sb.ok(&on_pod(&["status", &name]));
    assert!(
        st.lines()
            .any(|l| l.starts_with("init") && l.contains("zombie")),
        "{st}"
    );
    let st = sb.json(&on_pod(&["status", &name, "--json"]));
    assert_eq!(st["init"], false, "{st}");
    sb.ok(&on_pod(&["delete", &name, "--yes"]));
}
