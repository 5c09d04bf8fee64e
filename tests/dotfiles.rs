//! Dotfiles (issue 8, step 5) against the real engine: every install rule, branch,
//! target, inline files, a host directory, the config's defaults, a start-over on a
//! kept volume, and failures that name the step and leave nothing behind. The
//! repositories are served by a git daemon in one of the test's own workspaces.
mod common;
use common::*;
use std::process::{Command, Stdio};

/// Makes one bare repository `~/srv/NAME.git` per `(NAME, shell snippet)`, the
/// snippet filling its work tree (branch main; a snippet may commit more branches).
const MAKE_REPOS: &str = r##"set -e
mk() {
  d=~/w/$1; mkdir -p "$d"; cd "$d"; git init -q -b main .
  eval "$2"
  git add -A; git diff --cached --quiet || git -c user.email=t@t -c user.name=t commit -qm init
  git init -q --bare ~/srv/$1.git
  git push -q --all ~/srv/$1.git
  git --git-dir ~/srv/$1.git symbolic-ref HEAD refs/heads/main
  cd ~
}
ex() { printf '%s\n' "$2" > "$1"; chmod +x "$1"; }
rule() { printf '#!/bin/sh\necho %s > ~/rule\n' "$1"; }

mk explicit '
  ex install.sh "$(rule install.sh)"
  mkdir my; printf "#!/bin/bash\n[[ -n \$BASH_VERSION ]] && echo \"explicit-main \$PWD \$(id -un)\" > ~/rule\n" > my/inst
  git add -A; git -c user.email=t@t -c user.name=t commit -qm main
  git checkout -q -b alt
  printf "#!/bin/bash\n[[ -n \$BASH_VERSION ]] && echo \"explicit-alt \$PWD \$(id -un)\" > ~/rule\n" > my/inst
  git add -A; git -c user.email=t@t -c user.name=t commit -qm alt
  git checkout -q main'
mk inst 'ex install.sh "#!/bin/sh
echo install.sh > ~/rule; echo install > ~/o1; echo install > ~/o2; echo install > ~/o3"
  ex setup.sh "$(rule setup.sh)"; ex bootstrap.sh "$(rule bootstrap.sh)"; printf "all:\n\techo make > ~/rule\n" > Makefile'
mk setup 'rule setup.sh > setup.sh; ex bootstrap.sh "$(rule bootstrap.sh)"; mkdir script; ex script/setup "$(rule script/setup)"'
mk boot 'ex bootstrap.sh "$(rule bootstrap.sh)"; mkdir script; ex script/setup "$(rule script/setup)"; printf "all:\n\techo make > ~/rule\n" > Makefile'
mk scr 'mkdir script; ex script/setup "$(rule script/setup) && echo in \$PWD >> ~/rule"; printf "all:\n\techo make > ~/rule\n" > Makefile; echo x > .bashrc'
mk make 'printf "all:\n\techo make > \$(HOME)/rule\n" > Makefile; echo x > .bashrc; echo readme > README'
mk link 'echo "# from the dotfiles repo" > .bashrc; mkdir -p .config/app .github/workflows .ssh
  echo conf > .config/app/conf; echo ci > .github/workflows/ci.yml; echo "*.swp" > .gitignore
  echo "Host *" > .ssh/config; echo readme > README.md'
mk fail 'ex install.sh "#!/bin/sh
echo failing-now; echo broken >&2; exit 3"'
git daemon --detach --reuseaddr --export-all --base-path=/home/workspace/srv --port=9418
"##;

fn sh(sb: &Sandbox, ws: &str, script: &str) -> String {
    sb.ok(&["exec", ws, "--", "sh", "-c", script])
}

/// A create expected to succeed; returns its notes (stderr).
fn create_notes(sb: &Sandbox, name: &str, flags: &[&str]) -> String {
    let mut e = vec!["--json"];
    e.extend_from_slice(flags);
    let o = sb.create(name, &e);
    assert!(o.status.success(), "create {name} failed:\n{}", stderr(&o));
    stderr(&o)
}

/// A create expected to fail at the dotfiles step, leaving nothing behind.
fn create_fails(sb: &Sandbox, name: &str, flags: &[&str]) -> String {
    let o = sb.create(name, flags);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("failed at step \"dotfiles\""), "{err}");
    assert!(err.contains("Removed what it had created"), "{err}");
    assert!(!sb.container_exists(name) && !sb.volume_exists(name));
    err
}

fn done(sb: &Sandbox, name: &str) {
    sb.ok(&["delete", name, "--yes"]);
}

fn start_server(sb: &Sandbox) -> String {
    let srv = sb.name("srv");
    sb.create_ok(&srv, &[]);
    sh(sb, &srv, MAKE_REPOS);
    let ip = container_ip(&srv);
    let base = format!("git://{}:9418", ip);
    for _ in 0..50 {
        let probe = format!("{base}/link.git");
        if sb
            .berth(&["exec", &srv, "--", "git", "ls-remote", &probe])
            .status
            .success()
        {
            return base;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("git daemon did not come up");
}

#[test]
fn every_dotfiles_rule_installs_what_it_should() {
    let Some(sb) = Sandbox::new("dot", (2980, 2989)) else {
        return;
    };
    // The dotfiles are cloned from a git server in another workspace.
    sb.use_profile("open");
    let base = start_server(&sb);
    let url = |r: &str| format!("{base}/{r}.git");
    let rule = |ws: &str| sh(&sb, ws, "cat ~/rule");

    // The explicit script (not executable: run by its #!/bin/bash), on a branch, in a
    // custom target; install.sh is there too and is not used.
    let ws = sb.name("explicit");
    let notes = create_notes(
        &sb,
        &ws,
        &[
            "--dotfiles",
            &url("explicit"),
            "--dotfiles-branch",
            "alt",
            "--dotfiles-target",
            "~/my dots",
            "--dotfiles-script",
            "my/inst",
        ],
    );
    assert_eq!(
        rule(&ws),
        "explicit-alt /home/workspace/my dots workspace\n"
    );
    assert!(
        notes.contains("running the given install script my/inst"),
        "{notes}"
    );
    assert_eq!(
        sh(
            &sb,
            &ws,
            "cd ~/'my dots' && git rev-parse --abbrev-ref HEAD && stat -c %U ."
        ),
        "alt\nworkspace\n"
    );
    done(&sb, &ws);

    // Each rule in turn: the repository holds that one and the ones after it.
    for (repo, want, said) in [
        ("inst", "install.sh\n", "found install.sh"),
        ("setup", "setup.sh\n", "found setup.sh"),
        ("boot", "bootstrap.sh\n", "found bootstrap.sh"),
        (
            "scr",
            "script/setup\nin /home/workspace/.dotfiles\n",
            "found script/setup",
        ),
    ] {
        let ws = sb.name(repo);
        let notes = create_notes(&sb, &ws, &["--dotfiles", &url(repo)]);
        assert_eq!(rule(&ws), want, "{repo}");
        assert!(notes.contains(said), "{repo}: {notes}");
        done(&sb, &ws);
    }

    // A Makefile: make runs in the repository (the image needs make).
    let ws = sb.name("make");
    let notes = create_notes(&sb, &ws, &["--dotfiles", &url("make")]);
    assert_eq!(rule(&ws), "make\n");
    assert!(notes.contains("found Makefile: running make"), "{notes}");
    assert_eq!(sh(&sb, &ws, "test -L ~/.bashrc || echo plain"), "plain\n");
    done(&sb, &ws);

    // Nothing to run: the dotfiles at the top are linked; what was there is kept
    // aside; the repository's own metadata is not linked; ~/.ssh is merged, not replaced.
    let ws = sb.name("link");
    let notes = create_notes(&sb, &ws, &["--dotfiles", &url("link")]);
    assert!(
        notes.contains("symlinking 3 from the repository"),
        "{notes}"
    );
    assert!(
        notes.contains("kept the existing ~/.bashrc as ~/.bashrc.berth-backup"),
        "{notes}"
    );
    let linked = sh(
        &sb,
        &ws,
        "cd ~ && readlink .bashrc .config .ssh/config; cat .bashrc .config/app/conf; \
         grep -c 'executed by bash' .bashrc.berth-backup; test -d .ssh && ! test -L .ssh && test -s .ssh/authorized_keys && echo ssh-kept; \
         ls -d .github .gitignore README.md .git 2>&1 | grep -c 'No such'",
    );
    assert_eq!(
        linked,
        "/home/workspace/.dotfiles/.bashrc\n/home/workspace/.dotfiles/.config\n/home/workspace/.dotfiles/.ssh/config\n\
         # from the dotfiles repo\nconf\n1\nssh-kept\n4\n"
    );
    done(&sb, &ws);

    // The repository's install, then the host directory, then inline files: the
    // later ones win. Modes and inner links of the directory are kept.
    let dir = sb.dir.path().join("dots");
    write_tree(
        &dir,
        &[
            ("o2", "dir\n", 0o644),
            ("o3", "dir\n", 0o644),
            (".secret", "s\n", 0o600),
            (".local/bin/tool", "#!/bin/sh\necho tool-ran\n", 0o750),
        ],
    );
    std::os::unix::fs::symlink(".local/bin/tool", dir.join("tool-link")).unwrap();
    let ws = sb.name("order");
    let notes = create_notes(
        &sb,
        &ws,
        &[
            "--dotfiles",
            &url("inst"),
            "--dotfiles-dir",
            dir.to_str().unwrap(),
            "--dotfile",
            "o3=inline",
            "--dotfile",
            "~/.config/new/file=hello = world",
        ],
    );
    assert!(notes.contains("entries) into the home"), "{notes}");
    assert_eq!(
        sh(
            &sb,
            &ws,
            "cd ~ && cat rule o1 o2 o3; echo; cat .config/new/file; echo; \
             stat -c '%a %U %n' .secret .local/bin/tool . .local; readlink tool-link; ./tool-link"
        ),
        "install.sh\ninstall\ndir\ninline\nhello = world\n\
         600 workspace .secret\n750 workspace .local/bin/tool\n755 workspace .\n755 workspace .local\n\
         .local/bin/tool\ntool-ran\n"
    );
    done(&sb, &ws);

    // The config file's [dotfiles] apply without flags (repository, branch, target,
    // script and directory).
    // (`~/` in the config's dir is the host's home.)
    let cdir = sb.home().join("cfgdots");
    write_tree(&cdir, &[(".from-config-dir", "yes\n", 0o644)]);
    sb.write_config(&format!(
        "\n[dotfiles]\nurl = \"{}\"\nbranch = \"alt\"\ntarget = \"~/cfg\"\nscript = \"my/inst\"\ndir = \"~/cfgdots\"\n",
        url("explicit"),
    ));
    let ws = sb.name("config");
    create_notes(&sb, &ws, &[]);
    assert_eq!(
        sh(&sb, &ws, "cat ~/rule ~/.from-config-dir"),
        "explicit-alt /home/workspace/cfg workspace\nyes\n"
    );
    done(&sb, &ws);
    sb.write_config("");

    // A failing install script names the step and its output; nothing is left.
    let err = create_fails(&sb, &sb.name("fail"), &["--dotfiles", &url("fail")]);
    assert!(
        err.contains("install script install.sh") && err.contains("status 3"),
        "{err}"
    );
    assert!(
        err.contains("failing-now") && err.contains("broken"),
        "{err}"
    );
    // So does a --dotfiles-script the repository does not have.
    let err = create_fails(
        &sb,
        &sb.name("nope"),
        &["--dotfiles", &url("inst"), "--dotfiles-script", "nope.sh"],
    );
    assert!(err.contains("\"nope.sh\""), "{err}");

    // A missing directory, or one with a link out of it: refused before anything exists.
    let gone = sb.name("gone");
    assert_refused(
        &sb.create(&gone, &["--dotfiles-dir", "/nonexistent/dots"]),
        "--dotfiles-dir /nonexistent/dots",
    );
    let bad = sb.dir.path().join("bad");
    write_tree(&bad, &[("ok", "x", 0o644)]);
    std::os::unix::fs::symlink("/etc/passwd", bad.join("pw")).unwrap();
    assert_refused(
        &sb.create(&gone, &["--dotfiles-dir", bad.to_str().unwrap()]),
        "outside the directory",
    );
    assert!(!sb.container_exists(&gone) && !sb.volume_exists(&gone));

    // A create that starts over on its kept volume finds the clone: it is updated
    // (a new commit arrives), links already in place stay, no second backup.
    let ws = sb.name("again");
    stall_at_commit(&sb, &ws, &["--dotfiles", &url("link")]);
    let srv = sb.name("srv");
    sh(
        &sb,
        &srv,
        "cd ~/w/link && echo vim > .vimrc && git add -A && git -c user.email=t@t -c user.name=t commit -qm vim \
         && git push -q ~/srv/link.git main",
    );
    let notes = create_notes(&sb, &ws, &["--dotfiles", &url("link")]);
    assert!(
        notes.contains("~/.dotfiles already holds the dotfiles clone; updated it"),
        "{notes}"
    );
    assert!(
        notes.contains("1 symlinks made in the home, 3 already in place"),
        "{notes}"
    );
    assert_eq!(
        sh(
            &sb,
            &ws,
            "cd ~ && readlink .vimrc; ls -d .bashrc.berth-backup*"
        ),
        "/home/workspace/.dotfiles/.vimrc\n.bashrc.berth-backup\n"
    );
}

fn write_tree(root: &std::path::Path, files: &[(&str, &str, u32)]) {
    use std::os::unix::fs::PermissionsExt;
    for (rel, content, mode) in files {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, content).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(*mode)).unwrap();
    }
}

/// Runs a create that stops (debug hook) at its commit step, then kills it (SIGKILL): the
/// workspace is left incomplete with its volume, as after a crash.
fn stall_at_commit(sb: &Sandbox, name: &str, flags: &[&str]) {
    use std::io::{BufRead, BufReader};
    let key = format!("{}.pub", sb.key().display());
    let mut args = vec!["create", name, "--ssh-key", &key];
    args.extend_from_slice(flags);
    // berth itself, not under timeout(1), so the kill reaches it.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_berth"));
    cmd.args(&args);
    sb.env(&mut cmd);
    cmd.env("BERTH_DEBUG_STALL_AT", "commit")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("berth create");
    let err = child.stderr.take().unwrap();
    let mut seen = String::new();
    for line in BufReader::new(err).lines().map_while(Result::ok) {
        seen.push_str(&line);
        seen.push('\n');
        if line.contains("berth-debug: stalled at step commit") {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen.contains("stalled at step commit"), "{seen}");
    assert!(sb.volume_exists(name), "{seen}");
}
