//! Work in a workspace's home that a delete would lose: the check's script (run as
//! the workspace user, in the workspace or in a helper on its volume) and what its
//! output says. Every git repository under the home is looked at (uncommitted
//! changes, stashes, commits on no remote, commits with no remote at all, ignored
//! files changed since provisioning), and so are the files outside any repository
//! changed since provisioning (a user's notes are work too).
//!
//! Not counted (berth's own files, caches and shell histories; the README lists
//! them): see [`SKIPPED`].
use serde::Serialize;

/// Paths under the home (relative, no trailing slash) the check leaves out.
pub const SKIPPED: [&str; 16] = [
    ".berth",
    ".cache",
    ".npm",
    ".cargo/registry",
    ".cargo/git",
    ".rustup",
    "go/pkg",
    ".local/share/pnpm",
    ".bash_history",
    ".zsh_history",
    ".python_history",
    ".node_repl_history",
    ".lesshst",
    ".viminfo",
    ".wget-hsts",
    ".sudo_as_admin_successful",
];

/// Paths named in a finding, at most (the count is always whole).
const NAMED: usize = 10;

/// The check as a command: `sh -c SCRIPT check HOME REF`, REF the reference time
/// (Unix seconds): files changed after it are new work.
pub fn check_command(home: &str, reference: i64) -> Vec<String> {
    vec![
        "/bin/sh".into(),
        "-c".into(),
        script(),
        "berth-gc-check".into(),
        home.into(),
        reference.to_string(),
    ]
}

fn script() -> String {
    let prune: Vec<String> = SKIPPED.iter().map(|p| format!("-path ./{p}")).collect();
    let prune = prune.join(" -o ");
    // One line per finding, tab separated; `end` last so a cut-off output is seen.
    format!(
        r#"set -u
export GIT_OPTIONAL_LOCKS=0 LC_ALL=C
cd "$1" || {{ echo "error	cannot enter $1"; exit 3; }}
ref="$2"
command -v git >/dev/null 2>&1 || echo "error	git is not installed, repositories cannot be checked"
find . \( {prune} \) -prune -o -name .git -print 2>/dev/null | sed 's|/\.git$||' > /tmp/berth-gc-repos.$$ || true
while IFS= read -r r; do
  echo "repo	$r"
  command -v git >/dev/null 2>&1 || continue
  g() {{ git -C "$r" -c safe.directory='*' "$@"; }}
  # A repository git cannot read is not a clean one: its files are left out below.
  if ! g status --porcelain > /tmp/berth-gc-status.$$ 2>/dev/null; then
    echo "error	git cannot read the repository $r"
    continue
  fi
  n=$(wc -l < /tmp/berth-gc-status.$$)
  [ "$n" -gt 0 ] && echo "dirty	$r	$n"
  s=$(g stash list 2>/dev/null | wc -l)
  [ "$s" -gt 0 ] && echo "stash	$r	$s"
  if g rev-parse -q --verify HEAD >/dev/null 2>&1; then
    if [ -z "$(g remote 2>/dev/null)" ]; then
      c=$(g rev-list --count HEAD --branches --tags 2>/dev/null || echo 1)
      echo "noremote	$r	$c"
    else
      c=$(g rev-list --count HEAD --branches --tags --not --remotes 2>/dev/null || echo 1)
      [ "$c" -gt 0 ] && echo "unpushed	$r	$c"
    fi
  fi
  # -z: names as they are (without it, one with a space or an accent is quoted).
  g status --porcelain -z --ignored 2>/dev/null | tr '\0' '\n' | sed -n 's/^!! //p' | while IFS= read -r p; do
    case "$p" in */) continue;; esac
    # Modified or changed (moved in, `cp -p`) since the reference, as below.
    t=$(stat -c '%Y %Z' "$r/$p" 2>/dev/null || echo '0 0')
    [ "${{t% *}}" -gt "$ref" ] || [ "${{t#* }}" -gt "$ref" ] && echo "ignored	$r/$p"
  done
  head -n {NAMED} /tmp/berth-gc-status.$$ | sed "s|^...|path	$r	|"
done < /tmp/berth-gc-repos.$$
find . \( {prune} \) -prune -o -type f \( -newermt "@$ref" -o -newerct "@$ref" \) -print 2>/dev/null \
  | awk -v repos=/tmp/berth-gc-repos.$$ 'BEGIN {{ while ((getline r < repos) > 0) rs[r "/"] = 1 }}
      {{ in_repo = 0; for (r in rs) if (index($0, r) == 1) {{ in_repo = 1; break }}; if (!in_repo) print "file	" $0 }}'
rm -f /tmp/berth-gc-repos.$$ /tmp/berth-gc-status.$$
echo end
"#
    )
}

/// What the check found in one repository.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct RepoWork {
    /// Relative to the home (`./project`).
    pub path: String,
    /// Files with uncommitted changes (untracked included).
    pub uncommitted: u64,
    pub stashes: u64,
    /// Commits on no remote (the repository has remotes).
    pub unpushed: u64,
    /// Commits in a repository with no remote at all.
    pub no_remote: u64,
    /// Some of the changed paths.
    pub changed: Vec<String>,
}

impl RepoWork {
    fn has_work(&self) -> bool {
        self.uncommitted + self.stashes + self.unpushed + self.no_remote > 0
    }

    fn sentence(&self) -> String {
        let mut parts = Vec::new();
        let n = |v: u64, one: &str, many: &str| format!("{v} {}", if v == 1 { one } else { many });
        if self.uncommitted > 0 {
            parts.push(n(
                self.uncommitted,
                "uncommitted change",
                "uncommitted changes",
            ));
        }
        if self.stashes > 0 {
            parts.push(n(self.stashes, "stash", "stashes"));
        }
        if self.unpushed > 0 {
            parts.push(n(
                self.unpushed,
                "commit on no remote",
                "commits on no remote",
            ));
        }
        if self.no_remote > 0 {
            parts.push(format!(
                "{} and no remote",
                n(self.no_remote, "commit", "commits")
            ));
        }
        format!("{}: {}", self.path, parts.join(", "))
    }
}

/// Everything the check found.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct WorkFound {
    /// Repositories looked at (with or without work).
    pub repositories: usize,
    /// The repositories holding work.
    pub repos: Vec<RepoWork>,
    /// Files outside any repository, and ignored files in one, changed since
    /// provisioning (the first few; `files_changed` counts them all).
    pub files: Vec<String>,
    pub files_changed: usize,
    /// The check could not look everywhere: treated as work, never as none.
    pub problems: Vec<String>,
}

impl WorkFound {
    /// Is there anything a delete would lose (or could the check not tell)?
    pub fn any(&self) -> bool {
        !self.repos.is_empty() || self.files_changed > 0 || !self.problems.is_empty()
    }

    /// One sentence: "./app: 1 commit and no remote; 2 files changed outside
    /// repositories (notes.txt, ...)", or "no unsaved work (3 repositories clean)".
    pub fn sentence(&self) -> String {
        if !self.any() {
            return format!(
                "no unsaved work ({} {} clean, no other file changed since provisioning)",
                self.repositories,
                if self.repositories == 1 {
                    "repository"
                } else {
                    "repositories"
                }
            );
        }
        let mut parts: Vec<String> = self.repos.iter().map(RepoWork::sentence).collect();
        if self.files_changed > 0 {
            let shown = self.files.join(", ");
            let more = self.files_changed.saturating_sub(self.files.len());
            let more = if more > 0 {
                format!(", and {more} more")
            } else {
                String::new()
            };
            parts.push(format!(
                "{} changed since provisioning ({shown}{more})",
                if self.files_changed == 1 {
                    "1 file".to_string()
                } else {
                    format!("{} files", self.files_changed)
                }
            ));
        }
        for p in &self.problems {
            parts.push(format!("not checked: {p}"));
        }
        parts.join("; ")
    }

    /// Reads the check's output. Output without its `end` line (the check was cut
    /// off) is a problem, so it counts as work.
    pub fn parse(out: &str) -> Self {
        let mut w = WorkFound::default();
        let mut all: Vec<RepoWork> = Vec::new();
        let mut ended = false;
        for line in out.lines() {
            let f: Vec<&str> = line.split('\t').collect();
            let num = |i: usize| {
                f.get(i)
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .unwrap_or(1)
            };
            let repo = |all: &mut Vec<RepoWork>, p: &str| -> usize {
                match all.iter().position(|r| r.path == p) {
                    Some(i) => i,
                    None => {
                        all.push(RepoWork {
                            path: p.to_string(),
                            ..Default::default()
                        });
                        all.len() - 1
                    }
                }
            };
            match (f[0], f.get(1)) {
                ("end", _) => ended = true,
                ("error", Some(m)) => w.problems.push((*m).to_string()),
                ("repo", Some(p)) => {
                    repo(&mut all, p);
                }
                ("dirty", Some(p)) => {
                    let i = repo(&mut all, p);
                    all[i].uncommitted = num(2);
                }
                ("stash", Some(p)) => {
                    let i = repo(&mut all, p);
                    all[i].stashes = num(2);
                }
                ("unpushed", Some(p)) => {
                    let i = repo(&mut all, p);
                    all[i].unpushed = num(2);
                }
                ("noremote", Some(p)) => {
                    let i = repo(&mut all, p);
                    all[i].no_remote = num(2);
                }
                ("path", Some(p)) => {
                    let i = repo(&mut all, p);
                    if let Some(path) = f.get(2) {
                        all[i].changed.push((*path).to_string());
                    }
                }
                ("file" | "ignored", Some(p)) => {
                    w.files_changed += 1;
                    if w.files.len() < NAMED {
                        w.files.push((*p).to_string());
                    }
                }
                _ => {}
            }
        }
        if !ended {
            w.problems
                .push("the check ended early; its output was cut off".into());
        }
        w.repositories = all.len();
        w.repos = all.into_iter().filter(RepoWork::has_work).collect();
        w
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_repositories_files_and_problems() {
        let out = "repo\t./app\nnoremote\t./app\t2\nrepo\t./lib\ndirty\t./lib\t1\npath\t./lib\tREADME.md\nrepo\t./clean\nfile\t./notes.txt\nignored\t./lib/.env\nend\n";
        let w = WorkFound::parse(out);
        assert_eq!(w.repositories, 3);
        assert_eq!(w.repos.len(), 2);
        assert_eq!(w.repos[0].no_remote, 2);
        assert_eq!(w.repos[1].uncommitted, 1);
        assert_eq!(w.repos[1].changed, ["README.md"]);
        assert_eq!(w.files_changed, 2);
        assert!(w.any());
        assert_eq!(
            w.sentence(),
            "./app: 2 commits and no remote; ./lib: 1 uncommitted change; 2 files changed since provisioning (./notes.txt, ./lib/.env)"
        );
    }

    #[test]
    fn clean_output_is_no_work_and_cut_off_output_is_work() {
        let w = WorkFound::parse("repo\t./app\nend\n");
        assert!(!w.any());
        assert_eq!(
            w.sentence(),
            "no unsaved work (1 repository clean, no other file changed since provisioning)"
        );
        let cut = WorkFound::parse("repo\t./app\n");
        assert!(cut.any());
        assert!(cut.sentence().contains("cut off"), "{}", cut.sentence());
        let nogit = WorkFound::parse("error\tgit is not installed\nend\n");
        assert!(nogit.any());
    }

    /// Runs the check's script here (sh, git, GNU find) on `home`.
    fn run_check(home: &std::path::Path, reference: i64) -> WorkFound {
        let c = check_command(home.to_str().unwrap(), reference);
        let o = std::process::Command::new(&c[0])
            .args(&c[1..])
            .env("HOME", home)
            .output()
            .expect("sh runs");
        WorkFound::parse(&String::from_utf8_lossy(&o.stdout))
    }

    fn git(dir: &std::path::Path, args: &[&str]) {
        let o = std::process::Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(args)
            .output()
            .expect("git runs");
        assert!(o.status.success(), "git {args:?}: {o:?}");
    }

    #[test]
    fn ignored_files_with_spaces_or_accents_in_their_names_count() {
        let home = tempfile::tempdir().unwrap();
        let app = home.path().join("app");
        std::fs::create_dir(&app).unwrap();
        git(&app, &["init", "-q"]);
        std::fs::write(app.join(".gitignore"), "my notes.txt\ncafé.txt\n").unwrap();
        git(&app, &["add", ".gitignore"]);
        git(
            &app,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "i",
            ],
        );
        git(&app, &["remote", "add", "origin", "/nowhere"]);
        git(&app, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
        let reference = chrono::Utc::now().timestamp() - 60;
        assert!(
            !run_check(home.path(), reference).any(),
            "clean to begin with"
        );
        std::fs::write(app.join("my notes.txt"), "mine").unwrap();
        std::fs::write(app.join("café.txt"), "mine").unwrap();
        // Moved in with an old modification time: changed all the same.
        std::fs::write(app.join("old.log"), "mine").unwrap();
        let old = std::fs::File::options()
            .write(true)
            .open(app.join("old.log"))
            .unwrap();
        old.set_modified(std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_000))
            .unwrap();
        std::fs::write(app.join(".gitignore"), "my notes.txt\ncafé.txt\nold.log\n").unwrap();
        git(&app, &["add", ".gitignore"]);
        git(
            &app,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-qm",
                "j",
            ],
        );
        git(&app, &["update-ref", "refs/remotes/origin/main", "HEAD"]);
        let w = run_check(home.path(), reference);
        assert_eq!(w.files_changed, 3, "{w:?}");
        assert!(w.files.contains(&"./app/my notes.txt".to_string()), "{w:?}");
    }

    #[test]
    fn a_repository_git_cannot_read_is_a_problem_not_clean() {
        let home = tempfile::tempdir().unwrap();
        let broken = home.path().join("broken");
        std::fs::create_dir(&broken).unwrap();
        std::fs::write(broken.join(".git"), "gitdir: /nonexistent/wt\n").unwrap();
        std::fs::write(broken.join("draft.txt"), "mine").unwrap();
        let w = run_check(home.path(), chrono::Utc::now().timestamp() - 60);
        assert!(w.any(), "{w:?}");
        assert!(
            w.problems.iter().any(|p| p.contains("./broken")),
            "{:?}",
            w.problems
        );
    }

    #[test]
    fn the_script_skips_berths_files_and_takes_home_and_reference() {
        let c = check_command("/home/workspace", 1234);
        assert_eq!(c[4], "/home/workspace");
        assert_eq!(c[5], "1234");
        assert!(c[2].contains("-path ./.berth"));
        assert!(c[2].contains("-path ./.cache"));
    }
}
