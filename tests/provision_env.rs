//! Provisioning steps 1-3 against the real engine: environment delivery (passthrough
//! modes, public `--env`), git config forwarding and GitHub CLI auth forwarding.
//! Secret values are random per run and looked for everywhere they must not be:
//! `docker inspect`, /proc/1/environ, the sandbox's host directories (state, config,
//! berth's debug log), berth's own output, the container's writable layer and its
//! engine directory, and the home volume.
mod common;
#[path = "common/provision_env_support.rs"]
mod support;
use common::*;
use std::path::Path;
use support::*;

const SHOW: &str =
    r#"printf '%s|%s|%s|%s\n' "$OPENAI_API_KEY" "$MY_SERVICE_TOKEN" "$NOT_MATCHED" "$PUB_SETTING""#;

#[test]
fn passed_through_values_reach_every_shell_and_nothing_else_and_come_back_on_start() {
    let Some(sb) = Sandbox::new("envauto", (2990, 2991)) else {
        return;
    };
    let name = sb.name("a");
    let (v1, v2, v3, public) = (secret("a"), secret("b"), secret("c"), secret("p"));
    let made = create(
        &sb,
        &name,
        &[
            ("OPENAI_API_KEY", &v1),
            ("MY_SERVICE_TOKEN", &v2),
            ("NOT_MATCHED", &v3),
        ],
        &["--env", &format!("PUB_SETTING={public}")],
    );
    let want = format!("{v1}|{v2}||{public}\n");
    assert_eq!(exec(&sb, &name, SHOW), want, "berth exec");
    assert_eq!(plain_ssh(&sb, &name, SHOW), want, "ssh berth-NAME cmd");
    assert_eq!(berth_ssh(&sb, &name, SHOW), want, "berth ssh NAME -- cmd");
    assert_eq!(login(&sb, &name, SHOW), want, "login shell");
    assert_eq!(interactive(&sb, &name, SHOW), want, "interactive shell");
    // `berth exec --env` wins over the delivered value.
    let o = run(
        &sb,
        &[],
        &[
            "exec",
            &name,
            "-e",
            "OPENAI_API_KEY=mine",
            "--",
            "sh",
            "-c",
            "echo $OPENAI_API_KEY",
        ],
    );
    assert_eq!(stdout(&o), "mine\n");

    // Public values are in the container's config; only names in the labels.
    assert!(inspect(&name, "{{json .Config.Env}}").contains(&format!("PUB_SETTING={public}")));
    assert_eq!(
        inspect(
            &name,
            "{{index .Config.Labels \"dev.berth.env-passthrough\"}}"
        ),
        "MY_SERVICE_TOKEN,OPENAI_API_KEY"
    );
    assert_tmpfs_file(&sb, &name);
    assert_nowhere(&sb, &name, &[&v1, &v2, &v3], &[&made], &[]);

    // Stopped and started from an environment that lacks one name: said, still starts.
    ok(&run(&sb, &[], &["stop", &name]), "stop");
    let v1b = secret("a2");
    let started = run(&sb, &[("OPENAI_API_KEY", &v1b)], &["start", &name]);
    ok(&started, "start");
    let said = stderr(&started);
    assert!(
        said.contains("MY_SERVICE_TOKEN") && !said.contains("OPENAI_API_KEY"),
        "the start names what it could not find:\n{said}"
    );
    assert_eq!(exec(&sb, &name, SHOW), format!("{v1b}|||{public}\n"));
    assert_eq!(plain_ssh(&sb, &name, SHOW), format!("{v1b}|||{public}\n"));
    assert_tmpfs_file(&sb, &name);

    // restart: the values of this process, again.
    let (v1c, v2c) = (secret("a3"), secret("b3"));
    let restarted = run(
        &sb,
        &[("OPENAI_API_KEY", &v1c), ("MY_SERVICE_TOKEN", &v2c)],
        &["restart", &name],
    );
    ok(&restarted, "restart");
    assert!(
        !stderr(&restarted).contains("not passed through"),
        "{}",
        stderr(&restarted)
    );
    assert_eq!(exec(&sb, &name, SHOW), format!("{v1c}|{v2c}||{public}\n"));
    let bare = run(&sb, &[], &["restart", &name]);
    ok(&bare, "restart");
    assert!(
        stderr(&bare).contains("MY_SERVICE_TOKEN, OPENAI_API_KEY"),
        "{}",
        stderr(&bare)
    );
    assert_eq!(exec(&sb, &name, SHOW), format!("|||{public}\n"));
    assert_nowhere(
        &sb,
        &name,
        &[&v1, &v2, &v1b, &v1c, &v2c],
        &[&started, &restarted, &bare],
        &[],
    );
}

#[test]
fn passthrough_modes_all_none_a_list_and_configured_patterns() {
    let Some(sb) = Sandbox::new("envmodes", (2992, 2995)) else {
        return;
    };
    // all: everything but the documented exclusions.
    let (va, vx) = (secret("all"), secret("excl"));
    let excluded = [
        "TERM",
        "SHELL",
        "USER",
        "LOGNAME",
        "PWD",
        "OLDPWD",
        "SSH_AUTH_SOCK",
        "XDG_RUNTIME_DIR",
        "TMUX",
        "DISPLAY",
        "LC_ALL",
    ];
    let mut env: Vec<(&str, &str)> = excluded.iter().map(|k| (*k, vx.as_str())).collect();
    env.push(("RANDOM_SETTING", &va));
    let all = sb.name("all");
    let made = create(&sb, &all, &env, &["--env-passthrough", "all"]);
    let names = delivered_names(&sb, &all);
    assert!(names.contains(&"RANDOM_SETTING".to_string()), "{names:?}");
    for n in excluded
        .iter()
        .chain(&["PATH", "HOME", "DOCKER_HOST", "BERTH_LOG", "LANG"])
    {
        assert!(!names.contains(&n.to_string()), "{n} passed: {names:?}");
    }
    assert_eq!(exec(&sb, &all, "echo $RANDOM_SETTING"), format!("{va}\n"));
    assert_tmpfs_file(&sb, &all);
    assert_nowhere(&sb, &all, &[&va, &vx], &[&made], &[]);

    // none: nothing, whatever matches.
    let vn = secret("none");
    let none = sb.name("none");
    let made = create(
        &sb,
        &none,
        &[("OPENAI_API_KEY", &vn)],
        &["--env-passthrough", "none"],
    );
    assert_eq!(exec(&sb, &none, "echo \"[$OPENAI_API_KEY]\""), "[]\n");
    assert!(delivered_names(&sb, &none).is_empty());
    assert_eq!(
        inspect(
            &none,
            "{{index .Config.Labels \"dev.berth.env-passthrough\"}}"
        ),
        ""
    );
    assert_nowhere(&sb, &none, &[&vn], &[&made], &[]);

    // A list: exactly those names; a missing one is said.
    let (vl, vo) = (secret("list"), secret("other"));
    let list = sb.name("list");
    let made = create(
        &sb,
        &list,
        &[("LISTED_ONE", &vl), ("OPENAI_API_KEY", &vo)],
        &["--env-passthrough", "LISTED_ONE,LISTED_MISSING"],
    );
    assert!(
        stderr(&made).contains("LISTED_MISSING"),
        "{}",
        stderr(&made)
    );
    assert_eq!(
        exec(&sb, &list, "echo \"$LISTED_ONE|$OPENAI_API_KEY\""),
        format!("{vl}|\n")
    );
    assert_eq!(
        inspect(
            &list,
            "{{index .Config.Labels \"dev.berth.env-passthrough\"}}"
        ),
        "LISTED_MISSING,LISTED_ONE"
    );
    assert_nowhere(&sb, &list, &[&vl, &vo], &[&made], &[]);

    // auto with `[env] patterns` from the config: those replace the defaults.
    sb.write_config("[env]\npatterns = [\"CUSTOM_*\"]\n");
    let (vc, vd) = (secret("custom"), secret("dflt"));
    let pat = sb.name("pat");
    let made = create(
        &sb,
        &pat,
        &[("CUSTOM_THING", &vc), ("OPENAI_API_KEY", &vd)],
        &[],
    );
    assert_eq!(
        exec(&sb, &pat, "echo \"$CUSTOM_THING|$OPENAI_API_KEY\""),
        format!("{vc}|\n")
    );
    assert_nowhere(&sb, &pat, &[&vc, &vd], &[&made], &[]);
}

#[test]
fn git_config_and_known_hosts_are_copied_into_the_home_as_the_workspace_user() {
    let Some(sb) = Sandbox::new("gitfwd", (2996, 2997)) else {
        return;
    };
    let files = [
        (".gitconfig", "[user]\n\tname = Test Person\n\temail = t@example.invalid\n[include]\n\tpath = ~/.gitconfig.local\n"),
        (".gitconfig.local", "[core]\n\teditor = vi\n"),
        (".ssh/known_hosts", "git.example.invalid ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJxaPg4J3YgX9DgHjJL9E2Ekp4kQz8Zz0t3Yo6pTr8Tm\n"),
    ];
    for (rel, text) in files {
        std::fs::write(sb.home().join(rel), text).unwrap();
    }
    let name = sb.name("a");
    let made = create(&sb, &name, &[], &[]);
    assert!(
        stderr(&made).contains("copied ~/.gitconfig"),
        "{}",
        stderr(&made)
    );
    for (rel, text) in files {
        assert_eq!(exec(&sb, &name, &format!("cat ~/{rel}")), text, "{rel}");
        assert_eq!(
            exec(&sb, &name, &format!("stat -c %U ~/{rel}")),
            "workspace\n"
        );
    }
    assert_eq!(
        exec(&sb, &name, "git config user.name; git config core.editor"),
        "Test Person\nvi\n"
    );
    assert_eq!(
        exec(
            &sb,
            &name,
            "stat -c %U /home/workspace /home/workspace/.ssh"
        ),
        "workspace\nworkspace\n",
        "the home directory stays the workspace user's"
    );

    let off = sb.name("off");
    create(&sb, &off, &[], &["--no-forward-git"]);
    assert_eq!(
        exec(
            &sb,
            &off,
            "for f in .gitconfig .gitconfig.local .ssh/known_hosts; do test -e ~/$f && echo $f; done; stat -c %U /home/workspace"
        ),
        "workspace\n",
        "--no-forward-git copies nothing"
    );
}

/// A fake `gh` in its own directory: `gh auth token` prints `token`.
fn fake_gh(token: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let gh = dir.path().join("gh");
    std::fs::write(
        &gh,
        format!(
            "#!/bin/sh\nif [ \"$1 $2\" = \"auth token\" ]; then echo {token}; exit 0; fi\necho \"fake gh: $*\" >&2; exit 1\n"
        ),
    )
    .unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

/// The runner's PATH without any directory that holds a `gh`.
fn path_without_gh() -> String {
    let path = std::env::var("PATH").unwrap_or_default();
    path.split(':')
        .filter(|d| !Path::new(d).join("gh").exists())
        .collect::<Vec<_>>()
        .join(":")
}

/// What git's credential machinery answers for https://github.com, in a clean
/// environment (so only the helper and the tmpfs can supply it).
const FILL: &str = "printf 'protocol=https\\nhost=github.com\\n\\n' | env -i HOME=/home/workspace PATH=/usr/bin:/bin GIT_TERMINAL_PROMPT=0 git credential fill 2>/dev/null; true";

#[test]
fn github_cli_auth_is_forwarded_as_gh_token_and_a_credential_helper() {
    let Some(sb) = Sandbox::new("ghfwd", (2998, 2999)) else {
        return;
    };
    let token = secret("gho");
    let bin = fake_gh(&token);
    let path = format!("{}:{}", bin.path().display(), path_without_gh());
    // The host's git config brings its own GitHub helpers: gh's (absent inside) and
    // one that answers (it must not win), some in an included file.
    std::fs::write(
        sb.home().join(".gitconfig"),
        "[user]\n\tname = T\n[credential \"https://github.com\"]\n\thelper =\n\thelper = !/usr/bin/gh auth git-credential\n\thelper = \"!f() { echo username=host; echo password=WRONG-host-helper; }; f\"\n[include]\n\tpath = ~/.gitconfig.local\n[credential]\n\thelper = store\n",
    )
    .unwrap();
    std::fs::write(
        sb.home().join(".gitconfig.local"),
        "[credential]\n\thelper = \"!f() { echo password=WRONG-local-helper; }; f\"\n",
    )
    .unwrap();
    let name = sb.name("a");
    let made = create(&sb, &name, &[("PATH", &path)], &[]);
    let fill = exec(&sb, &name, FILL);
    assert!(
        fill.contains(&format!("password={token}\n")) && fill.contains("username=x-access-token"),
        "git credential fill: {fill}"
    );
    assert!(!fill.contains("WRONG"), "{fill}");
    assert_eq!(exec(&sb, &name, "echo $GH_TOKEN"), format!("{token}\n"));
    assert_eq!(
        plain_ssh(&sb, &name, "echo $GH_TOKEN"),
        format!("{token}\n")
    );
    let gitconfig = exec(&sb, &name, "cat ~/.gitconfig");
    assert!(!gitconfig.contains(&token), "{gitconfig}");
    assert!(gitconfig.contains("name = T"), "{gitconfig}");
    assert_nowhere(&sb, &name, &[&token], &[&made], &[]);
    // Delivered again on start, from the starting process's gh.
    ok(&run(&sb, &[], &["stop", &name]), "stop");
    let token2 = secret("gho2");
    let bin2 = fake_gh(&token2);
    let path2 = format!("{}:{}", bin2.path().display(), path_without_gh());
    ok(&run(&sb, &[("PATH", &path2)], &["start", &name]), "start");
    assert!(exec(&sb, &name, FILL).contains(&format!("password={token2}\n")));
    // A restart where gh has nothing: the old token is gone.
    let o = run(&sb, &[("PATH", &path_without_gh())], &["restart", &name]);
    ok(&o, "restart");
    let fill = exec(&sb, &name, FILL);
    assert!(
        !fill.contains(&token2) && !fill.contains("x-access-token"),
        "{fill}"
    );
    assert_eq!(exec(&sb, &name, "echo \"[$GH_TOKEN]\""), "[]\n");
    ok(&run(&sb, &[], &["delete", &name, "--yes"]), "delete");

    // --no-forward-gh: no token, no helper.
    let off = sb.name("off");
    create(&sb, &off, &[("PATH", &path)], &["--no-forward-gh"]);
    // (The host's own helpers, forwarded with its git config, may still answer.)
    let fill = exec(&sb, &off, FILL);
    assert!(
        !fill.contains(&token) && !fill.contains("x-access-token"),
        "{fill}"
    );
    assert_eq!(exec(&sb, &off, "echo \"[$GH_TOKEN]\""), "[]\n");
    ok(&run(&sb, &[], &["delete", &off, "--yes"]), "delete");

    // A host without gh (none on PATH, no hosts.yml): created, with a note.
    let bare = sb.name("bare");
    let made = create(&sb, &bare, &[("PATH", &path_without_gh())], &[]);
    assert!(
        stderr(&made).contains("no GitHub CLI auth on the host"),
        "{}",
        stderr(&made)
    );
    assert_eq!(exec(&sb, &bare, "echo \"[$GH_TOKEN]\""), "[]\n");
    ok(&run(&sb, &[], &["delete", &bare, "--yes"]), "delete");

    // gh's hosts.yml when there is no gh to ask.
    let token3 = secret("ghh");
    let hosts = sb.dir.path().join("config/gh");
    std::fs::create_dir_all(&hosts).unwrap();
    std::fs::write(
        hosts.join("hosts.yml"),
        format!("github.com:\n    user: me\n    oauth_token: {token3}\n    git_protocol: https\n"),
    )
    .unwrap();
    let yml = sb.name("yml");
    let made = create(&sb, &yml, &[("PATH", &path_without_gh())], &[]);
    assert!(exec(&sb, &yml, FILL).contains(&format!("password={token3}\n")));
    assert_nowhere(&sb, &yml, &[&token3], &[&made], &[hosts]);
}
