//! Runtimes against the real engine: a workspace under gVisor (`--runtime runsc`)
//! that proves it from inside, the engine's default named as such, an unregistered
//! runtime refused with how to register it and nothing left behind, and `berth
//! doctor` probing each registered runtime.
mod common;
use common::*;

/// Whether runsc is registered; in CI its absence fails the test (never a silent skip).
fn runsc_registered(test: &str) -> bool {
    let runtimes = stdout(&docker(&["info", "--format", "{{json .Runtimes}}"]));
    if runtimes.contains("\"runsc\"") {
        return true;
    }
    let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
    assert!(
        !ci,
        "runsc is not registered with dockerd; scripts/engine.sh ensure installs and registers it"
    );
    eprintln!("\n!!!!!!!! SKIPPED {test}: runsc is not registered with this engine !!!!!!!!\n");
    false
}

/// Probe containers this case left (there must be none: each is removed at once).
fn probes_left(sb: &Sandbox) -> Vec<String> {
    let filter = format!("label=berth.test-case={}", sb.case);
    let o = docker(&[
        "ps",
        "-aq",
        "--filter",
        &filter,
        "--filter",
        "label=dev.berth.role=probe",
    ]);
    stdout(&o).lines().map(String::from).collect()
}

#[test]
fn a_gvisor_workspace_says_so_from_inside_and_in_status() {
    let Some(sb) = Sandbox::new("runtime-gvisor", (3140, 3143)) else {
        return;
    };
    if !runsc_registered("runtime-gvisor") {
        return;
    }
    let gv = sb.name("gv");
    let w = sb.create_ok(&gv, &["--runtime", "runsc"]);
    assert_eq!(w["runtime"], "runsc", "{w}");
    // Only gVisor's kernel writes this: its dmesg (readable by the workspace user
    // under gVisor) starts with "Starting gVisor...".
    let dmesg = sb.ok(&["exec", &gv, "--", "sh", "-c", "id -un; dmesg | head -3"]);
    assert!(dmesg.starts_with("workspace\n"), "{dmesg}");
    assert!(dmesg.contains("gVisor"), "{dmesg}");
    let st = sb.json(&["status", &gv, "--json"]);
    assert_eq!(st["runtime"], "runsc", "{st}");
    assert_eq!(st["runtime_engine_default"], false, "{st}");
    let text = sb.ok(&["status", &gv]);
    assert!(text.contains("runtime    runsc\n"), "{text}");
    let engine = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.HostConfig.Runtime}}",
        &format!("workspace-{gv}"),
    ]));
    assert_eq!(engine.trim(), "runsc");
    // A fork (snapshot + restore) keeps the runtime, whatever the config says.
    let fork = sb.name("gvf");
    let f = sb.json(&["fork", &gv, &fork, "--json"]);
    assert_eq!(f["runtime"], "runsc", "{f}");
    let dmesg = sb.ok(&["exec", &fork, "--", "sh", "-c", "dmesg | head -3"]);
    assert!(dmesg.contains("gVisor"), "{dmesg}");

    // Without --runtime: the engine's default, named as such; no gVisor inside.
    let plain = sb.name("plain");
    let w = sb.create_ok(&plain, &[]);
    let default = stdout(&docker(&["info", "--format", "{{.DefaultRuntime}}"]));
    let default = default.trim();
    assert_eq!(w["runtime"], default, "{w}");
    let st = sb.json(&["status", &plain, "--json"]);
    assert_eq!(st["runtime_engine_default"], true, "{st}");
    let text = sb.ok(&["status", &plain]);
    assert!(
        text.contains(&format!("runtime    {default} (engine default)\n")),
        "{text}"
    );
    let o = sb.berth(&["exec", &plain, "--", "sh", "-c", "dmesg 2>&1 | head -3"]);
    assert!(!stdout(&o).contains("gVisor"), "{}", stdout(&o));
    assert!(probes_left(&sb).is_empty());
}

#[test]
fn an_unregistered_runtime_is_refused_with_the_fix_and_nothing_is_made() {
    let Some(sb) = Sandbox::new("runtime-nosuch", (3144, 3145)) else {
        return;
    };
    let name = sb.name("x");
    let o = sb.create(&name, &["--runtime", "nosuch"]);
    assert_refused(
        &o,
        "runtime \"nosuch\" is not registered with the container engine",
    );
    let err = stderr(&o);
    assert!(err.contains("/etc/docker/daemon.json"), "{err}");
    assert!(err.contains("restart dockerd"), "{err}");
    assert!(err.contains("never falls back"), "{err}");
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
    assert!(
        sb.labelled("container").is_empty(),
        "no container, not even a probe"
    );
    assert!(sb.labelled("volume").is_empty());
    // The same from the config's default.
    let text = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(sb.config_file(), format!("runtime = \"nosuch\"\n{text}")).unwrap();
    let o = sb.create(&name, &[]);
    assert_refused(&o, "runtime \"nosuch\" is not registered");
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
}

#[test]
fn doctor_probes_runc_and_runsc_and_names_the_default() {
    let Some(sb) = Sandbox::new("runtime-doctor", (3146, 3147)) else {
        return;
    };
    if !runsc_registered("runtime-doctor") {
        return;
    }
    let v = sb.json(&["doctor", "--json"]);
    let checks = v["checks"].as_array().unwrap();
    let find = |name: &str| {
        checks
            .iter()
            .find(|c| c["check"] == name)
            .unwrap_or_else(|| panic!("no check {name}: {v:#}"))
    };
    let default = stdout(&docker(&["info", "--format", "{{.DefaultRuntime}}"]));
    for rt in ["runc", "runsc"] {
        let c = find(&format!("runtime {rt}"));
        assert_eq!(c["status"], "ok", "{c}");
        let detail = c["detail"].as_str().unwrap();
        assert!(detail.starts_with("healthy"), "{detail}");
        assert!(detail.contains("exited 0"), "{detail}");
        assert_eq!(
            detail.contains("the engine's default"),
            rt == default.trim(),
            "{detail}"
        );
    }
    assert!(
        !checks.iter().any(|c| c["check"] == "gVisor runtime"),
        "replaced by the probes"
    );
    let human = sb.ok(&["doctor"]);
    assert!(human.contains("[ok  ] runtime runsc    healthy"), "{human}");
    assert!(
        probes_left(&sb).is_empty(),
        "every probe container is removed"
    );
}

/// A probe container a killed berth left behind (stopped, its berth gone) is
/// removed by the next probe; one in another berth's hands (running) is not.
#[test]
fn a_probe_container_left_behind_is_removed_by_the_next_probe() {
    let Some(sb) = Sandbox::new("runtime-sweep", (3148, 3149)) else {
        return;
    };
    // A pid above any kernel's pid_max: its berth can never be alive.
    let left = format!("berth-probe.runc.99999999-{}", std::process::id());
    let run_label = format!("berth.test-run={}", run_id());
    let case_label = format!("berth.test-case={}", sb.case);
    let o = docker(&[
        "create",
        "--name",
        &left,
        "--label",
        "dev.berth.role=probe",
        "--label",
        &run_label,
        "--label",
        &case_label,
        "--network",
        "none",
        "--entrypoint",
        "true",
        "berth/workspace:latest",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(probes_left(&sb).len(), 1);
    sb.json(&["doctor", "--json"]);
    assert!(
        probes_left(&sb).is_empty(),
        "the probe left behind is still there: {:?}",
        probes_left(&sb)
    );
}
