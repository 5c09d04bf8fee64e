//! Log forwarding against the real engine (`berth create --forward-logs`): lines
//! written to a workspace's log and a service's arrive tagged in a file on the host
//! and at syslog listeners this test runs on 127.0.0.1; a bad target is refused
//! with nothing left; a fork keeps forwarding; delete takes the forwarder and its
//! volume (the file stays).
//! Ports: 3190-3199 (SSH 3190-3197, the syslog listeners 3198 and 3199).
mod common;

use common::{assert_refused, docker, stdout, Sandbox};
use std::io::{BufRead, BufReader};
use std::net::{TcpListener, UdpSocket};
use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// How long a line may take to travel (generous: the machine is shared).
const PATIENCE: Duration = Duration::from_secs(60);

/// Writes `line` to the workspace's log: its first process's stdout (sshd, run as
/// the workspace user, so the user may write there).
fn write_to_workspace_log(sb: &Sandbox, name: &str, line: &str) {
    sb.ok(&[
        "exec",
        name,
        "--",
        "sh",
        "-c",
        &format!("echo {line} > /proc/1/fd/1"),
    ]);
}

/// The file's text once every one of `want` is in it.
fn wait_for_file(path: &Path, want: &[&str]) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if want.iter().all(|w| text.contains(w)) {
            return text;
        }
        assert!(
            Instant::now() < deadline,
            "{} never held all of {want:?}; it holds:\n{text}",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Messages from `rx` until one holds each of `want`.
fn wait_for_messages(rx: &mpsc::Receiver<String>, want: &[&str]) -> Vec<String> {
    let deadline = Instant::now() + PATIENCE;
    let mut got: Vec<String> = Vec::new();
    while !want.iter().all(|w| got.iter().any(|m| m.contains(w))) {
        let left = deadline.saturating_duration_since(Instant::now());
        match rx.recv_timeout(left) {
            Ok(m) => got.push(m),
            Err(_) => panic!("never received all of {want:?}; got:\n{}", got.join("\n")),
        }
    }
    got
}

fn forwarder(name: &str) -> String {
    format!("workspace-{name}.logs")
}

fn exists(kind: &str, object: &str) -> bool {
    docker(&[kind, "inspect", object]).status.success()
}

#[test]
fn workspace_and_service_lines_arrive_tagged_in_a_private_file_and_delete_takes_the_forwarder() {
    let Some(sb) = Sandbox::new("logfwd_file", (3190, 3191)) else {
        return;
    };
    let name = sb.name("f");
    let file = sb.dir.path().join("forwarded.log");
    let target = format!("file:{}", file.display());
    let created = sb.create_ok(&name, &["--forward-logs", &target]);
    assert_eq!(created["forward_logs"]["target"], target.as_str());
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(&file).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600, "the file is made private");

    // The forwarder: hardened, no engine socket, the logs read-only.
    let inspect = stdout(&docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig.CapDrop}} {{.HostConfig.ReadonlyRootfs}} {{json .HostConfig.SecurityOpt}} {{.HostConfig.PidsLimit}} {{json .Mounts}}",
        &forwarder(&name),
    ]));
    assert!(inspect.contains("[\"ALL\"] true"), "{inspect}");
    assert!(inspect.contains("no-new-privileges"), "{inspect}");
    assert!(!inspect.contains("docker.sock"), "{inspect}");
    assert!(
        inspect.contains("\"Destination\":\"/logs/workspace\""),
        "{inspect}"
    );

    // A line in the workspace's log, and a service's.
    let ws_line = format!("ws-marker-{}", common::run_id());
    write_to_workspace_log(&sb, &name, &ws_line);
    let svc_line = format!("db-marker-{}", common::run_id());
    sb.ok(&[
        "service",
        "add",
        &name,
        "db",
        "--image",
        "debian:bookworm-slim",
        "--",
        "sh",
        "-c",
        &format!("echo {svc_line}; exec sleep infinity"),
    ]);
    let text = wait_for_file(&file, &[&ws_line, &svc_line]);
    let line_of = |marker: &str| {
        text.lines()
            .find(|l| l.contains(marker))
            .unwrap()
            .to_string()
    };
    let ws = line_of(&ws_line);
    assert!(
        ws.contains(&format!(" {name}/workspace stdout: {ws_line}")),
        "{ws}"
    );
    // Each line starts with its time (UTC, RFC 3339).
    assert!(ws.as_bytes()[4] == b'-' && ws.contains("Z "), "{ws}");
    let db = line_of(&svc_line);
    assert!(
        db.contains(&format!(" {name}/db stdout: {svc_line}")),
        "{db}"
    );

    // Status says where they go and what is followed.
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(st["forward_logs"]["running"], true, "{st}");
    assert_eq!(
        st["forward_logs"]["sources"],
        serde_json::json!(["db", "workspace"])
    );
    let text_status = sb.ok(&["status", &name]);
    assert!(
        text_status.contains(&format!("→ {target}")),
        "{text_status}"
    );

    // Stop and start: nothing shipped twice.
    sb.ok(&["stop", &name]);
    sb.ok(&["start", &name]);
    let after = wait_for_file(&file, &[&ws_line]);
    assert_eq!(after.matches(&ws_line).count(), 1, "{after}");

    // A fork forwards to the same place.
    let fork = sb.name("g");
    sb.ok(&["fork", &name, &fork]);
    let st = sb.json(&["status", &fork, "--json"]);
    assert_eq!(st["forward_logs"]["target"], target.as_str(), "{st}");
    assert_eq!(st["forward_logs"]["running"], true, "{st}");
    sb.ok(&["delete", &fork, "--yes"]);

    sb.ok(&["delete", &name, "--yes"]);
    assert!(!exists("container", &forwarder(&name)));
    assert!(!exists("volume", &forwarder(&name)));
    assert!(file.exists(), "the host file (the user's) stays");
}

#[test]
fn syslog_listeners_on_the_host_receive_tagged_messages_over_udp_and_tcp() {
    let Some(sb) = Sandbox::new("logfwd_syslog", (3192, 3194)) else {
        return;
    };
    // UDP: each datagram one message.
    let udp = UdpSocket::bind("127.0.0.1:3198").expect("the UDP port of this test");
    let (utx, urx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 65536];
        while let Ok(n) = udp.recv(&mut buf) {
            if utx
                .send(String::from_utf8_lossy(&buf[..n]).to_string())
                .is_err()
            {
                break;
            }
        }
    });
    // TCP: one message a line.
    let tcp = TcpListener::bind("127.0.0.1:3199").expect("the TCP port of this test");
    let (ttx, trx) = mpsc::channel();
    std::thread::spawn(move || {
        for conn in tcp.incoming().flatten() {
            let ttx = ttx.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(conn).lines().map_while(Result::ok) {
                    if ttx.send(line).is_err() {
                        break;
                    }
                }
            });
        }
    });

    let u = sb.name("u");
    sb.create_ok(&u, &["--forward-logs", "syslog+udp://127.0.0.1:3198"]);
    let line = format!("udp-marker-{}", common::run_id());
    write_to_workspace_log(&sb, &u, &line);
    let got = wait_for_messages(&urx, &[&line]);
    let m = got.iter().find(|m| m.contains(&line)).unwrap();
    // RFC 5424: "<PRI>1 TIMESTAMP HOST APP-NAME ...", the app-name NAME/SOURCE.
    assert!(m.starts_with('<') && m.contains(">1 "), "{m}");
    assert!(m.contains(&format!(" {u}/workspace ")), "{m}");
    assert!(m.ends_with(&format!("stdout: {line}")), "{m}");

    let t = sb.name("t");
    sb.create_ok(
        &t,
        &[
            "--forward-logs",
            "syslog+tcp://127.0.0.1:3199?format=rfc3164",
        ],
    );
    let line = format!("tcp-marker-{}", common::run_id());
    write_to_workspace_log(&sb, &t, &line);
    let got = wait_for_messages(&trx, &[&line]);
    let m = got.iter().find(|m| m.contains(&line)).unwrap();
    // RFC 3164: "<PRI>Mmm dd hh:mm:ss HOST TAG: MSG".
    assert!(
        m.contains(&format!(" {t}/workspace: stdout: {line}")),
        "{m}"
    );
    assert!(!m.contains(">1 "), "{m}");
}

#[test]
fn a_bad_target_is_refused_at_create_with_nothing_left() {
    let Some(sb) = Sandbox::new("logfwd_bad", (3195, 3196)) else {
        return;
    };
    let name = sb.name("b");
    let missing = sb.dir.path().join("no-such-dir/w.log");
    let o = sb.create(&name, &["--forward-logs", &missing.display().to_string()]);
    assert_refused(&o, "does not exist");
    let o = sb.create(&name, &["--forward-logs", "relative.log"]);
    assert_refused(&o, "not an absolute path");
    let o = sb.create(&name, &["--forward-logs", "syslog+udp://127.0.0.1:99999"]);
    assert_refused(&o, "bad port");
    assert!(sb.labelled("container").is_empty());
    assert!(sb.labelled("volume").is_empty());
    assert!(!missing.parent().unwrap().exists());
}

#[test]
fn a_file_target_swapped_for_a_link_never_writes_through_it() {
    let Some(sb) = Sandbox::new("logfwd_link", (3197, 3197)) else {
        return;
    };
    let name = sb.name("l");
    let file = sb.dir.path().join("forwarded.log");
    sb.create_ok(&name, &["--forward-logs", &file.display().to_string()]);
    write_to_workspace_log(&sb, &name, "before-the-swap");
    wait_for_file(&file, &["before-the-swap"]);
    // Someone swaps the target for a link to another file of theirs on the host,
    // and the engine restarts the forwarder by itself (no berth check runs).
    let victim = sb.dir.path().join("victim.txt");
    std::fs::write(&victim, "untouched\n").unwrap();
    std::fs::remove_file(&file).unwrap();
    std::os::unix::fs::symlink(&victim, &file).unwrap();
    let o = docker(&["restart", "-t", "1", &forwarder(&name)]);
    assert!(o.status.success(), "{o:?}");
    write_to_workspace_log(&sb, &name, "after-the-swap");
    // Give the forwarder ample time to have shipped it, were it able to.
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!(
        std::fs::read_to_string(&victim).unwrap(),
        "untouched\n",
        "the forwarder wrote through the link into a file on the host"
    );
    sb.ok(&["delete", &name, "--yes"]);
}
