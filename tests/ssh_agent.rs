//! SSH forwarding (`--forward-ssh`) against the real engine: a test ssh-agent's key
//! is usable inside through berth's relay (create steps, `berth exec`) and through
//! ssh's agent forwarding (`berth ssh`), the private key never enters the
//! workspace; without an agent the host's ~/.ssh is bound read-only with a warning;
//! without the flag nothing is forwarded.
mod common;

use common::{docker, stderr, stdout, Sandbox};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A test ssh-agent holding one generated key; killed by its PID when dropped.
struct Agent {
    _dir: tempfile::TempDir,
    socket: PathBuf,
    pid: String,
    fingerprint: String,
    /// A piece of the private key's text, to look for inside.
    secret: String,
}

impl Agent {
    fn start() -> Agent {
        let dir = tempfile::tempdir().unwrap();
        let socket = dir.path().join("agent.sock");
        let o = Command::new("ssh-agent")
            .arg("-a")
            .arg(&socket)
            .output()
            .expect("ssh-agent");
        assert!(o.status.success(), "ssh-agent: {}", stderr(&o));
        let out = stdout(&o);
        let pid = out
            .split(';')
            .find_map(|p| p.trim().strip_prefix("SSH_AGENT_PID="))
            .expect("ssh-agent's pid")
            .to_string();
        let key = dir.path().join("id_agent_test");
        let st = Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "berth-agent-test",
                "-f",
            ])
            .arg(&key)
            .status()
            .unwrap();
        assert!(st.success());
        let o = Command::new("ssh-add")
            .arg(&key)
            .env("SSH_AUTH_SOCK", &socket)
            .output()
            .unwrap();
        assert!(o.status.success(), "ssh-add: {}", stderr(&o));
        let o = Command::new("ssh-keygen")
            .arg("-lf")
            .arg(key.with_extension("pub"))
            .output()
            .unwrap();
        let fingerprint = stdout(&o).split_whitespace().nth(1).unwrap().to_string();
        assert!(fingerprint.starts_with("SHA256:"), "{fingerprint}");
        let text = std::fs::read_to_string(&key).unwrap();
        let secret = text.lines().nth(2).unwrap().to_string();
        Agent {
            _dir: dir,
            socket,
            pid,
            fingerprint,
            secret,
        }
    }
}

impl Drop for Agent {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg(&self.pid).status();
    }
}

/// berth with `agent` as SSH_AUTH_SOCK (None: no agent at all).
fn berth_with(sb: &Sandbox, agent: Option<&Path>, args: &[&str]) -> Output {
    let mut c = sb.cmd(args);
    match agent {
        Some(a) => c.env("SSH_AUTH_SOCK", a),
        None => c.env_remove("SSH_AUTH_SOCK"),
    };
    c.output().expect("run berth")
}

fn ok_with(sb: &Sandbox, agent: Option<&Path>, args: &[&str]) -> String {
    let o = berth_with(sb, agent, args);
    assert!(
        o.status.success(),
        "berth {args:?} failed:\nstdout: {}\nstderr: {}",
        stdout(&o),
        stderr(&o)
    );
    format!("{}{}", stdout(&o), stderr(&o))
}

fn create_with(sb: &Sandbox, agent: Option<&Path>, name: &str, extra: &[&str]) -> String {
    let key = format!("{}.pub", sb.key().display());
    let mut args = vec!["create", name, "--ssh-key", key.as_str()];
    args.extend_from_slice(extra);
    ok_with(sb, agent, &args)
}

/// Runs `script` in the container as `user`, straight through the engine.
fn run_as(user: &str, name: &str, script: &str) -> Output {
    docker(&[
        "exec",
        "-u",
        user,
        &format!("workspace-{name}"),
        "sh",
        "-c",
        script,
    ])
}

/// Runs `script` as root in the container (root without capabilities: it reads
/// what root owns and what everyone may read).
fn as_root(name: &str, script: &str) -> Output {
    run_as("root", name, script)
}

/// The files inside holding `needle` that root or the workspace user can read.
fn found_inside(name: &str, needle: &str) -> String {
    ["root", "workspace"]
        .iter()
        .map(|user| {
            stdout(&run_as(
                user,
                name,
                &format!("grep -rlsF -e '{needle}' / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev; true"),
            ))
        })
        .collect::<String>()
        .trim()
        .to_string()
}

#[test]
fn the_agent_is_forwarded_and_its_keys_stay_on_the_host() {
    let Some(sb) = Sandbox::new("ssh-agent", (3000, 3002)) else {
        return;
    };
    let agent = Agent::start();
    let a = Some(agent.socket.as_path());
    let name = sb.name("a");
    // A create step sees the agent (what dotfiles of a private repo need).
    let out = create_with(&sb, a, &name, &["--forward-ssh", "--setup", "ssh-add -l"]);
    assert!(
        out.contains(&agent.fingerprint),
        "setup did not list the key:\n{out}"
    );
    assert!(out.contains("ssh-agent: forwarded"), "no note:\n{out}");
    let host_dir = sb.state_dir().join("agent").join(&name);
    assert!(host_dir.is_dir());
    assert!(
        !host_dir.join("agent.sock").exists(),
        "the create's relay left its socket"
    );

    // berth exec: a relay while it runs, gone after.
    let out = ok_with(&sb, a, &["exec", &name, "--", "ssh-add", "-l"]);
    assert!(out.contains(&agent.fingerprint), "exec: {out}");
    assert!(!host_dir.join("agent.sock").exists());
    // Its login shells and ssh sessions name the same socket.
    let out = ok_with(
        &sb,
        a,
        &["exec", &name, "--", "sh", "-lc", "echo $SSH_AUTH_SOCK"],
    );
    assert_eq!(out.trim(), "/run/berth-agent/agent.sock");

    // berth ssh: ssh's own agent forwarding.
    let out = ok_with(&sb, a, &["ssh", &name, "--", "ssh-add", "-l"]);
    assert!(out.contains(&agent.fingerprint), "ssh: {out}");
    // With no berth process serving it, a plain docker exec has no agent.
    let o = docker(&["exec", &format!("workspace-{name}"), "ssh-add", "-l"]);
    assert!(!o.status.success());

    // No key material inside: not the agent's key, not the host's ~/.ssh.
    assert_eq!(found_inside(&name, &agent.secret), "");
    let host_key = std::fs::read_to_string(sb.key()).unwrap();
    assert_eq!(found_inside(&name, host_key.lines().nth(2).unwrap()), "");
    // The search does see the workspace's files: its authorized (public) key is found.
    let public = std::fs::read_to_string(sb.key().with_extension("pub")).unwrap();
    let public = public.split_whitespace().nth(1).unwrap();
    assert!(found_inside(&name, public).contains("authorized_keys"));
    let mounts = stdout(&as_root(&name, "cat /proc/mounts"));
    assert!(!mounts.contains(".ssh-host"), "{mounts}");

    // The generated ssh config forwards the agent for this workspace.
    ok_with(&sb, a, &["ssh-config"]);
    let conf = std::fs::read_to_string(
        sb.home()
            .join(".ssh/berth.d")
            .join(format!("berth-{name}.conf")),
    )
    .unwrap();
    assert!(conf.contains("ForwardAgent yes"), "{conf}");

    // Stop and start: the directory is bound again, exec still reaches the agent.
    ok_with(&sb, a, &["stop", &name]);
    ok_with(&sb, a, &["start", &name]);
    let out = ok_with(&sb, a, &["exec", &name, "--", "ssh-add", "-l"]);
    assert!(
        out.contains(&agent.fingerprint),
        "exec after restart: {out}"
    );

    ok_with(&sb, a, &["delete", &name, "--yes"]);
    assert!(!host_dir.exists(), "delete left the agent directory");
}

#[test]
fn without_an_agent_the_host_ssh_directory_is_bound_read_only_with_a_warning() {
    let Some(sb) = Sandbox::new("ssh-noagent", (3003, 3005)) else {
        return;
    };
    let name = sb.name("n");
    let out = create_with(&sb, None, &name, &["--forward-ssh"]);
    assert!(
        out.contains("WARNING") && out.contains("PRIVATE KEYS ARE VISIBLE"),
        "no warning:\n{out}"
    );
    assert!(out.contains("/home/workspace/.ssh-host"), "{out}");
    let mounts = stdout(&as_root(&name, "cat /proc/mounts"));
    let line = mounts
        .lines()
        .find(|l| l.split_whitespace().nth(1) == Some("/home/workspace/.ssh-host"))
        .unwrap_or_else(|| panic!("no ~/.ssh-host mount:\n{mounts}"));
    let opts = line.split_whitespace().nth(3).unwrap();
    assert!(opts.split(',').any(|o| o == "ro"), "not read-only: {line}");
    // The host's key is there (root reads it; the test's ~/.ssh belongs to root).
    let o = as_root(&name, "ls /home/workspace/.ssh-host");
    assert!(stdout(&o).contains("id_ed25519"), "{}", stdout(&o));
    let o = as_root(&name, "touch /home/workspace/.ssh-host/x");
    assert!(!o.status.success(), "the bind is writable");
    // The workspace's own ~/.ssh (authorized_keys) is untouched.
    let o = docker(&[
        "exec",
        &format!("workspace-{name}"),
        "test",
        "-s",
        "/home/workspace/.ssh/authorized_keys",
    ]);
    assert!(o.status.success());
    assert!(!sb.state_dir().join("agent").join(&name).exists());
    let env = stdout(&docker(&[
        "inspect",
        "-f",
        "{{json .Config.Env}}",
        &format!("workspace-{name}"),
    ]));
    assert!(!env.contains("SSH_AUTH_SOCK"), "{env}");
}

#[test]
fn without_the_flag_nothing_is_forwarded() {
    let Some(sb) = Sandbox::new("ssh-none", (3006, 3009)) else {
        return;
    };
    let agent = Agent::start();
    let a = Some(agent.socket.as_path());
    let name = sb.name("o");
    let out = create_with(&sb, a, &name, &[]);
    assert!(!out.contains("ssh-agent"), "{out}");
    let o = berth_with(&sb, a, &["exec", &name, "--", "ssh-add", "-l"]);
    assert!(!o.status.success(), "exec reached an agent: {}", stdout(&o));
    let o = berth_with(&sb, a, &["ssh", &name, "--", "ssh-add", "-l"]);
    assert!(
        !o.status.success(),
        "ssh forwarded the agent: {}",
        stdout(&o)
    );
    let mounts = stdout(&as_root(&name, "cat /proc/mounts"));
    assert!(
        !mounts.contains("berth-agent") && !mounts.contains(".ssh-host"),
        "{mounts}"
    );
    assert!(!sb.state_dir().join("agent").join(&name).exists());
}
