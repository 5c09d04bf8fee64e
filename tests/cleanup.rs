//! `berth gc` against the real engine: an expired workspace with unsaved work (a
//! repository with a commit and no remote, one with an uncommitted change, a note
//! outside any repository) is snapshotted before it goes and the work comes back
//! with `berth restore`; a clean one goes without a snapshot; `--dry-run` changes
//! nothing; and an engine that fails the first stops and removals (a fault-injecting
//! proxy on its socket) is retried until the job finishes.
mod common;
use common::fault_proxy::{FaultProxy, Rule};
use common::*;
use std::time::Duration;

const TTL_1S: &str = "[lifetime]\nttl = \"1s\"\n";

fn line<'a>(report: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    report["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["name"] == name)
        .unwrap_or_else(|| panic!("{name} not in the report: {report:#}"))
}

fn running(name: &str) -> bool {
    let o = docker(&[
        "inspect",
        "-f",
        "{{.State.Running}}",
        &format!("workspace-{name}"),
    ]);
    stdout(&o).trim() == "true"
}

const MAKE_WORK: &str = "set -e; cd ~; export GIT_AUTHOR_NAME=t GIT_AUTHOR_EMAIL=t@t GIT_COMMITTER_NAME=t GIT_COMMITTER_EMAIL=t@t; \
    mkdir proj && cd proj && git init -q && echo 'unpushed work' > work.txt && git add work.txt && git commit -qm 'only here'; \
    cd ~ && mkdir other && cd other && git init -q && echo base > f && git add f && git commit -qm base \
    && git remote add origin https://example.invalid/other.git && echo 'not committed' >> f; \
    echo 'my notes' > ~/notes.txt";

#[test]
fn expired_work_is_snapshotted_restorable_clean_ones_just_go_and_dry_run_changes_nothing() {
    let Some(sb) = Sandbox::new("gc-work", (3300, 3309)) else {
        return;
    };
    let (work, clean) = (sb.name("work"), sb.name("clean"));
    sb.create_ok(&work, &[]);
    sb.create_ok(&clean, &[]);
    sb.ok(&["exec", &work, "--", "sh", "-c", MAKE_WORK]);
    sb.write_config(TTL_1S);
    std::thread::sleep(Duration::from_secs(2));

    // Dry run: both would go (the one with work through a snapshot); nothing changes.
    let dry = sb.json(&["gc", "--dry-run", "--json"]);
    assert_eq!(dry["dry_run"], true);
    let w = line(&dry, &work);
    assert_eq!(w["decision"], "delete", "{w:#}");
    assert_eq!(w["done"], "would-delete", "{w:#}");
    let what = w["what"].as_str().unwrap();
    assert!(what.contains("would snapshot it as"), "{what}");
    assert!(what.contains("./proj: 1 commit and no remote"), "{what}");
    assert!(what.contains("./other: 1 uncommitted change"), "{what}");
    assert!(what.contains("./notes.txt"), "{what}");
    let c = line(&dry, &clean);
    assert_eq!(c["done"], "would-delete", "{c:#}");
    assert!(
        c["what"].as_str().unwrap().contains("no unsaved work"),
        "{c:#}"
    );
    assert!(
        running(&work) && running(&clean),
        "a dry run stopped something"
    );
    assert_eq!(sb.json(&["snapshots", "--json"]), serde_json::json!([]));

    // The job: the work is snapshotted first, then both go.
    let report = sb.json(&["gc", "--json"]);
    let w = line(&report, &work);
    assert_eq!(w["done"], "deleted", "{w:#}");
    let snap = w["snapshot"].as_str().unwrap().to_string();
    assert!(snap.contains("-gc-"), "{snap}");
    let c = line(&report, &clean);
    assert_eq!(c["done"], "deleted", "{c:#}");
    assert!(c["snapshot"].is_null(), "{c:#}");
    for n in [&work, &clean] {
        assert!(
            !sb.container_exists(n) && !sb.volume_exists(n),
            "{n} is left"
        );
    }
    let snaps = sb.json(&["snapshots", "--json"]);
    assert_eq!(snaps.as_array().unwrap().len(), 1, "{snaps:#}");
    assert_eq!(snaps[0]["name"], snap.as_str());
    // No reader container is left behind.
    let readers = docker(&[
        "ps",
        "-aq",
        "--filter",
        &format!("label=berth.test-case={}", sb.case),
        "--filter",
        "label=dev.berth.gc-check",
    ]);
    assert_eq!(stdout(&readers).trim(), "");

    // The work comes back.
    sb.write_config("");
    let back = sb.name("back");
    sb.ok(&["restore", &snap, &back]);
    let log = sb.ok(&[
        "exec",
        &back,
        "--",
        "sh",
        "-c",
        "cd ~ && git -C proj log --format=%s",
    ]);
    assert_eq!(log.trim(), "only here");
    let f = sb.ok(&[
        "exec",
        &back,
        "--",
        "sh",
        "-c",
        "cd ~ && cat proj/work.txt other/f notes.txt",
    ]);
    assert_eq!(f, "unpushed work\nbase\nnot committed\nmy notes\n");
}

#[test]
fn gc_retries_an_engine_that_fails_the_first_stops_and_removals() {
    let Some(sb) = Sandbox::new("gc-faults", (3310, 3319)) else {
        return;
    };
    let n = sb.name("flaky");
    sb.create_ok(&n, &[]);
    sb.write_config(TTL_1S);
    std::thread::sleep(Duration::from_secs(2));
    let container = format!("/containers/workspace-{n}");
    let proxy = FaultProxy::start(
        &sb.dir.path().join("engine.sock"),
        vec![
            Rule::new("POST", &format!("{container}/stop"), 500, 1),
            Rule::new("DELETE", &container, 500, 2),
        ],
    );
    let mut c = sb.cmd(&["gc", "--json"]);
    c.env("DOCKER_HOST", proxy.docker_host());
    let o = c.output().unwrap();
    assert!(
        o.status.success(),
        "gc failed:\n{}\n{}",
        stdout(&o),
        stderr(&o)
    );
    let report: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let l = line(&report, &n);
    assert_eq!(l["done"], "deleted", "{l:#}");
    assert_eq!(l["retries"], 3, "{l:#}");
    let errors = l["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 3, "{l:#}");
    assert!(
        errors
            .iter()
            .all(|e| e.as_str().unwrap().contains("injected fault 500")),
        "{l:#}"
    );
    assert_eq!(proxy.served(), [1, 2]);
    assert!(!sb.container_exists(&n) && !sb.volume_exists(&n));
}
