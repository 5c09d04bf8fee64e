//! `berth delete --all` against the real engine: it lists everything that goes and
//! asks; `--yes` for scripts; snapshots only with `--snapshots`; it touches only
//! what carries the config's `[labels]` (each sandbox has its own case label, so a
//! neighbour's workspace stays).
mod common;
use common::{docker, stderr, stdout, Sandbox};
use std::io::Write;
use std::process::Stdio;

/// A container or volume labelled like berth's sidecars and snapshots, for this case.
fn labelled_args(sb: &Sandbox, extra: &[(&str, &str)]) -> Vec<String> {
    let mut l = vec![
        format!("berth.test-case={}", sb.case),
        format!("berth.test-run={}", common::run_id()),
    ];
    l.extend(extra.iter().map(|(k, v)| format!("{k}={v}")));
    l.into_iter()
        .flat_map(|l| ["--label".to_string(), l])
        .collect()
}

fn answer(sb: &Sandbox, args: &[&str], line: &[u8]) -> std::process::Output {
    let mut c = sb.cmd(args);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    child.stdin.take().unwrap().write_all(line).unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn delete_all_lists_asks_and_removes_only_what_is_its_own() {
    let Some(sb) = Sandbox::new("delall", (3110, 3114)) else {
        return;
    };
    let Some(other) = Sandbox::new("delall_other", (3115, 3119)) else {
        return;
    };
    let (a, b, c) = (sb.name("a"), sb.name("b"), other.name("c"));
    sb.create_ok(&a, &[]);
    sb.create_ok(&b, &[]);
    other.create_ok(&c, &[]);

    // A sidecar of `a` (as services and Docker-inside make them) and a snapshot's volume.
    let sidecar = format!("workspace-{a}.db");
    let mut args = vec!["run", "-d", "--name", sidecar.as_str()];
    let labels = labelled_args(
        &sb,
        &[
            ("dev.berth.role", "sidecar"),
            ("dev.berth.name", a.as_str()),
            ("dev.berth.sidecar", "db"),
        ],
    );
    args.extend(labels.iter().map(String::as_str));
    args.extend(["debian:bookworm-slim", "sleep", "infinity"]);
    assert!(docker(&args).status.success());
    let snap_vol = format!("berth-snapshot-{a}-x");
    let labels = labelled_args(&sb, &[("dev.berth.role", "snapshot")]);
    let mut args = vec!["volume", "create"];
    args.extend(labels.iter().map(String::as_str));
    args.push(&snap_vol);
    assert!(docker(&args).status.success());

    // No answer (stdin closed): refused, nothing removed; the list names everything.
    let o = sb.berth(&["delete", "--all"]);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    for want in [
        format!("workspace {a}:"),
        format!("workspace {b}:"),
        "sidecar db".to_string(),
        "--yes".to_string(),
        "1 snapshot(s) are kept".to_string(),
    ] {
        assert!(err.contains(&want), "wanted {want:?} in:\n{err}");
    }
    assert!(
        !err.contains(&c),
        "a neighbour's workspace is listed:\n{err}"
    );
    assert!(sb.container_exists(&a) && sb.container_exists(&b));

    // "no" keeps everything.
    let o = answer(&sb, &["delete", "--all"], b"no\n");
    assert_eq!(o.status.code(), Some(1));
    assert!(sb.container_exists(&a) && sb.volume_exists(&b));

    // A name and --all together, or --snapshots without --all: refused by the parser.
    assert!(!sb.berth(&["delete", &a, "--all"]).status.success());
    assert!(!sb.berth(&["delete", &a, "--snapshots"]).status.success());

    // --yes --json: both workspaces, their volumes and the sidecar go; the snapshot stays.
    let o = sb.berth(&["delete", "--all", "--yes", "--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let gone: Vec<&str> = v["workspaces"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["name"].as_str().unwrap())
        .collect();
    assert_eq!(gone, [a.as_str(), b.as_str()], "{v}");
    assert_eq!(v["workspaces"][0]["sidecars"][0], sidecar.as_str(), "{v}");
    for n in [&a, &b] {
        assert!(
            !sb.container_exists(n) && !sb.volume_exists(n),
            "{n} is left"
        );
    }
    assert!(!docker(&["container", "inspect", &sidecar]).status.success());
    assert!(docker(&["volume", "inspect", &snap_vol]).status.success());
    assert!(other.container_exists(&c), "the neighbour's workspace went");

    // --snapshots, answered "yes": the snapshot goes too; then nothing is left to do.
    let o = answer(&sb, &["delete", "--all", "--snapshots"], b"yes\n");
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains(&format!("snapshot volume {snap_vol}")),
        "{}",
        stderr(&o)
    );
    assert!(!docker(&["volume", "inspect", &snap_vol]).status.success());
    let o = sb.berth(&["delete", "--all", "--snapshots", "--yes"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stdout(&o).contains("Nothing to delete"), "{}", stdout(&o));
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
    assert!(other.container_exists(&c));
}
