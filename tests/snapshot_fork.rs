//! Snapshots, restore and fork against the real engine: the same files inside and
//! outside the home after a restore, a new port and host key, a shell that keeps
//! working through a fork, and every failure leaving nothing behind.
mod common;
use common::*;
use std::process::Stdio;

/// The home's tree (paths, modes, owners, link targets) and file checksums, leaving
/// out the sshd host key (a restore makes its own), plus a file outside the home.
const MANIFEST: &str =
    "cd ~ && find . -path ./.berth/ssh -prune -o -printf '%p %m %u %y %l\\n' | sort \
    && find . -path ./.berth/ssh -prune -o -type f -print0 | sort -z | xargs -0 sha256sum \
    && sha256sum /tmp/outside";

const HOST_KEY: &str = "/home/workspace/.berth/ssh/ssh_host_ed25519_key.pub";

fn snapshot_images(sb: &Sandbox) -> Vec<String> {
    let f = format!("label=berth.test-case={}", sb.case);
    let o = docker(&["images", "-aq", "--filter", &f]);
    stdout(&o).lines().map(String::from).collect()
}

/// Everything of this case on the engine: containers, volumes, images.
fn objects(sb: &Sandbox) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut v = sb.labelled("volume");
    v.sort();
    (sb.labelled("container"), v, snapshot_images(sb))
}

/// The names of `workspace`'s snapshots (`snapshots --json` lists every one).
fn snapshots_of(sb: &Sandbox, workspace: &str) -> Vec<String> {
    let all = sb.json(&["snapshots", "--json"]);
    all.as_array()
        .unwrap()
        .iter()
        .filter(|x| x["workspace"] == workspace)
        .map(|x| x["name"].as_str().unwrap().to_string())
        .collect()
}

fn state(name: &str) -> String {
    let o = docker(&[
        "inspect",
        "-f",
        "{{.State.Status}}",
        &format!("workspace-{name}"),
    ]);
    stdout(&o).trim().to_string()
}

#[test]
fn snapshot_restore_gives_the_same_files_and_a_fork_keeps_running_shells() {
    let Some(sb) = Sandbox::new("snapfork", (3050, 3054)) else {
        return;
    };
    let a = sb.name("a");
    let a_json = sb.create_ok(&a, &[]);
    sb.ok(&[
        "exec",
        &a,
        "--",
        "sh",
        "-c",
        "mkdir -p ~/w/sub && head -c 3000000 /dev/urandom > ~/w/blob && echo x > ~/w/sub/f \
         && chmod 0640 ~/w/sub/f && ln -s sub/f ~/w/link && echo outside > /tmp/outside",
    ]);
    let before = sb.ok(&["exec", &a, "--", "sh", "-c", MANIFEST]);
    assert!(
        before.contains("./w/link 777 workspace l sub/f"),
        "{before}"
    );

    let s1 = sb.name("s1");
    let s = sb.json(&["snapshot", &a, "--as", &s1, "--json"]);
    assert_eq!(s["name"], s1.as_str());
    assert_eq!(s["complete"], true);
    assert!(s["paused_ms"].as_u64().is_some(), "{s}");
    assert!(s["home_bytes"].as_u64().unwrap() >= 3_000_000, "{s}");
    assert_eq!(state(&a), "running");
    assert_eq!(snapshots_of(&sb, &a), std::slice::from_ref(&s1));
    // A snapshot is never a workspace.
    let ws = sb.json(&["list", "--json"]);
    let ours: Vec<&str> = ws
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|w| w["name"].as_str())
        .filter(|n| n.starts_with(&sb.name("")))
        .collect();
    assert_eq!(ours, [a.as_str()], "{ws}");

    let b = sb.name("b");
    let b_json = sb.json(&["restore", &s1, &b, "--json"]);
    assert_eq!(b_json["state"], "running");
    assert_eq!(b_json["restored_from"], s1.as_str());
    assert_ne!(b_json["ssh_port"], a_json["ssh_port"]);
    let after = sb.ok(&["exec", &b, "--", "sh", "-c", MANIFEST]);
    assert_eq!(
        before, after,
        "the home and the file outside it are the same"
    );
    let (ka, kb) = (
        sb.ok(&["exec", &a, "--", "cat", HOST_KEY]),
        sb.ok(&["exec", &b, "--", "cat", HOST_KEY]),
    );
    assert!(
        kb.starts_with("ssh-ed25519 ") && ka != kb,
        "a new host key: {ka} / {kb}"
    );
    // berth ssh reaches it with the new key pinned (strict checking).
    assert_eq!(
        sb.ok(&["ssh", &b, "--", "cat", "/tmp/outside"]).trim(),
        "outside"
    );

    // Fork while a `berth exec` and an ssh session run in `a`: both keep working.
    let shell = "i=0; while [ ! -e ~/stop ]; do i=$((i+1)); echo $i > ~/ticks; sleep 0.1; done; echo exec-alive $i";
    let exec = sb
        .cmd(&["exec", &a, "--", "sh", "-c", shell])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let ssh = sb
        .cmd(&[
            "ssh",
            &a,
            "--",
            "sh -c 'while [ ! -e ~/stop ]; do sleep 0.1; done; echo ssh-alive'",
        ])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // Running before the fork starts: ticks are being written.
    let mut ticking = false;
    for _ in 0..300 {
        let t = sb.berth(&["exec", &a, "--", "cat", "ticks"]);
        if t.status.success() && !stdout(&t).trim().is_empty() {
            ticking = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(ticking, "the shell never started");
    let c = sb.name("c");
    let f = sb.json(&["fork", &a, &c, "--json"]);
    assert_eq!(f["state"], "running");
    assert_eq!(f["forked_from"], a.as_str());
    assert_eq!(f["snapshot_kept"], false);
    assert!(f["paused_ms"].as_u64().is_some(), "{f}");
    // Still running after the fork, then ended on our word.
    sb.ok(&["exec", &a, "--", "touch", "stop"]);
    let (exec, ssh) = (
        exec.wait_with_output().unwrap(),
        ssh.wait_with_output().unwrap(),
    );
    assert!(
        exec.status.success() && stdout(&exec).contains("exec-alive"),
        "{exec:?}"
    );
    assert!(
        ssh.status.success() && stdout(&ssh).contains("ssh-alive"),
        "{ssh:?}"
    );
    // The fork has a's files as they were at the fork.
    sb.ok(&["exec", &c, "--", "test", "-s", "w/blob"]);
    assert!(sb
        .ok(&["exec", &c, "--", "cat", "ticks"])
        .trim()
        .parse::<u32>()
        .is_ok());
    // Its snapshot is gone; s1 stays.
    assert_eq!(snapshots_of(&sb, &a), [s1]);
}

#[test]
fn every_failure_leaves_nothing_behind() {
    let Some(sb) = Sandbox::new("snapfail", (3055, 3059)) else {
        return;
    };
    let a = sb.name("a");
    sb.create_ok(&a, &[]);
    assert_refused(
        &sb.berth(&["snapshot", &sb.name("none")]),
        "no workspace named",
    );
    assert_refused(
        &sb.berth(&["snapshot", &a, "--as", "Bad"]),
        "not a valid snapshot name",
    );
    let (s1, s2, cold) = (sb.name("s1"), sb.name("s2"), sb.name("cold"));
    sb.ok(&["snapshot", &a, "--as", &s1]);
    let base = objects(&sb);
    assert_refused(&sb.berth(&["snapshot", &a, "--as", &s1]), "exists already");
    assert_refused(&sb.berth(&["restore", &s1, &a]), "exists already");
    assert_refused(
        &sb.berth(&["restore", "nope", &sb.name("x")]),
        "no snapshot named nope",
    );
    assert_refused(&sb.berth(&["fork", &a, &a]), "exists already");
    assert_eq!(objects(&sb), base);

    // A volume copy that fails: the snapshot's volume and helper are removed, the
    // workspace runs on.
    let o = sb
        .cmd(&["snapshot", &a, "--as", &s2])
        .env("BERTH_DEBUG_SNAPSHOT_FAIL", "copy")
        .output()
        .unwrap();
    assert_refused(
        &o,
        &format!("Removed what it had made: volume berth-snapshot-{s2}"),
    );
    assert_eq!(objects(&sb), base);
    assert_eq!(state(&a), "running");
    // A restore whose copy fails rolls back the new workspace; the snapshot stays.
    let r = sb.name("r");
    let o = sb
        .cmd(&["restore", &s1, &r])
        .env("BERTH_DEBUG_SNAPSHOT_FAIL", "copy")
        .output()
        .unwrap();
    assert_refused(&o, "failed at step \"home\"");
    assert!(
        stderr(&o).contains(&format!("volume workspace-{r}")),
        "{}",
        stderr(&o)
    );
    assert_eq!(objects(&sb), base);
    assert!(!sb.volume_exists(&r) && !sb.container_exists(&r));

    // Ctrl-C while paused (the copy stalls): resumed, and nothing left.
    let child = sb
        .cmd(&["snapshot", &a, "--as", &s2])
        .env("BERTH_DEBUG_SNAPSHOT_FAIL", "stall")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut paused = false;
    for _ in 0..600 {
        if state(&a) == "paused" {
            paused = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    assert!(paused, "the snapshot never paused the workspace");
    // One SIGINT to berth itself: a signal to its `timeout` wrapper reaches
    // berth twice (timeout passes it on to berth, then to its process group),
    // which berth may take as Ctrl-C pressed twice ("left as it is").
    let pgrep = std::process::Command::new("pgrep")
        .args(["-P", &child.id().to_string()])
        .output()
        .unwrap();
    let pid = String::from_utf8_lossy(&pgrep.stdout)
        .lines()
        .next()
        .expect("berth under its timeout wrapper")
        .trim()
        .to_string();
    assert!(std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .unwrap()
        .success());
    let o = child.wait_with_output().unwrap();
    assert!(!o.status.success());
    let err = stderr(&o);
    assert!(
        err.contains("interrupted") && err.contains("Removed what it had made"),
        "{err}"
    );
    assert_eq!(state(&a), "running");
    assert_eq!(objects(&sb), base);

    // A stopped workspace is snapshotted as it is, without pausing.
    sb.ok(&["stop", &a]);
    let s = sb.json(&["snapshot", &a, "--as", &cold, "--json"]);
    assert!(s["paused_ms"].is_null() && s["complete"] == true, "{s}");
    assert_eq!(state(&a), "exited");

    // Deleting the workspace leaves its snapshots, and says so.
    let out = sb.ok(&["delete", &a, "--yes"]);
    assert!(
        out.contains("Its snapshots remain:") && out.contains(&s1) && out.contains(&cold),
        "{out}"
    );
    assert_eq!(snapshots_of(&sb, &a).len(), 2);
    assert_refused(&sb.berth(&["snapshot", "rm", &s1]), "Pass --yes");
    sb.ok(&["snapshot", "rm", &s1, &cold, "--yes"]);
    assert!(snapshots_of(&sb, &a).is_empty());
    assert_eq!(objects(&sb), (vec![], vec![], vec![]));
}
