//! create's mounts, published ports, limits, working directory, made-up names,
//! `berth hint` and `create --json` steps, against the real engine; bad input
//! refused with a sentence and nothing created.
mod common;
use common::*;
use std::io::Read;
use std::net::TcpStream;
use std::time::{Duration, Instant};

fn inspect(name: &str, format: &str) -> String {
    let o = docker(&["inspect", "--format", format, &format!("workspace-{name}")]);
    stdout(&o).trim().to_string()
}

/// A line from a server in the workspace, through the published port.
fn read_published(port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        if let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) {
            s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
            let mut got = String::new();
            let _ = s.read_to_string(&mut got);
            if !got.is_empty() {
                return got;
            }
        }
        assert!(Instant::now() < deadline, "nothing answered on port {port}");
        std::thread::sleep(Duration::from_millis(300));
    }
}

#[test]
fn mounts_ports_limits_and_workdir_reach_the_workspace() {
    let Some(sb) = Sandbox::new("copts", (3010, 3014)) else {
        return;
    };
    let name = sb.name("a");
    let ro = sb.dir.path().join("ro");
    let rw = sb.dir.path().join("rw");
    let cwd = sb.dir.path().join("cwd");
    for d in [&ro, &rw, &cwd] {
        std::fs::create_dir_all(d).unwrap();
    }
    // The workspace user (uid 1000) writes into the read-write mount.
    std::process::Command::new("chmod")
        .args(["0777", rw.to_str().unwrap()])
        .status()
        .unwrap();
    std::fs::write(ro.join("hello"), "from-the-host\n").unwrap();
    std::fs::write(cwd.join("cwd-file"), "in-the-cwd\n").unwrap();
    let key = format!("{}.pub", sb.key().display());
    let ro_m = format!("{}:/data:ro", ro.display());
    let rw_m = format!("{}:/home/workspace/rw", rw.display());
    let mut c = sb.cmd(&[
        "create",
        &name,
        "--ssh-key",
        &key,
        "--json",
        "--mount",
        &ro_m,
        "--mount",
        &rw_m,
        "--mount-cwd",
        "--port",
        "3020:8000",
        "--cpus",
        "1.5",
        "--memory",
        "600m",
        "--workdir",
        "/home/workspace/project",
    ]);
    let o = c.current_dir(&cwd).output().unwrap();
    assert!(o.status.success(), "create failed:\n{}", stderr(&o));
    let w: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(w["name"], name.as_str());

    // create --json: each step with its duration.
    let steps = w["steps"].as_array().expect("steps");
    let labels: Vec<&str> = steps.iter().filter_map(|s| s["label"].as_str()).collect();
    for want in ["volume", "container", "start", "commit"] {
        assert!(labels.contains(&want), "{want} missing from {labels:?}");
    }
    for s in steps {
        assert!(s["seconds"].as_f64().unwrap() >= 0.0, "{s}");
        assert!(!s["description"].as_str().unwrap().is_empty(), "{s}");
    }

    // Mounts: read-only honoured, read-write writes reach the host, the cwd at ~/src.
    let cat = |p: &str| sb.ok(&["exec", &name, "--", "cat", p]);
    assert_eq!(cat("/data/hello"), "from-the-host\n");
    let o = sb.berth(&["exec", &name, "--", "sh", "-c", "echo x > /data/new"]);
    assert_ne!(o.status.code(), Some(0), "a read-only mount was written");
    assert!(!ro.join("new").exists());
    sb.ok(&[
        "exec",
        &name,
        "--",
        "sh",
        "-c",
        "echo y > /home/workspace/rw/out",
    ]);
    assert_eq!(std::fs::read_to_string(rw.join("out")).unwrap(), "y\n");
    assert_eq!(cat("/home/workspace/src/cwd-file"), "in-the-cwd\n");

    // Limits.
    assert_eq!(inspect(&name, "{{.HostConfig.NanoCpus}}"), "1500000000");
    assert_eq!(
        inspect(&name, "{{.HostConfig.Memory}}"),
        (600u64 << 20).to_string()
    );

    // The working directory: made by the workspace user, used by exec and ssh.
    assert_eq!(
        sb.ok(&["exec", &name, "--", "pwd"]),
        "/home/workspace/project\n"
    );
    assert_eq!(
        sb.ok(&["exec", &name, "--", "stat", "-c", "%U", "."]),
        "workspace\n"
    );
    assert_eq!(sb.ok(&["exec", &name, "-w", "/tmp", "--", "pwd"]), "/tmp\n");
    assert_eq!(
        sb.ok(&["ssh", &name, "--", "pwd"]),
        "/home/workspace/project\n"
    );

    // A published port reaches a server in the workspace.
    let server = "nohup perl -MIO::Socket::INET -e '$s=IO::Socket::INET->new(LocalPort=>8000,Listen=>5,ReuseAddr=>1) or die; while($c=$s->accept){print $c \"hello-from-workspace\\n\"; close $c}' >/dev/null 2>&1 &";
    sb.ok(&["exec", &name, "--", "sh", "-c", server]);
    assert_eq!(read_published(3020), "hello-from-workspace\n");

    // berth hint.
    let h = sb.json(&["hint", &name, "--json"]);
    assert_eq!(h["command"], format!("ssh berth-{name}"));
    assert_eq!(
        h["docker"],
        format!(
            "docker exec -it -u workspace -w '/home/workspace/project' workspace-{name} bash -l"
        )
    );
    assert_eq!(h["shell"], "/bin/bash");
    let text = sb.ok(&["hint", &name]);
    assert!(text.contains(&format!("ssh berth-{name}")), "{text}");
    assert!(text.contains("Login shell: /bin/bash"), "{text}");
}

#[test]
fn a_create_without_a_name_gets_a_readable_one() {
    let Some(sb) = Sandbox::new("cname", (3015, 3017)) else {
        return;
    };
    // A repository served from a read-only mount, cloned into ~/repo.
    let src = sb.dir.path().join("src");
    let git = |args: &[&str]| {
        let o = std::process::Command::new("git")
            .args(["-c", "user.name=t", "-c", "user.email=t@t", "-C"])
            .arg(&src)
            .args(args)
            .output()
            .unwrap();
        assert!(o.status.success(), "git {args:?}: {}", stderr(&o));
    };
    std::fs::create_dir_all(&src).unwrap();
    std::fs::write(src.join("README"), "hello\n").unwrap();
    git(&["init", "-q"]);
    git(&["add", "README"]);
    git(&["commit", "-qm", "first"]);
    // git inside refuses a repository its user does not own.
    std::process::Command::new("chown")
        .args(["-R", "1000:1000"])
        .arg(&src)
        .status()
        .unwrap();
    let mount = format!("{}:/srv/src:ro", src.display());
    let key = format!("{}.pub", sb.key().display());
    let o = sb.berth(&[
        "create",
        "--ssh-key",
        &key,
        "--json",
        "--mount",
        &mount,
        "--clone",
        "file:///srv/src",
    ]);
    assert!(o.status.success(), "create failed:\n{}", stderr(&o));
    let w: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    let name = w["name"].as_str().unwrap().to_string();
    assert!(
        name.starts_with(|c: char| c.is_ascii_lowercase())
            && name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
        "{name}"
    );
    assert!(sb.container_exists(&name));
    // No --workdir, a clone: exec, ssh and the hint start in the clone.
    assert_eq!(sb.ok(&["exec", &name, "--", "cat", "README"]), "hello\n");
    assert_eq!(
        sb.ok(&["ssh", &name, "--", "pwd"]),
        "/home/workspace/repo\n"
    );
    let h = sb.json(&["hint", &name, "--json"]);
    assert_eq!(
        h["docker"],
        format!("docker exec -it -u workspace -w '/home/workspace/repo' workspace-{name} bash -l")
    );
    sb.ok(&["delete", &name, "--yes"]);
}

#[test]
fn bad_mounts_ports_and_workdirs_are_refused_and_nothing_is_created() {
    let Some(sb) = Sandbox::new("cbad", (3018, 3019)) else {
        return;
    };
    let name = sb.name("a");
    let missing = format!("{}:/data", sb.dir.path().join("nope").display());
    let home = format!("{}:/home/workspace", sb.dir.path().display());
    let held = std::net::TcpListener::bind(("127.0.0.1", 3021)).unwrap();
    let cases: [(&[&str], &str); 6] = [
        (&["--mount", &missing], "does not exist"),
        (&["--mount", &home], "would hide the workspace's home"),
        (&["--port", "x:80"], "expected HOST:CONTAINER"),
        (&["--port", "3018:80"], "SSH port range"),
        (&["--port", "3021:80"], "host port 3021 is taken"),
        (&["--workdir", "project"], "must be an absolute path"),
    ];
    for (flags, want) in cases {
        let o = sb.create(&name, flags);
        assert_refused(&o, want);
        assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));
        assert!(sb.labelled("container").is_empty() && sb.labelled("volume").is_empty());
    }
    drop(held);
}
