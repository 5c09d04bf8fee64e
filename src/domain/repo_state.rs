//! The repository check of a preflight (issue 12): a session starts from the
//! host repository's last commit, so the path must be a git work tree with a
//! commit, and uncommitted changes (which the session would not see) are refused
//! unless `--force`. Pure: git's answers come in, the check goes out.
use super::preflight::Check;

/// The check's name in a preflight.
pub const NAME: &str = "repo_state";
/// How many changed paths the sentence names.
const SHOWN: usize = 5;

/// What git said about the path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RepoFacts {
    /// Not a git work tree (git's own words, or why git could not be asked).
    NotARepo { reason: String },
    /// A work tree without a commit yet.
    NoCommit,
    /// A work tree at `head` (on `branch`, None when detached) with these changed
    /// paths (staged, unstaged, untracked and not ignored).
    Tree {
        head: String,
        branch: Option<String>,
        changed: Vec<String>,
    },
}

/// The paths in `git status --porcelain=v1 -z` output: entries `XY PATH` separated
/// by NUL, a rename or copy followed by its original path (skipped); ignored
/// entries (`!!`) are not changes.
pub fn parse_porcelain_z(out: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut it = out.split('\0');
    while let Some(entry) = it.next() {
        if entry.len() < 4 {
            continue;
        }
        let (xy, path) = entry.split_at(3);
        let xy = xy.trim_end();
        if xy == "!!" {
            continue;
        }
        if xy.starts_with('R') || xy.starts_with('C') {
            it.next();
        }
        paths.push(path.to_string());
    }
    paths
}

/// The check for the repository at `path`.
pub fn check(path: &str, facts: &RepoFacts, force: bool) -> Check {
    match facts {
        RepoFacts::NotARepo { reason } => Check::fail(
            NAME,
            format!("{path} is not a git work tree ({reason})"),
            format!("give the path of a git repository (`git -C {path} rev-parse --show-toplevel` finds the one around it), or make one: `git -C {path} init && git -C {path} add -A && git -C {path} commit -m initial`"),
        ),
        RepoFacts::NoCommit => Check::fail(
            NAME,
            format!("{path} has no commit yet: a session starts from the last commit"),
            format!("commit first: `git -C {path} add -A && git -C {path} commit -m initial`"),
        ),
        RepoFacts::Tree { head, branch, changed } => {
            let at = match branch {
                Some(b) => format!("{} on {b}", short(head)),
                None => format!("{} (detached)", short(head)),
            };
            if changed.is_empty() {
                return Check::pass(NAME, format!("{path} is clean at {at}"));
            }
            let n = changed.len();
            let what = format!(
                "{n} uncommitted change{} ({})",
                if n == 1 { "" } else { "s" },
                listing(changed)
            );
            if force {
                Check::pass(
                    NAME,
                    format!("{path} at {at} has {what}; allowed by --force: the session starts from the last commit without them"),
                )
            } else {
                Check::fail(
                    NAME,
                    format!("{path} has {what}: the session starts from the last commit and would not see them"),
                    format!("commit them (`git -C {path} commit -am ...`) or stash them (`git -C {path} stash -u`), or pass --force to start from the last commit anyway"),
                )
            }
        }
    }
}

fn short(head: &str) -> &str {
    head.get(..12).unwrap_or(head)
}

fn listing(changed: &[String]) -> String {
    let mut s = changed
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if changed.len() > SHOWN {
        s.push_str(&format!(" and {} more", changed.len() - SHOWN));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn porcelain_paths_skip_ignored_and_rename_sources() {
        let out = " M src/a.rs\0A  new file.txt\0R  to.rs\0from.rs\0?? scratch/\0!! target/\0";
        assert_eq!(
            parse_porcelain_z(out),
            ["src/a.rs", "new file.txt", "to.rs", "scratch/"]
        );
        assert!(parse_porcelain_z("").is_empty());
    }

    #[test]
    fn clean_passes_dirty_is_refused_unless_forced() {
        let tree = |changed: Vec<&str>| RepoFacts::Tree {
            head: "0123456789abcdef0123".into(),
            branch: Some("main".into()),
            changed: changed.into_iter().map(String::from).collect(),
        };
        let c = check("/r", &tree(vec![]), false);
        assert!(
            c.passed && c.detail.contains("0123456789ab on main"),
            "{c:?}"
        );
        let many: Vec<&str> = vec!["a", "b", "c", "d", "e", "f", "g"];
        let c = check("/r", &tree(many.clone()), false);
        assert!(!c.passed);
        assert!(
            c.detail
                .contains("7 uncommitted changes (a, b, c, d, e and 2 more)"),
            "{}",
            c.detail
        );
        let g = c.guidance.unwrap();
        assert!(g.contains("--force") && g.contains("stash"), "{g}");
        let c = check("/r", &tree(many), true);
        assert!(c.passed && c.detail.contains("--force"));
    }

    #[test]
    fn not_a_repo_and_no_commit_say_what_to_do() {
        let c = check(
            "/x",
            &RepoFacts::NotARepo {
                reason: "no .git".into(),
            },
            true,
        );
        assert!(!c.passed && c.guidance.unwrap().contains("git -C /x init"));
        let c = check("/x", &RepoFacts::NoCommit, true);
        assert!(!c.passed && c.guidance.unwrap().contains("commit"));
    }

    proptest! {
        #[test]
        fn any_path_round_trips_through_porcelain(
            paths in proptest::collection::vec("[a-zA-Z0-9 ._/-]{1,20}", 0..6)
        ) {
            let out: String = paths.iter().map(|p| format!("?? {p}\0")).collect();
            prop_assert_eq!(parse_porcelain_z(&out), paths);
        }
    }
}
