//! `berth secret` against the real engine: values from a file, the environment, a
//! command and standard input reach /run/berth/secrets/NAME inside (0400, the
//! workspace user's), berth's own output shows `[secret NAME]` instead, and the
//! values are nowhere else: not in `docker inspect`, any process's environment
//! inside, berth's state directory and log, the image's history or the
//! container's layer on the host's disk. Rotation reaches a running workspace
//! without a restart, and a stopped one when it starts; `secret rm` removes it.
mod common;
use common::*;
use std::io::Write;
use std::path::Path;
use std::process::Stdio;

/// A value unique to this run (so a grep finds only what this test put there).
fn unique(tag: &str) -> String {
    let t = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{tag}-{}-{:x}", run_id(), t % 0xffff_ffff)
}

fn reversed(s: &str) -> String {
    s.chars().rev().collect()
}

/// `docker exec -u USER CONTAINER ARGS...`, stdout.
fn dexec(user: &str, c: &str, args: &[&str]) -> String {
    let mut a = vec!["exec", "-u", user, c];
    a.extend_from_slice(args);
    let o = docker(&a);
    assert!(o.status.success(), "docker exec {args:?}: {}", stderr(&o));
    stdout(&o)
}

/// Every file under `dir` that holds `needle` (bytes).
fn files_holding(dir: &Path, needle: &str) -> Vec<String> {
    let mut hits = Vec::new();
    let mut todo = vec![dir.to_path_buf()];
    while let Some(p) = todo.pop() {
        let Ok(m) = std::fs::symlink_metadata(&p) else {
            continue;
        };
        if m.is_dir() {
            if let Ok(rd) = std::fs::read_dir(&p) {
                todo.extend(rd.flatten().map(|e| e.path()));
            }
        } else if m.is_file() {
            if let Ok(b) = std::fs::read(&p) {
                if b.windows(needle.len()).any(|w| w == needle.as_bytes()) {
                    hits.push(p.display().to_string());
                }
            }
        }
    }
    hits
}

/// `berth secret set NAME [--workspace WS]` with `value` on standard input.
fn set_from_stdin(sb: &Sandbox, name: &str, ws: &str, value: &str) -> String {
    let mut c = sb.cmd(&["secret", "set", name, "--workspace", ws]);
    c.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = c.spawn().unwrap();
    let mut stdin = child.stdin.take().unwrap();
    writeln!(stdin, "{value}").unwrap();
    drop(stdin);
    let o = child.wait_with_output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    stderr(&o)
}

#[test]
fn secret_values_are_inside_the_workspace_and_nowhere_else() {
    let Some(sb) = Sandbox::new("secretfiles", (3180, 3184)) else {
        return;
    };
    let name = sb.name("a");
    let container = format!("workspace-{name}");
    let (v_file, v_env, v_cmd, v_stdin) = (
        unique("sfile"),
        unique("senv"),
        unique("scmd"),
        unique("sstdin"),
    );
    let src = sb.dir.path().join("token.txt");
    std::fs::write(&src, &v_file).unwrap();
    let env = [("SEC_ENV_VALUE", v_env.as_str()), ("BERTH_LOG", "debug")];
    let berth = |args: &[&str]| {
        let mut c = sb.cmd(args);
        c.envs(env);
        c.output().unwrap()
    };
    let ok = |args: &[&str]| {
        let o = berth(args);
        assert!(o.status.success(), "berth {args:?}: {}", stderr(&o));
        o
    };
    ok(&[
        "secret",
        "set",
        "FILE_S",
        "--from-file",
        src.to_str().unwrap(),
    ]);
    ok(&["secret", "set", "ENV_S", "--from-env", "SEC_ENV_VALUE"]);
    // The command computes the value: what berth records is not the value.
    let cmd = format!("echo {} | rev", reversed(&v_cmd));
    let o = ok(&["secret", "set", "CMD_S", "--from-cmd", &cmd]);
    assert!(
        stdout(&o).contains("berth create NAME --secret CMD_S"),
        "{}",
        stdout(&o)
    );
    // A name that is no file name is refused with what to do.
    assert_refused(
        &berth(&["secret", "set", "../x", "--from-env", "HOME"]),
        "not a valid secret name",
    );

    let key = format!("{}.pub", sb.key().display());
    ok(&[
        "create",
        &name,
        "--ssh-key",
        &key,
        "--json",
        "--secret",
        "FILE_S",
        "--secret",
        "ENV_S",
        "--secret",
        "CMD_S",
    ]);
    // Given on stdin, set for the running workspace: delivered at once, and said to be not kept.
    let said = set_from_stdin(&sb, "STDIN_S", &name, &v_stdin);
    assert!(said.contains("unless it is set again"), "{said}");

    let values = [
        ("FILE_S", &v_file),
        ("ENV_S", &v_env),
        ("CMD_S", &v_cmd),
        ("STDIN_S", &v_stdin),
    ];
    for (n, v) in values {
        let path = format!("/run/berth/secrets/{n}");
        assert_eq!(&dexec("workspace", &container, &["cat", &path]), v, "{n}");
        let st = dexec("workspace", &container, &["stat", "-c", "%a %U", &path]);
        assert_eq!(st.trim(), "400 workspace", "{n}");
    }
    // berth's own output shows the marker, not the value.
    let o = ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "for f in /run/berth/secrets/*; do cat $f; echo; done",
    ]);
    let out = stdout(&o);
    for (n, v) in values {
        assert!(
            !out.contains(v.as_str()),
            "{n}'s value printed by berth exec:\n{out}"
        );
        assert!(out.contains(&format!("[secret {n}]")), "{out}");
    }
    let o = ok(&[
        "exec",
        &name,
        "--json",
        "--",
        "cat",
        "/run/berth/secrets/ENV_S",
    ]);
    assert!(stdout(&o).contains("[secret ENV_S]"), "{}", stdout(&o));
    // A workspace's logs: printed by its main process's output.
    let to_log = "(cat /run/berth/secrets/CMD_S; echo) > /proc/1/fd/1";
    dexec("workspace", &container, &["sh", "-c", to_log]);
    let o = ok(&["logs", &name]);
    assert!(
        !stdout(&o).contains(&v_cmd) && stdout(&o).contains("[secret CMD_S]"),
        "{}",
        stdout(&o)
    );

    // Nowhere else.
    let inspect = stdout(&docker(&["inspect", &container]));
    // Every process's environment: as root and as the workspace user (without
    // capabilities, each reads only its own uid's processes; together, all).
    let read_environ =
        "for e in /proc/[0-9]*/environ; do tr '\\0' '\\n' < $e; done 2>/dev/null; true";
    let environ = ["root", "workspace"]
        .map(|u| dexec(u, &container, &["sh", "-c", read_environ]))
        .concat();
    assert!(environ.contains("HOME="), "no environment read: {environ}");
    let image = stdout(&docker(&["inspect", "-f", "{{.Image}}", &container]));
    let history = stdout(&docker(&["history", "--no-trunc", image.trim()]));
    let upper = stdout(&docker(&[
        "inspect",
        "-f",
        "{{.GraphDriver.Data.UpperDir}}",
        &container,
    ]));
    let upper = Path::new(upper.trim());
    assert!(upper.is_dir(), "no upper dir at {}", upper.display());
    let listed = stdout(&ok(&["secret", "ls", "--json"]));
    assert!(listed.contains("\"kept\": false"), "{listed}");
    for (n, v) in values {
        assert!(!inspect.contains(v.as_str()), "{n} in docker inspect");
        assert!(
            !environ.contains(v.as_str()),
            "{n} in a process's environment inside"
        );
        assert!(!history.contains(v.as_str()), "{n} in the image's history");
        assert!(!listed.contains(v.as_str()), "{n} in secret ls");
        assert_eq!(
            files_holding(&sb.state_dir(), v),
            Vec::<String>::new(),
            "{n} in the state dir"
        );
        assert_eq!(
            files_holding(upper, v),
            Vec::<String>::new(),
            "{n} in the container's layer"
        );
    }
    let log = std::fs::read_to_string(sb.state_dir().join("berth.log")).unwrap();
    assert!(
        log.contains("DEBUG") && log.contains("secret files written"),
        "debug logging was on, and says which files it wrote: {log}"
    );

    // Command lines while values are delivered: sampled inside (every process's,
    // as root and as the workspace user) and on the host, during a few rotations.
    let samplers: Vec<_> = ["root", "workspace"]
        .map(|u| {
            let c = container.clone();
            std::thread::spawn(move || {
                let s = "end=$(($(date +%s)+3)); while [ $(date +%s) -lt $end ]; do for p in /proc/[0-9]*/cmdline; do tr '\\0' ' ' < $p; echo; done 2>/dev/null; done";
                dexec(u, &c, &["sh", "-c", s])
            })
        })
        .into();
    let host_done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let flag = host_done.clone();
    let host = std::thread::spawn(move || {
        let mut seen = String::new();
        while !flag.load(std::sync::atomic::Ordering::SeqCst) {
            seen.push_str(&stdout(
                &std::process::Command::new("ps")
                    .args(["-eo", "args"])
                    .output()
                    .unwrap(),
            ));
        }
        seen
    });
    for _ in 0..3 {
        ok(&["secret", "set", "ENV_S", "--from-env", "SEC_ENV_VALUE"]);
    }
    let inside: String = samplers.into_iter().map(|t| t.join().unwrap()).collect();
    host_done.store(true, std::sync::atomic::Ordering::SeqCst);
    let on_host = host.join().unwrap();
    eprintln!(
        "command lines sampled during delivery: {} delivery execs inside, {} berth processes on the host",
        inside.matches("head -c").count(),
        on_host.matches("secret set").count()
    );
    assert!(inside.contains("/proc/") && on_host.contains("ps -eo args"));
    for (n, v) in values {
        assert!(!inside.contains(v.as_str()), "{n} on a command line inside");
        assert!(
            !on_host.contains(v.as_str()),
            "{n} on a command line on the host"
        );
    }

    // Rotation while it runs: the new value inside, the container not restarted.
    let started = |c: &str| stdout(&docker(&["inspect", "-f", "{{.State.StartedAt}}", c]));
    let before = started(&container);
    let v_file2 = unique("sfile2");
    std::fs::write(&src, &v_file2).unwrap();
    let o = ok(&[
        "secret",
        "set",
        "FILE_S",
        "--from-file",
        src.to_str().unwrap(),
    ]);
    assert!(stdout(&o).contains(&name), "{}", stdout(&o));
    assert_eq!(
        dexec(
            "workspace",
            &container,
            &["cat", "/run/berth/secrets/FILE_S"]
        ),
        v_file2
    );
    assert_eq!(started(&container), before);

    // Stopped: a rotation waits for the start, which brings it.
    ok(&["stop", &name]);
    let v_cmd2 = unique("scmd2");
    let cmd2 = format!("echo {} | rev", reversed(&v_cmd2));
    let o = ok(&["secret", "set", "CMD_S", "--from-cmd", &cmd2]);
    assert!(
        stdout(&o).contains("get it when they start"),
        "{}",
        stdout(&o)
    );
    let o = ok(&["start", &name]);
    assert_eq!(
        dexec(
            "workspace",
            &container,
            &["cat", "/run/berth/secrets/CMD_S"]
        ),
        v_cmd2
    );
    assert_eq!(
        dexec(
            "workspace",
            &container,
            &["cat", "/run/berth/secrets/ENV_S"]
        ),
        v_env
    );
    // The stdin value was not kept: the start says so, and the file is not there.
    assert!(
        stderr(&o).contains("unless it is set again"),
        "{}",
        stderr(&o)
    );
    let gone = docker(&[
        "exec",
        &container,
        "test",
        "-e",
        "/run/berth/secrets/STDIN_S",
    ]);
    assert!(!gone.status.success());

    // rm: gone from the running workspace.
    ok(&["secret", "rm", "FILE_S"]);
    let gone = docker(&[
        "exec",
        &container,
        "test",
        "-e",
        "/run/berth/secrets/FILE_S",
    ]);
    assert!(!gone.status.success());
    assert_refused(&berth(&["secret", "rm", "FILE_S"]), "berth secret ls");
    let log = std::fs::read_to_string(sb.state_dir().join("berth.log")).unwrap();
    for v in [&v_file, &v_file2, &v_env, &v_cmd, &v_cmd2, &v_stdin] {
        assert!(!log.contains(v.as_str()), "a value in berth.log");
        assert_eq!(files_holding(&sb.state_dir(), v), Vec::<String>::new());
    }
    // The doctor finds the state directory private.
    let o = berth(&["doctor", "--json"]);
    let d: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let state = d["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "state directory")
        .cloned()
        .unwrap();
    assert_eq!(state["status"], "ok", "{state}");
    ok(&["delete", &name, "--yes"]);
}

#[test]
fn a_missing_secret_fails_the_create_and_leaves_nothing() {
    let Some(sb) = Sandbox::new("secretmiss", (3185, 3186)) else {
        return;
    };
    let name = sb.name("m");
    let o = sb.create(&name, &["--secret", "NEVER_SET"]);
    assert_refused(&o, "berth secret set NEVER_SET");
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
}

#[test]
fn secret_files_work_under_gvisor() {
    let Some(sb) = Sandbox::with_config("secretgv", (3187, 3189), "") else {
        return;
    };
    let runtimes = stdout(&docker(&["info", "--format", "{{json .Runtimes}}"]));
    if !runtimes.contains("\"runsc\"") {
        let ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
        assert!(
            !ci,
            "runsc is not registered with dockerd; scripts/engine.sh ensure registers it"
        );
        eprintln!("\n!!!!!!!! SKIPPED gVisor secrets test: runsc is not registered !!!!!!!!\n");
        return;
    }
    let text = std::fs::read_to_string(sb.config_file()).unwrap();
    std::fs::write(sb.config_file(), format!("runtime = \"runsc\"\n{text}")).unwrap();
    let name = sb.name("g");
    let v = unique("sgv");
    let mut c = sb.cmd(&["secret", "set", "GV", "--from-env", "SEC_GV"]);
    c.env("SEC_GV", &v);
    assert!(c.output().unwrap().status.success());
    let key = format!("{}.pub", sb.key().display());
    let mut c = sb.cmd(&["create", &name, "--ssh-key", &key, "--secret", "GV"]);
    c.env("SEC_GV", &v);
    let o = c.output().unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let container = format!("workspace-{name}");
    assert_eq!(
        dexec("workspace", &container, &["cat", "/run/berth/secrets/GV"]),
        v
    );
    // Rotation under gVisor too.
    let v2 = unique("sgv2");
    let mut c = sb.cmd(&["secret", "set", "GV", "--from-env", "SEC_GV"]);
    c.env("SEC_GV", &v2);
    assert!(c.output().unwrap().status.success());
    assert_eq!(
        dexec("workspace", &container, &["cat", "/run/berth/secrets/GV"]),
        v2
    );
    sb.ok(&["delete", &name, "--yes"]);
}
