//! Networks and services against the real engine: a service reachable by name from
//! its workspace and from nothing else, stopping, starting and going with it, its
//! logs tagged in the workspace's; a named network joining two workspaces; and
//! every refusal or failure leaving nothing behind.
mod common;

use common::{docker, stderr, stdout, Sandbox};

/// A tiny HTTP server the images here can run (debian:bookworm-slim has perl),
/// saying so in its log when it is ready and each time it serves. It reads the
/// request before it answers: closing with unread bytes resets the connection, and
/// curl then fails (exit 56) although it got the answer.
const SERVER: &str = r#"$|=1; my $s=IO::Socket::INET->new(LocalPort=>8080,Listen=>5,ReuseAddr=>1) or die "listen: $!"; print "web ready\n"; while(my $c=$s->accept){while(my $l=<$c>){last if $l=~/^\r?\n$/} print $c "HTTP/1.0 200 OK\r\n\r\nhello from web\n"; print "served\n"; close $c}"#;

fn server_args() -> Vec<&'static str> {
    vec!["--", "perl", "-MIO::Socket::INET", "-e", SERVER]
}

/// Networks carrying this sandbox's label.
fn networks(sb: &Sandbox) -> Vec<String> {
    let filter = format!("label=berth.test-case={}", sb.case);
    let o = docker(&[
        "network",
        "ls",
        "--format",
        "{{.Name}}",
        "--filter",
        &filter,
    ]);
    let mut v: Vec<String> = stdout(&o).lines().map(String::from).collect();
    v.sort();
    v
}

/// Everything of this sandbox in the engine: containers, volumes, networks.
fn world(sb: &Sandbox) -> (Vec<String>, Vec<String>, Vec<String>) {
    let mut c = sb.labelled("container");
    c.sort();
    let mut v = sb.labelled("volume");
    v.sort();
    (c, v, networks(sb))
}

fn state(container: &str) -> String {
    stdout(&docker(&["inspect", "-f", "{{.State.Status}}", container]))
        .trim()
        .to_string()
}

/// Runs `sh -c script` in workspace `name`; (exit code, stdout).
fn sh(sb: &Sandbox, name: &str, script: &str) -> (i32, String) {
    let o = sb.berth(&["exec", name, "--", "sh", "-c", script]);
    (o.status.code().unwrap_or(-1), stdout(&o))
}

/// Fetches from the service until it answers (it may still be starting), at most
/// 30 tries a second apart inside the workspace.
fn fetch(sb: &Sandbox, name: &str, url: &str) -> String {
    let script =
        format!("for i in $(seq 30); do curl -s -m 2 {url} && exit 0; sleep 1; done; exit 1");
    let (code, out) = sh(sb, name, &script);
    assert_eq!(code, 0, "{url} never answered from {name}");
    out
}

#[test]
fn a_service_is_reachable_by_name_from_its_workspace_only_and_follows_it() {
    let Some(sb) = Sandbox::new("svc", (3073, 3076)) else {
        return;
    };
    let (a, b) = (sb.name("a"), sb.name("b"));
    sb.create_ok(&a, &[]);
    sb.create_ok(&b, &[]);
    let mut args = vec![
        "service",
        "add",
        a.as_str(),
        "web",
        "--image",
        "debian:bookworm-slim",
        "--port",
        "3086:8080",
        "--env",
        "GREETING=hi",
        "--json",
    ];
    args.extend(server_args());
    let added: serde_json::Value = serde_json::from_str(&sb.ok(&args)).unwrap();
    assert_eq!(added["started"], true);
    let web = format!("workspace-{a}.web");
    assert_eq!(added["service"]["container"], web.as_str());
    // From its workspace, by name; and on the host's loopback, where it is published.
    assert!(fetch(&sb, &a, "http://web:8080/").contains("hello from web"));
    let host = std::process::Command::new("curl")
        .args(["-s", "-m", "5", "http://127.0.0.1:3086/"])
        .output()
        .unwrap();
    assert!(
        stdout(&host).contains("hello from web"),
        "{}",
        stderr(&host)
    );
    let bound = stdout(&docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig.PortBindings}}",
        &web,
    ]));
    assert!(
        bound.contains("127.0.0.1") && !bound.contains("0.0.0.0"),
        "{bound}"
    );
    // Hardened where the image allows: no new privileges.
    let sec = stdout(&docker(&[
        "inspect",
        "-f",
        "{{json .HostConfig.SecurityOpt}}",
        &web,
    ]));
    assert!(sec.contains("no-new-privileges"), "{sec}");
    // From an unrelated workspace: not by name, not even by address.
    let (code, _) = sh(
        &sb,
        &b,
        &format!("getent hosts web || getent hosts workspace-{a}.web"),
    );
    assert_ne!(code, 0, "{b} resolved the service of {a}");
    let ip = stdout(&docker(&[
        "inspect",
        "-f",
        "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
        &web,
    ]));
    let (code, out) = sh(&sb, &b, &format!("curl -s -m 3 http://{}:8080/", ip.trim()));
    assert_ne!(code, 0, "{b} reached {a}'s service at {ip}: {out}");

    // Listed, in status, and its logs are in the workspace's, tagged.
    let ls: serde_json::Value =
        serde_json::from_str(&sb.ok(&["service", "ls", &a, "--json"])).unwrap();
    assert_eq!(ls[0]["name"], "web");
    assert_eq!(ls[0]["ports"][0], "3086:8080");
    let st = sb.json(&["status", &a, "--json"]);
    assert_eq!(st["services"][0]["name"], "web");
    assert_eq!(st["services"][0]["state"], "running");
    assert!(sb.ok(&["status", &a]).contains("services   web (running"));
    let logs = sb.ok(&["logs", &a]);
    assert!(
        logs.contains("[web] web ready") && logs.contains("[web] served"),
        "{logs}"
    );
    let json_logs = sb.ok(&["logs", &a, "--json"]);
    assert!(json_logs.lines().any(|l| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["source"] == "web" && v["text"] == "web ready"
    }));

    // It stops and starts with its workspace.
    sb.ok(&["stop", &a]);
    assert_eq!(state(&web), "exited");
    sb.ok(&["start", &a]);
    assert_eq!(state(&web), "running");
    assert!(fetch(&sb, &a, "http://web:8080/").contains("hello from web"));

    // Delete names it when it asks, and removes it with the workspace's network.
    let o = sb.berth(&["delete", &a]);
    assert!(stderr(&o).contains("sidecar web"), "{}", stderr(&o));
    sb.ok(&["delete", &a, "--yes"]);
    assert!(!docker(&["inspect", &web]).status.success());
    // Only berth's isolated network is left, for b.
    assert_eq!(networks(&sb), vec![sb.isolated_network()]);
}

#[test]
fn a_named_network_joins_two_workspaces() {
    let Some(sb) = Sandbox::new("net", (3077, 3080)) else {
        return;
    };
    let net = sb.name("n");
    let (x, y, z) = (sb.name("x"), sb.name("y"), sb.name("z"));
    sb.ok(&["net", "create", &net]);
    // An unknown network: refused before anything is made.
    let before = world(&sb);
    let o = sb.create(&z, &["--network", &net, "--network", "nosuchnet"]);
    common::assert_refused(&o, "no network named nosuchnet");
    assert_eq!(world(&sb), before);
    sb.create_ok(&x, &["--network", &net]);
    let created = sb.create_ok(&y, &["--network", &net]);
    assert_eq!(created["labels"]["dev.berth.networks"], net.as_str());
    // On the default bridge: on berth's isolated network (where x and y are too)
    // the engine's DNS would answer with their addresses, unreachable as they are.
    sb.create_ok(&z, &["--net-profile", "open"]);
    // Each reaches the other by its workspace name; one not on it reaches neither.
    assert_eq!(sh(&sb, &x, &format!("getent hosts {y}")).0, 0);
    assert_eq!(sh(&sb, &y, &format!("getent hosts {x}")).0, 0);
    assert_eq!(
        sh(
            &sb,
            &x,
            &format!("bash -c 'exec 3<>/dev/tcp/{y}/2222 && head -c 4 <&3'")
        )
        .1,
        "SSH-"
    );
    assert_ne!(sh(&sb, &z, &format!("getent hosts {x}")).0, 0);
    // A service on the network too, as SERVICE.WORKSPACE.
    sb.ok(&[
        "service",
        "add",
        &x,
        "cache",
        "--image",
        "debian:bookworm-slim",
        "--network",
        &net,
        "--",
        "sleep",
        "infinity",
    ]);
    assert_eq!(sh(&sb, &y, &format!("getent hosts cache.{x}")).0, 0);
    assert_ne!(sh(&sb, &y, "getent hosts cache").0, 0);
    let ls: serde_json::Value = serde_json::from_str(&sb.ok(&["net", "ls", "--json"])).unwrap();
    let mine = ls
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == net.as_str())
        .unwrap();
    assert_eq!(mine["network"], format!("berth-{net}").as_str());
    assert_eq!(mine["driver"], "bridge");
    assert_eq!(mine["workspaces"], serde_json::json!([x, y]));
    assert_eq!(mine["services"], serde_json::json!([format!("cache.{x}")]));
    assert_eq!(
        sb.json(&["status", &x, "--json"])["networks"][0],
        net.as_str()
    );
    // In use: refused, saying by whom, even when one of them is stopped.
    sb.ok(&["stop", &y]);
    let o = sb.berth(&["net", "rm", &net]);
    common::assert_refused(&o, &format!("workspaces {x}, {y}"));
    assert!(stderr(&o).contains(&format!("cache of workspace {x}")));
    sb.ok(&["delete", &x, "--yes"]);
    // --force detaches the rest first, stopped ones too: y starts again without it.
    sb.ok(&["net", "rm", &net, "--force"]);
    // Left: berth's isolated network, which y is still on.
    assert_eq!(networks(&sb), vec![sb.isolated_network()]);
    sb.ok(&["start", &y]);
    assert_eq!(sb.json(&["status", &y, "--json"])["state"], "running");
    assert_eq!(
        sb.json(&["status", &y, "--json"])["networks"],
        serde_json::json!([])
    );
}

#[test]
fn service_refusals_and_failures_leave_nothing_behind() {
    let Some(sb) = Sandbox::new("svcfail", (3081, 3083)) else {
        return;
    };
    let w = sb.name("w");
    sb.create_ok(&w, &[]);
    let before = world(&sb);
    let add = |extra: &[&str]| {
        let mut a = vec!["service", "add", w.as_str()];
        a.extend_from_slice(extra);
        sb.berth(&a)
    };
    let held = std::net::TcpListener::bind("127.0.0.1:3088").unwrap();
    for (args, want) in [
        (
            vec!["db", "--image", "nosuch/image:1"],
            "image nosuch/image:1 is not in the engine",
        ),
        (
            vec!["docker", "--image", "debian:bookworm-slim"],
            "reserved",
        ),
        (
            vec!["db", "--image", "debian:bookworm-slim", "--port", "3088:80"],
            "host port 3088 is taken",
        ),
        (
            vec![
                "db",
                "--image",
                "debian:bookworm-slim",
                "--network",
                "nosuchnet",
            ],
            "no network named nosuchnet",
        ),
        (
            vec!["db", "--image", "debian:bookworm-slim", "--env", "NOEQUALS"],
            "NAME=VALUE",
        ),
    ] {
        common::assert_refused(&add(&args), want);
        assert_eq!(world(&sb), before, "{args:?} left something");
    }
    drop(held);
    // A name taken.
    sb.ok(&[
        "service",
        "add",
        &w,
        "db",
        "--image",
        "debian:bookworm-slim",
        "--",
        "sleep",
        "infinity",
    ]);
    let with_db = world(&sb);
    common::assert_refused(
        &add(&["db", "--image", "debian:bookworm-slim"]),
        "already has a service db",
    );
    assert_eq!(world(&sb), with_db);
    // rm asks; without an answer nothing goes.
    let o = sb.berth(&["service", "rm", &w, "db"]);
    common::assert_refused(&o, "no confirmation");
    assert_eq!(world(&sb), with_db);
    let o = sb.berth(&["service", "rm", &w, "nosuch", "--yes"]);
    common::assert_refused(&o, "has no service nosuch");
    let out = sb.ok(&["service", "rm", &w, "db", "--yes"]);
    assert!(out.contains(&format!("network workspace-{w}")), "{out}");
    assert_eq!(world(&sb), before);
    assert!(sb.ok(&["service", "ls", &w]).contains("has no services"));
}
