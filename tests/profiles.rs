//! Purpose profiles against the real engine: each profile's tools inside a workspace
//! made with it, `clean` forwarding nothing, try-repo's choice per marker file, a
//! failing profile setup, a changed user profile rebuilding its image, and an
//! outdated base image warned about. Profile images are built once per run (the
//! tag names the definition and base; concurrent creates wait on one build) and
//! labelled with the run, so the run's cleanup removes them.
mod common;
use common::*;
use std::sync::OnceLock;

/// This run's base image, built once from this berth's embedded definition under a
/// tag of its own: `berth/workspace:latest` is shared with every other berth on the
/// machine (and may be rebuilt from another definition while these tests run).
fn base_image() -> &'static str {
    static BASE: OnceLock<String> = OnceLock::new();
    BASE.get_or_init(|| {
        let tag = format!("berth/workspace-test:{}", run_id());
        if !docker(&["image", "inspect", &tag]).status.success() {
            let sb = Sandbox::new("prof-base", (2979, 2979)).expect("engine");
            let o = sb.berth(&["image", "build", "--tag", &tag]);
            assert!(o.status.success(), "building {tag}: {}", stderr(&o));
        }
        tag
    })
}

/// A sandbox whose workspaces run this run's base image (and profiles over it).
fn sandbox(case: &str, range: (u16, u16)) -> Option<Sandbox> {
    if !engine_or_skip(case) {
        return None;
    }
    let sb = Sandbox::new(case, range)?;
    use_image(&sb, base_image());
    Some(sb)
}

/// Sets the sandbox's `image` (a top-level key: before the config's tables).
fn use_image(sb: &Sandbox, image: &str) {
    sb.write_config("");
    let text = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(sb.config_file(), format!("image = \"{image}\"\n{text}")).unwrap();
}

fn exec(sb: &Sandbox, name: &str, script: &str) -> String {
    sb.ok(&["exec", name, "--", "sh", "-lc", script])
}

fn label(name: &str, key: &str) -> String {
    stdout(&docker(&[
        "inspect",
        "-f",
        &format!("{{{{index .Config.Labels \"{key}\"}}}}"),
        &format!("workspace-{name}"),
    ]))
    .trim()
    .to_string()
}

#[test]
fn python_has_a_venv_on_path_and_uv_over_exec_and_ssh() {
    let Some(sb) = sandbox("prof-py", (2960, 2961)) else {
        return;
    };
    let name = sb.name("py");
    sb.create_ok(&name, &["--profile", "python"]);
    assert_eq!(label(&name, "dev.berth.profile"), "python");
    let prefix = sb.ok(&[
        "exec",
        &name,
        "--",
        "python",
        "-c",
        "import sys; print(sys.prefix)",
    ]);
    assert_eq!(prefix.trim(), "/home/workspace/.venv");
    assert!(sb
        .ok(&["exec", &name, "--", "uv", "--version"])
        .starts_with("uv "));
    let env = sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo $VIRTUAL_ENV; echo $PATH",
    ]);
    assert!(
        env.starts_with("/home/workspace/.venv\n/home/workspace/.venv/bin:"),
        "{env}"
    );
    // Over ssh too (the image's /etc/berth/profile.env, sourced by every shell).
    let o = sb.berth(&[
        "ssh",
        &name,
        "--",
        "echo $VIRTUAL_ENV; command -v python; uv --version",
    ]);
    let out = stdout(&o);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        out.starts_with("/home/workspace/.venv\n/home/workspace/.venv/bin/python\nuv "),
        "{out}"
    );
    // The venv is in the home (a volume) and the build's CA is not left behind.
    exec(
        &sb,
        &name,
        "test -x ~/.venv/bin/pip && test ! -e /tmp/berth-build-ca.crt",
    );
    let env = exec(&sb, &name, "env");
    assert!(!env.contains("berth-build-ca"), "{env}");
}

#[test]
fn node_has_npm_and_corepack() {
    let Some(sb) = sandbox("prof-node", (2962, 2962)) else {
        return;
    };
    let name = sb.name("node");
    sb.create_ok(&name, &["--profile", "node"]);
    let out = exec(
        &sb,
        &name,
        "node -e 'console.log(1 + 1)' && npm --version >/dev/null && corepack --version >/dev/null && command -v yarn && command -v pnpm",
    );
    assert!(out.starts_with("2\n"), "{out}");
    assert!(out.contains("/yarn\n") && out.contains("/pnpm\n"), "{out}");
}

#[test]
fn rust_has_cargo_and_go_has_go() {
    let Some(sb) = sandbox("prof-rust-go", (2963, 2964)) else {
        return;
    };
    let rust = sb.name("rust");
    sb.create_ok(&rust, &["--profile", "rust"]);
    let out = exec(
        &sb,
        &rust,
        "cargo --version && rustc --version && pkg-config --exists openssl && echo ssl",
    );
    assert!(
        out.starts_with("cargo ") && out.contains("rustc ") && out.ends_with("ssl\n"),
        "{out}"
    );
    let go = sb.name("go");
    sb.create_ok(&go, &["--profile", "go"]);
    assert!(exec(&sb, &go, "go version").starts_with("go version go"));
}

#[test]
fn general_runs_the_base_with_its_tools_and_clean_forwards_nothing() {
    let Some(sb) = sandbox("prof-clean", (2965, 2966)) else {
        return;
    };
    std::fs::write(
        sb.home().join(".gitconfig"),
        "[user]\n\tname = Host Person\n",
    )
    .unwrap();
    // gh's config directory: $XDG_CONFIG_HOME/gh (the sandbox sets XDG_CONFIG_HOME).
    let gh = sb.dir.path().join("config/gh");
    std::fs::create_dir_all(&gh).unwrap();
    std::fs::write(
        gh.join("hosts.yml"),
        "github.com:\n    oauth_token: gho_profiletest\n    user: x\n",
    )
    .unwrap();
    let run = |name: &str, extra: &[&str]| {
        let key = format!("{}.pub", sb.key().display());
        let mut args = vec!["create", name, "--json", "--ssh-key", key.as_str()];
        args.extend_from_slice(extra);
        let o = sb
            .cmd(&args)
            .env("OPENAI_API_KEY", "sk-profile-test")
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
    };
    // general: the base image itself, its tools present, forwarding on.
    let general = sb.name("general");
    run(&general, &[]);
    let image = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.Config.Image}}",
        &format!("workspace-{general}"),
    ]));
    assert_eq!(image.trim(), base_image());
    exec(&sb, &general, "for t in git curl wget jq tree make gcc vi less rsync; do command -v $t >/dev/null || { echo missing $t; exit 1; }; done");
    assert!(exec(&sb, &general, "cat ~/.gitconfig").contains("Host Person"));
    assert!(exec(&sb, &general, "echo $GH_TOKEN $OPENAI_API_KEY")
        .contains("gho_profiletest sk-profile-test"));

    let clean = sb.name("clean");
    run(&clean, &["--profile", "clean"]);
    assert_eq!(label(&clean, "dev.berth.profile"), "clean");
    assert_eq!(label(&clean, "dev.berth.forward"), "");
    exec(
        &sb,
        &clean,
        "test ! -e ~/.gitconfig && test ! -e ~/.config/gh",
    );
    assert_eq!(
        exec(&sb, &clean, "echo \"[$GH_TOKEN][$OPENAI_API_KEY]\""),
        "[][]\n"
    );
    assert!(!exec(&sb, &clean, "git config --global --list || true").contains("Host Person"));
}

/// A git daemon in one of the test's own workspaces serving one repo per marker.
fn repo_server(sb: &Sandbox, repos: &[(&str, &str)]) -> String {
    let srv = sb.name("srv");
    sb.create_ok(&srv, &["--profile", "clean"]);
    let mut script = String::from("set -e; mkdir -p ~/srv; ");
    for (repo, file) in repos {
        script.push_str(&format!(
            "git init -q --bare ~/srv/{repo}.git; rm -rf ~/w && git init -q ~/w && cd ~/w && echo x > {file} && echo r > README.md && git add . && \
             git -c user.email=t@t -c user.name=t commit -qm init && git push -q ~/srv/{repo}.git HEAD:refs/heads/main && \
             git --git-dir ~/srv/{repo}.git symbolic-ref HEAD refs/heads/main; cd; "
        ));
    }
    script.push_str(
        "git daemon --detach --reuseaddr --export-all --base-path=/home/workspace/srv --port=9418",
    );
    sb.ok(&["exec", &srv, "--", "sh", "-c", &script]);
    let ip = container_ip(&srv);
    let base = format!("git://{}:9418", ip);
    for _ in 0..50 {
        let probe = std::process::Command::new("git")
            .args(["ls-remote", &format!("{base}/{}.git", repos[0].0)])
            .output()
            .unwrap();
        if probe.status.success() {
            return base;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    panic!("git daemon did not come up");
}

#[test]
fn try_repo_picks_the_profile_from_the_marker_files() {
    let Some(sb) = sandbox("prof-try", (2967, 2970)) else {
        return;
    };
    // The repositories are cloned from a git server in another workspace.
    sb.use_profile("open");
    use_image(&sb, base_image());
    let o = sb.create(&sb.name("none"), &["--profile", "try-repo"]);
    assert_refused(&o, "--clone URL");
    let cases = [
        ("r-rust", "Cargo.toml", "rust", "cargo --version"),
        (
            "r-py",
            "pyproject.toml",
            "python",
            "python -c 'import sys; print(sys.prefix)'",
        ),
        ("r-node", "package.json", "node", "node -e 'console.log(2)'"),
        ("r-go", "go.mod", "go", "go version"),
        ("r-plain", "Makefile", "general", "jq --version"),
    ];
    let repos: Vec<(&str, &str)> = cases.iter().map(|c| (c.0, c.1)).collect();
    let base = repo_server(&sb, &repos);
    for (repo, marker, want, tool) in cases {
        let name = sb.name(repo);
        let url = format!("{base}/{repo}.git");
        let o = sb.create(&name, &["--profile", "try-repo", "--clone", &url]);
        assert!(o.status.success(), "{repo}: {}", stderr(&o));
        assert!(
            stderr(&o).contains(&format!("picked profile {want}")),
            "{repo}: {}",
            stderr(&o)
        );
        assert_eq!(label(&name, "dev.berth.profile"), want, "{marker}");
        exec(&sb, &name, &format!("test -f ~/repo/{marker} && {tool}"));
        // Keep the machine light: the choice is proven, the workspace can go.
        sb.ok(&["delete", &name, "--yes"]);
    }
}

#[test]
fn a_failing_profile_setup_names_its_step_and_leaves_nothing() {
    let Some(sb) = sandbox("prof-fail", (2971, 2971)) else {
        return;
    };
    let dir = sb.config_dir().join("profiles");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("broken.toml"),
        "description = \"fails\"\nsetup = [\"echo before-failing\", \"echo boom >&2; exit 3\"]\n",
    )
    .unwrap();
    let name = sb.name("broken");
    let o = sb.create(&name, &["--profile", "broken"]);
    let err = stderr(&o);
    assert!(!o.status.success());
    assert!(err.contains("failed at step \"profile\""), "{err}");
    assert!(
        err.contains("setup command 2 of profile broken") && err.contains("boom"),
        "{err}"
    );
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
    assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
    // A bad profile file is refused with its file, line and field.
    std::fs::write(
        dir.join("typo.toml"),
        "description = \"x\"\npackages = [\"no such\"]\n",
    )
    .unwrap();
    let o = sb.berth(&["profiles"]);
    assert_refused(&o, "typo.toml: line 2");
    assert!(stderr(&o).contains("packages"), "{}", stderr(&o));
}

#[test]
fn a_changed_user_profile_rebuilds_its_image_and_an_outdated_base_warns() {
    let Some(sb) = sandbox("prof-user", (2972, 2976)) else {
        return;
    };
    let dir = sb.config_dir().join("profiles");
    std::fs::create_dir_all(&dir).unwrap();
    let write = |mark: &str| {
        std::fs::write(
            dir.join("mine.toml"),
            format!("description = \"mine\"\nbuild = [\"echo {mark} > /etc/mine\"]\n[env]\nMINE = \"{mark}\"\n"),
        )
        .unwrap();
    };
    write("one");
    let built = |sb: &Sandbox| -> (String, bool) {
        let v = sb.json(&["profiles", "--json"]);
        let mine = v
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "mine")
            .unwrap()
            .clone();
        (
            mine["image"].as_str().unwrap().to_string(),
            mine["built"] == true,
        )
    };
    let (tag1, is_built) = built(&sb);
    assert!(
        tag1.starts_with("berth/profile-mine:") && !is_built,
        "{tag1}"
    );
    let a = sb.name("a");
    sb.create_ok(&a, &["--profile", "mine"]);
    assert_eq!(exec(&sb, &a, "cat /etc/mine; echo $MINE"), "one\none\n");
    assert_eq!(built(&sb), (tag1.clone(), true));
    // The image carries the run's labels (so the run's cleanup removes it).
    let run = stdout(&docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"berth.test-run\"}}",
        &tag1,
    ]));
    assert_eq!(run.trim(), run_id());

    write("two");
    let (tag2, is_built) = built(&sb);
    assert!(
        tag2 != tag1 && !is_built,
        "a changed definition is another image"
    );
    let v = sb.json(&["image", "build", "--profile", "mine", "--json"]);
    assert_eq!(v["image"], tag2.as_str());
    let b = sb.name("b");
    sb.create_ok(&b, &["--profile", "mine"]);
    assert_eq!(exec(&sb, &b, "cat /etc/mine; echo $MINE"), "two\ntwo\n");
    // The older image stays while a workspace runs it, and goes with the next
    // build once none does.
    let present = |t: &str| docker(&["image", "inspect", t]).status.success();
    assert!(present(&tag1), "an image a workspace runs was removed");
    sb.ok(&["delete", &a, "--yes"]);
    write("three");
    let o = sb.berth(&["image", "build", "--profile", "mine"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(!present(&tag1), "the unused older image was kept");
    assert!(stderr(&o).contains(&tag1), "{}", stderr(&o));
    assert!(present(&tag2), "an image a workspace runs was removed");

    // The base from this berth's definition is current; one labelled with another
    // definition is outdated: `image present` says so (exit 1) and create warns.
    sb.ok(&["image", "present"]);
    let old = format!("berth/test-outdated:{}", run_id());
    let labels = format!(
        "FROM {}\nLABEL dev.berth.definition=0000000000000000 berth.test-run={}\n",
        base_image(),
        run_id()
    );
    let mut build = std::process::Command::new("docker")
        .args(["build", "-q", "-t", &old, "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    use std::io::Write;
    build
        .stdin
        .take()
        .unwrap()
        .write_all(labels.as_bytes())
        .unwrap();
    assert!(build.wait().unwrap().success());
    use_image(&sb, &old);
    let o = sb.berth(&["image", "present"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("berth image build"), "{}", stdout(&o));
    let c = sb.name("c");
    let o = sb.create(&c, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("older definition"), "{}", stderr(&o));
}
