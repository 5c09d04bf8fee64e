//! Agent sessions against the real engine (issue 12): a scripted agent (a shell
//! script standing in for an agent CLI) edits a file and commits, in sessions on a
//! temp host repository with a local bare remote.
mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;
#[path = "common/tmux.rs"]
mod tmux;

use common::{stderr, stdout, Sandbox};
use fake_agent::{agent_config, git};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The scripted agent: `-p TEXT` appends TEXT to AGENT.md and commits it (exits 3
/// when TEXT says "fail", sleeps first when it says "slow"); without `-p` it
/// commits once and waits (an interactive agent).
const FAKE_AGENT: &str = r#"#!/bin/sh
if [ "$1" = -p ]; then
  shift
  echo "fake-agent: $*"
  case "$*" in *slow*) sleep 5;; esac
  echo "$*" >> AGENT.md
  git add AGENT.md && git commit -q -m "fake: $*"
  echo "fake-agent: committed"
  case "$*" in *fail*) exit 3;; esac
  exit 0
fi
echo "fake-agent: interactive in $(pwd)"
echo interactive >> AGENT.md
git add AGENT.md && git commit -q -m "fake: interactive"
echo "fake-agent: waiting"
exec sleep 100000
"#;

/// A host repository (named uniquely: session names carry its directory's name)
/// with one commit, a subdirectory, and a bare remote `origin` holding `main`.
fn host_repo(sb: &Sandbox, tag: &str) -> (PathBuf, PathBuf) {
    let repo = sb.dir.path().join(sb.name(tag));
    let remote = sb.dir.path().join(format!("{tag}-remote.git"));
    std::fs::create_dir_all(repo.join("sub/dir")).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Host User"]);
    git(&repo, &["config", "user.email", "host@example.com"]);
    std::fs::write(repo.join("README"), "hello\n").unwrap();
    std::fs::write(repo.join("sub/dir/keep"), "x\n").unwrap();
    git(&repo, &["add", "."]);
    git(&repo, &["commit", "-q", "-m", "init"]);
    git(
        sb.dir.path(),
        &["init", "-q", "--bare", remote.to_str().unwrap()],
    );
    git(
        &repo,
        &["remote", "add", "origin", remote.to_str().unwrap()],
    );
    git(&repo, &["push", "-q", "-u", "origin", "main"]);
    (repo, remote)
}

fn has_branch(repo: &Path, b: &str) -> bool {
    Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(["rev-parse", "-q", "--verify", &format!("refs/heads/{b}")])
        .output()
        .unwrap()
        .status
        .success()
}

/// This sandbox's sessions (the engine holds other tests' too).
fn sessions(sb: &Sandbox) -> Vec<serde_json::Value> {
    let mine = sb.dir.path().display().to_string();
    sb.json(&["agent", "ls", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["repo"].as_str().is_some_and(|r| r.starts_with(&mine)))
        .cloned()
        .collect()
}

#[test]
fn parallel_sessions_get_their_own_branches_and_come_back_pushed() {
    let Some(sb) = Sandbox::with_config("agpar", (3830, 3839), &agent_config(FAKE_AGENT)) else {
        return;
    };
    let (repo, remote) = host_repo(&sb, "par");
    // One names the repository; the other finds it from a subdirectory.
    let mut a = sb.cmd(&[
        "agent",
        "run",
        "fake",
        repo.to_str().unwrap(),
        "--prompt",
        "one",
    ]);
    let mut b = sb.cmd(&["agent", "run", "fake", "--prompt", "two"]);
    b.current_dir(repo.join("sub/dir"));
    for c in [&mut a, &mut b] {
        c.stdout(Stdio::piped()).stderr(Stdio::piped());
    }
    let (a, b) = (a.spawn().unwrap(), b.spawn().unwrap());
    let outs = [a.wait_with_output().unwrap(), b.wait_with_output().unwrap()];
    for (o, word) in outs.iter().zip(["one", "two"]) {
        assert!(o.status.success(), "{}\n{}", stdout(o), stderr(o));
        assert!(
            stdout(o).contains(&format!("fake-agent: {word}")),
            "{}",
            stdout(o)
        );
        assert!(stderr(o).contains("pushed to origin"), "{}", stderr(o));
    }
    // Separate branches, each with its own session's commit only (separate clones).
    let mut seen = Vec::new();
    for b in ["fake/session-1", "fake/session-2"] {
        assert!(has_branch(&repo, b), "{b} missing in the host repository");
        assert_eq!(
            git(&repo, &["rev-list", "--count", &format!("main..{b}")]),
            "1"
        );
        seen.push(git(&repo, &["show", &format!("{b}:AGENT.md")]));
        assert!(
            has_branch(&remote, b),
            "{b} was not pushed to the bare remote"
        );
        assert_eq!(
            git(&repo, &["log", "-1", "--format=%an", b]),
            "Host User",
            "the clone takes the host's git identity"
        );
    }
    seen.sort();
    assert_eq!(seen, ["one", "two"]);
    // The host's checkout was never touched; the sessions are gone.
    assert_eq!(git(&repo, &["symbolic-ref", "--short", "HEAD"]), "main");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    assert!(sessions(&sb).is_empty());
}

#[test]
fn prompt_sessions_stream_exit_with_the_agents_status_and_no_push_keeps_it_local() {
    let Some(sb) = Sandbox::with_config("agprompt", (3840, 3849), &agent_config(FAKE_AGENT)) else {
        return;
    };
    let (repo, remote) = host_repo(&sb, "prm");
    let r = repo.to_str().unwrap();
    // Streams: the first line arrives while the agent still runs (it sleeps).
    let mut c = sb.cmd(&["agent", "run", "fake", r, "--no-push", "--prompt", "slow"]);
    let mut child = c.stdout(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    assert_eq!(first, "fake-agent: slow");
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first line came only after the agent ended"
    );
    let rest: Vec<String> = lines.map(|l| l.unwrap()).collect();
    assert_eq!(rest, ["fake-agent: committed"]);
    assert!(child.wait().unwrap().success());
    assert!(has_branch(&repo, "fake/session-1"));
    assert!(!has_branch(&remote, "fake/session-1"), "--no-push pushed");

    // A failing agent: berth exits with its status; its commit still comes back.
    let o = sb.berth(&[
        "agent",
        "run",
        "fake",
        r,
        "--no-push",
        "--prompt",
        "fail now",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stdout(&o).contains("fake-agent: fail now"));
    assert_eq!(git(&repo, &["show", "fake/session-2:AGENT.md"]), "fail now");
    assert!(sessions(&sb).is_empty());
}

#[test]
fn launch_connect_read_only_mount_and_a_removal_that_cannot_bring_back() {
    let Some(sb) = Sandbox::with_config("aglaunch", (3850, 3859), &agent_config(FAKE_AGENT)) else {
        return;
    };
    let (repo, remote) = host_repo(&sb, "lch");
    let out = sb.ok(&["agent", "launch", "fake", repo.to_str().unwrap()]);
    assert!(out.contains("launched"), "{out}");
    let s = sessions(&sb);
    assert_eq!(s.len(), 1);
    let name = s[0]["name"].as_str().unwrap().to_string();
    assert_eq!(s[0]["branch"], "fake/session-1");
    assert_eq!(s[0]["agent"], "fake");

    // The session's labels are on its workspace, not on its sidecars (the proxy).
    let labels = |c: &str| {
        stdout(&common::docker(&[
            "inspect",
            "--format",
            "{{json .Config.Labels}}",
            c,
        ]))
    };
    assert!(labels(&format!("workspace-{name}")).contains("dev.berth.agent.branch"));
    let proxy = labels(&format!("workspace-{name}.proxy"));
    assert!(
        proxy.contains("dev.berth.sidecar") && !proxy.contains("dev.berth.agent"),
        "{proxy}"
    );

    // The host repository is mounted read-only.
    let o = sb.berth(&["exec", &name, "--", "touch", "/mnt/berth/repo/x"]);
    assert!(!o.status.success(), "a write into the mount succeeded");
    assert!(!repo.join("x").exists());

    // connect in a terminal shows the agent; detaching leaves it running.
    let cmd = format!(
        "env HOME={} XDG_CONFIG_HOME={} XDG_STATE_HOME={} TERM=xterm-256color {} agent connect {name}; echo connect-exit=$?; sleep 300",
        sb.home().display(),
        sb.dir.path().join("config").display(),
        sb.dir.path().join("state").display(),
        env!("CARGO_BIN_EXE_berth")
    );
    let t = tmux::Tmux::start("agents", 100, 30, &cmd);
    t.wait_for("the agent's output", 60, |s| {
        s.contains("fake-agent: waiting")
    });
    t.keys(&["C-b", "d"]);
    t.wait_for("the detach", 30, |s| s.contains("connect-exit="));
    drop(t);
    sb.ok(&["exec", &name, "--", "tmux", "has-session", "-t", "agent"]);
    assert_eq!(sessions(&sb)[0]["ahead"], 1);

    // The host's branch diverged: the removal keeps the session and says why.
    git(&repo, &["branch", "fake/session-1", "main"]);
    git(&repo, &["checkout", "-q", "fake/session-1"]);
    std::fs::write(repo.join("HOST"), "host\n").unwrap();
    git(&repo, &["add", "HOST"]);
    git(&repo, &["commit", "-q", "-m", "host work"]);
    git(&repo, &["checkout", "-q", "main"]);
    let o = sb.berth(&["agent", "rm", &name, "--yes"]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("diverged"), "{}", stderr(&o));
    assert!(stderr(&o).contains("kept"), "{}", stderr(&o));
    assert!(sb.container_exists(&name), "the workspace went");
    assert_eq!(sessions(&sb).len(), 1);

    // Once the host's branch is out of the way, it comes back (and is pushed).
    git(&repo, &["branch", "-D", "fake/session-1"]);
    let o = sb.ok(&["agent", "rm", &name, "--yes"]);
    assert!(o.contains("pushed to origin"), "{o}");
    assert_eq!(
        git(&repo, &["show", "fake/session-1:AGENT.md"]),
        "interactive"
    );
    assert!(has_branch(&remote, "fake/session-1"));
    assert!(!sb.container_exists(&name));
}

#[test]
fn an_interactive_run_in_a_terminal_ends_with_its_branch_back_and_the_session_gone() {
    let Some(sb) = Sandbox::with_config("agint", (3980, 3989), &agent_config(FAKE_AGENT)) else {
        return;
    };
    let (repo, remote) = host_repo(&sb, "int");
    let cmd = format!(
        "cd {} && env HOME={} XDG_CONFIG_HOME={} XDG_STATE_HOME={} TERM=xterm-256color {} agent run fake; echo run-exit=$?; sleep 300",
        repo.join("sub").display(),
        sb.home().display(),
        sb.dir.path().join("config").display(),
        sb.dir.path().join("state").display(),
        env!("CARGO_BIN_EXE_berth")
    );
    let t = tmux::Tmux::start("agentrun", 100, 30, &cmd);
    // The agent runs with a terminal, in its clone, and has committed.
    let s = t.wait_for("the interactive agent", 120, |s| {
        s.contains("fake-agent: waiting")
    });
    assert!(
        s.contains("fake-agent: interactive in /home/workspace/"),
        "{s}"
    );
    assert_eq!(sessions(&sb).len(), 1);
    // Ctrl-C reaches the agent (the terminal is the workspace's): it ends, and
    // the session ends with it, its branch brought back and pushed.
    t.keys(&["C-c"]);
    let s = t.wait_for("the session's end", 120, |s| s.contains("run-exit="));
    drop(t);
    assert!(s.contains("pushed to origin"), "{s}");
    assert!(has_branch(&repo, "fake/session-1"));
    assert!(has_branch(&remote, "fake/session-1"));
    assert_eq!(
        git(&repo, &["show", "fake/session-1:AGENT.md"]),
        "interactive"
    );
    assert!(sessions(&sb).is_empty(), "the ephemeral session stayed");
}
