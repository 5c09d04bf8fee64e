//! SSH: key login with a pinned host key, passwords refused, ssh-config, stable host keys.
mod common;
use common::*;

/// Plain `ssh` (not berth's) to a workspace with its pinned key, strict checking,
/// no prompts; `auth` picks how to authenticate.
fn pinned_ssh(
    kh: &std::path::Path,
    name: &str,
    port: &str,
    auth: &[&str],
    user: &str,
) -> std::process::Output {
    let known = format!("UserKnownHostsFile={}", kh.display());
    let alias = format!("HostKeyAlias=berth-{name}");
    let dest = format!("{user}@127.0.0.1");
    let mut args = vec![
        "-p",
        port,
        "-o",
        "BatchMode=yes",
        "-o",
        &known,
        "-o",
        &alias,
        "-o",
        "StrictHostKeyChecking=yes",
    ];
    args.extend_from_slice(auth);
    args.extend([dest.as_str(), "true"]);
    ssh(&args)
}

fn known_hosts(sb: &Sandbox, name: &str) -> String {
    std::fs::read_to_string(
        sb.state_dir()
            .join("known_hosts.d")
            .join(format!("berth-{name}")),
    )
    .unwrap()
}

#[test]
fn key_login_works_password_is_refused_and_host_key_is_pinned() {
    let Some(sb) = Sandbox::new("ssh", (2630, 2639)) else {
        return;
    };
    let name = sb.name("a");
    let port = sb.create_ok(&name, &[])["ssh_port"]
        .as_u64()
        .unwrap()
        .to_string();

    // berth ssh runs a command with the right port, user and pinned key.
    let o = sb.berth(&["ssh", &name, "--", "whoami; hostname; echo $HOME"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), format!("workspace\n{name}\n/home/workspace\n"));
    // Exit codes come back through ssh.
    assert_eq!(
        sb.berth(&["ssh", &name, "--", "exit 5"]).status.code(),
        Some(5)
    );

    // The pinned key is the one the workspace holds.
    let pinned = known_hosts(&sb, &name);
    let served = sb.ok(&[
        "exec",
        &name,
        "--",
        "cat",
        "/home/workspace/.berth/ssh/ssh_host_ed25519_key.pub",
    ]);
    let served_key = served.split_whitespace().nth(1).unwrap();
    assert!(
        pinned.starts_with(&format!("berth-{name} ssh-ed25519 {served_key}")),
        "{pinned} vs {served}"
    );

    // A wrong pinned key is refused (strict checking, never StrictHostKeyChecking=no).
    let kh = sb
        .state_dir()
        .join("known_hosts.d")
        .join(format!("berth-{name}"));
    std::fs::write(&kh, format!("berth-{name} ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl\n")).unwrap();
    let o = sb.berth(&["ssh", &name, "--", "true"]);
    assert!(
        !o.status.success(),
        "ssh accepted a host key that does not match"
    );
    assert!(
        stderr(&o).contains("HOST IDENTIFICATION HAS CHANGED")
            || stderr(&o).contains("Host key verification failed"),
        "{}",
        stderr(&o)
    );
    std::fs::write(&kh, &pinned).unwrap();

    // Password (and keyboard-interactive) login is not offered at all.
    let o = pinned_ssh(
        &kh,
        &name,
        &port,
        &[
            "-o",
            "PubkeyAuthentication=no",
            "-o",
            "PreferredAuthentications=password,keyboard-interactive",
        ],
        "workspace",
    );
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("Permission denied (publickey)"),
        "{}",
        stderr(&o)
    );
    // A key that is not authorized is refused too.
    let stranger = sb.dir.path().join("stranger");
    assert!(std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-f"])
        .arg(&stranger)
        .status()
        .unwrap()
        .success());
    let o = pinned_ssh(
        &kh,
        &name,
        &port,
        &["-i", stranger.to_str().unwrap(), "-o", "IdentitiesOnly=yes"],
        "workspace",
    );
    assert!(
        !o.status.success() && stderr(&o).contains("Permission denied"),
        "{}",
        stderr(&o)
    );
    // Root login is refused.
    let o = pinned_ssh(
        &kh,
        &name,
        &port,
        &["-i", sb.key().to_str().unwrap(), "-o", "IdentitiesOnly=yes"],
        "root",
    );
    assert!(!o.status.success());

    // The host key never changes for this workspace: not on restart, not on stop/start.
    sb.ok(&["restart", &name]);
    sb.ok(&["stop", &name]);
    sb.ok(&["start", &name]);
    assert_eq!(known_hosts(&sb, &name), pinned);
    let served_again = sb.ok(&[
        "exec",
        &name,
        "--",
        "cat",
        "/home/workspace/.berth/ssh/ssh_host_ed25519_key.pub",
    ]);
    assert_eq!(served_again, served);
    assert!(sb.berth(&["ssh", &name, "--", "true"]).status.success());

    // No berth file anywhere disables host key checking.
    for f in walk(sb.dir.path()) {
        if let Ok(text) = std::fs::read_to_string(&f) {
            assert!(
                !text.contains("StrictHostKeyChecking no")
                    && !text.contains("StrictHostKeyChecking=no"),
                "{}",
                f.display()
            );
        }
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    if let Ok(rd) = std::fs::read_dir(dir) {
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p);
            }
        }
    }
    out
}

#[test]
fn ssh_config_makes_plain_ssh_work_and_touches_nothing_else() {
    let Some(sb) = Sandbox::new("sshcfg", (2640, 2649)) else {
        return;
    };
    let a = sb.name("a");
    let b = sb.name("b");
    sb.create_ok(&a, &[]);
    sb.create_ok(&b, &[]);
    let cfg = sb.home().join(".ssh/config");
    let mine = "Host myserver\n  HostName example.invalid\n  User me\n";
    std::fs::write(&cfg, mine).unwrap();

    let out = sb.ok(&["ssh-config"]);
    assert!(out.contains("file(s)"), "{out}");
    for n in [&a, &b] {
        assert!(sb
            .home()
            .join(".ssh/berth.d")
            .join(format!("berth-{n}.conf"))
            .exists());
    }
    let text = std::fs::read_to_string(&cfg).unwrap();
    let include = format!("Include {}/.ssh/berth.d/*.conf", sb.home().display());
    assert_eq!(text, format!("{include}\n{mine}"));
    sb.ok(&["ssh-config"]);
    assert_eq!(
        std::fs::read_to_string(&cfg).unwrap(),
        format!("{include}\n{mine}"),
        "Include added twice"
    );

    // `ssh berth-NAME` with that config (ssh reads the passwd home, so point -F at it).
    let o = ssh(&[
        "-F",
        cfg.to_str().unwrap(),
        "-o",
        "BatchMode=yes",
        &format!("berth-{a}"),
        "echo via-config",
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "via-config\n");

    // Deleting a workspace and re-running drops its file.
    sb.ok(&["delete", &b, "--yes"]);
    sb.ok(&["ssh-config"]);
    let dir = sb.home().join(".ssh/berth.d");
    assert!(dir.join(format!("berth-{a}.conf")).exists());
    assert!(!dir.join(format!("berth-{b}.conf")).exists());
}

#[test]
fn keys_from_home_are_offered_by_berth_ssh_whatever_their_names() {
    let Some(sb) = Sandbox::new("sshhome", (2810, 2814)) else {
        return;
    };
    // A key with a non-default name; HOME differs from the passwd home, so ssh's own
    // defaults would not find it: berth must offer it itself.
    std::fs::rename(sb.key(), sb.home().join(".ssh/work_key")).unwrap();
    std::fs::rename(
        format!("{}.pub", sb.key().display()),
        sb.home().join(".ssh/work_key.pub"),
    )
    .unwrap();
    let name = sb.name("a");
    let o = sb.berth(&["create", &name]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = sb.berth(&["ssh", &name, "--", "echo via-home-key"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(stdout(&o), "via-home-key\n");
}
