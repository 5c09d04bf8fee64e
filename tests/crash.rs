//! Create is crash-consistent: `berth create` killed with SIGKILL at every step
//! leaves a workspace shown as incomplete (naming the step), never as healthy; both
//! ways out work: `create` again starts over, `delete` removes it and frees its
//! port. Port leases of creates that ended are free at once.
//! Uses the debug-build hook BERTH_DEBUG_STALL_AT (the create stops at that step).
mod common;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::time::{Duration, Instant};

/// Every step label of a create with a clone, a dotfile, a setup command and a
/// post-start, in order (ssh-agent and detect have their own tests); `docker` and
/// the step after it with `--docker` (killed there, its sidecar exists).
const STEPS: &[&str] = &[
    "volume",
    "ssh port",
    "image",
    "container",
    "start",
    "ssh keys",
    "sshd",
    "host key",
    "env",
    "secrets",
    "docker",
    "git",
    "gh",
    "dotfiles",
    "clone",
    "profile",
    "setup",
    "post-start",
    "commit",
];

/// Starts `berth create` and waits until it reports it stalled at `step`. The plan
/// has a clone, dotfiles, setup or docker step only when stalling there or (docker)
/// just after (the clone URL is never used), and always a post-start step.
fn stall_create_at(sb: &Sandbox, name: &str, step: &str) -> std::process::Child {
    let key = format!("{}.pub", sb.key().display());
    let mut args = vec!["create", name, "--ssh-key", &key, "--post-start", "true"];
    match step {
        "clone" => args.extend(["--clone", "file:///nowhere/repo.git"]),
        "dotfiles" => args.extend(["--dotfile", ".crash=1"]),
        "setup" => args.extend(["--setup", "true"]),
        "docker" | "git" => args.push("--docker"),
        _ => {}
    }
    let mut cmd = sb.cmd(&args);
    cmd.env("BERTH_DEBUG_STALL_AT", step).stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("berth create");
    let stderr = child.stderr.take().unwrap();
    let want = format!("berth-debug: stalled at step {step}");
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut seen = String::new();
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            seen.push_str(&line);
            seen.push('\n');
            if line.contains("berth-debug: stalled") {
                let _ = tx.send(Ok(seen.clone()));
            }
        }
        let _ = tx.send(Err(seen));
    });
    match rx.recv_timeout(Duration::from_secs(120)) {
        Ok(Ok(seen)) => assert!(seen.contains(&want), "stalled elsewhere:\n{seen}"),
        other => {
            let _ = child.kill();
            panic!("create never reached step {step}: {other:?}");
        }
    }
    child
}

/// Kills a stalled create with SIGKILL, as a power cut would. timeout(1) runs berth
/// as its child: the kill goes to berth itself.
fn kill(mut child: std::process::Child) {
    let berth = pgrep_child(child.id());
    let st = std::process::Command::new("kill")
        .args(["-KILL", &berth.to_string()])
        .status()
        .unwrap();
    assert!(st.success());
    let _ = child.wait();
}

fn kill_create_at(sb: &Sandbox, name: &str, step: &str) {
    kill(stall_create_at(sb, name, step));
}

/// The pid of `parent`'s only child (berth under `timeout`).
fn pgrep_child(parent: u32) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let o = std::process::Command::new("pgrep")
            .args(["-P", &parent.to_string()])
            .output()
            .unwrap();
        if let Some(pid) = stdout(&o)
            .lines()
            .next()
            .and_then(|l| l.trim().parse().ok())
        {
            return pid;
        }
        assert!(Instant::now() < deadline, "no child of {parent}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The list entry for `name`, if listed.
fn listed(sb: &Sandbox, name: &str) -> Option<serde_json::Value> {
    let list = sb.json(&["list", "--json"]);
    list.as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"] == name)
        .cloned()
}

/// After a kill at `step`: shown as incomplete at that step everywhere, or (killed
/// before anything was made) not at all.
fn check_incomplete(sb: &Sandbox, name: &str, step: &str) {
    let entry = listed(sb, name);
    if step == "volume" {
        assert!(entry.is_none(), "nothing was made yet: {entry:?}");
        return;
    }
    let w = entry.unwrap_or_else(|| panic!("{name} killed at {step} is not listed"));
    assert_eq!(w["state"], "incomplete", "{step}: {w}");
    assert_eq!(w["provision"]["status"], "incomplete", "{step}: {w}");
    assert_eq!(w["provision"]["step"], step, "{w}");
    let st = sb.json(&["status", name, "--json"]);
    assert_eq!(st["state"], "incomplete", "{st}");
    let table = sb.ok(&["list"]);
    let row = table.lines().find(|l| l.starts_with(name)).unwrap();
    assert!(
        row.contains(&format!("incomplete at {step}")) && !row.contains("running"),
        "{row}"
    );
    let human = sb.ok(&["status", name]);
    assert!(
        human.contains("stopped at") && human.contains(&format!("berth create {name}")),
        "{human}"
    );
}

#[test]
fn create_killed_at_every_step_then_created_again() {
    let Some(sb) = Sandbox::new("crash-again", (2920, 2924)) else {
        return;
    };
    for (i, step) in STEPS.iter().enumerate() {
        let name = sb.name(&format!("a{i}"));
        kill_create_at(&sb, &name, step);
        check_incomplete(&sb, &name, step);
        // Created again: it starts over and ends up complete and usable.
        let docker = matches!(*step, "docker" | "git");
        let o = sb.create(
            &name,
            if docker {
                &["--json", "--docker"]
            } else {
                &["--json"]
            },
        );
        assert!(o.status.success(), "{step}: {}", stderr(&o));
        if *step != "volume" {
            assert!(
                stderr(&o).contains("starting over"),
                "{step}: {}",
                stderr(&o)
            );
        }
        let w: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(w["state"], "running", "{step}: {w}");
        assert_eq!(w["provision"]["status"], "ready");
        assert_eq!(
            sb.ok(&["exec", &name, "--", "id", "-un"]),
            "workspace\n",
            "{step}"
        );
        if docker {
            sb.ok(&["exec", &name, "--", "docker", "version"]);
        }
        sb.ok(&["delete", &name, "--yes"]);
        // Every port is free again (a small range: a leaked lease would show).
        assert!(listed(&sb, &name).is_none());
    }
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
}

#[test]
fn create_killed_at_every_step_then_deleted() {
    let Some(sb) = Sandbox::new("crash-delete", (2925, 2926)) else {
        return;
    };
    for (i, step) in STEPS.iter().enumerate() {
        let name = sb.name(&format!("d{i}"));
        kill_create_at(&sb, &name, step);
        check_incomplete(&sb, &name, step);
        let o = sb.berth(&["delete", &name, "--yes"]);
        if *step == "volume" {
            assert_refused(&o, "no workspace named");
        } else {
            assert!(o.status.success(), "{step}: {}", stderr(&o));
        }
        assert!(listed(&sb, &name).is_none(), "{step}");
        assert!(
            sb.labelled("container").is_empty() && sb.labelled("volume").is_empty(),
            "{step}: something was left"
        );
        // Its port lease is free: the next create gets the range's first port.
        let probe = sb.name(&format!("p{i}"));
        let w = sb.create_ok(&probe, &[]);
        assert_eq!(w["ssh_port"], 2925, "{step}: a lease leaked");
        sb.ok(&["delete", &probe, "--yes"]);
    }
}

#[test]
fn ports_of_workspaces_removed_behind_berths_back_are_free_at_once() {
    let Some(sb) = Sandbox::new("crash-rm", (2930, 2931)) else {
        return;
    };
    // Far more removals than the range holds: a lease kept for minutes would exhaust it.
    for i in 0..6 {
        let name = sb.name(&format!("r{i}"));
        let w = sb.create_ok(&name, &[]);
        assert_eq!(w["ssh_port"], 2930, "round {i}");
        let o = docker(&["rm", "-f", &format!("workspace-{name}")]);
        assert!(o.status.success());
        docker(&["volume", "rm", "-f", &format!("workspace-{name}")]);
    }
    // When the range is really full, the message counts what holds the ports.
    let a = sb.name("full-a");
    let b = sb.name("full-b");
    sb.create_ok(&a, &[]);
    sb.create_ok(&b, &[]);
    let o = sb.create(&sb.name("full-c"), &[]);
    assert_refused(
        &o,
        "no free SSH port left in 2930-2931 (2 used by workspaces, 0 reserved by creates in progress",
    );
}

#[test]
fn a_user_without_ssh_keys_gets_berths_own_identity() {
    let Some(sb) = Sandbox::new("crash-nokey", (2935, 2939)) else {
        return;
    };
    std::fs::remove_file(sb.key()).unwrap();
    std::fs::remove_file(sb.key().with_extension("pub")).unwrap();
    let name = sb.name("a");
    let w = sb.json(&["create", &name, "--json"]);
    assert_eq!(w["state"], "running", "{w}");
    let own = sb.state_dir().join("ssh/id_ed25519");
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&own).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    let dir_mode = std::fs::metadata(sb.state_dir())
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(dir_mode, 0o700);
    // berth ssh logs in with it.
    let o = sb.berth(&["ssh", &name, "--", "echo", "in-with-berths-key"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "in-with-berths-key\n");
    // ssh-config points plain ssh at it.
    sb.ok(&["ssh-config"]);
    let conf =
        std::fs::read_to_string(sb.home().join(format!(".ssh/berth.d/berth-{name}.conf"))).unwrap();
    assert!(
        conf.contains(&format!("IdentityFile {}", own.display())),
        "{conf}"
    );
    // The user's key, made later, is authorized too on the next workspace.
    let st = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(sb.key())
        .status()
        .unwrap();
    assert!(st.success());
    let second = sb.name("b");
    let w = sb.json(&["create", &second, "--json"]);
    let port = w["ssh_port"].as_u64().unwrap().to_string();
    let known = sb.state_dir().join(format!("known_hosts.d/berth-{second}"));
    let o = ssh(&[
        "-p",
        &port,
        "-i",
        &sb.key().display().to_string(),
        "-o",
        "IdentitiesOnly=yes",
        "-o",
        &format!("HostKeyAlias=berth-{second}"),
        "-o",
        &format!("UserKnownHostsFile={}", known.display()),
        "-o",
        "StrictHostKeyChecking=yes",
        "-o",
        "BatchMode=yes",
        "workspace@127.0.0.1",
        "echo",
        "user-key-ok",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "user-key-ok\n");
}

#[test]
fn finished_is_read_from_the_engine_whatever_the_store_knows() {
    let Some(sb) = Sandbox::new("crash-store", (2927, 2929)) else {
        return;
    };
    let name = sb.name("a");
    sb.create_ok(&name, &[]);
    let id = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.Id}}",
        &format!("workspace-{name}"),
    ]));
    let id = id.trim();
    // A berth with a fresh store (another user, a lost state directory) reads the
    // marker the create left in the container: finished, running or stopped.
    std::fs::remove_dir_all(sb.state_dir()).unwrap();
    assert_eq!(sb.json(&["status", &name, "--json"])["state"], "running");
    sb.ok(&["stop", &name]);
    std::fs::remove_dir_all(sb.state_dir()).unwrap();
    assert_eq!(sb.json(&["status", &name, "--json"])["state"], "stopped");
    // The marker names its container: another container's id does not count.
    let marker = stdout(&docker(&[
        "cp",
        &format!("workspace-{name}:/etc/berth/provisioned"),
        "-",
    ]));
    assert!(marker.contains(id), "the marker holds the container id");
    let o = std::process::Command::new("sh")
        .arg("-c")
        .arg(format!(
            "printf 'someone-else\\n' > /tmp/marker-{name} && docker cp /tmp/marker-{name} workspace-{name}:/etc/berth/provisioned; rm -f /tmp/marker-{name}"
        ))
        .status()
        .unwrap();
    assert!(o.success());
    std::fs::remove_dir_all(sb.state_dir()).unwrap();
    assert_eq!(sb.json(&["status", &name, "--json"])["state"], "incomplete");
}

#[test]
fn starting_over_keeps_the_volume_and_what_was_written_in_it() {
    let Some(sb) = Sandbox::new("crash-keep", (2932, 2934)) else {
        return;
    };
    let name = sb.name("a");
    // A volume kept from an earlier workspace, with data.
    sb.create_ok(&name, &[]);
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo from-before > ~/before.txt",
    ]);
    sb.ok(&["delete", &name, "--yes", "--keep-volume"]);
    kill_create_at(&sb, &name, "post-start");
    check_incomplete(&sb, &name, "post-start");
    // Used while incomplete (it runs and answers exec).
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo while-incomplete > ~/during.txt",
    ]);
    let o = sb.create(&name, &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("keeping volume"), "{}", stderr(&o));
    assert_eq!(
        sb.ok(&[
            "exec",
            &name,
            "--",
            "cat",
            "/home/workspace/before.txt",
            "/home/workspace/during.txt"
        ]),
        "from-before\nwhile-incomplete\n"
    );
}

#[test]
fn killed_after_the_marker_it_is_complete_and_its_port_free() {
    let Some(sb) = Sandbox::new("crash-finish", (2936, 2937)) else {
        return;
    };
    let name = sb.name("a");
    kill_create_at(&sb, &name, "finish");
    // Everything was done: ready, whatever the store's leftover record says.
    let w = listed(&sb, &name).unwrap();
    assert_eq!(
        (w["state"].as_str(), w["provision"]["status"].as_str()),
        (Some("running"), Some("ready")),
        "{w}"
    );
    let o = sb.create(&sb.name("b"), &["--json"]);
    assert!(o.status.success(), "{}", stderr(&o));
    let b: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(
        b["ssh_port"], 2937,
        "the killed create's lease is free; its workspace holds 2936"
    );
    let again = sb.create(&name, &[]);
    assert_refused(&again, "already exists");
}

#[test]
fn a_running_create_cannot_be_deleted_or_started_over_under_it() {
    let Some(sb) = Sandbox::new("crash-live", (2938, 2939)) else {
        return;
    };
    let name = sb.name("a");
    let child = stall_create_at(&sb, &name, "post-start");
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(st["state"], "provisioning", "{st}");
    let o = sb.berth(&["delete", &name, "--yes"]);
    assert_refused(&o, "being created by berth process");
    let o = sb.create(&name, &[]);
    assert_refused(&o, "being created by berth process");
    // A berth with another store sees it too, from the creator in the labels.
    let other = tempfile::tempdir().unwrap();
    let mut c = sb.cmd(&["status", &name, "--json"]);
    c.env("XDG_STATE_HOME", other.path());
    let o = c.output().unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["state"], "provisioning", "{v}");
    kill(child);
    assert_eq!(sb.json(&["status", &name, "--json"])["state"], "incomplete");
    sb.ok(&["delete", &name, "--yes"]);
}
