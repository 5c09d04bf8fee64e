//! Bringing an agent's work back (issue 12: "work is never lost"), against the real
//! engine: work the session's branch does not hold (commits on another branch,
//! a stash, a file hidden from a plain `git status` by the clone's config) keeps
//! the session, and a branch the agent moved back behind its base still comes
//! back. Removing a launched session ends its agent before the bring-back, so
//! what the agent commits on its way out comes back too.
mod common;
#[path = "common/fake_agent.rs"]
mod fake_agent;

use common::{stderr, Sandbox};
use fake_agent::{agent_config, git};
use std::path::PathBuf;

/// The scripted agent: its prompt says what it does in the clone.
const FAKE_AGENT: &str = r#"#!/bin/sh
if [ "$1" != -p ]; then
  # Interactive: on SIGTERM it commits its last words, then exits.
  trap '' HUP
  trap 'echo bye > BYE; git add BYE; git commit -qm bye; exit 0' TERM
  echo "fake-agent: waiting"
  sleep 100000 &
  wait
  exit 0
fi
shift
case "$*" in
  side) git checkout -q -b side && echo side > SIDE && git add SIDE && git commit -qm side ;;
  stash) echo more >> README && git stash -q ;;
  hidden) git config status.showUntrackedFiles no && echo new > NEW ;;
  rewind) git reset -q --hard HEAD~1 ;;
esac
echo "fake-agent: did $*"
"#;

/// A host repository with two commits on `main` and no remote.
fn host_repo(sb: &Sandbox, tag: &str) -> PathBuf {
    let repo = sb.dir.path().join(sb.name(tag));
    std::fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["config", "user.name", "Host User"]);
    git(&repo, &["config", "user.email", "host@example.com"]);
    for (i, text) in ["one\n", "two\n"].iter().enumerate() {
        std::fs::write(repo.join("README"), text).unwrap();
        git(&repo, &["add", "."]);
        git(&repo, &["commit", "-q", "-m", &format!("c{i}")]);
    }
    repo
}

/// This sandbox's sessions (the engine holds other tests' too).
fn sessions(sb: &Sandbox) -> Vec<String> {
    let mine = sb.dir.path().display().to_string();
    sb.json(&["agent", "ls", "--json"])
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["repo"].as_str().is_some_and(|r| r.starts_with(&mine)))
        .map(|s| s["name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn work_off_the_sessions_branch_keeps_the_session_and_a_rewound_branch_comes_back() {
    let Some(sb) = Sandbox::with_config("agret", (3940, 3949), &agent_config(FAKE_AGENT)) else {
        return;
    };
    let repo = host_repo(&sb, "ret");
    let r = repo.to_str().unwrap();

    // Work the session's branch does not hold: the session stays, the removal says
    // what is where.
    for (prompt, said) in [
        ("side", "refs/heads/side"),
        ("stash", "stash"),
        ("hidden", "NEW"),
    ] {
        let before = sessions(&sb).len();
        let o = sb.berth(&["agent", "run", "fake", r, "--no-push", "--prompt", prompt]);
        let err = stderr(&o);
        assert!(!o.status.success(), "{prompt}: {err}");
        assert!(err.contains("kept"), "{prompt}: {err}");
        assert!(err.contains(said), "{prompt}: {err}");
        assert_eq!(
            sessions(&sb).len(),
            before + 1,
            "{prompt}: the session went"
        );
    }

    // The agent moved its branch back behind the base: it still comes back.
    let o = sb.berth(&["agent", "run", "fake", r, "--no-push", "--prompt", "rewind"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(
        git(&repo, &["rev-parse", "fake/session-4"]),
        git(&repo, &["rev-parse", "main~1"])
    );
    assert_eq!(sessions(&sb).len(), 3);
}

#[test]
fn removing_a_launched_session_ends_its_agent_first_and_keeps_its_last_commit() {
    let Some(sb) = Sandbox::with_config("agstop", (3950, 3959), &agent_config(FAKE_AGENT)) else {
        return;
    };
    let repo = host_repo(&sb, "stp");
    let out = sb.ok(&["agent", "launch", "fake", repo.to_str().unwrap()]);
    assert!(out.contains("launched"), "{out}");
    let name = sessions(&sb).pop().expect("the session");
    // The agent is up (its trap set) once it says so.
    let up = (0..100).any(|_| {
        let pane = sb.berth(&[
            "exec",
            &name,
            "--",
            "tmux",
            "capture-pane",
            "-p",
            "-t",
            "agent",
        ]);
        common::stdout(&pane).contains("fake-agent: waiting") || {
            std::thread::sleep(std::time::Duration::from_millis(200));
            false
        }
    });
    assert!(up, "the agent never said it waits");
    let o = sb.ok(&["agent", "rm", &name, "--yes", "--no-push"]);
    assert!(o.contains("1 commit(s) ahead"), "{o}");
    assert_eq!(git(&repo, &["show", "fake/session-1:BYE"]), "bye");
    assert!(sessions(&sb).is_empty());
}
