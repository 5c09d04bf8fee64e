//! What provisioning must never leak or lose, against the real engine: a setup
//! command that prints a passed-through value (redacted on the terminal, in the
//! error and in berth's store), GitHub auth surviving dotfiles that replace
//! ~/.gitconfig, berth's keys surviving dotfiles that replace authorized_keys, and
//! a reused home whose git files differ (kept, or merged).
mod common;
#[path = "common/provision_env_support.rs"]
mod support;
use common::*;
use support::*;

#[test]
fn a_setup_command_printing_a_secret_shows_only_its_name() {
    let Some(sb) = Sandbox::new("redact", (3030, 3031)) else {
        return;
    };
    let value = secret("red");
    let name = sb.name("a");
    let key = format!("{}.pub", sb.key().display());
    let o = run(
        &sb,
        &[("MY_API_KEY", &value)],
        &[
            "create",
            &name,
            "--ssh-key",
            &key,
            "--setup",
            "set -x; echo \"calling with $MY_API_KEY\"; test -z \"$MY_API_KEY\"",
        ],
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    let (out, err) = (stdout(&o), stderr(&o));
    assert!(err.contains("failed at step \"setup\""), "{err}");
    assert!(err.contains("[redacted MY_API_KEY]"), "{err}");
    assert!(
        !out.contains(&value) && !err.contains(&value),
        "{out}\n{err}"
    );
    // Not in the store's audit trail or anywhere else berth keeps on the host.
    let found = files_holding(sb.home().parent().unwrap(), value.as_bytes(), &[]);
    assert!(
        found.is_empty(),
        "the secret is on the host's disk: {found:?}"
    );
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
}

/// A fake `gh` first on PATH that prints `token` for `gh auth token`.
fn fake_gh(token: &str) -> tempfile::TempDir {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let gh = dir.path().join("gh");
    std::fs::write(
        &gh,
        format!("#!/bin/sh\n[ \"$1 $2\" = \"auth token\" ] && echo {token} && exit 0\nexit 1\n"),
    )
    .unwrap();
    std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
    dir
}

const FILL: &str = "printf 'protocol=https\\nhost=github.com\\n\\n' | env -i HOME=/home/workspace PATH=/usr/bin:/bin GIT_TERMINAL_PROMPT=0 git credential fill 2>/dev/null; true";

#[test]
fn dotfiles_replacing_gitconfig_and_authorized_keys_keep_gh_auth_and_ssh() {
    let Some(sb) = Sandbox::new("dotsafe", (3032, 3033)) else {
        return;
    };
    let token = secret("gh");
    let bin = fake_gh(&token);
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    // A dotfiles directory whose .gitconfig and authorized_keys replace the home's.
    let dots = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dots.path().join(".ssh")).unwrap();
    std::fs::write(
        dots.path().join(".ssh/authorized_keys"),
        "ssh-ed25519 AAAAjunk x\n",
    )
    .unwrap();
    let name = sb.name("a");
    create(
        &sb,
        &name,
        &[("PATH", &path)],
        &[
            "--dotfiles-dir",
            dots.path().to_str().unwrap(),
            "--dotfile",
            // What `gh auth setup-git` writes on a host: it would cancel berth's helper.
            ".gitconfig=[user]\n\tname = From Dotfiles\n[credential \"https://github.com\"]\n\thelper =\n\thelper = !/usr/bin/gh auth git-credential\n",
        ],
    );
    assert_eq!(
        exec(&sb, &name, "git config --global user.name"),
        "From Dotfiles\n"
    );
    assert!(
        exec(&sb, &name, FILL).contains(&format!("password={token}\n")),
        "git lost the GitHub helper"
    );
    assert!(!exec(&sb, &name, "cat ~/.gitconfig").contains(&token));
    // berth's keys went back in: berth ssh still gets in.
    let o = sb.berth(&["ssh", &name, "--", "echo", "in"]);
    assert_eq!(stdout(&o), "in\n", "{}", stderr(&o));
}

#[test]
fn a_reused_home_keeps_its_own_git_files() {
    let Some(sb) = Sandbox::new("gitkeep", (3034, 3035)) else {
        return;
    };
    std::fs::write(sb.home().join(".gitconfig"), "[user]\n\tname = Host\n").unwrap();
    std::fs::create_dir_all(sb.home().join(".ssh")).unwrap();
    std::fs::write(
        sb.home().join(".ssh/known_hosts"),
        "host-a ssh-ed25519 AAAA1\n",
    )
    .unwrap();
    let name = sb.name("a");
    create(&sb, &name, &[], &[]);
    // Work done inside: an edited git config, a host learned.
    exec(
        &sb,
        &name,
        "printf '[user]\\n\\tname = Edited\\n' > ~/.gitconfig; echo 'inside ssh-ed25519 AAAA2' >> ~/.ssh/known_hosts",
    );
    ok(
        &run(&sb, &[], &["delete", &name, "--yes", "--keep-volume"]),
        "delete --keep-volume",
    );
    let again = create(&sb, &name, &[], &[]);
    assert!(
        stderr(&again).contains("kept as ~/.gitconfig.berth-backup"),
        "{}",
        stderr(&again)
    );
    assert_eq!(exec(&sb, &name, "git config --global user.name"), "Host\n");
    assert_eq!(
        exec(&sb, &name, "cat ~/.gitconfig.berth-backup"),
        "[user]\n\tname = Edited\n"
    );
    let known = exec(&sb, &name, "cat ~/.ssh/known_hosts");
    assert!(
        known.contains("host-a ssh-ed25519 AAAA1") && known.contains("inside ssh-ed25519 AAAA2"),
        "{known}"
    );
    // Nothing changed on the host: a third create finds the same files and says so.
    ok(
        &run(&sb, &[], &["delete", &name, "--yes", "--keep-volume"]),
        "delete --keep-volume",
    );
    let third = create(&sb, &name, &[], &[]);
    assert!(
        !stderr(&third).contains("berth-backup.1"),
        "{}",
        stderr(&third)
    );
}
