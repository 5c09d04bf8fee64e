//! Network profile proxy against the real engine: a proxy workspace cannot reach a
//! test server directly, reaches it through its proxy (the request logged as an
//! egress record), is denied a name off its allowlist (403, logged as denied);
//! `berth ssh` and exec work through the sidecar that carries the SSH port; the
//! sidecar stops, starts and goes with the workspace; a fork keeps the profile and
//! the allowlist. All traffic stays on this machine: the test server is the test's
//! own container, on a network of the test's own, under names only that network
//! resolves (`allowed.test`, `denied.test`), joined by the proxy sidecar.
//! The proxy image is built once per run (scripts/engine.sh images; a proxy
//! create builds it when absent).
mod common;
use berth::domain::egress::{parse_line, EgressRecord};
use common::*;

fn inspect(container: &str, format: &str) -> String {
    let o = docker(&["inspect", "-f", format, container]);
    assert!(o.status.success(), "inspect {container}: {}", stderr(&o));
    stdout(&o).trim().to_string()
}

/// The test's own network and HTTP server (the proxy image's socat answering
/// every request with "hello"), labelled so the sandbox removes them.
struct Server {
    network: String,
    ip: String,
}

fn server(sb: &Sandbox, image: &str) -> Server {
    let network = format!("proxytest.{}", sb.case);
    let labels = [
        format!("berth.test-run={}", run_id()),
        format!("berth.test-case={}", sb.case),
    ];
    let o = docker(&[
        "network", "create", "--label", &labels[0], "--label", &labels[1], &network,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let container = format!("proxytest-server.{}", sb.case);
    let script = r#"printf 'HTTP/1.0 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n' > /tmp/r
cat > /tmp/s <<'EOF'
while read -r l; do [ "$l" = "$(printf '\r')" ] && break; done
cat /tmp/r
EOF
exec socat TCP-LISTEN:8080,fork,reuseaddr SYSTEM:"bash /tmp/s""#;
    let o = docker(&[
        "run",
        "-d",
        "--label",
        &labels[0],
        "--label",
        &labels[1],
        "--name",
        &container,
        "--network",
        &network,
        "--network-alias",
        "allowed.test",
        "--network-alias",
        "denied.test",
        "--entrypoint",
        "bash",
        image,
        "-c",
        script,
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let ip = inspect(
        &container,
        &format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}"),
    );
    Server { network, ip }
}

/// The egress records as `berth egress NAME --json` gives them, checked against
/// the proxy sidecar's own output (the same requests, parsed by berth's parser).
fn records(sb: &Sandbox, name: &str, sidecar: &str) -> Vec<EgressRecord> {
    let v = sb.json(&["egress", name, "--json"]);
    let s = |r: &serde_json::Value, k: &str| r[k].as_str().unwrap_or_default().to_string();
    let recs: Vec<EgressRecord> = v
        .as_array()
        .expect("a JSON array")
        .iter()
        .map(|r| EgressRecord {
            time_ms: r["time_ms"].as_i64().unwrap(),
            method: s(r, "method"),
            host: s(r, "host"),
            port: r["port"].as_u64().map(|p| p as u16),
            status: r["status"].as_u64().map(|p| p as u16),
            bytes: r["bytes"].as_u64().unwrap(),
            result: s(r, "result"),
            url: s(r, "url"),
            allowed: r["allowed"].as_bool().unwrap(),
        })
        .collect();
    let raw: Vec<EgressRecord> = stdout(&docker(&["logs", sidecar]))
        .lines()
        .filter_map(parse_line)
        .collect();
    assert_eq!(recs, raw, "berth egress --json shows what the proxy logged");
    recs
}

fn exec(sb: &Sandbox, name: &str, script: &str) -> std::process::Output {
    sb.berth(&["exec", name, "--", "sh", "-c", script])
}

#[test]
fn a_proxy_workspace_goes_out_only_through_its_logging_proxy() {
    let Some(sb) = Sandbox::new("proxy", (3162, 3163)) else {
        return;
    };
    let name = sb.name("px");
    let w = sb.create_ok(
        &name,
        &["--net-profile", "proxy", "--allow-domain", "allowed.test"],
    );
    let port = w["ssh_port"].as_u64().expect("ssh port");
    let sidecar = format!("workspace-{name}.proxy");
    let ws = format!("workspace-{name}");
    // The workspace is on its internal network only and publishes nothing; the
    // sidecar is on it and on the engine's bridge, and publishes the SSH port.
    assert_eq!(
        inspect(
            &ws,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}"
        ),
        ws
    );
    assert_eq!(inspect(&ws, "{{json .NetworkSettings.Ports}}"), "{}");
    assert_eq!(inspect(&ws, "{{.Name}}"), format!("/{ws}"));
    let net = format!("network inspect -f {{{{.Internal}}}} {ws}");
    let o = docker(&net.split(' ').collect::<Vec<_>>());
    assert_eq!(stdout(&o).trim(), "true", "{}", stderr(&o));
    assert_eq!(
        inspect(
            &sidecar,
            "{{range $k, $v := .NetworkSettings.Networks}}{{$k}} {{end}}"
        ),
        format!("bridge {ws}")
    );
    assert!(
        inspect(&sidecar, "{{json .NetworkSettings.Ports}}").contains(&format!("\"{port}\"")),
        "the sidecar publishes the SSH port"
    );
    assert_eq!(inspect(&sidecar, "{{.Config.User}}"), "proxy");
    assert_eq!(
        inspect(&sidecar, "{{json .HostConfig.CapDrop}}"),
        "[\"ALL\"]"
    );

    // The test's server, reachable from the proxy's side only.
    let image = sb.json(&["image", "present", "--proxy", "--json"])["image"]
        .as_str()
        .expect("proxy image")
        .to_string();
    let srv = server(&sb, &image);
    let o = docker(&["network", "connect", &srv.network, &sidecar]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Direct: no route out of the internal network.
    let direct = exec(
        &sb,
        &name,
        &format!("curl -sS -m 5 --noproxy '*' http://{}:8080/", srv.ip),
    );
    assert!(
        !direct.status.success(),
        "a direct connection went through: {direct:?}"
    );
    // Through the proxy (the workspace's own variables): allowed, then denied.
    let got = exec(&sb, &name, "curl -sS -m 20 http://allowed.test:8080/ok");
    assert!(got.status.success(), "{got:?}");
    assert_eq!(stdout(&got).trim(), "hello");
    let denied = exec(
        &sb,
        &name,
        "curl -s -m 20 -o /dev/null -w '%{http_code}' http://denied.test:8080/no",
    );
    assert_eq!(stdout(&denied).trim(), "403", "{denied:?}");
    // HTTPS-style tunnels are subject to the same list.
    let tunnel = exec(
        &sb,
        &name,
        "curl -sS -m 20 -p -x http://proxy:3128 http://allowed.test:8080/t",
    );
    assert_eq!(stdout(&tunnel).trim(), "hello", "{tunnel:?}");
    // Every request is in the audit, denied ones too.
    let recs = records(&sb, &name, &sidecar);
    let ok = recs
        .iter()
        .find(|r| r.url == "http://allowed.test:8080/ok")
        .unwrap_or_else(|| panic!("no record of the allowed request: {recs:?}"));
    assert!(ok.allowed && ok.status == Some(200) && ok.host == "allowed.test");
    let no = recs
        .iter()
        .find(|r| r.url == "http://denied.test:8080/no")
        .unwrap_or_else(|| panic!("no record of the denied request: {recs:?}"));
    assert!(!no.allowed && no.status == Some(403), "{no:?}");
    assert!(recs.iter().any(|r| r.method == "CONNECT" && r.allowed));
    // apt knows of the proxy (whoever runs it, whatever its environment).
    let apt = sb.ok(&[
        "exec",
        &name,
        "--",
        "apt-config",
        "dump",
        "Acquire::http::Proxy",
    ]);
    assert!(apt.contains("http://proxy:3128"), "{apt}");

    // SSH goes through the sidecar; status says how the workspace gets out.
    assert_eq!(
        sb.ok(&["ssh", &name, "--", "echo", "$HTTPS_PROXY"]).trim(),
        "http://proxy:3128"
    );
    let st = sb.json(&["status", &name, "--json"]);
    assert_eq!(st["proxy"]["allow_domains"][0], "allowed.test", "{st}");
    assert_eq!(st["proxy"]["running"], true, "{st}");
    assert!(sb
        .ok(&["status", &name])
        .contains("allows only allowed.test"));

    // The sidecar follows the workspace.
    sb.ok(&["stop", &name]);
    assert_eq!(inspect(&sidecar, "{{.State.Running}}"), "false");
    sb.ok(&["start", &name]);
    assert_eq!(inspect(&sidecar, "{{.State.Running}}"), "true");
    assert_eq!(sb.ok(&["ssh", &name, "--", "echo", "back"]).trim(), "back");

    // A fork keeps the profile and the allowlist.
    let fork = sb.name("pf");
    sb.ok(&["fork", &name, &fork, "--json"]);
    let st = sb.json(&["status", &fork, "--json"]);
    assert_eq!(st["labels"]["dev.berth.net-profile"], "proxy", "{st}");
    assert_eq!(st["proxy"]["allow_domains"][0], "allowed.test", "{st}");
    assert_eq!(st["proxy"]["running"], true, "{st}");

    // Delete takes the sidecar and the network; nothing of the workspace is left.
    for n in [&name, &fork] {
        sb.ok(&["delete", n, "--yes"]);
        let left = docker(&[
            "ps",
            "-aq",
            "--filter",
            &format!("label=dev.berth.name={n}"),
        ]);
        assert!(stdout(&left).trim().is_empty(), "left: {}", stdout(&left));
        let net = docker(&["network", "inspect", &format!("workspace-{n}")]);
        assert!(!net.status.success(), "network workspace-{n} is left");
    }
}

#[test]
fn a_proxy_workspace_refuses_ports_and_networks() {
    let Some(sb) = Sandbox::new("proxy-refuse", (3164, 3164)) else {
        return;
    };
    let name = sb.name("pr");
    let o = sb.create(&name, &["--net-profile", "proxy", "--port", "18080:80"]);
    assert_refused(&o, "cannot go with --net-profile proxy");
    assert!(!sb.container_exists(&name));
    let o = sb.create(
        &name,
        &["--net-profile", "proxy", "--allow-domain", "bad domain"],
    );
    assert_refused(&o, "is not a domain");
    assert!(!sb.container_exists(&name));
}
