//! The merge logic against real temporary git repositories (host git, no engine).
use super::*;
use std::process::Command as Std;

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Std::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn commit(dir: &Path, file: &str, text: &str, msg: &str) -> String {
    std::fs::write(dir.join(file), text).expect("write");
    git(dir, &["add", file]);
    git(dir, &["commit", "-q", "-m", msg]);
    git(dir, &["rev-parse", "HEAD"])
}

/// A repo on `main` with one commit, and branch `agent/x` with a commit on
/// `f.txt` (`agent_text`); `main` then gets `main_text` in `main_file` if given.
fn repo(agent_text: &str, main_change: Option<(&str, &str)>) -> tempfile::TempDir {
    let d = tempfile::tempdir().expect("tmp");
    let p = d.path();
    git(p, &["init", "-q", "-b", "main"]);
    git(p, &["config", "user.name", "t"]);
    git(p, &["config", "user.email", "t@example.invalid"]);
    commit(p, "f.txt", "one\ntwo\nthree\n", "start");
    git(p, &["checkout", "-q", "-b", "agent/x"]);
    commit(p, "f.txt", agent_text, "agent");
    git(p, &["checkout", "-q", "main"]);
    if let Some((file, text)) = main_change {
        commit(p, file, text, "main moves");
    }
    d
}

#[tokio::test]
async fn fast_forward_in_the_checked_out_work_tree() {
    let d = repo("one\ntwo\nTHREE\n", None);
    let tip = git(d.path(), &["rev-parse", "agent/x"]);
    let m = merge_branch(d.path(), "main", "agent/x")
        .await
        .expect("merge");
    assert_eq!(
        m,
        Merged::FastForward {
            commit: tip.clone()
        }
    );
    assert_eq!(git(d.path(), &["rev-parse", "main"]), tip);
    assert_eq!(
        std::fs::read_to_string(d.path().join("f.txt")).expect("read"),
        "one\ntwo\nTHREE\n"
    );
    // Again: nothing to do.
    let again = merge_branch(d.path(), "main", "agent/x")
        .await
        .expect("merge");
    assert_eq!(again, Merged::AlreadyMerged);
}

#[tokio::test]
async fn clean_merge_in_the_checked_out_work_tree_makes_a_merge_commit() {
    let d = repo("one\ntwo\nTHREE\n", Some(("g.txt", "other\n")));
    let old = git(d.path(), &["rev-parse", "main"]);
    let m = merge_branch(d.path(), "main", "agent/x")
        .await
        .expect("merge");
    let Merged::MergeCommit { commit } = m else {
        panic!("{m:?}")
    };
    assert_eq!(git(d.path(), &["rev-parse", "main"]), commit);
    let parents = git(d.path(), &["rev-list", "--parents", "-n1", "main"]);
    assert!(parents.contains(&old), "{parents}");
    assert!(git(d.path(), &["status", "--porcelain"]).is_empty());
}

#[tokio::test]
async fn a_dirty_checked_out_base_is_refused_and_left_alone() {
    let d = repo("one\ntwo\nTHREE\n", Some(("g.txt", "other\n")));
    std::fs::write(d.path().join("g.txt"), "edited by hand\n").expect("write");
    let old = git(d.path(), &["rev-parse", "main"]);
    let e = merge_branch(d.path(), "main", "agent/x")
        .await
        .expect_err("dirty");
    assert!(format!("{e:#}").contains("uncommitted changes"), "{e:#}");
    assert_eq!(git(d.path(), &["rev-parse", "main"]), old);
    assert_eq!(
        std::fs::read_to_string(d.path().join("g.txt")).expect("read"),
        "edited by hand\n"
    );
}

#[tokio::test]
async fn a_conflict_is_refused_with_its_files_and_nothing_moves() {
    let d = repo("one\ntwo\nAGENT\n", Some(("f.txt", "one\ntwo\nHUMAN\n")));
    // Not checked out: the base is updated by ref, or here, refused.
    git(d.path(), &["checkout", "-q", "--detach"]);
    let old = git(d.path(), &["rev-parse", "main"]);
    let e = merge_branch(d.path(), "main", "agent/x")
        .await
        .expect_err("conflict");
    let msg = format!("{e:#}");
    assert!(msg.contains("conflicts in f.txt"), "{msg}");
    assert!(msg.contains("nothing was changed"), "{msg}");
    assert_eq!(git(d.path(), &["rev-parse", "main"]), old);
    assert!(git(d.path(), &["status", "--porcelain"]).is_empty());
}

#[tokio::test]
async fn a_base_checked_out_nowhere_is_updated_by_ref() {
    let d = repo("one\ntwo\nTHREE\n", Some(("g.txt", "other\n")));
    git(d.path(), &["checkout", "-q", "--detach"]);
    let head = git(d.path(), &["rev-parse", "HEAD"]);
    let old = git(d.path(), &["rev-parse", "main"]);
    let m = merge_branch(d.path(), "main", "agent/x")
        .await
        .expect("merge");
    let Merged::MergeCommit { commit } = m else {
        panic!("{m:?}")
    };
    assert_eq!(git(d.path(), &["rev-parse", "main"]), commit);
    let parents = git(d.path(), &["rev-list", "--parents", "-n1", "main"]);
    assert!(parents.contains(&old), "{parents}");
    // The detached work tree did not move.
    assert_eq!(git(d.path(), &["rev-parse", "HEAD"]), head);
    let files = git(d.path(), &["ls-tree", "--name-only", "main"]);
    assert!(
        files.contains("f.txt") && files.contains("g.txt"),
        "{files}"
    );
    assert_eq!(git(d.path(), &["show", "main:f.txt"]), "one\ntwo\nTHREE");
}

#[tokio::test]
async fn fast_forward_by_ref_and_unknown_branches() {
    let d = repo("one\ntwo\nTHREE\n", None);
    git(d.path(), &["checkout", "-q", "--detach"]);
    let tip = git(d.path(), &["rev-parse", "agent/x"]);
    let m = merge_branch(d.path(), "main", "agent/x")
        .await
        .expect("merge");
    assert_eq!(
        m,
        Merged::FastForward {
            commit: tip.clone()
        }
    );
    assert_eq!(git(d.path(), &["rev-parse", "main"]), tip);
    let e = merge_branch(d.path(), "main", "agent/none")
        .await
        .expect_err("missing");
    assert!(format!("{e:#}").contains("agent/none"), "{e:#}");
}
