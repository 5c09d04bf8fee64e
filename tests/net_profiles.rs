//! Network profiles open, isolated and offline against the real engine.
//!
//! "The internet stays reachable" cannot be shown here without leaving the machine
//! (the tests never do). What is shown instead: an isolated workspace gets out of
//! its bridge to a test server on the host side of it (a container of the test's
//! own with host networking, bound to the isolated network's gateway address: the
//! path every packet to the internet takes first, before the engine's NAT), the
//! network is a routed bridge (not `internal`), and a connection to another
//! workspace on the same network fails while the host itself reaches that
//! workspace's sshd (so it is inter-container communication that is off, not the
//! port that is closed).
mod common;

use common::*;
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// The test server's port (inside this file's range 3150-3159; SSH uses 3150-3157).
const SERVER_PORT: u16 = 3158;

fn inspect(what: &str, format: &str) -> String {
    let o = docker(&["inspect", "-f", format, what]);
    assert!(o.status.success(), "docker inspect {what}: {}", stderr(&o));
    stdout(&o).trim().to_string()
}

fn ip_of(name: &str) -> String {
    inspect(
        &format!("workspace-{name}"),
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
    )
}

/// Runs `script` with bash inside workspace `name`, giving up after `secs`.
fn bash_in(sb: &Sandbox, name: &str, secs: u32, script: &str) -> std::process::Output {
    sb.berth(&[
        "exec",
        name,
        "--",
        "timeout",
        &secs.to_string(),
        "bash",
        "-c",
        script,
    ])
}

/// A server of the test's own on the host side of `network`'s bridge: host
/// networking, bound to the bridge's gateway address, answering "hello".
fn host_side_server(sb: &Sandbox, network: &str) -> String {
    let gw = stdout(&docker(&[
        "network",
        "inspect",
        "-f",
        "{{(index .IPAM.Config 0).Gateway}}",
        network,
    ]))
    .trim()
    .to_string();
    assert!(!gw.is_empty(), "no gateway on {network}");
    let script = format!(
        "use IO::Socket::INET; my $s = IO::Socket::INET->new(LocalAddr => '{gw}', LocalPort => {SERVER_PORT}, Listen => 5, ReuseAddr => 1) or die \"listen: $!\"; while (my $c = $s->accept) {{ print $c \"hello\\n\"; close $c }}"
    );
    let case = format!("berth.test-case={}", sb.case);
    let run = format!("berth.test-run={}", run_id());
    let o = docker(&[
        "run",
        "-d",
        "--rm",
        "--name",
        &sb.name("srv"),
        "--label",
        &case,
        "--label",
        &run,
        "--network",
        "host",
        "debian:bookworm-slim",
        "perl",
        "-e",
        &script,
    ]);
    assert!(o.status.success(), "test server: {}", stderr(&o));
    gw
}

/// `berth doctor`'s isolated network check, as "STATUS: DETAIL".
fn doctor_line(sb: &Sandbox) -> String {
    let o = sb.berth(&["doctor", "--json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("doctor --json");
    let c = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["check"] == "isolated network")
        .unwrap_or_else(|| panic!("no isolated network check: {v}"))
        .clone();
    format!(
        "{}: {}",
        c["status"].as_str().unwrap(),
        c["detail"].as_str().unwrap()
    )
}

#[test]
fn isolated_workspaces_reach_the_host_side_but_never_each_other() {
    let Some(sb) = Sandbox::new("netiso", (3150, 3153)) else {
        return;
    };
    let net = sb.isolated_network();
    let (a, b) = (sb.name("a"), sb.name("b"));
    assert!(
        doctor_line(&sb).contains("will be made by the first isolated create"),
        "{}",
        doctor_line(&sb)
    );
    // The default profile, made on the first create.
    let wa = sb.create_ok(&a, &[]);
    assert_eq!(wa["net_profile"], "isolated", "{wa}");
    sb.create_ok(&b, &["--net-profile", "isolated"]);
    assert_eq!(
        inspect(&format!("workspace-{a}"), "{{.HostConfig.NetworkMode}}"),
        net
    );
    let opts = inspect(&net, "{{index .Options \"com.docker.network.bridge.enable_icc\"}} {{.Internal}} {{index .Labels \"dev.berth.role\"}}");
    assert_eq!(opts, "false false isolated-network", "{net}");
    // Out through the bridge to the host side: the server answers.
    let gw = host_side_server(&sb, &net);
    let fetch = format!("cat < /dev/tcp/{gw}/{SERVER_PORT}");
    let mut said = String::new();
    for _ in 0..50 {
        let o = bash_in(&sb, &a, 5, &fetch);
        said = stdout(&o);
        if said.trim() == "hello" {
            break;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert_eq!(
        said.trim(),
        "hello",
        "workspace {a} did not reach {gw}:{SERVER_PORT}"
    );
    let o = bash_in(&sb, &b, 5, &fetch);
    assert_eq!(stdout(&o).trim(), "hello", "{}", stderr(&o));
    // b's sshd listens (the host reaches it) ...
    let ip_b = ip_of(&b);
    let addr: SocketAddr = format!("{ip_b}:2222").parse().unwrap();
    TcpStream::connect_timeout(&addr, Duration::from_secs(5))
        .unwrap_or_else(|e| panic!("the host cannot reach {addr}: {e}"));
    // ... but a, beside it on the same network, cannot.
    let o = bash_in(&sb, &a, 5, &format!("echo > /dev/tcp/{ip_b}/2222"));
    assert!(
        !o.status.success(),
        "workspace {a} reached {b} at {ip_b}:2222 on an isolated network"
    );
    let list = sb.ok(&["list"]);
    let row = list.lines().find(|l| l.starts_with(&a)).unwrap();
    assert!(row.contains("isolated"), "{list}");
    let line = doctor_line(&sb);
    assert!(
        line.contains("is berth's, inter-container communication off (2 container(s)"),
        "{line}"
    );
    let status = sb.ok(&["status", &a]);
    assert!(status.contains("network    isolated"), "{status}");
    // The network goes with its last workspace, not before.
    sb.ok(&["delete", &a, "--yes"]);
    assert!(docker(&["network", "inspect", &net]).status.success());
    sb.ok(&["delete", &b, "--yes"]);
    assert!(
        !docker(&["network", "inspect", &net]).status.success(),
        "{net} outlived its last workspace"
    );
}

#[test]
fn an_open_workspace_is_on_the_default_bridge() {
    let Some(sb) = Sandbox::new("netopen", (3154, 3154)) else {
        return;
    };
    let name = sb.name("o");
    let w = sb.create_ok(&name, &["--net-profile", "open"]);
    assert_eq!(w["net_profile"], "open");
    assert_eq!(w["ssh_port"], 3154);
    let c = format!("workspace-{name}");
    assert_eq!(inspect(&c, "{{.HostConfig.NetworkMode}}"), "default");
    assert_eq!(
        inspect(
            &c,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}}{{end}}"
        ),
        "bridge"
    );
    // No isolated network was made for it.
    assert!(!docker(&["network", "inspect", &sb.isolated_network()])
        .status
        .success());
}

#[test]
fn an_offline_workspace_has_only_lo_and_ssh_goes_through_the_engine() {
    let Some(sb) = Sandbox::new("netoff", (3155, 3157)) else {
        return;
    };
    let name = sb.name("off");
    // What would defeat it is refused before anything is made.
    let o = sb.create(&name, &["--net-profile", "offline", "--port", "3159:80"]);
    assert_refused(&o, "cannot be published by an offline workspace");
    let o = sb.create(&name, &["--net-profile", "offline", "--network", "team"]);
    assert_refused(&o, "an offline workspace cannot join network team");
    assert!(!sb.container_exists(&name) && !sb.volume_exists(&name));

    let w = sb.create_ok(&name, &["--net-profile", "offline"]);
    assert_eq!(w["net_profile"], "offline", "{w}");
    assert!(w["ssh_port"].is_null(), "{w}");
    let c = format!("workspace-{name}");
    assert_eq!(inspect(&c, "{{.HostConfig.NetworkMode}}"), "none");
    assert_eq!(inspect(&c, "{{len .HostConfig.PortBindings}}"), "0");
    assert_eq!(
        sb.ok(&["exec", &name, "--", "ls", "/sys/class/net"]).trim(),
        "lo"
    );
    // ssh through `berth ssh-proxy` (sshd -i through the engine): the pinned host
    // key and berth's key, as over a port.
    assert_eq!(
        sb.ok(&["ssh", &name, "--", "echo", "in-through-exec"])
            .trim(),
        "in-through-exec"
    );
    sb.ok(&["ssh", &name, "--", "true"]);
    // The ssh config berth writes gets in the same way.
    sb.ok(&["ssh-config"]);
    let conf = sb.home().join(format!(".ssh/berth.d/berth-{name}.conf"));
    let text = std::fs::read_to_string(&conf).unwrap();
    assert!(
        text.contains("ProxyCommand") && !text.contains("Port "),
        "{text}"
    );
    let mut cmd = std::process::Command::new("timeout");
    cmd.args(["60", "ssh", "-F"]).arg(&conf);
    cmd.args([&format!("berth-{name}"), "cat /sys/class/net/lo/operstate"]);
    sb.env(&mut cmd);
    let o = cmd.stdin(std::process::Stdio::null()).output().unwrap();
    assert!(
        o.status.success(),
        "ssh -F {}: {}",
        conf.display(),
        stderr(&o)
    );
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(st["net_profile"], "offline");
    let list = sb.ok(&["list"]);
    let row = list.lines().find(|l| l.starts_with(&name)).unwrap();
    assert!(row.contains("exec") && row.contains("offline"), "{list}");
    // Nothing joins it.
    let o = sb.berth(&[
        "service",
        "add",
        &name,
        "db",
        "--image",
        "debian:bookworm-slim",
    ]);
    assert_refused(&o, "is offline");
    // Restarted, it is reached through the engine again.
    sb.ok(&["restart", &name]);
    sb.ok(&["ssh", &name, "--", "true"]);
    // A fork keeps the profile: no network either, and no port.
    let copy = sb.name("copy");
    let f = sb.json(&["fork", &name, &copy, "--json"]);
    assert_eq!(f["net_profile"], "offline", "{f}");
    assert!(f["ssh_port"].is_null(), "{f}");
    assert_eq!(
        sb.ok(&["exec", &copy, "--", "ls", "/sys/class/net"]).trim(),
        "lo"
    );
    sb.ok(&["ssh", &copy, "--", "true"]);
}
