//! Helpers for tests/provision_env.rs: berth runs with a controlled environment,
//! commands in each kind of workspace shell, and the search for a secret value in
//! every place it must not be.
#![allow(dead_code)]
use super::common::*;
use std::path::{Path, PathBuf};
use std::process::Output;

/// A value unique to this run and call.
pub fn secret(tag: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("sv{tag}{}q{}", run_id(), t % 1_000_000_000_000)
}

/// berth with debug logging and `env` added to the sandbox's controlled environment.
pub fn run(sb: &Sandbox, env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = sb.cmd(args);
    c.env("BERTH_LOG", "debug");
    c.envs(env.iter().copied());
    c.output().expect("run berth")
}

pub fn ok(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\nstdout: {}\nstderr: {}",
        o.status,
        stdout(o),
        stderr(o)
    );
}

pub fn create(sb: &Sandbox, name: &str, env: &[(&str, &str)], flags: &[&str]) -> Output {
    let key = format!("{}.pub", sb.key().display());
    let mut args = vec!["create", name, "--ssh-key", &key, "--json"];
    args.extend_from_slice(flags);
    let o = run(sb, env, &args);
    ok(&o, &format!("create {name}"));
    o
}

/// `sh -c script` through `berth exec` (which loads the workspace's environment).
pub fn exec(sb: &Sandbox, name: &str, script: &str) -> String {
    let o = run(sb, &[], &["exec", name, "--", "sh", "-c", script]);
    ok(&o, script);
    stdout(&o)
}

/// `script` in a clean login shell (only /etc/profile and what it sources).
pub fn login(sb: &Sandbox, name: &str, script: &str) -> String {
    exec(
        sb,
        name,
        &format!(
            "env -i HOME=/home/workspace PATH=/usr/bin:/bin bash -lc {}",
            sh_quote(script)
        ),
    )
}

/// `script` in a clean interactive bash (bash.bashrc), as a shell tab starts it.
pub fn interactive(sb: &Sandbox, name: &str, script: &str) -> String {
    exec(
        sb,
        name,
        &format!(
            "env -i HOME=/home/workspace PATH=/usr/bin:/bin TERM=dumb bash -ic {} 2>/dev/null",
            sh_quote(script)
        ),
    )
}

/// `ssh berth-NAME script` with the sandbox's ssh config (as a person types it).
pub fn plain_ssh(sb: &Sandbox, name: &str, script: &str) -> String {
    ok(&run(sb, &[], &["ssh-config"]), "ssh-config");
    let cfg = sb.home().join(".ssh/config");
    let o = ssh(&[
        "-F",
        cfg.to_str().unwrap(),
        "-o",
        "BatchMode=yes",
        &format!("berth-{name}"),
        script,
    ]);
    ok(&o, &format!("ssh berth-{name}"));
    stdout(&o)
}

/// `berth ssh NAME -- script`.
pub fn berth_ssh(sb: &Sandbox, name: &str, script: &str) -> String {
    let o = run(sb, &[], &["ssh", name, "--", script]);
    ok(&o, "berth ssh");
    stdout(&o)
}

pub fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

pub fn inspect(name: &str, format: &str) -> String {
    let o = docker(&["inspect", "-f", format, &format!("workspace-{name}")]);
    assert!(o.status.success(), "docker inspect: {}", stderr(&o));
    stdout(&o).trim().to_string()
}

/// Regular files under `dir` (symlinks not followed) holding `needle`.
pub fn files_holding(dir: &Path, needle: &[u8], skip: &[PathBuf]) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(d) = todo.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            let Ok(t) = e.file_type() else { continue };
            if skip.iter().any(|s| p.starts_with(s)) {
                continue;
            }
            if t.is_dir() {
                todo.push(p);
            } else if t.is_file() {
                if let Ok(bytes) = std::fs::read(&p) {
                    if bytes.windows(needle.len()).any(|w| w == needle) {
                        found.push(p);
                    }
                }
            }
        }
    }
    found
}

/// The host directories that must not hold a secret: the container's writable layer,
/// its engine directory (config, logs) and the home volume.
pub fn engine_dirs(name: &str) -> Vec<PathBuf> {
    let upper = inspect(name, "{{.GraphDriver.Data.UpperDir}}");
    let id = inspect(name, "{{.Id}}");
    let root = stdout(&docker(&["info", "-f", "{{.DockerRootDir}}"]))
        .trim()
        .to_string();
    let o = docker(&[
        "volume",
        "inspect",
        "-f",
        "{{.Mountpoint}}",
        &format!("workspace-{name}"),
    ]);
    let dirs = vec![
        PathBuf::from(upper),
        Path::new(&root).join("containers").join(id),
        PathBuf::from(stdout(&o).trim()),
    ];
    for d in &dirs {
        // Never a silent pass: these are read as root (like the engine tests run).
        assert!(
            std::fs::read_dir(d).is_ok(),
            "cannot read {} (run the engine tests as root)",
            d.display()
        );
    }
    dirs
}

/// None of `values` is in the container's config, pid 1's environment, the engine's
/// directories, the sandbox's host directories (but `skip`) or `outputs`.
pub fn assert_nowhere(
    sb: &Sandbox,
    name: &str,
    values: &[&str],
    outputs: &[&Output],
    skip: &[PathBuf],
) {
    let config = stdout(&docker(&["inspect", &format!("workspace-{name}")]));
    let environ = exec(sb, name, "tr '\\0' '\\n' < /proc/1/environ");
    assert!(
        sb.state_dir().join("berth.log").exists(),
        "berth's log file is where the test looks"
    );
    let mut dirs = engine_dirs(name);
    dirs.push(sb.dir.path().to_path_buf());
    // The searches do read what is there: known non-secret text is found in each.
    let id = inspect(name, "{{.Id}}");
    let key = std::fs::read(format!("{}.pub", sb.key().display())).unwrap();
    for (dir, known) in [
        (&dirs[0], id.as_bytes()),
        (&dirs[1], id.as_bytes()),
        (&dirs[2], &key[..40]),
        (&dirs[3], name.as_bytes()),
    ] {
        assert!(
            !files_holding(dir, known, &[]).is_empty(),
            "the search of {} found nothing it should",
            dir.display()
        );
    }
    for v in values {
        assert!(!config.contains(v), "{v} is in docker inspect:\n{config}");
        assert!(!environ.contains(v), "{v} is in /proc/1/environ");
        for d in &dirs {
            let found = files_holding(d, v.as_bytes(), skip);
            assert!(found.is_empty(), "{v} is on the host's disk: {found:?}");
        }
        for o in outputs {
            assert!(
                !stdout(o).contains(v) && !stderr(o).contains(v),
                "{v} is in berth's output"
            );
        }
    }
}

/// /run/berth/env is the workspace user's, 0400, on a tmpfs.
pub fn assert_tmpfs_file(sb: &Sandbox, name: &str) {
    assert_eq!(
        exec(
            sb,
            name,
            "stat -c '%a %U' /run/berth/env; grep -c ' /run/berth tmpfs ' /proc/mounts"
        ),
        "400 workspace\n1\n"
    );
}

/// The names /run/berth/env sets.
pub fn delivered_names(sb: &Sandbox, name: &str) -> Vec<String> {
    exec(sb, name, "cat /run/berth/env")
        .lines()
        .filter_map(|l| l.split("export ").nth(1))
        .filter_map(|l| l.split('=').next())
        .map(String::from)
        .collect()
}
