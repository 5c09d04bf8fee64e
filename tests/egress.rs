//! The egress audit against the real engine, without Squid: the test makes a
//! container that looks like a proxy workspace to berth (its labels, with
//! `dev.berth.net-profile=proxy`) and one that looks like its proxy sidecar
//! (`workspace-NAME.proxy`), whose standard output gets audit lines written into it
//! (through `/proc/1/fd/1`) when the test says so. `berth egress` reads them, filters
//! them and follows new ones (across a restart of the sidecar), and the TUI shows
//! them in its audit view and counts them in the list.
mod common;
#[path = "common/tmux.rs"]
mod tmux;
use common::*;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::Duration;
use tmux::Tmux;

const ALLOWED: &str =
    "berth-egress 1764100000.123 GET allowed.test 80 200 1534 TCP_MISS http://allowed.test/a";
const DENIED: &str =
    "berth-egress 1764100001.000 CONNECT blocked.test 443 403 3900 TCP_DENIED blocked.test:443";

/// A container berth takes for workspace `name` with network `profile`, and, for
/// `proxy`, its proxy sidecar. Both carry the sandbox's labels (removed with it).
fn fake_workspace(sb: &Sandbox, name: &str, profile: &str) {
    let run = |container: &str, labels: &[String]| {
        let mut a: Vec<String> = ["run", "-d", "--init", "--name", container]
            .map(String::from)
            .to_vec();
        for l in labels.iter().cloned().chain([
            format!("berth.test-run={}", run_id()),
            format!("berth.test-case={}", sb.case),
        ]) {
            a.extend(["--label".into(), l]);
        }
        a.extend(["debian:bookworm-slim", "sleep", "infinity"].map(String::from));
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        let o = docker(&a);
        assert!(o.status.success(), "docker run: {}", stderr(&o));
    };
    run(
        &format!("workspace-{name}"),
        &[
            "dev.berth.role=workspace".into(),
            format!("dev.berth.name={name}"),
            format!("dev.berth.net-profile={profile}"),
        ],
    );
    if profile == "proxy" {
        run(
            &format!("workspace-{name}.proxy"),
            &[
                "dev.berth.role=sidecar".into(),
                format!("dev.berth.name={name}"),
                "dev.berth.sidecar=proxy".into(),
            ],
        );
    }
}

/// Writes `lines` to the standard output of `name`'s proxy, as Squid would.
fn proxy_logs(name: &str, lines: &[&str]) {
    let mut a = vec![
        "exec",
        "-u",
        "0",
        "",
        "sh",
        "-c",
        "printf '%s\\n' \"$@\" > /proc/1/fd/1",
        "sh",
    ];
    let container = format!("workspace-{name}.proxy");
    a[3] = &container;
    a.extend_from_slice(lines);
    let o = docker(&a);
    assert!(o.status.success(), "docker exec: {}", stderr(&o));
}

#[test]
fn berth_egress_reads_filters_and_follows_the_proxys_records() {
    let Some(sb) = Sandbox::new("egress-cli", (3170, 3174)) else {
        return;
    };
    let name = sb.name("p");
    fake_workspace(&sb, &name, "proxy");
    proxy_logs(
        &name,
        &["2026/11/25 21:00:00| Starting Squid Cache", ALLOWED, DENIED],
    );

    // --json: every record, the proxy's other lines left out.
    let all = sb.json(&["egress", &name, "--json"]);
    let all = all.as_array().expect("a JSON array");
    assert_eq!(all.len(), 2, "{all:?}");
    assert_eq!(all[0]["host"], "allowed.test");
    assert_eq!(all[0]["status"], 200);
    assert_eq!(all[0]["allowed"], true);
    assert_eq!(all[1]["host"], "blocked.test");
    assert_eq!(all[1]["allowed"], false);
    assert_eq!(all[1]["result"], "TCP_DENIED");
    // --denied, --grep.
    let denied = sb.json(&["egress", &name, "--denied", "--json"]);
    assert_eq!(denied.as_array().map(Vec::len), Some(1));
    assert_eq!(denied[0]["host"], "blocked.test");
    let table = sb.ok(&["egress", &name, "--grep", "ALLOWED.test"]);
    assert!(table.starts_with("TIME (UTC)"), "{table}");
    assert!(table.contains("allowed.test") && !table.contains("blocked.test"));
    assert!(
        table.ends_with("1 shown of 2 requests, 1 denied\n"),
        "{table}"
    );
    let table = sb.ok(&["egress", &name]);
    assert!(table.contains("denied") && table.ends_with("2 requests, 1 denied\n"));

    // -f: the history, then each new record as it comes, once, across a restart.
    let mut child = sb
        .cmd(&["egress", &name, "-f", "--json"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("berth egress -f");
    let (tx, rx) = mpsc::channel();
    let out = child.stdout.take().expect("stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let next = || {
        let l = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a line from berth egress -f");
        serde_json::from_str::<serde_json::Value>(&l).unwrap_or_else(|e| panic!("{e}: {l}"))
    };
    assert_eq!(next()["host"], "allowed.test");
    assert_eq!(next()["host"], "blocked.test");
    proxy_logs(
        &name,
        &["berth-egress 1764100002.000 GET new.test 80 404 10 TCP_MISS http://new.test/"],
    );
    let r = next();
    assert_eq!(
        (r["host"].as_str(), r["status"].as_u64()),
        (Some("new.test"), Some(404))
    );
    let o = docker(&["restart", "-t", "1", &format!("workspace-{name}.proxy")]);
    assert!(o.status.success(), "{}", stderr(&o));
    proxy_logs(
        &name,
        &["berth-egress 1764100003.000 GET after.test 80 200 10 TCP_MISS http://after.test/"],
    );
    assert_eq!(
        next()["host"],
        "after.test",
        "nothing repeated after the restart"
    );

    // The workspace goes: the audit ends, and says so.
    let o = docker(&[
        "rm",
        "-f",
        &format!("workspace-{name}.proxy"),
        &format!("workspace-{name}"),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
    let o = child.wait_with_output().expect("berth egress -f ends");
    assert!(o.status.success(), "{o:?}");
    assert!(
        stderr(&o).contains("its egress audit ends with it"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn a_workspace_without_a_proxy_has_no_audit_and_says_why() {
    let Some(sb) = Sandbox::new("egress-none", (3175, 3176)) else {
        return;
    };
    let name = sb.name("i");
    fake_workspace(&sb, &name, "isolated");
    let o = sb.berth(&["egress", &name]);
    assert_refused(
        &o,
        &format!("{name} has network profile isolated; only proxy workspaces have an egress audit (create it with --net-profile proxy)"),
    );
    let o = sb.berth(&["egress", "tno-such-ws", "-f"]);
    assert_refused(&o, "no workspace named tno-such-ws");
}

/// The one row the filtered list shows (the name is cut short there).
fn the_row(screen: &str) -> Option<&str> {
    screen.lines().find(|l| l.starts_with("│● "))
}

#[test]
fn the_tui_counts_requests_in_the_list_and_shows_the_audit_view() {
    let Some(sb) = Sandbox::new("egress-tui", (3177, 3179)) else {
        return;
    };
    let name = sb.name("p");
    fake_workspace(&sb, &name, "proxy");
    proxy_logs(&name, &[ALLOWED, DENIED]);
    let t = Tmux::start("egress", 130, 30, &sb.tui_command());
    t.wait_for("the TUI", 20, |s| s.contains("Workspaces ("));
    t.keys(&["/"]);
    t.text(&name);
    t.keys(&["Enter"]);
    // Live counters in the list: 2 requests, 1 denied.
    t.wait_for("the list's counters", 30, |s| {
        s.contains("REQ/DENIED") && the_row(s).is_some_and(|r| r.contains("2/1"))
    });
    t.keys(&["E"]);
    t.wait_for("the audit view", 30, |s| {
        s.contains(&format!("Egress audit of {name}"))
            && s.contains("allowed.test")
            && s.contains("blocked.test")
            && s.contains("2 requests, 1 denied")
    });
    // A new request shows at the bottom, and in the counters.
    proxy_logs(
        &name,
        &["berth-egress 1764100002.000 GET fresh.test 80 200 10 TCP_MISS http://fresh.test/"],
    );
    t.wait_for("the new request", 30, |s| {
        s.contains("fresh.test") && s.contains("3 requests, 1 denied")
    });
    // Denied only, then a search.
    t.keys(&["d"]);
    t.wait_for("denied only", 10, |s| {
        s.contains("blocked.test") && !s.contains("fresh.test") && s.contains("1 shown")
    });
    t.keys(&["d", "/"]);
    t.text("fresh");
    t.wait_for("the search", 10, |s| {
        s.contains("fresh.test") && !s.contains("blocked.test")
    });
    t.keys(&["Enter", "q"]);
    t.wait_for("the list again", 10, |s| {
        !s.contains("Egress audit") && the_row(s).is_some_and(|r| r.contains("3/1"))
    });
    t.keys(&["q"]);
    let s = t.wait_for("berth to exit", 10, |s| s.contains("berth-exit="));
    assert!(s.contains("berth-exit=0"), "{s}");
}
